"""The domain: one ticket model that every channel feeds.

Rows are written only by `tickets.services` (and read by everyone). Models carry no side effects
in save(): publishing and delivery happen in the services, after commit.
"""

import re
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="helpdesk_teams", blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")

    def __str__(self):
        return self.name


class Tag(models.Model):
    """A label agents put on tickets (billing, bug, vip...). Names are lower-case and unique."""

    name = models.SlugField(_("name"), max_length=50, unique=True, allow_unicode=True)
    color = models.CharField(_("colour"), max_length=7, default="#5b6575")

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")

    def __str__(self):
        return self.name


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=200, blank=True)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # Set when an agent merged this customer into another; undo clears it (see CustomerMerge).
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        indexes = [models.Index(fields=["name"])]

    def __str__(self):
        return self.name or str(_("Customer %(id)s") % {"id": self.pk})  # people.customer_name's words


class Identity(models.Model):
    """One address a customer is reachable at. Unique per channel: the identity *is* the proof
    of who wrote, so it is never created from a string that merely looks alike."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    channel = models.CharField(_("channel"), max_length=32)
    address = models.CharField(_("address"), max_length=320)
    display_name = models.CharField(_("display name"), max_length=200, blank=True)
    verified = models.BooleanField(_("verified"), default=True)
    # SMS STOP and similar: we must not send on this identity until it opts back in.
    opted_out_at = models.DateTimeField(_("opted out at"), null=True, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    meta = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("identity")
        verbose_name_plural = _("identities")
        constraints = [
            models.UniqueConstraint(fields=["channel", "address"], name="identity_unique_address")
        ]

    def __str__(self):
        return f"{self.channel}:{self.address}"


class Ticket(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        PENDING = "pending", _("Pending")
        SOLVED = "solved", _("Solved")
        CLOSED = "closed", _("Closed")

    class Priority(models.IntegerChoices):
        LOW = 0, _("Low")
        NORMAL = 1, _("Normal")
        HIGH = 2, _("High")
        URGENT = 3, _("Urgent")

    ACTIVE_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING)

    # db_index=False here and below: a composite index in Meta leads with this column already,
    # and every index is one more B-tree page written per insert on the ingest path.
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets", db_index=False)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.NEW)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority, default=Priority.NORMAL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets")
    channel = models.CharField(_("origin channel"), max_length=32)
    # Where the first message came in (tickets.channels.inbox_key): "email:support@x.test".
    inbox = models.CharField(_("inbox"), max_length=200, blank=True, default="")
    # A closed ticket is never reopened: a follow-up opens a new ticket that points back here.
    # Mail that only *claims* a ticket (a bare subject tag) is linked here too, as possibly related.
    related_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    # When the customer started waiting for us (first unanswered inbound); None when answered.
    waiting_since = models.DateTimeField(null=True, blank=True)
    tags = models.ManyToManyField(Tag, related_name="tickets", blank=True)
    meta = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("ticket")
        permissions = [("view_all_teams", _("Can see tickets of every team"))]
        indexes = [
            models.Index(fields=["status", "assignee", "-updated_at"], name="ticket_queue_idx"),
            models.Index(fields=["status", "waiting_since"], name="ticket_waiting_idx"),
            models.Index(fields=["customer", "channel", "-updated_at"], name="ticket_customer_idx"),
            # The console queue: active tickets in waiting order, read straight off this index.
            # The trailing columns let a view's filter (mine, unassigned, pending, a channel, a
            # team) be checked inside the index while scanning, without reading table rows.
            models.Index(fields=["waiting_since", "updated_at", "status", "assignee", "channel", "team"],
                         name="ticket_active_queue_idx", condition=Q(status__in=["new", "open", "pending"])),
            models.Index(fields=["status", "-updated_at"], name="ticket_status_recent_idx"),
            # The queue's per-view counts: one GROUP BY read from this index alone.
            models.Index(fields=["status", "channel", "team", "assignee", "inbox"], name="ticket_counts_idx"),
            # Reports: the tickets created in a period (one B-tree page per new ticket, not per message).
            models.Index(fields=["created_at"], name="ticket_created_idx"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.subject}"

    @property
    def reference(self):
        return f"#{self.pk}"

    @property
    def is_active(self):
        return self.status in self.ACTIVE_STATUSES


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")
        NOTE = "note", _("Internal note")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", _("Read")
        FAILED = "failed", _("Failed")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages", db_index=False)
    # Denormalised so one customer's history across every ticket is one indexed range scan.
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="messages", db_index=False)
    direction = models.CharField(max_length=16, choices=Direction)
    # channel: the medium the customer sees (email, sms, whatsapp, ...); adapter: the
    # HELPDESK_CHANNELS key that carried it (two providers can serve one medium).
    channel = models.CharField(max_length=32)
    adapter = models.CharField(max_length=32, blank=True)
    identity = models.ForeignKey(Identity, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True, help_text=_("Sanitised HTML"))
    external_id = models.CharField(max_length=255, null=True, blank=True)
    client_id = models.CharField(max_length=64, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.RECEIVED)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    provider_timestamp = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    meta = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("message")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], condition=Q(external_id__isnull=False),
                name="message_unique_external_id",
            ),
            models.UniqueConstraint(
                fields=["ticket", "client_id"], condition=Q(client_id__isnull=False),
                name="message_unique_client_id",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "created_at"], name="message_history_idx"),
            models.Index(fields=["ticket", "created_at"], name="message_ticket_idx"),
        ]

    def __str__(self):
        return f"{self.direction} {self.channel} #{self.pk}"

    @property
    def has_remote_images(self) -> bool:
        """The console blocks these until the agent asks (tracking pixels, IP leaks). Only an
        image whose own source is remote counts: a link elsewhere in the mail, or an inline
        `cid:` image (ours), does not. The console script mirrors this pattern."""
        return bool(REMOTE_IMAGE.search(self.html))

    @property
    def folded_text(self) -> str:
        """What a channel split off the visible text (a signature, the quoted history; in
        `meta["signature"]` / `meta["quoted_text"]`): the console shows it behind a toggle."""
        meta = self.meta if isinstance(self.meta, dict) else {}
        return "\n\n".join(str(meta[key]) for key in ("signature", "quoted_text") if meta.get(key))

    @property
    def id_collision(self) -> bool:
        """It reuses another sender's message id (services.inbound._deduplicate): stored apart."""
        return isinstance(self.meta, dict) and "id_collision" in self.meta

    @property
    def html_dropped(self) -> str:
        """Why the HTML was not kept (tickets.sanitize bounds), or "": the console says so."""
        meta = self.meta if isinstance(self.meta, dict) else {}
        return str(meta.get("html_dropped") or "")


# <img ... src= or srcset= "http(s)://..." or "//..." (sanitised HTML: attributes are quoted by nh3).
REMOTE_IMAGE = re.compile(r"""<img\b[^>]*?\bsrc(?:set)?\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def attachment_path(instance, filename):
    # Server-generated name: the customer's filename never reaches the filesystem.
    return f"attachments/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    class State(models.TextChoices):
        STORED = "stored", _("Stored")
        PENDING = "pending", _("Downloading")
        FAILED = "failed", _("Download failed")

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, blank=True)
    filename = models.CharField(_("original name"), max_length=255)
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    size = models.PositiveBigIntegerField(default=0)
    content_id = models.CharField(max_length=255, blank=True)
    inline = models.BooleanField(default=False)
    # Provider media that must be fetched with credentials (Twilio MMS, Telegram getFile, Meta).
    source_url = models.URLField(max_length=2000, blank=True)
    state = models.CharField(max_length=16, choices=State, default=State.STORED)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")

    def __str__(self):
        return self.filename


class InboundPayload(models.Model):
    """A provider request kept verbatim once its signature checked out, before it is parsed,
    so a crash or a parser bug loses nothing and it can be replayed (`manage.py replay_inbound`)."""

    class State(models.TextChoices):
        RECEIVED = "received", _("Received")
        # HELPDESK_WEBHOOK_INGEST=worker: answered, waiting for an ingest worker to write it.
        QUEUED = "queued", _("Queued for ingest")
        PROCESSED = "processed", _("Processed")
        FAILED = "failed", _("Failed")
        QUARANTINED = "quarantined", _("Quarantined")
        DISCARDED = "discarded", _("Discarded")

    adapter = models.CharField(max_length=32)
    path = models.CharField(max_length=500, blank=True)
    content_type = models.CharField(max_length=255, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    body = models.BinaryField()
    state = models.CharField(max_length=16, choices=State, default=State.RECEIVED, db_index=True)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Set when it came through the ingest spool (tickets/ingest_spool.py): moving it here twice
    # (a worker that died between the move's commit and the spool's delete) is one row.
    spool_key = models.CharField(max_length=32, null=True, blank=True, unique=True, editable=False)

    class Meta:
        verbose_name = _("inbound payload")

    def __str__(self):
        return f"{self.adapter} payload {self.pk} ({self.state})"


class EventCounter(models.Model):
    """One row whose value is the last Event.seq. Taking it with UPDATE ... RETURNING holds a
    row lock until commit, so sequence numbers become visible in commit order: a reader that has
    seen seq N can never later find a committed N-1 it skipped."""

    value = models.BigIntegerField(default=0)

    def __str__(self):
        return str(self.value)


class Event(models.Model):
    """A visible change, written in the same transaction as the change itself."""

    seq = models.BigIntegerField(unique=True)
    kind = models.CharField(max_length=64)
    # No single-column indexes: event_ticket_idx / event_customer_idx lead with these.
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                               db_index=False)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                 db_index=False)
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # Whether the customer may see it (their own conversation); internal notes never are.
    public = models.BooleanField(default=False)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("event")
        indexes = [
            models.Index(fields=["ticket", "seq"], name="event_ticket_idx"),
            models.Index(fields=["customer", "seq"], name="event_customer_idx"),
        ]

    def __str__(self):
        return f"{self.seq} {self.kind}"


class CustomerMerge(models.Model):
    """The audit record of an agent merging two customers, with enough to undo it exactly."""

    source = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="merges_out")
    target = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="merges_in")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True)
    moved = models.JSONField(default=dict)  # {"identities": [...], "tickets": [...], "messages": [...]}
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("customer merge")

    def __str__(self):
        return f"{self.source_id} -> {self.target_id}"


class AgentPresence(models.Model):
    """One row per open console connection: who is online, and which ticket they are viewing
    or typing on. In the database (not process memory) so every Daphne process sees it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    connection = models.CharField(max_length=200, unique=True)
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    typing_until = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("agent presence")

    def __str__(self):
        return f"{self.user_id}@{self.connection}"


class CannedResponse(models.Model):
    """A saved reply. Placeholders ({customer_name}, {customer_first_name}, {agent_name},
    {ticket_id}, {ticket_subject}) are filled in when the agent inserts it."""

    title = models.CharField(_("title"), max_length=120)
    shortcut = models.SlugField(_("shortcut"), max_length=40, unique=True,
                                help_text=_("Type /shortcut in the reply box to insert it."))
    body = models.TextField(_("body"))
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="canned_responses")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("canned response")

    def __str__(self):
        return self.title


class Mention(models.Model):
    """An agent @named in an internal note: their console shows it until they open the ticket."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="helpdesk_mentions")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("mention")
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="mention_unique")]
        indexes = [models.Index(fields=["user", "read_at"], name="mention_inbox_idx")]

    def __str__(self):
        return f"@{self.user_id} in {self.message_id}"
