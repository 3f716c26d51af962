"""The series network: heads and their shapes, seeding across implementations, batch order."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from tasks import loop
from tasks.series.config import PRESETS, SeriesConfig, make_problem
from tasks.series.model import SeriesTask, build_model, loop_config, network_forecast


def small(**changes) -> SeriesConfig:
    return replace(PRESETS["sines"], window=12, horizon=5, hidden_size=6, **changes)


@pytest.mark.parametrize("data, columns", [("sines", 1), ("lorenz", 3)])
def test_direct_and_recursive_shapes(data, columns):
    for head, emitted in (("direct", (5, 1)), ("recursive", (1, columns))):
        cfg = small(data=data, head=head)
        problem = make_problem(cfg)
        model = build_model(cfg, problem.series)
        test = problem.splits["test"]
        x = torch.as_tensor(problem.scaler.encode(test.inputs[:7]), dtype=torch.float32)
        assert x.shape == (7, 12, columns)
        # direct: K steps of the target; recursive: one step of every column
        assert model(x).shape == (7, *emitted)
        forecast = network_forecast(model, problem, cfg, test.inputs[:7], 5)
        assert forecast.shape == (7, 5) and np.isfinite(forecast).all()


def test_recursive_head_forecasts_past_its_training_horizon_and_direct_does_not():
    cfg = small(head="recursive")
    problem = make_problem(cfg)
    inputs = problem.splits["test"].inputs[:2]
    forecast = network_forecast(build_model(cfg, problem.series), problem, cfg, inputs, 9)
    assert forecast.shape == (2, 9)
    direct = small(head="direct")
    with pytest.raises(ValueError, match="a direct head emits 5 steps, not 9"):
        network_forecast(build_model(direct, problem.series), problem, direct, inputs, 9)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_same_seed_same_initial_weights_in_both_implementations(cell):
    cfg = small(cell=cell, num_layers=2, seed=7)
    series = make_problem(cfg).series
    ours = build_model(cfg, series, "scratch").state_dict()
    theirs = build_model(cfg, series, "reference").state_dict()
    assert list(ours) == list(theirs)
    for name in ours:
        assert torch.equal(ours[name], theirs[name]), name


def test_batches_cover_each_epoch_once_and_depend_only_on_the_step():
    cfg = small(batch_size=32)
    problem = make_problem(cfg)
    task = SeriesTask(cfg, problem, build_model(cfg, problem.series))
    n, per_epoch = len(problem.splits["train"]), task.batches_per_epoch
    for epoch in range(2):
        seen = torch.cat([task.batch(epoch * per_epoch + k) for k in range(per_epoch)])
        assert sorted(seen.tolist()) == list(range(n))
    assert torch.equal(task.batch(per_epoch + 3), task.batch(per_epoch + 3))
    assert not torch.equal(task.batch(0), task.batch(per_epoch))  # a new order each epoch


def test_learning_rate_follows_a_cosine_set_by_the_step_alone():
    cfg = small(lr=0.01, epochs=2)  # an even number of steps: one lies halfway
    problem = make_problem(cfg)
    task = SeriesTask(cfg, problem, build_model(cfg, problem.series))
    rates = [task.learning_rate(k) for k in range(task.steps)]
    assert rates[0] == pytest.approx(0.01) and rates[task.steps // 2] == pytest.approx(0.005)
    assert all(a > b for a, b in zip(rates, rates[1:], strict=False)) and rates[-1] > 0
    seen = []  # the rate the optimizer holds when each step's update is applied
    lc = replace(loop_config(cfg, task, progress=False), steps=9, print_evals=False)
    lc.hooks = (lambda step, model: seen.append(task.optimizer.param_groups[0]["lr"]),)
    history = loop.train(task, lc)
    assert seen == rates[:9] == [r["lr"] for r in history.records]  # set by the loop's schedule
