from django.urls import path

from tickets.console import actions, profile, views

app_name = "console"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("search/", views.search_view, name="search"),
    path("customers/<int:pk>/", profile.customer_profile, name="customer_profile"),
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket"),
    path("tickets/<int:pk>/compose/", views.compose_info, name="compose"),
    path("tickets/<int:pk>/timeline/", views.timeline_fragment, name="timeline"),
    path("tickets/<int:pk>/reply/", actions.post_reply, name="reply"),
    path("tickets/<int:pk>/note/", actions.post_note, name="note"),
    path("tickets/<int:pk>/status/", actions.post_status, name="status"),
    path("tickets/<int:pk>/priority/", actions.post_priority, name="priority"),
    path("tickets/<int:pk>/assign/", actions.post_assign, name="assign"),
    path("tickets/<int:pk>/tags/", actions.post_tags, name="tags"),
    path("tickets/<int:pk>/customer/", actions.post_customer, name="customer"),
    path("tickets/<int:pk>/merge/", actions.post_merge, name="merge"),
    path("merges/<int:pk>/undo/", actions.post_unmerge, name="unmerge"),
    path("messages/<int:pk>/retry/", actions.post_retry, name="retry"),
    path("messages/<int:pk>/move/", actions.post_move, name="move"),
    path("messages/<int:pk>/body/", views.message_body, name="message_body"),
]
