"""Real concurrency on PostgreSQL: 50 threads, each with its own connection."""

import threading

import pytest
from django.db import connection

from tests.factories import inbound, run_at_once
from tickets import services
from tickets.models import Customer, Event, Identity, Message, Ticket

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 50


def test_fifty_threads_ingesting_the_same_message_store_one_message_and_one_event():
    msg = inbound("ada@example.com", "the same", external_id="<same@example.com>")
    results = []
    errors = run_at_once(lambda i: results.append(services.ingest(msg)))
    assert errors == []
    assert Message.objects.count() == 1
    assert Event.objects.filter(kind="message.created").count() == 1
    assert sum(r.created for r in results) == 1
    assert len({r.message.pk for r in results}) == 1
    assert Customer.objects.count() == 1 and Ticket.objects.count() == 1


def test_fifty_threads_from_one_new_address_make_one_customer_and_one_identity():
    errors = run_at_once(lambda i: services.ingest(inbound("+14155550100", f"message {i}", channel="sms",
                                                          external_id=f"SM{i:032d}")))
    assert errors == []
    assert Customer.objects.count() == 1 and Identity.objects.count() == 1
    assert Message.objects.count() == THREADS
    assert Ticket.objects.count() == 1  # serialised on the customer: no duplicate tickets
    seqs = list(Event.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # gapless, commit-ordered


def test_event_sequence_numbers_become_visible_in_order_under_concurrent_writers():
    """A reader that saw seq N never later finds a committed seq below N it had skipped."""
    from tickets import events

    observed, skipped = [], []
    stop = threading.Event()

    def reader():
        last = 0
        try:
            while True:
                done = stop.is_set()  # read once more after the writers finished
                visible = list(Event.objects.filter(seq__gt=last).order_by("seq").values_list("seq", flat=True))
                if done and not visible:
                    break
                if visible:
                    if last and visible[0] != last + 1:
                        skipped.append((last, visible[0]))
                    observed.extend(visible)
                    last = visible[-1]
        finally:
            connection.close()

    watcher = threading.Thread(target=reader)
    watcher.start()
    errors = run_at_once(lambda i: services.ingest(inbound(f"user{i}@example.com", "hi")), count=20)
    stop.set()
    watcher.join()
    assert errors == [] and skipped == []
    assert observed == sorted(observed) and len(observed) == Event.objects.count()
    assert events.current_seq() == Event.objects.count()
