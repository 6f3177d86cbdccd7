"""Outgoing webhooks: endpoints an admin registers, and one delivery per (endpoint, event)."""

import secrets
import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

# The event kinds integrators may subscribe to (tickets/events.py records them).
EVENT_TYPES = [
    ("ticket.created", _("A ticket was opened")),
    ("ticket.updated", _("A ticket changed (status, assignee, priority, ...)")),
    ("message.created", _("A message arrived or was sent (notes only if the endpoint includes them)")),
    ("message.updated", _("A message was edited or its media finished downloading")),
    ("message.status", _("Delivery status of an outbound message changed")),
    ("customer.merged", _("Two customers were merged")),
    ("customer.unmerged", _("A merge was undone")),
    ("identity.updated", _("A customer opted out or back in")),
    ("sla.warning", _("An SLA target is close to its deadline (service_levels)")),
    ("sla.breached", _("An SLA target was missed (service_levels)")),
]
ALL_EVENTS = "*"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def validate_event_types(value):
    known = {kind for kind, _label in EVENT_TYPES} | {ALL_EVENTS}
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValidationError(_("List at least one event type, or \"*\" for all."))
    unknown = sorted(set(value) - known)
    if unknown:
        raise ValidationError(_("Unknown event types: %(kinds)s") % {"kinds": ", ".join(unknown)})


class WebhookEndpoint(models.Model):
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=2000, help_text=_("http(s) URL receiving POSTed JSON."))
    event_types = models.JSONField(
        _("event types"), default=list, validators=[validate_event_types],
        help_text=_('A JSON list, e.g. ["message.created", "ticket.updated"], or ["*"] for every event.'),
    )
    # Internal notes are agent-only: they go to an integration only when the admin says so.
    include_notes = models.BooleanField(_("include internal notes"), default=False)
    # Kept readable (not hashed): we need it to sign. Shown in the admin for the receiver to copy.
    secret = models.CharField(_("signing secret"), max_length=100, default=new_secret)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")

    def __str__(self):
        return f"{self.name} → {self.url}"

    def clean(self):
        from integrations.ssrf import ResolutionFailed, UnsafeDestination, check_url

        try:
            check_url(self.url)
        except (UnsafeDestination, ResolutionFailed) as exc:
            raise ValidationError({"url": str(exc)}) from exc

    def wants(self, kind: str) -> bool:
        return ALL_EVENTS in self.event_types or kind in self.event_types


class WebhookDelivery(models.Model):
    """One event for one endpoint. Its id is sent as the delivery id on every attempt, so a
    receiver can drop duplicates; the body is frozen at fan-out so a retry sends the same bytes
    (only the timestamp and signature change)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Failed (gave up)")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_seq = models.BigIntegerField(_("event"))
    event_type = models.CharField(_("event type"), max_length=64)
    body = models.TextField()
    state = models.CharField(max_length=16, choices=State, default=State.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # One line per attempt: when, HTTP status or error, how long it took.
    log = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            # A fan-out task that runs twice creates nothing twice.
            models.UniqueConstraint(fields=["endpoint", "event_seq"], name="webhook_delivery_once"),
        ]

    def __str__(self):
        return f"{self.event_type} #{self.event_seq} → {self.endpoint_id} ({self.state})"
