"""Survey answers for export and erasure (a HELPDESK_PERSONAL_DATA_PROVIDERS entry)."""

from surveys.models import Survey


class SurveyAnswers:
    label = "surveys"

    def export(self, customer) -> dict:
        return {"surveys": [
            {"ticket": s.ticket_id, "channel": s.channel, "status": s.status,
             "sent_at": s.sent_at.isoformat() if s.sent_at else None, "rating": s.rating, "comment": s.comment,
             "answered_at": s.answered_at.isoformat() if s.answered_at else None, "history": s.history}
            for s in Survey.objects.filter(customer=customer).order_by("pk")]}

    def erase(self, customer) -> int:
        # The rating stays for the statistics (like the anonymised tickets); the words go.
        return Survey.objects.filter(customer=customer).update(comment="", history=[])
