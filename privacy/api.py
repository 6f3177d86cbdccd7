"""Data rights in the REST API (/api/v1/): a customer's export, and their erasure. Tokens of
users with the privacy permissions only (an admin, or an integration given them)."""

from django.http import FileResponse
from django.utils.translation import gettext as _
from ninja import Field, Path, Router, Schema, Status

from api.common import READ_ERRORS, WRITE_ERRORS, idempotency_header, visible_customer
from api.errors import ApiError
from api.idempotency import idempotent
from api.schemas import MAX_ID, Id
from privacy import actions
from privacy.export import export_filename
from privacy.models import PrivacyRequest

router = Router(tags=["privacy"])

CustomerId = Path(..., ge=1, le=MAX_ID)


class EraseIn(Schema):
    confirm: Id = Field(description="The customer's id again: an erasure cannot be undone.")


class ErasureOut(Schema):
    request: int = Field(validation_alias="pk", description="The audit record (Django admin: Privacy requests).")
    customer: int = Field(validation_alias="customer_id")
    created_at: str
    summary: dict[str, int | dict[str, int]] = Field(
        description="What was erased, counted: messages, attachments, payloads, identities, events, ... "
                    "and per personal data provider.")

    @staticmethod
    def resolve_created_at(obj):
        return obj.created_at.isoformat()


def _allowed(request, perm: str) -> None:
    if not request.user.has_perm(f"privacy.{perm}"):
        raise ApiError(403, "forbidden", _("You may not do this (privacy permissions needed)."))


@router.get("/customers/{customer_id}/export", response={200: None, **READ_ERRORS},
            summary="Export a customer's data",
            openapi_extra={"responses": {200: {"description": "A zip: customer.json, attachments/, one JSON per app.",
                                               "content": {"application/zip": {"schema": {
                                                   "type": "string", "format": "binary"}}}}}})
def export_customer(request, customer_id: int = CustomerId):
    """Everything held about the customer across every channel (and the customers merged into
    them): identities, tickets, messages, notes, attachment files, other apps' data. Audited."""
    _allowed(request, "export_customer")
    customer = visible_customer(request, customer_id)
    try:
        archive = actions.export(customer, actor=request.user, via=PrivacyRequest.Via.API)
    except actions.Refused as exc:
        raise ApiError(409, "merged_customer", str(exc)) from exc
    return FileResponse(archive, as_attachment=True, filename=export_filename(customer),
                        content_type="application/zip")


@router.post("/customers/{customer_id}/erase", response={200: ErasureOut, **WRITE_ERRORS},
             summary="Erase a customer")
@idempotent
def erase_customer(request, payload: EraseIn, customer_id: int = CustomerId,
                   idempotency_key: str | None = idempotency_header()):
    """Messages redacted, attachments and raw payloads deleted, identities removed, event log
    cleared, outgoing webhooks sent `customer.erased`; tickets stay, anonymised. Audited."""
    _allowed(request, "erase_customer")
    customer = visible_customer(request, customer_id)
    if payload.confirm != customer.pk:
        raise ApiError(422, "not_confirmed", _("`confirm` must repeat the customer's id."))
    try:
        record = actions.erase(customer, actor=request.user, via=PrivacyRequest.Via.API)
    except actions.Refused as exc:
        raise ApiError(409, "merged_customer", str(exc)) from exc
    return Status(200, ErasureOut.from_orm(record))
