"""Cart, checkout and order confirmation pages. Thin: the work is in orders.services."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from catalog.models import Variant
from orders import selectors, services
from orders.exceptions import OrderError
from orders.forms import AddToCartForm, CartQuantityForm, CheckoutForm


def _back(request, fallback: str):
    for candidate in (request.POST.get("next"), request.META.get("HTTP_REFERER")):
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(candidate)
    return redirect(fallback)


def cart(request):
    view = selectors.cart_lines(cart=selectors.cart_for_request(request))
    return render(request, "orders/cart.html", {"cart": view})


@require_POST
def cart_add(request):
    form = AddToCartForm(request.POST)
    variant = None
    if form.is_valid():
        variant = (
            Variant.objects.filter(pk=form.cleaned_data["variant"]).select_related("product__unit").first()
        )
    if variant is None:
        messages.error(request, _("Choose a product to add to the cart."))
        return _back(request, reverse("orders:cart"))
    try:
        services.cart_add(cart=services.cart_get_or_create(request), variant=variant,
                          quantity=form.cleaned_data["quantity"])
    except OrderError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("“%(name)s” is in your cart.") % {"name": variant})
    return _back(request, variant.product.get_absolute_url())


@require_POST
def cart_update(request, line_id: int):
    current = selectors.cart_for_request(request)
    form = CartQuantityForm(request.POST)
    if current is not None and form.is_valid():
        try:
            services.cart_set_quantity(cart=current, line_id=line_id, quantity=form.cleaned_data["quantity"])
        except OrderError as error:
            messages.error(request, str(error))
    elif current is not None:
        messages.error(request, _("Enter the quantity as a number."))
    return redirect("orders:cart")


@require_POST
def cart_remove(request, line_id: int):
    current = selectors.cart_for_request(request)
    if current is not None:
        services.cart_remove(cart=current, line_id=line_id)
    return redirect("orders:cart")


def checkout(request):
    current = selectors.cart_for_request(request)
    view = selectors.cart_lines(cart=current)
    if not view.lines:
        messages.info(request, _("Your cart is empty."))
        return redirect("orders:cart")
    form = CheckoutForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            order = services.order_place(cart=current, data=form.cleaned_data)
        except OrderError as error:
            messages.error(request, str(error))
            return redirect("orders:cart")
        selectors.cart_summary_forget(request)
        return redirect("orders:order", public_id=order.public_id)
    return render(request, "orders/checkout.html", {"cart": view, "form": form})


def order_detail(request, public_id):
    order = selectors.order_for_customer(public_id=public_id)
    if order is None:
        raise Http404("no such order")
    return render(request, "orders/order.html", {"order": order, "lines": selectors.order_lines(order=order)})
