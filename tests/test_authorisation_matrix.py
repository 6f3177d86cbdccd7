"""The authorisation matrix: every HTTP route of the URL configuration (walked from the
resolver) and every websocket route (from helpdesk.asgi), requested as every role, against the
outcome the policy (tickets.policy) promises. A route without an entry fails
`test_every_route_has_an_entry`, whose message prints the line to add to ROUTES / WS_ROUTES.

Reading an entry: `"GET console/tickets/<int:pk>/": Row(CONSOLE_OTHER_TEAM, pk="hidden_ticket")`
requests that route with `pk` set to the `hidden_ticket` object of the world below (a ticket of
a team the restricted agent is not in), once per role, and expects each role's outcome from the
CONSOLE_OTHER_TEAM profile. Writes send a valid body where the API validates it before it
authorises (otherwise a 422 would hide a missing check)."""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib import admin
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse

from customer_pictures.fetching import store
from mailboxes.models import Mailbox
from notifications.models import Notification
from routing.models import Macro, Rule
from saved_views.models import SavedView
from service_levels.models import Policy, Schedule
from tests.factories import attachment, inbound
from tests.fakes.api import create_token
from tests.livechat_helpers import ORIGIN, make_inbox, make_visitor
from tests.test_livechat_http import PNG
from tickets import services
from tickets.console import inline_images
from tickets.models import Message, Team

# -- outcomes -----------------------------------------------------------------------------------
OK = "ok"                # got past authorisation (2xx, 3xx other than to a login page, or 400/409/422 on input)
LOGIN = "login"          # redirected to a login page
DENIED = "denied"        # 403, or 404 where hiding existence is the rule
UNAUTHENTICATED = "401"  # the API without a usable token
REFUSED = "refused"      # any 4xx: no provider signature / visitor token, whoever asks

ROLES = ["anonymous", "visitor", "user", "restricted", "agent", "admin",
         "token:user", "token:restricted", "token:agent", "token:admin"]


def profile(default, **by_role):
    unknown = set(by_role) - {r.replace(":", "_") for r in ROLES}
    assert not unknown, unknown
    return {role: by_role.get(role.replace(":", "_"), default) for role in ROLES}


# -- profiles: who gets what --------------------------------------------------------------------
PUBLIC = profile(OK)
# The console is session-only: a bearer token means nothing there.
CONSOLE = profile(LOGIN, user=DENIED, restricted=OK, agent=OK, admin=OK)
CONSOLE_OTHER_TEAM = {**CONSOLE, "restricted": DENIED}
API = profile(UNAUTHENTICATED, token_user=DENIED, token_restricted=OK, token_agent=OK, token_admin=OK)
API_OTHER_TEAM = {**API, "token:restricted": DENIED}
PROVIDER = profile(REFUSED)  # webhooks: only the provider's signature counts
CHAT_VISITOR = profile(REFUSED, visitor=OK)  # the visitor's own bearer token
NOBODY = profile(DENIED)
# Agents are not staff by default: only the admin gets past the admin's login.
ADMIN = profile(LOGIN, admin=OK)
# Console screens behind a permission agents do not have (data rights, mailboxes, a team
# lead's settings such as surveys.change_surveysettings): in this world the admin (a superuser) only.
CONSOLE_PERMISSION = profile(LOGIN, user=DENIED, restricted=DENIED, agent=DENIED, admin=OK)
TEAM_LEAD_CONSOLE = CONSOLE_PERMISSION
# Things one agent owns (a notification, a personal saved view): the owner only; another agent,
# even one who sees every team (the admin), gets a 403/404.
OWNER_ONLY = profile(LOGIN, user=DENIED, restricted=DENIED, agent=OK, admin=DENIED)
PRIVACY_API = profile(UNAUTHENTICATED, token_user=DENIED, token_restricted=DENIED, token_agent=DENIED,
                      token_admin=OK)
# Reports need reports.view_reports (team leads in the demo; agents do not have it).
REPORTS_API = PRIVACY_API


@dataclass
class Row:
    expect: dict  # a profile: role -> outcome
    body: dict | None = None  # JSON body (API), form data (console) or query (GET); "$name": a world object
    args: dict = field(default_factory=dict)  # URL parameter -> name of a world object

    def __init__(self, expect, body=None, **args):
        self.expect, self.body, self.args = expect, body, args


# One entry per route (and method). Keys are "METHOD route" as Django spells the route; a key
# with * is a glob over several generated routes.
ROUTES = {
    "GET ": Row(PUBLIC),  # redirect to the console
    "GET login/": Row(PUBLIC),
    "POST logout/": Row(profile(LOGIN)),  # everyone ends on the login page
    "GET jsi18n/": Row(PUBLIC),
    "GET favicon.ico": Row(PUBLIC),
    "GET console/preferences/": Row(CONSOLE),
    "POST console/preferences/": Row(CONSOLE, {"time_zone": "Europe/Paris", "language": ""}),
    "GET admin/*": Row(ADMIN),
    "GET console/": Row(CONSOLE),
    "GET console/search/": Row(CONSOLE, body={"q": "mallory"}),
    "GET console/tickets/<int:pk>/": Row(CONSOLE_OTHER_TEAM, pk="hidden_ticket"),
    "GET console/tickets/<int:pk>/timeline/": Row(CONSOLE_OTHER_TEAM, body={"m": "$hidden_message"}, pk="hidden_ticket"),
    "GET console/customers/<int:pk>/": Row(CONSOLE_OTHER_TEAM, pk="hidden_customer"),
    "GET console/pictures/<int:pk>/": Row(CONSOLE_OTHER_TEAM, pk="hidden_picture"),  # a customer's picture
    "GET console/tickets/<int:pk>/compose/": Row(CONSOLE_OTHER_TEAM, body={"channel": "fake"}, pk="hidden_ticket"),
    "POST console/tickets/<int:pk>/reply/": Row(CONSOLE_OTHER_TEAM, pk="hidden_ticket"),
    "POST console/tickets/<int:pk>/note/": Row(CONSOLE_OTHER_TEAM, pk="hidden_ticket"),
    "POST console/tickets/<int:pk>/status/": Row(CONSOLE_OTHER_TEAM, pk="hidden_ticket"),
    "POST console/tickets/<int:pk>/priority/": Row(CONSOLE_OTHER_TEAM, pk="hidden_ticket"),
    "POST console/tickets/<int:pk>/assign/": Row(CONSOLE_OTHER_TEAM, pk="hidden_ticket"),
    "POST console/tickets/<int:pk>/tags/": Row(CONSOLE_OTHER_TEAM, pk="hidden_ticket"),
    "POST console/tickets/<int:pk>/customer/": Row(CONSOLE_OTHER_TEAM, pk="hidden_ticket"),
    "POST console/tickets/<int:pk>/merge/": Row(CONSOLE_OTHER_TEAM, pk="hidden_ticket"),
    "POST console/merges/<int:pk>/undo/": Row(CONSOLE_OTHER_TEAM, pk="hidden_merge"),
    "POST console/messages/<int:pk>/retry/": Row(CONSOLE_OTHER_TEAM, pk="hidden_failed_reply"),
    "POST console/messages/<int:pk>/move/": Row(CONSOLE_OTHER_TEAM, pk="hidden_message"),
    "GET console/messages/<int:pk>/body/": Row(CONSOLE_OTHER_TEAM, pk="hidden_message"),
    "GET attachments/<int:pk>/": Row(CONSOLE_OTHER_TEAM, pk="hidden_attachment"),
    # A signed URL minted for the restricted agent, of another team's image: re-checked when
    # served, so nobody gets it (the frame sends no cookie: the session does not matter).
    "GET attachments/inline/<int:pk>/<str:token>/": Row(NOBODY, pk="hidden_attachment", token="inline_token"),
    "GET console/customers/<int:pk>/privacy/": Row(CONSOLE_PERMISSION, pk="hidden_customer"),
    "GET console/customers/<int:pk>/privacy/export/": Row(CONSOLE_PERMISSION, pk="hidden_customer"),
    # No confirmation in the body: the admin gets the form back, nothing is erased.
    "POST console/customers/<int:pk>/privacy/erase/": Row(CONSOLE_PERMISSION, pk="hidden_customer"),
    "GET api/v1/customers/<customer_id>/export": Row(PRIVACY_API, customer_id="hidden_customer"),
    # `confirm` names another customer: the admin gets a 422, nothing is erased.
    "POST api/v1/customers/<customer_id>/erase": Row(PRIVACY_API, {"confirm": "$visible_customer"},
                                                     customer_id="hidden_customer"),
    "GET console/mailboxes/": Row(CONSOLE_PERMISSION),
    "GET console/mailboxes/new/": Row(CONSOLE_PERMISSION),
    "GET console/mailboxes/<int:pk>/": Row(CONSOLE_PERMISSION, pk="mailbox"),
    "POST console/mailboxes/<int:pk>/delete/": Row(CONSOLE_PERMISSION, pk="mailbox"),
    "POST console/mailboxes/<int:pk>/test/": Row(CONSOLE_PERMISSION, pk="mailbox"),  # a closed port: fails fast
    "GET console/mailboxes/<int:pk>/connect/": Row(CONSOLE_PERMISSION, pk="mailbox"),
    "GET console/mailboxes/oauth/callback/": Row(CONSOLE_PERMISSION),
    "GET console/sla/": Row(CONSOLE),
    "GET console/sla/badges/": Row(CONSOLE, body={"ids": "$hidden_ticket"}),  # others' tickets are left out
    "GET console/sla/tickets/<int:pk>/": Row(CONSOLE_OTHER_TEAM, pk="hidden_ticket"),
    "GET console/sla/settings/": Row(CONSOLE_PERMISSION),
    "POST console/sla/settings/action/": Row(CONSOLE_PERMISSION),
    "GET console/sla/settings/schedules/new/": Row(CONSOLE_PERMISSION),
    "GET console/sla/settings/schedules/<int:pk>/": Row(CONSOLE_PERMISSION, pk="schedule"),
    "GET console/sla/settings/policies/new/": Row(CONSOLE_PERMISSION),
    "GET console/sla/settings/policies/<int:pk>/": Row(CONSOLE_PERMISSION, pk="policy"),
    "POST console/routing/availability/": Row(CONSOLE, body={"status": "away"}),
    "POST console/routing/heartbeat/": Row(CONSOLE),
    "GET console/routing/agents/": Row(CONSOLE),
    "GET console/routing/": Row(CONSOLE_PERMISSION),
    "GET console/routing/rules/new/": Row(CONSOLE_PERMISSION),
    "GET console/routing/rules/<int:pk>/": Row(CONSOLE_PERMISSION, pk="rule"),
    "GET console/routing/macros/": Row(CONSOLE),
    "GET console/routing/macros/new/": Row(CONSOLE),
    # The world's macro is shared: editing it is a team lead's (routing.change_macro).
    "GET console/routing/macros/<int:pk>/": Row(CONSOLE_PERMISSION, pk="macro"),
    "POST console/routing/macros/<int:pk>/delete/": Row(CONSOLE_PERMISSION, pk="macro"),
    "GET console/routing/tickets/<int:pk>/macros/": Row(CONSOLE_OTHER_TEAM, pk="hidden_ticket"),
    "POST console/routing/tickets/<int:pk>/macros/<int:macro_id>/": Row(CONSOLE_OTHER_TEAM, pk="hidden_ticket",
                                                                      macro_id="macro"),
    "POST console/routing/tickets/<int:pk>/snooze/": Row(CONSOLE_OTHER_TEAM, pk="hidden_ticket"),
    # Bulk: each ticket is authorised on its own (another team's ticket is refused in the result).
    "POST console/routing/bulk/": Row(CONSOLE, body={"ids": "$hidden_ticket", "action": "status", "value": "open"}),
    "GET console/routing/bulk/options/": Row(CONSOLE),
    # The Reports pages need reports.view_reports (team leads; the admin here). Figures are read
    # through the user's visibility (reports.sources), so a restricted lead sees their teams only.
    "GET console/reports/": Row(TEAM_LEAD_CONSOLE, body={"period": "7d", "by": "team"}),
    "GET console/reports/drill/": Row(TEAM_LEAD_CONSOLE, body={"period": "7d", "figure": "created"}),
    "GET console/reports/drill.csv": Row(TEAM_LEAD_CONSOLE, body={"period": "7d", "figure": "created"}),
    "GET console/reports/table.csv": Row(TEAM_LEAD_CONSOLE, body={"period": "7d", "table": "volume"}),
    "GET api/v1/reports/summary": Row(REPORTS_API),
    "GET api/v1/reports/series": Row(REPORTS_API, body={"figure": "created"}),
    "GET api/v1/reports/breakdown": Row(REPORTS_API, body={"figure": "csat", "by": "agent"}),
    "GET api/v1/reports/drill": Row(REPORTS_API, body={"figure": "backlog"}),
    "GET api/v1/openapi.json": Row(PUBLIC),
    "GET api/v1/docs": Row(PUBLIC),
    "GET api/v1/": Row(NOBODY),  # django-ninja's empty root: 404
    "GET api/v1/me": Row(API),
    "GET api/v1/customers": Row(API),
    "GET api/v1/customers/<customer_id>": Row(API_OTHER_TEAM, customer_id="hidden_customer"),
    "GET api/v1/customers/<customer_id>/messages": Row(API_OTHER_TEAM, customer_id="hidden_customer"),
    "POST api/v1/customers/<customer_id>/merge": Row(API_OTHER_TEAM, {"into": "$visible_customer"},
                                                     customer_id="hidden_customer"),
    "GET api/v1/tickets": Row(API),
    "POST api/v1/tickets": Row(API_OTHER_TEAM, {"customer": "$hidden_customer", "internal_note": "x"}),
    "GET api/v1/tickets/<ticket_id>": Row(API_OTHER_TEAM, ticket_id="hidden_ticket"),
    "GET api/v1/tickets/<ticket_id>/messages": Row(API_OTHER_TEAM, ticket_id="hidden_ticket"),
    "POST api/v1/tickets/<ticket_id>/messages": Row(API_OTHER_TEAM, {"text": "hi"}, ticket_id="hidden_ticket"),
    "POST api/v1/tickets/<ticket_id>/notes": Row(API_OTHER_TEAM, {"text": "hi"}, ticket_id="hidden_ticket"),
    "POST api/v1/tickets/<ticket_id>/assign": Row(API_OTHER_TEAM, {"assignee": None},
                                                  ticket_id="hidden_ticket"),
    "POST api/v1/tickets/<ticket_id>/status": Row(API_OTHER_TEAM, {"status": "open"},
                                                  ticket_id="hidden_ticket"),
    "POST api/v1/tickets/<ticket_id>/priority": Row(API_OTHER_TEAM, {"priority": 3},
                                                    ticket_id="hidden_ticket"),
    "POST anymail/*": Row(PROVIDER),
    "POST ^anymail/*": Row(PROVIDER),
    "POST channels/fake/": Row(PROVIDER),
    "POST channels/fakesms/": Row(PROVIDER),
    "POST channels/twilio/sms/": Row(PROVIDER),
    "POST channels/twilio/whatsapp/": Row(PROVIDER),
    "POST channels/twilio/status/": Row(PROVIDER),
    "GET channels/twilio/media/<str:token>/": Row(PROVIDER, token="forged"),
    "POST channels/meta/webhook/": Row(PROVIDER),
    "GET channels/meta/webhook/": Row(PROVIDER),
    "POST channels/telegram/webhook/": Row(PROVIDER),
    "GET chat/widget.js": Row(PUBLIC),
    "GET chat/demo/": Row(PUBLIC),
    "POST chat/api/<slug:inbox_key>/session/": Row(PUBLIC, {}, inbox_key="inbox_key"),
    "POST chat/api/<slug:inbox_key>/upload/": Row(CHAT_VISITOR, inbox_key="inbox_key"),
    "GET chat/api/<slug:inbox_key>/attachments/<int:pk>/": Row(CHAT_VISITOR, inbox_key="inbox_key",
                                                               pk="visitor_attachment"),
    # Surveys: the signed link is the only credential (a forged one is refused to everyone); the
    # settings screen needs surveys.change_surveysettings (team leads; the admin here).
    "GET surveys/<str:token>/": Row(PROVIDER, token="forged"),
    "POST surveys/<str:token>/": Row(PROVIDER, {"rating": "5"}, token="forged"),
    "GET console/surveys/settings/": Row(TEAM_LEAD_CONSOLE),
    # Notifications: each agent's own; following one re-checks the ticket (tickets.policy).
    "GET console/notifications/": Row(CONSOLE),
    "GET console/notifications/recent/": Row(CONSOLE),
    "POST console/notifications/read/": Row(CONSOLE, {"all": "1"}),
    "GET console/notifications/<int:pk>/": Row(OWNER_ONLY, pk="agent_notification"),
    # Saved views: any agent saves their own; only the owner changes or deletes one.
    "POST console/views/": Row(CONSOLE, {"name": "Mine on email", "channel": "email"}),
    "POST console/views/<int:pk>/": Row(OWNER_ONLY, {"name": "Renamed"}, pk="agent_view"),
    "POST console/views/<int:pk>/delete/": Row(OWNER_ONLY, pk="agent_view"),
    "POST console/surveys/settings/": Row(TEAM_LEAD_CONSOLE, {"delay_minutes": "x"}),
}

# Websocket routes (helpdesk.asgi): roles expecting OK must be accepted and authenticated, every
# other role closed (a socket has no login page). Team scoping on the socket is per event
# (test_permissions, test_authorisation).
WS_ROUTES = {
    "ws/console/": CONSOLE,
    "ws/chat/<slug:inbox>/": CHAT_VISITOR,
}


# -- the routes, as configured ------------------------------------------------------------------

def http_routes() -> list[str]:
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    return list(dict.fromkeys(walk(get_resolver().url_patterns)))


def ws_routes() -> list[str]:
    from helpdesk.asgi import application

    return [str(route.pattern) for route in application.application_mapping["websocket"].routes]


def api_operations() -> list[str]:
    """The REST API per method ("POST api/v1/tickets"): one path can hold several operations."""
    from api.v1 import api

    return [f"{method} api/v1{re.sub(r'{(\w+)(:\w+)?}', r'<\1>', prefix + path)}"
            for prefix, router in api._routers for path, view in router.path_operations.items()
            for operation in view.operations for method in operation.methods]


def entries_for(route: str) -> list[str]:
    return [key for key in ROUTES if fnmatch.fnmatchcase(route, key.split(" ", 1)[1])]


def test_every_route_has_an_entry():
    missing = [route for route in http_routes() if not entries_for(route)]
    missing_api = [key for key in api_operations() if key not in ROUTES]
    missing_ws = [route for route in ws_routes() if route not in WS_ROUTES]
    hint = "".join(f'\n    "GET {r}": Row(<PROFILE>, <url parameter>="<world object>"),   # or "POST {r}"'
                   for r in missing)
    hint += "".join(f'\n    "{key}": Row(<PROFILE>, <valid JSON body>, <url parameter>="<world object>"),'
                    for key in missing_api)
    hint += "".join(f'\n    "{r}": <PROFILE>,   # in WS_ROUTES' for r in missing_ws)
    assert not (missing or missing_api or missing_ws), (
        "Routes without an authorisation entry. Add one line per route to ROUTES (or WS_ROUTES) in "
        "tests/test_authorisation_matrix.py, choosing the profile of who may use it (PUBLIC, CONSOLE, "
        f"CONSOLE_OTHER_TEAM, API, API_OTHER_TEAM, PROVIDER, CHAT_VISITOR, ADMIN, NOBODY):{hint}")


def test_every_entry_names_a_route():
    routes = http_routes()
    stale = [key for key in ROUTES if not any(fnmatch.fnmatchcase(r, key.split(" ", 1)[1]) for r in routes)]
    stale += [key for key in WS_ROUTES if key not in ws_routes()]
    assert not stale, f"Entries for routes that no longer exist; remove them: {stale}"


# -- the world: one object of each kind, in a team the restricted agent is not in ----------------

@pytest.fixture
def world(agent, restricted, django_user_model, settings):
    billing = Team.objects.create(name="Billing")
    admin_user = django_user_model.objects.create_superuser("root", password="pw")
    outsider = django_user_model.objects.create_user("outsider", password="pw")  # a site user, not an agent
    hidden = services.ingest(inbound("mallory@example.com", "secret invoice", channel="fake", sender_name="Mallory",
                                     attachments=[attachment("scan.png", PNG, content_type="image/png")])).message
    services.assign(hidden.ticket, team=billing, actor=agent)
    other = services.ingest(inbound("zed@example.com", "zed", channel="fake")).message.ticket
    services.assign(other, team=billing, actor=agent)
    merge = services.merge_customers(other.customer, hidden.customer, actor=agent)
    failed = services.reply(hidden.ticket, author=agent, text="sorry", channel="fake")
    Message.objects.filter(pk=failed.pk).update(status=Message.Status.FAILED)
    visible = services.ingest(inbound("vera@example.com", "hello", channel="fake")).message
    inbox = make_inbox()
    session, visitor_token = make_visitor(inbox)
    upload = Client().post("/chat/api/shop/upload/", {"client_id": "c1", "file": _file()},
                           headers={"Authorization": f"Bearer {visitor_token}", "Origin": ORIGIN})
    assert upload.status_code == 201, upload.content
    hidden_attachment = hidden.attachments.get()
    mailbox = Mailbox.objects.create(name="Billing", address="billing@helpdesk.example.com", imap_host="127.0.0.1",
                                     imap_port=1, imap_security=Mailbox.Security.NONE, username="billing")
    schedule = Schedule.objects.create(name="Office", intervals=[])
    policy = Policy.objects.create(name="Standard", first_reply_minutes=60)
    rule = Rule.objects.create(name="VIP", actions=[])
    macro = Macro.objects.create(name="Thanks", reply="Thanks!")
    notification = Notification.objects.create(user=agent, kind="assigned", ticket_id=hidden.ticket_id, seq=1)
    saved_view = SavedView.objects.create(owner=agent, name="Billing", filters={"team": billing.pk})
    picture = store(hidden.identity_id, PNG, "image/png")
    objects = {
        "hidden_ticket": hidden.ticket_id, "hidden_message": hidden.pk, "hidden_customer": hidden.customer_id,
        "hidden_attachment": hidden_attachment.pk, "hidden_merge": merge.pk, "hidden_failed_reply": failed.pk,
        "visible_customer": visible.customer_id, "inbox_key": inbox.key, "mailbox": mailbox.pk,
        "schedule": schedule.pk, "policy": policy.pk, "rule": rule.pk, "macro": macro.pk,
        "agent_notification": notification.pk, "agent_view": saved_view.pk, "hidden_picture": picture.pk,
        "visitor_attachment": Message.objects.get(pk=upload.json()["id"]).attachments.get().pk,
        "inline_token": inline_images.image_url(hidden_attachment.pk, restricted.pk).rstrip("/").rsplit("/", 1)[1],
    }
    users = {"user": outsider, "restricted": restricted, "agent": agent, "admin": admin_user}
    return {"objects": objects, "users": users, "visitor_token": visitor_token}


def _file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("shot.png", PNG, content_type="image/png")


def client_for(role: str, world) -> tuple[Client, dict]:
    client, headers = Client(), {}
    if role == "visitor":
        headers["Authorization"] = f"Bearer {world['visitor_token']}"
    elif role.startswith("token:"):
        headers["Authorization"] = f"Bearer {create_token(world['users'][role[6:]], name=role)}"
    elif role != "anonymous":
        client.force_login(world["users"][role])
    return client, headers


def outcome(response) -> str:
    status = response.status_code
    assert status < 500, f"server error {status}"
    if status in (301, 302, 303, 307) and "login/" in response.get("Location", ""):
        return LOGIN
    if status == 401:
        return UNAUTHENTICATED
    if status in (403, 404):
        return DENIED
    if status in (405,):
        return "405"
    return OK if status < 400 or status in (400, 409, 422, 429) else REFUSED


def matches(expected: str, got: str) -> bool:
    if expected == REFUSED:
        return got in (REFUSED, DENIED, UNAUTHENTICATED)
    return expected == got


def urls_for(key: str, row: Row, world) -> list[str]:
    route = key.split(" ", 1)[1]
    if route == "admin/*":
        # The admin's own pages: its index and every registered model's list.
        return ["/admin/"] + [reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist")
                              for m in admin.site._registry]
    routes = [r for r in http_routes() if fnmatch.fnmatchcase(r, route)]
    urls = []
    for r in routes:
        r = re.sub(r"\([^)]*\)\?", "", r).lstrip("^").rstrip("$")  # regex routes: drop optional groups
        for name, obj in row.args.items():
            r = re.sub(rf"<(\w+:)?{name}>", str(world["objects"].get(obj, obj)), r)
        assert "<" not in r, f"{key}: give a value for every URL parameter of {r}"
        urls.append("/" + r)
    return urls


def body_for(row: Row, world):
    if row.body is None:
        return None
    return {k: world["objects"][v[1:]] if isinstance(v, str) and v.startswith("$") else v
            for k, v in row.body.items()}


@pytest.mark.django_db
@pytest.mark.parametrize("key", list(ROUTES))
def test_route_by_role(key, world):
    row, method = ROUTES[key], key.split(" ", 1)[0]
    failures = []
    for url in urls_for(key, row, world):
        for role in ROLES:
            client, headers = client_for(role, world)
            body = body_for(row, world)
            if method == "GET":
                response = client.get(url, body or {}, headers=headers)
            elif url.startswith("/api/"):
                response = client.post(url, json.dumps(body or {}), content_type="application/json", headers=headers)
            else:
                response = client.post(url, body or {}, headers=headers)
            got = outcome(response)
            if not matches(row.expect[role], got):
                failures.append(f"{method} {url} as {role}: expected {row.expect[role]}, got {got} "
                                f"({response.status_code})")
    assert not failures, "\n".join(failures)


# -- websockets ---------------------------------------------------------------------------------

async def ws_outcome(route: str, role: str, world) -> str:
    from channels.db import database_sync_to_async

    from helpdesk.asgi import application

    headers = [(b"host", b"127.0.0.1")]
    if route.startswith("ws/chat/"):
        path, origin = f"/ws/chat/{world['objects']['inbox_key']}/", ORIGIN
    else:
        path, origin = "/ws/console/", "http://127.0.0.1"
    headers.append((b"origin", origin.encode()))
    if role in ("user", "restricted", "agent", "admin"):
        client = Client()
        await database_sync_to_async(client.force_login)(world["users"][role])
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _code = await communicator.connect()
    if not connected:
        return REFUSED
    try:
        if route.startswith("ws/chat/"):
            token = world["visitor_token"] if role == "visitor" else ""
            await communicator.send_json_to({"type": "auth", "token": token})
            frame = await communicator.receive_output(timeout=5)
            if frame["type"] == "websocket.close" or json.loads(frame.get("text", "{}")).get("type") != "ready":
                return REFUSED
        return OK
    finally:
        await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("route", list(WS_ROUTES))
async def test_websocket_route_by_role(route, world):
    failures = []
    for role in ROLES:
        got = await ws_outcome(route, role, world)
        expected = WS_ROUTES[route][role]
        if (expected == OK) != (got == OK):
            failures.append(f"{route} as {role}: expected {expected}, got {got}")
    assert not failures, "\n".join(failures)


def test_a_new_route_without_an_entry_fails_saying_what_to_add(monkeypatch):
    import sys

    configured = http_routes()
    monkeypatch.setattr(sys.modules[__name__], "http_routes", lambda: [*configured, "console/reports/<int:pk>/"])
    with pytest.raises(AssertionError, match=r'"GET console/reports/<int:pk>/": Row\(<PROFILE>'):
        test_every_route_has_an_entry()
    operations = api_operations()
    monkeypatch.setattr(sys.modules[__name__], "api_operations", lambda: [*operations, "DELETE api/v1/tickets/<ticket_id>"])
    with pytest.raises(AssertionError, match=r'"DELETE api/v1/tickets/<ticket_id>": Row\(<PROFILE>'):
        test_every_route_has_an_entry()
