"""The exchange settings form: every setting of PROTOCOL.md §6 plus the price type roles."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from catalog.models import PriceType
from exchange1c.auth import parse_networks
from exchange1c.models import ExchangeSettings


class ExchangeSettingsForm(forms.ModelForm):
    """ExchangeSettings, plus which price type is the storefront price and which the old price.

    The two price type fields are flags on catalog.PriceType (the storefront never reads
    exchange settings); the admin saves them through catalog.services.price_types_set_roles.
    """

    storefront_price_type = forms.ModelChoiceField(
        PriceType.objects.all(), required=False, label=_("Storefront price type"),
        help_text=_("Customers see and pay this price (in UT 11 a \"Типовое соглашение\"). Empty: the first price "
                    "type 1C sends."),
    )
    old_price_type = forms.ModelChoiceField(
        PriceType.objects.all(), required=False, label=_("Old price type"),
        help_text=_("Shown crossed out beside the storefront price when it is higher. Empty: no old price."),
    )

    class Meta:
        model = ExchangeSettings
        # Every editable setting, also ones added later (the admin puts unknown ones in "Other").
        fields = [f.name for f in ExchangeSettings._meta.concrete_fields if f.editable and not f.primary_key]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["storefront_price_type"].initial = PriceType.objects.filter(is_storefront=True).first()
        self.fields["old_price_type"].initial = PriceType.objects.filter(is_old_price=True).first()

    def clean_allowed_ips(self):
        text = self.cleaned_data.get("allowed_ips", "")
        try:
            parse_networks(text)
        except ValueError as exc:
            raise ValidationError(
                _("%(entry)s is neither an IP address nor a network (e.g. 192.168.1.0/24, 2001:db8::/32)."),
                code="invalid_ip", params={"entry": str(exc)},
            ) from exc
        return text

    def clean(self):
        data = super().clean()
        export_status, after = data.get("export_status"), data.get("status_after_export")
        if export_status and after and export_status == after:
            self.add_error("status_after_export", ValidationError(
                _("Must differ from setting 4, or the same orders would be sent to 1C at every exchange."),
                code="same_status"))
        storefront, old = data.get("storefront_price_type"), data.get("old_price_type")
        if storefront and old and storefront == old:
            self.add_error("old_price_type", ValidationError(
                _("The old price must be another price type than the storefront price."), code="same_price_type"))
        if not data.get("require_login") and not (data.get("allowed_ips") or "").strip() and not data.get(
                "debug_mode"):
            self.add_error("require_login", ValidationError(
                _("Without addresses in setting 10, 1C can only get in with a login and password."),
                code="no_way_in"))
        return data

    def price_type_roles_changed(self) -> bool:
        return "storefront_price_type" in self.changed_data or "old_price_type" in self.changed_data
