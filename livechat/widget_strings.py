"""The chat widget's own words, in the visitor's language.

widget.js runs on the customer's site, not in the console, so it cannot load /jsi18n/ (a script
that would define `gettext` on their page). It calls t("English text") instead, and the session's
config carries the translations of these texts for the language LocaleMiddleware picked from the
visitor's Accept-Language (nothing at all for an English visitor). The list below is the one the
script uses (tests/test_translations.py checks both ways); makemessages collects it."""

from django.utils.translation import get_language, gettext, gettext_noop, pgettext

TEXTS = (
    gettext_noop("Open chat"), gettext_noop("Open chat, %(n)s unread"), gettext_noop("Chat"),
    gettext_noop("Email me a transcript"), gettext_noop("Transcript"), gettext_noop("Close chat"),
    gettext_noop("Conversation"), gettext_noop("Type your message"), gettext_noop("Type your message…"),
    gettext_noop("Attach a file"), gettext_noop("Send"), gettext_noop("Sending"), gettext_noop("Sent"),
    gettext_noop("Seen"), gettext_noop("Not sent"), gettext_noop("Connecting…"), gettext_noop("We're online"),
    gettext_noop("We're away: we'll reply by email"), gettext_noop("Support"),
    gettext_noop("Could not download %(name)s."), gettext_noop("Very bad"), gettext_noop("Bad"),
    gettext_noop("OK"), gettext_noop("Good"), gettext_noop("Very good"),
    gettext_noop("How would you rate this conversation?"), gettext_noop("%(n)s of 5, %(label)s"),
    gettext_noop("Anything to add? (optional)"), gettext_noop("Send feedback"),
    gettext_noop("Thanks! You rated %(n)s of 5."), gettext_noop("Thank you for your feedback!"),
    gettext_noop("Transcript sent to %(email)s."), gettext_noop("%(name)s is typing"),
    gettext_noop("Before we start, how can we reach you?"), gettext_noop("Where should we send the transcript?"),
    gettext_noop("We're away. Leave your email and we'll reply there."), gettext_noop("Name"),
    gettext_noop("Email"), gettext_noop("Email (optional)"), gettext_noop("Send transcript"),
    gettext_noop("Start chat"), gettext_noop("Save"), gettext_noop("Please enter a valid email address."),
    gettext_noop("Files of this type (%(type)s) cannot be sent here."), gettext_noop("unknown"),
    gettext_noop("The file is too large (at most %(mb)s MB)."), gettext_noop("Uploading %(name)s…"),
    gettext_noop("Upload failed."),
)
# The same word meaning something else in the console ("OK": a mailbox's health) has a context.
CONTEXTS = {"OK": "satisfaction rating"}


def translated() -> dict:
    """{"language": code, "strings": {English: translation}} for the active language, only the
    texts whose translation differs."""
    strings = {}
    for text in TEXTS:
        said = pgettext(CONTEXTS[text], text) if text in CONTEXTS else gettext(text)
        if said != text:
            strings[text] = said
    return {"language": get_language() or "en", "strings": strings}
