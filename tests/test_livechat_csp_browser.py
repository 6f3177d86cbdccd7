"""The widget on a customer's site that forbids inline styles: a host page on another origin,
served with a strict Content-Security-Policy (`style-src 'self'`, no 'unsafe-inline'), embeds the
widget from the helpdesk. Nothing may be refused (the browser reports every refusal as a
`securitypolicyviolation` event and a console error), and a visitor still chats with an agent."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.live import LiveServer, log_in, shifted_port

pytestmark = pytest.mark.browser

SERVER_PORT, HOST_PORT = shifted_port(8420), shifted_port(8421)
WAIT = 15_000  # ms: generous for a loaded CI machine; nothing here measures speed
HELPDESK = f"http://127.0.0.1:{SERVER_PORT}"
SHOP = f"http://localhost:{HOST_PORT}"  # another origin than the helpdesk: a customer's website

# What README tells a site to allow: the helpdesk in script-src and connect-src, nothing for styles.
STRICT_CSP = (f"default-src 'self'; script-src 'self' {HELPDESK}; style-src 'self'; "
              f"img-src 'self' data:; connect-src 'self' {HELPDESK} ws://127.0.0.1:{SERVER_PORT}")

SHOP_PAGE = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Strict shop</title></head>
<body><main><h1>A shop with a strict CSP</h1>
<script src="{HELPDESK}/chat/widget.js" data-inbox="demo" async></script></main></body></html>"""

# Runs before any page script (Playwright injects it outside the page's CSP): records refusals.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sample || ""));
}, true);
"""


class ShopHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = SHOP_PAGE.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Security-Policy", STRICT_CSP)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def server():
    with LiveServer(port=SERVER_PORT, setup=[["seed_demo"]]) as live:
        # The shop's origin is allowed to talk to the demo inbox, as its admin would list it.
        live.shell("from livechat.models import Inbox; "
                   f"Inbox.objects.filter(key='demo').update(allowed_origins='{HELPDESK}\\n{SHOP}')")
        yield live


@pytest.fixture(scope="module")
def shop():
    httpd = ThreadingHTTPServer(("127.0.0.1", HOST_PORT), ShopHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield SHOP
    httpd.shutdown()
    httpd.server_close()


def expect(locator):
    from playwright.sync_api import expect as pw_expect

    return pw_expect(locator)


def test_widget_works_on_a_host_page_that_forbids_inline_styles(server, shop, browser):
    visitor = browser.new_context(viewport={"width": 390, "height": 844})
    visitor.add_init_script(RECORD_VIOLATIONS)
    page = visitor.new_page()
    console_errors = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)

    response = page.goto(shop + "/")
    assert "style-src 'self';" in response.headers["content-security-policy"]
    launcher = page.locator("#helpdesk-chat .launcher")
    expect(launcher).to_be_visible(timeout=WAIT)
    # The shadow root is styled (a constructed stylesheet): a round 56 px launcher, fixed.
    box = launcher.bounding_box()
    assert round(box["width"]) == 56 and launcher.evaluate("b => getComputedStyle(b).position") == "fixed"

    launcher.click()
    name = page.locator("#helpdesk-chat #hdc-name")
    expect(name).to_be_visible(timeout=WAIT)
    expect(name).to_be_focused()  # opening lands on the first pre-chat field
    page.keyboard.type("Stella Strict")
    page.locator("#helpdesk-chat #hdc-email").fill("stella@example.com")
    page.locator("#helpdesk-chat form.card button[type=submit]").click()
    expect(page.locator("#helpdesk-chat form.card")).to_be_hidden(timeout=WAIT)
    box = page.locator("#helpdesk-chat textarea")
    expect(box).to_be_focused()  # started: the message box is next
    page.keyboard.type("Hello under a strict CSP")
    page.keyboard.press("Enter")
    sent = page.locator("#helpdesk-chat .msg", has_text="Hello under a strict CSP")
    expect(sent.locator(".tick")).to_have_attribute("data-s", "sent", timeout=WAIT)

    # An agent answers from the console; the reply reaches the widget live.
    agent = browser.new_context()
    console = agent.new_page()
    log_in(console, server, "alice")
    row = console.locator("#queue tr[data-ticket]", has_text="Hello under a strict CSP")
    expect(row).to_be_visible(timeout=WAIT)
    console.goto(server.url(f"/console/tickets/{row.get_attribute('data-ticket')}/"))
    console.locator("#reply-form textarea[name=text]").fill("Hi Stella, styles and all.")
    console.locator("#reply-form button[type=submit]").click()
    reply = page.locator("#helpdesk-chat .msg", has_text="Hi Stella, styles and all.")
    expect(reply).to_have_count(1, timeout=WAIT)
    expect(reply.locator(".who")).to_have_text("Alice")
    agent.close()

    violations = page.evaluate("window.__cspViolations")
    refused = [e for e in console_errors if "Content Security Policy" in e]
    visitor.close()
    assert violations == [] and refused == [], f"CSP refused: {violations} {refused}"
