"""The console's frame (issue 17): the icon sprite and its tags, avatars, the one time formatter,
each agent's time zone and language, the branded admin with its internal tables out of agents'
sight, the favicon, the weight of the console's own assets, and `make run PORT=...`."""

import gzip
import io
import re
import subprocess
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.utils import timezone, translation

from preferences.models import AgentPreferences
from tests.factories import inbound
from tickets import services
from tickets.console import avatars, icons, timefmt
from tickets.models import Identity, Ticket

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "tickets" / "static" / "console"
SPRITE = (STATIC / "icons.svg").read_text()


# -- icons ----------------------------------------------------------------------------------------

def sprite_symbols() -> set[str]:
    return set(re.findall(r'<symbol id="i-([\w-]+)"', SPRITE))


def test_every_icon_the_console_names_is_in_the_sprite():
    used = set(icons.CHANNEL_ICONS.values()) | {"channel"}
    for template in [*ROOT.glob("templates/**/*.html"), *ROOT.glob("*/templates/**/*.html")]:
        used |= set(re.findall(r'{%\s*icon\s+"([\w-]+)"', template.read_text()))
    from tickets.templatetags.console_ui import FIXED_VIEW_ICONS

    used |= set(FIXED_VIEW_ICONS.values()) | {"users", "inbox", "alert"}
    missing = used - sprite_symbols()
    assert not missing, f"not in console/icons.svg (add them to tools/build_icons.py): {sorted(missing)}"
    # Every channel has an icon of its own: none falls back to the generic one.
    assert len(set(icons.CHANNEL_ICONS.values())) == len(icons.CHANNEL_ICONS) == 7


def test_the_sprite_carries_its_licences_and_only_drawing_markup():
    assert "ISC License" in SPRITE and "CC0-1.0" in SPRITE and "tools/build_icons.py" in SPRITE
    assert "<script" not in SPRITE.lower() and "<title>" not in SPRITE and "href=" not in SPRITE


def test_the_live_rows_script_maps_channels_to_the_same_icons_as_the_server():
    script = (STATIC / "ui.js").read_text()
    mapping = dict(re.findall(r"(\w+): \"(\w+)\"", re.search(r"CHANNEL_ICONS = \{(.*?)\};", script, re.S).group(1)))
    assert mapping == icons.CHANNEL_ICONS
    labels = dict(re.findall(r"(\w+): (?:_\()?\"([^\"]+)\"", re.search(r"CHANNEL_LABELS = \{(.*?)\};", script, re.S).group(1)))
    assert labels == {key: str(label) for key, label in icons.CHANNEL_LABELS.items()}


def test_an_icon_is_decorative_unless_labelled_and_escapes_what_it_is_given():
    plain = icons.icon_html("search")
    assert 'aria-hidden="true"' in plain and "role=" not in plain and "/static/console/icons.svg#i-search" in plain
    named = icons.channel_html("whatsapp")
    assert 'role="img" aria-label="WhatsApp"' in named and 'title="WhatsApp"' in named and "#i-whatsapp" in named
    hostile = icons.icon_html('x"><script>', label="<b>")
    assert "<script>" not in hostile and "<b>" not in hostile


def test_the_build_script_takes_only_the_listed_icons(tmp_path):
    from tools import build_icons

    for package, names in (("lucide", build_icons.LUCIDE.values()), ("simple", build_icons.BRANDS.values())):
        (tmp_path / package / "icons").mkdir(parents=True)
        for name in names:
            (tmp_path / package / "icons" / f"{name}.svg").write_text(
                f'<svg xmlns="http://www.w3.org/2000/svg"><title>{name}</title>\n  <path d="M1 1h{len(name)}" /></svg>')
        (tmp_path / package / "icons" / "unused.svg").write_text('<svg><path d="M0 0"/></svg>')
    built = build_icons.build(tmp_path / "lucide", tmp_path / "simple")
    ids = set(re.findall(r'<symbol id="i-([\w-]+)"', built))
    assert ids == set(build_icons.LUCIDE) | set(build_icons.BRANDS) == sprite_symbols()
    assert "<title>" not in built and "unused" not in built
    assert 'id="i-whatsapp" viewBox="0 0 24 24" fill="currentColor"' in built  # brands are filled marks
    assert 'id="i-email" viewBox="0 0 24 24" fill="none" stroke="currentColor"' in built


# -- avatars --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("Ada Lovelace", "AL"), ("grace", "G"), ("Jean-Luc Picard", "JP"), ("ada@example.com", "A"),
    ("+1 415 555 0101", "#"), ("", "?"), ("Émile Zola", "ÉZ"), ("李 小龍", "李小"),
])
def test_initials(name, expected):
    assert avatars.initials(name) == expected


def test_an_avatar_colour_is_stable_and_spread_over_the_palette():
    assert avatars.colour("Ada Lovelace") == zlib.crc32(b"ada lovelace") % 8 == avatars.colour(" ada lovelace ")
    assert len({avatars.colour(f"Customer {n}") for n in range(200)}) == avatars.PALETTE_SIZE


def test_an_avatar_shows_only_a_picture_we_serve_else_initials():
    assert avatars.avatar_html("Ada", "/media/avatars/1.jpg").startswith('<img class="avatar" src="/media/avatars/1.jpg"')
    for foreign in ("https://scontent.xx.fbcdn.net/p.jpg", "//evil.example/p.jpg", "javascript:alert(1)", None):
        html = avatars.avatar_html("Ada Lovelace", foreign)
        assert html == f'<span class="avatar av-{avatars.colour("Ada Lovelace")}" aria-hidden="true">AL</span>', foreign
    assert avatars.avatar_html("x", '/a.png" onerror="alert(1)').count('"') == 10  # the quote is escaped
    assert '&quot; onerror=&quot;' in avatars.avatar_html("x", '/a.png" onerror="alert(1)')
    identities = [Identity(meta={}), Identity(meta={"avatar_url": "https://x/p.jpg"}), Identity(meta={"avatar_url": "/p.jpg"})]
    assert avatars.picture_of(identities) == "/p.jpg"


# -- one time formatter -----------------------------------------------------------------------------

NOW = datetime(2026, 3, 18, 14, 30, tzinfo=UTC)  # a Wednesday; 15:30 in Paris


@pytest.mark.parametrize("moment, expected", [
    (NOW - timedelta(seconds=20), "just now"),
    (NOW - timedelta(minutes=3), "3 min ago"),
    (NOW - timedelta(minutes=59), "59 min ago"),
    (NOW - timedelta(hours=5), "10:30"),                          # today, Paris time
    (NOW - timedelta(days=1, hours=1), "yesterday 14:30"),
    (NOW - timedelta(days=3), "Sun 15:30"),
    (NOW - timedelta(days=30), "16 Feb 15:30"),
    (NOW - timedelta(days=400), "11 Feb 2025"),
    (NOW + timedelta(minutes=12), "in 12 min"),
    (NOW + timedelta(days=1), "tomorrow 15:30"),
])
def test_relative_times_in_the_agent_zone(moment, expected):
    with timezone.override("Europe/Paris"), translation.override("en"):
        assert timefmt.TimeFormatter(NOW).relative(moment) == expected


def test_a_time_element_carries_the_instant_and_the_exact_time_on_hover():
    with timezone.override("America/New_York"), translation.override("en"):
        html = timefmt.TimeFormatter(NOW).html(NOW - timedelta(minutes=3), cls="waited")
    assert html == ('<time class="waited" datetime="2026-03-18T14:27:00+00:00" '
                    'title="Wednesday 18 March 2026, 10:27 (EDT)" data-rel>3 min ago</time>')
    assert timefmt.time_html(None) == "—"


def test_yesterday_is_the_agent_calendar_day_not_24_hours():
    late = datetime(2026, 3, 18, 0, 30, tzinfo=UTC)  # 01:30 in Paris on the 18th
    with timezone.override("Europe/Paris"), translation.override("en"):
        assert timefmt.TimeFormatter(late).relative(late - timedelta(hours=2)) == "yesterday 23:30"
    with timezone.override("UTC"), translation.override("en"):
        assert timefmt.TimeFormatter(late).relative(late - timedelta(hours=2)) == "yesterday 22:30"


def test_no_console_template_or_script_formats_dates_its_own_way():
    """One formatter: the strftime patterns and toLocaleString calls it replaced stay gone."""
    sources = [*ROOT.glob("templates/console/*.html"), ROOT / "templates/base.html",
               ROOT / "tickets/console/rendering.py", STATIC / "console.js"]
    for source in sources:
        text = source.read_text()
        assert not re.search(r"%Y-%m-%d|toLocale(Date|Time)?String|\|date:", text), source


# -- the pages ---------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_queue_shows_channel_icons_avatars_and_relative_times(console):
    services.ingest(inbound("+14155550101", "hello by text", channel="sms", sender_name="Ada Lovelace"))
    body = console.get("/console/").content.decode()
    row = re.search(r'<tr data-ticket=.*?</tr>', body, re.S).group(0)
    assert '<span class="channel ch-sms" title="SMS"><svg class="icon i-sms" role="img" aria-label="SMS"' in row
    assert f'<span class="avatar avatar-sm av-{avatars.colour("Ada Lovelace")}" aria-hidden="true">AL</span>' in row
    assert re.search(r'<time class="waited" datetime="[^"]+" title="[^"]+" data-rel>just now</time>', row)
    assert ">sms<" not in row  # the capital-word channel label is gone
    # The views rail: icons, headings, counts.
    assert 'data-view="channel:sms"' in body and ">SMS</span>" in body and "Channels</h2>" in body


@pytest.mark.django_db
def test_the_ticket_page_shows_icons_the_customer_avatar_and_the_queue_pane(console):
    result = services.ingest(inbound("ada@example.com", "hello", sender_name="Ada Lovelace"))
    Identity.objects.filter(pk=result.message.identity_id).update(meta={"avatar_url": "/media/ada.png"})
    body = console.get(f"/console/tickets/{result.message.ticket_id}/").content.decode()
    assert '<img class="avatar avatar-lg" src="/media/ada.png"' in body
    assert 'class="channel ch-email" title="Email"' in body
    assert re.search(r'<li class="msg inbound".*?<time datetime="[^"]+" title="[^"]+" data-rel>just now</time>', body, re.S)
    assert 'id="queue-pane" aria-label="Queue" data-src="/console/?fragment=1" hidden' in body


@pytest.mark.django_db
def test_search_results_show_channel_icons_and_times(console):
    services.ingest(inbound("+14155550101", "parcel tracking please", channel="whatsapp", sender_name="Grace"))
    body = console.get("/console/search/", {"q": "parcel"}).content.decode()
    assert 'class="channel ch-whatsapp"' in body and "data-rel>just now</time>" in body


# -- each agent's time zone and language ---------------------------------------------------------------

@pytest.mark.django_db
def test_an_agent_sets_a_time_zone_and_the_console_uses_it(console, agent):
    services.ingest(inbound("ada@example.com", "hello"))
    page = console.get("/console/preferences/")
    assert page.status_code == 200 and 'name="time_zone"' in page.content.decode()
    response = console.post("/console/preferences/", {"time_zone": "Asia/Tokyo", "language": ""})
    assert response.status_code == 302
    assert AgentPreferences.objects.get(user=agent).time_zone == "Asia/Tokyo"
    body = console.get("/console/").content.decode()
    assert 'data-tz="Asia/Tokyo"' in body and "(JST)" in body


@pytest.mark.django_db
def test_without_a_setting_the_browser_zone_cookie_decides_and_nothing_is_stored(console, agent):
    services.ingest(inbound("ada@example.com", "hello"))
    console.cookies["helpdesk_tz"] = "America/Sao_Paulo"
    body = console.get("/console/").content.decode()
    assert 'data-tz=""' in body and "(-03)" in body
    console.cookies["helpdesk_tz"] = "Not/AZone"
    assert "(UTC)" in console.get("/console/").content.decode()
    assert not AgentPreferences.objects.exists()


@pytest.mark.django_db
def test_an_agent_language_setting_wins_over_the_browser(console, agent):
    console.post("/console/preferences/", {"time_zone": "", "language": "fr"})
    response = console.get("/console/", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Language"] == "fr" and '<html lang="fr">' in response.content.decode()
    assert AgentPreferences.objects.get(user=agent).language == "fr"


@pytest.mark.django_db
def test_an_unknown_time_zone_is_refused_and_nothing_is_saved(console, agent, caplog):
    response = console.post("/console/preferences/", {"time_zone": "Mars/Olympus", "language": ""})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert not AgentPreferences.objects.exists()
    assert "preferences refused" in caplog.text
    with pytest.raises(ValueError, match="unknown time zone: 'Mars/Olympus'"):
        from preferences import services as preference_services

        preference_services.save(agent, time_zone="Mars/Olympus", language="")


@pytest.mark.django_db
def test_preferences_come_with_the_user_at_no_query_of_their_own(client, agent):
    AgentPreferences.objects.create(user=agent, time_zone="Europe/Paris")
    client.force_login(agent)
    client.get("/console/preferences/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        body = client.get("/console/").content.decode()
    # Joined to the user's own query (preferences.backends), never read on their own.
    assert not [q for q in captured if 'FROM "preferences_agentpreferences"' in q["sql"]]
    assert [q for q in captured if 'JOIN "preferences_agentpreferences"' in q["sql"]]
    assert 'data-tz="Europe/Paris"' in body


@pytest.mark.django_db(transaction=True)
def test_under_asgi_the_agent_zone_and_language_apply_too(agent):
    """The middleware's async path (Daphne): same zone, language and browser-cookie fallback."""
    import asyncio

    from django.test import AsyncClient

    AgentPreferences.objects.create(user=agent, time_zone="Asia/Tokyo", language="fr")
    client = AsyncClient()
    client.force_login(agent)

    async def pages():
        mine = await client.get("/console/", headers={"accept-language": "en"})
        anonymous = AsyncClient()
        anonymous.cookies["helpdesk_tz"] = "America/Sao_Paulo"
        login = await anonymous.get("/login/")
        return mine, login

    mine, login = asyncio.run(pages())
    body = mine.content.decode()
    assert mine["Content-Language"] == "fr" and 'data-tz="Asia/Tokyo"' in body and '<html lang="fr">' in body
    assert login.status_code == 200 and login["Content-Language"] == "en"


@pytest.mark.django_db
def test_a_change_reaches_the_agents_other_sessions_without_logging_in_again(
        client, agent, monkeypatch, django_capture_on_commit_callbacks):
    import json

    from django.test import Client

    from tickets import doorbell

    pushed = []
    monkeypatch.setattr(doorbell, "push", lambda groups, message: pushed.append((groups, json.loads(message["frame"]))))
    other = Client()  # the same agent in another browser, signed in before the change
    other.force_login(agent)
    client.force_login(agent)
    assert 'data-tz=""' in other.get("/console/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/console/preferences/", {"time_zone": "Asia/Tokyo", "language": ""})
    assert 'data-tz="Asia/Tokyo"' in other.get("/console/").content.decode()
    # Its open consoles hear it at once: the times are re-written in the new zone (time.js).
    assert pushed == [([f"user-{agent.pk}"], {"type": "notice", "app": "preferences", "time_zone": "Asia/Tokyo"})]

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/console/preferences/", {"time_zone": "Asia/Tokyo", "language": "fr"})
    assert other.get("/console/", HTTP_ACCEPT_LANGUAGE="en")["Content-Language"] == "fr"
    assert pushed[-1] == ([f"user-{agent.pk}"], {"type": "reload"})  # the page's words: read it again

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/console/preferences/", {"time_zone": "Asia/Tokyo", "language": "fr"})
    assert len(pushed) == 2, "saving the same choices again tells nobody"


# -- the back office ------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_admin_login_page_is_branded_and_answers_anonymous_visitors(client):
    response = client.get("/admin/login/")  # was a 500: the scoped admins asked an anonymous user's teams
    assert response.status_code == 200
    assert "Helpdesk administration" in response.content.decode()


@pytest.mark.django_db
def test_the_admin_is_branded(admin_client):
    index = admin_client.get("/admin/").content.decode()
    assert "Helpdesk administration" in index and "Django administration" not in index
    assert "console/admin.css" in index and "console/favicon.svg" in index
    assert "<title>Back office | Helpdesk admin</title>" in index


@pytest.mark.django_db
def test_internal_tables_are_out_of_staff_agents_sight(client, agent, admin_client):
    agent.is_staff = True
    agent.save()
    agent.user_permissions.add(*Permission.objects.all())  # every permission, yet not a superuser
    client.force_login(agent)
    index = client.get("/admin/").content.decode()
    for internal in ("/admin/tickets/event/", "/admin/tickets/inboundpayload/", "/admin/django_tasks_database/",
                     "/admin/integrations/webhookdelivery/"):
        assert internal not in index, internal
        assert client.get(internal).status_code in (403, 404), internal
    assert "/admin/tickets/cannedresponse/" in index  # what a team lead edits stays
    for internal in ("/admin/tickets/event/", "/admin/tickets/inboundpayload/",
                     "/admin/django_tasks_database/dbtaskresult/"):
        assert admin_client.get(internal).status_code == 200, internal  # operators still get them
    registered = {model._meta.label for model in admin.site._registry}
    assert not registered & {"tickets.Mention", "api.IdempotencyKey"}


def test_the_favicon_exists_as_svg_and_ico(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"].endswith("/static/console/favicon.ico")
    ico = (STATIC / "favicon.ico").read_bytes()
    assert ico[:4] == b"\x00\x00\x01\x00" and ico[4] == 3  # an icon file holding three sizes
    assert (STATIC / "favicon.svg").read_text().startswith("<svg")


@pytest.mark.django_db
def test_the_login_page_is_branded(client):
    body = client.get("/login/").content.decode()
    assert 'class="login-logo"' in body and "Log in to the helpdesk" in body and 'rel="icon"' in body


# -- weight ---------------------------------------------------------------------------------------------

CONSOLE_ASSETS = ["console.css", "console.js", "theme.js", "time.js", "ui.js", "panes.js", "icons.svg"]
WEIGHT_BUDGET = 100 * 1024  # gzipped bytes, issue 17


def test_the_console_own_js_css_and_icons_stay_under_100_kb_gzipped(capsys):
    sizes = {name: len(gzip.compress((STATIC / name).read_bytes(), 9)) for name in CONSOLE_ASSETS}
    total = sum(sizes.values())
    with capsys.disabled():
        print(f"\nconsole assets gzipped: {total / 1024:.1f} KB of {WEIGHT_BUDGET // 1024} KB "
              + ", ".join(f"{n} {b / 1024:.1f}" for n, b in sizes.items()))
    assert total < WEIGHT_BUDGET, sizes


# -- make run PORT=... ------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_seed_demo_prints_the_urls_at_the_public_address(settings):
    settings.HELPDESK_PUBLIC_URL = "http://127.0.0.1:8100"
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    assert "Console:   http://127.0.0.1:8100/console/" in text
    assert "Live chat: http://127.0.0.1:8100/chat/demo/" in text
    assert '<script src="http://127.0.0.1:8100/chat/widget.js" data-inbox="demo" async></script>' in text
    assert "8000" not in text
    out = io.StringIO()
    call_command("seed_demo", if_empty=True, stdout=out)  # a second `make run`: the URLs again
    assert "Demo data already present." in out.getvalue() and "http://127.0.0.1:8100/console/" in out.getvalue()
    assert Ticket.objects.count() > 0


def make_dry_run(*args) -> str:
    return subprocess.run(["make", "-n", "-B", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def test_make_run_serves_and_seeds_at_the_port_asked_and_installs_only_runtime_deps():
    plan = make_dry_run("run", "PORT=8100")
    assert "--port 8100" in plan and 'HELPDESK_PUBLIC_URL:-http://127.0.0.1:8100' in plan
    assert "pip install --quiet -e ." in plan
    assert ".[test]" not in plan, "make run installed the test tools"
    assert ".[test]" in make_dry_run("test")
