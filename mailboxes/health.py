"""The lease (one runner per mailbox) and the health an admin sees (last sync, last error,
mail imported today), with the backoff that keeps a failing mailbox from busy-looping."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from mailboxes.models import ImportedMail, Mailbox
from tickets import queueing


def lease_seconds() -> float:
    return float(getattr(settings, "HELPDESK_MAILBOX_LEASE_SECONDS", 90))


def claim(mailbox_id: int, owner: str) -> bool:
    """Take or renew the lease: one conditional UPDATE, so two processes cannot both win."""
    now = timezone.now()
    won = Mailbox.objects.filter(
        Q(lease_owner=owner) | Q(lease_owner="") | Q(lease_expires_at__lt=now) | Q(lease_expires_at=None),
        pk=mailbox_id, enabled=True,
    ).update(lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_seconds()))
    return won == 1


def release(mailbox_id: int, owner: str) -> None:
    Mailbox.objects.filter(pk=mailbox_id, lease_owner=owner).update(lease_owner="", lease_expires_at=None)


def backoff(failures: int) -> timedelta:
    """Doubling from HELPDESK_MAILBOX_RETRY_SECONDS, capped at an hour, jittered by a fifth so
    many mailboxes failing together (a provider outage) do not retry in lockstep."""
    base = float(getattr(settings, "HELPDESK_MAILBOX_RETRY_SECONDS", 30))
    return timedelta(seconds=queueing.backoff(max(failures, 1), first=base, cap=3600.0))  # the one backoff


def succeeded(mailbox: Mailbox) -> None:
    now = timezone.now()
    Mailbox.objects.filter(pk=mailbox.pk).update(last_success_at=now, failures=0, next_attempt_at=None)
    mailbox.last_success_at, mailbox.failures, mailbox.next_attempt_at = now, 0, None


def failed(mailbox: Mailbox, message: str) -> datetime:
    """Record the error in plain words; returns when to try again."""
    now = timezone.now()
    failures = mailbox.failures + 1
    retry_at = now + backoff(failures)
    Mailbox.objects.filter(pk=mailbox.pk).update(last_error=message[:2000], last_error_at=now,
                                                 failures=failures, next_attempt_at=retry_at)
    mailbox.last_error, mailbox.last_error_at, mailbox.failures = message, now, failures
    mailbox.next_attempt_at = retry_at
    return retry_at


def imported_today(mailbox: Mailbox) -> int:
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return ImportedMail.objects.filter(mailbox=mailbox, imported_at__gte=start).exclude(payload=None).count()


def status(mailbox: Mailbox) -> str:
    """ok / failing / never (not synced yet) / disabled, for the list's badge."""
    if not mailbox.enabled:
        return "disabled"
    if mailbox.last_error_at and (not mailbox.last_success_at or mailbox.last_error_at > mailbox.last_success_at):
        return "failing"
    return "ok" if mailbox.last_success_at else "never"
