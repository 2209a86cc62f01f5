"""(being written) The one exchange view."""

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def exchange(request):
    return HttpResponse("failure\nnot implemented yet\n", content_type="text/plain; charset=utf-8")
