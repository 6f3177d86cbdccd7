"""The event-log sink (settings.HELPDESK_EVENT_SINKS): after each commit, hand the new events to
the task queue. Nothing slow happens in the request: no HTTP here, one cheap query."""

from integrations.models import WebhookEndpoint
from tickets import sql


def on_event(seqs: list[int]) -> None:
    # tickets.sql: this runs after every committed event, and the ORM's compile of an exists()
    # query cost ten times the query itself on the ingest path.
    if sql.exists(WebhookEndpoint, is_active=True):
        from integrations.tasks import fan_out_event

        for seq in seqs:
            fan_out_event.enqueue(seq)
