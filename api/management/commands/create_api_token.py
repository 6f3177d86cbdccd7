"""Create an API token for an agent, or for an integration's own service user."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from api.models import ApiToken
from tickets.policy import is_agent


class Command(BaseCommand):
    help = ("Create an API token acting as USERNAME and print it (once: only its hash is kept). "
            "With --integration, USERNAME is created as a service user in the Agents group if missing.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What uses the token (default: the username).")
        parser.add_argument("--integration", action="store_true",
                            help="Create USERNAME as an integration user (no password, Agents group).")
        parser.add_argument("--expires-days", type=int, default=None, help="Expire after this many days.")

    def handle(self, *args, username, name, integration, expires_days, **options):
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None and integration:
            from tickets.management.commands.seed_demo import ensure_agents_group

            user = User.objects.create_user(username=username)  # unusable password: API only
            user.groups.add(ensure_agents_group())
            self.stderr.write(f"Created integration user {username!r} in the Agents group.")
        if user is None:
            raise CommandError(f"No user {username!r} (use --integration to create a service user).")
        if not is_agent(user):
            raise CommandError(f"{username!r} is not an agent: the token would be refused.")
        token = ApiToken(name=name or username, user=user)
        if expires_days:
            token.expires_at = timezone.now() + timedelta(days=expires_days)
        raw = token.set_new_secret()
        token.save()
        self.stderr.write(f"Token {token.name!r} for {username!r} (prefix {token.prefix}). Keep it secret:")
        self.stdout.write(raw)
