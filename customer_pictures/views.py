"""Serving a stored picture to agents, from our own origin (the console's CSP loads images
from 'self' only): an agent who may see the customer, the bytes as the type they were checked
to be, never sniffed, sandboxed like every file a customer sent."""

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from customer_pictures.models import Picture
from tickets import policy
from tickets.console.views import agent_required

# The URL changes with the picture (?v=digest), so a browser may keep one for a week.
CACHE_SECONDS = 7 * 24 * 3600


@require_GET
@agent_required
def picture(request, pk):
    found = Picture.objects.filter(pk=pk).exclude(file="").values_list("file", "content_type",
                                                                        "identity__customer_id").first()
    # 404 for a customer the agent may not see, as for one that does not exist.
    if found is None or not policy.can_see_customer(request.user, found[2]):
        raise Http404
    name, content_type, _customer = found
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    patch_cache_control(response, private=True, max_age=CACHE_SECONDS)
    return response
