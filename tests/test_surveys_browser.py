"""The chat widget's rating card in headless Chromium, driven with the keyboard only: a real
server (Daphne + worker) solves the conversation, the card appears, the visitor rates and
comments, and the helpdesk stores exactly that."""

import json

import pytest

from tests.live import LiveServer, shifted_port
from tests.test_livechat_browser import WAIT, bubbles, expect, open_widget

pytestmark = pytest.mark.browser

SERVER_PORT = shifted_port(8610)


@pytest.fixture(scope="module")
def server():
    with LiveServer(port=SERVER_PORT, setup=[["seed_demo"]]) as live:
        live.shell("from surveys.models import SurveySettings; SurveySettings.objects.update_or_create("
                   "pk=1, defaults={'delay_minutes': 0, 'channels': ['chat']})")
        yield live


def test_the_rating_card_works_with_the_keyboard(server, browser):
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    open_widget(page, server.url("/chat/demo/"))
    page.locator("#helpdesk-chat form.card button[type=submit]").click()  # skip the optional email
    page.locator("#helpdesk-chat textarea").fill("My invoice is wrong")
    page.keyboard.press("Enter")
    expect(bubbles(page, "My invoice is wrong").locator(".tick")).to_have_attribute("data-s", "sent", timeout=WAIT)

    # An agent answers and solves it (through the services, as the console would).
    server.shell(
        "from django.contrib.auth.models import User; from tickets import services; from tickets.models import Message\n"
        "t = Message.objects.get(text='My invoice is wrong').ticket\n"
        "services.reply(t, author=User.objects.get(username='alice'), text='Fixed, sorry!')\n"
        "services.set_status(t, 'solved')")
    expect(bubbles(page, "Fixed, sorry!")).to_have_count(1, timeout=WAIT)
    card = page.locator("#helpdesk-chat .rating-card")
    expect(card).to_be_visible(timeout=WAIT)
    expect(card.get_by_role("group")).to_have_accessible_name("How would you rate this conversation?")

    # Keyboard only: focus lands on the first rating, Tab moves along, Enter chooses.
    card.locator("button.rate").first.focus()
    for _ in range(3):
        page.keyboard.press("Tab")
    expect(card.locator("button.rate").nth(3)).to_be_focused()
    page.keyboard.press("Enter")
    expect(card.locator("button.rate").nth(3)).to_have_attribute("aria-pressed", "true", timeout=WAIT)
    expect(card.locator(".said")).to_have_text("Thanks! You rated 4 of 5.")
    comment = card.locator("textarea")
    expect(comment).to_be_focused()  # straight on to the optional comment
    page.keyboard.type("Quick and friendly")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(card).to_contain_text("Thank you for your feedback!", timeout=WAIT)

    stored = json.loads(server.shell(
        "import json; from surveys.models import Survey; s = Survey.objects.get(channel='chat'); "
        "print(json.dumps([s.rating, s.comment, s.status, s.ticket.status]))").splitlines()[-1])
    assert stored == [4, "Quick and friendly", "answered", "solved"]

    page.reload()  # answered: the card does not come back
    page.locator("#helpdesk-chat .launcher").click()
    expect(bubbles(page, "Fixed, sorry!")).to_have_count(1, timeout=WAIT)
    expect(page.locator("#helpdesk-chat .rating-card")).to_have_count(0)
    context.close()
