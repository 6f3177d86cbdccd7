"""The event-log sink (settings.HELPDESK_EVENT_SINKS): after each commit, hand the event to the
task queue. Nothing slow happens in the request: no HTTP here, one cheap query."""

from integrations.models import WebhookEndpoint


def on_event(seq: int) -> None:
    if WebhookEndpoint.objects.filter(is_active=True).exists():
        from integrations.tasks import fan_out_event

        fan_out_event.enqueue(seq)
