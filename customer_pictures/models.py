"""What we know about one identity's picture: the stored file (if any) and when we last asked
the provider, so a customer's picture is fetched once and refreshed every
HELPDESK_PICTURE_REFRESH_DAYS, not on every message."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from tickets.models import Identity


class Picture(models.Model):
    # Deleted with the identity (an erasure deletes identities; customer_pictures.privacy
    # deletes the rows and files first, so no file outlives its row).
    identity = models.OneToOneField(Identity, on_delete=models.CASCADE, related_name="+")
    file = models.CharField(max_length=200, blank=True)  # a name in default_storage, "" when none
    content_type = models.CharField(max_length=32, blank=True)  # from the bytes, never the provider's word
    size = models.PositiveIntegerField(default=0)
    digest = models.CharField(max_length=16, blank=True)  # in the URL: a new picture is a new URL
    requested_at = models.DateTimeField(null=True, blank=True)  # a fetch was queued
    checked_at = models.DateTimeField(null=True, blank=True)  # the provider last answered (or gave up)
    error = models.CharField(max_length=300, blank=True)  # why the last attempt stored nothing

    class Meta:
        verbose_name = _("customer picture")

    def __str__(self):
        return f"picture of identity {self.identity_id}"
