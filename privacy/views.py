"""The console's data-rights page for one customer (admins: the privacy permissions): what is
held, an export download, and the erase form. Views parse, authorise, call one action, render."""

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from privacy import actions
from privacy.export import export_filename
from privacy.models import PrivacyRequest
from tickets.console.views import agent_required
from tickets.models import Customer, Message, Ticket
from tickets.services.erasure import family


def _require(user, *perms):
    if not any(user.has_perm(f"privacy.{perm}") for perm in perms):
        raise PermissionDenied


@require_GET
@agent_required
def customer_privacy(request, pk):
    _require(request.user, "export_customer", "erase_customer")
    customer = get_object_or_404(Customer, pk=pk)
    ids = family(customer)
    return render(request, "privacy/customer.html", {
        "customer": customer,
        "identities": customer.identities.order_by("channel", "address"),
        "merged": Customer.objects.filter(pk__in=ids).exclude(pk=customer.pk),
        "ticket_count": Ticket.objects.filter(customer_id__in=ids).count(),
        "message_count": Message.objects.filter(customer_id__in=ids).count(),
        "requests": PrivacyRequest.objects.filter(customer_id=customer.pk).select_related("actor")[:20],
        "can_export": request.user.has_perm("privacy.export_customer"),
        "can_erase": request.user.has_perm("privacy.erase_customer"),
    })


@require_GET
@agent_required
def export_customer(request, pk):
    _require(request.user, "export_customer")
    customer = get_object_or_404(Customer, pk=pk)
    try:
        archive = actions.export(customer, actor=request.user, via=PrivacyRequest.Via.CONSOLE)
    except actions.Refused as exc:
        flash.error(request, str(exc))
        return redirect("privacy:customer", pk=pk)
    return FileResponse(archive, as_attachment=True, filename=export_filename(customer),
                        content_type="application/zip")


@require_POST
@agent_required
def erase_customer(request, pk):
    _require(request.user, "erase_customer")
    customer = get_object_or_404(Customer, pk=pk)
    if request.POST.get("confirm", "").strip().lstrip("#") != str(customer.pk):
        flash.error(request, _("Type the customer number to confirm the erasure. Nothing was erased."))
        return redirect("privacy:customer", pk=pk)
    try:
        record = actions.erase(customer, actor=request.user, via=PrivacyRequest.Via.CONSOLE)
    except actions.Refused as exc:
        flash.error(request, str(exc))
        return redirect("privacy:customer", pk=pk)
    flash.success(request, _("Customer %(id)s was erased (audit record %(record)s).")
                  % {"id": customer.pk, "record": record.pk})
    return redirect("privacy:customer", pk=pk)
