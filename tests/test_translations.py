"""The console's translations (issue 17): German, French and Spanish catalogues that are complete,
never fuzzy, compiled (the .mo files are committed and match their .po) and whose placeholders
match the English; an agent whose language is German gets German pages, and the script's
strings through the JavaScript catalog, at no extra query."""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from preferences.models import AgentPreferences
from tests.factories import inbound
from tickets import services

ROOT = Path(settings.BASE_DIR)
SHIPPED = [code for code, _name in settings.LANGUAGES if code != "en"]
CATALOGUES = sorted(p for p in ROOT.glob("**/locale/*/LC_MESSAGES/*.po") if ".venv" not in p.parts)
# %(name)s / %s / %d / %02d and {name}: what Python, Django and our JS `fill` substitute.
PLACEHOLDER = re.compile(r"%\(\w+\)[-+#0-9.]*[sdifr]|%[-+#0-9.]*[sdifr]|\{\w*\}")


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text.replace("%%", "")))


def test_we_ship_a_catalogue_per_language_and_only_those_languages():
    assert [code for code, _name in settings.LANGUAGES] == ["en", "de", "fr", "es"]
    assert set(SHIPPED) <= set(settings.HELPDESK_LANGUAGES)  # the ticket languages we guess
    for code in SHIPPED:
        for domain in ("django", "djangojs"):
            assert (ROOT / "locale" / code / "LC_MESSAGES" / f"{domain}.po").is_file(), (code, domain)
    assert {p.parts[-3] for p in CATALOGUES} == set(SHIPPED)


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_catalogue_is_complete_not_fuzzy_and_keeps_the_placeholders(path):
    po = polib.pofile(str(path))
    assert not po.metadata_is_fuzzy, "the header is marked fuzzy: msgfmt would skip it"
    assert po.metadata["Language"] == path.parts[-3]
    plural_forms = int(re.search(r"nplurals=(\d+)", po.metadata["Plural-Forms"]).group(1))
    problems = []
    for entry in po:
        if entry.obsolete:
            continue
        if entry.msgid_plural and len(entry.msgstr_plural) != plural_forms:
            # French and Spanish count three forms (Django's catalogues): a missing one is blank.
            problems.append(f"{len(entry.msgstr_plural)} of {plural_forms} plural forms: {entry.msgid!r}")
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.msgid!r}")
        forms = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        if not all(form.strip() for form in forms):
            problems.append(f"untranslated: {entry.msgid!r}")
            continue
        expected = placeholders(entry.msgid)
        for form in forms:
            # A singular may say "one" instead of its number (%(n)s); every other placeholder stays.
            got = placeholders(form)
            wanted = placeholders(entry.msgid_plural) if entry.msgid_plural else expected
            if got != wanted and not (entry.msgid_plural and got == expected):
                problems.append(f"placeholders {got} != {wanted}: {entry.msgid!r} -> {form!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_compiled_catalogue_matches_its_source(path):
    mo_path = path.with_suffix(".mo")
    assert mo_path.is_file(), f"{mo_path} is missing: run manage.py compilemessages and commit it"
    compiled = {(e.msgctxt, e.msgid): (e.msgstr, dict(e.msgstr_plural)) for e in polib.mofile(str(mo_path))
                if e.msgid}
    source = {(e.msgctxt, e.msgid): (e.msgstr, {int(k): v for k, v in e.msgstr_plural.items()})
              for e in polib.pofile(str(path)) if not e.obsolete and e.msgid}
    stale = [key for key, value in source.items() if compiled.get(key) != value]
    assert not stale and len(compiled) == len(source), f"{mo_path.name} is out of date: {stale[:5]}"


def literal_msgids() -> dict[str, set[str]]:
    """The plain string literals marked in templates and scripts (what makemessages would collect),
    so a string added later without a translation fails here, with no gettext binary needed."""
    found = {"django": set(), "djangojs": set()}
    for path in ROOT.glob("**/templates/**/*.html"):
        if ".venv" in path.parts or "tests" in path.parts:
            continue
        for match in re.finditer(r"""{% translate (["'])(.+?)\1""", path.read_text()):
            found["django"].add(match.group(2))
    for path in ROOT.glob("**/static/**/*.js"):
        if ".venv" in path.parts or "vendor" in path.parts or path.name == "widget.js":
            continue
        for match in re.finditer(r"""\b(?:_|gettext)\("((?:[^"\\]|\\.)+)"\)""", path.read_text()):
            found["djangojs"].add(match.group(1).replace('\\"', '"'))
    return found


@pytest.mark.parametrize("code", SHIPPED)
def test_every_marked_template_and_script_string_has_a_translation(code):
    for domain, msgids in literal_msgids().items():
        translated = {e.msgid for e in polib.pofile(str(ROOT / "locale" / code / "LC_MESSAGES" / f"{domain}.po"))
                      if e.translated()}
        if domain == "django":  # an app's own catalogue (surveys) counts too
            for path in CATALOGUES:
                if path.parts[-3] == code and path.name == "django.po":
                    translated |= {e.msgid for e in polib.pofile(str(path)) if e.translated()}
        assert msgids, domain
        missing = sorted(msgids - translated)
        assert not missing, f"{code}/{domain}: run makemessages and translate {missing[:10]}"


# -- what a German agent sees -----------------------------------------------------------------------------

@pytest.fixture
def german(console, agent):
    console.post("/console/preferences/", {"time_zone": "", "language": "de"})
    assert AgentPreferences.objects.get(user=agent).language == "de"
    return console


@pytest.mark.django_db
def test_a_german_agent_gets_the_queue_ticket_and_settings_pages_in_german(german, agent):
    ticket_id = services.ingest(inbound("ada@example.com", "Hallo, wo ist mein Paket?")).message.ticket_id
    queue = german.get("/console/", HTTP_ACCEPT_LANGUAGE="en")
    body = queue.content.decode()
    assert queue["Content-Language"] == "de" and '<html lang="de">' in body
    assert "Warteschlange" in body and "Nicht zugewiesen" in body and "Alle offenen" in body
    assert "Tastenkürzel" in body and "Abmelden" in body
    assert "Unassigned" not in body and "Keyboard shortcuts" not in body
    assert 'title="E-Mail"' in body  # the channel icon's name, translated per language
    days = "Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag"
    assert re.search(rf'<time [^>]*title="({days}), \d{{1,2}}\. \w+ \d{{4}}, \d\d:\d\d \(UTC\)"', body)

    page = german.get(f"/console/tickets/{ticket_id}/").content.decode()
    assert "Antwort senden" in page and "Interne Notiz hinzufügen" in page and "Kundenprofil" in page
    assert "Send reply" not in page and "Add internal note" not in page

    settings_page = german.get("/console/preferences/").content.decode()
    assert "Ihre Einstellungen" in settings_page and "Speichern" in settings_page
    # Each language is listed in its own name, whatever the console speaks.
    for name in ("English", "Deutsch", "Français", "Español"):
        assert f">{name}</option>" in settings_page
    sla = german.get("/console/sla/").content.decode()
    assert "Fristen-Ansichten" in sla or "Bald überschritten" in sla


@pytest.mark.django_db
def test_an_english_agent_still_gets_english_and_the_channel_labels_follow_each_request(german, bob):
    from django.test import Client

    services.ingest(inbound("ada@example.com", "hello"))
    english = Client()
    english.force_login(bob)
    for _round in range(2):  # interleaved: nothing translated is cached across languages
        assert 'title="E-Mail"' in german.get("/console/").content.decode()
        body = english.get("/console/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "Unassigned" in body and 'title="Email"' in body and "Warteschlange" not in body


@pytest.mark.django_db
def test_the_script_catalog_speaks_the_agent_language(german):
    # One address per language: the browser keeps the catalog an hour, so switching language
    # must load another one, not the cached English.
    assert 'src="/jsi18n/?l=de"' in german.get("/console/").content.decode()
    catalog = german.get("/jsi18n/?l=de").content.decode()
    assert "gerade eben" in catalog and "vor %(n)s Min." in catalog and "Live-Chat" in catalog


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/console/", "ticket"])
def test_german_pages_cost_no_more_queries_than_english_ones(console, agent, path):
    ticket_id = services.ingest(inbound("ada@example.com", "hello")).message.ticket_id
    url = f"/console/tickets/{ticket_id}/" if path == "ticket" else path

    def count():
        console.get(url)  # warm the session and caches
        with CaptureQueriesContext(connection) as captured:
            assert console.get(url).status_code == 200
        return len(captured)

    english = count()
    console.post("/console/preferences/", {"time_zone": "", "language": "de"})
    assert count() == english


@pytest.mark.django_db
@pytest.mark.parametrize(("code", "word"), [("fr", "Non assignés"), ("es", "Sin asignar")])
def test_french_and_spanish_agents_get_their_language(console, agent, code, word):
    console.post("/console/preferences/", {"time_zone": "", "language": code})
    body = console.get("/console/").content.decode()
    assert f'<html lang="{code}">' in body and word in body


# -- the chat widget (on the customer's site: its words come with the session's config) --------------------

def test_the_widget_script_uses_exactly_the_listed_texts():
    from livechat import widget_strings

    script = (ROOT / "livechat" / "static" / "livechat" / "widget.js").read_text()
    used = {m.replace('\\"', '"') for m in re.findall(r"""\bt\("((?:[^"\\]|\\.)+)"[,)]""", script)}
    assert used == set(widget_strings.TEXTS)
    assert not re.search(r"""(textContent|placeholder|"aria-label":|showError\(|notice\() *=? *"[A-Z]""", script)


@pytest.mark.django_db
@pytest.mark.parametrize(("accept", "language", "open_chat", "rating"), [
    ("de-DE,de;q=0.9,en;q=0.5", "de", "Chat öffnen", "Geht so"),
    ("fr-CA,fr;q=0.9", "fr", "Ouvrir le chat", "Correct"),
    ("es", "es", "Abrir el chat", "Regular"),
])
def test_a_visitor_gets_the_widget_in_their_browser_language(client, accept, language, open_chat, rating):
    import json

    from tests.livechat_helpers import ORIGIN, make_inbox

    make_inbox()
    response = client.post("/chat/api/shop/session/", json.dumps({}), content_type="application/json",
                           headers={"Origin": ORIGIN, "Accept-Language": accept})
    config = response.json()["config"]
    assert config["language"] == language
    assert config["strings"]["Open chat"] == open_chat and config["strings"]["OK"] == rating
    assert config["strings"]["Open chat, %(n)s unread"].count("%(n)s") == 1


@pytest.mark.django_db
def test_an_english_visitor_gets_no_strings_at_all(client):
    import json

    from tests.livechat_helpers import ORIGIN, make_inbox

    make_inbox()
    response = client.post("/chat/api/shop/session/", json.dumps({}), content_type="application/json",
                           headers={"Origin": ORIGIN, "Accept-Language": "en-GB,en;q=0.9"})
    assert response.json()["config"]["strings"] == {} and response.json()["config"]["language"] == "en"
