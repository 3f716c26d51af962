"""The gradient lab's measurements (tasks/gradients/): the adding problem's data, power iteration
against torch.linalg, the per-step Jacobian norms against autograd's Jacobians of torch.nn's
cells, and the bound the Jacobians set on the recorded gradients."""

import math

import pytest
import torch
from torch import nn

import scratch
from tasks.gradients import adding, flow
from tasks.gradients.config import AddingConfig
from tasks.gradients.jacobian import spectral_norms, step_jacobian_norms
from tasks.gradients.model import AddingModel, build_model

# ---------------------------------------------------------------------------------------------
# the adding problem


@pytest.mark.parametrize("seq_len", [2, 7, 100])
def test_every_sequence_has_two_markers_one_in_each_half_and_their_sum_as_target(seq_len):
    x, y = adding.batch(seed=3, split=adding.TRAIN, step=11, size=200, seq_len=seq_len)
    assert x.shape == (seq_len, 200, 2) and y.shape == (200,)
    assert x.dtype == y.dtype == torch.float32
    values, markers = x[..., 0], x[..., 1]  # (T, N)
    assert ((values >= 0) & (values < 1)).all()
    assert set(markers.unique().tolist()) <= {0.0, 1.0}
    assert (markers.sum(0) == 2).all()
    half = seq_len // 2
    assert (markers[:half].sum(0) == 1).all() and (markers[half:].sum(0) == 1).all()
    assert torch.allclose(y, (values * markers).sum(0))


def test_a_batch_is_a_function_of_seed_split_and_step_alone():
    a = adding.batch(0, adding.TRAIN, 5, 8, 30)
    torch.randn(100)  # the global generator plays no part
    b = adding.batch(0, adding.TRAIN, 5, 8, 30)
    assert all(torch.equal(u, v) for u, v in zip(a, b, strict=True))
    for other in (
        adding.batch(0, adding.TRAIN, 6, 8, 30),
        adding.batch(1, adding.TRAIN, 5, 8, 30),
        adding.batch(0, adding.TEST, 5, 8, 30),
    ):
        assert not torch.equal(a[0], other[0])


def test_predicting_the_mean_scores_one_sixth():
    _, y = adding.batch(0, adding.TEST, 0, 20000, 10)
    # (y − 1)² has mean 1/6 and standard deviation 0.197: over 20000 sums, 0.0014
    assert adding.mean_mse(y) == pytest.approx(adding.MEAN_MSE, abs=0.006)
    assert adding.MEAN_MSE == pytest.approx(2 / 12)


def test_the_model_is_many_to_one_and_the_same_on_both_implementations():
    cfg = AddingConfig(hidden_size=6, seq_len=9, cell="gru")
    x, _ = adding.batch(0, adding.TRAIN, 0, 4, 9)
    ours, theirs = build_model(cfg, "scratch"), build_model(cfg, "reference")
    assert ours(x).shape == (4,)
    assert torch.allclose(ours(x), theirs(x), atol=1e-6)


# ---------------------------------------------------------------------------------------------
# power iteration


def with_singular_values(s: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """U diag(s) Vᵀ with random orthogonal U, V: a matrix whose singular values are s."""
    n = len(s)
    u, _ = torch.linalg.qr(torch.randn(n, n, dtype=torch.float64, generator=generator))
    v, _ = torch.linalg.qr(torch.randn(n, n, dtype=torch.float64, generator=generator))
    return u @ torch.diag(s.double()) @ v.T


def test_power_iteration_finds_the_spectral_norm_that_torch_linalg_computes():
    g = torch.Generator().manual_seed(0)
    known = [
        with_singular_values(torch.tensor([3.0, 1.5, 1.0, 0.2, 0.1, 0.0]), g),
        with_singular_values(torch.tensor([0.9, 0.3, 0.3, 0.2, 0.1, 0.05]), g),
    ]
    random = [torch.randn(6, 6, dtype=torch.float64, generator=g) for _ in range(4)]
    J = torch.stack(known + random + [torch.zeros(6, 6, dtype=torch.float64)])  # (7, 6, 6)
    sigma = spectral_norms(lambda d: torch.einsum("md,mde->me", d, J), len(J), 6, iterations=300)
    expected = torch.linalg.matrix_norm(J, ord=2)
    assert expected[0] == pytest.approx(3.0) and expected[1] == pytest.approx(0.9)
    assert torch.allclose(sigma, expected, rtol=1e-8, atol=1e-12)


def test_few_iterations_give_a_lower_bound():
    g = torch.Generator().manual_seed(1)
    J = torch.randn(50, 8, 8, dtype=torch.float64, generator=g)
    sigma = spectral_norms(lambda d: torch.einsum("md,mde->me", d, J), 50, 8, iterations=2)
    assert (sigma <= torch.linalg.matrix_norm(J, ord=2) * (1 + 1e-12)).all()


# ---------------------------------------------------------------------------------------------
# the per-step Jacobians of our cells, against autograd's Jacobians of torch.nn's cells

CELLS = {
    "rnn_tanh": (lambda: scratch.RNN(3, 5), nn.RNNCell, {}),
    "rnn_relu": (
        lambda: scratch.RNN(3, 5, nonlinearity="relu"),
        nn.RNNCell,
        {"nonlinearity": "relu"},
    ),
    "lstm": (lambda: scratch.LSTM(3, 5), nn.LSTMCell, {}),
    "gru": (lambda: scratch.GRU(3, 5), nn.GRUCell, {}),
}


def torch_cell(layer, kind, options):
    """A torch.nn cell holding the weights of ``layer``'s first layer."""
    cell = kind(3, 5, **options).double()
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(cell, name).data.copy_(getattr(layer, name + "_l0"))
    return cell


@pytest.mark.parametrize("name", CELLS)
def test_step_jacobian_norms_are_those_of_autograds_jacobians_of_torch_nn_cells(name):
    build, kind, options = CELLS[name]
    torch.manual_seed(2)
    layer = build().double()
    with torch.no_grad():  # large weights: steps of very different gain, saturated gates
        for p in layer.parameters():
            p.mul_(3)
    cell = torch_cell(layer, kind, options)
    T, N, H = 4, 3, 5
    x = torch.randn(T, N, 3, dtype=torch.float64)
    lstm = kind is nn.LSTMCell

    def step(x_t, state):  # the whole state in, the whole state out: (2H,) for the LSTM
        if lstm:
            h, c = cell(x_t[None], (state[None, :H], state[None, H:]))
            return torch.cat([h, c], dim=1)[0]
        return cell(x_t[None], state[None])[0]

    expected = torch.zeros(T, N, dtype=torch.float64)
    state = torch.zeros(N, 2 * H if lstm else H, dtype=torch.float64)
    for t in range(T):
        for n in range(N):
            J = torch.autograd.functional.jacobian(lambda s, t=t, n=n: step(x[t, n], s), state[n])
            expected[t, n] = torch.linalg.matrix_norm(J, ord=2)
        with torch.no_grad():
            state = torch.stack([step(x[t, n], state[n]) for n in range(N)])
    got = step_jacobian_norms(layer, x, iterations=300)
    assert torch.allclose(got, expected, rtol=1e-7, atol=1e-12), (got, expected)


def test_step_jacobian_norms_read_a_torch_nn_layer_too():
    torch.manual_seed(3)
    ours = scratch.LSTM(3, 5).double()
    theirs = nn.LSTM(3, 5).double()
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    assert torch.equal(step_jacobian_norms(ours, x, 20), step_jacobian_norms(theirs, x, 20))


# ---------------------------------------------------------------------------------------------
# recorded gradients and the bound


def scratch_model(cell: str, hidden: int, **changes) -> AddingModel:
    cfg = AddingConfig(impl="scratch", cell=cell, hidden_size=hidden, **changes)
    return build_model(cfg).double()


def test_with_one_unit_the_bound_is_the_gradient_itself():
    """H = 1: each Jacobian is a number, σ_max its size, and Π σ_max is exactly the product."""
    model = scratch_model("rnn", 1)
    x, y = (t.double() for t in adding.batch(0, adding.TEST, 0, 5, 40))
    recorded = flow.state_gradients(model, x, y)
    sigma = step_jacobian_norms(model.rnn, x, iterations=3)
    bound = flow.log10_bound(recorded.state[-1], sigma)
    assert torch.allclose(bound, torch.log10(recorded.state), atol=1e-10)


@pytest.mark.parametrize(
    "cell, changes", [("rnn", {}), ("lstm", {"forget_bias": 1.0}), ("gru", {})]
)
def test_no_recorded_gradient_exceeds_the_bound(cell, changes):
    model = scratch_model(cell, 8, **changes)
    x, y = (t.double() for t in adding.batch(0, adding.TEST, 0, 6, 60))
    recorded = flow.state_gradients(model, x, y)
    sigma = step_jacobian_norms(model.rnn, x, iterations=50)
    bound = flow.log10_bound(recorded.state[-1], sigma)
    assert (torch.log10(recorded.state) <= bound + 1e-9).all()
    assert (recorded.h <= recorded.state).all()  # ‖d_h‖ ≤ ‖(d_h, d_c)‖
    assert recorded.h.shape == (60, 6)
    assert not any(p.grad is not None for p in model.parameters())  # left as it found them


def test_the_recorded_gradients_are_autograds():
    model = scratch_model("gru", 4)
    x, y = (t.double() for t in adding.batch(0, adding.TEST, 0, 3, 12))
    recorded = flow.state_gradients(model, x, y)
    gru = nn.GRUCell(2, 4).double()
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(gru, name).data.copy_(getattr(model.rnn, name + "_l0"))
    h, states = torch.zeros(3, 4, dtype=torch.float64), []
    for t in range(12):
        h = gru(x[t], h)
        h.retain_grad()
        states.append(h)
    nn.functional.mse_loss(model.head(h).squeeze(1), y).backward()
    expected = torch.stack([s.grad.norm(dim=1) for s in states])
    assert torch.allclose(recorded.h, expected, rtol=1e-12, atol=1e-15)


def test_curve_helpers():
    logs = torch.tensor([[0.0, 2.0], [1.0, 1.0]], dtype=torch.float64)
    assert torch.allclose(
        flow.log10_mean_of_logs(logs), torch.log10(torch.tensor([50.5, 10.0])).double()
    )
    assert torch.allclose(
        flow.log10_mean(torch.tensor([[1.0, 99.0]])), torch.tensor([math.log10(50)])
    )
    assert flow.slope(torch.tensor([1.0, 1.5, 2.0, float("-inf"), 3.0])) == pytest.approx(0.5)
    assert math.isnan(flow.slope(torch.tensor([float("-inf"), 1.0])))
