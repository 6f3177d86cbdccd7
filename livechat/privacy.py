"""Live chat's personal data for export and erasure (a HELPDESK_PERSONAL_DATA_PROVIDERS entry):
visitor sessions (name, typed email, page) and which tickets a chat address may see."""

from django.db import transaction
from django.db.models import Q

from livechat.models import Conversation, VisitorSession
from livechat.visitors import address_group
from tickets import doorbell


class ChatVisitors:
    label = "livechat"

    @staticmethod
    def _sessions(customer):
        identities = list(customer.identities.values_list("channel", "address"))
        chat = [address for channel, address in identities if channel == "chat"]
        # A visitor's typed email is only contact information, but it is theirs.
        emails = [address for channel, address in identities if channel == "email"]
        return chat, VisitorSession.objects.filter(Q(address__in=chat) | Q(email__in=emails))

    def export(self, customer) -> dict:
        _chat, sessions = self._sessions(customer)
        return {"visitor_sessions": [
            {"name": s.name, "email": s.email, "user_id": s.user_id, "page_url": s.page_url,
             "referrer": s.referrer, "user_agent": s.user_agent, "pages": s.pages,
             "created_at": s.created_at.isoformat(), "last_seen_at": s.last_seen_at.isoformat()}
            for s in sessions.order_by("pk")]}

    def erase(self, customer) -> int:
        chat, sessions = self._sessions(customer)
        addresses = set(chat) | set(sessions.values_list("address", flat=True))
        # Open widget sockets of these addresses know their tickets from memory (bells carry the
        # events): they close, and their token no longer opens anything.
        groups = [address_group(a) for a in addresses]
        transaction.on_commit(lambda: doorbell.push(groups, {"type": "chat.forget"}), robust=True)
        return sessions.delete()[0] + Conversation.objects.filter(address__in=addresses).delete()[0]
