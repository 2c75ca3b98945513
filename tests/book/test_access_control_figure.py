"""rlfa.book.access_control_figure: the greedy policy and best-action values read off the
weights, and the exact average reward of the policies learned."""

import numpy as np
import pytest

from rlfa.book import access_control_figure as ac
from rlfa.envs.access_control import policy_average_reward


def test_greedy_tables_read_the_weights_by_free_servers_and_priority():
    w = np.zeros(2 * 11 * 4)
    w[44 + 3 * 4 + 2] = 1.5  # accept with 3 free, priority 4: q(accept) = 1.5 > q(reject) = 0
    w[5 * 4 + 0] = 2.0  # reject with 5 free, priority 1
    accept, best, tied = ac.greedy_tables(w)
    assert accept.sum() == 1 and accept[3, 2] and not tied[3, 2] and tied.sum() == 42
    assert best[3, 2] == 1.5 and best[5, 0] == 2.0 and np.count_nonzero(best) == 2


def test_learned_policies_give_the_exact_reward_of_the_greedy_and_epsilon_greedy_policy():
    w = np.zeros((1, 2 * 11 * 4))
    w[0, 44:] = 1.0  # accept everything: q(accept) = 1 > q(reject) = 0
    learned = ac.learned_policies(w, 0.1)
    assert learned.accept.shape == (1, 11, 4) and learned.accept.all()
    accept_all = policy_average_reward(np.ones((11, 4), bool))
    assert learned.greedy_reward[0] == accept_all
    # Epsilon-greedy accepts with probability 0.95: the same as that explicit policy.
    assert learned.behaviour_reward[0] == pytest.approx(
        policy_average_reward(np.full((11, 4), 0.95)), rel=1e-12)
    # Every customer accepted pays 3.75 on average; a server is free less often than not.
    assert 0.0 < accept_all < 3.75
