"""Import mail from every enabled mailbox: IMAP IDLE (or polling) until stopped, or `--once`.

`manage.py serve` already runs this in embedded mode; in scaled mode run it as its own
process (as many as you like: a lease in the database gives each mailbox to one of them)."""

import signal

from django.core.management.base import BaseCommand, CommandError
from django.utils.crypto import get_random_string

from mailboxes.models import Mailbox
from mailboxes.runner import Runner, sync_once
from tickets.management.commands._bulk import Progress


class Command(BaseCommand):
    help = "Import mail from the IMAP mailboxes (IDLE/polling until stopped, or --once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Sync each mailbox once, then exit.")
        parser.add_argument("--mailbox", type=int, action="append", help="Only this mailbox id (repeatable).")

    def handle(self, *args, once, mailbox, **options):
        if not once:
            runner = Runner()
            signal.signal(signal.SIGTERM, lambda *_: runner.stop())
            self.stdout.write(f"Mailbox runner {runner.owner}: press Ctrl-C to stop.")
            try:
                runner.run()
            except KeyboardInterrupt:
                runner.stop()
            return
        mailboxes = Mailbox.objects.filter(enabled=True)
        if mailbox:
            mailboxes = mailboxes.filter(pk__in=mailbox)
        owner = f"once-{get_random_string(8)}"
        failed = 0
        for box in mailboxes:
            progress = Progress(self.stdout, box.address[:10], 1)

            def report(done, total, progress=progress):
                progress.total = max(total, 1)
                progress.add(done - progress.done)

            count = sync_once(box, owner, progress=report)
            progress.close()
            if count < 0:
                failed += 1
                self.stderr.write(f"{box.address}: {box.last_error}")
            else:
                self.stdout.write(f"{box.address}: {count} new mail(s) imported")
        if failed:
            raise CommandError(f"{failed} mailbox(es) failed; see their health on the mailbox screen")
