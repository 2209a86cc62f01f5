from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("catalog/<slug:slug>/", views.group, name="group"),
    path("product/<slug:slug>/", views.product, name="product"),
    path("search/", views.search, name="search"),
]
