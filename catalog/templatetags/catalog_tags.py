"""Template helpers of the storefront: money, quantities, query-string links."""

from decimal import Decimal, InvalidOperation

import nh3
from django import template
from django.utils.formats import number_format
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def money(value):
    """12345.5 -> "12 345,50" in Russian (localised separators), "" for None."""
    if value in (None, ""):
        return ""
    try:
        amount = Decimal(value).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        return ""
    return number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)


@register.filter
def clean_html(value):
    """1C's ОписаниеВФорматеHTML, reduced to harmless markup.

    The description comes from whoever edits the product in 1C (or from a file uploaded
    with the exchange login); scripts, event handlers and javascript: links must not reach
    a customer's browser, while tables, lists and images from the description stay.
    """
    if not value:
        return ""
    return mark_safe(nh3.clean(value, link_rel="noopener noreferrer nofollow"))  # noqa: S308


@register.filter
def qty(value):
    """A quantity without trailing zeros: Decimal("2.000") -> "2", Decimal("1.250") -> "1,25"."""
    if value in (None, ""):
        return ""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    if amount == amount.to_integral_value():
        return str(int(amount))
    return number_format(amount.normalize(), use_l10n=True)


@register.filter
def plain_qty(value):
    """A quantity for an <input type=number>: dot decimal separator, no trailing zeros."""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    return str(int(amount)) if amount == amount.to_integral_value() else format(amount.normalize(), "f")


@register.simple_tag(takes_context=True)
def url_with(context, **changes):
    """The current query string with some parameters replaced (None or "" removes one)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        params.pop(key, None)
        if value not in (None, ""):
            params[key] = value
    if "page" not in changes:
        params.pop("page", None)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def property_value(ppv):
    """A ProductPropertyValue as text: numbers without trailing zeros, yes/no translated."""
    from django.utils.formats import date_format
    from django.utils.translation import gettext

    value = ppv.display_value()
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, Decimal):
        return qty(value)
    if hasattr(value, "isoformat"):
        return date_format(value)
    return value
