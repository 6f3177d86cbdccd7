"""The shared adapter contract, for Twilio SMS and WhatsApp, with the captured fixtures and the
signatures Twilio computed for them."""

import contextlib
from pathlib import Path

from tests.contract import AdapterContract, Expected, WebhookRequest
from tests.fakes.twilio import Reply, fake_twilio, load_captured

FIXTURES = Path(__file__).parent / "fixtures" / "sms"
FORM = "application/x-www-form-urlencoded"


class TwilioContract(AdapterContract):
    fixture = ""

    def captured(self):
        return load_captured(FIXTURES / self.fixture)

    def signed_request(self):
        captured = self.captured()
        return WebhookRequest(captured.body, FORM, {"X-Twilio-Signature": captured.signature})

    def unsigned_request(self):
        # The genuine signature over a body someone changed on the way.
        captured = self.captured()
        tampered = captured.body.replace(b"Body=", b"Body=Refund+me+now.+", 1)
        return WebhookRequest(tampered, FORM, {"X-Twilio-Signature": captured.signature})

    def unsigned_variants(self):
        captured = self.captured()
        return [
            *super().unsigned_variants(),
            # Right body, but signed for another URL (a query string Twilio never called).
            WebhookRequest(captured.body, FORM, {"X-Twilio-Signature": captured.signature}, query="x=1"),
            WebhookRequest(captured.body, FORM, {"X-Twilio-Signature": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="}),
        ]

    @contextlib.contextmanager
    def fake_provider(self):
        with fake_twilio() as fake:
            # Only for the send: the inbound media download is queued too and may run first.
            fake.replies.append(Reply(201, {"sid": "SMcontract00000000000000000000001", "status": "queued"},
                                      only_for="/Messages.json"))
            yield "SMcontract00000000000000000000001"
            assert len(fake.api_calls) == 1


class TestTwilioSmsContract(TwilioContract):
    adapter_key = "sms"
    url = "/channels/twilio/sms/"
    fixture = "twilio_sms_inbound.txt"

    def expected_messages(self):
        return [Expected("sms", "SM1f2e3d4c5b6a79880f1e2d3c4b5a6978", "+14155550123",
                         "my order #4521 never arrived")]


class TestTwilioWhatsAppContract(TwilioContract):
    adapter_key = "whatsapp"
    url = "/channels/twilio/whatsapp/"
    fixture = "twilio_whatsapp_inbound_media.txt"

    def expected_messages(self):
        return [Expected("whatsapp", "MM2a3b4c5d6e7f80912a3b4c5d6e7f8091", "+14155550123",
                         "photo of the damaged box")]
