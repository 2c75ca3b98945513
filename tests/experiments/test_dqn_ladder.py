"""experiments.dqn_ladder: the rungs' switches, and a quick run end to end."""

import dataclasses

import pytest

from experiments import dqn_ladder as ladder


def test_rungs_add_one_idea_each_with_identical_budgets():
    config = ladder.LadderConfig()
    rungs = [config.rung("CartPole-v1", name) for name in ladder.RUNGS]
    flags = [(r.replay, r.target_net, r.huber, r.double) for r in rungs]
    assert flags == [(False, False, False, False), (True, False, False, False),
                     (True, True, False, False), (True, True, True, True)]
    shared = lambda r: dataclasses.replace(r, replay=True, target_net=True, huber=True,
                                           double=True)
    assert len({shared(r) for r in rungs}) == 1  # nothing else differs
    assert config.num_seeds >= 16 and config.envs == ("CartPole-v1", "Acrobot-v1")


def test_bad_config():
    with pytest.raises(ValueError, match="envs"):
        ladder.LadderConfig(envs=())
    with pytest.raises(ValueError, match="env='Cartpole'"):
        ladder.LadderConfig(envs=("Cartpole",))


# The quick ladder end to end (every rung on the first environment) runs from the command line
# in tests/test_cli.py (check_ladder_summary there), not a second time here.
