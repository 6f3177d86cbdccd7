"""A demo business-hours schedule and SLA policies, so `make run` shows badges (seed_demo calls
this before it seeds the demo tickets). Idempotent: what exists by name is left alone.

    manage.py seed_service_levels
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

from service_levels import services
from service_levels.models import Policy, Schedule
from tickets.models import Ticket

OFFICE_HOURS = [[day, 9 * 60, 17 * 60 + 30] for day in range(5)]  # Mon-Fri 09:00-17:30
HOLIDAYS = [{"start": "2000-12-25", "end": "2000-12-26", "yearly": True, "name": "Christmas"},
            {"start": "2000-01-01", "end": "2000-01-01", "yearly": True, "name": "New Year"}]
# Replies in calendar time, so the demo's badges count down whatever the time of day; the
# messaging channels promise minutes (as chat teams do), so a demo session sees them turn amber
# and red, and mail promises hours.
POLICIES = [
    dict(name="Urgent", priorities=[Ticket.Priority.URGENT], first_reply_minutes=30, first_reply_business=False,
         next_reply_minutes=30, next_reply_business=False, resolution_minutes=240, resolution_business=True),
    dict(name="Messaging", channels=["chat", "sms", "whatsapp", "messenger", "instagram", "telegram"],
         first_reply_minutes=15, first_reply_business=False, next_reply_minutes=15, next_reply_business=False,
         resolution_minutes=480, resolution_business=True),
    dict(name="Standard", first_reply_minutes=240, first_reply_business=False, next_reply_minutes=240,
         next_reply_business=False, resolution_minutes=3 * 510, resolution_business=True),
]
LEADS = "Team leads"


class Command(BaseCommand):
    help = _("Create a demo business-hours schedule and SLA policies (skipped when they exist).")

    def handle(self, *args, verbosity=1, **options):
        with transaction.atomic():
            if not Schedule.objects.filter(name="Office hours").exists():
                services.save_schedule(name="Office hours", timezone="Europe/London", intervals=OFFICE_HOURS,
                                       holidays=HOLIDAYS, is_default=not Schedule.objects.filter(is_default=True).exists())
            for values in POLICIES:
                if not Policy.objects.filter(name=values["name"]).exists():
                    services.save_policy(**values)
            # The demo's agent alice leads the team: she sees the settings screen.
            leads, _created = Group.objects.get_or_create(name=LEADS)
            leads.permissions.set(Permission.objects.filter(content_type__app_label="service_levels"))
            alice = get_user_model().objects.filter(username="alice").first()
            if alice is not None:
                alice.groups.add(leads)
        if verbosity:
            self.stdout.write(_("Service levels: schedule “Office hours” and policies %(names)s.")
                              % {"names": ", ".join(p["name"] for p in POLICIES)})
