"""The console's POST actions: parse, authorise, call one service, answer.

The console's JavaScript posts with `Accept: application/json` and gets JSON back (so a held
reply keeps its draft in the page); without JavaScript each form redirects back to the ticket
with a flash message."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tickets import policy, services
from tickets.channels import InboundAttachment
from tickets.console.views import agent_required
from tickets.models import Customer, CustomerMerge, Message, Team, Ticket


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _answer(request, pk, *, error: str = "", status: int = 200, level=flash.ERROR, **data):
    if _wants_json(request):
        body = {"ok": not error, **data}
        if error:
            body["error"] = error
        return JsonResponse(body, status=status if error else 200)
    if error:
        flash.add_message(request, level, error)
    return redirect("console:ticket", pk=pk)


def _ticket_for_write(request, pk) -> Ticket:
    if not policy.can_see_ticket(request.user, pk):
        raise PermissionDenied
    return get_object_or_404(Ticket.objects.select_related("customer"), pk=pk)


def _int(value):
    return int(value) if value and str(value).isdigit() else None


@require_POST
@agent_required
def post_reply(request, pk):
    ticket = _ticket_for_write(request, pk)
    text = request.POST.get("text", "")
    meta = {}
    cc = [a.strip() for a in request.POST.get("cc", "").replace(";", ",").split(",") if a.strip()]
    if cc:
        meta["cc"] = cc
    if request.POST.get("template"):
        variables = {k[len("var_"):]: v for k, v in request.POST.items() if k.startswith("var_")}
        meta["template"] = {"id": request.POST["template"], "variables": variables}
    files = [InboundAttachment(filename=f.name, content_type=f.content_type or "application/octet-stream",
                               content=f.read()) for f in request.FILES.getlist("attachments")]
    try:
        message = services.reply(
            ticket, author=request.user, text=text, channel=request.POST.get("channel") or None,
            client_id=request.POST.get("client_id") or None, subject=request.POST.get("subject", ""),
            attachments=files, seen_seq=_int(request.POST.get("seen_seq")), meta=meta or None,
        )
    except services.StaleReply as stale:
        # Held, not sent: the agent reviews what landed, then sends again (their draft stays).
        request.session[f"draft-{pk}"] = text
        return _answer(request, pk, error=str(stale.reason), status=409, level=flash.WARNING, stale=True,
                       events=stale.events)
    except services.ReplyRefused as refused:
        request.session[f"draft-{pk}"] = text
        return _answer(request, pk, error=str(refused.reason), status=400)
    return _answer(request, pk, message=message.pk, status=message.status)


@require_POST
@agent_required
def post_note(request, pk):
    ticket = _ticket_for_write(request, pk)
    try:
        message = services.note_with_mentions(ticket, author=request.user, text=request.POST.get("text", ""),
                                              client_id=request.POST.get("client_id") or None)
    except services.ReplyRefused as refused:
        return _answer(request, pk, error=str(refused.reason), status=400)
    return _answer(request, pk, message=message.pk)


@require_POST
@agent_required
def post_status(request, pk):
    ticket = _ticket_for_write(request, pk)
    try:
        services.set_status(ticket, request.POST.get("status", ""), actor=request.user)
    except ValueError:
        return _answer(request, pk, error=_("Unknown status."), status=400)
    return _answer(request, pk)


@require_POST
@agent_required
def post_priority(request, pk):
    ticket = _ticket_for_write(request, pk)
    try:
        services.set_priority(ticket, int(request.POST.get("priority", "")), actor=request.user)
    except ValueError:
        return _answer(request, pk, error=_("Unknown priority."), status=400)
    return _answer(request, pk)


@require_POST
@agent_required
def post_assign(request, pk):
    ticket = _ticket_for_write(request, pk)
    assignee_id = _int(request.POST.get("assignee"))
    if request.POST.get("assignee") == "me":
        assignee_id = request.user.pk
    assignee = get_user_model().objects.filter(pk=assignee_id, is_active=True).first() if assignee_id else None
    # assign() leaves the team as it is when given none (moving a ticket out of every team is
    # an admin's job).
    team_id = _int(request.POST.get("team"))
    team = Team.objects.filter(pk=team_id).first() if team_id else None
    if assignee is not None and not policy.can_be_assigned(assignee, team.pk if team else ticket.team_id):
        return _answer(request, pk, status=400, error=_(
            "%(name)s cannot take this ticket: assignees are agents of the ticket's team.") % {"name": assignee})
    services.assign(ticket, assignee=assignee, team=team, actor=request.user)
    return _answer(request, pk)


@require_POST
@agent_required
def post_customer(request, pk):
    """The customer's profile from the ticket page's sidebar."""
    ticket = _ticket_for_write(request, pk)
    if not policy.can_change_customer(request.user, ticket.customer_id):
        raise PermissionDenied
    try:
        services.update_customer(ticket.customer, actor=request.user, ticket=ticket, name=request.POST.get("name"),
                                 organisation=request.POST.get("organisation"), notes=request.POST.get("notes"))
    except ValueError as exc:
        return _answer(request, pk, error=str(exc), status=400)
    return _answer(request, pk)


@require_POST
@agent_required
def post_tags(request, pk):
    ticket = _ticket_for_write(request, pk)
    names = [n.strip() for n in request.POST.get("tags", "").split(",") if n.strip()]
    services.set_tags(ticket, names, actor=request.user)
    return _answer(request, pk)


@require_POST
@agent_required
def post_retry(request, pk):
    message = get_object_or_404(Message, pk=pk, direction=Message.Direction.OUTBOUND)
    if not policy.can_see_ticket(request.user, message.ticket_id):
        raise PermissionDenied
    services.retry_delivery(message, actor=request.user)
    return _answer(request, message.ticket_id)


@require_POST
@agent_required
def post_move(request, pk):
    message = get_object_or_404(Message, pk=pk)
    target_id = _int(request.POST.get("ticket", "").lstrip("#"))
    if not policy.can_see_ticket(request.user, message.ticket_id) or (
            target_id and not policy.can_see_ticket(request.user, target_id)):
        raise PermissionDenied
    target = Ticket.objects.filter(pk=target_id).first()
    if target is None:
        return _answer(request, message.ticket_id, error=_("No such ticket."), status=400)
    try:
        services.move_message(message, target, actor=request.user)
    except services.ReplyRefused as refused:
        return _answer(request, message.ticket_id, error=str(refused.reason), status=400)
    return _answer(request, message.ticket_id)


@require_POST
@agent_required
def post_merge(request, pk):
    """Merge another customer (named by number, or by one of their addresses) into this
    ticket's customer. Audited and undoable (post_unmerge)."""
    ticket = _ticket_for_write(request, pk)
    other = request.POST.get("customer", "").strip().lstrip("#")
    # A customer the agent may not see is "no match": the answer must not tell them apart.
    source = (Customer.objects.filter(Q(pk=int(other)) if other.isdigit() else Q(identities__address__iexact=other))
              .filter(policy.visible_customers(request.user))
              .exclude(pk=ticket.customer_id).first() if other else None)
    if source is None:
        return _answer(request, pk, error=_("No other customer matches %(q)s.") % {"q": other}, status=400)
    if not policy.can_merge_customers(request.user, source.pk, ticket.customer_id):
        return _answer(request, pk, status=403, error=_(
            "You may not merge these customers: it needs the permission to change customers and "
            "access to every ticket of both."))
    try:
        merge = services.merge_customers(source, ticket.customer, actor=request.user,
                                         reason=request.POST.get("reason", ""))
    except ValueError as exc:
        return _answer(request, pk, error=str(exc), status=400)
    if not _wants_json(request):
        flash.success(request, _("Merged %(source)s into %(target)s.") % {"source": source, "target": ticket.customer})
    return _answer(request, pk, merge=merge.pk)


@require_POST
@agent_required
def post_unmerge(request, pk):
    merge = get_object_or_404(CustomerMerge, pk=pk)
    if not policy.can_undo_merge(request.user, merge):
        raise PermissionDenied
    customer_id = _int(request.POST.get("customer"))  # undone from the customer's profile page
    ticket_id = _int(request.POST.get("ticket")) or (merge.moved.get("tickets") or [None])[0]
    try:
        services.undo_merge(merge, actor=request.user)
    except ValueError as exc:
        if customer_id and not _wants_json(request):
            flash.error(request, str(exc))
            return redirect("console:customer_profile", pk=customer_id)
        if ticket_id is None:
            raise PermissionDenied(str(exc)) from exc
        return _answer(request, ticket_id, error=str(exc), status=409)
    if customer_id and not _wants_json(request):
        return redirect("console:customer_profile", pk=customer_id)
    if ticket_id is None:
        return redirect("console:queue")
    return _answer(request, ticket_id)
