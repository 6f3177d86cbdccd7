"""A customer's profile picture in the real console (headless Chromium): the ticket page and the
customer profile show it as an <img> served by our own origin (the console's CSP allows images
from 'self' only, so a picture that paints proves it), at desktop and phone sizes, in light and
dark, with an axe-core pass. The fetching itself is tested in tests/test_customer_pictures.py."""

import os
import re
import struct
import zlib

import pytest
from playwright.sync_api import expect

from tests.a11y import assert_accessible
from tests.live import LiveServer, shifted_port

pytestmark = pytest.mark.browser

SERVER_PORT = shifted_port(8580)
WAIT = 15_000  # ms
VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
SIDE = 48  # px of the picture we store


def png(side: int, rgb=(200, 90, 40)) -> bytes:
    """A real, decodable PNG of one colour (the browser must paint it: naturalWidth)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + bytes(rgb) * side for _ in range(side))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def server():
    with LiveServer(port=SERVER_PORT, setup=[["seed_demo"]]) as live:
        yield live


@pytest.fixture(scope="module")
def customer(server):
    """A Messenger customer whose picture the worker stored (through the same store() the fetch uses)."""
    out = server.shell(
        "from tickets import services; from tickets.channels import InboundMessage; "
        "from customer_pictures.fetching import store; "
        "r = services.ingest(InboundMessage(channel='messenger', adapter='messenger', external_id='m_pic_1', "
        "sender='6543210987654321', sender_name='Marta Quintero', text='Where is my parcel?')); "
        f"p = store(r.message.identity_id, {png(SIDE)!r}, 'image/png'); "
        "from tickets.models import Identity; "
        "print(r.message.ticket_id, r.message.customer_id, Identity.objects.get(pk=p.identity_id).meta['avatar_url'])")
    ticket, customer_id, url = out.splitlines()[-1].split()
    return {"ticket": ticket, "customer": customer_id, "url": url}


def page_in(browser, server, viewport, scheme):
    context = browser.new_context(base_url=server.url(""), viewport=VIEWPORTS[viewport], color_scheme=scheme,
                                  has_touch=viewport == "phone")
    page = context.new_page()
    page.goto("/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "helpdesk-demo")
    page.click("form.login button[type=submit]")
    page.wait_for_url(re.compile(r"/console/"), timeout=WAIT)
    return page


def painted_picture(page, selector: str, timeout: int = WAIT) -> dict:
    img = page.locator(selector)
    img.wait_for(timeout=timeout)
    page.wait_for_function("(el) => el.complete", arg=img.element_handle(), timeout=WAIT)
    return img.evaluate("""(el) => ({src: el.getAttribute('src'), width: el.naturalWidth, alt: el.getAttribute('alt'),
                                     sameOrigin: new URL(el.src).origin === location.origin,
                                     shown: el.getBoundingClientRect().width})""")


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_ticket_and_profile_show_the_picture_from_our_origin(server, browser, customer, viewport, scheme):
    page = page_in(browser, server, viewport, scheme)
    for path, selector in ((f"/console/tickets/{customer['ticket']}/", ".customer-head img.avatar"),
                           (f"/console/customers/{customer['customer']}/", ".profile-head img.avatar")):
        page.goto(path)
        picture = painted_picture(page, selector)
        assert picture["src"] == customer["url"], path
        assert picture["sameOrigin"] and picture["width"] == SIDE, f"the picture did not paint on {path}: {picture}"
        assert picture["alt"] == "" and picture["shown"] >= 40  # decorative: the name is written beside it
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        assert_accessible(page, label=f"{path} {viewport} {scheme}")
        if os.environ.get("HELPDESK_SCREENSHOT_DIR"):  # to be looked at by a person
            name = "ticket" if "/tickets/" in path else "profile"
            page.screenshot(path=os.path.join(os.environ["HELPDESK_SCREENSHOT_DIR"], f"picture-{name}-{viewport}-{scheme}.png"))
    page.context.close()


def test_an_open_ticket_shows_a_picture_fetched_while_it_is_open(server, browser):
    """The worker's store() records identity.updated; the console swaps the initials live."""
    out = server.shell(
        "from tickets import services; from tickets.channels import InboundMessage; "
        "r = services.ingest(InboundMessage(channel='telegram', adapter='telegram', external_id='1:1', "
        "sender='3333333', sender_name='Tomas Live', text='hi')); print(r.message.ticket_id, r.message.identity_id)")
    ticket, identity = out.splitlines()[-1].split()
    page = page_in(browser, server, "desktop", "light")
    page.goto(f"/console/tickets/{ticket}/")
    assert page.locator(".customer-head span.avatar").inner_text() == "TL"
    expect(page.locator("#live-status")).to_have_text("live", timeout=WAIT)
    server.shell(f"from customer_pictures.fetching import store; store({identity}, {png(SIDE, (30, 120, 200))!r}, 'image/png')")
    # Another process (this shell) wrote the event: the console hears it on its next look at
    # the log (HELPDESK_EVENT_POLL_SECONDS); the worker inside `serve` would ring at once.
    picture = painted_picture(page, ".customer-head img.avatar", timeout=WAIT * 2)
    assert picture["width"] == SIDE and picture["src"].startswith("/console/pictures/")
    page.context.close()


def test_the_picture_is_not_served_without_a_login(server, browser, customer):
    context = browser.new_context(base_url=server.url(""))
    response = context.request.get(customer["url"], max_redirects=0)
    assert response.status == 302 and "/login/" in response.headers["location"]
    context.close()
