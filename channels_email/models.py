"""The email channel's own bookkeeping (the conversation itself lives in tickets.models)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Acknowledgement(models.Model):
    """One automatic "we got your message" per sender per day (RFC 3834 §2: don't flood).
    The unique constraint is the rate limit: the second insert of a day fails."""

    address = models.CharField(_("address"), max_length=320)
    day = models.DateField(_("day"))
    ticket_id = models.BigIntegerField(_("ticket"))
    message_id = models.CharField(_("Message-ID sent"), max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("email acknowledgement")
        constraints = [models.UniqueConstraint(fields=["address", "day"], name="email_ack_once_a_day")]

    def __str__(self):
        return f"{self.address} {self.day}"


class SentMail(models.Model):
    """The ESP's own id for a mail we sent. Most ESPs hand our metadata back in tracking events;
    some (MailerSend, Postal, most of Resend's events) name the mail only by their own id, and
    this is how such an event finds our message."""

    esp_message_id = models.CharField(_("ESP message id"), max_length=255, unique=True)
    message_id = models.CharField(_("our Message-ID"), max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("sent email")

    def __str__(self):
        return f"{self.esp_message_id} -> {self.message_id}"
