"""Misconfiguration that should show at start-up, not at the first order."""

from django.conf import settings
from django.core.checks import Warning, register


@register()
def insecure_secret_key(app_configs, **kwargs):
    if not settings.DEBUG and settings.SECRET_KEY == getattr(settings, "INSECURE_DEFAULT_SECRET_KEY", None):
        return [
            Warning(
                "SECRET_KEY is the built-in development key.",
                hint="Set SECRET_KEY in the environment before going live.",
                id="shop.W001",
            )
        ]
    return []
