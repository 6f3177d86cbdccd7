"""Every kind of event the log records, defined once.

The console, the chat widget, the REST API and the outgoing-webhook subscription list all read
this registry, so a kind cannot be emitted without being offered to integrators, or offered
without being emitted. `events.record()` refuses a kind that is not registered (a typo fails at
once in the tests, not silently in production).

Apps built on top of `tickets` (service levels, surveys, routing...) register their own kinds in
their AppConfig.ready(); `tickets` never imports them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class EventKind:
    name: str
    label: str  # what an integrator reads when choosing what to subscribe to
    webhook: bool = True  # offered to outgoing webhooks


_KINDS: dict[str, EventKind] = {}


def register(name: str, label, *, webhook: bool = True) -> str:
    """Register a kind (idempotent for the same definition); returns its name, so modules can
    keep a constant: `SLA_BREACHED = event_kinds.register("sla.breached", _("..."))`."""
    kind = EventKind(name, label, webhook)
    existing = _KINDS.get(name)
    if existing is not None and existing != kind:
        raise ValueError(f"Event kind {name!r} is already registered differently.")
    _KINDS[name] = kind
    return name


def is_registered(name: str) -> bool:
    return name in _KINDS


def all_kinds() -> list[EventKind]:
    return list(_KINDS.values())


def webhook_choices() -> list[tuple[str, str]]:
    return [(kind.name, kind.label) for kind in _KINDS.values() if kind.webhook]


TICKET_CREATED = register("ticket.created", _("A ticket was opened"))
TICKET_UPDATED = register("ticket.updated", _("A ticket changed (status, assignee, priority, ...)"))
MESSAGE_CREATED = register("message.created",
                           _("A message arrived or was sent (notes only if the endpoint includes them)"))
MESSAGE_UPDATED = register("message.updated", _("A message was edited or its media finished downloading"))
MESSAGE_STATUS = register("message.status", _("Delivery status of an outbound message changed"))
MESSAGE_MOVED = register("message.moved", _("A message was moved to another ticket"))
CUSTOMER_UPDATED = register("customer.updated", _("A customer's name, organisation or notes changed"))
CUSTOMER_MERGED = register("customer.merged", _("Two customers were merged"))
CUSTOMER_UNMERGED = register("customer.unmerged", _("A merge was undone"))
CUSTOMER_ERASED = register("customer.erased",
                           _("A customer was erased (ids only: delete what you hold about them)"))
IDENTITY_UPDATED = register("identity.updated", _("A customer opted out or back in, or their picture changed"))
AGENT_MENTIONED = register("agent.mentioned", _("An agent was mentioned in a note"))
