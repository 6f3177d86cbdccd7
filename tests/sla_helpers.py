"""Shared by the service-level tests: a fixed clock, a policy, a customer writing in."""

from datetime import UTC, datetime, timedelta

import pytest

from service_levels import services as sla
from tests.factories import inbound
from tickets import services

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # a Monday


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now

    def at(self, minutes: float):
        """Move to T0 + minutes."""
        self.now = T0 + timedelta(minutes=minutes)
        return self.now


@pytest.fixture(name="clock")
def fixed_clock(monkeypatch):
    """Every timezone.now() (services, auto_now fields, the task worker) reads this."""
    from django.utils import timezone

    fixed = Clock(T0)
    monkeypatch.setattr(timezone, "now", fixed)
    return fixed


def calendar_policy(**overrides):
    values = dict(name="Standard", first_reply_minutes=60, first_reply_business=False,
                  next_reply_minutes=30, next_reply_business=False,
                  resolution_minutes=240, resolution_business=False)
    values.update(overrides)
    return sla.save_policy(**values)


def customer_writes(text="help", sender="visitor-1", external_id=None):
    return services.ingest(inbound(sender, text, channel="fake", adapter="fake", external_id=external_id)).message


def targets(ticket):
    from service_levels.models import TicketMetrics

    metrics = TicketMetrics.objects.get(ticket=ticket)
    return metrics, {t["kind"]: t for t in metrics.targets}
