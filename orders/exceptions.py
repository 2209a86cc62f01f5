"""What cart and checkout services refuse, each with a message fit for the customer."""

from django.utils.translation import gettext as _


class OrderError(Exception):
    """Base class: `str(error)` is a translated message for the customer."""


class CartEmpty(OrderError):
    def __init__(self):
        super().__init__(_("Your cart is empty."))


class QuantityInvalid(OrderError):
    """The quantity is not a positive number the product can be sold in."""


class NotForSale(OrderError):
    """The variant is inactive, hidden, or has no storefront price."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(_("“%(name)s” cannot be ordered now: it has no price or is no longer sold.") % {"name": name})


class InsufficientStock(OrderError):
    """Asked for more than the variant has available (1C's quantity minus reservations)."""

    def __init__(self, name: str, available):
        self.name = name
        self.available = available
        from catalog.templatetags.catalog_tags import qty

        if available > 0:
            message = _("Only %(available)s of “%(name)s” left in stock.") % {"available": qty(available), "name": name}
        else:
            message = _("“%(name)s” is out of stock.") % {"name": name}
        super().__init__(message)
