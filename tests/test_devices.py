"""Device set-up: jax.random's hash lowered unrolled or rolled on CPU, per compiled program,
gives the same bits; only the loop differs."""

import subprocess
import sys

import jax
import numpy as np
import pytest

from rlfa.devices import THREEFRY_LOWERINGS, threefry_lowering

DRAWS = """
import sys, jax, jax.numpy as jnp, numpy as np
if sys.argv[1] == "unrolled":
    from rlfa.devices import unrolled_threefry_on_cpu
    assert unrolled_threefry_on_cpu()
def body(i, c):
    key, acc = c
    k1, k2 = jax.random.split(jax.random.fold_in(key, i))
    return key, acc + jax.random.uniform(k1, (7,)) + jax.random.normal(k2, (7,))
_, acc = jax.jit(lambda k: jax.lax.fori_loop(0, 50, body, (k, jnp.zeros(7))))(jax.random.key(3))
print(np.asarray(acc).tobytes().hex())
"""


def _compiled(jitted, threefry, *args):
    lowering = threefry_lowering(threefry, "cpu")
    assert lowering is not None  # this JAX has the internals the choice uses
    return jitted.trace(*args).lower(_private_parameters=lowering).compile()


def test_each_lowering_is_its_own_in_one_process_and_draws_the_same_bits():
    """The same jitted function compiled each way, twice over: JAX's lowering caches
    (keyed on the lowering parameters) never hand one choice's program to the other."""
    draw = jax.jit(lambda k: jax.random.normal(k, (5,)))  # jax.random's jitted internals
    key = jax.random.key(0)
    bits = set()
    for threefry in ("rolled", "unrolled", "rolled", "unrolled"):
        compiled = _compiled(draw, threefry, key)
        assert (" while(" in compiled.as_text()) == (threefry == "rolled"), threefry
        bits.add(np.asarray(compiled(key)).tobytes())
    assert len(bits) == 1


def test_the_choice_is_cpu_s_and_names_are_checked():
    assert set(THREEFRY_LOWERINGS) == {"unrolled", "rolled"}
    assert threefry_lowering("unrolled", "gpu") is None  # JAX's own kernel there
    with pytest.raises(ValueError, match="threefry"):
        threefry_lowering("fast", "cpu")


@pytest.mark.slow  # two fresh processes
def test_unrolled_hash_gives_the_same_bits_as_jax_s_loop():
    def draws(lowering):
        out = subprocess.run([sys.executable, "-c", DRAWS, lowering], capture_output=True,
                             text=True, check=True)
        return out.stdout.strip()

    rolled, unrolled = draws("rolled"), draws("unrolled")
    assert rolled == unrolled and np.frombuffer(bytes.fromhex(rolled), np.float32).size == 7
