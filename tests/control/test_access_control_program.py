"""rlfa.control.access_control: the greedy policy and best-action values read off the weights."""

import numpy as np

from rlfa.control import access_control as ac


def test_greedy_tables_read_the_weights_by_free_servers_and_priority():
    w = np.zeros(2 * 11 * 4)
    w[44 + 3 * 4 + 2] = 1.5  # accept with 3 free, priority 4: q(accept) = 1.5 > q(reject) = 0
    w[5 * 4 + 0] = 2.0  # reject with 5 free, priority 1
    accept, best, tied = ac.greedy_tables(w)
    assert accept.sum() == 1 and accept[3, 2] and not tied[3, 2] and tied.sum() == 42
    assert best[3, 2] == 1.5 and best[5, 0] == 2.0 and np.count_nonzero(best) == 2
