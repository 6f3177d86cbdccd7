"""The console's Reports page at scale, through the full Django stack (middleware, templates,
CSV streaming), on the dataset of bench/reports.py (100,000 tickets, ~1M messages, ~30k survey
responses, SQLite, cached under var/ and built by that script when missing). Target: each page
<= 200 ms, like each report view.

    .venv/bin/python bench/reports_page.py [--size 100000] [--runs 5]
"""

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET_MS = 200.0


def core():
    """bench/reports.py (its module name would shadow the reports app, so loaded by path)."""
    spec = importlib.util.spec_from_file_location("bench_reports", HERE / "reports.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(size: int, runs: int) -> dict[str, float]:
    bench = core()
    path = bench.db_path(size)
    if not (path.exists() and (path.parent / (path.name + ".json")).exists()):
        subprocess.run([sys.executable, str(HERE / "reports.py"), "--child", "build", "--size", str(size)], check=True)
    bench.setup(path)
    import json
    from unittest import mock

    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    lead = get_user_model().objects.get(pk=json.loads((path.parent / (path.name + ".json")).read_text())["lead"])
    client = Client()
    client.force_login(lead)
    base = {"period": "30d", "tz": "UTC"}
    pages = {
        "report page, 30 days": ("/console/reports/", base),
        "report page, CSAT by agent": ("/console/reports/", {**base, "chart": "csat", "by": "agent"}),
        "report page, one channel, by week": ("/console/reports/", {**base, "channel": "email", "bucket": "week"}),
        "drill-down: first reply, 30 days (500 shown)": ("/console/reports/drill/", {**base, "figure": "first_reply_time"}),
        "drill-down: solved, one day": ("/console/reports/drill/", {**base, "figure": "solved", "bucket_start": "2026-11-20"}),
        "drill CSV: first reply, 30 days (all rows)": ("/console/reports/drill.csv", {**base, "figure": "first_reply_time"}),
        "table CSV: volume": ("/console/reports/table.csv", {**base, "table": "volume"}),
    }
    results = {}
    with mock.patch.object(timezone, "now", lambda: bench.NOW):
        for name, (url, query) in pages.items():
            def get(url=url, query=query):
                response = client.get(url, query)
                assert response.status_code == 200, (url, response.status_code)
                if response.streaming:
                    b"".join(response.streaming_content)
            get()  # warm
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                get()
                times.append((time.perf_counter() - started) * 1000)
            results[name] = statistics.median(times)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results = measure(args.size, args.runs)
    print(f"Reports page over {args.size:,} tickets (median of {args.runs}; target <= {TARGET_MS:.0f} ms each)")
    for name, ms in results.items():
        print(f"{name:<48}{ms:>10.1f} ms   {'met' if ms <= TARGET_MS else 'MISSED'}")


if __name__ == "__main__":
    main()
