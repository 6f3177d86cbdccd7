"""The in-transaction event hooks (tickets.events, HELPDESK_EVENT_HOOKS): called only for the
kinds they want, one savepoint for those that need one, and one broken hook never costs
another its work nor the change itself."""

import logging

import pytest
from django.db import connection, transaction
from django.test import override_settings

from tickets import events
from tickets.models import Customer, Tag

pytestmark = pytest.mark.django_db

calls = []


@events.wants("ticket.updated")
def wants_updates(batch):
    calls.append(("updates", [e.kind for e in batch]))
    Tag.objects.create(name="from-updates")


def wants_everything(batch):
    calls.append(("everything", [e.kind for e in batch]))
    Tag.objects.create(name="from-everything")


@events.wants("customer.updated")
def breaks(batch):
    calls.append(("breaks", [e.kind for e in batch]))
    Tag.objects.create(name="half-done")
    raise RuntimeError("a bookkeeping bug")


@events.wants("customer.updated", keeps_whole=True)
def whole(batch):
    calls.append(("whole", [e.kind for e in batch]))


HOOKS = [f"tests.test_event_hooks.{name}" for name in ("wants_updates", "wants_everything", "breaks", "whole")]


@pytest.fixture(autouse=True)
def hooks():
    calls.clear()
    with override_settings(HELPDESK_EVENT_HOOKS=HOOKS):
        yield


def record(kind):
    customer = Customer.objects.create(name="Ada")
    with transaction.atomic():
        events.record(kind, customer=customer, data={})
    return customer


def test_a_hook_is_called_only_for_the_kinds_it_wants():
    record("identity.updated")
    assert calls == [("everything", ["identity.updated"])]
    assert set(Tag.objects.values_list("name", flat=True)) == {"from-everything"}


def test_a_failing_hook_is_undone_alone_and_the_others_keep_their_work(caplog):
    with caplog.at_level(logging.ERROR, logger="tickets.events"):
        customer = record("customer.updated")
    # Those needing a savepoint together first (undone by the failure), then each in its own;
    # on SQLite the hook that keeps itself whole runs bare, once.
    expected = (["whole", "everything", "breaks", "everything", "breaks"] if connection.vendor == "sqlite"
                else ["everything", "breaks", "everything", "breaks", "whole"])
    assert [name for name, _kinds in calls] == expected
    assert set(Tag.objects.values_list("name", flat=True)) == {"from-everything"}  # not "half-done"
    assert "event hook breaks failed" in caplog.text
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_a_hook_that_keeps_itself_whole_runs_without_a_savepoint_on_sqlite(django_assert_num_queries):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL gives every hook a savepoint (a failed statement aborts the transaction)")
    customer = Customer.objects.create(name="Ada")
    with override_settings(HELPDESK_EVENT_HOOKS=["tests.test_event_hooks.whole"]), transaction.atomic():
        with django_assert_num_queries(2):  # the counter and the insert: no SAVEPOINT / RELEASE
            events.record("customer.updated", customer=customer, data={})
    assert calls == [("whole", ["customer.updated"])]
