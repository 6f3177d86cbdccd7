"""All writes to the conversation model go through here; each ends by recording its Event(s).

Views, consumers, tasks and channel adapters parse and authorise, then call one function of this
package. Every function runs in one transaction and publishes only after commit
(tickets.events). Split by topic: inbound, attachments, participants, acknowledgements, outbound,
delivery, workflow, customers.
"""

from tickets.services.attachments import store_attachment_content
from tickets.services.automated import automated_note, file_aside, send_automated, set_identity_flag
from tickets.services.customers import (
    merge_customers,
    set_identity_picture,
    undo_merge,
    update_customer,
)
from tickets.services.delivery import (
    apply_delivery_update,
    mark_failed,
    mark_sent,
    record_attempt,
    retry_delivery,
)
from tickets.services.inbound import IngestResult, ingest, resolve_identity
from tickets.services.listeners import wake_listeners
from tickets.services.mentions import mark_mentions_read, note_with_mentions
from tickets.services.moves import move_message
from tickets.services.opening import open_ticket as open_ticket  # re-exported
from tickets.services.outbound import ReplyRefused, StaleReply, note, reply, route_reply
from tickets.services.outbound import email_recipients as email_recipients  # re-exported
from tickets.services.participants import add_participant, add_participants
from tickets.services.provider_requests import (
    accept_request,
    process_request,
    receive_request,
    write_queued,
)
from tickets.services.tags import set_tags
from tickets.services.workflow import assign, set_priority, set_status

__all__ = [
    "IngestResult", "ReplyRefused", "add_participant", "add_participants", "StaleReply", "apply_delivery_update", "assign", "ingest",
    "mark_failed", "mark_sent", "merge_customers", "update_customer", "note", "process_request", "receive_request",
    "accept_request", "write_queued",
    "record_attempt", "reply", "resolve_identity", "retry_delivery", "route_reply",
    "set_priority", "set_status", "store_attachment_content", "undo_merge",
    "mark_mentions_read", "move_message", "note_with_mentions", "set_tags",
    "automated_note", "file_aside", "send_automated", "set_identity_flag", "set_identity_picture", "wake_listeners",
]
