"""Run the periodic routing work now (auto-close, late assignment) and make sure the worker
keeps sweeping every HELPDESK_ROUTING_SWEEP_SECONDS. For cron, or once after installing."""

from django.core.management.base import BaseCommand

from routing.engine import run_pass
from routing.schedule import auto_close, ensure_sweep


class Command(BaseCommand):
    help = "Auto-close solved tickets, assign waiting ones, and keep the periodic sweep queued."

    def handle(self, *args, **options):
        closed = auto_close()
        totals = run_pass()
        ensure_sweep()
        self.stdout.write(f"closed {closed}, processed {totals['events']} events, assigned {totals['assigned']}")
