"""Tickets: list (filters, cursor), read, create, and the actions an agent takes on one.
Each view parses, authorises (api.common), calls one service, renders."""


from datetime import datetime
from typing import Literal

from django.db.models import Q
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status

from api import common
from api.common import READ_ERRORS, WRITE_ERRORS
from api.errors import ApiError
from api.idempotency import idempotent
from api.pagination import page
from api.schemas import (
    MAX_ID,
    AssignIn,
    MessageIn,
    MessageOut,
    MessagePage,
    NoteIn,
    PriorityIn,
    StatusIn,
    TicketDetailOut,
    TicketIn,
    TicketOut,
    TicketPage,
    TicketStatus,
)
from tickets import policy, services
from tickets.addresses import normalise_address
from tickets.models import Identity, Team, Ticket

router = Router(tags=["tickets"])

TicketId = Path(..., ge=1, le=MAX_ID)


@router.get("/tickets", response={200: TicketPage, **READ_ERRORS}, summary="List tickets")
def list_tickets(
    request,
    status: list[TicketStatus] = Query(None, description="One or more statuses."),  # noqa: B008
    assignee: str | None = Query(None, pattern=r"^(\d{1,18}|me|none)$",
                                 description="An agent's user id, `me`, or `none` (unassigned)."),
    team: int | None = common.id_query("A team id."),
    channel: str | None = Query(None, max_length=32, pattern=r"^[a-z0-9_.-]+$",
                                description="Origin channel (email, sms, whatsapp, chat, ...)."),
    customer: int | None = common.id_query("A customer id."),
    updated_since: datetime | None = Query(  # noqa: B008
        None, description="Only tickets updated at or after this instant."),
    order: Literal["updated_at", "-updated_at"] = Query(
        "-updated_at", description="`updated_at` (oldest first) suits incremental sync."),
    cursor: str | None = common.cursor_query(),
    limit: int = common.limit_query(),
):
    # Team scoping in the query itself, so a page is never short of visible tickets.
    tickets = Ticket.objects.filter(policy.visible_tickets(request.user))
    if status:
        tickets = tickets.filter(status__in=status)
    if assignee == "me":
        tickets = tickets.filter(assignee=request.user)
    elif assignee == "none":
        tickets = tickets.filter(assignee__isnull=True)
    elif assignee:
        tickets = tickets.filter(assignee_id=int(assignee))
    filters = {"team_id": team, "channel": channel, "customer_id": customer}
    tickets = tickets.filter(**{k: v for k, v in filters.items() if v is not None})
    if updated_since is not None:
        tickets = tickets.filter(Q(updated_at__gte=common.as_utc(updated_since)))
    rows, next_cursor = page(tickets, cursor=cursor, limit=limit, order=order)
    return {"items": common.visible(request, rows), "next_cursor": next_cursor}


@router.post("/tickets", response={201: TicketOut, **WRITE_ERRORS}, summary="Open a ticket")
@idempotent
def create_ticket(request, payload: TicketIn, idempotency_key: str | None = common.idempotency_header()):
    """Open a ticket for a customer (by id, or by an address: the customer is found or created)
    and optionally send the first message and add an internal note, all or nothing."""
    if (payload.customer is None) == (payload.to is None):
        raise ApiError(422, "invalid_request", _("Give either `customer` or `to`, not both."))
    customer = to = None
    if payload.customer is not None:
        customer = common.visible_customer(request, payload.customer)
    else:
        to = (payload.to.channel, payload.to.address, payload.to.name)
        try:
            known = Identity.objects.filter(channel=to[0], address=normalise_address(to[0], to[1])).first()
        except ValueError:
            known = None  # open_ticket() says what is wrong with the address
        if known is not None and not policy.can_open_ticket_for(request.user, known.customer_id):
            # Saying so tells the agent the customer exists, which the policy allows; who they
            # are and what they wrote stays hidden.
            raise ApiError(403, "forbidden", _("This address belongs to a customer of another team."))
    assignee = common.agent_or_422(payload.assignee) if payload.assignee else None
    try:
        ticket = services.open_ticket(
            customer, to=to, actor=request.user, subject=payload.subject, channel=payload.channel,
            text=payload.text, html=payload.html, internal_note=payload.internal_note,
            priority=payload.priority, assignee=assignee,
        )
    except services.ReplyRefused as refused:
        raise ApiError(422, "refused", refused.reason) from refused
    except ValueError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from exc
    return Status(201, TicketOut.from_orm(ticket))


@router.get("/tickets/{ticket_id}", response={200: TicketDetailOut, **READ_ERRORS}, summary="Read a ticket")
def get_ticket(request, ticket_id: int = TicketId):
    """The ticket, with its satisfaction survey (state and answer) when one was planned."""
    return common.visible_ticket(request, ticket_id)


@router.get("/tickets/{ticket_id}/messages", response={200: MessagePage, **READ_ERRORS},
            summary="A ticket's messages")
def ticket_messages(request, ticket_id: int = TicketId, cursor: str | None = common.cursor_query(),
                    limit: int = common.limit_query()):
    """Oldest first, internal notes included (agents see them; customers never do)."""
    ticket = common.visible_ticket(request, ticket_id)
    rows, next_cursor = page(common.messages_query().filter(ticket=ticket), cursor=cursor, limit=limit)
    return {"items": rows, "next_cursor": next_cursor}


@router.post("/tickets/{ticket_id}/messages", response={201: MessageOut, **WRITE_ERRORS},
             summary="Send a message to the customer")
@idempotent
def send_message(request, payload: MessageIn, ticket_id: int = TicketId,
                 idempotency_key: str | None = common.idempotency_header()):
    """Queued at once and delivered in the background; follow `status` (or the
    `message.status` webhook)."""
    ticket = common.visible_ticket(request, ticket_id)
    try:
        message = services.reply(
            ticket, author=request.user, text=payload.text, html=payload.html, subject=payload.subject,
            channel=payload.channel, client_id=payload.client_id, seen_seq=payload.seen_seq,
        )
    except services.StaleReply as stale:
        raise ApiError(409, "stale", stale.reason) from stale
    except services.ReplyRefused as refused:
        raise ApiError(422, "refused", refused.reason) from refused
    return Status(201, MessageOut.from_orm(message))


@router.post("/tickets/{ticket_id}/notes", response={201: MessageOut, **WRITE_ERRORS},
             summary="Add an internal note")
@idempotent
def add_note(request, payload: NoteIn, ticket_id: int = TicketId,
             idempotency_key: str | None = common.idempotency_header()):
    ticket = common.visible_ticket(request, ticket_id)
    try:
        message = services.note(ticket, author=request.user, text=payload.text)
    except services.ReplyRefused as refused:
        raise ApiError(422, "refused", refused.reason) from refused
    return Status(201, MessageOut.from_orm(message))


@router.post("/tickets/{ticket_id}/assign", response={200: TicketOut, **WRITE_ERRORS},
             summary="Assign (or unassign) a ticket")
@idempotent
def assign(request, payload: AssignIn, ticket_id: int = TicketId,
           idempotency_key: str | None = common.idempotency_header()):
    ticket = common.visible_ticket(request, ticket_id)
    assignee = common.agent_or_422(payload.assignee) if payload.assignee is not None else None
    team = None
    if payload.team is not None:
        team = Team.objects.filter(pk=payload.team).first()
        if team is None:
            raise ApiError(422, "unknown_team", _("Team %(id)s does not exist.") % {"id": payload.team})
    if assignee is not None and not policy.can_be_assigned(assignee, team.pk if team else ticket.team_id):
        raise ApiError(422, "unknown_agent", _("User %(id)s is not an agent of this ticket's team.")
                       % {"id": assignee.pk})
    ticket = services.assign(ticket, assignee=assignee, team=team, actor=request.user)
    return Status(200, TicketOut.from_orm(ticket))


@router.post("/tickets/{ticket_id}/status", response={200: TicketOut, **WRITE_ERRORS},
             summary="Change a ticket's status")
@idempotent
def set_status(request, payload: StatusIn, ticket_id: int = TicketId,
               idempotency_key: str | None = common.idempotency_header()):
    ticket = common.visible_ticket(request, ticket_id)
    ticket = services.set_status(ticket, payload.status, actor=request.user)
    return Status(200, TicketOut.from_orm(ticket))


@router.post("/tickets/{ticket_id}/priority", response={200: TicketOut, **WRITE_ERRORS},
             summary="Change a ticket's priority")
@idempotent
def set_priority(request, payload: PriorityIn, ticket_id: int = TicketId,
                 idempotency_key: str | None = common.idempotency_header()):
    ticket = common.visible_ticket(request, ticket_id)
    ticket = services.set_priority(ticket, payload.priority, actor=request.user)
    return Status(200, TicketOut.from_orm(ticket))
