"""`{% ticket_survey ticket as survey %}`: the ticket's one survey (or None) for the console's
ticket sidebar. One query, run only where the partial is included (the ticket page)."""

from django import template

from surveys.models import Survey

register = template.Library()


@register.simple_tag
def ticket_survey(ticket):
    return Survey.objects.filter(ticket_id=ticket.pk).only(
        "status", "channel", "skip_reason", "scheduled_for", "sent_at", "answered_at", "rating", "comment",
        "history", "ticket_id").first()
