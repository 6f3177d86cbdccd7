"""The visible reply, layer by layer (channels_email.quotes): HTML structure, our own sent text,
reply headers in every language, signatures; then through the pipe into the console."""

import pytest

from channels_email import reply_html, reply_sent
from channels_email.quotes import split_reply
from tests import reply_languages
from tests.reply_languages import LANGUAGES, SENT, bodies

TYPED = "Thanks, the parcel arrived today."


# --- layer 1: HTML structure ------------------------------------------------------------------

@pytest.mark.parametrize("html", [
    # Gmail
    f'<div dir="ltr">{TYPED}</div><br><div class="gmail_quote"><div class="gmail_attr">On Sat, Jul 25, 2026 '
    'Support &lt;s@x.example&gt; wrote:<br></div><blockquote class="gmail_quote">Your parcel left.</blockquote></div>',
    # Apple Mail
    f'<div>{TYPED}</div><div><br><blockquote type="cite"><div>On 25 Jul 2026, at 09:02, Support wrote:</div>'
    '<div>Your parcel left.</div></blockquote></div>',
    # Outlook on the web: everything after #divRplyFwdMsg, siblings included
    f'<div>{TYPED}</div><hr><div id="divRplyFwdMsg"><b>From:</b> Support<br><b>Sent:</b> today</div>'
    '<div>Your parcel left.</div>',
    # Outlook desktop: the border-top rule above the header block
    f'<p>{TYPED}</p><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0in 0in 0in">'
    '<p><b>From:</b> Support</p></div><p>Your parcel left.</p>',
    # Yahoo, Proton, Outlook's x_-prefixed copy of a Gmail quote
    f'<div>{TYPED}</div><div id="yahoo_quoted_123" class="yahoo_quoted">Your parcel left.</div>',
    f'<div>{TYPED}</div><div class="protonmail_quote">Your parcel left.</div>',
    f'<div>{TYPED}</div><div class="x_gmail_quote">Your parcel left.</div>',
], ids=["gmail", "apple", "outlook-web", "outlook-desktop", "yahoo", "proton", "outlook-rewritten-gmail"])
def test_html_quote_containers_are_cut_and_the_text_derived_from_the_rest(html):
    found = reply_html.split(html)
    assert found is not None and not found.interleaved
    assert found.visible_text == TYPED
    assert "Your parcel left." in found.quoted_text


def test_html_bottom_post_keeps_the_text_below_the_quote():
    html = ('<div class="moz-cite-prefix">On 25/07/2026 09:02, Support wrote:<br></div>'
            '<blockquote type="cite">Your parcel left.</blockquote><p>Thanks, it arrived.</p>')
    found = reply_html.split(html)
    assert found.visible_text == "Thanks, it arrived."
    assert "On 25/07/2026 09:02, Support wrote:" in found.quoted_text


def test_html_interleaved_answers_are_not_cut():
    html = ("<blockquote type=cite>Which colour?</blockquote><p>Blue.</p>"
            "<blockquote type=cite>Which size?</blockquote><p>Large.</p>")
    found = reply_html.split(html)
    assert found.interleaved
    split = split_reply("", html)
    assert "Blue." in split.visible and "Which size?" in split.visible and "Large." in split.visible


def test_html_without_quote_or_with_a_forward_is_left_to_the_text_layers():
    assert reply_html.split("<p>Hello, my order <b>4521</b> is late.</p>") is None
    forward = ('<div>FYI</div><div class="gmail_quote">---------- Forwarded message ---------<br>'
               'From: Bob</div>')
    assert reply_html.split(forward) is None


# --- layer 2: our own sent text ---------------------------------------------------------------

def test_our_text_is_found_rewrapped_prefixed_and_flattened():
    lines = ("Fine, thanks!\n\nSomeone:\n> hello jane, your parcel\n> 4521 left our   warehouse this\n"
             "> morning and should reach you").split("\n")
    assert reply_sent.find(lines, [SENT]) == 3
    assert reply_sent.find(lines, ["Something we never wrote to anybody at all"]) is None
    # a reply that *starts* with our words is the customer's own (pasted) text
    assert reply_sent.find(SENT.split("\n"), [SENT]) is None
    assert reply_sent.find(lines, ["Too short"]) is None


@pytest.mark.django_db
def test_a_reply_without_threading_headers_is_matched_against_what_we_sent_to_its_address(agent):
    from channels_email.pipe import ingest_raw
    from tests.email_helpers import mail
    from tickets import services

    ticket = ingest_raw(mail())[1][0].message.ticket
    services.reply(ticket, author=agent, text=SENT)
    text, _html = bodies("en", "unknown_header_text")
    raw = mail(subject="AW: Your parcel", body=text.replace("\n", "\r\n"), msgid="<no-threading@example.org>")
    message = ingest_raw(raw)[1][0].message
    assert message.text == LANGUAGES["en"].typed
    assert message.meta["quoted_text"].startswith(reply_languages.UNKNOWN_HEADER)


def test_an_unknown_language_header_is_found_only_through_our_text():
    text, _html = bodies("en", "unknown_header_text")
    split = split_reply(text, "", [SENT])
    assert split.visible == LANGUAGES["en"].typed
    assert split.quoted.startswith(reply_languages.UNKNOWN_HEADER)
    assert split_reply(text, "", []).visible != LANGUAGES["en"].typed  # no pattern knows it


@pytest.mark.django_db
def test_what_we_sent_is_read_with_one_query(django_assert_num_queries, django_user_model):
    from channels_email.pipe import ingest_raw
    from tests.email_helpers import mail
    from tickets import services

    agent = django_user_model.objects.create_user("agent")
    ticket = ingest_raw(mail())[1][0].message.ticket
    for text in ("First answer.", "Second answer.", "Third answer.", "Fourth answer."):
        services.reply(ticket, author=agent, text=text)
    with django_assert_num_queries(1):
        by_ticket = reply_sent.sent_texts(ticket_id=ticket.pk, sender="")
    with django_assert_num_queries(1):
        by_address = reply_sent.sent_texts(ticket_id=None, sender="jane@example.org")
    assert by_ticket == by_address == ["Fourth answer.", "Third answer.", "Second answer."]
    assert reply_sent.sent_texts(ticket_id=None, sender="nobody@example.org") == []


# --- layer 3: reply headers and separators, a test per language --------------------------------

@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_replies_in_every_client_shape_of_this_language(code):
    lang = LANGUAGES[code]
    for shape in reply_languages.SHAPES:
        text, html = bodies(code, shape)
        sent = [SENT] if shape == "unknown_header_text" else []  # the others need no help
        split = split_reply(text, html, sent)
        assert split.visible == lang.typed, (shape, split)
        assert "warehouse" in split.quoted, (shape, split)
        if shape == "mobile_text":
            assert split.signature == lang.mobile


@pytest.mark.parametrize(("text", "visible"), [
    # attribution wrapped over two and three lines
    ("Ok.\n\nOn Mon, Jan 15, 2025, 5:03 PM Anna Andersson <anna@example.com>\nwrote:\n\n> Hi", "Ok."),
    ("Ok.\n\nOn Wed, Dec 9, Mister Example\n<mr@example.com>\nwrote:\n> Hi", "Ok."),
    ("Ok.\n\nAm Mo., 15. Jan. 2025, 17:03 schrieb Anna <\nanna@example.com>:\n\n> Hallo", "Ok."),
    # the reply's last line is never glued to the header below it
    ("Am heutigen Tage\nAm So., 1. Jan. 2023 um 17:22 Uhr schrieb John <\njohn@example.com>:\n\nx",
     "Am heutigen Tage"),
    # Outlook blocks: any language, bold markers, French spacing, a header flattened on one line
    ("Ok.\n\n*Van:* Team [mailto:t@example.com]\n*Verzonden:* 9 februari 2012\n*Aan:* jow\n*Onderwerp:* x\n\nOld",
     "Ok."),
    ("Ok.\n\nDe : CRM [crm@example.com]\nEnvoyé : vendredi\nÀ : John\nObjet : x\n\nOld", "Ok."),
    ("Ok.\n\nDate: Tue, 2 Oct 2012 02:35:10 +0000 From: j@example.com To: Shelly Subject: x\n\nOld", "Ok."),
    # separators
    ("Ok.\n\n-----Ursprüngliche Nachricht-----\nOld", "Ok."),
    ("Ok.\n\n---- John Smith wrote ----\nOld", "Ok."),
    ("Ok.\n2011/4/7 Nathan <support@example.com>\n\n> Old", "Ok."),
    ("Ok--- On Wed, Apr 4, 2012 at 3:59 PM, me@example.com wrote:\n> Hi", "Ok"),
    # Android / Samsung mail (here in Russian): a separator, then a header block
    ("Спасибо.\n\n-------- Исходное сообщение --------\nОт: Support <s@example.com>\nДата: 25.07.2026 9:02\n"
     "Кому: jane@example.org\nТема: Заказ\n\nOld", "Спасибо."),
    ("Спасибо.\n\n25 июля 2026 г. 9:02 пользователь Support <s@example.com> написал:\n\n> Old", "Спасибо."),
    # the mail's own header block at the top (a reply "with header", an Outlook forward)
    ("Od: Jan <j@example.com>\nWysłano: środa, 1 marca 2023\nDo: Anna\nTemat: x\n\nCześć Anno", "Cześć Anno"),
])
def test_reply_headers_and_separators(text, visible):
    assert split_reply(text).visible == visible


def test_a_mail_that_only_mentions_headers_or_forwards_is_kept_whole():
    prose = "On Friday I tried again.\n\nFrom: my colleague, who says hello.\n\nThanks"
    assert split_reply(prose).visible == prose
    forward = "FYI\n\n---------- Forwarded message ----------\nFrom: bob@example.com\nDate: Tue, Sep 4, 2012\nTo: x\n\nText"
    assert split_reply(forward).visible == forward


# --- layer 4: signatures, interleaving --------------------------------------------------------

def test_signature_delimiter_and_mobile_lines_are_split_off_not_deleted():
    split = split_reply("Yes please.\n\n-- \nJane Doe\nACME Corp")
    assert (split.visible, split.signature) == ("Yes please.", "-- \nJane Doe\nACME Corp")
    split = split_reply("Yes please.\n\nGet Outlook for Android")
    assert (split.visible, split.signature) == ("Yes please.", "Get Outlook for Android")
    keep = "I tried it from my iPhone and my Android tablet, but the page never loads. What now?"
    assert split_reply(keep).visible == keep  # a sentence about phones is not a signature
    assert split_reply("-- \n202-555-1212").visible == "-- \n202-555-1212"  # only a signature: kept


def test_interleaved_answers_are_kept_whole_and_a_sign_off_below_the_quote_stays():
    interleaved = ("Hi,\n\nOn Sat, Jul 25, 2026 at 9:02 AM Support <s@example.com> wrote:\n> Which colour?\n\nBlue.\n\n"
                   "> Which size?\n\nLarge.")
    assert split_reply(interleaved).visible == interleaved
    below = "Hi,\n\nOn Sat, Jul 25, 2026 at 9:02 AM Support <s@example.com> wrote:\n> Which colour?\n\nDo you agree?"
    assert split_reply(below).visible == below
    sign_off = "Done.\n\nOn Sat, Jul 25, 2026 at 9:02 AM Support <s@example.com> wrote:\n> Old\n\nRegards, Jane"
    split = split_reply(sign_off)
    assert (split.visible, split.quoted) == ("Done.\n\nRegards, Jane", split.quoted)
    assert "> Old" in split.quoted


@pytest.mark.parametrize("text", [
    "Hello\n" + " " * 20000 + "x:\n> q",  # these used to backtrack for minutes in header patterns
    "Hello\n-" + " " * 20000 + "Original Message x",
    "reply " + "On 1 " * 5000 + ":",
    "From: " + "To: x " * 20000,
    "\n".join(f"On line {i} something <a@b.example> wrote:" for i in range(5000)),
], ids=["spaces", "separator", "shared-line", "fields", "headers"])
def test_hostile_bodies_are_split_in_bounded_time(text):
    split = split_reply(text, "", ["What is best for the folks who write here?"])
    assert split.visible and split.visible in text


def test_bottom_posted_plain_reply():
    split = split_reply("On Sat, Jul 25, 2026 at 9:02 AM Support <s@example.com> wrote:\n> Old text\n\nNew text")
    assert split.visible == "New text"
    assert "> Old text" in split.quoted


# --- through the pipe and into the console ----------------------------------------------------

@pytest.mark.django_db
def test_the_message_keeps_everything_and_the_console_folds_it(client, agent):
    from channels_email import tokens
    from channels_email.pipe import ingest_raw
    from tests.email_helpers import mail
    from tickets import services
    from tickets.event_bodies import message_data

    ticket = ingest_raw(mail())[1][0].message.ticket
    ours = services.reply(ticket, author=agent, text=SENT)
    raw = reply_languages.mime("fi", "mobile_text", sender="Jane Customer <jane@example.org>",
                               message_id="<r1@example.org>", in_reply_to=tokens.message_id(ticket.pk, str(ours.pk)))
    message = ingest_raw(raw)[1][0].message
    assert message.ticket_id == ticket.pk
    assert message.text == LANGUAGES["fi"].typed
    assert message.meta["signature"] == LANGUAGES["fi"].mobile
    assert "warehouse" in message.meta["quoted_text"]
    original = message.meta["original_text"].replace("\r\n", "\n")
    assert "warehouse" in original and LANGUAGES["fi"].typed in original
    assert message_data(message)["folded"].startswith(LANGUAGES["fi"].mobile)

    client.force_login(agent)
    page = client.get(f"/console/tickets/{ticket.pk}/").content.decode()
    assert '<details class="folded"><summary>Show quoted text</summary>' in page
    assert "Lähetetty iPhonesta" in page and "warehouse" in page


@pytest.mark.django_db
def test_quoted_html_is_kept_sanitised_on_the_message():
    from channels_email.pipe import ingest_raw

    raw = reply_languages.mime("de", "gmail_html", sender="jane@example.org", message_id="<r2@example.org>")
    message = ingest_raw(raw)[1][0].message
    assert message.text == LANGUAGES["de"].typed
    assert message.html == ""
    assert "<blockquote>" in message.meta["original_html"] and "warehouse" in message.meta["original_html"]


@pytest.mark.django_db
def test_a_splitter_failure_keeps_the_mail_whole_instead_of_quarantining_it(monkeypatch, caplog):
    from channels_email import inbound
    from channels_email.pipe import ingest_raw
    from tests.email_helpers import mail

    def broken(*args, **kwargs):
        raise RuntimeError("splitter bug")

    monkeypatch.setattr(inbound, "split_reply", broken)
    payload, items = ingest_raw(mail(body="Where is order 4521?\r\n\r\n> old quote"))
    payload.refresh_from_db()
    assert payload.state == "processed"
    assert items[0].message.text == "Where is order 4521?\n\n> old quote"
    assert "reply split failed for mail from jane@example.org" in caplog.text
