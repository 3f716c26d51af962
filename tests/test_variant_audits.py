"""What each variant is, and is not, beside torch.nn: weights load from torch.nn.LSTM / GRU,
the peephole LSTM with zero peepholes and the dropout variants at rate 0 are torch.nn.LSTM, the
Cho GRU is not torch.nn.GRU unless its reset gate is fully open, the layer-normalised LSTM
carries the un-normalised c_t; and how the masks are drawn, replaced and given."""

import io

import pytest
import torch
from torch import nn

import scratch
from compare.harness import Case, run, scaled_error, within_tolerance
from scratch.registry import CELLS

f64 = torch.float64
LSTM_CASE = Case("lstm", input_size=3, hidden_size=4, num_layers=2, bidirectional=True)


def own_names(module) -> set[str]:
    """The parameters torch.nn's layer does not have."""
    own = {p.kind for p in CELLS[module.mode.lower()].extra}
    return {n for n, _ in module.named_parameters() if n.rsplit("_l", 1)[0] in own}


def differences(ours: dict, ref: dict) -> dict[str, float]:
    """The scaled error of every tensor the two runs share (the shared parameters' grads)."""
    return {k: scaled_error(ours[k], ref[k]) for k in ref if k in ours}


def assert_same(ours: dict, ref: dict) -> None:
    failed = [k for k in ref if k in ours and not within_tolerance(ours[k], ref[k])]
    assert not failed, {k: scaled_error(ours[k], ref[k]) for k in failed}


def torch_lstm(case: Case = LSTM_CASE, seed: int = 0) -> nn.LSTM:
    torch.manual_seed(seed)
    return nn.LSTM(
        case.input_size,
        case.hidden_size,
        case.num_layers,
        bidirectional=case.bidirectional,
        dtype=f64,
    )


def variant(name: str, case: Case = LSTM_CASE, **options):
    return getattr(scratch, name)(
        case.input_size,
        case.hidden_size,
        case.num_layers,
        bidirectional=case.bidirectional,
        dtype=f64,
        **options,
    )


# -- loading torch.nn's weights ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "torch_layer"),
    [
        ("LayerNormLSTM", "LSTM"),
        ("PeepholeLSTM", "LSTM"),
        ("VariationalLSTM", "LSTM"),
        ("ZoneoutLSTM", "LSTM"),
        ("ChoGRU", "GRU"),
    ],
)
def test_loads_torch_weights(name, torch_layer):
    """strict=False fills every parameter torch.nn has and leaves exactly the variant's own."""
    src = getattr(nn, torch_layer)(3, 4, 2, bidirectional=True, dtype=f64)
    dst = variant(name)
    result = dst.load_state_dict(src.state_dict(), strict=False)
    assert set(result.missing_keys) == own_names(dst)
    assert result.unexpected_keys == []
    for key, value in src.state_dict().items():
        assert torch.equal(dst.state_dict()[key], value), key


def test_own_parameters_start_neutral():
    """Peepholes start at 0, layer-norm gains at 1 and biases at 0; the same seed draws
    torch.nn.LSTM's weights for everything else."""
    torch.manual_seed(0)
    peephole = variant("PeepholeLSTM")
    torch.manual_seed(0)
    ln = variant("LayerNormLSTM")
    ref = torch_lstm()
    for module in (peephole, ln):
        for key, value in ref.state_dict().items():
            assert torch.equal(module.state_dict()[key], value), key
    assert all(peephole.state_dict()[n].eq(0).all() for n in own_names(peephole))
    for n in own_names(ln):
        assert ln.state_dict()[n].eq(0 if "bias" in n else 1).all(), n


@pytest.mark.parametrize(
    "name", ["LayerNormLSTM", "PeepholeLSTM", "ChoGRU", "VariationalLSTM", "ZoneoutLSTM"]
)
def test_flat_and_pickled_whole(name):
    """Flat like torch.nn's layers, so torch.save(model) reloads with weights_only=True."""
    cls = getattr(scratch, name)
    model = variant(name, zoneout_h=0.3) if name == "ZoneoutLSTM" else variant(name)
    assert list(model.children()) == []
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    with torch.serialization.safe_globals([cls]):
        loaded = torch.load(buffer, weights_only=True)
    assert type(loaded) is cls and repr(loaded) == repr(model)
    x = torch.randn(4, 2, 3, dtype=f64)
    model.eval(), loaded.eval()
    assert torch.equal(loaded(x)[0], model(x)[0])


# -- where a variant is torch.nn.LSTM -------------------------------------------------------


@pytest.mark.parametrize("bptt", ["manual", "readable"])
def test_zero_peepholes_are_torch_lstm(bptt):
    """Both ways of state dict: torch.nn.LSTM's weights into the peephole LSTM (its peepholes
    zero), and a peephole LSTM's (peepholes set to zero) into torch.nn.LSTM."""
    ref = torch_lstm()
    ours = variant("PeepholeLSTM", bptt=bptt)
    ours.load_state_dict(ref.state_dict(), strict=False)
    assert_same(run(ours, LSTM_CASE), run(ref, LSTM_CASE))

    torch.manual_seed(1)
    ours = variant("PeepholeLSTM", bptt=bptt)
    with torch.no_grad():
        for n in own_names(ours):
            getattr(ours, n).zero_()
    ref = torch_lstm(seed=2)
    assert ref.load_state_dict(ours.state_dict(), strict=False).unexpected_keys == sorted(
        own_names(ours), key=list(ours.state_dict()).index
    )
    assert_same(run(ours, LSTM_CASE), run(ref, LSTM_CASE))


def test_peepholes_change_the_result():
    """The same weights with peepholes that are not zero: no longer torch.nn.LSTM."""
    ref = torch_lstm()
    ours = variant("PeepholeLSTM")
    ours.load_state_dict(ref.state_dict(), strict=False)
    with torch.no_grad():
        ours.weight_co_l0.fill_(0.5)
    assert differences(run(ours, LSTM_CASE), run(ref, LSTM_CASE))["output"] > 1e-3


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("VariationalLSTM", {"dropout_input": 0.0, "dropout_hidden": 0.0}),
        ("ZoneoutLSTM", {"zoneout_h": 0.0, "zoneout_c": 0.0}),
    ],
)
@pytest.mark.parametrize("train", [True, False])
def test_rate_zero_is_torch_lstm(name, options, train):
    ref = torch_lstm()
    ours = variant(name, **options)
    ours.load_state_dict(ref.state_dict(), strict=False)
    ours.train(train)
    assert_same(run(ours, LSTM_CASE), run(ref, LSTM_CASE))


def test_variational_dropout_at_evaluation_is_torch_lstm():
    """At evaluation each dropout mask is its expectation, 1."""
    ref = torch_lstm()
    ours = variant("VariationalLSTM", dropout_input=0.5, dropout_hidden=0.5)
    ours.load_state_dict(ref.state_dict(), strict=False)
    ours.eval()
    assert_same(run(ours, LSTM_CASE), run(ref, LSTM_CASE))


# -- which GRU is this? ---------------------------------------------------------------------

GRU_CASE = Case("gru", input_size=3, hidden_size=4, seq_len=8)


def gru_pair(seed: int = 0):
    torch.manual_seed(seed)
    ref = nn.GRU(3, 4, dtype=f64)
    cho = scratch.ChoGRU(3, 4, dtype=f64)
    cho.load_state_dict(ref.state_dict())  # the same parameters, every one of them
    return cho, ref


def test_cho_gru_is_not_torch_gru():
    """Default weights: b_hn ≠ 0 and 0 < r_t < 1. Every output and gradient differs."""
    cho, ref = gru_pair()
    errors = differences(run(cho, GRU_CASE), run(ref, GRU_CASE))
    assert min(errors.values()) > 1e-4, errors


def test_cho_gru_differs_without_b_hn():
    """b_hn = 0 is not enough: r_t ⊙ (h_{t−1} W_hnᵀ) ≠ (r_t ⊙ h_{t−1}) W_hnᵀ while r_t ≠ 1."""
    cho, ref = gru_pair()
    with torch.no_grad():
        for module in (cho, ref):
            module.bias_hh_l0[8:].zero_()  # b_hn: the n block of b_hh
    assert differences(run(cho, GRU_CASE), run(ref, GRU_CASE))["output"] > 1e-3


def test_cho_gru_is_torch_gru_when_the_reset_gate_is_open():
    """A reset-gate bias of 1000 makes r_t = σ(·) exactly 1 in float64, and then
    r_t ⊙ (h W_hnᵀ + b_hn) = (r_t ⊙ h) W_hnᵀ + b_hn: the two GRUs agree, b_hn ≠ 0 included,
    and so do all gradients (σ' = r(1 − r) = 0 on both sides)."""
    cho, ref = gru_pair()
    with torch.no_grad():
        for module in (cho, ref):
            module.bias_ih_l0[:4].fill_(1000.0)  # b_ir: the r block of b_ih
    assert ref.bias_hh_l0[8:].abs().min() > 0
    assert_same(run(cho, GRU_CASE), run(ref, GRU_CASE))


# -- the layer-normalised LSTM --------------------------------------------------------------


def test_lnlstm_carries_the_unnormalised_cell_state():
    """Eq (21) of Ba et al. carries c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t; only eq (22), the output,
    reads LN_c(c_t). Two steps by hand with torch.nn.LayerNorm (biased variance, eps 1e-5)
    give our c_n; carrying LN_c(c_1) instead would give another."""
    torch.manual_seed(0)
    H = 4
    ours = scratch.LayerNormLSTM(3, H, dtype=f64)
    with torch.no_grad():
        for p in ours.parameters():
            p.copy_(torch.randn_like(p))
    norms = {}
    for which, size in (("ih", 4 * H), ("hh", 4 * H), ("c", H)):
        norms[which] = nn.LayerNorm(size, eps=1e-5, dtype=f64)
        norms[which].weight.data = getattr(ours, f"ln_{which}_weight_l0").data
        norms[which].bias.data = getattr(ours, f"ln_{which}_bias_l0").data
    x, h0, c0 = (torch.randn(s, dtype=f64) for s in ((2, 1, 3), (1, 1, H), (1, 1, H)))
    _, (h_n, c_n) = ours(x, (h0, c0))

    def step(x_t, h, c):
        a = norms["ih"](x_t @ ours.weight_ih_l0.t()) + norms["hh"](h @ ours.weight_hh_l0.t())
        i, f, g, o = (a + ours.bias_ih_l0 + ours.bias_hh_l0).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(norms["c"](c)), c

    with torch.no_grad():
        h1, c1 = step(x[0], h0[0], c0[0])
        h2, c2 = step(x[1], h1, c1)
        _, c2_if_normalised = step(x[1], h1, norms["c"](c1))
        torch.testing.assert_close(c_n[0], c2, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(h_n[0], h2, rtol=1e-12, atol=1e-12)
        assert (c2_if_normalised - c2).abs().max() > 1e-3


# -- masks: drawn, replaced by expectations, given ------------------------------------------


def capture_masks(monkeypatch, module) -> list:
    """Every set of masks the layer's _masks hook hands to the loops."""
    seen, hook = [], type(module)._masks

    def recording(self, *args):
        seen.append(hook(self, *args))
        return seen[-1]

    monkeypatch.setattr(type(module), "_masks", recording)
    return seen


def test_variational_masks_are_locked_per_sequence(monkeypatch):
    """One mask per sequence for x_t and one for h_{t−1}, 0 or 1/(1 − p), about p of them 0."""
    torch.manual_seed(0)
    module = scratch.VariationalLSTM(5, 6, dropout_input=0.25, dropout_hidden=0.5, dtype=f64)
    seen = capture_masks(monkeypatch, module)
    module(torch.randn(7, 2000, 5, dtype=f64))
    (masks,) = seen
    for name, p, width in (("x", 0.25, 5), ("h", 0.5, 6)):
        m = masks[name]
        assert m.shape == (2000, width)
        assert set(m.unique().tolist()) == {0.0, 1 / (1 - p)}
        assert abs(m.eq(0).double().mean().item() - p) < 0.02


def test_zoneout_masks_per_unit_and_step(monkeypatch):
    """A fresh 0/1 mask per step, unit and sequence for h and for c, about z of them 1."""
    torch.manual_seed(0)
    module = scratch.ZoneoutLSTM(5, 6, zoneout_h=0.2, zoneout_c=0.6, dtype=f64)
    seen = capture_masks(monkeypatch, module)
    module(torch.randn(7, 500, 5, dtype=f64))
    (masks,) = seen
    for name, z in (("h", 0.2), ("c", 0.6)):
        m = masks[name]
        assert m.shape == (7 * 500, 6)
        assert set(m.unique().tolist()) == {0.0, 1.0}
        assert abs(m.mean().item() - z) < 0.02
        steps = m.view(7, 500, 6)
        assert not torch.equal(steps[0], steps[1])


def test_zoneout_at_evaluation_uses_the_expectations():
    """At evaluation c_t = z_c c_{t−1} + (1 − z_c) c̃_t and h_t likewise: the layer in eval
    mode equals the layer in training mode given masks filled with z_h and z_c."""
    torch.manual_seed(0)
    module = scratch.ZoneoutLSTM(3, 4, 2, zoneout_h=0.3, zoneout_c=0.7, dtype=f64)
    x = torch.randn(5, 2, 3, dtype=f64)
    filled = {
        (layer, 0): {
            name: torch.full((5, 2, 4), z, dtype=f64) for name, z in (("h", 0.3), ("c", 0.7))
        }
        for layer in range(2)
    }
    module.eval()
    expected = module(x)
    module.train()
    given = module(x, masks=filled)
    torch.testing.assert_close(given[0], expected[0], rtol=1e-12, atol=1e-12)


def test_no_random_numbers_unless_masks_are_drawn():
    """Evaluation, rate 0, or masks given: forward leaves the global random stream as it was."""
    module = scratch.ZoneoutLSTM(3, 4, zoneout_h=0.5, zoneout_c=0.5, dtype=f64)
    x = torch.randn(4, 2, 3, dtype=f64)
    for setup in ("eval", "given"):
        module.train(setup != "eval")
        masks = {(0, 0): {name: torch.zeros(4, 2, 4, dtype=f64) for name in ("h", "c")}}
        before = torch.get_rng_state()
        module(x, masks=masks if setup == "given" else None)
        assert torch.equal(torch.get_rng_state(), before), setup


@pytest.mark.parametrize(
    ("masks", "message"),
    [
        ({}, r"masks\[\(0, 0\)\]\['x'\] should be a tensor of shape \(2, 3\) .*got NoneType"),
        ({(0, 0): {"x": torch.ones(2, 3), "h": torch.ones(2, 5)}}, r"\['h'\].*got \(2, 5\)"),
        (
            {(0, 0): {"x": torch.ones(2, 3), "h": torch.ones(2, 4, dtype=f64)}},
            r"\['h'\] .* dtype torch.float32, got \(2, 4\) torch.float64",
        ),
    ],
)
def test_bad_masks_say_what_was_expected(masks, message):
    module = scratch.VariationalLSTM(3, 4)
    with pytest.raises(ValueError, match=message):
        module(torch.randn(6, 2, 3), masks=masks)


@pytest.mark.parametrize("name", ["VariationalLSTM", "ZoneoutLSTM"])
@pytest.mark.parametrize("rate", [-0.1, 1.5, "0.2", True])
def test_bad_rates(name, rate):
    option = next(iter(scratch.__dict__[name].OWN))
    with pytest.raises(ValueError, match=f"{option} should be a probability in"):
        getattr(scratch, name)(3, 4, **{option: rate})
