"""The event-log sink (settings.HELPDESK_EVENT_SINKS): after each commit, hand the new events to
the task queue. Nothing slow happens in the request: no HTTP here, one cheap query."""

from django.db import connection

from integrations.models import WebhookEndpoint

# Plain SQL: this runs after every committed event, and the ORM's compile of an exists() query
# cost ten times the query itself on the ingest path.
_ANY_ACTIVE = f"SELECT 1 FROM {WebhookEndpoint._meta.db_table} WHERE is_active LIMIT 1"  # noqa: S608


def on_event(seqs: list[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_ANY_ACTIVE)
        active = cursor.fetchone() is not None
    if active:
        from integrations.tasks import fan_out_event

        for seq in seqs:
            fan_out_event.enqueue(seq)
