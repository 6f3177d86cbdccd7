"""Seed a demo: two agents, an admin, customers reachable on several channels, tickets with
messages. Every message enters through services.ingest(), exactly as real traffic does.

Bulk mode (`--customers N --tickets N --messages N`) builds a large dataset for benchmarks and
load tests instead: rows go in with multi-row INSERTs (no services, no events: nobody is
watching), a few seconds per 100k messages on SQLite, with a progress bar."""

from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from tickets import services
from tickets.channels import InboundMessage, ThreadHints
from tickets.models import CannedResponse, Team, Ticket

DEMO_PASSWORD = "helpdesk-demo"  # noqa: S105 - printed for the local demo only

CUSTOMERS = [
    ("Ada Lovelace", [("email", "ada@example.com", "Invoice question", "Hello, I was charged twice for March. Can you check?"),
                      ("sms", "+14155550101", "", "Also: can you call me back today?")]),
    ("Grace Hopper", [("whatsapp", "+447700900123", "", "Hi! My order #4411 hasn't shipped yet."),
                      ("email", "grace@example.org", "Order 4411", "Following up by email on my WhatsApp message.")]),
    ("Alan Turing", [("chat", "visitor-demo-alan", "", "Is there a student discount?")]),
    ("Katherine Johnson", [("telegram", "100200300", "", "The app crashes when I upload a photo."),
                           ("messenger", "psid-5550001", "", "Sent you the screenshot on Telegram.")]),
]


CANNED = [
    ("Thanks, looking into it", "thanks",
     "Hi {customer_first_name},\n\nThanks for getting in touch. I'm looking into this now and will get back "
     "to you shortly.\n\n{agent_name}"),
    ("Solved, anything else?", "solved",
     "Hi {customer_first_name},\n\nThis should be sorted now (ticket #{ticket_id}). Just reply if anything "
     "else comes up.\n\n{agent_name}"),
]


def ensure_agents_group():
    group, _ = Group.objects.get_or_create(name="Agents")
    group.permissions.set(Permission.objects.filter(content_type__app_label="tickets"))
    return group


# What a team lead may do beyond an agent, named by string: tickets imports none of these apps,
# and a permission whose app is not installed is simply not there.
TEAM_LEAD_PERMISSIONS = [("reports", "view_reports")]


def ensure_team_leads_group():
    group, _ = Group.objects.get_or_create(name="Team leads")
    for app_label, codename in TEAM_LEAD_PERMISSIONS:
        group.permissions.add(*Permission.objects.filter(content_type__app_label=app_label, codename=codename))
    return group


class Command(BaseCommand):
    help = "Create demo agents, an admin, customers and tickets (use --if-empty to run once)."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when tickets exist.")
        parser.add_argument("--customers", type=int, default=0, help="Bulk mode: customers to create.")
        parser.add_argument("--tickets", type=int, default=0, help="Bulk mode: tickets to create.")
        parser.add_argument("--messages", type=int, default=0, help="Bulk mode: messages to create.")
        parser.add_argument("--long-ticket", type=int, default=200,
                            help="Bulk mode: also one ticket with this many messages (the benchmark's).")
        parser.add_argument("--seed", type=int, default=1, help="Bulk mode: random seed (repeatable data).")
        parser.add_argument("--no-progress", action="store_true", help="Bulk mode: no progress bar.")

    def handle(self, *args, if_empty=False, **options):
        if apps.is_installed("livechat"):  # the demo website's chat inbox (/chat/demo/)
            call_command("seed_livechat", verbosity=options.get("verbosity", 1))
        if options.get("customers") or options.get("tickets") or options.get("messages"):
            self._ensure_users()
            from tickets.management.commands._bulk import BulkSeeder

            seeder = BulkSeeder(seed=options["seed"], out=self.stdout if not options["no_progress"] else None)
            totals = seeder.run(customers=max(options["customers"], 1), tickets=max(options["tickets"], 1),
                                messages=options["messages"], long_ticket=options["long_ticket"])
            self.stdout.write(self.style.SUCCESS(
                "Seeded {customers} customers, {tickets} tickets, {messages} messages in {seconds:.1f} s "
                "(long ticket #{long_ticket}).".format(**totals)))
            return
        if if_empty and Ticket.objects.exists():
            self.stdout.write("Demo data already present.")
            self._print_urls()
            return
        self._ensure_users()
        if apps.is_installed("service_levels"):  # a schedule and policies: the demo tickets get SLA badges
            call_command("seed_service_levels", verbosity=options.get("verbosity", 1))
        for title, shortcut, body in CANNED:
            CannedResponse.objects.get_or_create(shortcut=shortcut, defaults={"title": title, "body": body})
        start = timezone.now() - timedelta(hours=6)
        count = 0
        for name, messages in CUSTOMERS:
            for n, (channel, address, subject, text) in enumerate(messages):
                count += 1
                services.ingest(InboundMessage(
                    channel=channel, external_id=f"demo-{channel}-{address}-{n}", sender=address,
                    sender_name=name, subject=subject, text=text,
                    hints=ThreadHints(), timestamp=start + timedelta(minutes=37 * count),
                    # Demo people wrote from several channels: seed them as one customer each.
                    linked_identities=((messages[0][0], messages[0][1]),) if n else (),
                ))
        self.stdout.write(self.style.SUCCESS(f"Seeded {count} messages."))
        self._print_urls()

    def _print_urls(self):
        """Where to go, at the address this helpdesk says it is served at (HELPDESK_PUBLIC_URL:
        `make run PORT=8100` sets it to http://127.0.0.1:8100)."""
        base = settings.HELPDESK_PUBLIC_URL
        lines = ["", f"  Console:   {base}/console/   (agent alice / {DEMO_PASSWORD}; admin / {DEMO_PASSWORD} "
                     f"for {base}/admin/)"]
        if apps.is_installed("livechat"):
            lines += [f"  Live chat: {base}/chat/demo/   (a demo web page embedding the chat widget)",
                      f'  Embed:     <script src="{base}/chat/widget.js" data-inbox="demo" async></script>']
        lines += [f"  Public URL (webhooks, links in mail): {base}", ""]
        self.stdout.write("\n".join(lines))

    def _ensure_users(self):
        with transaction.atomic():
            agents = ensure_agents_group()
            team, _ = Team.objects.get_or_create(name="Support")
            User = get_user_model()
            for username, first, superuser in [("admin", "Admin", True), ("alice", "Alice", False), ("bob", "Bob", False)]:
                user, created = User.objects.get_or_create(
                    # Agents work in the console; only the admin is staff (the Django admin
                    # is for configuration, and shows rows no service writes an event for).
                    username=username, defaults={"first_name": first, "is_staff": superuser, "is_superuser": superuser,
                                                 "email": f"{username}@example.com"})
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save()
                user.groups.add(agents)
                team.members.add(user)
                if username == "alice":
                    user.groups.add(ensure_team_leads_group())
