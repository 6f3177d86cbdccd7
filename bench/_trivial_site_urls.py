"""URLs of bench._trivial_site: the project's, after one trivial POST view."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from helpdesk.urls import urlpatterns as project_urlpatterns


@csrf_exempt
def trivial(request):
    return HttpResponse(b"", content_type="text/plain")


# bench/webhook_load.py's TRIVIAL_PATH; after the project's own, so the webhook's route is unchanged
urlpatterns = [*project_urlpatterns, path("bench/trivial/", trivial)]
