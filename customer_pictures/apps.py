from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomerPicturesConfig(AppConfig):
    """Customers' profile pictures from Messenger, Instagram and Telegram, fetched in the worker
    after a customer writes (an event-log sink queues the fetch), stored on our own storage and
    served from our origin to agents. tickets never imports this app; the picture reaches the
    console through tickets.services.set_identity_picture (Identity.meta["avatar_url"])."""

    name = "customer_pictures"
    verbose_name = _("Customer pictures")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from customer_pictures import tasks  # noqa: F401 - registers fetch_picture for queueing.later
