"""Retention with a fixed clock: what each prune keeps and deletes, the daily task that the real
worker runs and that re-enqueues itself for the next day, and its guard against doubles."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.core.management.base import OutputWrapper
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from api.models import ApiToken, IdempotencyKey
from channels_sms.models import WebhookReceipt
from integrations.models import WebhookDelivery, WebhookEndpoint
from privacy.models import RetentionSchedule
from privacy.retention import ensure_scheduled, next_run
from privacy.tasks import run_retention
from tickets.management.commands._bulk import Progress
from tickets.models import Event, InboundPayload
from tickets.services.retention import delete_in_batches

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    """timezone.now() answers what the test says (every caller looks it up at call time)."""

    class Clock:
        now = NOW

        def set(self, value):
            self.now = value

    fixed = Clock()
    monkeypatch.setattr(timezone, "now", lambda: fixed.now)
    return fixed


def aged(model, days, field="created_at", **values):
    row = model.objects.create(**values)
    model.objects.filter(pk=row.pk).update(**{field: NOW - timedelta(days=days)})
    return row.pk


def payload(days, state):
    return aged(InboundPayload, days, "received_at", adapter="sms", body=b"From=%2B14155550100", state=state)


@pytest.fixture
def old_and_new(clock):
    """Rows on both sides of every default retention window, labelled by what must happen."""
    endpoint = WebhookEndpoint.objects.create(name="crm", url="https://crm.example.com/", event_types=["*"])
    token = ApiToken(name="t", user=get_user_model().objects.create_user("api"))
    token.set_new_secret()
    token.save()
    def task_result(days):
        result = run_retention.enqueue()
        DBTaskResult.objects.filter(id=result.id).update(status="SUCCESSFUL", finished_at=NOW - timedelta(days=days))
        return result.id

    rows = {
        "gone": [
            (DBTaskResult, task_result(15)),
            (InboundPayload, payload(31, "processed")), (InboundPayload, payload(31, "discarded")),
            (InboundPayload, payload(91, "quarantined")),
            (Event, aged(Event, 31, seq=1, kind="message.created")),
            (WebhookDelivery, aged(WebhookDelivery, 31, endpoint=endpoint, event_seq=1, event_type="x",
                                   state="succeeded")),
            (IdempotencyKey, aged(IdempotencyKey, 2, token=token, key="old", fingerprint="f", method="POST",
                                  path="/")),
            (WebhookReceipt, aged(WebhookReceipt, 8, token="old")),
        ],
        "kept": [
            (DBTaskResult, task_result(13)),
            (InboundPayload, payload(29, "processed")), (InboundPayload, payload(60, "failed")),
            (Event, aged(Event, 29, seq=2, kind="message.created")),
            (WebhookDelivery, aged(WebhookDelivery, 31, endpoint=endpoint, event_seq=2, event_type="x",
                                   state="pending")),  # still has attempts to make
            (WebhookDelivery, aged(WebhookDelivery, 29, endpoint=endpoint, event_seq=3, event_type="x",
                                   state="succeeded")),
            (IdempotencyKey, aged(IdempotencyKey, 0.5, token=token, key="new", fingerprint="f", method="POST",
                                  path="/")),
            (WebhookReceipt, aged(WebhookReceipt, 6, token="new")),
        ],
    }
    return rows


def exists(model, pk):
    return model.objects.filter(pk=pk).exists()


def test_apply_retention_prunes_exactly_what_is_past_its_window(old_and_new):
    out = io.StringIO()
    call_command("apply_retention", stdout=out)
    assert [f"{m.__name__} {pk}" for m, pk in old_and_new["gone"] if exists(m, pk)] == []
    assert [f"{m.__name__} {pk}" for m, pk in old_and_new["kept"] if not exists(m, pk)] == []
    text = out.getvalue()
    assert "3 inbound payloads deleted" in text and "1 events deleted" in text
    assert "1 webhook deliveries deleted" in text and "Deleted 1 idempotency keys." in text
    assert "payloads   [##############################]         3/3" in text  # the progress bar


def test_payload_windows_come_from_the_settings(clock, settings):
    settings.HELPDESK_PAYLOAD_RETENTION_DAYS, settings.HELPDESK_PAYLOAD_UNSETTLED_RETENTION_DAYS = 3, 5
    gone, kept = [payload(4, "processed"), payload(6, "failed")], [payload(2, "processed"), payload(4, "failed")]
    call_command("prune_inbound_payloads", stdout=io.StringIO())
    assert set(InboundPayload.objects.values_list("pk", flat=True)) == set(kept)
    assert not InboundPayload.objects.filter(pk__in=gone).exists()


def test_batches_delete_everything_and_report_progress(clock):
    for seq in range(1, 6):
        aged(Event, 40, seq=seq, kind="x")
    out = io.StringIO()
    progress = Progress(OutputWrapper(out), "events", 0)
    assert delete_in_batches(Event.objects.all(), progress, batch=2) == 5
    assert not Event.objects.exists() and progress.done == 5 and progress.total == 5


def test_a_failing_command_does_not_stop_the_others(old_and_new, settings):
    settings.HELPDESK_RETENTION_COMMANDS = ["no_such_command", *settings.HELPDESK_RETENTION_COMMANDS]
    with pytest.raises(CommandError, match="no_such_command: error: CommandError: Unknown command"):
        call_command("apply_retention", stdout=io.StringIO())
    assert [m for m, pk in old_and_new["gone"] if exists(m, pk)] == []


# --- the daily task ------------------------------------------------------------------------------

def test_next_run_is_the_configured_hour_strictly_ahead(settings):
    settings.HELPDESK_RETENTION_HOUR = 3
    assert next_run(NOW) == datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    assert next_run(datetime(2026, 11, 30, 2, 59, tzinfo=UTC)) == datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    assert next_run(datetime(2026, 11, 30, 3, 0, tzinfo=UTC)) == datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def test_ensure_scheduled_queues_one_task_however_often_it_is_called(clock, settings):
    settings.HELPDESK_RETENTION_HOUR = 3
    first = ensure_scheduled()
    assert ensure_scheduled() == first and ensure_scheduled() == first
    task = DBTaskResult.objects.get()
    assert str(task.id) == first and task.run_after == datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    assert task.task_path == "privacy.tasks.run_retention"


def test_off_means_no_task(clock, settings):
    settings.HELPDESK_RETENTION_DAILY = False
    assert ensure_scheduled() is None and not DBTaskResult.objects.exists()


def test_the_worker_runs_it_when_due_and_it_queues_the_next_day(old_and_new, clock, run_tasks, settings):
    settings.HELPDESK_RETENTION_HOUR = 3
    ensure_scheduled()
    run_tasks()  # 10:00: not due before tomorrow 03:00
    assert all(exists(m, pk) for m, pk in old_and_new["gone"])
    clock.set(datetime(2026, 12, 1, 3, 0, 5, tzinfo=UTC))
    run_tasks()
    assert [m for m, pk in old_and_new["gone"] if exists(m, pk)] == []
    ours = DBTaskResult.objects.exclude(id__in=[pk for m, pk in old_and_new["kept"] if m is DBTaskResult])
    done, waiting = ours.order_by("enqueued_at", "run_after")
    assert done.status == "SUCCESSFUL" and done.return_value["prune_events"] == "ok"
    assert waiting.status == "READY" and waiting.run_after == datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    schedule = RetentionSchedule.objects.get()
    assert schedule.task_id == str(waiting.id) and schedule.last_run_at == clock.now
    run_tasks()  # still 03:00:05 on the 1st: tomorrow's is not due, nothing runs twice
    assert ours.filter(status="SUCCESSFUL").count() == 1


def test_a_duplicate_task_does_nothing(old_and_new, clock, run_tasks):
    ensure_scheduled()
    stray = run_retention.enqueue()  # e.g. an operator's retry, or a second chain
    run_tasks()
    assert DBTaskResult.objects.get(id=stray.id).return_value == {"skipped": "not the scheduled task"}
    assert all(exists(m, pk) for m, pk in old_and_new["gone"])
    assert DBTaskResult.objects.filter(status="READY").count() == 1


def test_a_task_stuck_running_or_lost_is_replaced(clock):
    first = ensure_scheduled()
    DBTaskResult.objects.filter(id=first).update(status="RUNNING", started_at=NOW - timedelta(hours=1))
    assert ensure_scheduled() == first  # running, recently: leave it
    DBTaskResult.objects.filter(id=first).update(started_at=NOW - timedelta(hours=7))
    second = ensure_scheduled()
    assert second != first
    DBTaskResult.objects.filter(id=second).delete()  # a purged task table
    assert ensure_scheduled() not in (first, second)


def test_serve_starts_the_chain_and_survives_a_failure(clock, monkeypatch, caplog):
    from helpdesk.management.commands.serve import Command

    Command()._schedule_retention()
    assert DBTaskResult.objects.filter(task_path="privacy.tasks.run_retention", status="READY").count() == 1

    def broken(now=None):
        raise RuntimeError("database is locked")

    monkeypatch.setattr("privacy.retention.ensure_scheduled", broken)
    Command()._schedule_retention()  # logged, not raised: the server still starts
    assert "could not schedule the daily retention task" in caplog.text


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_servers_starting_schedule_one_task():
    from tests.factories import run_at_once

    assert run_at_once(lambda i: ensure_scheduled(), count=8) == []
    assert DBTaskResult.objects.filter(task_path="privacy.tasks.run_retention").count() == 1
