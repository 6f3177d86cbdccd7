"""The console's mailbox settings screen (admins): list with health, add/edit, test the
connection, connect with Google / Microsoft, and the OAuth callback."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mailboxes import addresses, health, imap, oauth
from mailboxes.forms import MailboxForm
from mailboxes.models import Mailbox

log = logging.getLogger(__name__)
def admin_required(view):
    """Signed out: the login page, as every console page; signed in without the permission: 403."""
    return login_required(permission_required("mailboxes.change_mailbox", raise_exception=True)(view))


@require_GET
@admin_required
def mailbox_list(request):
    rows = [{"mailbox": m, "status": health.status(m), "today": health.imported_today(m)}
            for m in Mailbox.objects.select_related("team")]
    return render(request, "mailboxes/list.html", {"rows": rows, "now": timezone.now()})


@require_http_methods(["GET", "POST"])
@admin_required
def mailbox_edit(request, pk=None):
    mailbox = get_object_or_404(Mailbox, pk=pk) if pk else None
    form = MailboxForm(request.POST or None, instance=mailbox)
    if request.method == "POST" and form.is_valid():
        mailbox = form.save()
        addresses.forget()
        log.info("mailbox %s saved by %s", mailbox.pk, request.user)
        if mailbox.uses_oauth and not mailbox.oauth_refresh_encrypted:
            return redirect("mailboxes:oauth_start", pk=mailbox.pk)
        messages.success(request, _("Mailbox saved."))
        return redirect("mailboxes:list")
    return render(request, "mailboxes/edit.html", {"form": form, "mailbox": mailbox})


@require_POST
@admin_required
def mailbox_delete(request, pk):
    mailbox = get_object_or_404(Mailbox, pk=pk)
    mailbox.delete()
    addresses.forget()
    messages.success(request, _("Mailbox %(address)s removed; its tickets stay.") % {"address": mailbox.address})
    return redirect("mailboxes:list")


@require_POST
@admin_required
def mailbox_test(request, pk):
    """Log in and open the folder now, and say what happened in plain words."""
    mailbox = get_object_or_404(Mailbox, pk=pk)
    try:
        client = imap.connect(mailbox)
        try:
            imap.select(client, mailbox, mailbox.folder or "INBOX")
            idle = client.has_capability("IDLE")
        finally:
            imap.close(client)
    except oauth.OAuthError as exc:
        messages.error(request, str(exc))
    except Exception as exc:  # noqa: BLE001 - shown to the admin in plain words
        messages.error(request, imap.explain(exc))
    else:
        messages.success(request, _("Connected and opened “%(folder)s”. New mail arrives %(how)s.") % {
            "folder": mailbox.folder, "how": _("within seconds (IDLE)") if idle else _("by polling")})
        Mailbox.objects.filter(pk=mailbox.pk).update(next_attempt_at=None)
    return redirect("mailboxes:list")


@require_GET
@admin_required
def oauth_start(request, pk):
    mailbox = get_object_or_404(Mailbox, pk=pk)
    try:
        return redirect(oauth.consent_url(mailbox))
    except oauth.OAuthError as exc:
        messages.error(request, str(exc))
        return redirect("mailboxes:list")


@require_GET
@admin_required
def oauth_callback(request):
    try:
        mailbox = oauth.mailbox_from_state(request.GET.get("state", ""))
    except (oauth.OAuthError, Mailbox.DoesNotExist) as exc:
        messages.error(request, str(exc) or _("Unknown mailbox."))
        return redirect("mailboxes:list")
    if request.GET.get("error"):
        messages.error(request, _("Sign-in was not granted: %(error)s %(detail)s") % {
            "error": request.GET["error"], "detail": request.GET.get("error_description", "")})
        return redirect("mailboxes:list")
    try:
        oauth.complete_consent(mailbox, request.GET.get("code", ""))
    except oauth.OAuthError as exc:
        messages.error(request, str(exc))
    else:
        Mailbox.objects.filter(pk=mailbox.pk).update(next_attempt_at=None, failures=0)
        messages.success(request, _("%(address)s is connected.") % {"address": mailbox.address})
    return redirect("mailboxes:list")
