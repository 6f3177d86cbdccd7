"""Customers with their identities, a customer's history across channels, merging."""


from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status

from api import common
from api.common import READ_ERRORS, WRITE_ERRORS
from api.errors import ApiError
from api.idempotency import idempotent
from api.pagination import page
from api.schemas import MAX_ID, CustomerOut, CustomerPage, MeOut, MergeIn, MergeOut, MessagePage
from tickets import policy, services
from tickets.addresses import normalise_address
from tickets.models import Customer

router = Router(tags=["customers"])

CustomerId = Path(..., ge=1, le=MAX_ID)


@router.get("/me", response={200: MeOut, **READ_ERRORS}, tags=["tokens"], summary="Who this token acts as")
def me(request):
    return {"user": request.user.pk, "username": request.user.get_username(), "token": request.auth.name}


@router.get("/customers", response={200: CustomerPage, **READ_ERRORS}, summary="List customers")
def list_customers(
    request,
    channel: str | None = Query(None, max_length=32, pattern=r"^[a-z0-9_.-]+$",
                                description="With `address`: find the customer reachable there."),
    address: str | None = Query(None, max_length=320, pattern=r"^[^\x00]{1,320}$",
                                description="An email address, phone number, ... (normalised first)."),
    cursor: str | None = common.cursor_query(),
    limit: int = common.limit_query(),
):
    customers = Customer.objects.prefetch_related("identities").filter(policy.visible_customers(request.user))
    if address is not None:
        if channel is None:
            raise ApiError(422, "invalid_request", _("`address` needs `channel`."))
        try:
            address = normalise_address(channel, address)
        except ValueError:
            return {"items": [], "next_cursor": None}  # no customer can have a malformed address
        customers = customers.filter(identities__channel=channel, identities__address=address)
    elif channel is not None:
        customers = customers.filter(identities__channel=channel).distinct()
    rows, next_cursor = page(customers, cursor=cursor, limit=limit)
    return {"items": rows, "next_cursor": next_cursor}


@router.get("/customers/{customer_id}", response={200: CustomerOut, **READ_ERRORS}, summary="Read a customer")
def get_customer(request, customer_id: int = CustomerId):
    return common.visible_customer(request, customer_id)


@router.get("/customers/{customer_id}/messages", response={200: MessagePage, **READ_ERRORS},
            summary="A customer's history across every channel")
def customer_history(request, customer_id: int = CustomerId, cursor: str | None = common.cursor_query(),
                     limit: int = common.limit_query()):
    """Every message of every ticket of this customer, oldest first: email, SMS, chat... in one
    timeline, as the console shows it. Tickets the token's user may not see are left out."""
    customer = common.visible_customer(request, customer_id)
    scope = policy.visible_tickets(request.user, prefix="ticket__")
    rows, next_cursor = page(common.messages_query().filter(scope, customer=customer), cursor=cursor, limit=limit)
    return {"items": common.visible(request, rows, ticket_id=lambda m: m.ticket_id), "next_cursor": next_cursor}


@router.post("/customers/{customer_id}/merge", response={201: MergeOut, **WRITE_ERRORS},
             summary="Merge this customer into another")
@idempotent
def merge(request, payload: MergeIn, customer_id: int = CustomerId,
          idempotency_key: str | None = common.idempotency_header()):
    """Moves every identity, ticket and message to `into`. Audited and undoable by an admin
    (Customer merges)."""
    if not policy.can_change_customers(request.user):
        raise ApiError(403, "forbidden", _("You may not merge customers."))
    source = common.visible_customer(request, customer_id)
    target = Customer.objects.filter(policy.visible_customers(request.user), pk=payload.into).first()
    if target is None:
        raise ApiError(422, "unknown_customer", _("Customer %(id)s does not exist.") % {"id": payload.into})
    if target.merged_into_id:
        raise ApiError(409, "merge_refused", _("Customer %(id)s was itself merged into customer %(into)s.")
                       % {"id": target.pk, "into": target.merged_into_id})
    if not policy.can_merge_customers(request.user, source.pk, target.pk):
        raise ApiError(403, "forbidden", _("Merging these customers needs access to every ticket of both."))
    try:
        record = services.merge_customers(source, target, actor=request.user, reason=payload.reason)
    except ValueError as exc:
        raise ApiError(409, "merge_refused", str(exc)) from exc
    return Status(201, MergeOut.from_orm(record))
