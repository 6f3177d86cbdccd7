"""Inline email images: `cid:` sources rewritten, when the console renders a body, to signed
URLs of the same message's attachments, served only as raster images sniffed from their bytes,
only for an agent who may see the ticket."""

import re
import struct
import time

import pytest
from django.core import signing
from django.test import Client

from channels_email.pipe import ingest_raw
from tests.email_helpers import corpus
from tests.factories import attachment, inbound
from tickets import services
from tickets.console import inline_images
from tickets.models import Attachment, Team

pytestmark = pytest.mark.django_db

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                    "0000000a49444154789c63000100000500010d0a2db40000000049454e44ae426082")
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="9" height="9"/></svg>'
SRC = re.compile(r'<img[^>]*\ssrc="([^"]*)"')


def mail_with(html, *files):
    return services.ingest(inbound("ada@example.com", "see the picture", html=html, attachments=files)).message


def inline(name, content, content_id, content_type="image/png"):
    return attachment(name, content, content_type=content_type, content_id=content_id, inline=True)


def body_of(console, message) -> str:
    response = console.get(f"/console/messages/{message.pk}/body/")
    assert response.status_code == 200
    return response.content.decode()


def sources(html: str) -> list[str]:
    return [s.replace("&amp;", "&") for s in SRC.findall(html)]


def cookieless(url):
    """Fetched as the sandboxed frame does: no session cookie."""
    return Client().get(url)


@pytest.mark.parametrize("url, header", [
    ("cid:shot1@example.com", "<shot1@example.com>"),
    ("CID:Shot1@Example.COM", "shot1@example.com"),  # case-insensitive
    ("cid:%3Cshot1@example.com%3E", " <shot1@example.com> "),  # brackets, even percent-encoded
    ("cid:foo4%25bar1@example.net", "foo4%bar1@example.net"),  # RFC 2392's own example
    ("cid:foo4%bar1@example.net", "foo4%bar1@example.net"),  # a client that did not encode the %
    ("cid:image001.png%4001DAF1A2.3B4C5D60", "image001.png@01DAF1A2.3B4C5D60"),
])
def test_cid_urls_match_content_ids(url, header):
    assert inline_images.content_id_key(header) in inline_images.cid_url_keys(url)


@pytest.mark.parametrize("head, expected", [
    (PNG, "image/png"), (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"), (b"GIF87a\x01\x00", "image/gif"),
    (b"GIF89a\x01\x00", "image/gif"), (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
    (SVG, None), (b"<?xml version='1.0'?><svg", None), (b"<html><script>", None), (b"%PDF-1.7", None),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", None), (b"", None), (b"\x89PNG", None),
])
def test_only_raster_images_are_recognised_from_their_bytes(head, expected):
    assert inline_images.sniff_image(head[:inline_images.SNIFF_BYTES]) == expected


def test_a_cid_image_points_at_this_messages_attachment_and_loads_without_a_cookie(console):
    message = mail_with('<p>Look:</p><img src="cid:Shot1@Example.com" alt="shot">',
                        inline("shot.png", PNG, "shot1@example.com"))
    shot = message.attachments.get()
    [src] = sources(body_of(console, message))
    assert src.startswith(f"/attachments/inline/{shot.pk}/")
    image = cookieless(src)
    assert image.status_code == 200
    assert b"".join(image.streaming_content) == PNG
    assert image["Content-Type"] == "image/png"
    assert image["X-Content-Type-Options"] == "nosniff"
    assert image["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert image["Cache-Control"] == f"private, max-age={inline_images.INLINE_URL_MAX_AGE}"
    assert image["Content-Disposition"].startswith("inline")
    # The stored HTML is untouched: URLs of this deployment never go into the database.
    message.refresh_from_db()
    assert 'src="cid:Shot1@Example.com"' in message.html


def test_the_body_allows_our_inline_images_and_nothing_remote(console):
    message = mail_with('<img src="cid:a@x">', inline("a.png", PNG, "a@x"))
    response = console.get(f"/console/messages/{message.pk}/body/")
    policy = response["Content-Security-Policy"]
    assert "img-src data: http://testserver/attachments/inline/;" in policy
    assert "https:" not in policy and "sandbox" in policy
    assert response["Cache-Control"] == "private, no-store"
    page = console.get(f"/console/tickets/{message.ticket_id}/").content.decode()
    assert "Show remote images" not in page  # our own images are not remote images


def test_another_messages_attachment_is_never_used(console):
    first = mail_with('<img src="cid:logo@shop.example">', inline("logo.png", PNG, "logo@shop.example"))
    # The same customer's next mail names the same cid but carries no such part...
    second = mail_with('<img src="cid:logo@shop.example">')
    assert sources(body_of(console, second)) == ["cid:logo@shop.example"]
    # ...and a third carries its own: each body points at its own message's attachment.
    third = mail_with('<img src="cid:logo@shop.example">', inline("logo.png", PNG, "logo@shop.example"))
    [first_src], [third_src] = sources(body_of(console, first)), sources(body_of(console, third))
    assert f"/{first.attachments.get().pk}/" in first_src and f"/{third.attachments.get().pk}/" in third_src


def test_unknown_cids_and_remote_images_are_left_alone(console):
    message = mail_with('<img src="cid:missing@x"><img src="https://tracker.example/p.gif"><img src="cid:a@x">',
                        inline("a.png", PNG, "a@x"))
    srcs = sources(body_of(console, message))
    assert srcs[:2] == ["cid:missing@x", "https://tracker.example/p.gif"]
    assert srcs[2].startswith("/attachments/inline/")


@pytest.mark.parametrize("name, content, content_type", [
    ("logo.svg", SVG, "image/svg+xml"),
    ("logo.png", SVG, "image/png"),  # the label lies; the bytes decide
    ("page.gif", b"<html><script>alert(1)</script>", "image/gif"),
    ("doc.pdf", b"%PDF-1.7\n", "application/pdf"),
])
def test_anything_but_a_raster_image_stays_download_only(console, name, content, content_type):
    message = mail_with('<img src="cid:x@y">', inline(name, content, "x@y", content_type))
    [src] = sources(body_of(console, message))
    assert cookieless(src).status_code == 404
    download = console.get(f"/attachments/{message.attachments.get().pk}/")
    assert download["Content-Disposition"].startswith("attachment")


def test_an_agent_of_another_team_gets_neither_the_body_nor_the_image(client, agent, restricted):
    message = mail_with('<img src="cid:a@x">', inline("a.png", PNG, "a@x"))
    services.assign(message.ticket, team=Team.objects.create(name="Billing"), actor=agent)
    pk = message.attachments.get().pk
    client.force_login(restricted)
    assert client.get(f"/console/messages/{message.pk}/body/").status_code == 403
    assert cookieless(inline_images.image_url(pk, restricted.pk)).status_code == 403
    # The token names its agent and is checked again when served: revoked access ends it.
    url = inline_images.image_url(pk, agent.pk)
    assert cookieless(url).status_code == 200
    agent.is_active = False
    agent.save()
    assert cookieless(url).status_code == 403


def test_a_token_is_bound_to_its_attachment_and_expires(console, agent, monkeypatch):
    message = mail_with('<img src="cid:a@x"><img src="cid:b@x">', inline("a.png", PNG, "a@x"),
                        inline("b.png", PNG, "b@x"))
    a, b = message.attachments.order_by("pk")
    url = inline_images.image_url(a.pk, agent.pk)
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert cookieless(f"/attachments/inline/{b.pk}/{token}/").status_code == 403
    assert cookieless(f"/attachments/inline/{a.pk}/{token[:-2]}xx/").status_code == 403
    other_agent = f"{agent.pk + 1}:{token.split(':', 1)[1]}"
    assert cookieless(f"/attachments/inline/{a.pk}/{other_agent}/").status_code == 403
    assert cookieless(f"/attachments/{a.pk}/").status_code == 302  # the download still wants a login
    monkeypatch.setattr(signing.TimestampSigner, "timestamp",
                        lambda self: signing.b62_encode(int(time.time()) - inline_images.INLINE_URL_MAX_AGE - 1))
    assert cookieless(inline_images.image_url(a.pk, agent.pk)).status_code == 403


def test_an_outlook_mail_shows_its_screenshot_and_logo(console):
    """End to end: a real-world multipart/related mail through the MTA pipe, the ticket page,
    its body frame, then each image as the frame fetches it."""
    _payload, items = ingest_raw(corpus("mime-related-outlook-inline"))
    message = items[0].message
    assert message.html  # CRLF on the wire did not cost the HTML
    page = console.get(f"/console/tickets/{message.ticket_id}/").content.decode()
    body_url = f"/console/messages/{message.pk}/body/"
    assert f'src="{body_url}"' in page and "Show remote images" not in page
    srcs = sources(body_of(console, message))
    files = {a.pk: a for a in message.attachments.all()}
    sizes = []
    for src in srcs:
        pk = int(re.match(r"/attachments/inline/(\d+)/", src).group(1))
        assert files[pk].message_id == message.pk
        image = cookieless(src)
        content = b"".join(image.streaming_content)
        assert image.status_code == 200 and image["Content-Type"] == "image/png"
        assert content == files[pk].file.open("rb").read()
        sizes.append((files[pk].filename, struct.unpack(">II", content[16:24])))
    assert sizes == [("image001.png", (48, 24)), ("image002.png", (16, 16))]


def test_an_image_that_is_not_stored_yet_is_not_served(console, agent):
    message = mail_with('<img src="cid:a@x">', inline("a.png", PNG, "a@x"))
    shot = message.attachments.get()
    Attachment.objects.filter(pk=shot.pk).update(state=Attachment.State.PENDING)
    assert sources(body_of(console, message)) == ["cid:a@x"]
    assert cookieless(inline_images.image_url(shot.pk, agent.pk)).status_code == 404
