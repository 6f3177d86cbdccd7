"""Every ESP we mount passes the adapter contract through anymail's standard URL: its inbound
payload becomes one message, the same payload twice is one message, bad basic auth or a bad
ESP signature is 403 with nothing stored, and a reply goes out through the mailer."""

import base64
import contextlib
import hashlib
import hmac
import json
from urllib.parse import urlencode

from django.core import mail as django_mail

from channels_email import tokens
from tests.contract import AdapterContract, Expected, WebhookRequest
from tests.email_helpers import BASIC_AUTH, WRONG_AUTH, fixture_json, mail
from tickets.models import Message

REPLY_ID = "<CAF=reply-7731@mail.example.org>"
RAW = mail(msgid=REPLY_ID, body="Thanks, the tracking link works now.").decode()


class EmailContract(AdapterContract):
    def expected_messages(self):
        return [Expected("email", REPLY_ID, "jane@example.org", "Thanks, the tracking link works now.")]

    def unsigned_variants(self):
        good = self.signed_request()
        no_auth = {k: v for k, v in good.headers.items() if k != "Authorization"}
        return [WebhookRequest(good.body, good.content_type, no_auth, good.query),
                WebhookRequest(good.body, good.content_type, {**good.headers, "Authorization": WRONG_AUTH})]

    def fake_provider(self):
        @contextlib.contextmanager
        def provider():
            class OurMessageId(str):
                """deliver() returns the Message-ID we minted, which names the reply's pk."""

                def __eq__(self, other):
                    reply = Message.objects.get(direction="outbound")
                    return other == tokens.message_id(reply.ticket_id, str(reply.pk))

                __hash__ = str.__hash__

            yield OurMessageId("minted")
            sent = django_mail.outbox[-1]
            assert sent.to == ["jane@example.org"]
            assert sent.extra_headers["In-Reply-To"] == REPLY_ID

        return provider()


class TestMailgunContract(EmailContract):
    adapter_key, url = "email_mailgun", "/anymail/mailgun/inbound/"

    def signed_request(self):
        return WebhookRequest(urlencode(fixture_json("mailgun_inbound_parsed.json")).encode(),
                              "application/x-www-form-urlencoded", {"Authorization": BASIC_AUTH})

    def unsigned_request(self):
        fields = {**fixture_json("mailgun_inbound_parsed.json"), "signature": "0" * 64}
        return WebhookRequest(urlencode(fields).encode(), "application/x-www-form-urlencoded",
                              {"Authorization": BASIC_AUTH})


class TestPostmarkContract(EmailContract):
    adapter_key, url = "email_postmark", "/anymail/postmark/inbound/"

    def signed_request(self):
        return WebhookRequest(json.dumps(fixture_json("postmark_inbound.json")).encode(), "application/json",
                              {"Authorization": BASIC_AUTH})

    def unsigned_request(self):  # Postmark has no signature: basic auth is the lock
        return WebhookRequest(self.signed_request().body, "application/json", {"Authorization": WRONG_AUTH})


class TestSendGridContract(EmailContract):
    adapter_key, url = "email_sendgrid", "/anymail/sendgrid/inbound/"

    def signed_request(self):
        return WebhookRequest(urlencode(fixture_json("sendgrid_inbound_parse.json")).encode(),
                              "application/x-www-form-urlencoded", {"Authorization": BASIC_AUTH})

    def unsigned_request(self):
        return WebhookRequest(self.signed_request().body, "application/x-www-form-urlencoded",
                              {"Authorization": WRONG_AUTH})


class TestSparkPostContract(EmailContract):
    adapter_key, url = "email_sparkpost", "/anymail/sparkpost/inbound/"

    def signed_request(self):
        body = [{"msys": {"relay_message": {
            "content": {"email_rfc822": base64.b64encode(RAW.encode()).decode(), "email_rfc822_is_base64": True},
            "friendly_from": "jane@example.org", "msg_from": "jane@example.org",
            "rcpt_to": "support@helpdesk.example.com", "protocol": "smtp", "webhook_id": "1234"}}}]
        return WebhookRequest(json.dumps(body).encode(), "application/json", {"Authorization": BASIC_AUTH})

    def unsigned_request(self):
        return WebhookRequest(self.signed_request().body, "application/json", {"Authorization": WRONG_AUTH})


def mandrill_signature(fields: dict, key="test-mandrill-key",
                       url="https://helpdesk.example.com/anymail/mandrill/") -> str:
    signed = url + "".join(k + fields[k] for k in sorted(fields))
    return base64.b64encode(hmac.new(key.encode(), signed.encode(), hashlib.sha1).digest()).decode()


class TestMandrillContract(EmailContract):
    adapter_key, url = "email_mandrill", "/anymail/mandrill/"

    def _fields(self):
        events = [{"event": "inbound", "ts": 1785000000, "msg": {
            "raw_msg": RAW, "email": "support@helpdesk.example.com", "from_email": "jane@example.org",
            "spam_report": {"score": 0.1}}}]
        return {"mandrill_events": json.dumps(events)}

    def signed_request(self):
        fields = self._fields()
        return WebhookRequest(urlencode(fields).encode(), "application/x-www-form-urlencoded",
                              {"Authorization": BASIC_AUTH, "X-Mandrill-Signature": mandrill_signature(fields)})

    def unsigned_request(self):
        fields = self._fields()
        return WebhookRequest(urlencode(fields).encode(), "application/x-www-form-urlencoded",
                              {"Authorization": BASIC_AUTH,
                               "X-Mandrill-Signature": mandrill_signature(fields, key="wrong")})
