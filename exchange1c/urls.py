from django.urls import path, re_path

from exchange1c import views

app_name = "exchange1c"

urlpatterns = [
    # 1C's node address is configured by hand: accept it with and without the slash, and
    # the Bitrix path many 1C configurations put in by default (PROTOCOL.md §1).
    re_path(r"^exchange/?$", views.exchange, name="exchange"),
    path("bitrix/admin/1c_exchange.php", views.exchange, name="exchange-bitrix"),
]
