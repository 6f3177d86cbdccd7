"""tickets.addresses: canonical forms, and the phone parse cache that must not change them."""

import pytest

from tickets.addresses import InvalidAddress, _e164, normalise_phone


def test_a_national_number_follows_the_default_region_even_once_cached(settings):
    settings.HELPDESK_DEFAULT_REGION = "US"
    assert normalise_phone("(415) 555-0100") == "+14155550100"
    settings.HELPDESK_DEFAULT_REGION = "GB"  # the region is part of the key: no US answer now
    assert normalise_phone("(415) 555-0100") == "+444155550100"
    assert normalise_phone("2079460018") == "+442079460018"


def test_whatsapp_forms_reach_the_same_number_and_the_parse_is_cached():
    _e164.cache_clear()
    forms = ("whatsapp:+14155550123", "14155550123", "+1 415 555 0123")
    assert {normalise_phone(form, "US") for form in forms} == {"+14155550123"}
    assert _e164.cache_info().hits == 1  # "whatsapp:+1..." and the bare wa_id are one key


@pytest.mark.parametrize("number", ["", "hello", "+1 555"])
def test_a_bad_number_is_refused_every_time_not_cached(number):
    cached = _e164.cache_info().currsize
    for _ in range(2):
        with pytest.raises(InvalidAddress, match="phone number"):
            normalise_phone(number, "US")
    assert _e164.cache_info().currsize == cached
