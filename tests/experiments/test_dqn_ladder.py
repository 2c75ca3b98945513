"""experiments.dqn_ladder: the rungs' switches, and a quick run end to end."""

import dataclasses

import pytest

from experiments import dqn_ladder as ladder


def test_rungs_add_one_idea_each_with_identical_budgets():
    config = ladder.LadderConfig()
    rungs = [config.rung("CartPole-v1", name) for name in ladder.DQN_RUNGS]
    flags = [(r.replay, r.target_net, r.huber, r.double) for r in rungs]
    assert flags == [(False, False, False, False), (True, False, False, False),
                     (True, True, False, False), (True, True, True, True)]
    shared = lambda r: dataclasses.replace(r, replay=True, target_net=True, huber=True,
                                           double=True)
    assert len({shared(r) for r in rungs}) == 1  # nothing else differs
    assert config.num_seeds >= 16 and config.envs == ("CartPole-v1", "Acrobot-v1")


def test_pqn_rungs_differ_in_layer_norm_only_and_scale_their_schedules():
    config = ladder.LadderConfig(total_steps=200_000)
    assert ladder.RUNGS[4:] == ["PQN (LayerNorm, parallel envs, Q(lambda))",
                                "PQN without LayerNorm"]
    with_norm, without = (config.rung("Acrobot-v1", name) for name in ladder.RUNGS[4:])
    assert with_norm.layer_norm and not without.layer_norm
    assert dataclasses.replace(without, layer_norm=True) == with_norm
    assert with_norm.env == "Acrobot-v1"
    assert (with_norm.epsilon_decay_steps, with_norm.learning_rate_decay_steps) == \
        (40_000, 200_000)


def test_bad_config():
    with pytest.raises(ValueError, match="envs"):
        ladder.LadderConfig(envs=())
    with pytest.raises(ValueError, match="env='Cartpole'"):
        ladder.LadderConfig(envs=("Cartpole",))


# The quick ladder end to end (every rung on the first environment) runs from the command line
# in tests/test_cli.py (check_ladder_summary there), not a second time here.
