"""What the surveys app costs ingest: CPU time and queries per message with and without its
inbound hook (HELPDESK_INBOUND_HOOKS) and event sink, alternating blocks of 200 messages in one
process. The machine is shared, so process time rather than wall time, and the median of six
blocks. Budget: within 5% of ingest without surveys.

    .venv/bin/python bench/surveys_hook.py
"""

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK, ROUNDS = 200, 6


def main():
    sys.path.insert(0, str(ROOT))
    tmp = tempfile.mkdtemp()
    os.environ.update({"DJANGO_SETTINGS_MODULE": "helpdesk.settings", "HELPDESK_VAR_DIR": tmp,
                       "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3"})
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings

    from tickets import services
    from tickets.channels import InboundMessage

    call_command("migrate", verbosity=0)
    with_surveys = {"HELPDESK_INBOUND_HOOKS": list(settings.HELPDESK_INBOUND_HOOKS),
                    "HELPDESK_EVENT_SINKS": list(settings.HELPDESK_EVENT_SINKS)}
    without = {"HELPDESK_INBOUND_HOOKS": [],
               "HELPDESK_EVENT_SINKS": [s for s in settings.HELPDESK_EVENT_SINKS if not s.startswith("surveys.")]}
    counter = iter(range(1, 10**9))

    def message():
        # Follow-ups from 300 customers across email, SMS and chat (the common case).
        i = next(counter)
        channel, address = [("email", f"user{i % 300}@example.com"), ("sms", f"+1415555{i % 300:04d}"),
                            ("chat", f"visitor-{i % 300}")][i % 3]
        return InboundMessage(channel=channel, external_id=f"m{i}", sender=address, text="hello there")

    def block(config) -> float:
        with override_settings(**config):
            start = time.process_time()
            for _ in range(BLOCK):
                services.ingest(message())
            return (time.process_time() - start) / BLOCK * 1000

    def queries(config) -> int:
        with override_settings(**config), CaptureQueriesContext(connection) as captured:
            services.ingest(message())
        return len(captured.captured_queries)

    block(with_surveys), block(without)  # warm-up: new customers, caches
    timings = {"with": [], "without": []}
    for _ in range(ROUNDS):
        timings["with"].append(block(with_surveys))
        timings["without"].append(block(without))
    on, off = (sorted(timings[k])[ROUNDS // 2] for k in ("with", "without"))
    print(f"ingest cpu ms/message (median of {ROUNDS} blocks of {BLOCK}): with surveys {on:.3f}, "
          f"without {off:.3f}, ratio {on / off:.3f} (budget 1.05)")
    print(f"queries per ingest: with surveys {queries(with_surveys)}, without {queries(without)}")


if __name__ == "__main__":
    main()
