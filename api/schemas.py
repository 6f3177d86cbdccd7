"""What the API reads and writes. Output field names follow the event payloads
(tickets/payloads.py), so a webhook body and an API response describe a ticket the same way."""


from datetime import datetime
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import AfterValidator, StringConstraints

from tickets.models import Message, Ticket

# Ids are bigint primary keys: bounding them keeps an absurd id a 422, not a database overflow.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]

def _storable(value: str) -> str:
    # PostgreSQL refuses NUL in text columns and lone surrogates cannot be encoded: a 422, not a
    # 500. A validator rather than a schema `pattern`: a pattern on a 100 000-character field
    # makes every JSON-schema tool (and schemathesis) compile a huge regex.
    if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError("text must not contain NUL characters or lone surrogates")
    return value


def Text(max_length: int, min_length: int = 0):  # noqa: N802 (reads like a type)
    return Annotated[str, StringConstraints(max_length=max_length, min_length=min_length), AfterValidator(_storable)]


def Token(max_length: int = 32):  # noqa: N802
    """A short machine name: a channel key, an event kind."""
    return Annotated[str, StringConstraints(max_length=max_length, min_length=1, pattern=r"^[a-z0-9_.-]+$")]


TicketStatus = Literal[tuple(Ticket.Status.values)]  # type: ignore[valid-type]
TicketPriority = Literal[tuple(Ticket.Priority.values)]  # type: ignore[valid-type]
MessageDirection = Literal[tuple(Message.Direction.values)]  # type: ignore[valid-type]
MessageStatus = Literal[tuple(Message.Status.values)]  # type: ignore[valid-type]


# --- Output ---------------------------------------------------------------------------------

class IdentityOut(Schema):
    id: int
    channel: str
    address: str
    display_name: str
    verified: bool
    opted_out_at: datetime | None
    last_inbound_at: datetime | None


class CustomerOut(Schema):
    id: int
    name: str
    organisation: str
    merged_into: int | None = Field(validation_alias="merged_into_id",
                                    description="Set when this customer was merged into another.")
    created_at: datetime
    identities: list[IdentityOut]

    @staticmethod
    def resolve_identities(obj):
        return list(obj.identities.all())


class TicketOut(Schema):
    id: int
    reference: str
    subject: str
    status: TicketStatus
    priority: TicketPriority = Field(description="0 low, 1 normal, 2 high, 3 urgent")
    channel: str = Field(description="The channel the conversation started on.")
    customer: int = Field(validation_alias="customer_id")
    assignee: int | None = Field(validation_alias="assignee_id")
    team: int | None = Field(validation_alias="team_id")
    related_to: int | None = Field(validation_alias="related_to_id")
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    waiting_since: datetime | None = Field(description="When the customer started waiting for an answer.")


class SatisfactionAnswerOut(Schema):
    rating: int
    at: str = Field(description="When it was given.")
    via: str = Field("", description="How: a channel, `link`, `widget`...")


class SatisfactionOut(Schema):
    """The ticket's satisfaction survey (surveys app): whether it went out, and the answer."""

    status: str = Field(description="scheduled, cancelled, skipped, sent or answered.")
    channel: str
    skip_reason: str = Field(description="Why it was not sent (skipped).")
    sent_at: datetime | None
    answered_at: datetime | None
    rating: int | None = Field(description="1-5; 4 and 5 count as satisfied.")
    comment: str
    agent: int | None = Field(validation_alias="agent_id", description="The ticket's assignee when it was rated.")
    replaced: list[SatisfactionAnswerOut] = Field(validation_alias="history",
                                                  description="Earlier answers this one replaced, oldest first.")


class TicketDetailOut(TicketOut):
    satisfaction: SatisfactionOut | None = Field(description="The satisfaction survey, if one was planned.")

    @staticmethod
    def resolve_satisfaction(obj):
        from django.core.exceptions import ObjectDoesNotExist

        try:
            return obj.survey  # surveys.Survey (one per ticket), when the app is installed
        except (ObjectDoesNotExist, AttributeError):
            return None


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    inline: bool
    state: str


class MessageOut(Schema):
    id: int
    ticket: int = Field(validation_alias="ticket_id")
    customer: int = Field(validation_alias="customer_id")
    direction: MessageDirection
    channel: str
    author: int | None = Field(validation_alias="author_id", description="The agent who wrote it (outbound messages and notes).")
    author_name: str
    subject: str
    text: str
    html: str = Field(description="Sanitised HTML.")
    status: MessageStatus
    error_code: str
    error_message: str
    client_id: str | None
    created_at: datetime
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_attachments(obj):
        return list(obj.attachments.all())


class TicketPage(Schema):
    items: list[TicketOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end.")


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: str | None


class MergeOut(Schema):
    id: int
    source: int = Field(validation_alias="source_id")
    target: int = Field(validation_alias="target_id")
    reason: str
    moved: dict[str, list[int]]
    created_at: datetime


class MeOut(Schema):
    user: int
    username: str
    token: str = Field(description="The token's name.")


# --- Input ----------------------------------------------------------------------------------

class AddressIn(Schema):
    channel: Token()
    address: Text(320, 1)
    name: Text(200) = ""


class TicketIn(Schema):
    customer: Id | None = Field(None, description="An existing customer; or give `to`.")
    to: AddressIn | None = Field(None, description="Write to this address; its customer is found or created.")
    subject: Text(300) = ""
    channel: Token() | None = Field(None, description="Channel of the first message; default the customer's latest.")
    text: Text(100_000) = Field("", description="The first message, sent to the customer.")
    html: Text(500_000) = ""
    internal_note: Text(100_000) = Field("", description="An internal note added to the new ticket.")
    priority: TicketPriority | None = None
    assignee: Id | None = None


class MessageIn(Schema):
    text: Text(100_000) = ""
    html: Text(500_000) = ""
    subject: Text(300) = ""
    channel: Token() | None = Field(None, description="Send on this channel; default where the customer last wrote.")
    client_id: Text(64, 1) | None = Field(None, description="Your id for this message; a repeat returns the first.")
    seen_seq: Annotated[int, Field(ge=0, le=MAX_ID)] | None = Field(
        None, description="The last event you showed; newer customer activity holds the reply (409).")


class NoteIn(Schema):
    text: Text(100_000, 1)


class AssignIn(Schema):
    assignee: Id | None = Field(description="An agent's user id, or null to unassign.")
    team: Id | None = Field(None, description="Also move the ticket to this team.")


class StatusIn(Schema):
    status: TicketStatus


class PriorityIn(Schema):
    priority: TicketPriority


class MergeIn(Schema):
    into: Id = Field(description="The customer that keeps everything.")
    reason: Text(2000) = ""
