"""One short text per figure (the page's tooltips, the API's `definitions`, the README),
aligned with Zendesk's published metric definitions; where we differ, the text says so."""

from django.utils.translation import gettext_lazy as _

DEFINITIONS = {
    "created": _("Tickets created in the period, by creation time."),
    "solved": _("Tickets whose latest solve falls in the period. A ticket reopened and solved again "
                "counts once, on its last solve."),
    "backlog": _("Unsolved tickets (new, open or pending) at the end of each bucket. A ticket never "
                 "answered stays here until it is solved."),
    "first_reply_time": _("From the customer's first message to the first public reply an agent sent, for "
                          "tickets solved in the period. A reopened ticket keeps its first reply. Automatic "
                          "messages (acknowledgements, rules, surveys), internal notes and failed replies are "
                          "not replies; tickets never answered are left out. Median and 90th percentile, in "
                          "calendar and in business hours."),
    "next_reply_time": _("From a customer's message after an agent's reply to the agent's next public reply "
                         "(every such wait of the tickets solved in the period). Same exclusions as first "
                         "reply time."),
    "full_resolution_time": _("From the ticket's creation to its latest solve, pending and reopened time "
                              "included (Zendesk's full resolution time), for tickets solved in the period."),
    "sla_achievement": _("Share of SLA targets met among those met or missed, per target (first reply, next "
                         "reply, resolution), for tickets solved in the period."),
    "reopen_rate": _("Share of the tickets solved in the period that were reopened at least once (the "
                     "customer wrote after a solve)."),
    "one_touch_rate": _("Share of the tickets solved in the period that were solved with exactly one public "
                        "agent reply."),
    "csat": _("Share of good ratings (4 or 5 out of 5) among the survey answers given in the period; a "
              "changed answer counts once, as its latest rating. Per agent: the agent the ticket was "
              "assigned to when it was rated."),
    "survey_response_rate": _("Share of the satisfaction surveys sent in the period that were answered."),
    "messages_per_ticket": _("Customer messages plus public agent replies per ticket solved in the period, on "
                             "average. Notes, automatic messages, survey answers and failed replies are left "
                             "out."),
}

DIMENSION_LABELS = {
    "channel": _("Channel"), "inbox": _("Inbox"), "team": _("Team"),
    "agent": _("Agent (first reply; CSAT: assignee when rated)"), "tag": _("Tag"), "priority": _("Priority"),
}
