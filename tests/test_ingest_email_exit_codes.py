"""`manage.py ingest_email` as Postfix runs it: a real process, real broken storage.

Whatever database or storage error happens, start-up included, the exit status is 75
(EX_TEMPFAIL: the MTA keeps the mail and retries); only input that is not mail is 65 (the MTA
bounces it). Before, an unopenable SQLite file gave a traceback and exit 1: Postfix bounced the
customers' mail back to them."""

import os
import subprocess
import sys

import pytest

from tests.email_helpers import mail
from tests.live import ROOT
from tests.test_scaleout import free_port

MAIL = mail(msgid="<pipe-exit@example.org>")
WITH_ATTACHMENT = (
    b"From: Jane <jane@example.org>\r\nTo: support@helpdesk.example.com\r\nSubject: invoice\r\n"
    b"Message-ID: <pipe-file@example.org>\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n'
    b"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=invoice.pdf\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n"
)


def pipe(data: bytes, tmp_path, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    environment.update({"DJANGO_SETTINGS_MODULE": "tests.settings", "HELPDESK_VAR_DIR": str(tmp_path / "var"),
                        "DATABASE_URL": f"sqlite:///{tmp_path / 'helpdesk.sqlite3'}", **env})
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), "ingest_email"], input=data, env=environment,
                          cwd=ROOT, capture_output=True, timeout=120)


def assert_tempfail(result):
    assert result.returncode == 75, (result.returncode, result.stderr.decode()[-2000:])
    assert b"try again later" in result.stderr or b"retry later" in result.stderr


def test_an_sqlite_path_that_cannot_be_opened_is_a_temporary_failure(tmp_path):
    (tmp_path / "is-a-directory.sqlite3").mkdir()
    result = pipe(MAIL, tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'is-a-directory.sqlite3'}")
    assert_tempfail(result)
    assert b"unable to open database file" in result.stderr


def test_an_sqlite_file_in_a_missing_directory_is_a_temporary_failure(tmp_path):
    assert_tempfail(pipe(MAIL, tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'unmounted' / 'helpdesk.sqlite3'}"))


def test_a_corrupt_sqlite_file_is_a_temporary_failure(tmp_path):
    (tmp_path / "corrupt.sqlite3").write_bytes(b"this is not a database " * 200)
    result = pipe(MAIL, tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'corrupt.sqlite3'}")
    assert_tempfail(result)
    assert b"file is not a database" in result.stderr


def test_an_unreachable_postgresql_is_a_temporary_failure(tmp_path):
    port = free_port()  # nothing listens there
    assert_tempfail(pipe(MAIL, tmp_path, DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/helpdesk"))


def test_settings_that_cannot_load_are_a_temporary_failure(tmp_path):
    (tmp_path / "a-file").write_text("")
    result = pipe(MAIL, tmp_path, HELPDESK_VAR_DIR=str(tmp_path / "a-file" / "var"))
    assert_tempfail(result)


def test_only_input_that_is_not_mail_is_65_even_with_the_database_down(tmp_path):
    (tmp_path / "is-a-directory.sqlite3").mkdir()
    result = pipe(b"\x89PNG\r\n\x1a\nnot a mail", tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'is-a-directory.sqlite3'}")
    assert result.returncode == 65 and b"not an email" in result.stderr


@pytest.fixture
def migrated(tmp_path):
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    environment.update({"DJANGO_SETTINGS_MODULE": "tests.settings", "HELPDESK_VAR_DIR": str(tmp_path / "var"),
                        "DATABASE_URL": f"sqlite:///{tmp_path / 'helpdesk.sqlite3'}"})
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], env=environment, cwd=ROOT,
                   check=True, timeout=300)
    return tmp_path


def count(tmp_path, sql):
    import sqlite3

    with sqlite3.connect(tmp_path / "helpdesk.sqlite3") as db:
        return db.execute(sql).fetchone()[0]


def test_attachment_storage_that_cannot_be_written_is_a_temporary_failure_and_the_retry_stores_once(migrated):
    tmp_path = migrated
    media = tmp_path / "var" / "media"
    media.write_text("")  # the media root is a file: every attachment write fails (ENOTDIR)
    result = pipe(WITH_ATTACHMENT, tmp_path)
    assert_tempfail(result)
    assert count(tmp_path, "SELECT COUNT(*) FROM tickets_message") == 0  # nothing half-written
    assert count(tmp_path, "SELECT COUNT(*) FROM tickets_inboundpayload WHERE state = 'failed'") == 1  # kept
    # The MTA retries once storage is back: stored once, exit 0.
    media.unlink()
    retry = pipe(WITH_ATTACHMENT, tmp_path)
    assert retry.returncode == 0, retry.stderr.decode()[-2000:]
    assert retry.stdout.decode().startswith("#")
    assert count(tmp_path, "SELECT COUNT(*) FROM tickets_message") == 1
    assert count(tmp_path, "SELECT COUNT(*) FROM tickets_attachment WHERE state = 'stored'") == 1
