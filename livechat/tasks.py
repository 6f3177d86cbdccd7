"""Background work of the chat (django.tasks): mail never blocks a visitor's socket."""

from django.tasks import task

from livechat import mail
from livechat.models import VisitorSession


@task()
def send_transcript(session_id: int) -> str:
    session = VisitorSession.objects.select_related("inbox").filter(pk=session_id).first()
    if session is None or not session.email:
        return "skipped"
    return f"sent {mail.send_transcript(session)} messages"
