"""Small helpers for tests: inbound messages, attachments, many threads at once."""

import itertools
import threading

from django.db import connection

from tickets.channels import InboundAttachment, InboundMessage, ThreadHints

_ids = itertools.count(1)


def inbound(sender="ada@example.com", text="Hello", channel="email", external_id=None, **kwargs):
    hints = kwargs.pop("hints", None) or ThreadHints(**kwargs.pop("hint", {}))
    return InboundMessage(channel=channel, external_id=external_id or f"ext-{next(_ids)}", sender=sender,
                          text=text, hints=hints, **kwargs)


def attachment(name="note.txt", content=b"hello", **kwargs):
    return InboundAttachment(filename=name, content=content, **kwargs)


def run_at_once(target, count=50):
    """Call target(i) from `count` threads released together, each with its own database
    connection; returns the exceptions raised (tests assert on them)."""
    barrier = threading.Barrier(count)
    errors = []

    def worker(i):
        try:
            barrier.wait()
            target(i)
        except Exception as exc:  # noqa: BLE001 - collected for the caller to assert on
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors
