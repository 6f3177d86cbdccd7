"""SMS segment counting: GSM-7 160/153, UCS-2 70/67, escapes and surrogate pairs kept whole."""

import pytest

from channels_sms.segments import encoding_of, sms_segments


@pytest.mark.parametrize(("text", "encoding", "segments"), [
    ("", "GSM-7", 0),
    ("a", "GSM-7", 1),
    ("a" * 160, "GSM-7", 1),
    ("a" * 161, "GSM-7", 2),
    ("a" * 306, "GSM-7", 2),
    ("a" * 307, "GSM-7", 3),
    ("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!¡¿ÄÖÑÜ§äöñüà", "GSM-7", 1),  # all in the GSM-7 basic table
    ("€" * 80, "GSM-7", 1),  # extension characters cost two septets: 160
    ("€" * 81, "GSM-7", 2),
    ("a" + "€" * 76 + "b", "GSM-7", 1),  # 154 septets, still one segment
    ("ç" * 70, "UCS-2", 1),  # lower-case ç is not GSM-7 (only Ç is)
    ("ç" * 71, "UCS-2", 2),
    ("ç" * 134, "UCS-2", 2),
    ("ç" * 135, "UCS-2", 3),
    ("😀" * 35, "UCS-2", 1),  # 70 UTF-16 units
    ("😀" * 36, "UCS-2", 2),
])
def test_segment_counts(text, encoding, segments):
    info = sms_segments(text)
    assert (info.encoding, info.segments) == (encoding, segments)


def test_an_escape_pair_is_never_split_across_segments():
    # 152 plain septets then a two-septet "€": it cannot fit in the first 153-septet segment.
    assert sms_segments("a" * 152 + "€" + "a" * 10).segments == 2
    assert sms_segments("a" * 152 + "€" + "a" * 152).segments == 3


def test_a_surrogate_pair_is_never_split_across_segments():
    assert sms_segments("ç" * 66 + "😀" + "ç" * 66).segments == 3
    assert sms_segments("ç" * 65 + "😀" + "ç" * 67).segments == 2


def test_one_non_gsm_character_switches_the_whole_text_to_ucs2():
    assert encoding_of("Your order shipped") == "GSM-7"
    assert encoding_of("Your order shipped ✅") == "UCS-2"
    assert sms_segments("x" * 100 + "’").segments == 2  # a curly apostrophe halves the capacity
