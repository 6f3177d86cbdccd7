"""Customers' profile pictures (customer_pictures): queued by the event sink after a customer
writes on Messenger, Instagram or Telegram, fetched by the real worker through the adapters'
real Graph / Bot API code (faked at the HTTP transport), checked, stored, served to agents from
our origin, refreshed after HELPDESK_PICTURE_REFRESH_DAYS, and erased with the customer."""

import io
import logging
import zipfile
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from customer_pictures import sinks
from customer_pictures.fetching import is_due
from customer_pictures.models import Picture
from customer_pictures.tasks import fetch_picture
from privacy import actions
from tests.factories import inbound
from tests.fakes.social import fake_http, post_meta, post_telegram
from tests.test_livechat_http import PNG
from tickets import events, services
from tickets.models import Event, Identity, Team

pytestmark = pytest.mark.django_db

PAGE, PSID, IG_ACCOUNT, IGSID = "106123456789012", "6543210987654321", "17841400000000001", "1234567890123456"
CHAT = 2222222
BOT = "/bot123456:test-bot-token"
CDN = "https://scontent.xx.fbcdn.net/v/t1.30497-1/"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"


@pytest.fixture(autouse=True)
def pictures_on(settings, tmp_path):
    settings.HELPDESK_CUSTOMER_PICTURES = True
    settings.MEDIA_ROOT = tmp_path  # each test counts its own files
    sinks.forget()


@pytest.fixture
def write(client, django_capture_on_commit_callbacks):
    """A customer's message through the channel's real webhook, with the after-commit sinks run."""
    counter = iter(range(1000, 2000))

    def send(channel="messenger"):
        n = next(counter)
        with django_capture_on_commit_callbacks(execute=True):
            if channel == "telegram":
                response = post_telegram(client, {"update_id": n, "message": {
                    "message_id": n, "date": 1785000000, "text": "hello",
                    "from": {"id": CHAT, "is_bot": False, "first_name": "Tom"},
                    "chat": {"id": CHAT, "first_name": "Tom", "type": "private"}}})
            else:
                obj, account, sender = ("instagram", IG_ACCOUNT, IGSID) if channel == "instagram" else ("page", PAGE, PSID)
                response = post_meta(client, {"object": obj, "entry": [{"id": account, "time": 1785000001234, "messaging": [
                    {"sender": {"id": sender}, "recipient": {"id": account}, "timestamp": 1785000000987,
                     "message": {"mid": f"m_{n}", "text": "hello"}}]}]})
        assert response.status_code == 200, response.content
        return Identity.objects.get(channel=channel)

    return send


def run_until_done(run_tasks):
    """Run the worker until no fetch is waiting (a retry is due a few ms later: test backoff)."""
    for _ in range(50):
        run_tasks()
        if not DBTaskResult.objects.filter(task_path="customer_pictures.tasks.fetch_picture", status="READY").exists():
            return
    raise AssertionError("the picture fetch never finished")


def queued():
    return DBTaskResult.objects.filter(task_path="customer_pictures.tasks.fetch_picture").count()


def graph_profile(api, address=PSID, picture=CDN + "p.jpg?oh=abc&oe=1"):
    api.on("GET", f"/v23.0/{address}", json={"profile_pic": picture, "id": address})


def with_picture(write, run_tasks):
    """A Messenger customer whose PNG picture the worker has fetched."""
    identity = write("messenger")
    with fake_http() as api:
        graph_profile(api)
        api.on("GET", "/v/t1.30497-1/p.jpg", content=PNG)
        run_tasks()
    identity.refresh_from_db()
    return identity


def picture_files():
    return default_storage.listdir("pictures")[1] if default_storage.exists("pictures") else []


# --- success, per channel ------------------------------------------------------------------

def test_messenger_picture_is_fetched_in_the_worker_stored_and_shown(write, run_tasks, console):
    identity = write("messenger")
    assert queued() == 1 and "avatar_url" not in identity.meta  # nothing fetched on the ingest path
    with fake_http() as api:
        graph_profile(api)
        api.on("GET", "/v/t1.30497-1/p.jpg", content=PNG)
        run_tasks()
    profile, download = api.requests
    assert profile.url.params["fields"] == "profile_pic"
    assert profile.headers["Authorization"] == "Bearer test-page-token"
    assert "Authorization" not in download.headers  # the CDN link is signed; no token leaves
    identity.refresh_from_db()
    picture = Picture.objects.get(identity=identity)
    url = identity.meta["avatar_url"]
    assert url == f"/console/pictures/{picture.pk}/?v={picture.digest}"
    assert (picture.content_type, picture.size, picture.error) == ("image/png", len(PNG), "")
    event = Event.objects.get(kind="identity.updated")
    assert event.data == {"identity": identity.pk, "channel": "messenger", "avatar_url": url}

    served = console.get(url)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == PNG
    assert served["X-Content-Type-Options"] == "nosniff" and "sandbox" in served["Content-Security-Policy"]
    assert "private" in served["Cache-Control"]
    page = console.get(f"/console/tickets/{identity.customer.tickets.get().pk}/").content.decode()
    assert f'src="{url.replace("&", "&amp;")}"' in page
    profile_page = console.get(f"/console/customers/{identity.customer_id}/").content.decode()
    assert f'src="{url}"' in profile_page
    queue = console.get("/console/").content.decode()  # the queue's row: the picture, not initials
    assert f'<img class="avatar avatar-sm" src="{url.replace("&", "&amp;")}"' in queue
    found = console.get("/console/search/", {"q": identity.address}).content.decode()  # search's customers
    assert f'<img class="avatar avatar-sm" src="{url.replace("&", "&amp;")}"' in found

    sinks.forget()
    write("messenger")  # a second message: the picture is fresh, nothing is queued
    assert queued() == 1


def test_a_conversation_costs_the_sink_no_read_of_the_events(write, django_assert_num_queries, monkeypatch):
    write("messenger")
    seqs = list(Event.objects.filter(kind="message.created").values_list("seq", flat=True))
    sinks.forget()
    with django_assert_num_queries(2):  # as the change's own sink: their senders, the pictures we hold
        assert sinks.ask_for_pictures(seqs) == 0  # queued already, not answered yet
    with django_assert_num_queries(0):  # the same customer again within QUIET_SECONDS: nothing
        assert sinks.ask_for_pictures(seqs) == 0
    monkeypatch.setattr(events._just_committed, "rows", {})  # run elsewhere (a task): the events are read
    sinks.forget()
    with django_assert_num_queries(3):
        assert sinks.ask_for_pictures(seqs) == 0


def test_instagram_uses_the_instagram_token(write, run_tasks):
    identity = write("instagram")
    with fake_http() as api:
        graph_profile(api, IGSID)
        api.on("GET", "/v/t1.30497-1/p.jpg", content=GIF)
        run_tasks()
    assert api.requests[0].headers["Authorization"] == "Bearer test-instagram-token"
    identity.refresh_from_db()
    assert identity.meta["avatar_url"].startswith("/console/pictures/")
    assert Picture.objects.get(identity=identity).content_type == "image/gif"


def test_telegram_photo_comes_through_getfile_and_the_token_never_shows(write, run_tasks, console):
    identity = write("telegram")
    sizes = [{"file_id": f"photo-{w}", "file_unique_id": f"u{w}", "width": w, "height": w} for w in (160, 320, 640)]
    with fake_http() as api:
        api.on("POST", f"{BOT}/getUserProfilePhotos", json={"ok": True, "result": {"total_count": 3, "photos": [sizes]}})
        api.on("POST", f"{BOT}/getFile", json={"ok": True, "result": {"file_id": "photo-320", "file_path": "photos/f_1.jpg"}})
        api.on("GET", f"/file{BOT}/photos/f_1.jpg", content=PNG)
        run_tasks()
    photos, get_file, download = api.requests
    assert photos.json() == {"user_id": CHAT, "limit": 1}
    assert get_file.json() == {"file_id": "photo-320"}  # the largest size up to 320 px
    assert download.url.path == f"/file{BOT}/photos/f_1.jpg"
    identity.refresh_from_db()
    url = identity.meta["avatar_url"]
    assert "test-bot-token" not in url and url.startswith("/console/pictures/")
    page = console.get(f"/console/tickets/{identity.customer.tickets.get().pk}/").content.decode()
    assert "test-bot-token" not in page


def test_a_telegram_user_without_a_visible_photo_keeps_initials(write, run_tasks):
    identity = write("telegram")
    with fake_http() as api:
        api.on("POST", f"{BOT}/getUserProfilePhotos", json={"ok": True, "result": {"total_count": 0, "photos": []}})
        run_tasks()
    assert len(api.requests) == 1
    identity.refresh_from_db()
    assert "avatar_url" not in identity.meta
    assert Picture.objects.get(identity=identity).checked_at is not None  # asked again only after the refresh


def test_other_channels_never_ask(run_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.ingest(inbound("ada@example.com", "hi", channel="email"))
        services.ingest(inbound("+14155550101", "hi", channel="fakesms"))
    assert queued() == 0 and not Picture.objects.exists()


# --- failures: logged, recorded, nothing half-written ------------------------------------------

def test_an_expired_picture_url_is_recorded_and_not_retried(write, run_tasks, caplog):
    identity = write("messenger")
    with fake_http() as api, caplog.at_level(logging.WARNING, "customer_pictures"):
        graph_profile(api)
        api.on("GET", "/v/t1.30497-1/p.jpg", status=404, content=b"URL signature expired")
        run_tasks()
    assert len(api.requests) == 2  # one try: gone is gone until the next refresh
    picture = Picture.objects.get(identity=identity)
    assert picture.error == "The media is no longer available (404)." and not picture.file
    assert f"customer pictures: identity {identity.pk} (messenger): The media is no longer available (404)." in caplog.text
    identity.refresh_from_db()
    assert "avatar_url" not in identity.meta and picture_files() == []


def test_bytes_that_are_not_an_image_are_refused(write, run_tasks, caplog):
    identity = write("messenger")
    with fake_http() as api, caplog.at_level(logging.WARNING, "customer_pictures"):
        graph_profile(api)
        api.on("GET", "/v/t1.30497-1/p.jpg", content=b"<html><script>alert(1)</script></html>",
               headers={"Content-Type": "image/jpeg"})  # the provider's word is not believed
        run_tasks()
    picture = Picture.objects.get(identity=identity)
    assert picture.error == "The provider's picture is not a JPEG, PNG, WebP or GIF image."
    assert "not a JPEG, PNG, WebP or GIF image" in caplog.text
    assert picture_files() == [] and "avatar_url" not in Identity.objects.get(pk=identity.pk).meta


def test_an_oversized_picture_is_refused_without_reading_it_all(write, run_tasks, settings, caplog):
    settings.HELPDESK_PICTURE_MAX_BYTES = 64
    identity = write("messenger")
    with fake_http() as api, caplog.at_level(logging.WARNING, "customer_pictures"):
        graph_profile(api)
        api.on("GET", "/v/t1.30497-1/p.jpg", content=PNG + b"\0" * 200)
        run_tasks()
    picture = Picture.objects.get(identity=identity)
    assert picture.error == "The file is larger than 64 bytes." and not picture.file
    assert "The file is larger than 64 bytes." in caplog.text
    assert picture_files() == []


def test_a_network_failure_is_retried_with_the_backoff(write, run_tasks, caplog):
    identity = write("messenger")
    with fake_http() as api, caplog.at_level(logging.WARNING, "customer_pictures"):
        api.on("GET", f"/v23.0/{PSID}", status=500, json={"error": {"code": 2, "message": "Service temporarily unavailable"}},
               once=True)
        graph_profile(api)
        api.on("GET", "/v/t1.30497-1/p.jpg", content=PNG)
        run_until_done(run_tasks)
    assert [r.url.path for r in api.requests] == [f"/v23.0/{PSID}", f"/v23.0/{PSID}", "/v/t1.30497-1/p.jpg"]
    assert "attempt 1: Messenger is having trouble: Service temporarily unavailable" in caplog.text
    identity.refresh_from_db()
    assert identity.meta["avatar_url"].startswith("/console/pictures/")


def test_giving_up_after_the_last_attempt_is_recorded(write, run_tasks, settings):
    settings.HELPDESK_DELIVERY_MAX_ATTEMPTS = 2
    identity = write("messenger")
    with fake_http() as api:
        api.on("GET", f"/v23.0/{PSID}", status=503, json={"error": {"code": 2, "message": "down"}})
        run_until_done(run_tasks)
    assert len(api.requests) == 2
    assert Picture.objects.get(identity=identity).error == "Messenger is having trouble: down (gave up after 2 attempts)"


def test_without_a_token_nothing_is_queued_and_one_line_says_why(write, settings, caplog):
    settings.META_PAGE_TOKEN = ""
    with fake_http() as api, caplog.at_level(logging.WARNING, "customer_pictures"):
        write("messenger")
        write("messenger")
    assert api.requests == [] and queued() == 0
    assert caplog.text.count("customer pictures: messenger pictures are not fetched: META_PAGE_TOKEN is not set") == 1


def test_switched_off_nothing_is_queued(write, settings):
    settings.HELPDESK_CUSTOMER_PICTURES = False
    write("messenger")
    assert queued() == 0


# --- refresh -----------------------------------------------------------------------------------

def test_refresh_policy():
    now = timezone.now()
    fresh, stale = now - timedelta(days=6), now - timedelta(days=8)
    assert is_due(None, None, now)  # never asked
    assert not is_due(None, fresh, now)  # checked within HELPDESK_PICTURE_REFRESH_DAYS (7)
    assert is_due(None, stale, now)
    assert not is_due(now - timedelta(minutes=5), None, now)  # queued, not answered yet
    assert not is_due(now - timedelta(minutes=5), stale, now)
    assert is_due(now - timedelta(hours=2), None, now)  # queued long ago: the worker lost it


def test_a_fetch_queued_twice_asks_the_provider_once(write, run_tasks):
    identity = write("messenger")
    fetch_picture.enqueue(identity.pk, "messenger")  # as another process's sink might, meanwhile
    with fake_http() as api:
        graph_profile(api)
        api.on("GET", "/v/t1.30497-1/p.jpg", content=PNG)
        run_tasks()
    assert len(api.requests) == 2  # one profile call, one download
    assert sorted(DBTaskResult.objects.values_list("return_value", flat=True)) == ["skipped", "stored"]


def test_a_stale_picture_is_replaced_on_the_next_message(write, run_tasks, django_capture_on_commit_callbacks):
    identity = with_picture(write, run_tasks)
    old = Picture.objects.get(identity=identity)
    Picture.objects.filter(pk=old.pk).update(checked_at=timezone.now() - timedelta(days=8))
    sinks.forget()  # as after the process's quiet minutes
    write("messenger")
    assert queued() == 2
    with fake_http() as api:
        graph_profile(api, picture=CDN + "new.jpg?oh=def")
        api.on("GET", "/v/t1.30497-1/new.jpg", content=GIF)
        with django_capture_on_commit_callbacks(execute=True):  # the old file goes after commit
            run_tasks()
    new = Picture.objects.get(identity=identity)
    identity.refresh_from_db()
    assert new.digest != old.digest and identity.meta["avatar_url"].endswith(f"?v={new.digest}")
    assert picture_files() == [new.file.rsplit("/", 1)[1]]  # the replaced file is gone


def test_a_removed_picture_goes_back_to_initials(write, run_tasks, django_capture_on_commit_callbacks):
    identity = with_picture(write, run_tasks)
    Picture.objects.filter(identity=identity).update(checked_at=timezone.now() - timedelta(days=8))
    sinks.forget()
    write("messenger")
    with fake_http() as api:
        api.on("GET", f"/v23.0/{PSID}", json={"id": PSID})  # no profile_pic any more
        with django_capture_on_commit_callbacks(execute=True):
            run_tasks()
    identity.refresh_from_db()
    assert "avatar_url" not in identity.meta and picture_files() == []
    assert Event.objects.filter(kind="identity.updated", data__avatar_url="").count() == 1


# --- serving and data rights -------------------------------------------------------------------

def test_the_picture_needs_an_agent(write, run_tasks, client, restricted, agent):
    identity = with_picture(write, run_tasks)
    url = Identity.objects.get(pk=identity.pk).meta["avatar_url"]
    client.logout()
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(restricted)
    assert client.get(url).status_code == 200  # no team: the restricted agent sees the customer
    services.assign(identity.customer.tickets.get(), team=Team.objects.create(name="Billing"), actor=agent)
    assert client.get(url).status_code == 404  # now they do not


def test_export_carries_the_picture_and_erasure_deletes_it(write, run_tasks, agent, django_capture_on_commit_callbacks):
    identity = with_picture(write, run_tasks)
    customer = identity.customer
    archive = zipfile.ZipFile(io.BytesIO(actions.export(customer, actor=agent, via="console").read()))
    assert archive.read(f"pictures/{customer.pk}/messenger-{identity.pk}.png") == PNG
    assert f'"file": "messenger-{identity.pk}.png"' in archive.read("pictures.json").decode()
    assert len(picture_files()) == 1
    with django_capture_on_commit_callbacks(execute=True):
        record = actions.erase(customer, actor=agent, via="console")
    assert record.summary["providers"]["pictures"] == 1
    assert not Picture.objects.exists() and picture_files() == []


def test_a_rolled_back_erasure_keeps_the_picture(write, run_tasks, agent, monkeypatch):
    identity = with_picture(write, run_tasks)

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(actions, "erase_customer", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        actions.erase(identity.customer, actor=agent, via="console")
    assert Picture.objects.filter(identity=identity).exists() and len(picture_files()) == 1


def test_the_backfill_command_queues_the_identities_due(write, settings, run_tasks):
    from io import StringIO

    from django.core.management import call_command

    settings.HELPDESK_CUSTOMER_PICTURES = False  # they wrote before pictures were turned on
    messenger, telegram = write("messenger"), write("telegram")
    settings.HELPDESK_CUSTOMER_PICTURES, settings.TELEGRAM_BOT_TOKEN = True, ""
    out, err = StringIO(), StringIO()
    call_command("fetch_customer_pictures", stdout=out, stderr=err)
    assert out.getvalue().strip() == "1 picture fetches queued" and queued() == 1
    assert "telegram: skipped, TELEGRAM_BOT_TOKEN is not set" in err.getvalue()
    call_command("fetch_customer_pictures", stdout=out)  # already queued: nothing more
    assert queued() == 1
    with fake_http() as api:
        graph_profile(api)
        api.on("GET", "/v/t1.30497-1/p.jpg", content=PNG)
        run_tasks()
    messenger.refresh_from_db(), telegram.refresh_from_db()
    assert "avatar_url" in messenger.meta and "avatar_url" not in telegram.meta
