import numpy as np

from instrument.core.vocab import PRINTABLE, VOCAB_SIZE, decode, encode, transliterate


def test_ascii_round_trips_exactly():
    text = "To be, or not to be:\n\tthat is the question! {x = y[0] + 1;} ~`@#$%^&*()_|\\"
    assert decode(encode(text)) == text


def test_ids_stay_inside_the_vocabulary():
    ids = encode("Fleurs du mal, é à « » — ½ 日本")
    assert ids.dtype == np.uint8 and ids.max() < VOCAB_SIZE


def test_transliteration_of_french_and_typography():
    result = transliterate("« Là-bas, où l’été — ça brûle… »\r\n")
    assert result.text == "\" La-bas, ou l'ete -- ca brule... \"\n"
    assert result.dropped == 0


def test_unmappable_characters_are_dropped_and_counted():
    result = transliterate("a日b本c\x07d")
    assert result.text == "abcd"
    assert result.dropped == 3


def test_decoding_never_yields_control_characters_but_newline_and_tab():
    every_id = np.arange(VOCAB_SIZE)
    text = decode(every_id)
    assert all(c in "\n\t" or 32 <= ord(c) < 127 for c in text)
    assert len(text) == int(PRINTABLE.sum()) == 97  # 95 printable + newline + tab


def test_out_of_range_ids_are_ignored_by_decode():
    assert decode([104, 200, -1, 105]) == "hi"
