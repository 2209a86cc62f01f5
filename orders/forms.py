"""Cart and checkout forms."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from orders.models import DeliveryMethod, PaymentMethod

INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
KPP_RE = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")


def _check_digit(digits: str, weights) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_is_valid(inn: str) -> bool:
    """A Russian INN: 10 digits (organisation) or 12 (person), with its check digit(s)."""
    if not inn.isdigit() or not inn.isascii():
        return False
    if len(inn) == 10:
        return _check_digit(inn, INN10_WEIGHTS) == int(inn[9])
    if len(inn) == 12:
        return (_check_digit(inn, INN12_WEIGHTS_11) == int(inn[10])
                and _check_digit(inn, INN12_WEIGHTS_12) == int(inn[11]))
    return False


class AddToCartForm(forms.Form):
    variant = forms.IntegerField(min_value=1, max_value=2**62, widget=forms.HiddenInput)
    quantity = forms.CharField(max_length=20, initial="1")


class CartQuantityForm(forms.Form):
    quantity = forms.CharField(max_length=20)


class CheckoutForm(forms.Form):
    """The guest checkout. cleaned_data is what orders.services.order_place takes."""

    name = forms.CharField(label=_("Your name"), max_length=255)
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    phone = forms.CharField(label=_("Phone"), max_length=32, help_text=_("For example +7 900 123-45-67"))
    delivery_method = forms.ModelChoiceField(
        label=_("Delivery"), queryset=DeliveryMethod.objects.filter(is_active=True), empty_label=None,
        widget=forms.RadioSelect,
    )
    address = forms.CharField(label=_("Delivery address"), required=False, max_length=1000,
                              widget=forms.Textarea(attrs={"rows": 2}))
    payment_method = forms.ModelChoiceField(
        label=_("Payment"), queryset=PaymentMethod.objects.filter(is_active=True), empty_label=None,
        widget=forms.RadioSelect,
    )
    company_name = forms.CharField(label=_("Company"), required=False, max_length=255)
    inn = forms.CharField(label=_("INN"), required=False, max_length=12)
    kpp = forms.CharField(label=_("KPP"), required=False, max_length=9)
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}))
    consent = forms.BooleanField(
        label=_("I agree to the processing of my personal data"),
        error_messages={"required": _("Without your consent we cannot accept the order.")},
    )

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError(_("Enter your name."))
        return name

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if re.search(r"[^\d\s()+\-.]", phone):
            raise ValidationError(_("A phone number has only digits, spaces, +, -, ( and )."))
        digits = re.sub(r"\D", "", phone)
        if not 10 <= len(digits) <= 15:
            raise ValidationError(_("Enter the phone number with its area code."))
        return phone

    def clean_inn(self):
        inn = self.cleaned_data["inn"].strip()
        if inn and not inn_is_valid(inn):
            raise ValidationError(_("An INN has 10 or 12 digits and a valid check digit."))
        return inn

    def clean_kpp(self):
        kpp = self.cleaned_data["kpp"].strip().upper()
        if kpp and not KPP_RE.match(kpp):
            raise ValidationError(_("A KPP has 9 characters, for example 770101001."))
        return kpp

    def clean(self):
        data = super().clean()
        delivery = data.get("delivery_method")
        address = (data.get("address") or "").strip()
        data["address"] = address
        if delivery is not None and delivery.needs_address and not address:
            self.add_error("address", _("Enter the delivery address for this delivery method."))
        inn, kpp = data.get("inn"), data.get("kpp")
        if kpp and inn and len(inn) != 10:
            self.add_error("kpp", _("Only organisations (10-digit INN) have a KPP."))
        if kpp and not inn and "inn" not in self.errors:
            self.add_error("inn", _("Enter the INN that goes with the KPP."))
        if (inn or kpp) and not data.get("company_name", "").strip():
            self.add_error("company_name", _("Enter the company name for the INN."))
        return data
