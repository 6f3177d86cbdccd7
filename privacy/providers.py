"""Personal data held outside `tickets`: the extension point.

Every app that keeps something about a customer (chat sessions, acknowledgements, survey answers,
SLA notes, mailbox copies...) lists a provider in HELPDESK_PERSONAL_DATA_PROVIDERS, a dotted
path to an object (or a class, instantiated without arguments) with:

    label: str                      # a file name in the export zip; default: the last path part
    export(customer) -> dict        # JSON-serialisable; bytes under the key "files"
                                    # ({name: bytes}) are written to the zip as files
    erase(customer) -> int | None   # delete or anonymise; returns how many rows (for the audit)

Both are called once per customer row of the person (the customer and those merged into them),
inside the export or the erasure's transaction: an exception rolls the whole erasure back.
`privacy` never imports the apps; it finds providers through the setting, like channel adapters.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string


def providers() -> list[tuple[str, object]]:
    """(label, provider) for every configured provider. A path that does not import is a clear
    configuration error for export and erasure (never for ingest, which does not look here)."""
    found = []
    for path in getattr(settings, "HELPDESK_PERSONAL_DATA_PROVIDERS", ()):
        try:
            provider = import_string(path)
        except ImportError as exc:
            raise ImproperlyConfigured(f"HELPDESK_PERSONAL_DATA_PROVIDERS: cannot import {path!r}: {exc}") from exc
        if isinstance(provider, type):
            provider = provider()
        if not (callable(getattr(provider, "export", None)) and callable(getattr(provider, "erase", None))):
            raise ImproperlyConfigured(
                f"HELPDESK_PERSONAL_DATA_PROVIDERS: {path!r} needs export(customer) and erase(customer)")
        found.append((getattr(provider, "label", None) or path.rsplit(".", 1)[-1], provider))
    return found
