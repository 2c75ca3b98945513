"""SGD and mini-batch SGD: exact steps, convergence to least squares, seeds, bad input."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa.backprop import (
    Layer,
    architecture,
    gradient_step,
    init_params,
    minibatch_sgd,
    minibatch_sgd_step,
    risk_and_grad,
    sample_minibatches,
    sgd_step,
)

ARCH = architecture((3, 4, 1), hidden="tanh")


def data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    return jnp.asarray(rng.normal(size=(n, 3)), jnp.float32), jnp.asarray(
        rng.normal(size=(n, 1)), jnp.float32
    )


def test_gradient_step_is_w_minus_eta_grad():
    x, y = data()
    params = init_params(jax.random.key(0), ARCH)
    _, grads = risk_and_grad(ARCH, params, x, y)
    new, _ = gradient_step(ARCH, params, x, y, 0.25)
    chex.assert_trees_all_equal(new, jax.tree.map(lambda p, g: p - 0.25 * g, params, grads))


def test_minibatch_step_uses_the_drawn_examples():
    x, y = data()
    params = init_params(jax.random.key(0), ARCH)
    key = jax.random.key(5)
    index = sample_minibatches(key, 16, 1, 4)[0]
    want, want_risk = gradient_step(ARCH, params, x[index], y[index], 0.1)
    got, got_risk = minibatch_sgd_step(ARCH, params, x, y, key, 0.1, batch_size=4)
    assert got_risk == want_risk
    chex.assert_trees_all_equal(got, want)
    one = sample_minibatches(key, 16, 1, 1)[0]
    got, _ = sgd_step(ARCH, params, x, y, key, 0.1)
    chex.assert_trees_all_equal(got, gradient_step(ARCH, params, x[one], y[one], 0.1)[0])


def test_full_batch_descent_reaches_least_squares():
    # A linear network's risk is convex; gradient descent converges to the lstsq solution.
    with jax.enable_x64(True):
        rng = np.random.default_rng(2)
        x, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 1))
        arch = architecture((3, 1))
        params = (Layer(jnp.zeros((3, 1)), jnp.zeros(1)),)
        indices = jnp.tile(jnp.arange(20), (2000, 1))
        params, risks = minibatch_sgd(arch, params, jnp.asarray(x), jnp.asarray(y), indices, 0.3)
        design = np.concatenate([x, np.ones((20, 1))], axis=1)
        solution = np.linalg.lstsq(design, y, rcond=None)[0]
        np.testing.assert_allclose(params[0].w, solution[:3], atol=1e-10)
        np.testing.assert_allclose(params[0].b, solution[3], atol=1e-10)
        assert np.all(np.diff(np.asarray(risks)) <= 1e-15)  # monotone for a small enough step


def test_steps_run_in_scan_and_vmap_over_seeds():
    x, y = data()

    def train(key):
        init_key, data_key, step_key = jax.random.split(key, 3)
        params = init_params(init_key, ARCH)
        indices = sample_minibatches(data_key, 16, 50, 4)
        minibatch = minibatch_sgd(ARCH, params, x, y, indices, 0.1)
        step = lambda p, k: sgd_step(ARCH, p, x, y, k, 0.05)
        single = jax.lax.scan(step, params, jax.random.split(step_key, 20))
        return minibatch, single

    keys = jax.vmap(lambda k: jax.random.fold_in(jax.random.key(0), k))(jnp.arange(3))
    batched = jax.jit(jax.vmap(train))(keys)
    alone = jax.jit(train)(keys[1])
    (params, risks), (_, single_risks) = batched
    assert risks.shape == (3, 50) and single_risks.shape == (3, 20)
    # Seed 1 among three equals seed 1 alone; seeds differ from one another.
    chex.assert_trees_all_close(jax.tree.map(lambda a: a[1], batched), alone, rtol=1e-6)
    assert not np.allclose(params[0].w[0], params[0].w[1])
    assert float(risks[:, -10:].mean()) < float(risks[:, :10].mean())


@pytest.mark.parametrize("rate", [0.0, -0.1, float("nan"), float("inf")])
def test_non_positive_learning_rate(rate):
    x, y = data()
    params = init_params(jax.random.key(0), ARCH)
    with pytest.raises(ValueError, match="learning_rate="):
        gradient_step(ARCH, params, x, y, rate)
    with pytest.raises(ValueError, match="learning_rate="):
        minibatch_sgd(ARCH, params, x, y, jnp.zeros((2, 1), jnp.int32), rate)


def test_bad_batches():
    x, y = data()
    params = init_params(jax.random.key(0), ARCH)
    with pytest.raises(ValueError, match="batch_size=0"):
        minibatch_sgd_step(ARCH, params, x, y, jax.random.key(0), 0.1, batch_size=0)
    with pytest.raises(ValueError, match=r"d\^\(0\) = 3"):
        sgd_step(ARCH, params, x[:, :2], y, jax.random.key(0), 0.1)
    with pytest.raises(ValueError, match=r"\[num_steps, batch_size\]"):
        minibatch_sgd(ARCH, params, x, y, jnp.zeros(4, jnp.int32), 0.1)
