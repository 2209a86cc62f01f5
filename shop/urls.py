"""Root URLs: storefront, cart and checkout, the 1C exchange, the admin."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from shop import views

urlpatterns = [
    # The exchange is language-neutral and must not be redirected to /ru/...: 1C follows
    # no redirects on POST.
    path("", include("exchange1c.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", views.home, name="home"),
    path("", include("catalog.urls")),
    path("", include("orders.urls")),
]

if settings.SERVE_MEDIA:
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    ]
