"""(being written)"""

from django.middleware.locale import LocaleMiddleware as ShopLocaleMiddleware  # noqa: F401
