"""The storefront's language: Russian unless the visitor picked another one."""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers


class ShopLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware without Accept-Language negotiation.

    The shop's customers are Russian-speaking even when their browser says en-US (a common
    default on office machines), so only an explicit choice counts: the language cookie
    written by /i18n/setlang/. Anything else gets settings.LANGUAGE_CODE. Responses keep
    the parent's Content-Language header.
    """

    def process_request(self, request):
        language = settings.LANGUAGE_CODE
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen:
            try:
                language = translation.get_supported_language_variant(chosen)
            except LookupError:
                pass
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        # The page depends on the language cookie, not on Accept-Language.
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
