"""The mini-cart in the header (and the shop's name for the layout)."""

from django.conf import settings

from orders.selectors import cart_summary_for_request


def cart_summary(request):
    """`cart_summary` (lines, quantity): lazy, at most one query, cached on the request.

    No session cookie means no cart and no query at all.
    """
    return {"cart_summary": lambda: cart_summary_for_request(request), "shop_name": settings.SHOP_NAME}
