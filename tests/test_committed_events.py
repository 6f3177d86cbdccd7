"""events.committed(): what an after-commit sink (HELPDESK_EVENT_SINKS) reads of the events it
is told about. The sinks of the change that recorded them get the rows from memory (no read of
the log); anything else reads the table; a change that rolled back leaves nothing behind."""

import threading

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from tests.factories import inbound
from tickets import events, services
from tickets.models import Customer, Event

pytestmark = pytest.mark.django_db(transaction=True)

seen = []


def sink(seqs):
    with CaptureQueriesContext(connection) as queries:
        rows = events.committed(seqs)
        messages = events.committed(seqs, ("message.created",))
    seen.append((list(seqs), rows, messages, len(queries)))


def as_table(seqs):
    return [events.CommittedEvent(*row) for row in
            Event.objects.filter(seq__in=seqs).order_by("seq").values_list(*events.COMMITTED_FIELDS)]


@pytest.fixture(autouse=True)
def only_this_sink():
    seen.clear()
    with override_settings(HELPDESK_EVENT_SINKS=["tests.test_committed_events.sink"]):
        yield


def test_a_sink_gets_its_changes_events_from_memory_equal_to_the_table():
    services.ingest(inbound("ada@example.com", "Hello", external_id="m-1"))  # a new ticket and its message
    services.ingest(inbound("ada@example.com", "Again", external_id="m-2"))
    assert len(seen) == 2
    for seqs, rows, messages, queries in seen:
        assert queries == 0  # no read of the log
        assert rows == as_table(seqs) and [row.seq for row in rows] == sorted(seqs)
        assert messages == [row for row in rows if row.kind == "message.created"] and messages
    assert seen[0][1][-1].data["text"] == "Hello" and seen[1][1][-1].data["text"] == "Again"


def test_elsewhere_the_events_are_read_from_the_log():
    services.ingest(inbound("ada@example.com", "Hello", external_id="m-1"))
    seqs = seen[-1][0]
    elsewhere = []

    def read():
        try:
            elsewhere.append(events.committed(seqs))
        finally:
            connection.close()  # the thread's own connection (on PostgreSQL a pool slot): give it back

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    assert elsewhere == [as_table(seqs)]
    with CaptureQueriesContext(connection) as queries:
        read = events.committed([*seqs, 10_000])  # one it never held: all read
    assert read == as_table(seqs) and len(queries) == 1


def test_a_rolled_back_change_leaves_no_rows_for_a_later_commit():
    customer = Customer.objects.create(name="Ada")
    with pytest.raises(RuntimeError, match="changed my mind"), transaction.atomic():
        events.record("customer.updated", customer=customer, data={"name": "rolled back"})
        raise RuntimeError("changed my mind")
    assert seen == []  # no sink ran for it
    with transaction.atomic():
        seq = events.record("customer.updated", customer=customer, data={"name": "kept"})
    (seqs, rows, _messages, queries), = seen
    assert seqs == [seq] and queries == 0
    assert rows == as_table([seq]) and rows[0].data == {"name": "kept"}


def test_a_fresh_database_without_the_counter_row_still_records():
    """The migration creates the counter row; a database without it (restored by hand, a
    test's flush) gets it on the first event, on either database's path."""
    from tickets.models import EventCounter

    EventCounter.objects.all().delete()
    customer = Customer.objects.create(name="Ada")
    with transaction.atomic():
        first, second = events.record_many(dict(kind="customer.updated", customer=customer, data={"n": 1}),
                                           dict(kind="customer.updated", customer=customer, data={"n": 2}))
    assert (first, second) == (1, 2) and EventCounter.objects.get(id=1).value == 2
    assert [row.data for row in as_table([1, 2])] == [{"n": 1}, {"n": 2}]
