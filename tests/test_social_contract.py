"""The adapter contract for Messenger, Instagram, WhatsApp Cloud and Telegram, run with the
shared captured payloads and the signatures precomputed in their .source.txt files."""

import contextlib
import hashlib
import hmac
import re
from pathlib import Path

from tests.contract import AdapterContract, Expected, WebhookRequest
from tests.fakes.social import fake_http

FIXTURES = Path(__file__).parent / "fixtures" / "social"
META_URL = "/channels/meta/webhook/"
TELEGRAM_URL = "/channels/telegram/webhook/"
TELEGRAM_SECRET = "test-telegram-secret"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def recorded_signature(name: str) -> str:
    """The X-Hub-Signature-256 published beside the fixture (not recomputed by us)."""
    source = (FIXTURES / name.replace(".json", ".source.txt")).read_text()
    return re.search(r"sha256=[0-9a-f]{64}", source).group(0)


def meta_signature(body: bytes, secret: str = "test-meta-app-secret") -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class MetaContract(AdapterContract):
    url = META_URL
    fixture_name = ""
    send_path = "/me/messages"

    def signed_request(self):
        return WebhookRequest(fixture(self.fixture_name), "application/json",
                              {"X-Hub-Signature-256": recorded_signature(self.fixture_name)})

    def unsigned_request(self):
        body = fixture(self.fixture_name)
        return WebhookRequest(body, "application/json", {"X-Hub-Signature-256": meta_signature(body, "wrong-secret")})

    def unsigned_variants(self):
        body = fixture(self.fixture_name)
        good = recorded_signature(self.fixture_name)
        return [
            WebhookRequest(body, "application/json", {}),
            # The right signature over other bytes: re-serialised JSON would not verify either.
            WebhookRequest(body.rstrip(b"\n"), "application/json", {"X-Hub-Signature-256": good}),
            WebhookRequest(body, "application/json", {"X-Hub-Signature-256": good.removeprefix("sha256=")}),
        ]

    def provider_answer(self, provider_id):
        return {"recipient_id": "x", "message_id": provider_id}

    def fake_provider(self):
        @contextlib.contextmanager
        def provider():
            with fake_http() as api:
                api.on("POST", self.send_path, json=self.provider_answer(self.provider_id))
                yield self.provider_id
            assert len(api.requests) == 1, api.requests  # one send, to the right endpoint

        return provider()


class TestMessengerContract(MetaContract):
    adapter_key = "messenger"
    fixture_name = "meta_messenger_webhook_text.json"
    provider_id = "m_reply_0001"

    def expected_messages(self):
        return [Expected("messenger", "m_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijklmnopqrstuvwxyz",
                         "6543210987654321", "order #4521")]


class TestInstagramContract(MetaContract):
    adapter_key = "instagram"
    fixture_name = "meta_instagram_webhook_text.json"
    provider_id = "aWdfZAG1faXRlbTpyZXBseQ"

    def expected_messages(self):
        mid = ("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAxOjM0MDI4MjM2Njg0MTcxMDMw"
               "MTI0NDI3NjA0Mzk0NjMwNDAxMjM0NTY3")
        return [Expected("instagram", mid, "1234567890123456", "ship to Canada")]


class TestWhatsAppCloudContract(MetaContract):
    adapter_key = "whatsapp_cloud"
    fixture_name = "whatsapp_cloud_webhook_text.json"
    provider_id = "wamid.HBgLMTQxNTU1NTAxMjMVAgARGBJSRVBMWQ=="
    send_path = "/v23.0/106540352242922/messages"

    def provider_answer(self, provider_id):
        return {"messaging_product": "whatsapp", "contacts": [{"input": "14155550123", "wa_id": "14155550123"}],
                "messages": [{"id": provider_id}]}

    def expected_messages(self):
        return [Expected("whatsapp", "wamid.HBgLMTQxNTU1NTAxMjMVAgASGBQzQUVCMDJFQzNEMjhDQTYzNkEzQQA=",
                         "+14155550123", "order 4521")]


class TelegramContract(AdapterContract):
    adapter_key = "telegram"
    url = TELEGRAM_URL
    fixture_name = ""

    def signed_request(self):
        return WebhookRequest(fixture(self.fixture_name), "application/json",
                              {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})

    def unsigned_request(self):
        return WebhookRequest(fixture(self.fixture_name), "application/json",
                              {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET + "x"})

    def unsigned_variants(self):
        body = fixture(self.fixture_name)
        return [WebhookRequest(body, "application/json", {}),
                WebhookRequest(body, "application/json", {"X-Telegram-Bot-Api-Secret-Token": ""}),
                WebhookRequest(body, "application/json", {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET.upper()})]

    def fake_provider(self):
        @contextlib.contextmanager
        def provider():
            with fake_http() as api:
                api.on("POST", "/bot123456:test-bot-token/sendMessage",
                       json={"ok": True, "result": {"message_id": 1366, "chat": {"id": 1111111, "type": "private"},
                                                    "date": 1785000100, "text": "Thanks, we are on it."}})
                yield "1111111:1366"
            assert [r.json() for r in api.requests] == [{"chat_id": "1111111", "text": "Thanks, we are on it."}]

        return provider()


class TestTelegramContract(TelegramContract):
    fixture_name = "telegram_update_message.json"

    def expected_messages(self):
        return [Expected("telegram", "1111111:1365", "1111111", "order 4521")]


class TestTelegramDocsSampleContract(TelegramContract):
    """The official docs sample lacks chat.type and from.is_bot: it must still be a message."""

    fixture_name = "telegram_update_docs_sample_start.json"

    def expected_messages(self):
        return [Expected("telegram", "1111111:1365", "1111111", "/start")]
