"""tasks/init.py: each scheme draws what it says, block by block, on both implementations; the
forget bias is b_ih_f + b_hh_f (not the value in each); the pairings that do not exist are
one-line errors; and each task's --init and --forget-bias reach its model."""

import math
from dataclasses import replace

import pytest
import torch
from torch import nn

import reference
import scratch
from tasks import init
from tasks.config import validate
from tasks.errors import BadInput
from tasks.impl import CELLS
from tasks.series.config import PRESETS as SERIES_PRESETS
from tasks.series.data import load_series
from tasks.series.model import build_model as build_forecaster
from tasks.text.config import PRESETS as TEXT_PRESETS
from tasks.text.train import build_model as build_char_model

IMPLS = [scratch, reference]
H, I = 256, 96  # wide enough for the sample statistics below to be within 3%


def blocks(p: torch.Tensor, rows: int = H) -> list[torch.Tensor]:
    return list(p.detach().split(rows))


@pytest.mark.parametrize("impl", IMPLS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"])
def test_default_redraws_exactly_what_torch_nn_draws(impl, name):
    kwargs = {} if name.endswith("Cell") else {"num_layers": 2, "bidirectional": True}
    torch.manual_seed(3)
    expected = getattr(nn, name)(5, 7, **kwargs).state_dict()
    layer = getattr(impl, name)(5, 7, **kwargs)
    torch.manual_seed(3)
    init.initialise(layer, "default")
    got = layer.state_dict()
    assert list(got) == list(expected)
    for key in expected:
        assert torch.equal(got[key], expected[key]), key


@pytest.mark.parametrize("impl", IMPLS, ids=lambda m: m.__name__)
@pytest.mark.parametrize(
    "scheme, std_ih, std_hh",
    [
        ("xavier_uniform", math.sqrt(2 / (I + H)), math.sqrt(2 / (H + H))),  # U(−a, a): a²/3
        ("xavier_normal", math.sqrt(2 / (I + H)), math.sqrt(2 / (H + H))),
        ("kaiming", math.sqrt(2 / I), math.sqrt(2 / H)),
    ],
)
def test_random_schemes_have_each_blocks_statistics_and_zero_biases(impl, scheme, std_ih, std_hh):
    torch.manual_seed(0)
    layer = impl.LSTM(I, H)
    shapes = {n: p.shape for n, p in layer.named_parameters()}
    init.initialise(layer, scheme)
    assert {n: p.shape for n, p in layer.named_parameters()} == shapes
    for weight, std, fan_in in ((layer.weight_ih_l0, std_ih, I), (layer.weight_hh_l0, std_hh, H)):
        for block in blocks(weight):  # per gate: fan_out is H, not 4H
            assert abs(block.mean().item()) < 0.03 * std
            assert block.std().item() == pytest.approx(std, rel=0.03)
            if scheme == "xavier_uniform":
                bound = math.sqrt(6 / (fan_in + H))
                assert block.abs().max().item() <= bound
                assert block.abs().max().item() > 0.99 * bound
    assert not layer.bias_ih_l0.any() and not layer.bias_hh_l0.any()


@pytest.mark.parametrize("impl", IMPLS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("name, gates", [("RNN", 1), ("LSTM", 4), ("GRU", 3)])
def test_orthogonal_makes_each_recurrent_block_orthogonal(impl, name, gates):
    h = 64
    torch.manual_seed(1)
    layer = getattr(impl, name)(I, h, num_layers=2, bidirectional=True)
    init.initialise(layer, "orthogonal")
    eye = torch.eye(h)
    for suffix in ("_l0", "_l1_reverse"):
        recurrent = blocks(getattr(layer, "weight_hh" + suffix), h)
        assert len(recurrent) == gates
        for w in recurrent:
            assert torch.allclose(w @ w.T, eye, atol=1e-5)
            assert torch.allclose(w.T @ w, eye, atol=1e-5)
        fan_in = I if suffix == "_l0" else 2 * h
        for w in blocks(getattr(layer, "weight_ih" + suffix), h):  # inputs: Xavier uniform
            assert w.abs().max().item() <= math.sqrt(6 / (fan_in + h))
            assert w.std().item() == pytest.approx(math.sqrt(2 / (fan_in + h)), rel=0.05)


def test_orthogonal_with_a_projection_is_semi_orthogonal():
    torch.manual_seed(2)
    layer = scratch.LSTM(3, 24, proj_size=8)
    init.initialise(layer, "orthogonal")
    for w in blocks(layer.weight_hh_l0, 24):  # (H, P): orthonormal columns
        assert w.shape == (24, 8)
        assert torch.allclose(w.T @ w, torch.eye(8), atol=1e-5)


def test_orthogonal_matrices_are_not_biased_in_sign():
    """Q's columns take R's diagonal signs. Without them Householder QR makes Q[0, 0] negative
    every time; with them it is + as often as − (mean of 100 signs: 0 ± 0.1)."""
    torch.manual_seed(4)
    signs = torch.tensor([torch.sign(init.orthogonal(4, 4)[0, 0]).item() for _ in range(100)])
    assert abs(signs.mean().item()) < 0.4


@pytest.mark.parametrize("impl", IMPLS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("nonlinearity", ["relu", "tanh"])
def test_identity_is_the_irnn(impl, nonlinearity):
    torch.manual_seed(5)
    layer = impl.RNN(I, H, nonlinearity=nonlinearity)
    init.initialise(layer, "identity")
    assert torch.equal(layer.weight_hh_l0.detach(), torch.eye(H))
    assert layer.weight_ih_l0.std().item() == pytest.approx(init.IDENTITY_INPUT_STD, rel=0.03)
    assert not layer.bias_ih_l0.any() and not layer.bias_hh_l0.any()


def test_an_irnn_without_input_carries_its_state_unchanged():
    layer = scratch.RNN(2, 6, nonlinearity="relu")
    init.initialise(layer, "identity")
    h0 = torch.rand(1, 3, 6)
    out, h_n = layer(torch.zeros(20, 3, 2), h0)
    assert torch.equal(h_n, h0)


@pytest.mark.parametrize("impl", IMPLS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("name", ["LSTM", "LSTMCell"])
@pytest.mark.parametrize("value", [1.0, 0.0, -2.5])
def test_the_forget_bias_is_the_sum_of_both_biases(impl, name, value):
    kwargs = {} if name.endswith("Cell") else {"num_layers": 2, "bidirectional": True}
    torch.manual_seed(6)
    layer = getattr(impl, name)(3, 5, **kwargs)
    before = {n: p.detach().clone() for n, p in layer.named_parameters()}
    init.initialise(layer, "default", forget_bias=value)
    biases = [n for n in before if n.startswith("bias_ih")]
    assert len(biases) == (1 if name.endswith("Cell") else 4)
    f = slice(5, 10)
    for b_ih in biases:
        b_hh = b_ih.replace("bias_ih", "bias_hh")
        total = getattr(layer, b_ih)[f] + getattr(layer, b_hh)[f]
        assert torch.equal(total.detach(), torch.full((5,), value))


def test_a_forget_bias_after_another_scheme_keeps_that_scheme():
    h = 16
    torch.manual_seed(7)
    layer = scratch.LSTM(3, h)
    init.initialise(layer, "orthogonal", forget_bias=1.0)
    b = layer.bias_ih_l0.detach() + layer.bias_hh_l0.detach()
    assert torch.equal(b[h : 2 * h], torch.ones(h))
    assert not b[:h].any() and not b[2 * h :].any()
    w = blocks(layer.weight_hh_l0, h)[1]
    assert torch.allclose(w @ w.T, torch.eye(h), atol=1e-5)


@pytest.mark.parametrize(
    "build, says",
    [
        (lambda: (scratch.LSTM(3, 4), "identity", None), "--init identity is for Elman RNNs"),
        (lambda: (reference.GRU(3, 4), "identity", None), "not the GRU"),
        (
            lambda: (scratch.GRU(3, 4), "default", 1.0),
            "only the LSTM and its variants have a forget gate",
        ),
        (lambda: (reference.RNN(3, 4), "orthogonal", 1.0), "not the RNN"),
        (lambda: (scratch.LSTM(3, 4, bias=False), "default", 1.0), "built with bias=False"),
        (lambda: (scratch.LSTM(3, 4), "he", None), "--init he: expected one of default"),
    ],
)
def test_pairings_that_do_not_exist_are_bad_input(build, says):
    layer, scheme, forget_bias = build()
    with pytest.raises(BadInput, match=says):
        init.initialise(layer, scheme, forget_bias)


def test_recurrent_layers_are_found_inside_a_model_and_nothing_else_is_touched():
    torch.manual_seed(8)
    model = nn.Sequential(nn.Linear(3, 4), scratch.GRU(4, 6), reference.LSTMCell(6, 6))
    assert [type(m).__name__ for m in init.recurrent_layers(model)] == ["GRU", "LSTMCell"]
    linear = model[0].weight.detach().clone()
    init.apply(model, replace(TEXT_PRESETS["smoke"], init="xavier_normal"))
    assert torch.equal(model[0].weight, linear)
    assert not model[1].bias_hh_l0.any() and not model[2].bias_hh.any()


def test_default_init_leaves_a_seeded_model_as_it_was():
    cfg = replace(TEXT_PRESETS["smoke"], cell="lstm")
    torch.manual_seed(0)
    plain = build_char_model(cfg, 30).state_dict()
    torch.manual_seed(0)
    model = build_char_model(replace(cfg, init="default", forget_bias=None), 30)
    assert all(torch.equal(plain[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("impl", ["scratch", "reference"])
def test_each_task_builds_its_model_with_its_init_and_forget_bias(impl):
    text_cfg = replace(TEXT_PRESETS["smoke"], impl=impl, init="orthogonal", forget_bias=1.0)
    char_model = build_char_model(text_cfg, 30)
    series_cfg = replace(SERIES_PRESETS["smoke"], impl=impl, init="orthogonal", forget_bias=1.0)
    forecaster = build_forecaster(series_cfg, load_series("sines", None, None, None))
    for rnn, h in ((char_model.rnn, text_cfg.hidden_size), (forecaster.rnn, 8)):
        w = blocks(rnn.weight_hh_l0, h)[0]
        assert torch.allclose(w @ w.T, torch.eye(h), atol=1e-5)
        forget = (rnn.bias_ih_l0 + rnn.bias_hh_l0)[h : 2 * h]
        assert torch.equal(forget.detach(), torch.ones(h))


# ---------------------------------------------------------------------------------------------
# every --cell of tasks/impl.py: the schemes and the forget bias apply or are refused

# Written out here, not read from tasks/impl.py: each cell's core cell, and None for the minimal
# RNNs, which have no W_hh. A cell added to CELLS must be added here too.
CORE = {
    "rnn_tanh": "RNN",
    "rnn_relu": "RNN",
    "lstm": "LSTM",
    "gru": "GRU",
    "lnlstm": "LSTM",
    "peephole": "LSTM",
    "chogru": "GRU",
    "variational": "LSTM",
    "zoneout": "LSTM",
    "mingru": None,
    "minlstm": None,
    "indrnn": None,  # its W_hh is a vector u, not the matrix the schemes draw
}


def test_every_cell_of_the_tasks_is_named_here():
    assert set(CORE) == set(CELLS)


def _quiet_layer(name: str, h: int = 4, impl: str = "scratch") -> nn.Module:
    """The layer ``--cell name`` builds, its rates (dropout, zoneout) at 0, in eval mode."""
    cell = CELLS[name]
    package = {"scratch": scratch, "reference": reference}[impl]
    return getattr(package, cell.layer)(2, h, **{k: 0.0 for k in cell.options}).eval()


@pytest.mark.parametrize("name", list(CORE))
@pytest.mark.parametrize("scheme", init.SCHEMES)
@pytest.mark.parametrize("forget_bias", [None, 1.0])
def test_each_cell_takes_the_schemes_that_exist_for_it_and_refuses_the_others(
    name, scheme, forget_bias
):
    core = CORE[name]
    refused = (
        (core is None and scheme != "default")
        or (scheme == "identity" and core != "RNN")
        or (forget_bias is not None and core != "LSTM")
    )
    cfg = replace(TEXT_PRESETS["smoke"], impl="scratch", cell=name, init=scheme)
    cfg = replace(cfg, forget_bias=forget_bias)
    if refused:
        with pytest.raises(BadInput, match=r"^--(init|forget-bias) "):
            validate(cfg)
        with pytest.raises(BadInput, match=r"^--(init|forget-bias) "):
            init.apply(_quiet_layer(name), cfg)
        return
    validate(cfg)
    torch.manual_seed(9)
    layer = _quiet_layer(name, h=6)
    own = {
        n: p.detach().clone() for n, p in layer.named_parameters() if not init._NAME.fullmatch(n)
    }
    init.apply(layer, cfg)
    for n, p in layer.named_parameters():  # a variant's own parameters keep their values
        if n in own:
            assert torch.equal(p, own[n]), n
    if scheme == "orthogonal":
        for w in blocks(layer.weight_hh_l0, 6):
            assert torch.allclose(w @ w.T, torch.eye(6), atol=1e-5)
    if forget_bias is not None:
        total = layer.bias_ih_l0 + layer.bias_hh_l0
        assert torch.equal(total[6:12].detach(), torch.ones(6))


@pytest.mark.parametrize(
    "impl, name",
    [("reference", "lstm")] + [("scratch", n) for n, core in CORE.items() if core == "LSTM"],
)
def test_a_forget_bias_of_one_makes_the_forget_gate_sigma_of_one(impl, name):
    """All else zero, c_0 = 1, no input, rates (dropout, zoneout) at 0: c_1 = f_1 c_0 + i_1 g_1
    = σ(b_f) · 1 + ½ · 0, in the LSTM of both implementations and in every variant: the forget
    gate is the second block in each."""
    layer = _quiet_layer(name, impl=impl)
    with torch.no_grad():
        for p in layer.parameters():
            p.zero_()
    init.set_forget_bias(layer, 1.0)
    zeros = torch.zeros(1, 1, 4)
    _, (_, c_1) = layer(torch.zeros(1, 1, 2), (zeros, torch.ones(1, 1, 4)))
    assert torch.allclose(c_1, torch.full_like(c_1, 1 / (1 + math.exp(-1))))  # σ(1), not σ(2)
