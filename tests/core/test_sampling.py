import numpy as np

from instrument.core.generate import generate
from instrument.core.sampling import draw, shape_distribution


def _two(a: float, b: float) -> np.ndarray:
    p = np.zeros(128)
    p[65], p[66] = a, b
    return p


def test_temperature_sharpens_and_flattens():
    cold = shape_distribution(_two(0.75, 0.25), temperature=0.5)
    hot = shape_distribution(_two(0.75, 0.25), temperature=2.0)
    assert abs(cold[65] - 0.9) < 1e-9          # 0.75^2 / (0.75^2 + 0.25^2)
    assert abs(hot[65] - 0.75**0.5 / (0.75**0.5 + 0.25**0.5)) < 1e-9


def test_top_p_keeps_the_smallest_set_reaching_p():
    p = _two(0.5, 0.3)
    p[67] = 0.2
    q = shape_distribution(p, top_p=0.7)
    assert q[67] == 0 and abs(q[65] - 0.625) < 1e-9 and abs(q[66] - 0.375) < 1e-9


def test_control_characters_are_never_sampled():
    q = shape_distribution(np.full(128, 1 / 128))
    assert q[7] == 0 and q[0] == 0 and q[10] > 0 and q[9] > 0
    assert abs(q.sum() - 1) < 1e-12


def test_draw_follows_the_distribution_and_is_reproducible():
    p = shape_distribution(_two(0.75, 0.25))
    rng = np.random.default_rng(5)
    draws = [draw(p, rng) for _ in range(4000)]
    assert set(draws) == {65, 66}
    assert abs(draws.count(65) / 4000 - 0.75) < 0.03
    again = np.random.default_rng(5)
    assert [draw(p, again) for _ in range(4000)] == draws


def test_generate_is_deterministic_per_seed(tiny_model):
    one = generate(tiny_model, 100, prime="hello", seed=3)
    two = generate(tiny_model, 100, prime="hello", seed=3)
    other = generate(tiny_model, 100, prime="hello", seed=4)
    assert one == two and one != other and len(one) == 100
