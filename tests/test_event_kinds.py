"""The event-kind registry (tickets/event_kinds.py) is the one list of what the log records."""

import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from integrations.models import WebhookEndpoint, validate_event_types
from tickets import event_kinds, events

ROOT = Path(__file__).resolve().parent.parent
# `events.record("x.y", ...)` and `dict(kind="x.y", ...)` in the project's own code.
EMITTED = re.compile(r"""(?:events\.record\(|kind=)\s*["']([a-z_]+\.[a-z_]+)["']""")


def emitted_kinds() -> set[str]:
    found = set()
    for path in ROOT.rglob("*.py"):
        if {".venv", "tests", "migrations", "bench"} & set(path.relative_to(ROOT).parts):
            continue
        found |= set(EMITTED.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_kind_the_code_records_is_registered_and_offered_to_integrators():
    emitted = emitted_kinds()
    assert {"ticket.created", "message.created", "customer.updated", "message.moved", "agent.mentioned"} <= emitted
    registered = {kind.name for kind in event_kinds.all_kinds()}
    assert emitted <= registered, f"record()ed but not registered: {sorted(emitted - registered)}"
    offered = {name for name, _label in event_kinds.webhook_choices()}
    validate_event_types(sorted(offered))  # the subscription list accepts every offered kind


@pytest.mark.django_db
def test_recording_an_unregistered_kind_fails_loudly():
    with pytest.raises(ValueError, match=r"Unregistered event kind\(s\) \['ticket.craeted'\]"):
        with transaction.atomic():
            events.record("ticket.craeted")


def test_a_subscription_to_an_unknown_kind_is_refused():
    with pytest.raises(ValidationError, match="Unknown event types: ticket.craeted"):
        validate_event_types(["ticket.created", "ticket.craeted"])


def test_registering_a_kind_twice_differently_is_refused_and_the_same_way_is_idempotent():
    assert event_kinds.register("ticket.created", event_kinds._KINDS["ticket.created"].label) == "ticket.created"
    with pytest.raises(ValueError, match="already registered differently"):
        event_kinds.register("ticket.created", "something else")


def test_an_internal_kind_is_never_sent_to_a_catch_all_endpoint(monkeypatch):
    monkeypatch.setitem(event_kinds._KINDS, "internal.thing", event_kinds.EventKind("internal.thing", "x", webhook=False))
    endpoint = WebhookEndpoint(name="Audit", url="https://example.com/", event_types=["*"])
    assert endpoint.wants("customer.updated") and not endpoint.wants("internal.thing")
