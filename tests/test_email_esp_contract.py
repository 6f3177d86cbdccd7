"""Every ESP we mount passes the adapter contract through anymail's standard URL: its inbound
payload becomes one message, the same payload twice is one message, bad basic auth or a bad
ESP signature is 403 with nothing stored, and a reply goes out through the mailer.

Payloads are built the way django-anymail's own test-suite builds them (tests/test_<esp>_inbound.py
and test_<esp>_webhooks.py there), carrying our test mail. ESPs that sign their webhooks get a
correctly signed request, and must also refuse a wrong or missing signature, or one of another
body. ESPs whose inbound webhook is only a notification (Mailtrap, Resend) have their API faked
with `responses`, as anymail's tests do; nothing reaches the network. Amazon SES is not here:
its anymail views cannot even be constructed without boto3 (see README)."""

import base64
import contextlib
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from functools import cache
from urllib.parse import urlencode

import pytest
import responses
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings
from django.core import mail as django_mail
from svix.webhooks import Webhook as SvixWebhook

from channels_email import tokens
from tests.contract import AdapterContract, Expected, WebhookRequest, post
from tests.email_helpers import BASIC_AUTH, SUPPORT, WRONG_AUTH, fixture_json, mail, mailgun_signed
from tickets import services
from tickets.models import Event, InboundPayload, Message

REPLY_ID = "<CAF=reply-7731@mail.example.org>"
REPLY_TEXT = "Thanks, the tracking link works now."
RAW = mail(msgid=REPLY_ID, body=REPLY_TEXT).decode()
JANE = "Jane Customer <jane@example.org>"
DATE = "Sat, 25 Jul 2026 10:19:58 -0700"


def auth_variants(good: WebhookRequest) -> list[WebhookRequest]:
    """The same request without basic auth, and with the wrong basic auth."""
    no_auth = {k: v for k, v in good.headers.items() if k != "Authorization"}
    return [WebhookRequest(good.body, good.content_type, no_auth, good.query),
            WebhookRequest(good.body, good.content_type, {**good.headers, "Authorization": WRONG_AUTH}, good.query)]


def tampered(good: WebhookRequest) -> WebhookRequest:
    """Correct basic auth and a genuine signature, but of another body (still valid JSON)."""
    return WebhookRequest(good.body + b"\n", good.content_type, good.headers, good.query)


def json_request(payload, auth=BASIC_AUTH, **headers) -> WebhookRequest:
    return WebhookRequest(json.dumps(payload).encode(), "application/json", {"Authorization": auth, **headers})


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    """MailerSend's and Mailtrap's signature: hex HMAC-SHA256 of the body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class EmailContract(AdapterContract):
    signature_headers: tuple[str, ...] = ()  # the ESP's own signature, if it signs its webhooks

    def expected_messages(self):
        return [Expected("email", REPLY_ID, "jane@example.org", REPLY_TEXT)]

    def unsigned_variants(self):
        good = self.signed_request()
        variants = auth_variants(good)  # the ESP's signature is right, basic auth is not
        if self.signature_headers:
            unsigned = {k: v for k, v in good.headers.items() if k not in self.signature_headers}
            variants += [WebhookRequest(good.body, good.content_type, unsigned, good.query), tampered(good)]
        return variants

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
        return WebhookRequest(urlencode(mailgun_signed(fixture_json("mailgun_inbound_parsed.json"))).encode(),
                              "application/x-www-form-urlencoded", {"Authorization": BASIC_AUTH})

    def unsigned_request(self):
        fields = {**mailgun_signed(fixture_json("mailgun_inbound_parsed.json")), "signature": "0" * 64}
        return WebhookRequest(urlencode(fields).encode(), "application/x-www-form-urlencoded",
                              {"Authorization": BASIC_AUTH})

    @pytest.mark.parametrize("age", [timedelta(days=30), timedelta(hours=10), -timedelta(hours=1)])
    def test_a_validly_signed_request_from_another_time_is_refused(self, client, age):
        # The 30-day-old capture of a real request, replayed: the HMAC checks out, the time not.
        at = int((datetime.now(tz=UTC) - age).timestamp())
        fields = mailgun_signed(fixture_json("mailgun_inbound_parsed.json"), timestamp=at)
        response = post(client, self.url, WebhookRequest(urlencode(fields).encode(),
                                                         "application/x-www-form-urlencoded",
                                                         {"Authorization": BASIC_AUTH}))
        assert response.status_code == 403
        assert "outside the accepted window" in response.content.decode()
        assert InboundPayload.objects.count() == 0 and Message.objects.count() == 0

    def test_a_request_signed_within_the_retry_window_is_accepted(self, client):
        at = int((datetime.now(tz=UTC) - timedelta(hours=8)).timestamp())  # Mailgun's last retry
        fields = mailgun_signed(fixture_json("mailgun_inbound_parsed.json"), timestamp=at)
        response = post(client, self.url, WebhookRequest(urlencode(fields).encode(),
                                                         "application/x-www-form-urlencoded",
                                                         {"Authorization": BASIC_AUTH}))
        assert response.status_code == 200 and Message.objects.count() == 1

    def test_stale_tracking_events_are_refused_too(self, client):
        signature = mailgun_signed({}, timestamp=int((datetime.now(tz=UTC) - timedelta(days=30)).timestamp()))
        body = json.dumps({"signature": {k: signature[k] for k in ("timestamp", "token", "signature")},
                           "event-data": {"event": "delivered", "timestamp": 1785000000.0, "id": "e1",
                                          "message": {"headers": {"message-id": "x@mg.example"}}}}).encode()
        response = post(client, "/anymail/mailgun/tracking/",
                        WebhookRequest(body, "application/json", {"Authorization": BASIC_AUTH}))
        assert response.status_code == 403 and InboundPayload.objects.count() == 0


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


# --- ESPs that sign their webhooks, tracking, and ESP APIs anymail fetches mail from ----------


class SignedEmailContract(EmailContract):
    """The ESP signs its webhooks: a request needs WEBHOOK_SECRET basic auth *and* the signature."""

    secret_setting = ""  # the ANYMAIL setting holding the inbound webhook's signing secret

    def body(self) -> bytes:
        raise NotImplementedError

    def sign(self, body: bytes, secret) -> dict:
        """The ESP's signature headers for `body`."""
        raise NotImplementedError

    def secret(self):
        return settings.ANYMAIL[self.secret_setting]

    def wrong_secret(self):
        return "not-" + self.secret()

    def signed(self, body: bytes, secret) -> WebhookRequest:
        return WebhookRequest(body, "application/json", {"Authorization": BASIC_AUTH, **self.sign(body, secret)})

    def signed_request(self):
        return self.signed(self.body(), self.secret())

    def unsigned_request(self):  # right basic auth, signed with another secret
        return self.signed(self.body(), self.wrong_secret())


class FetchesFromApi:
    """The ESP's inbound webhook only notifies; anymail fetches the mail from the ESP's API, which
    is faked here (anything not registered fails, so nothing reaches the network)."""

    def fake_api(self, api: responses.RequestsMock) -> None:
        raise NotImplementedError

    @staticmethod
    def bearer(setting: str) -> list:
        """Match only requests authenticated with the ANYMAIL `setting` as bearer token."""
        return [responses.matchers.header_matcher({"Authorization": "Bearer " + settings.ANYMAIL[setting]})]

    @pytest.fixture(autouse=True)
    def esp_api(self):
        with responses.RequestsMock(assert_all_requests_are_fired=False) as api:
            self.fake_api(api)
            yield api


class TrackingContract:
    """The ESP's tracking webhook moves our reply forward: it finds the reply by the metadata
    anymail sent with it (outbound.build_reply), which these ESPs hand back in every event."""

    tracking_url = ""
    bounce_reason = ""  # what the bounce event's reason says

    def tracking_request(self, kind: str, metadata: dict) -> WebhookRequest:
        """A signed "delivered" or "bounced" event for the mail sent with `metadata`."""
        raise NotImplementedError

    @pytest.fixture
    def sent_reply(self, client, agent, run_tasks, django_capture_on_commit_callbacks):
        assert post(client, self.url, self.signed_request()).status_code == 200
        inbound = Message.objects.get(external_id=REPLY_ID)
        with django_capture_on_commit_callbacks(execute=True):
            reply = services.reply(inbound.ticket, author=agent, text="We are on it.", channel=inbound.channel,
                                   client_id="tracking-1")
        run_tasks()
        reply.refresh_from_db()
        assert reply.status == Message.Status.SENT, reply.error_message
        sent = next(m for m in django_mail.outbox if m.extra_headers.get("Message-ID") == reply.external_id)
        return reply, sent.metadata

    def _track(self, client, sent_reply, kind):
        reply, metadata = sent_reply
        response = post(client, self.tracking_url, self.tracking_request(kind, metadata))
        assert response.status_code == 200, response.content
        reply.refresh_from_db()
        return reply

    def test_tracking_delivered_moves_the_reply_forward(self, client, sent_reply):
        assert self._track(client, sent_reply, "delivered").status == Message.Status.DELIVERED

    def test_tracking_bounce_fails_the_reply(self, client, sent_reply):
        reply = self._track(client, sent_reply, "bounced")
        assert reply.status == Message.Status.FAILED and reply.error_code == "bounced"
        assert self.bounce_reason in reply.error_message

    def test_tracking_without_auth_or_signature_changes_nothing(self, client, sent_reply):
        reply, metadata = sent_reply
        good = self.tracking_request("bounced", metadata)
        before = InboundPayload.objects.count(), Event.objects.count()
        for request in auth_variants(good) + ([tampered(good)] if self.signature_headers else []):
            response = post(client, self.tracking_url, request)
            assert response.status_code == 403, response.content
        reply.refresh_from_db()
        assert reply.status == Message.Status.SENT
        assert (InboundPayload.objects.count(), Event.objects.count()) == before


class UnsignedJsonContract(EmailContract):
    """The ESP does not sign its webhooks: WEBHOOK_SECRET basic auth is the lock."""

    def payload(self):
        raise NotImplementedError

    def signed_request(self):
        return json_request(self.payload())

    def unsigned_request(self):
        return json_request(self.payload(), auth=WRONG_AUTH)


class TestBrevoContract(TrackingContract, UnsignedJsonContract):
    """Brevo's parsed JSON (no raw MIME); attachments would be downloaded from Brevo's API,
    this mail has none."""

    adapter_key, url, tracking_url = "email_brevo", "/anymail/brevo/inbound/", "/anymail/brevo/tracking/"
    bounce_reason = "mailbox unavailable"

    def payload(self):
        return {"items": [{
            "Uuid": ["aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"],
            "MessageId": REPLY_ID, "InReplyTo": None,
            "From": {"Name": "Jane Customer", "Address": "jane@example.org"},
            "To": [{"Name": None, "Address": SUPPORT}], "Cc": [], "ReplyTo": None,
            "SentAtDate": DATE, "Subject": "My order never arrived", "Attachments": [],
            "Headers": {
                "Received": ["by outbound.example.org for <support@helpdesk.example.com>; ...",
                             "from [10.10.1.22] by smtp.example.org for <support@helpdesk.example.com>; ..."],
                "DKIM-Signature": "v=1; a=rsa-sha256; d=example.org; ...",
                "MIME-Version": "1.0", "From": JANE, "Date": DATE, "Message-ID": REPLY_ID,
                "Subject": "My order never arrived", "To": SUPPORT, "Content-Type": "multipart/alternative",
            },
            "SpamScore": 0.4,
            "ExtractedMarkdownMessage": f"{REPLY_TEXT}  \n", "ExtractedMarkdownSignature": None,
            "RawHtmlBody": f'<div dir="ltr">{REPLY_TEXT}</div>\r\n', "RawTextBody": f"{REPLY_TEXT}\r\n",
        }]}

    def tracking_request(self, kind, metadata):
        event = {"event": "delivered", "email": "jane@example.org", "id": 9999999, "ts_epoch": 1785000000000,
                 "message-id": "<202607251720.27287306012@smtp-relay.mailin.fr>",
                 "subject": "Re: My order never arrived", "X-Mailin-custom": json.dumps(metadata)}
        if kind == "bounced":
            event |= {"event": "hard_bounce",
                      "reason": " RecipientError: 550 5.5.0 Requested action not taken: mailbox unavailable."}
        return json_request(event)


class TestMailjetContract(TrackingContract, UnsignedJsonContract):
    """Mailjet's Parse API JSON."""

    adapter_key, url, tracking_url = "email_mailjet", "/anymail/mailjet/inbound/", "/anymail/mailjet/tracking/"
    bounce_reason = "bounced"  # Mailjet's bounce has no text; the reject reason stands in

    def payload(self):
        return {
            "Sender": "jane@example.org", "Recipient": SUPPORT, "Date": "20260725T171958",
            "From": JANE, "Subject": "My order never arrived",
            "Headers": {
                "Return-Path": ["<jane@example.org>"],
                "Received": ["from mail.example.org by parse.mailjet.com ...",
                             "by 10.10.1.71 with HTTP; Sat, 25 Jul 2026 10:19:58 -0700 (PDT)"],
                "MIME-Version": ["1.0"], "From": JANE, "Date": DATE, "Message-ID": REPLY_ID,
                "Subject": "My order never arrived", "To": SUPPORT,
                "Content-Type": ['multipart/alternative; boundary="boundary0"'],
            },
            "Parts": [{"Headers": {"Content-Type": ['text/plain; charset="UTF-8"']}, "ContentRef": "Text-part"},
                      {"Headers": {"Content-Type": ['text/html; charset="UTF-8"'],
                                   "Content-Transfer-Encoding": ["quoted-printable"]}, "ContentRef": "Html-part"}],
            "Text-part": REPLY_TEXT, "Html-part": f"<div>{REPLY_TEXT}</div>", "SpamAssassinScore": "0.4",
        }

    def tracking_request(self, kind, metadata):
        event = {"event": "sent", "time": 1785000000, "MessageID": 19421777835146490,
                 "Message_GUID": "1ab23cd4-e567-8901-2345-6789f0ab1c2d", "email": "jane@example.org",
                 "mj_campaign_id": 7257, "mj_contact_id": 4, "customcampaign": "", "CustomID": "",
                 "Payload": json.dumps(metadata)}
        if kind == "delivered":
            event |= {"mj_message_id": "19421777835146490",
                      "smtp_reply": "sent (250 2.0.0 OK 1785000000 fa5si855896wjc.199 - gsmtp)"}
        else:
            event |= {"event": "bounce", "blocked": False, "hard_bounce": True,
                      "error_related_to": "recipient", "error": "user unknown"}
        return json_request([event])  # "group events": Mailjet posts an array


class TestMailerSendContract(SignedEmailContract):
    """Basic auth plus MailerSend's signature (hex HMAC-SHA256 of the body, MAILERSEND_INBOUND_SECRET)."""

    adapter_key, url = "email_mailersend", "/anymail/mailersend/inbound/"
    signature_headers, secret_setting = ("Signature",), "MAILERSEND_INBOUND_SECRET"

    def body(self):
        payload = {
            "type": "inbound.message", "inbound_id": "[inbound-route-id-redacted]",
            "url": "https://helpdesk.example.com/anymail/mailersend/inbound/",
            "created_at": "2026-07-25T17:20:01.417935Z",
            "data": {
                "object": "message", "id": "6402ab57f79d39d7e10f2523",
                "recipients": {"rcptTo": [{"email": SUPPORT}],
                               "to": {"raw": SUPPORT, "data": [{"email": SUPPORT, "name": None}]}},
                "from": {"email": "jane@example.org", "name": "Jane Customer", "raw": JANE},
                "sender": {"email": "jane@example.org"},
                "subject": "My order never arrived", "date": DATE,
                "headers": {"From": JANE, "To": SUPPORT, "Subject": "My order never arrived",
                            "Message-ID": REPLY_ID, "Date": DATE, "Content-Type": "text/plain; charset=utf-8"},
                "text": f"{REPLY_TEXT}\r\n", "html": None, "raw": RAW, "attachments": [],
                "spf_check": {"code": "+", "value": None}, "dkim_check": False,
                "created_at": "2026-07-25T17:20:00.525000Z",
            },
        }
        # MailerSend backslash-escapes every "/" in its payloads; anymail's tests emulate it too.
        return json.dumps(payload).replace("/", "\\/").encode()

    def sign(self, body, secret):
        return {"Signature": hmac_sha256_hex(secret, body)}


class TestMailtrapContract(FetchesFromApi, TrackingContract, SignedEmailContract):
    """Basic auth plus Mailtrap's signature (hex HMAC-SHA256, MAILTRAP_INBOUND_SECRET; the tracking
    webhook has its own MAILTRAP_TRACKING_SECRET). The webhook names the message; anymail fetches
    its metadata with MAILTRAP_API_TOKEN, then the raw MIME from the signed S3 URL it gives."""

    adapter_key, url, tracking_url = "email_mailtrap", "/anymail/mailtrap/inbound/", "/anymail/mailtrap/tracking/"
    signature_headers, secret_setting = ("Mailtrap-Signature",), "MAILTRAP_INBOUND_SECRET"
    bounce_reason = "does not exist"
    inbox_id, mailtrap_id = 1111, "0000111122223333444"
    raw_url = "https://mailsend-bodies.s3.amazonaws.com/1111/raw.eml?X-Amz-Signature=test"

    def _notification(self, inbox_id):
        return {"events": [{"event": "inbound.message_received", "event_id": "2eac365a-a49d-11f1-8c43-0a58a9feac03",
                            "timestamp": 1785000000436, "inbox_id": inbox_id, "message_id": self.mailtrap_id,
                            "from": JANE}]}

    def body(self):
        return json.dumps(self._notification(self.inbox_id)).encode()

    def sign(self, body, secret):
        return {"Mailtrap-Signature": hmac_sha256_hex(secret, body)}

    def fake_api(self, api):
        api.get(f"https://mailtrap.io/api/inbound/inboxes/{self.inbox_id}/messages/{self.mailtrap_id}",
                match=self.bearer("MAILTRAP_API_TOKEN"),
                json={"id": self.mailtrap_id, "inbox_id": self.inbox_id, "from": JANE, "to": [SUPPORT],
                      "raw_message_url": self.raw_url, "raw_message_expires_at": "2026-07-26T17:20:00.569Z"})
        api.get(self.raw_url, body=RAW.encode(), content_type="message/rfc822",
                match=[responses.matchers.request_kwargs_matcher({"stream": True})])

    def tracking_request(self, kind, metadata):
        event = {"event": "delivery", "timestamp": 1785000000, "sending_stream": "transactional",
                 "custom_variables": {k: str(v) for k, v in metadata.items()},
                 "message_id": "1df37d17-0286-4d8b-8edf-bc4ec5be86e6", "email": "jane@example.org",
                 "event_id": "bede7236-2284-43d6-a953-1fdcafd0fdbc"}
        if kind == "bounced":
            event |= {"event": "bounce", "response_code": 550, "bounce_category": "hard",
                      "response": "bounced (550 5.1.1 The email account that you tried to reach does not exist.)"}
        return self.signed(json.dumps({"events": [event]}).encode(), settings.ANYMAIL["MAILTRAP_TRACKING_SECRET"])

    def test_the_test_your_integration_sample_is_accepted_and_ignored(self, client, esp_api):
        # Mailtrap's "Test your integration" posts inbox 1; anymail skips it without fetching.
        request = self.signed(json.dumps(self._notification(1)).encode(), self.secret())
        response = post(client, self.url, request)
        assert response.status_code == 200, response.content
        assert Message.objects.count() == 0 and not esp_api.calls


@cache
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """A throwaway key pair per name and test run (nothing secret is committed)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def postal_webhook_key(key: rsa.RSAPrivateKey) -> str:
    """The public key as Postal shows it (the PEM body, without its BEGIN/END lines)."""
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "\n".join(pem.decode().splitlines()[1:-1])


class TestPostalContract(SignedEmailContract):
    """Basic auth plus Postal's signature: RSA PKCS#1 v1.5 / SHA-1 over the body, in
    X-Postal-Signature, checked against POSTAL_WEBHOOK_KEY (the server's public key)."""

    adapter_key, url = "email_postal", "/anymail/postal/inbound/"
    signature_headers = ("X-Postal-Signature",)

    @pytest.fixture(autouse=True)
    def _postal_webhook_key(self, settings):
        settings.ANYMAIL = {**settings.ANYMAIL, "POSTAL_WEBHOOK_KEY": postal_webhook_key(self.secret())}

    def secret(self):
        return rsa_key("postal")

    def wrong_secret(self):
        return rsa_key("another postal server")

    def body(self):
        return json.dumps({"id": 233980, "rcpt_to": SUPPORT, "mail_from": "jane@example.org",
                           "message": base64.b64encode(RAW.encode()).decode(), "base64": True}).encode()

    def sign(self, body, secret):
        signature = secret.sign(body, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 - Postal signs with SHA-1
        return {"X-Postal-Signature": base64.b64encode(signature).decode()}


class TestResendContract(FetchesFromApi, SignedEmailContract):
    """Basic auth plus Resend's svix signature (svix-id/-timestamp/-signature, RESEND_INBOUND_SECRET;
    a timestamp more than five minutes off is refused). The webhook names the email; anymail
    fetches it from Resend's API with RESEND_API_KEY, then its raw MIME from the download URL."""

    adapter_key, url = "email_resend", "/anymail/resend/inbound/"
    signature_headers = ("svix-id", "svix-timestamp", "svix-signature")
    secret_setting = "RESEND_INBOUND_SECRET"
    email_id = "56761188-7520-42d8-8898-ff6fc54ce618"
    raw_url = "https://cdn.resend.example/raw/email.eml?token=abc123"

    def wrong_secret(self):
        return "whsec_" + base64.b64encode(b"another-secret").decode()

    def body(self):
        return json.dumps({"type": "email.received", "created_at": "2026-07-25T17:20:01.126Z",
                           "data": {"email_id": self.email_id, "created_at": "2026-07-25T17:20:00.894719+00:00",
                                    "from": JANE, "to": [SUPPORT], "cc": [], "bcc": [],
                                    "subject": "My order never arrived", "message_id": REPLY_ID,
                                    "attachments": []}}).encode()

    def sign(self, body, secret, at=None):
        svix_id, at = "msg_2W2D3qXLS5fOaPja1GDg7rF2CwB", at or datetime.now(tz=UTC)
        return {"svix-id": svix_id, "svix-timestamp": str(int(at.timestamp())),
                "svix-signature": SvixWebhook(secret).sign(msg_id=svix_id, timestamp=at, data=body.decode())}

    def fake_api(self, api):
        api.get(f"https://api.resend.com/emails/receiving/{self.email_id}",
                match=self.bearer("RESEND_API_KEY"),
                json={"id": self.email_id, "from": JANE, "to": [SUPPORT], "cc": [], "bcc": [], "reply_to": [],
                      "subject": "My order never arrived", "text": REPLY_TEXT, "html": None,
                      "headers": {"Message-ID": REPLY_ID}, "message_id": REPLY_ID,
                      "created_at": "2026-07-25T17:20:00.894719+00:00", "attachments": [],
                      "raw": {"download_url": self.raw_url, "expires_at": "2026-07-26T17:20:00+00:00"}})
        api.get(self.raw_url, body=RAW.encode(), content_type="message/rfc822")

    def test_a_replayed_old_request_is_refused(self, client):
        body, ten_minutes_ago = self.body(), datetime.now(tz=UTC) - timedelta(minutes=10)
        headers = {"Authorization": BASIC_AUTH, **self.sign(body, self.secret(), at=ten_minutes_ago)}
        assert post(client, self.url, WebhookRequest(body, "application/json", headers)).status_code == 403
        assert InboundPayload.objects.count() == 0


@pytest.mark.django_db
def test_mailersend_replies_go_out_without_metadata_and_tracking_finds_them_by_its_id(
        client, agent, run_tasks, settings, django_capture_on_commit_callbacks):
    """MailerSend takes no metadata: the reply is sent without it (anymail refuses it before any
    request) and its tracking events, which name the mail by MailerSend's id, still find it."""
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.mailersend.EmailBackend"}}
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILERSEND_API_TOKEN": "test-mailersend-api-token"}
    contract = TestMailerSendContract()
    assert post(client, contract.url, contract.signed_request()).status_code == 200
    inbound = Message.objects.get(external_id=REPLY_ID)
    with responses.RequestsMock() as api:
        for esp_id in ("61e6f3a06e0b2c8b7c6b9f10", "61e6f3a06e0b2c8b7c6b9f11"):  # the acknowledgement's, the reply's
            api.post("https://api.mailersend.com/v1/email", status=202, body="",
                     headers={"X-Message-Id": esp_id, "Content-Type": "text/html; charset=UTF-8"})
        with django_capture_on_commit_callbacks(execute=True):
            reply = services.reply(inbound.ticket, author=agent, text="On its way.", channel="email",
                                   client_id="mailersend-1")
        run_tasks()
        calls = [(json.loads(call.request.body), call.response.headers["X-Message-Id"]) for call in api.calls]
    replies = [(body, esp_id) for body, esp_id in calls if "On its way." in body.get("text", "")]
    assert len(replies) == 1  # one request: the refused metadata cost no second send
    sent, esp_id = replies[0]
    reply.refresh_from_db()
    assert reply.status == Message.Status.SENT, reply.error_message
    assert sent["in_reply_to"] == REPLY_ID and sent["to"] == [{"email": "jane@example.org"}]
    assert {"name": "Message-ID", "value": reply.external_id} in sent["headers"]

    event = {"type": "activity.hard_bounced", "created_at": "2026-07-25T17:30:00.000000Z", "data": {
        "object": "activity", "id": "62f2b5e2c38a3d7b0a0c7d21", "type": "hard_bounced",
        "created_at": "2026-07-25T17:30:00.000000Z",
        "email": {"object": "email", "id": "62f2b5e1c38a3d7b0a0c7d20", "status": "rejected", "tags": None,
                  "message": {"object": "message", "id": esp_id},
                  "recipient": {"object": "recipient", "email": "jane@example.org"}},
        "morph": {"object": "recipient_bounce", "reason": "550 5.1.1 User unknown",
                  "readable_reason": "The mailbox does not exist."}}}
    body = json.dumps(event).encode()
    signature = hmac_sha256_hex(settings.ANYMAIL["MAILERSEND_SIGNING_SECRET"], body)
    response = post(client, "/anymail/mailersend/tracking/",
                    WebhookRequest(body, "application/json", {"Authorization": BASIC_AUTH, "Signature": signature}))
    assert response.status_code == 200, response.content
    reply.refresh_from_db()
    assert reply.status == Message.Status.FAILED and "mailbox does not exist" in reply.error_message


@pytest.mark.django_db
def test_resend_tracking_without_headers_finds_the_reply_by_resends_id(
        client, agent, run_tasks, settings, django_capture_on_commit_callbacks):
    """Resend echoes our metadata only in events that carry the mail's headers; a bounce names
    the mail by Resend's id alone, which we kept when it was sent."""
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.resend.EmailBackend"}}
    contract = TestResendContract()
    with responses.RequestsMock() as api:
        contract.fake_api(api)
        assert post(client, contract.url, contract.signed_request()).status_code == 200
    inbound = Message.objects.get(external_id=REPLY_ID)
    with responses.RequestsMock() as api:
        for resend_id in ("4ef9a417-02e9-4d39-ad75-9611e0fcc33a", "4ef9a417-02e9-4d39-ad75-9611e0fcc33b"):
            api.post("https://api.resend.com/emails", json={"id": resend_id})  # the acknowledgement, the reply
        with django_capture_on_commit_callbacks(execute=True):
            reply = services.reply(inbound.ticket, author=agent, text="On its way.", channel="email",
                                   client_id="resend-1")
        run_tasks()
        sent = [(json.loads(call.request.body), call.response.json()["id"]) for call in api.calls]
    (resend_id,) = [rid for body, rid in sent if "On its way." in body.get("text", "")]
    reply.refresh_from_db()
    assert reply.status == Message.Status.SENT, reply.error_message

    event = {"type": "email.bounced", "created_at": "2026-07-25T17:30:00.000Z",
             "data": {"email_id": resend_id, "created_at": "2026-07-25T17:29:58.000Z", "from": SUPPORT,
                      "to": ["jane@example.org"], "subject": "Re: My order never arrived",
                      "bounce": {"message": "The recipient's email provider sent a hard bounce message.",
                                 "subType": "General", "type": "Permanent"}}}
    body = json.dumps(event).encode()
    headers = {"Authorization": BASIC_AUTH, **contract.sign(body, settings.ANYMAIL["RESEND_SIGNING_SECRET"])}
    response = post(client, "/anymail/resend/tracking/", WebhookRequest(body, "application/json", headers))
    assert response.status_code == 200, response.content
    reply.refresh_from_db()
    assert reply.status == Message.Status.FAILED and "hard bounce" in reply.error_message


@pytest.mark.django_db
def test_an_esp_listed_without_its_signing_key_is_refused_clearly_not_a_500(client, settings):
    """Postal without POSTAL_WEBHOOK_KEY: anymail's view cannot even be built. The request is
    refused like an unsigned one, the missing setting named in the log, and nothing is stored."""
    settings.ANYMAIL = {k: v for k, v in settings.ANYMAIL.items() if k != "POSTAL_WEBHOOK_KEY"}
    response = client.post("/anymail/postal/inbound/", data=b"{}", content_type="application/json",
                           headers={"Authorization": "Basic " + base64.b64encode(b"hook:secret-pass").decode()})
    assert response.status_code == 403
    assert not InboundPayload.objects.exists() and not Message.objects.exists()
