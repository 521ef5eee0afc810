import pytest

from instrument.core.morph import positions, weights


def test_at_a_style_that_style_leads():
    for i, (x, y) in enumerate(positions(9)):
        w = weights(x, y, 9)
        assert w[i] == 1.0 and max(w[:i] + w[i + 1:]) < 0.2


def test_the_centre_is_every_voice_at_once():
    assert weights(0.0, 0.0, 9) == [1.0] * 9


def test_between_two_styles_both_sound():
    (ax, ay), (bx, by) = positions(4)[:2]
    w = weights((ax + bx) / 2, (ay + by) / 2, 4)
    assert w[0] == pytest.approx(w[1]) == 1.0 and w[2] < 0.1
