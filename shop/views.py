"""The home page."""

from django.shortcuts import render

from catalog.selectors import top_groups_with_counts


def home(request):
    return render(request, "shop/home.html", {"groups": top_groups_with_counts()})
