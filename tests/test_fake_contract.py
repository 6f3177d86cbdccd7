"""The adapter contract, run against the fake channel: proves the contract suite itself and the
generic webhook path (verify -> keep -> parse -> ingest -> acknowledge)."""

import json

from tests.contract import AdapterContract, Expected, WebhookRequest
from tests.fakes.channel import sign

BODY = json.dumps({"messages": [
    {"id": "m-1", "from": "visitor-1", "name": "Vic", "text": "My parcel is late"},
    {"id": "m-2", "from": "visitor-1", "name": "Vic", "text": "Order 55"},
]}).encode()


class TestFakeAdapterContract(AdapterContract):
    adapter_key = "fake"
    url = "/channels/fake/"

    def signed_request(self):
        return WebhookRequest(BODY, "application/json", {"X-Fake-Signature": sign(BODY)})

    def unsigned_request(self):
        return WebhookRequest(BODY, "application/json", {"X-Fake-Signature": sign(BODY, "wrong")})

    def expected_messages(self):
        return [Expected("fake", "m-1", "visitor-1", "parcel"), Expected("fake", "m-2", "visitor-1", "55")]

    def fake_provider(self):
        import contextlib

        from tickets.models import Message

        @contextlib.contextmanager
        def provider():
            # The fake provider's id is derived from our message id: known once the reply exists.
            class Id(str):
                def __eq__(self, other):
                    return other == f"fake-{Message.objects.filter(direction='outbound').get().pk}"

                __hash__ = str.__hash__

            yield Id("fake-id")

        return provider()
