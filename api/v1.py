"""The /api/v1/ NinjaAPI: token auth on every operation, one error shape, OpenAPI 3 at
/api/v1/openapi.json and interactive docs at /api/v1/docs (served from our own static files,
so the strict CSP holds)."""

from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI

from api import errors
from api.auth import TokenAuth
from api.views import customers, reports, tickets
from privacy.api import router as privacy_router


class HelpdeskAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation):
        # "list_tickets" rather than "api_views_tickets_list_tickets": client generators use it.
        return operation.view_func.__name__


api = HelpdeskAPI(
    title="Helpdesk API",
    version="1",
    description=str(_(
        "Customers, tickets and messages of the helpdesk. Authenticate with "
        "`Authorization: Bearer <token>` (admin: API tokens, or `manage.py create_api_token`). "
        "Lists use cursor pagination (`next_cursor`). POSTs accept an `Idempotency-Key`. "
        "Errors are `{code, message, errors?}`."
    )),
    auth=TokenAuth(),
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs_url="/docs",
)
errors.install(api)
api.add_router("", customers.router)
api.add_router("", tickets.router)
api.add_router("", privacy_router)
api.add_router("", reports.router)

urlpatterns = api.urls
