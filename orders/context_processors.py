"""(being written)"""


def cart_summary(request):
    return {}
