"""Every function of tickets/sql.py (the project's hand-written SQL) gives what its ORM
equivalent gives, on the data of the test. Runs on SQLite and, in CI's second pass, PostgreSQL."""

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from channels_email.models import Acknowledgement
from integrations.models import WebhookEndpoint
from service_levels.models import TicketMetrics
from tests.factories import inbound
from tickets import services, sql
from tickets.models import Customer, Event, EventCounter, Identity, Message, Ticket

pytestmark = pytest.mark.django_db(transaction=False)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def world():
    """Two customers on two channels, replies and notes, an agent's outbound message."""
    ada = [services.ingest(inbound("ada@example.com", f"Hi {i}", external_id=f"ada-{i}")) for i in range(3)]
    bob = services.ingest(inbound("+14155550100", "Text", channel="sms", external_id="bob-1"))
    ticket = ada[0].message.ticket
    Message.objects.create(ticket=ticket, customer=ticket.customer, direction=Message.Direction.OUTBOUND,
                           channel="email", text="We are on it", external_id="out-1")
    Message.objects.create(ticket=ticket, customer=ticket.customer, direction=Message.Direction.OUTBOUND,
                           channel="email", text="", external_id="out-2")
    return {"ada": ada, "bob": bob, "ticket": ticket}


def as_dict(obj):
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_get_matches_the_orms_first(world):
    ticket = world["ticket"]
    assert as_dict(sql.get(Ticket, id=ticket.pk)) == as_dict(Ticket.objects.get(pk=ticket.pk))
    identity = world["ada"][0].message.identity
    assert as_dict(sql.get(Identity, channel="email", address="ada@example.com")) == as_dict(
        Identity.objects.get(pk=identity.pk))
    assert sql.get(Ticket, id=10**9) is None
    newest = Ticket.objects.filter(customer_id=ticket.customer_id).order_by("-updated_at").first()
    assert sql.get(Ticket, order_by="-updated_at", customer_id=ticket.customer_id).pk == newest.pk


def test_values_convert_like_values_list(world):
    ticket = world["ticket"]
    fields = ("created_at", "direction", "status", "author_id", "meta")
    ours = sql.values(Message, fields, order_by="pk", ticket_id=ticket.pk)
    theirs = list(Message.objects.filter(ticket_id=ticket.pk).order_by("pk").values_list(*fields))
    assert ours == theirs and len(ours) == 5
    seqs = list(Event.objects.values_list("seq", flat=True))
    ours = sql.values(Event, ("ticket_id", "data"), seq__in=seqs, kind="message.created", ticket__isnull=False)
    theirs = Event.objects.filter(seq__in=seqs, kind="message.created", ticket__isnull=False).values_list(
        "ticket_id", "data")
    assert sorted(ours, key=str) == sorted(theirs, key=str) and len(ours) == 4
    assert sql.values(Event, ("seq",), seq__in=[]) == []
    assert sql.values(Message, ("text",), order_by="-created_at", limit=2, ticket_id=ticket.pk,
                      direction="outbound", text__ne="") == [("We are on it",)]
    since = timezone.now() - timedelta(hours=1)
    assert len(sql.values(Message, ("id",), created_at__gte=since)) == Message.objects.filter(
        created_at__gte=since).count() == 6


def test_exists_and_lock(world):
    assert sql.exists(Message, ticket_id=world["ticket"].pk, direction="outbound") is True
    assert sql.exists(WebhookEndpoint, is_active=True) is WebhookEndpoint.objects.filter(is_active=True).exists()
    with transaction.atomic():
        sql.lock(Customer, id=world["ticket"].customer_id)  # FOR UPDATE on PostgreSQL, nothing on SQLite
        sql.lock(Customer, share=True, id=world["ticket"].customer_id)


def test_add_counts_only_matching_rows(world):
    ticket = world["ticket"]
    TicketMetrics.objects.filter(ticket_id=ticket.pk).delete()
    metrics = TicketMetrics.objects.create(ticket_id=ticket.pk, customer_messages=2, awaiting_since=None)
    assert sql.add(TicketMetrics, "customer_messages", 1, also={"updated_at": timezone.now()},
                   ticket_id=ticket.pk, awaiting_since__isnull=False) == 0
    TicketMetrics.objects.filter(pk=metrics.pk).update(awaiting_since=timezone.now())
    assert sql.add(TicketMetrics, "customer_messages", 1, also={"updated_at": timezone.now()},
                   ticket_id=ticket.pk, awaiting_since__isnull=False) == 1
    assert TicketMetrics.objects.get(pk=metrics.pk).customer_messages == 3


def test_insert_update_and_insert_unless_exists():
    customer = sql.insert(Customer(name="Zoe"))
    assert Customer.objects.get(pk=customer.pk).name == "Zoe"
    customer.name = "Zoë"
    sql.update(customer, ("name",))
    assert Customer.objects.get(pk=customer.pk).name == "Zoë"
    with pytest.raises(ValueError, match="for new rows"):
        sql.insert(customer)
    today = timezone.localdate()
    first = sql.insert_unless_exists(Acknowledgement(address="a@example.com", day=today, ticket_id=1),
                                     conflict=("address", "day"))
    again = sql.insert_unless_exists(Acknowledgement(address="a@example.com", day=today, ticket_id=2),
                                     conflict=("address", "day"))
    assert first == Acknowledgement.objects.get(address="a@example.com").pk and again is None


def test_an_unknown_lookup_is_refused():
    with pytest.raises(ValueError, match="unknown lookup 'name__startswith'"):
        sql.exists(Customer, name__startswith="A")


def test_stored_message_and_has_written_on(world):
    message = world["ada"][1].message
    assert sql.stored_message("email", "ada-1") == (message.pk, "inbound", "ada@example.com")
    assert sql.stored_message("email", "nope") is None
    assert sql.has_written_on(message.ticket_id, message.identity_id) is Message.objects.filter(
        ticket_id=message.ticket_id, identity_id=message.identity_id).exists() is True
    assert sql.has_written_on(message.ticket_id, world["bob"].message.identity_id) is False


def test_identity_locking_customer_reads_the_identity_as_the_orm_does(world):
    bob = world["bob"].message
    expected = Identity.objects.get(channel="sms", address="+14155550100")
    assert as_dict(sql.identity_locking_customer("sms", "+14155550100")) == as_dict(expected)
    assert expected.pk == bob.identity_id
    assert sql.identity_locking_customer("email", "+14155550100") is None
    assert sql.identity_locking_customer("sms", "+14155550199") is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_identity_locking_customer_holds_the_customer_row_until_commit():
    import psycopg

    customer_id = services.ingest(inbound("lock@example.com", "hi")).message.customer_id
    db = connection.settings_dict
    with psycopg.connect(dbname=db["NAME"], host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"],
                         autocommit=True) as other:
        with transaction.atomic():
            assert sql.identity_locking_customer("email", "lock@example.com").customer_id == customer_id
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute("SELECT 1 FROM tickets_customer WHERE id = %s FOR UPDATE NOWAIT", [customer_id])
        # committed: the lock is gone
        assert other.execute("SELECT 1 FROM tickets_customer WHERE id = %s FOR UPDATE NOWAIT", [customer_id]).fetchone()


def test_ticket_for_reply_ids_is_the_newest_named_messages_ticket(world):
    ids = ["ada-0", "out-1", "missing"]
    newest = Message.objects.filter(channel="email", external_id__in=ids).order_by("-id").first()
    assert as_dict(sql.ticket_for_reply_ids("email", ids)) == as_dict(newest.ticket)
    assert sql.ticket_for_reply_ids("email", ["missing"]) is None
    assert sql.ticket_for_reply_ids("sms", ids) is None


def test_latest_ticket(world):
    customer_id = world["ticket"].customer_id
    expected = Ticket.objects.filter(customer_id=customer_id, channel="email").order_by("-updated_at").first()
    assert sql.latest_ticket(customer_id, "email").pk == expected.pk
    assert sql.latest_ticket(customer_id, "sms") is None


def test_sender_count_last_hour(world):
    since = timezone.now() - timedelta(hours=1)
    orm = Message.objects.filter(identity__channel="email", identity__address="ada@example.com",
                                 direction="inbound", created_at__gte=since).count()
    assert orm == 3
    assert sql.sender_count_last_hour("email", "ada@example.com", since, 50) == orm
    assert sql.sender_count_last_hour("email", "ada@example.com", since, 2) == 2  # stops at the limit
    assert sql.sender_count_last_hour("email", "ada@example.com", timezone.now() + timedelta(minutes=1), 50) == 0


def test_sent_texts_to(world):
    orm = list(Message.objects.filter(customer__identities__channel="email",
                                      customer__identities__address="ada@example.com",
                                      direction="outbound").exclude(text="")
               .order_by("-created_at").values_list("text", flat=True)[:3])
    assert sql.sent_texts_to("email", "ada@example.com", 3) == orm == ["We are on it"]
    assert sql.sent_texts_to("email", "nobody@example.com", 3) == []


def test_event_counter_and_insert(world):
    before = EventCounter.objects.get(id=1).value
    assert sql.advance_event_counter(2) == before + 2 == EventCounter.objects.get(id=1).value
    now = timezone.now()
    sql.insert_events([(before + 1, "ticket.updated", world["ticket"].pk, None, None, True, {"a": [1]}, now),
                       (before + 2, "customer.updated", None, world["ticket"].customer_id, None, False, {}, now)])
    rows = Event.objects.filter(seq__gt=before).order_by("seq").values_list("kind", "data", "public", "created_at")
    assert list(rows) == [("ticket.updated", {"a": [1]}, True, now), ("customer.updated", {}, False, now)]




@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only: SQLite has no data-modifying "
                    "CTE, it runs advance_event_counter + insert_events (above) (this is not counted as a pass)")
def test_allocate_and_insert_events_in_one_statement(world, django_assert_num_queries):
    before = EventCounter.objects.get(id=1).value
    now = timezone.now()
    values = [("ticket.updated", world["ticket"].pk, None, None, True, {"a": [1]}, now),
              ("customer.updated", None, world["ticket"].customer_id, None, False, {}, now)]
    with django_assert_num_queries(1):
        assert sql.allocate_and_insert_events(values) == before + 2
    assert EventCounter.objects.get(id=1).value == before + 2
    rows = Event.objects.filter(seq__gt=before).order_by("seq").values_list(*sql.EVENT_COLUMNS)
    assert list(rows) == [(before + 1, *values[0]), (before + 2, *values[1])]
    EventCounter.objects.all().delete()  # a fresh database: nothing reserved, nothing inserted
    assert sql.allocate_and_insert_events(values) is None
    assert Event.objects.filter(seq__gt=before + 2).count() == 0

def test_carried_events_match_the_orms_join_and_subquery(world):
    """The doorbell's read-back against the ORM statement it replaced: the ticket's team (or
    None for a customer-wide event) and the customer's previous link (a public event or a
    customer-wide one), per event."""
    from django.db.models import OuterRef, Q, Subquery

    from tickets.models import Team

    world["ticket"].team = Team.objects.create(name="Billing")
    world["ticket"].save(update_fields=["team"])
    services.update_customer(world["ticket"].customer, actor=None, name="Ada L.")  # a customer-wide event
    services.ingest(inbound("ada@example.com", "Hi again", external_id="ada-9"))  # its `prev` is that one
    previous = (Event.objects.filter(Q(public=True) | Q(ticket__isnull=True), customer_id=OuterRef("customer_id"),
                                     seq__lt=OuterRef("seq"))
                .order_by("-seq").values("seq")[:1])
    orm = list(Event.objects.annotate(prev=Subquery(previous)).order_by("seq")
               .values_list("seq", "kind", "ticket_id", "customer_id", "data", "public", "ticket__team_id",
                            "prev"))
    wide = next(row[0] for row in orm if row[1] == "customer.updated")
    assert any(row[7] == wide for row in orm)  # a customer-wide event is a link of the chain
    first, last = orm[0][0], orm[-1][0]
    assert sql.carried_events(first - 1, last) == orm
    assert sql.carried_events(first, limit=2) == orm[1:3]
    assert sql.carried_events(first + 1, last - 1) == orm[2:-1]
    assert sql.carried_events(last) == []
    assert {row[6] for row in orm} >= {None, world["ticket"].team_id}  # both kinds of row compared
    assert any(row[7] is not None for row in orm) and any(row[7] is None for row in orm)

def test_full_text_matches(world):
    from tickets import search

    expected = list(Message.objects.filter(text__icontains="hi").order_by("-pk").values_list("pk", flat=True))
    assert search._matching_ids("tickets_message", "hi", 10) == expected and len(expected) == 3


def test_no_raw_sql_outside_the_named_queries():
    """A statement executed anywhere else is a regression: cursor.execute only in tickets/sql.py
    (and tickets/search.py's index DDL, run through migrations and post_migrate). The console's
    queue keeps a constant extra(where=...) that matches its partial index (the console's
    owners' to replace: noted in the README's known limits)."""
    allowed = {"tickets/sql.py", "tickets/search.py", "tickets/console/queries.py"}
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.split("/")[0] in {".venv", "tests", "bench", "node_modules", "var"} or rel in allowed:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in {"execute", "executemany", "raw", "extra"} \
                    and isinstance(node.ctx, ast.Load) and _is_call(tree, node):
                offenders.append(f"{rel}:{node.lineno}")
    assert offenders == [], offenders


def _is_call(tree, attribute) -> bool:
    return any(isinstance(n, ast.Call) and n.func is attribute for n in ast.walk(tree))


def test_sqlite_schema_names_on_sqlite():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: PostgreSQL has no sqlite_master (this is not counted as a pass)")
    assert {"tickets_message", "tickets_message_fts"} <= sql.sqlite_schema_names()


@pytest.mark.django_db(transaction=True)
def test_a_row_flushed_by_the_next_commit(django_assert_num_queries):
    """PostgreSQL: outside a transaction the insert turns synchronous_commit off for its own
    transaction only (one statement, the same round trip); inside one it leaves the caller's
    commit alone. SQLite: a plain insert."""
    from django.test.utils import CaptureQueriesContext

    from tickets.models import InboundPayload

    def payload():
        return InboundPayload(adapter="sms", path="/p", content_type="x", headers={}, body=b"b")

    with CaptureQueriesContext(connection) as queries:
        stored = sql.insert(payload(), flushed_by_next_commit=True)
    assert len(queries) == 1 and InboundPayload.objects.get(pk=stored.pk).body == b"b"
    relaxed = "set_config('synchronous_commit', 'off', true)" in queries[0]["sql"]
    assert relaxed == (connection.vendor == "postgresql")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"  # the session's own setting: untouched
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        sql.insert(payload(), flushed_by_next_commit=True)  # the caller's commit decides
    assert "synchronous_commit" not in queries[-1]["sql"]
