"""Queue picture fetches for customers who wrote before pictures were turned on (or whose
picture is older than HELPDESK_PICTURE_REFRESH_DAYS): the sink only asks when someone writes."""

from django.core.management.base import BaseCommand

from customer_pictures import fetching, sinks
from tickets.channels import adapters_for_channel, get_adapter
from tickets.models import Identity

BATCH = 500


class Command(BaseCommand):
    help = "Queue profile-picture fetches for every Messenger, Instagram and Telegram identity that is due one."

    def handle(self, *args, **options):
        queued = 0
        for channel in sorted(sinks.picture_channels()):
            key = adapters_for_channel(channel)[0]
            missing = get_adapter(key).picture_missing_setting()
            if missing:
                self.stderr.write(f"{channel}: skipped, {missing} is not set")
                continue
            ids = list(Identity.objects.filter(channel=channel).order_by("pk").values_list("pk", flat=True))
            for start in range(0, len(ids), BATCH):
                queued += fetching.request(dict.fromkeys(ids[start:start + BATCH], key))
        self.stdout.write(f"{queued} picture fetches queued")
