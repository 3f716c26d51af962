"""scratch.MinGRU (and its negative-eigenvalue variant), scratch.MinLSTM and scratch.RGLRU.
torch.nn has no such layers, so the reference is autograd over the papers' equations (Feng et
al. 2024, §3; Grazzi et al. 2024; De et al. 2024, §2.4), written here from the papers in a
plain loop; and the three ways to get gradients (the scan, the loop over the step pair, autograd
over that loop) must agree to 1e-12 in float64 over random configurations of every option."""

import math
from functools import partial

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

import scratch
from scratch.checks import BPTT_CHOICES
from tests.strategies import layer_input, lengths_for

LAYERS = {
    "mingru": scratch.MinGRU,
    "minlstm": scratch.MinLSTM,
    "mingru_neg": partial(scratch.MinGRU, negative=True),
    "rglru": scratch.RGLRU,
}


def mingru_reference(x, h, W, b, lam=None, negative=False):
    """One layer, one direction, x (T, I) of one sequence, from the paper's equations."""
    W_z, W_h = W.chunk(2)
    b_z, b_h = b.chunk(2)
    out = []
    for x_t in x:
        z = torch.sigmoid(x_t @ W_z.T + b_z)  # z_t = σ(Linear(x_t))
        h_tilde = x_t @ W_h.T + b_h  # h̃_t = Linear(x_t)
        a = 2 * (1 - z) - 1 if negative else 1 - z  # Grazzi et al.: the range (0, 1) → (−1, 1)
        h = a * h + z * h_tilde
        out.append(h)
    return torch.stack(out), h


def rglru_reference(x, h, W, b, lam):
    """De et al. (2024), §2.4, literally: a_t = σ(Λ)^{c r_t} with c = 8, on u_t, the input's
    projection (rows [r; i; u] of W, b)."""
    W_a, W_x, W_u = W.chunk(3)
    b_a, b_x, b_u = b.chunk(3)
    out = []
    for x_t in x:
        r = torch.sigmoid(x_t @ W_a.T + b_a)  # recurrence gate
        i = torch.sigmoid(x_t @ W_x.T + b_x)  # input gate
        a = torch.sigmoid(lam) ** (8 * r)
        h = a * h + torch.sqrt(1 - a**2) * (i * (x_t @ W_u.T + b_u))
        out.append(h)
    return torch.stack(out), h


def minlstm_reference(x, h, W, b, lam=None):
    """One layer, one direction, x (T, I) of one sequence, from the paper's equations."""
    W_i, W_f, W_h = W.chunk(3)
    b_i, b_f, b_h = b.chunk(3)
    out = []
    for x_t in x:
        f = torch.sigmoid(x_t @ W_f.T + b_f)  # f_t = σ(Linear(x_t))
        i = torch.sigmoid(x_t @ W_i.T + b_i)  # i_t = σ(Linear(x_t))
        h_tilde = x_t @ W_h.T + b_h  # h̃_t = Linear(x_t)
        h = f / (f + i) * h + i / (f + i) * h_tilde  # f′_t ⊙ h_{t−1} + i′_t ⊙ h̃_t
        out.append(h)
    return torch.stack(out), h


REFERENCES = {
    "mingru": mingru_reference,
    "minlstm": minlstm_reference,
    "mingru_neg": partial(mingru_reference, negative=True),
    "rglru": rglru_reference,
}


def reference_stack(cell, model, x, h0):
    """Layers and directions stacked as torch.nn stacks them, for one sequence x (T, I)."""
    finals = []
    for layer in range(model.num_layers):
        outs = []
        for direction in range(2 if model.bidirectional else 1):
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            W = getattr(model, "weight_ih" + suffix)
            b = getattr(model, "bias_ih" + suffix, None)
            b = torch.zeros(W.shape[0], dtype=W.dtype) if b is None else b
            k = layer * (2 if model.bidirectional else 1) + direction
            seq = x.flip(0) if direction else x
            lam = getattr(model, "lambda" + suffix, None)  # the RG-LRU's Λ
            y, h_n = REFERENCES[cell](seq, h0[k], W, b, lam)
            outs.append(y.flip(0) if direction else y)
            finals.append(h_n)
        x = torch.cat(outs, dim=1)
    return x, torch.stack(finals)


@st.composite
def configurations(draw) -> dict:
    """A minimal layer and its input: every constructor option and input layout."""
    batch, seq_len = draw(st.integers(1, 4)), draw(st.integers(1, 24))
    config = {
        "cell": draw(st.sampled_from(sorted(LAYERS))),
        "input_size": draw(st.integers(1, 5)),
        "hidden_size": draw(st.integers(1, 6)),
        "num_layers": draw(st.integers(1, 3)),
        "bidirectional": draw(st.booleans()),
        "bias": draw(st.booleans()),
        "batch_first": draw(st.booleans()),
        "batch": batch,
        "seq_len": seq_len,
        "layout": draw(st.sampled_from(["plain", "packed", "unbatched"])),
        "with_hx": draw(st.booleans()),
        "train": draw(st.booleans()),
    }
    config["dropout"] = draw(st.sampled_from([0.0, 0.4])) if config["num_layers"] > 1 else 0.0
    if config["layout"] == "packed":
        config["enforce_sorted"] = draw(st.booleans())
        config["lengths"] = draw(lengths_for(batch, seq_len, config["enforce_sorted"]))
    return config


def build(config: dict, bptt: str, seed: int = 0):
    torch.manual_seed(seed)
    options = ("num_layers", "bias", "batch_first", "dropout", "bidirectional")
    model = LAYERS[config["cell"]](
        config["input_size"],
        config["hidden_size"],
        **{k: config[k] for k in options},
        dtype=torch.float64,
        bptt=bptt,
    )
    return model.train(config["train"])


def inputs(config: dict, seed: int = 1):
    """x as the layer takes it (before packing) and h_0 (or None)."""
    g = torch.Generator().manual_seed(seed)
    x, s = layer_input(config, g)
    h0 = torch.randn(*s, generator=g, dtype=torch.float64)
    return x, (h0 if config["with_hx"] else None)


def run(model, config: dict, x, h0, seed: int = 2) -> list[torch.Tensor]:
    """Forward (dropout masks from one seed), backward a fixed random weighting of the output
    and h_n; returns the output, h_n and the gradients of x, h_0 and every parameter."""
    x = x.clone().requires_grad_()
    h0 = None if h0 is None else h0.clone().requires_grad_()
    model_input = x
    if config["layout"] == "packed":
        lengths = torch.tensor(config["lengths"])
        model_input = pack_padded_sequence(
            x, lengths, config["batch_first"], config["enforce_sorted"]
        )
    torch.manual_seed(seed)
    y, h_n = model(model_input, h0)
    y = y.data if isinstance(y, PackedSequence) else y
    g = torch.Generator().manual_seed(seed + 1)
    loss = (y * torch.randn(y.shape, generator=g, dtype=y.dtype)).sum()
    (loss + (h_n * torch.randn(h_n.shape, generator=g, dtype=h_n.dtype)).sum()).backward()
    grads = [x.grad] + ([] if h0 is None else [h0.grad])
    return [y.detach(), h_n.detach(), *grads, *(p.grad for p in model.parameters())]


def assert_close(ours: list, ref: list, tol: float = 1e-12) -> None:
    assert len(ours) == len(ref)
    for k, (a, b) in enumerate(zip(ours, ref, strict=True)):
        assert torch.allclose(a, b, rtol=tol, atol=tol), f"tensor {k}: {(a - b).abs().max()}"


@settings(max_examples=80)
@given(config=configurations())
def test_scan_loop_and_autograd_agree(config):
    """bptt="manual" (the scan), "readable" (the loop over the step pair) and "autograd"."""
    x, h0 = inputs(config)
    results = {bptt: run(build(config, bptt), config, x, h0) for bptt in BPTT_CHOICES}
    assert_close(results["manual"], results["readable"])
    assert_close(results["manual"], results["autograd"])


def time_major(config: dict, y: torch.Tensor) -> torch.Tensor:
    """The layer's output or h_n as (T or D, N, ·), zeros past each sequence's end."""
    if isinstance(y, PackedSequence):
        return pad_packed_sequence(y)[0]
    if config["layout"] == "unbatched":
        return y[:, None]
    return y.transpose(0, 1) if config["batch_first"] and y.dim() == 3 else y


@settings(max_examples=40)
@given(config=configurations(), bptt=st.sampled_from(["manual", "readable"]))
def test_matches_the_papers_equations(config, bptt):
    """Against autograd over reference_stack, one sequence at a time (so packing is only each
    sequence's own length), in eval mode (the reference has no dropout)."""
    config = config | {"train": False}
    x, h0 = inputs(config)
    T, N = config["seq_len"], 1 if config["layout"] == "unbatched" else config["batch"]
    lengths = config.get("lengths") or [T] * N
    results = []
    for model in (build(config, bptt), build(config, "autograd")):
        xx = x.clone().requires_grad_()
        hh = None if h0 is None else h0.clone().requires_grad_()
        if model.bptt != "autograd":  # ours, on the input as given
            model_input = xx
            if config["layout"] == "packed":
                model_input = pack_padded_sequence(
                    xx, torch.tensor(lengths), config["batch_first"], config["enforce_sorted"]
                )
            y, h_n = model(model_input, hh)
            y, h_n = time_major(config, y), h_n[:, None] if h_n.dim() == 2 else h_n
        else:  # the reference, one sequence at a time
            xs, D = time_major(config, xx), model.num_layers * (2 if model.bidirectional else 1)
            hs = torch.zeros(D, N, model.hidden_size, dtype=torch.float64) if hh is None else hh
            hs = hs[:, None] if hs.dim() == 2 else hs
            y = torch.zeros(T, N, model.hidden_size * (2 if model.bidirectional else 1))
            y, finals = y.double(), []
            for b, length in enumerate(lengths):
                out, h_b = reference_stack(config["cell"], model, xs[:length, b], hs[:, b])
                y = y.index_put((torch.arange(length), torch.tensor(b)), out)
                finals.append(h_b)
            h_n = torch.stack(finals, dim=1)
        g = torch.Generator().manual_seed(3)
        loss = (y * torch.randn(y.shape, generator=g, dtype=y.dtype)).sum()
        (loss + (h_n * torch.randn(h_n.shape, generator=g, dtype=h_n.dtype)).sum()).backward()
        grads = [xx.grad] + ([] if hh is None else [hh.grad])
        results.append([y.detach(), h_n.detach(), *grads, *(p.grad for p in model.parameters())])
    assert_close(*results)


@pytest.mark.parametrize("cell, gates", [("mingru", 2), ("minlstm", 3), ("rglru", 3)])
def test_parameters_are_the_input_side_only(cell, gates):
    """weight_ih_l{k} (G·H, H_in) and bias_ih_l{k} per layer and direction, nothing recurrent,
    drawn from U(−1/√H, 1/√H) like torch.nn's."""
    model = LAYERS[cell](3, 16, num_layers=2, bidirectional=True)
    shapes = {name: tuple(p.shape) for name, p in model.named_parameters()}
    expected = {}
    for layer, size in ((0, 3), (1, 32)):
        for suffix in ("", "_reverse"):
            expected[f"weight_ih_l{layer}{suffix}"] = (gates * 16, size)
            expected[f"bias_ih_l{layer}{suffix}"] = (gates * 16,)
            if cell == "rglru":
                expected[f"lambda_l{layer}{suffix}"] = (16,)  # Λ, σ(Λ) in [0.9, 0.999]
    assert shapes == expected
    lams = [p for name, p in model.named_parameters() if name.startswith("lambda")]
    assert all(0.9 <= torch.sigmoid(p).min() and torch.sigmoid(p).max() <= 0.999 for p in lams)
    weights = torch.cat([p.flatten() for n, p in model.named_parameters() if "lambda" not in n])
    assert weights.abs().max() <= 1 / math.sqrt(16)
    assert weights.std() > 0.8 / math.sqrt(3 * 16)  # U(−k, k) has std k/√3
    assert not any(hasattr(model, n) for n in ("weight_hh_l0", "bias_hh_l0"))


@pytest.mark.parametrize("cell", sorted(LAYERS))
def test_bad_input_raises_what_torch_nn_gru_raises(cell):
    """Wrong feature size, h_0 of the wrong shape, 4-D input: GRU's exception types."""
    ours, gru = LAYERS[cell](3, 4), torch.nn.GRU(3, 4)
    for args in (
        (torch.randn(5, 2, 7),),
        (torch.randn(5, 2, 3), torch.randn(1, 3, 4)),
        (torch.randn(5, 2, 3, 1),),
    ):
        with pytest.raises(Exception) as expected:
            gru(*args)
        with pytest.raises(expected.type):
            ours(*args)
    with pytest.raises(ValueError, match="bptt"):
        LAYERS[cell](3, 4, bptt="scan")


@pytest.mark.parametrize("cell", sorted(LAYERS))
def test_recorded_state_gradients_equal_between_scan_and_loop(cell):
    """record_state_grads: g_t from the reversed scan equals d_h_t from the loop's BPTT."""
    lengths = torch.tensor([2, 5, 3])
    x = torch.randn(5, 3, 2, dtype=torch.float64)
    recorded = []
    for bptt in ("manual", "readable"):
        torch.manual_seed(0)
        model = LAYERS[cell](2, 3, num_layers=2, bidirectional=True, bptt=bptt).double()
        y, h_n = model(pack_padded_sequence(x, lengths, enforce_sorted=False))
        with scratch.record_state_grads(model) as rec:
            (y.data.sum() + h_n.square().sum()).backward()
        recorded.append(rec)
    assert recorded[0].keys() == recorded[1].keys() == {(k, d) for k in (0, 1) for d in (0, 1)}
    for key, grads in recorded[0].items():
        assert torch.allclose(grads["h"], recorded[1][key]["h"], rtol=1e-12, atol=1e-12)


def test_a_pickled_model_reloads_with_weights_only(tmp_path):
    model = scratch.MinGRU(3, 4, num_layers=2)
    torch.save(model, tmp_path / "model.pt")
    with torch.serialization.safe_globals([scratch.MinGRU]):
        loaded = torch.load(tmp_path / "model.pt", weights_only=True)
    x = torch.randn(6, 2, 3)
    assert torch.equal(loaded(x)[0], model(x)[0])


def test_rglru_with_the_identity_projection_is_the_papers_cell_on_x():
    """input_size = H, W_u = I, b_u = 0: u_t = x_t, and the layer is the paper's RG-LRU on x."""
    torch.manual_seed(0)
    model = scratch.RGLRU(4, 4, dtype=torch.float64)
    with torch.no_grad():
        model.weight_ih_l0[8:] = torch.eye(4)
        model.bias_ih_l0[8:] = 0
    x = torch.randn(9, 4, dtype=torch.float64)
    W_a, W_x, _ = model.weight_ih_l0.chunk(3)
    b_a, b_x, _ = model.bias_ih_l0.chunk(3)
    h, out = torch.zeros(4, dtype=torch.float64), []
    for x_t in x:
        a = torch.sigmoid(model.lambda_l0) ** (8 * torch.sigmoid(x_t @ W_a.T + b_a))
        h = a * h + torch.sqrt(1 - a**2) * (torch.sigmoid(x_t @ W_x.T + b_x) * x_t)
        out.append(h)
    assert torch.allclose(model(x)[0], torch.stack(out), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("bptt", ["manual", "readable"])
def test_rglru_at_a_equal_to_one_keeps_h_and_has_finite_gradients(bptt):
    """Λ = 800: softplus(−Λ) underflows to 0, so a_t = 1 and √(1 − a_t²) = 0 exactly; h_t = h_0,
    and the backward uses the limit of the chain through √ (0), not 0 · ∞."""
    torch.manual_seed(0)
    model = scratch.RGLRU(3, 4, dtype=torch.float64, bptt=bptt)
    with torch.no_grad():
        model.lambda_l0[:2] = 800.0
    x = torch.randn(6, 2, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(1, 2, 4, dtype=torch.float64, requires_grad=True)
    y, h_n = model(x, h0)
    assert torch.equal(y[:, :, :2], h0[:, :, :2].expand(6, 2, 2))
    (y.sum() + h_n.sum()).backward()
    grads = [x.grad, h0.grad, *(p.grad for p in model.parameters())]
    assert all(torch.isfinite(g).all() for g in grads)
    assert torch.equal(model.lambda_l0.grad[:2], torch.zeros(2, dtype=torch.float64))
