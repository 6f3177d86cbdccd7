"""A benchmark's own Django: a fresh SQLite database in a temporary directory, no Redis, quiet
logs. Call `setup(prefix)` before importing anything from the project."""

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup(prefix: str) -> Path:
    sys.path.insert(0, str(ROOT))
    tmp = tempfile.mkdtemp(prefix=prefix, dir=os.environ.get("BENCH_TMP"))
    os.environ.update({"HELPDESK_VAR_DIR": tmp, "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
                       "HELPDESK_FROM_EMAIL": "support@helpdesk.example.com", "HELPDESK_LOG_LEVEL": "ERROR",
                       "DJANGO_SETTINGS_MODULE": "helpdesk.settings"})
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    return Path(tmp)
