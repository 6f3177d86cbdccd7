"""RFC 2231 parameters are read the standard library's way, and CPython's whole email test
corpus goes through the MTA pipe without an exception of ours (tests/fixtures/email/cpython)."""

from email import message_from_string, policy

import pytest

from channels_email import mime
from channels_email.pipe import NotMail, ingest_raw
from tests.email_helpers import FIXTURES
from tickets.models import InboundPayload

CPYTHON = sorted((FIXTURES / "cpython").glob("msg_*.txt"))


def test_the_cpython_corpus_is_vendored():
    assert len(CPYTHON) == 48, "tests/fixtures/email/cpython lost files (see its SOURCE.md)"


def test_an_rfc2231_charset_is_collapsed_to_text():
    part = message_from_string("Content-Type: text/plain; charset*=utf-8''utf-8\n\ncaf\xc3\xa9\n",
                               policy=policy.compat32)
    assert isinstance(part.get_param("charset"), tuple)  # the shape that used to crash us
    assert mime.param(part, "charset") == "utf-8"
    assert mime.part_text(part).strip() == "café"


def test_a_continued_rfc2231_parameter_and_an_unknown_charset():
    part = message_from_string("Content-Type: application/pdf; name*0*=utf-8''r%C3%A9sum; name*1*=%C3%A9.pdf\n"
                               "Content-Disposition: attachment; filename*=x-no-such-charset''a%20b.pdf\n\n",
                               policy=policy.compat32)
    assert mime.param(part, "name") == "résumé.pdf"
    assert mime.param(part, "filename", header="content-disposition") == "a b.pdf"
    assert mime.param(part, "missing") == ""


@pytest.mark.django_db
@pytest.mark.parametrize("path", CPYTHON, ids=lambda p: p.stem)
def test_cpython_test_mail_is_never_quarantined_by_an_exception_of_ours(path):
    data = path.read_bytes()
    try:
        payload, _items = ingest_raw(data)
    except NotMail:
        # A fragment without a header block (CPython tests its parser on those too): refused
        # with EX_DATAERR before anything is stored, which is not a crash.
        assert not mime.parse_bytes(data).keys() or b"\n\n" not in data[:200].replace(b"\r\n", b"\n")
        return
    payload.refresh_from_db()
    assert "unparseable" not in payload.error, payload.error
    assert payload.state != InboundPayload.State.FAILED, payload.error


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["msg_32", "msg_33"])
def test_the_two_rfc2231_charset_mails_are_stored(name):
    payload, items = ingest_raw((FIXTURES / "cpython" / f"{name}.txt").read_bytes())
    payload.refresh_from_db()
    assert payload.state == InboundPayload.State.PROCESSED, payload.error
    assert items and items[0].message.text.strip()
