"""The one renderer of the API: the NinjaAPI (api.v1) renders live responses with it, and an
idempotent replay (api.idempotency) stores and serves bytes rendered by the same object. Its
own module so that neither imports the other (v1 imports the views, which import idempotency)."""

from ninja.renderers import JSONRenderer

RENDERER = JSONRenderer()
CONTENT_TYPE = f"{RENDERER.media_type}; charset={RENDERER.charset}"
