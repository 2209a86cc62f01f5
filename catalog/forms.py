"""Storefront forms of the catalog: the listing filters read from the query string."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.selectors import DEFAULT_SORT, ProductFilters

SORT_CHOICES = [
    ("name", _("by name")),
    ("price", _("cheapest first")),
    ("-price", _("most expensive first")),
]


class ProductFilterForm(forms.Form):
    """Filters and sort of a product listing, from GET.

    Bad input never fails the page: a value that does not parse is dropped (and shown as
    a field error), the rest of the filters still apply.
    """

    price_min = forms.DecimalField(label=_("Price from"), required=False, min_value=Decimal("0"),
                                   max_digits=14, decimal_places=2)
    price_max = forms.DecimalField(label=_("to"), required=False, min_value=Decimal("0"),
                                   max_digits=14, decimal_places=2)
    in_stock = forms.BooleanField(label=_("In stock only"), required=False)
    sort = forms.ChoiceField(label=_("Sort"), choices=SORT_CHOICES, required=False)

    def brand_ids(self) -> tuple[int, ...]:
        raw = self.data.getlist("brand") if hasattr(self.data, "getlist") else self.data.get("brand", [])
        ids = {int(value) for value in raw[:100] if str(value).isdigit() and len(str(value)) < 19}
        return tuple(sorted(ids))

    def filters(self) -> ProductFilters:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        price_min, price_max = data.get("price_min"), data.get("price_max")
        if price_min is not None and price_max is not None and price_min > price_max:
            price_min, price_max = price_max, price_min
        return ProductFilters(
            brand_ids=self.brand_ids(),
            price_min=price_min,
            price_max=price_max,
            in_stock=bool(data.get("in_stock")),
            sort=data.get("sort") or DEFAULT_SORT,
        )
