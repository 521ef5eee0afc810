import numpy as np
import pytest

from instrument.core.mixing import RULES, active_models, cap_confidence, linear, mix, product

OMEGA = np.array([[0.5, 0.5, 0.0, 0.0],
                  [0.1, 0.0, 0.9, 0.0]])


def test_linear_is_the_papers_equation_by_hand():
    # pi = (1, 3): (1*[.5,.5,0,0] + 3*[.1,0,.9,0]) / 4 = [.2, .125, .675, 0]
    np.testing.assert_allclose(linear(np.array([1.0, 3.0]), OMEGA), [0.2, 0.125, 0.675, 0.0])


def test_linear_depends_only_on_the_ratio_of_weights():
    np.testing.assert_allclose(linear(np.array([0.2, 0.6]), OMEGA), linear(np.array([1.0, 3.0]), OMEGA))


def test_product_of_experts_by_hand():
    omega = np.array([[0.5, 0.5, 0.0], [0.9, 0.1, 0.0]])
    # pi = (1, 1) and (0.5, 0.5) alike: the geometric mean, sqrt(.5*.9) : sqrt(.5*.1)
    expected = np.array([np.sqrt(0.45), np.sqrt(0.05), 0.0])
    np.testing.assert_allclose(product(np.array([1.0, 1.0]), omega), expected / expected.sum(), atol=1e-12)
    np.testing.assert_allclose(product(np.array([0.5, 0.5]), omega), expected / expected.sum(), atol=1e-12)
    # pi = (1, 0) or (2, 0): the first expert alone
    np.testing.assert_allclose(product(np.array([1.0, 0.0]), omega), [0.5, 0.5, 0.0], atol=1e-12)
    np.testing.assert_allclose(product(np.array([2.0, 0.0]), omega), [0.5, 0.5, 0.0], atol=1e-12)
    # pi = (3, 1): .5^.75 .9^.25 : .5^.75 .1^.25
    expected = np.array([0.5**0.75 * 0.9**0.25, 0.5**0.75 * 0.1**0.25, 0.0])
    np.testing.assert_allclose(product(np.array([3.0, 1.0]), omega), expected / expected.sum(), atol=1e-12)


def test_raising_every_fader_does_not_sharpen_the_product():
    omega = np.random.default_rng(0).dirichlet(np.ones(128), size=8)
    np.testing.assert_allclose(product(np.ones(8), omega), product(np.full(8, 0.25), omega), atol=1e-12)
    entropy = lambda p: -(p * np.log(p)).sum()
    assert entropy(product(np.ones(8), omega)) > 0.5 * entropy(omega[0])  # no near-greedy collapse


def test_the_confidence_cap_flattens_a_spike_and_leaves_the_rest_in_proportion():
    omega = np.array([[0.97, 0.02, 0.01], [0.5, 0.3, 0.2]])
    capped = cap_confidence(omega, 0.6)
    np.testing.assert_allclose(capped[0], [0.6, 0.4 * 2 / 3, 0.4 / 3])
    np.testing.assert_allclose(capped[1], omega[1])  # under the cap: unchanged
    assert cap_confidence(omega, 1.0) is omega


def test_product_vetoes_what_one_expert_rules_out():
    assert product(np.array([1.0, 1.0]), OMEGA)[2] < 1e-12   # the first model gives "c" zero


def test_mix_dispatches_by_name():
    assert np.array_equal(mix("linear", np.array([1.0, 1.0]), OMEGA), linear(np.array([1.0, 1.0]), OMEGA))
    with pytest.raises(KeyError):
        mix("loudest", np.array([1.0, 1.0]), OMEGA)


def test_threshold_skips_quiet_models():
    assert active_models(np.array([0.5, 0.04, 0.05, 0.0]), 0.05).tolist() == [0, 2]


def test_all_quiet_but_not_silent_keeps_the_loudest_playing():
    assert active_models(np.array([0.01, 0.03, 0.0]), 0.05).tolist() == [1]
    assert active_models(np.zeros(3), 0.05).tolist() == []


@pytest.mark.parametrize("name", sorted(RULES))
def test_every_rule_mixes_to_a_distribution_that_follows_the_ratio_of_weights(name):
    rule = RULES[name]
    omega = np.random.default_rng(1).dirichlet(np.ones(128), size=3)
    rho = rule.combine(np.array([1.0, 2.0, 0.5]), omega)
    assert rho.shape == (128,) and (rho >= 0).all() and rho.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(rule.combine(np.array([2.0, 4.0, 1.0]), omega), rho, atol=1e-12)
    np.testing.assert_allclose(rule.combine(np.array([1.0, 0.0, 0.0]), omega), omega[0], atol=1e-9)
    assert rule.name == name and mix(name, np.array([1.0, 2.0, 0.5]), omega) is not None


@pytest.mark.parametrize("name", sorted(RULES))
def test_every_rule_leaves_a_soloist_unsharpened_and_leans_on_a_spread_mix(name):
    assert RULES[name].sharpness(np.array([1.0])) == 0.0
    assert RULES[name].sharpness(np.full(8, 1 / 8)) > 0.0


def test_the_mode_parameter_offers_every_rule():
    from instrument.tree import build_tree
    assert build_tree(["a"]).params["/mode"].range == tuple(RULES)
