import os
import shutil

import pytest
from django.conf import settings
from django.db import connection

from tests.fakes import channel as testing


def is_postgres():
    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items):
    on_pg = os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql"))
    scaled = on_pg and bool(os.environ.get("REDIS_URL"))
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    for item in items:
        if "postgres" in item.keywords and not on_pg:
            item.add_marker(pytest.mark.skip(reason="needs DATABASE_URL=postgres://... (run by .ci/run)"))
        if "scaled" in item.keywords and not scaled:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL and REDIS_URL (run by .ci/run)"))
        if "browser" in item.keywords and not chromium:
            item.add_marker(pytest.mark.skip(reason="needs Debian's chromium (make browser)"))


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A console request activates its agent's language in this thread (the test client runs the
    view here) and nothing deactivates it: without this a German or French test would leave the
    next test's service messages translated."""
    from django.utils import translation

    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _clean_fake_channel():
    from routing.availability import forget_chat_online

    for queue in (testing.outbox, testing.failures, testing.fetch_failures):
        queue.clear()
    forget_chat_online()  # live chat's "we're online" is cached per process for a few seconds
    yield
    for queue in (testing.outbox, testing.failures, testing.fetch_failures):
        queue.clear()


@pytest.fixture
def published(monkeypatch):
    """Every doorbell rung, as (group, seq), instead of going to the channel layer."""
    rung = []
    from tickets import events

    monkeypatch.setattr(events, "publish", lambda groups, seq, carry=None: rung.extend((g, seq) for g in groups))
    return rung


@pytest.fixture
def agent(django_user_model):
    from tickets.management.commands.seed_demo import ensure_agents_group

    user = django_user_model.objects.create_user("agent", password="pw", first_name="Agnes")
    user.groups.add(ensure_agents_group())
    return user


@pytest.fixture
def bob(django_user_model):
    """A second agent."""
    from tickets.management.commands.seed_demo import ensure_agents_group

    user = django_user_model.objects.create_user("bob", password="pw", first_name="Bob")
    user.groups.add(ensure_agents_group())
    return user


@pytest.fixture
def restricted(django_user_model):
    """Rita, an agent without `view_all_teams`, in the Support team: she sees only its tickets
    (and tickets with no team)."""
    from django.contrib.auth.models import Group, Permission

    from tickets.models import Team

    group = Group.objects.create(name="Restricted agents")
    group.permissions.set(Permission.objects.filter(content_type__app_label="tickets").exclude(codename="view_all_teams"))
    user = django_user_model.objects.create_user("rita", password="pw")
    user.groups.add(group)
    Team.objects.create(name="Support").members.add(user)
    return user


@pytest.fixture
def console(client, agent):
    """The test client, logged in as an agent."""
    client.force_login(agent)
    return client


@pytest.fixture
def run_tasks(monkeypatch):
    """Run every task that is due with the real django-tasks-db worker, then return.

    The worker closes "old" connections between tasks, as it should in production; inside a
    test's transaction that would close the test's own connection, so it is a no-op here."""
    from django_tasks_db.management.commands import db_worker
    from django_tasks_db.management.commands.db_worker import Worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run():
        Worker(queue_names=["*"], interval=0, batch=True, backend_name="default", startup_delay=False,
               max_tasks=None, worker_id="pytest", excluded_queue_names=[]).run()

    return run


@pytest.fixture
def media_root():
    return settings.MEDIA_ROOT


@pytest.fixture(scope="module")
def browser():
    """One headless Debian Chromium per test module, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    from tests.live import CHROMIUM_ARGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()
