"""HELPDESK_CHANNELS options are checked when an adapter is built: a typo is a clear error
naming the channel key and the option, never a silent fall-back to the global setting."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from channels_social.messenger import InstagramAdapter
from channels_social.whatsapp import WhatsAppCloudAdapter
from tests.test_email_outbound import _production_settings
from tickets.channels import _load, clear_adapter_cache, get_adapter


@pytest.fixture(autouse=True)
def fresh_adapters():
    clear_adapter_cache()
    yield
    clear_adapter_cache()


def test_a_misspelt_option_names_the_channel_and_the_option(settings):
    settings.HELPDESK_CHANNELS = {**settings.HELPDESK_CHANNELS, "email_import": {
        "BACKEND": "channels_email.adapter.MtaPipeAdapter", "acknowlege": False}}
    with pytest.raises(ImproperlyConfigured,
                       match=r"HELPDESK_CHANNELS\['email_import'\]: unknown option 'acknowlege' for "
                             r"MtaPipeAdapter \(options it reads here: acknowledge\)"):
        get_adapter("email_import")


def test_options_add_up_along_the_class_hierarchy():
    # Instagram reads its own page_token, Messenger's token and the Meta app secret...
    adapter = InstagramAdapter("instagram", token="t", page_token="p", app_secret="s")
    assert (adapter.token(), adapter.setting("app_secret", "META_APP_SECRET")) == ("t", "s")
    # ...while page_token means nothing to WhatsApp Cloud, a sibling class.
    with pytest.raises(ImproperlyConfigured, match=r"\['whatsapp_cloud'\]: unknown option 'page_token'"):
        WhatsAppCloudAdapter("whatsapp_cloud", page_token="p")


def test_an_adapter_that_reads_no_options_refuses_any():
    with pytest.raises(ImproperlyConfigured, match=r"\['chat'\]: unknown option 'colour', 'size' for "
                                                   r"ChatAdapter \(options it reads here: none\)"):
        _load("chat", (("BACKEND", "livechat.adapter.ChatAdapter"), ("size", 1), ("colour", "red")))


@pytest.mark.parametrize("source", ["production", "tests"])
def test_every_configured_channel_builds(settings, source, monkeypatch):
    if source == "production":
        monkeypatch.setenv("HELPDESK_EMAIL_INBOUND_ESPS", "postmark,mailgun")
        settings.HELPDESK_CHANNELS = _production_settings().HELPDESK_CHANNELS
    for key in settings.HELPDESK_CHANNELS:
        assert get_adapter(key).key == key
