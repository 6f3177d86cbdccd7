"""The back office's face (issue 17): Django admin branded as the helpdesk's, and the tables
that are the machinery rather than the business kept out of agents' sight.

Two kinds of internal table:
* UNREGISTERED: pure bookkeeping nobody decides anything from (stored API replay responses,
  @mention read marks). Their data is reachable where it means something: the console shows
  mentions; an API client sees its replayed response.
* SUPERUSERS_ONLY: what an operator needs when something went wrong (the event log, raw
  webhook payloads to replay or let through, task results with their tracebacks, outgoing
  webhook deliveries, mailbox import records, per-ticket SLA metrics, presence heartbeats).
  A staff agent (a team lead editing canned responses or rules) does not see them at all: a
  traceback or a raw payload can quote any customer, whatever the agent's teams.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

UNREGISTERED = ["tickets.Mention", "api.IdempotencyKey"]
SUPERUSERS_ONLY = [
    "tickets.Event", "tickets.InboundPayload", "django_tasks_database.DBTaskResult",
    "integrations.WebhookDelivery", "mailboxes.ImportedMail", "channels_email.SentMail",
    "service_levels.TicketMetrics", "routing.AgentStatus",
]
PERMISSION_CHECKS = ("has_module_permission", "has_view_permission", "has_add_permission",
                     "has_change_permission", "has_delete_permission")


def _superusers_only(model_admin) -> None:
    for name in PERMISSION_CHECKS:
        check = getattr(model_admin, name)

        def only_superusers(request, *args, _check=check, **kwargs):
            return request.user.is_active and request.user.is_superuser and _check(request, *args, **kwargs)

        setattr(model_admin, name, only_superusers)


def configure(site=admin.site) -> None:
    """Called once from HelpdeskConfig.ready(), after every app's admin module registered."""
    site.site_header = _("Helpdesk administration")
    site.site_title = _("Helpdesk admin")
    site.index_title = _("Back office")
    site.site_url = "/console/"
    by_label = {model._meta.label: model for model in site._registry}
    for label in UNREGISTERED:
        if label in by_label:
            site.unregister(by_label[label])
    for label in SUPERUSERS_ONLY:
        if label in by_label:
            _superusers_only(site._registry[by_label[label]])
