"""What events carry: the JSON a console or widget needs to render a change without a query."""

from django.urls import reverse


def attachment_data(attachment) -> dict:
    return {
        "id": attachment.pk,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "inline": attachment.inline,
        "state": attachment.state,
        "url": reverse("attachment", args=[attachment.pk]) if attachment.state == "stored" else "",
    }


def message_data(message, attachments=None) -> dict:
    if attachments is None:
        attachments = list(message.attachments.all())
    return {
        "id": message.pk,
        "ticket": message.ticket_id,
        "customer": message.customer_id,
        "direction": message.direction,
        "channel": message.channel,
        "author": message.author_name,
        "subject": message.subject,
        "text": message.text,
        "folded": message.folded_text,
        "html": message.html,
        "status": message.status,
        "error": message.error_message,
        "error_code": message.error_code,
        "client_id": message.client_id,
        "html_dropped": message.html_dropped,
        "created_at": message.created_at.isoformat(),
        "attachments": [attachment_data(a) for a in attachments],
    }


def status_data(message) -> dict:
    """The message.status event's payload: what the console and the widget need to update a
    sent message's tick or show why it failed."""
    return {"id": message.pk, "client_id": message.client_id, "status": message.status,
            "error": message.error_message, "error_code": message.error_code}


def ticket_data(ticket) -> dict:
    return {
        "id": ticket.pk,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "inbox": ticket.inbox,
        "customer": ticket.customer_id,
        "assignee": ticket.assignee_id,
        "team": ticket.team_id,
        "waiting_since": ticket.waiting_since.isoformat() if ticket.waiting_since else None,
        "updated_at": ticket.updated_at.isoformat() if ticket.updated_at else None,
        "created_at": ticket.created_at.isoformat() if ticket.created_at else None,
    }
