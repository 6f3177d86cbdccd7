"""The console pages: queue views and counts, the customer's one timeline, search, and the
query counts that must not grow with the data."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import attachment, inbound
from tickets import services
from tickets.models import CannedResponse, Message, Team, Ticket

pytestmark = pytest.mark.django_db


def ticket_of(result):
    return Ticket.objects.get(pk=result.message.ticket_id)


def ids_in(response):
    return [t.pk for t in response.context["tickets"]]


def test_anonymous_users_are_sent_to_log_in_and_non_agents_refused(client, django_user_model):
    assert client.get("/console/").status_code == 302
    client.force_login(django_user_model.objects.create_user("visitor", password="pw"))
    assert client.get("/console/").status_code == 403


def test_queue_sorts_by_how_long_the_customer_has_waited(console):
    a = ticket_of(services.ingest(inbound("a@example.com", "first")))
    b = ticket_of(services.ingest(inbound("b@example.com", "second")))
    c = ticket_of(services.ingest(inbound("c@example.com", "third")))
    now = timezone.now()
    Ticket.objects.filter(pk=a.pk).update(waiting_since=now - timedelta(minutes=5))
    Ticket.objects.filter(pk=b.pk).update(waiting_since=now - timedelta(hours=3))
    Ticket.objects.filter(pk=c.pk).update(waiting_since=None)  # answered: nobody is waiting
    assert ids_in(console.get("/console/")) == [b.pk, a.pk, c.pk]


def test_each_view_filters_and_counts(console, agent, bob):
    team = Team.objects.create(name="Billing")
    mine = ticket_of(services.ingest(inbound("a@example.com", "mine")))
    services.assign(mine, assignee=agent, team=team, actor=agent)
    theirs = ticket_of(services.ingest(inbound("b@example.com", "theirs")))
    services.assign(theirs, assignee=bob, actor=agent)
    unassigned = ticket_of(services.ingest(inbound("+14155550100", "sms one", channel="sms")))
    pending = ticket_of(services.ingest(inbound("d@example.com", "pending")))
    services.set_status(pending, "pending", actor=agent)
    solved = ticket_of(services.ingest(inbound("e@example.com", "solved")))
    services.set_status(solved, "solved", actor=agent)
    closed = ticket_of(services.ingest(inbound("f@example.com", "closed")))
    services.set_status(closed, "closed", actor=agent)

    expected = {
        "open": {mine.pk, theirs.pk, unassigned.pk, pending.pk},
        "mine": {mine.pk},
        "unassigned": {unassigned.pk, pending.pk},
        "pending": {pending.pk},
        "solved": {solved.pk},
        "channel:sms": {unassigned.pk},
        f"team:{team.pk}": {mine.pk},
    }
    response = console.get("/console/")
    counts = {v.key: v.count for v in response.context["views"]}
    for view, tickets in expected.items():
        assert set(ids_in(console.get("/console/", {"view": view}))) == tickets, view
        assert counts[view] == len(tickets), view
    assert counts["channel:email"] == 3
    assert b"Billing" in response.content


def test_queue_fragment_is_the_list_and_counts_only(console):
    services.ingest(inbound("a@example.com", "hello"))
    body = console.get("/console/", {"fragment": "1"}).content.decode()
    assert 'id="queue"' in body and "<html" not in body


def queue_queries(console):
    with CaptureQueriesContext(connection) as captured:
        assert console.get("/console/").status_code == 200
    return len(captured)


def test_the_queue_page_runs_a_constant_number_of_queries(console, agent, django_assert_num_queries):
    team = Team.objects.create(name="Support")
    for n in range(3):
        t = ticket_of(services.ingest(inbound(f"c{n}@example.com", f"hello {n}")))
        services.set_tags(t, ["vip", f"t{n}"], actor=agent)
    few = queue_queries(console)
    for n in range(3, 40):
        t = ticket_of(services.ingest(inbound(f"c{n}@example.com", f"hello {n}", channel="sms" if n % 2 else "email")
                                      if n % 2 == 0 else inbound(f"+1415555{n:04d}", "sms", channel="sms")))
        services.assign(t, assignee=agent if n % 3 else None, team=team, actor=agent)
        services.set_tags(t, ["bulk"], actor=agent)
    with django_assert_num_queries(few):
        console.get("/console/")
    assert len(console.get("/console/").context["tickets"]) == 40


def test_the_ticket_page_shows_the_whole_history_across_tickets_and_channels(console, agent):
    first = services.ingest(inbound("ada@example.com", "email on monday", subject="Invoice"))
    sms = services.ingest(inbound("+14155550101", "text on wednesday", channel="sms",
                                  linked_identities=(("email", "ada@example.com"),)))
    assert sms.message.customer_id == first.message.customer_id  # the provider vouched: one customer
    ticket = ticket_of(first)
    services.set_status(ticket_of(sms), "solved", actor=agent)
    services.note(ticket, author=agent, text="VIP, be nice")

    response = console.get(f"/console/tickets/{ticket.pk}/")
    body = response.content.decode()
    assert "email on monday" in body and "text on wednesday" in body and "VIP, be nice" in body
    blocks = response.context["blocks"]
    # One block per ticket, its header once (however the messages interleave): the other
    # ticket first, this one last, by the reply box.
    assert [(b.ticket.pk, b.current) for b in blocks] == [(ticket_of(sms).pk, False), (ticket.pk, True)]
    assert [m.text for m in blocks[1].messages] == ["email on monday", "VIP, be nice"]
    assert f'<details class="block other" data-ticket="{ticket_of(sms).pk}">' in body  # solved: collapsed
    assert body.count('class="block-head"') == 2
    assert {i.channel for i in response.context["identities"]} == {"email", "sms"}
    # The reply box defaults to the channel the customer last wrote on *in this ticket* (email,
    # though their latest message anywhere is the SMS), and offers the others.
    assert response.context["default_channel"] == "email"
    assert {o["channel"] for o in response.context["channel_options"]} == {"email", "sms"}
    assert services.route_reply(ticket, None)[0].channel == "email"  # and the send goes there too
    assert services.route_reply(ticket_of(sms), None)[0].channel == "sms"


def test_other_open_tickets_and_merges_are_listed(console, agent):
    a = services.ingest(inbound("ada@example.com", "one"))
    b = services.ingest(inbound("visitor-7", "two", channel="chat"))
    merge = services.merge_customers(b.message.customer, a.message.customer, actor=agent)
    response = console.get(f"/console/tickets/{a.message.ticket_id}/")
    assert [t.pk for t in response.context["other_tickets"]] == [b.message.ticket_id]
    assert [m.pk for m in response.context["merges"]] == [merge.pk]
    assert f"/console/merges/{merge.pk}/undo/" in response.content.decode()


def ticket_queries(console, ticket):
    with CaptureQueriesContext(connection) as captured:
        assert console.get(f"/console/tickets/{ticket.pk}/").status_code == 200
    return len(captured)


def test_the_ticket_page_runs_a_constant_number_of_queries(console, agent, django_assert_num_queries):
    CannedResponse.objects.create(title="Thanks", shortcut="thanks", body="Thanks {customer_first_name}!")
    result = services.ingest(inbound("ada@example.com", "hello", attachments=(attachment(),)))
    ticket = ticket_of(result)
    services.reply(ticket, author=agent, text="hi")
    few = ticket_queries(console, ticket)
    for n in range(40):
        services.ingest(inbound("ada@example.com", f"more {n}", attachments=(attachment(f"f{n}.txt"),)))
        services.reply(ticket, author=agent, text=f"answer {n}")
        services.note_with_mentions(ticket, author=agent, text=f"note {n}")
    services.ingest(inbound("ada@example.com", "on chat", channel="chat"))
    with django_assert_num_queries(few):
        console.get(f"/console/tickets/{ticket.pk}/")


def test_canned_responses_have_their_placeholders_filled(console, agent):
    CannedResponse.objects.create(title="Hi", shortcut="hi", body="Hi {customer_first_name}, {agent_name} here about #{ticket_id}.")
    result = services.ingest(inbound("ada@example.com", "hello", sender_name="Ada Lovelace"))
    response = console.get(f"/console/tickets/{result.message.ticket_id}/")
    assert response.context["canned"][0]["body"] == f"Hi Ada, Agnes here about #{result.message.ticket_id}."


def test_search_finds_customers_tickets_and_message_text(console):
    a = services.ingest(inbound("grace@navy.example", "The compiler refuses my punchcards", subject="Compiler trouble",
                                sender_name="Grace Hopper"))
    services.ingest(inbound("other@example.com", "unrelated words"))
    results = console.get("/console/search/", {"q": "punchcard"}).context["results"]  # prefix match
    assert [m.pk for m in results.messages] == [a.message.pk]
    results = console.get("/console/search/", {"q": "navy.example"}).context["results"]
    assert [c.pk for c in results.customers] == [a.message.customer_id]
    results = console.get("/console/search/", {"q": "compiler trouble"}).context["results"]
    assert a.message.ticket_id in [t.pk for t in results.tickets]
    # "#123" opens the ticket at once (tests/test_console_search.py has the rest of the rules).
    response = console.get("/console/search/", {"q": f"#{a.message.ticket_id}"})
    assert response.status_code == 302 and response["Location"] == f"/console/tickets/{a.message.ticket_id}/"
    # Operators typed by the agent are only words.
    assert console.get("/console/search/", {"q": 'NEAR("x" OR *'}).status_code == 200


def test_search_follows_edits_and_deletes(console):
    result = services.ingest(inbound("ada@example.com", "original wording"))
    Message.objects.filter(pk=result.message.pk).update(text="rewritten phrasing")
    assert not console.get("/console/search/", {"q": "original"}).context["results"].messages
    assert console.get("/console/search/", {"q": "phrasing"}).context["results"].messages
    Message.objects.filter(pk=result.message.pk).delete()
    assert not console.get("/console/search/", {"q": "phrasing"}).context["results"].messages


@pytest.mark.skipif("connection.vendor != 'sqlite'", reason="SQLite FTS5 triggers")
def test_lost_sqlite_triggers_are_recreated_after_migrate(console):
    from tickets import search

    search.suspend_triggers()
    services.ingest(inbound("ada@example.com", "written while the triggers were gone"))
    search.ensure_index()
    assert console.get("/console/search/", {"q": "triggers gone"}).context["results"].messages


def test_email_html_is_served_sandboxed_with_remote_images_blocked(console):
    html = '<p onclick="alert(1)">Hi</p><img src="https://tracker.example/pixel.gif"><script>alert(2)</script>'
    result = services.ingest(inbound("ada@example.com", "Hi", html=html))
    page = console.get(f"/console/tickets/{result.message.ticket_id}/").content.decode()
    assert 'sandbox=""' in page and f"/console/messages/{result.message.pk}/body/" in page
    assert "Show remote images" in page
    body = console.get(f"/console/messages/{result.message.pk}/body/")
    policy = body["Content-Security-Policy"]
    assert "sandbox" in policy and "img-src data:" in policy and "default-src 'none'" in policy
    assert "script" not in body.content.decode().lower() and "onclick" not in body.content.decode()
    assert body["X-Frame-Options"] == "SAMEORIGIN"
    allowed = console.get(f"/console/messages/{result.message.pk}/body/", {"images": "1"})
    assert "https:" in allowed["Content-Security-Policy"] and "sandbox" in allowed["Content-Security-Policy"]
    # The console page itself keeps the strict site policy.
    assert "script-src 'self' 'nonce-" in console.get("/console/")["Content-Security-Policy"]


def test_attachments_download_as_sandboxed_attachments(console):
    result = services.ingest(inbound("ada@example.com", "file", attachments=(attachment("x.html", b"<script>1</script>"),)))
    a = result.message.attachments.get()
    response = console.get(f"/attachments/{a.pk}/")
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff" and "sandbox" in response["Content-Security-Policy"]


def test_customer_text_is_escaped_in_the_queue_and_the_timeline(console):
    hostile = '<img src=x onerror="alert(1)">'
    result = services.ingest(inbound("ada@example.com", hostile, subject=hostile, sender_name=hostile))
    for url in ["/console/", f"/console/tickets/{result.message.ticket_id}/"]:
        body = console.get(url).content.decode()
        assert hostile not in body
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in body


@pytest.mark.parametrize(("html", "remote"), [
    ('<p>Hi</p><img src="https://track.example/p.gif" width="1">', True),
    ('<img alt="x" src="//cdn.example/logo.png">', True),
    ('<img srcset="https://cdn.example/a.png 2x">', True),
    ('<img src="cid:logo@x"><p>See <a href="https://example.com">our site</a></p>', False),
    ('<p>No images, only <a href="http://example.com/x.png">a link to one</a></p>', False),
    ('<img alt="see https://example.com" src="cid:a">', False),
])
def test_only_images_whose_source_is_remote_count_as_remote(html, remote):
    assert Message(html=html).has_remote_images is remote


def test_the_console_script_gets_its_strings_from_the_javascript_catalog(console):
    page = console.get("/console/").content.decode()
    catalog_at, script_at = page.index('src="/jsi18n/?l=en"'), page.index("console/console.js")
    assert catalog_at < script_at  # gettext exists before the console script runs
    catalog = console.get("/jsi18n/")
    assert catalog.status_code == 200 and "django.gettext" in catalog.content.decode()
    assert catalog["Content-Type"].startswith("text/javascript")
