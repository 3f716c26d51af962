"""scratch.SLSTM. torch.nn has no sLSTM, so the reference is autograd over the paper's equations
(Beck et al. 2024, eqs. 8–17), written in tests/variant_references.py with none of scratch's
code; the three bptt modes must agree, and the hand-written backward must pass gradcheck. All in
float64, to 1e-12 in the contract's scaled error."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

import scratch
from scratch.checks import BPTT_CHOICES
from scratch.declaration import Weights
from scratch.function import run_layer
from scratch.registry import CELLS
from tests import variant_references
from tests.strategies import layer_input, lengths_for
from tests.test_variants import assert_close

f64 = torch.float64
MODES = {"sigmoid": "slstm", "exp": "slstm_exp"}  # registry keys
REFERENCE_NAMES = {"sigmoid": "SLSTM", "exp": "SLSTM_EXP"}  # variant_references.REFERENCES


# -- gradcheck: the step backward and both loops against finite differences -----------------


@pytest.mark.parametrize("bptt", ["readable", "manual"])
@pytest.mark.parametrize("forget_gate", list(MODES))
@pytest.mark.parametrize("num_heads", [1, 2])
@pytest.mark.parametrize(("batch_sizes", "reverse"), [([3], False), ([3, 3, 2, 1], True)])
def test_gradcheck(bptt, forget_gate, num_heads, batch_sizes, reverse):
    """One step, and a packed sequence walked backwards, with every state an input and output
    (so the paths through c_n, n_n and m_n, which do depend on m, are checked too)."""
    g = torch.Generator().manual_seed(0)
    cell, N, T, I, H = CELLS[MODES[forget_gate]], batch_sizes[0], sum(batch_sizes), 2, 4

    def leaf(*shape, scale=1.0):
        return (scale * torch.randn(*shape, generator=g, dtype=f64)).requires_grad_()

    n0 = torch.rand(N, H, generator=g, dtype=f64).add_(0.5).requires_grad_()  # n > 0
    state0 = [leaf(N, H), leaf(N, H), n0, leaf(N, H, scale=0.5)]
    weights = [leaf(4 * H, I), leaf(4 * H, H // num_heads), leaf(4 * H), leaf(4 * H)]

    def layer(x, *tensors):
        w = Weights(*tensors[4:], None)
        y, state = run_layer(cell, x, tuple(tensors[:4]), w, batch_sizes, reverse, bptt)
        return (y, *state)

    assert torch.autograd.gradcheck(layer, [leaf(T, I), *state0, *weights], eps=1e-6, atol=1e-7)


# -- random configurations: the three bptt modes, and the paper's equations -----------------


@st.composite
def configurations(draw) -> dict:
    """An sLSTM layer and its input: every constructor option and input layout."""
    batch, seq_len, heads = (
        draw(st.integers(1, 4)),
        draw(st.integers(1, 16)),
        draw(st.sampled_from([1, 2])),
    )
    config = {
        "forget_gate": draw(st.sampled_from(list(MODES))),
        "num_heads": heads,
        "input_size": draw(st.integers(1, 5)),
        "hidden_size": heads * draw(st.integers(1, 3)),
        "num_layers": draw(st.integers(1, 3)),
        "bidirectional": draw(st.booleans()),
        "bias": draw(st.booleans()),
        "batch_first": draw(st.booleans()),
        "batch": batch,
        "seq_len": seq_len,
        "layout": draw(st.sampled_from(["plain", "packed", "unbatched"])),
        "with_hx": draw(st.booleans()),
        "train": draw(st.booleans()),
        "scale": draw(st.sampled_from([1.0, 4.0])),  # 4: gates far from 0, m often moves
    }
    config["dropout"] = draw(st.sampled_from([0.0, 0.4])) if config["num_layers"] > 1 else 0.0
    if config["layout"] == "packed":
        config["enforce_sorted"] = draw(st.booleans())
        config["lengths"] = draw(lengths_for(batch, seq_len, config["enforce_sorted"]))
    return config


def build(config: dict, bptt: str, seed: int = 0) -> scratch.SLSTM:
    torch.manual_seed(seed)
    options = ("num_layers", "bias", "batch_first", "dropout", "bidirectional", "num_heads")
    model = scratch.SLSTM(
        config["input_size"], config["hidden_size"], **{k: config[k] for k in options},
        forget_gate=config["forget_gate"], dtype=f64, bptt=bptt,
    )  # fmt: skip
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(config["scale"])
    return model.train(config["train"])


def inputs(config: dict, seed: int = 1):
    """x as the layer takes it (before packing) and hx = (h_0, c_0, n_0, m_0), or None."""
    g = torch.Generator().manual_seed(seed)
    x, s = layer_input(config, g)
    hx = (
        torch.randn(*s, generator=g, dtype=f64),
        torch.randn(*s, generator=g, dtype=f64),
        torch.rand(*s, generator=g, dtype=f64) + 0.5,
        torch.randn(*s, generator=g, dtype=f64),
    )
    return x, (hx if config["with_hx"] else None)


def forward(model, config, x, hx):
    """The layer on the input as config lays it out: output (time-major, padded) and states."""
    model_input = x
    if config["layout"] == "packed":
        lengths = torch.tensor(config["lengths"])
        model_input = pack_padded_sequence(
            x, lengths, config["batch_first"], config["enforce_sorted"]
        )
    y, state = model(model_input, hx)
    return time_major(config, y), tuple(s[:, None] if s.dim() == 2 else s for s in state)


def time_major(config: dict, y):
    if isinstance(y, PackedSequence):
        return pad_packed_sequence(y)[0]
    if config["layout"] == "unbatched":
        return y[:, None]
    return y.transpose(0, 1) if config["batch_first"] else y


def loss_of(y, states, seed: int = 3):
    """A fixed random weighting of the output and of every final state."""
    g = torch.Generator().manual_seed(seed)
    return sum((t * torch.randn(t.shape, generator=g, dtype=f64)).sum() for t in (y, *states))


def results(model, config, x, hx, seed: int = 2) -> dict:
    x = x.clone().requires_grad_()
    hx = None if hx is None else tuple(s.clone().requires_grad_() for s in hx)
    torch.manual_seed(seed)
    y, states = forward(model, config, x, hx)
    loss_of(y, states).backward()
    out = {
        "output": y.detach(),
        **{f"{k}_n": s.detach() for k, s in zip("hcnm", states, strict=True)},
    }
    out["grad x"] = x.grad
    for k, s in zip("hcnm", hx, strict=True) if hx is not None else ():
        out[f"grad {k}_0"] = s.grad
    out |= {f"grad {name}": p.grad for name, p in model.named_parameters()}
    return out


@settings(max_examples=60)
@given(config=configurations())
def test_bptt_modes_agree(config):
    """bptt="manual" (the fast loop), "readable" (the loop over the step pair) and "autograd",
    with the same dropout masks between layers."""
    x, hx = inputs(config)
    runs = {bptt: results(build(config, bptt), config, x, hx) for bptt in BPTT_CHOICES}
    assert_close(runs["manual"], runs["autograd"])
    assert_close(runs["readable"], runs["autograd"])


@settings(max_examples=40)
@given(config=configurations(), bptt=st.sampled_from(["manual", "readable"]))
def test_matches_the_papers_equations(config, bptt):
    """Against autograd over variant_references.slstm, one sequence at a time (so packing is
    only each sequence's own length), in eval mode (the reference has no dropout): outputs, all
    four final states and the gradients of x, hx and every parameter."""
    config = config | {"train": False}
    x, hx = inputs(config)
    model = build(config, bptt)
    ours = results(model, config, x, hx)

    reference = variant_references.REFERENCES[REFERENCE_NAMES[config["forget_gate"]]]
    params = {name: p.detach().clone().requires_grad_() for name, p in model.named_parameters()}
    xx = x.clone().requires_grad_()
    D = config["num_layers"] * (2 if config["bidirectional"] else 1)
    T, N, H = config["seq_len"], config["batch"], config["hidden_size"]
    if config["layout"] == "unbatched":
        N = 1
    zeros = torch.zeros(D, N, H, dtype=f64)
    states0 = (zeros,) * 4 if hx is None else tuple(s.clone().requires_grad_() for s in hx)
    s0 = tuple(s[:, None] if s.dim() == 2 else s for s in states0)
    xs = time_major(config, xx)
    lengths = config.get("lengths") or [T] * N
    y = torch.zeros(T, N, H * (2 if config["bidirectional"] else 1), dtype=f64)
    finals = []
    for b, length in enumerate(lengths):
        out, state = variant_references.stacked(
            reference, params, xs[:length, b : b + 1], tuple(s[:, b : b + 1] for s in s0),
            config["num_layers"], config["bidirectional"],
        )  # fmt: skip
        y = y.index_put((torch.arange(length), torch.tensor(b)), out[:, 0])
        finals.append(state)
    states = tuple(torch.cat(parts, dim=1) for parts in zip(*finals, strict=True))
    loss_of(y, states).backward()
    ref = {
        "output": y.detach(),
        **{f"{k}_n": s.detach() for k, s in zip("hcnm", states, strict=True)},
    }
    ref["grad x"] = xx.grad
    for k, s in zip("hcnm", states0, strict=True) if hx is not None else ():
        ref[f"grad {k}_0"] = s.grad
    ref |= {f"grad {name}": p.grad for name, p in params.items()}
    assert_close(ours, ref)


# -- the stabiliser: the same h as the equations without it, finite where they overflow -----


def one_layer(scale: float, seed: int = 0, bptt: str = "manual", L: int = 20):
    torch.manual_seed(seed)
    model = scratch.SLSTM(3, 4, dtype=f64, bptt=bptt)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(scale)
    x = torch.randn(L, 2, 3, dtype=f64)
    return model, x


def unstabilised(model, x):
    p = {name.removesuffix("_l0"): q for name, q in model.named_parameters()}
    zeros = x.new_zeros(x.shape[1], model.hidden_size)
    return variant_references.slstm_unstabilised(x, zeros, zeros, zeros, p)


@pytest.mark.parametrize("bptt", BPTT_CHOICES)
def test_stabilised_equals_the_unstabilised_equations_where_they_do_not_overflow(bptt):
    """h_t, and the gradients of a loss on h, are the same with and without m_t; c_t and n_t
    are the unstabilised ones times exp(−m_t)."""
    model, x = one_layer(scale=8.0, bptt=bptt)
    x.requires_grad_()
    y, (h_n, c_n, n_n, m_n) = model(x)
    ours = [y, h_n[0], c_n[0] * m_n[0].exp(), n_n[0] * m_n[0].exp()]
    y_ref, (h_ref, c_ref, n_ref) = unstabilised(model, x)
    refs = [y_ref, h_ref, c_ref, n_ref]
    assert torch.isfinite(n_ref).all() and n_ref.max() > 1e5  # exp() far from 1: m_t does work
    leaves = [x, *model.parameters()]
    g = torch.randn(y.shape, generator=torch.Generator().manual_seed(1), dtype=f64)
    ours += torch.autograd.grad((y * g).sum(), leaves)
    refs += torch.autograd.grad((y_ref * g).sum(), leaves)
    names = ["output", "h_n", "c_n e^m", "n_n e^m", "grad x"] + [
        n for n, _ in model.named_parameters()
    ]
    assert_close(dict(zip(names, ours, strict=True)), dict(zip(names, refs, strict=True)))


@pytest.mark.parametrize("bptt", BPTT_CHOICES)
def test_stabilised_is_finite_where_the_unstabilised_equations_overflow(bptt):
    """An input gate's pre-activation near 800: exp(ĩ) overflows float64 (past about 709) in
    the equations as written; the stabilised cell's outputs and every gradient stay finite."""
    model, x = one_layer(scale=8.0, bptt=bptt)
    with torch.no_grad():
        model.bias_ih_l0[:4] += 800.0  # the input gate's block
    x.requires_grad_()
    with torch.no_grad():
        y_ref, _ = unstabilised(model, x)
    assert not torch.isfinite(y_ref).all()
    y, states = model(x)
    (y.sum() + sum(s.sum() for s in states)).backward()
    grads = [x.grad, *(p.grad for p in model.parameters())]
    assert all(torch.isfinite(t).all() for t in (y, *states, *grads))


def test_a_loss_on_h_alone_sends_no_gradient_through_m():
    """dL/dm_t − c_t dL/dc_t − n_t dL/dn_t, what reaches the gates through m, is zero up to
    rounding when only h reaches the loss: the recorder's dL/d(c, n, m) at every step."""
    model, x = one_layer(scale=3.0, L=12)
    with scratch.record_state_grads(model) as rec:
        y, states = model(x)
        (
            y * torch.randn(y.shape, dtype=f64, generator=torch.Generator().manual_seed(2))
        ).sum().backward()
    d = rec[(0, 0)]
    c, n = _states_by_step(model, x)
    through_m = d["m"] - c * d["c"] - n * d["n"]
    assert d["c"].abs().max() > 1e-3  # the test has something to see
    assert through_m.abs().max() <= 1e-12 * max(1.0, (c * d["c"]).abs().max())


def _states_by_step(model, x):
    """c_t and n_t of every step, (L, N, H) as the recorder lays them out."""
    p = {name.removesuffix("_l0"): q.detach() for name, q in model.named_parameters()}
    N, H = x.shape[1], model.hidden_size
    h = c = n = m = x.new_zeros(N, H)
    cs, ns = [], []
    for x_t in x:
        _, (h, c, n, m) = variant_references.slstm(x_t[None], h, c, n, m, p)
        cs.append(c)
        ns.append(n)
    return torch.stack(cs), torch.stack(ns)


# -- the layer's contract -------------------------------------------------------------------


def test_parameters_are_named_and_shaped_as_the_contract_says():
    model = scratch.SLSTM(3, 8, num_layers=2, bidirectional=True, num_heads=2)
    shapes = {name: tuple(p.shape) for name, p in model.named_parameters()}
    expected = {}
    for layer, size in ((0, 3), (1, 16)):
        for suffix in ("", "_reverse"):
            expected[f"weight_ih_l{layer}{suffix}"] = (32, size)
            expected[f"weight_hh_l{layer}{suffix}"] = (32, 4)  # R's blocks: (4H, H / heads)
            expected[f"bias_ih_l{layer}{suffix}"] = (32,)
            expected[f"bias_hh_l{layer}{suffix}"] = (32,)
    assert shapes == expected
    assert tuple(scratch.SLSTM(3, 8).weight_hh_l0.shape) == (32, 8)  # one head: full R
    weights = torch.cat([p.flatten() for p in model.parameters()])
    assert weights.abs().max() <= 8**-0.5


def test_a_head_reads_only_its_own_units():
    """With two heads, h_{t−1}'s second half does not reach the first half's gates."""
    torch.manual_seed(0)
    model = scratch.SLSTM(2, 4, num_heads=2, dtype=f64)
    x = torch.randn(2, 1, 2, dtype=f64)
    h0 = torch.zeros(1, 1, 4, dtype=f64, requires_grad=True)
    zeros = torch.zeros(1, 1, 4, dtype=f64)
    y, _ = model(x[:1], (h0, zeros, zeros + 1, zeros))
    d_h0 = torch.autograd.grad(y[0, 0, :2].sum(), h0)[0]
    assert torch.equal(d_h0[0, 0, 2:], torch.zeros(2, dtype=f64))
    assert d_h0[0, 0, :2].abs().min() > 0


def test_bad_arguments_and_input():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        scratch.SLSTM(3, 5, num_heads=2)
    with pytest.raises(ValueError, match="forget_gate"):
        scratch.SLSTM(3, 4, forget_gate="tanh")
    with pytest.raises(ValueError, match="no projection"):
        scratch.SLSTM(3, 4, proj_size=2)
    model, x = scratch.SLSTM(3, 4), torch.randn(5, 2, 3)
    with pytest.raises(RuntimeError, match="expected 4 hidden states"):
        model(x, (torch.zeros(1, 2, 4), torch.zeros(1, 2, 4)))
    with pytest.raises(RuntimeError, match=r"hidden\[2\]"):
        model(x, (torch.zeros(1, 2, 4),) * 2 + (torch.zeros(1, 3, 4),) * 2)
    with pytest.raises(ValueError, match="bptt"):
        scratch.SLSTM(3, 4, bptt="scan")


def test_no_hx_means_every_state_zero():
    torch.manual_seed(0)
    model, x = scratch.SLSTM(3, 4, num_layers=2), torch.randn(5, 2, 3)
    zeros = torch.zeros(2, 2, 4)
    y, states = model(x)
    y0, states0 = model(x, (zeros,) * 4)
    assert torch.equal(y, y0) and all(
        torch.equal(a, b) for a, b in zip(states, states0, strict=True)
    )


def test_a_pickled_model_reloads_with_weights_only(tmp_path):
    model = scratch.SLSTM(3, 4, num_layers=2, num_heads=2, forget_gate="exp")
    torch.save(model, tmp_path / "model.pt")
    with torch.serialization.safe_globals([scratch.SLSTM]):
        loaded = torch.load(tmp_path / "model.pt", weights_only=True)
    x = torch.randn(6, 2, 3)
    assert torch.equal(loaded(x)[0], model(x)[0])
