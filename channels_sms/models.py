from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookReceipt(models.Model):
    """An I-Twilio-Idempotency-Token we already processed successfully.

    Twilio resends a webhook with the same token when it did not see our answer. MessageSid
    already makes a resent *message* harmless; the token also lets us drop a resent *status
    callback* or message before it adds another raw payload row and another processing pass.
    Recorded only after success, so a failed first attempt is always processed again."""

    token = models.CharField(_("idempotency token"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("Twilio webhook receipt")
        verbose_name_plural = _("Twilio webhook receipts")

    def __str__(self):
        return self.token
