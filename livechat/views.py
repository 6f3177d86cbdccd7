"""HTTP side of the widget: the script itself, the demo page, and the few calls that are not on
the socket (start a session, upload a file, download a file). Cross-origin calls are allowed
only from the inbox's origins (CORS); credentials are a Bearer visitor token, never cookies."""

from __future__ import annotations

import mimetypes
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from livechat import conversation, online, origins, ratelimit, visitors, widget_strings
from livechat.models import Inbox
from tickets import safejson
from tickets.channels import InboundAttachment
from tickets.files import normalise_filename

SAFE_IMAGES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
WIDGET = Path(__file__).resolve().parent / "static" / "livechat" / "widget.js"


@gzip_page
@require_GET
def widget_js(request):
    response = HttpResponse(WIDGET.read_bytes(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"  # a public script; lets sites use SRI/crossorigin
    return response


def demo(request):
    inbox = Inbox.objects.filter(key=request.GET.get("inbox", "demo")).first()
    return render(request, "livechat/demo.html", {"inbox": inbox, "page": request.GET.get("page", "1")})


# --- the JSON API --------------------------------------------------------------------------------

def error(reason, status=400):
    return JsonResponse({"error": reason}, status=status)


def api(view):
    """CORS for the inbox's origins, preflight, and the Bearer visitor token when needed."""

    @csrf_exempt  # no cookies are read: the token in the Authorization header is the credential
    @wraps(view)
    def wrapper(request, inbox_key, *args, **kwargs):
        inbox = get_object_or_404(Inbox, key=inbox_key, is_active=True)
        origin = request.headers.get("Origin", "")
        if origin and not origins.allowed(inbox, origin, request.get_host()):
            return error(_("This website may not use this chat."), 403)
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
            response["Access-Control-Max-Age"] = "600"
        else:
            try:
                response = view(request, inbox, *args, **kwargs)
            except visitors.InvalidToken:
                response = error(_("Your chat session has expired. Please reload the page."), 401)
            except conversation.Refused as refused:
                response = error(refused.reason, refused.status)
        if origin:
            response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
        response["Cache-Control"] = "no-store"
        return response

    return wrapper


def visitor(request, inbox):
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    return visitors.session_for_token(token, inbox.key)


def config(inbox, session) -> dict:
    return {
        "title": inbox.title, "greeting": inbox.greeting, "offline_message": inbox.offline_message,
        "online": online.is_online(inbox.key),
        "prechat": inbox.prechat_enabled and not session.email,
        "prechat_require_email": inbox.prechat_require_email,
        "max_upload_bytes": inbox.max_upload_bytes, "upload_types": inbox.upload_type_list(),
        "name": session.name, "has_email": bool(session.email),
        "max_message_chars": settings.LIVECHAT_MAX_MESSAGE_CHARS,
        **widget_strings.translated(),  # the widget's words in the visitor's language
    }


def _web_url(value) -> str:
    """A page address the visitor's browser reported, if it is one (http/https): an agent clicks it."""
    value = str(value or "").strip()
    return value if value.lower().startswith(("http://", "https://")) else ""


@api
def start_session(request, inbox):
    """POST {token?, user_id?, user_hash?, page?, referrer?} -> {token, config}: resume or start a chat."""
    if request.method != "POST":
        return error(_("POST only."), 405)
    client_ip = request.META.get("REMOTE_ADDR", "")
    if not ratelimit.allow(f"session:{client_ip}", 60):
        return error(_("Too many requests. Please wait a moment."), 429)
    try:
        body = safejson.loads(request.body or b"{}", expect=dict)
    except safejson.BadJson as exc:
        return error(_("Malformed request: %(reason)s") % {"reason": exc.reason})
    try:
        session = visitors.open_session(inbox, token=str(body.get("token") or ""),
                                        user_id=str(body.get("user_id") or ""),
                                        given_hash=str(body.get("user_hash") or ""),
                                        page_url=_web_url(body.get("page")),
                                        referrer=_web_url(body.get("referrer")),
                                        user_agent=request.headers.get("User-Agent", ""))
    except visitors.InvalidToken:
        return error(_("This user could not be verified (user_hash does not match user_id)."), 403)
    return JsonResponse({"token": visitors.make_token(session), "config": config(inbox, session)})


@api
def upload(request, inbox):
    """POST multipart {file, client_id, text?} with the Bearer token: a message with a file."""
    if request.method != "POST":
        return error(_("POST only."), 405)
    session = visitor(request, inbox)
    if not ratelimit.allow(f"send:{session.address}", settings.LIVECHAT_RATE_LIMIT_PER_MINUTE):
        return error(_("You are sending messages too fast. Please wait a moment."), 429)
    upload = request.FILES.get("file")
    if upload is None:
        return error(_("No file was sent."))
    name = normalise_filename(upload.name, upload.content_type or "")
    content_type = (mimetypes.guess_type(name)[0] or upload.content_type or "").lower()
    if content_type not in inbox.upload_type_list():
        return error(_("Files of this type (%(type)s) cannot be sent here.")
                     % {"type": content_type or _("unknown")}, 415)
    if upload.size > inbox.max_upload_bytes:
        return error(_("The file is too large (%(size)s MB; at most %(max)s MB).")
                     % {"size": round(upload.size / 1048576, 1),
                        "max": round(inbox.max_upload_bytes / 1048576, 1)}, 413)
    message = conversation.send(session, request.POST.get("client_id"), request.POST.get("text", ""),
                                attachments=(InboundAttachment(filename=name, content_type=content_type,
                                                               content=upload.read()),),
                                language=request.headers.get("Accept-Language", ""))
    return JsonResponse({"id": message.pk, "ticket": message.ticket_id,
                         "created_at": message.created_at.isoformat()}, status=201)


@api
def attachment(request, inbox, pk):
    """A file of the visitor's own conversation, always as a download (never rendered here)."""
    session = visitor(request, inbox)
    item = conversation.visible_attachment(session, pk)
    response = FileResponse(item.file.open("rb"), as_attachment=True, filename=item.filename,
                            content_type=item.content_type if item.content_type in SAFE_IMAGES
                            else "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
