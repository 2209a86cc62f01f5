"""Storefront pages of the catalog: group listing, product page, search."""

from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import render

from catalog import selectors
from catalog.forms import SORT_CHOICES, ProductFilterForm

PER_PAGE = 24


def _moved(request, url: str) -> HttpResponsePermanentRedirect:
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)


def group(request, slug: str):
    found = selectors.group_find(slug=slug)
    if found.redirect_to:
        return _moved(request, found.redirect_to)
    if found.obj is None:
        raise Http404("no such group")
    current = found.obj
    form = ProductFilterForm(request.GET)
    filters = form.filters()
    page, brands = selectors.group_listing(
        group=current, filters=filters, page_number=request.GET.get("page"), per_page=PER_PAGE
    )
    return render(request, "catalog/group.html", {
        "group": current,
        "ancestors": selectors.group_ancestors(group=current),
        "children": list(selectors.group_children(group=current)),
        "brands": brands,
        "form": form,
        "filters": filters,
        "sort_choices": SORT_CHOICES,
        "page": page,
    })


def product(request, slug: str):
    found = selectors.product_find(slug=slug)
    if found.redirect_to:
        return _moved(request, found.redirect_to)
    if found.obj is None:
        raise Http404("no such product")
    item = found.obj
    variants = selectors.product_variants(product=item)
    wanted = request.GET.get("variant", "")
    selected = next((v for v in variants if str(v.pk) == wanted), None)
    if selected is None:
        selected = next((v for v in variants if v.in_stock and v.price is not None), None)
    if selected is None and variants:
        selected = variants[0]
    main_group = selectors.product_main_group(product=item)
    ancestors = selectors.group_ancestors(group=main_group) + [main_group] if main_group else []
    fractional = bool(item.unit and item.unit.fractional)
    return render(request, "catalog/product.html", {
        "product": item,
        "variants": variants,
        "selected": selected,
        "has_choice": len(variants) > 1,
        "images": selectors.product_images(product=item),
        "properties": selectors.product_properties(product=item),
        "ancestors": ancestors,
        "fractional": fractional,
        "quantity_step": "0.001" if fractional else "1",
    })


def search(request):
    query = request.GET.get("q", "").strip()[:200]
    page = selectors.search_page(query=query, page_number=request.GET.get("page"), per_page=PER_PAGE) if query else None
    return render(request, "catalog/search.html", {"query": query, "page": page})
