import numpy as np
import pytest

from instrument.core.mixing import active_models, linear, mix, product

OMEGA = np.array([[0.5, 0.5, 0.0, 0.0],
                  [0.1, 0.0, 0.9, 0.0]])


def test_linear_is_the_papers_equation_by_hand():
    # pi = (1, 3): (1*[.5,.5,0,0] + 3*[.1,0,.9,0]) / 4 = [.2, .125, .675, 0]
    np.testing.assert_allclose(linear(np.array([1.0, 3.0]), OMEGA), [0.2, 0.125, 0.675, 0.0])


def test_linear_depends_only_on_the_ratio_of_weights():
    np.testing.assert_allclose(linear(np.array([0.2, 0.6]), OMEGA), linear(np.array([1.0, 3.0]), OMEGA))


def test_product_of_experts_by_hand():
    omega = np.array([[0.5, 0.5, 0.0], [0.9, 0.1, 0.0]])
    # pi = (1, 1): [0.45, 0.05, 0] / 0.5
    np.testing.assert_allclose(product(np.array([1.0, 1.0]), omega), [0.9, 0.1, 0.0], atol=1e-12)
    # pi = (1, 0): the first expert alone
    np.testing.assert_allclose(product(np.array([1.0, 0.0]), omega), [0.5, 0.5, 0.0], atol=1e-12)
    # pi = (2, 0): y^2 renormalised: [.25, .25] / .5
    np.testing.assert_allclose(product(np.array([2.0, 0.0]), omega), [0.5, 0.5, 0.0], atol=1e-12)
    # pi = (0.5, 0.5): sqrt(.5*.9) : sqrt(.5*.1)
    expected = np.array([np.sqrt(0.45), np.sqrt(0.05), 0.0])
    np.testing.assert_allclose(product(np.array([0.5, 0.5]), omega), expected / expected.sum(), atol=1e-12)


def test_product_vetoes_what_one_expert_rules_out():
    assert product(np.array([1.0, 1.0]), OMEGA)[2] < 1e-20   # the first model gives 'c' zero


def test_mix_dispatches_by_name():
    assert np.array_equal(mix("linear", np.array([1.0, 1.0]), OMEGA), linear(np.array([1.0, 1.0]), OMEGA))
    with pytest.raises(KeyError):
        mix("loudest", np.array([1.0, 1.0]), OMEGA)


def test_threshold_skips_quiet_models():
    assert active_models(np.array([0.5, 0.04, 0.05, 0.0]), 0.05).tolist() == [0, 2]


def test_all_quiet_but_not_silent_keeps_the_loudest_playing():
    assert active_models(np.array([0.01, 0.03, 0.0]), 0.05).tolist() == [1]
    assert active_models(np.zeros(3), 0.05).tolist() == []
