"""1,000 mixed emails through the `manage.py ingest_email` code path (store raw payload -> parse ->
thread -> ingest -> acknowledge) on a fresh SQLite database. Prints messages/s; target >= 500/s.

    .venv/bin/python bench/email_ingest.py [COUNT]
"""

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET = 500.0
COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 1000

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _fresh_db import setup  # noqa: E402

setup("bench-email-")
from django.core.management import call_command  # noqa: E402

from channels_email import tokens  # noqa: E402
from channels_email.pipe import ingest_raw  # noqa: E402
from tickets.models import InboundPayload, Message, Ticket  # noqa: E402

CORPUS = ROOT / "tests" / "fixtures" / "email" / "corpus"
SUPPORT = "support@helpdesk.example.com"


def new_mail(i: int, sender: str = "") -> bytes:
    sender = sender or f"Customer {i % 300} <customer{i % 300}@example.org>"
    return (f"From: {sender}\r\nTo: {SUPPORT}\r\n"
            f"Subject: Order {i} has not arrived\r\nMessage-ID: <new-{i}@example.org>\r\n"
            f"Date: Sat, 25 Jul 2026 10:19:58 -0700\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Hello, my order {i} never arrived. Can you check?\r\n\r\nThanks\r\n").encode()


def reply_mail(i: int, ticket_id: int, sender: str) -> bytes:
    ours = tokens.message_id(ticket_id, "1")
    return (f"From: {sender}\r\nTo: {SUPPORT}\r\nSubject: Re: Order [#{ticket_id}]\r\n"
            f"Message-ID: <reply-{i}@example.org>\r\nIn-Reply-To: {ours}\r\nReferences: {ours}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n"
            "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYes, that works, thank you.\r\n\r\n"
            f"On Sat, Jul 25, 2026 at 9:02 AM Example Support <{SUPPORT}> wrote:\r\n> Shall we resend?\r\n"
            "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<div>Yes, that works, thank you.</div>"
            "<blockquote>Shall we resend?</blockquote>\r\n--b--\r\n").encode()


def corpus_mail(i: int, path: Path) -> bytes:
    # Each corpus file once per round, with a fresh Message-ID so it is a new message.
    data = path.read_bytes()
    return data.replace(b"Message-ID: <", f"Message-ID: <r{i}.".encode(), 1)


def main():
    call_command("migrate", verbosity=0)
    corpus = sorted(p for p in CORPUS.glob("*.eml") if not p.name.startswith("large-"))
    # Warm up (imports, caches) and create tickets the replies thread into.
    # (Distinct senders, each under the per-sender hourly circuit breaker.)
    seeds = [ingest_raw(new_mail(100000 + n, f"seed{n}@example.org"))[1][0].message for n in range(20)]
    for path in corpus:  # every kind of mail once (charsets, attachments, reports), as a server would have
        ingest_raw(corpus_mail(-1, path))
    mails = []
    for i in range(COUNT):
        kind = i % 10
        if kind < 5:
            mails.append(new_mail(i))
        elif kind < 8:
            seed = seeds[(i // 10 * 3 + kind - 5) % len(seeds)]  # spread over all seeds
            mails.append(reply_mail(i, seed.ticket_id, seed.identity.address))
        else:
            mails.append(corpus_mail(i, corpus[i % len(corpus)]))
    before = Message.objects.count()
    start, cpu_start = time.perf_counter(), time.process_time()
    for data in mails:
        ingest_raw(data)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    rate = len(mails) / elapsed
    stored = Message.objects.count() - before
    quarantined = InboundPayload.objects.filter(state="quarantined").count()
    # The channel's own share: parsing, threading and noise rules (no storage), for the record.
    from channels_email import inbound, mime

    start = time.perf_counter()
    for data in mails:
        try:
            inbound.to_items(mime.parse_bytes(data), adapter_key="email_pipe", raw=data)
        except Exception:  # noqa: BLE001,S110 - quarantined ones count too
            pass
    parse_rate = len(mails) / (time.perf_counter() - start)
    print(f"  parse + thread + noise rules alone: {parse_rate:.0f} messages/s")
    print(f"email ingest (MTA pipe path, SQLite): {len(mails)} mails in {elapsed:.2f} s "
          f"= {rate:.0f} messages/s (target >= {TARGET:.0f}/s) "
          f"[{stored} messages, {Ticket.objects.count()} tickets, {quarantined} quarantined] "
          f"{'OK' if rate >= TARGET else 'BELOW TARGET'}")
    # CPU time of this process: steadier than wall time on a shared machine, for comparing changes.
    print(f"  process CPU time: {cpu:.2f} s = {len(mails) / cpu:.0f} messages per CPU-second")
    from collections import Counter

    reasons = Counter(e.split(":")[0][:60] for e in InboundPayload.objects.filter(state="quarantined")
                      .values_list("error", flat=True))
    print("  quarantined:", dict(reasons))
    return 0  # the verdict is printed; run.py reports only benchmarks that crashed


if __name__ == "__main__":
    sys.exit(main())
