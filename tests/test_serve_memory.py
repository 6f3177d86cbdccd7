"""`manage.py serve` caps glibc's malloc arenas before its threads start (issue 20: a loaded
server's heap grew by tens of MB in per-thread arenas and never shrank)."""

import ctypes

from helpdesk.management.commands.serve import _limit_malloc_arenas


class FakeLibc:
    def __init__(self):
        self.calls = []

    def mallopt(self, option, value):
        self.calls.append((option, value))
        return 1


def test_serve_caps_the_arenas_at_two_by_default(monkeypatch):
    libc = FakeLibc()
    monkeypatch.setattr(ctypes, "CDLL", lambda name: libc)
    monkeypatch.delenv("HELPDESK_MALLOC_ARENAS", raising=False)
    _limit_malloc_arenas()
    assert libc.calls == [(-8, 2)]  # M_ARENA_MAX


def test_the_cap_follows_the_setting_and_zero_leaves_glibc_alone(monkeypatch):
    libc = FakeLibc()
    monkeypatch.setattr(ctypes, "CDLL", lambda name: libc)
    monkeypatch.setenv("HELPDESK_MALLOC_ARENAS", "4")
    _limit_malloc_arenas()
    monkeypatch.setenv("HELPDESK_MALLOC_ARENAS", "0")
    _limit_malloc_arenas()
    assert libc.calls == [(-8, 4)]


def test_without_glibc_serve_still_starts(monkeypatch):
    def missing(name):
        raise OSError("no libc here")

    monkeypatch.setattr(ctypes, "CDLL", missing)
    monkeypatch.delenv("HELPDESK_MALLOC_ARENAS", raising=False)
    assert _limit_malloc_arenas() is None
