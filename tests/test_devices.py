"""Device set-up: jax.random's hash unrolled on CPU gives the same bits without a loop."""

import subprocess
import sys

import jax
import numpy as np
import pytest

from rlfa.devices import unrolled_threefry_on_cpu

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


def test_a_draw_compiles_without_a_loop():
    assert unrolled_threefry_on_cpu()
    hlo = jax.jit(lambda k: jax.random.uniform(k, (4,))).lower(jax.random.key(0)).compile()
    assert " while(" not in hlo.as_text()


@pytest.mark.slow  # two fresh processes
def test_unrolled_hash_gives_the_same_bits_as_jax_s_loop():
    def draws(lowering):
        out = subprocess.run([sys.executable, "-c", DRAWS, lowering], capture_output=True,
                             text=True, check=True)
        return out.stdout.strip()

    rolled, unrolled = draws("rolled"), draws("unrolled")
    assert rolled == unrolled and np.frombuffer(bytes.fromhex(rolled), np.float32).size == 7
