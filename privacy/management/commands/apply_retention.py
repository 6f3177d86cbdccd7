"""Run every retention command now (HELPDESK_RETENTION_COMMANDS), as the daily task does."""

from django.core.management.base import BaseCommand, CommandError

from privacy.retention import apply_retention, ensure_scheduled


class Command(BaseCommand):
    help = "Prune everything past its retention now: payloads, events, webhook deliveries, idempotency keys..."

    def add_arguments(self, parser):
        parser.add_argument("--schedule-only", action="store_true",
                            help="Only make sure the daily retention task is queued.")

    def handle(self, *args, schedule_only, **options):
        if not schedule_only:
            result = apply_retention(stdout=self.stdout)
            failed = {name: outcome for name, outcome in result.items() if outcome != "ok"}
            if failed:
                raise CommandError("; ".join(f"{name}: {outcome}" for name, outcome in failed.items()))
        task_id = ensure_scheduled()
        self.stdout.write(f"Daily retention task: {task_id}" if task_id else "Daily retention is off.")
