"""Recompute every ticket's metrics record from its messages and the event log (for installs
that upgrade, or after a change of policies). Uses the same computation as the live hook.

Then the deadlines the rebuild found already past are recorded as warnings and breaches (each
once: an Alert row per ticket, target and kind, so a second run records nothing new), and the
sweep is enqueued for the next moment still ahead.

    manage.py rebuild_ticket_metrics [--active-only]
"""

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from service_levels.metrics import rebuild
from service_levels.tasks import record_due, schedule_next
from tickets.management.commands._bulk import Progress
from tickets.models import Ticket


class Command(BaseCommand):
    help = _("Recompute the per-ticket SLA metrics from messages and events.")

    def add_arguments(self, parser):
        parser.add_argument("--active-only", action="store_true", help=_("Only tickets that are not solved or closed."))

    def handle(self, *args, active_only=False, verbosity=1, **options):
        tickets = Ticket.objects.order_by("pk")
        if active_only:
            tickets = tickets.filter(status__in=Ticket.ACTIVE_STATUSES)
        ids = list(tickets.values_list("pk", flat=True))
        progress = Progress(self.stdout if verbosity else None, "tickets", len(ids))
        for ticket_id in ids:
            rebuild(ticket_id)
            progress.add(1)
        progress.close()
        now = timezone.now()
        counts = record_due(now)
        schedule_next(now)
        if verbosity:
            self.stdout.write(_("Rebuilt the metrics of %(count)d tickets.") % {"count": len(ids)})
            self.stdout.write(_("Deadlines already past: recorded %(warnings)d warnings and %(breaches)d breaches.")
                              % {"warnings": counts["warning"], "breaches": counts["breach"]})

