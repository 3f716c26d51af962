"""What programs written for torch.nn rely on beyond signatures (docs/contract.md, Drop-in details)."""

import io

import pytest
import torch
from hypothesis import given, settings
from torch import nn

import reference
import scratch
from compare.harness import module_for
from tests.strategies import layer_cases, step_cases

NAMES = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]
CONFIGS = [
    ("RNN", dict(num_layers=2, nonlinearity="relu", bidirectional=True)),
    ("LSTM", dict(num_layers=3, proj_size=2, bidirectional=True, bias=False)),
    ("GRU", dict(num_layers=2, batch_first=True, dropout=0.2)),
    ("RNNCell", dict(nonlinearity="relu")),
    ("LSTMCell", dict(bias=False)),
    ("GRUCell", {}),
]


def test_both_packages_export_the_six_names():
    """reference has exactly torch.nn's six; scratch has them and what torch.nn lacks."""
    assert sorted(reference.__all__) == sorted(NAMES)
    assert set(NAMES) <= set(scratch.__all__)
    for name in scratch.__all__:
        assert getattr(scratch, name) is not None


@pytest.mark.parametrize("name, kwargs", CONFIGS)
def test_same_seed_gives_torch_nn_initial_weights(name, kwargs):
    torch.manual_seed(7)
    theirs = getattr(nn, name)(3, 5, **kwargs)
    torch.manual_seed(7)
    ours = getattr(scratch, name)(3, 5, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (name_o, p_o), (_, p_t) in zip(
        ours.named_parameters(), theirs.named_parameters(), strict=True
    ):
        assert torch.equal(p_o, p_t), name_o
    assert repr(ours) == repr(theirs)


@settings(max_examples=40)
@given(case=layer_cases(full=True) | step_cases())
def test_state_dicts_load_both_ways_unchanged(case):
    torch.manual_seed(0)
    theirs = module_for(nn, case)
    ours = module_for(scratch, case)
    ours.load_state_dict(theirs.state_dict())
    back = module_for(nn, case)
    back.load_state_dict(ours.state_dict())
    for key, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value)
        assert torch.equal(back.state_dict()[key], value)


@pytest.mark.parametrize("name, kwargs", CONFIGS)
def test_modules_are_flat(name, kwargs):
    assert list(getattr(scratch, name)(3, 5, **kwargs).children()) == []


@pytest.mark.parametrize("name, kwargs", CONFIGS)
def test_whole_model_pickle_reloads_with_weights_only(name, kwargs):
    cls = getattr(scratch, name)
    model = cls(3, 5, **kwargs)
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    with torch.serialization.safe_globals([cls]):
        loaded = torch.load(buffer, weights_only=True)
    assert type(loaded) is cls
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)


@pytest.mark.parametrize("train", [False, True])
def test_forward_draws_no_random_numbers_without_dropout(train):
    """Eval mode, or train mode with dropout 0: the program's random stream is left alone."""
    model = scratch.LSTM(3, 4, num_layers=2, dropout=0.0 if train else 0.5).train(train)
    x = torch.randn(5, 2, 3)
    state = torch.get_rng_state()
    model(x)[0].sum().backward()
    assert torch.equal(state, torch.get_rng_state())


def test_flatten_parameters_exists_and_changes_nothing():
    model = scratch.GRU(3, 4)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert model.flatten_parameters() is None
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_modules_move_with_to_and_double():
    model = scratch.LSTM(3, 4, proj_size=2).double()
    assert all(p.dtype == torch.float64 for p in model.parameters())
    out, _ = model(torch.randn(5, 2, 3, dtype=torch.float64))
    assert out.dtype == torch.float64
    model = model.to(torch.float32)
    assert model(torch.randn(5, 2, 3))[0].dtype == torch.float32
    model = scratch.GRU(3, 4, device="cpu", dtype=torch.float64)
    assert model.weight_ih_l0.dtype == torch.float64


def test_weight_groups_like_torch():
    """Programs initialise gates by walking _all_weights (e.g. forget-gate bias to one)."""
    ours = scratch.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2)
    theirs = nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2)
    assert ours._all_weights == theirs._all_weights
    assert ours._flat_weights_names == theirs._flat_weights_names
    assert [[p.shape for p in g] for g in ours.all_weights] == [
        [p.shape for p in g] for g in theirs.all_weights
    ]


def test_weight_norm_wraps_a_weight_like_torch():
    """Parametrizations (here weight norm) replace a parameter by a tensor computed on access."""
    weight_norm = nn.utils.parametrizations.weight_norm
    torch.manual_seed(0)
    theirs = weight_norm(nn.GRU(3, 4), name="weight_hh_l0")
    torch.manual_seed(0)
    ours = weight_norm(scratch.GRU(3, 4), name="weight_hh_l0")
    for model in (ours, theirs):
        with torch.no_grad():
            model.parametrizations.weight_hh_l0.original0.mul_(2)  # the norm g
    x = torch.randn(5, 2, 3)
    torch.testing.assert_close(ours(x)[0], theirs(x)[0])
    ours(x)[0].sum().backward()
    assert ours.parametrizations.weight_hh_l0.original1.grad is not None  # through to v


def test_scratch_never_builds_on_torch_nn_recurrent_classes(monkeypatch):
    """A program may have replaced torch.nn.LSTM with ours; scratch must not depend on it."""

    def forbidden(*args, **kwargs):
        raise AssertionError("scratch used a torch.nn recurrent class")

    for name in NAMES:
        monkeypatch.setattr(nn, name, forbidden)
    for name, kwargs in CONFIGS:
        model = getattr(scratch, name)(3, 5, **kwargs)
        x = torch.randn(2, 3) if name.endswith("Cell") else torch.randn(4, 2, 3)
        out = model(x)
        (out[0] if isinstance(out, tuple) else out).sum().backward()


@pytest.mark.parametrize("name", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("bptt", ["manual", "readable", "autograd"])
def test_output_may_be_changed_in_place_before_backward(name, bptt):
    """out += residual before backward, as torch.nn's RNN and GRU allow (its LSTM kernel
    refuses): ours allows it for every cell, and the gradients are those of the changed graph."""
    torch.manual_seed(0)
    model = getattr(scratch, name)(3, 4, bptt=bptt).double()
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    residual = torch.randn(5, 2, 4, dtype=torch.float64)

    def gradients(in_place: bool) -> list[torch.Tensor]:
        model.zero_grad()
        out, _ = model(x)
        if in_place:
            out += residual
        else:
            out = out + residual
        (out**2).sum().backward()
        return [p.grad.clone() for p in model.parameters()]

    for a, b in zip(gradients(in_place=True), gradients(in_place=False), strict=True):
        torch.testing.assert_close(a, b)
    if name != "LSTM":
        theirs = getattr(nn, name)(3, 4).double()
        theirs.load_state_dict(model.state_dict())
        out, _ = theirs(x)
        out += residual
        (out**2).sum().backward()
        for a, b in zip(gradients(in_place=True), theirs.parameters(), strict=True):
            torch.testing.assert_close(a, b.grad)


@pytest.mark.parametrize("name", ["GRU", "LSTMCell"])
def test_activation_checkpointing_gives_torch_nn_gradients(name):
    """torch.utils.checkpoint (non-reentrant, its recommended form) lets a backward unpack each
    saved tensor once; our BPTT must read them once too."""
    checkpoint = torch.utils.checkpoint.checkpoint
    torch.manual_seed(0)
    theirs = getattr(nn, name)(3, 4)
    ours = getattr(scratch, name)(3, 4)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(5, 2, 3) if name == "GRU" else torch.randn(2, 3)
    for model in (ours, theirs):
        out = checkpoint(lambda x, model=model: model(x)[0], x, use_reentrant=False)
        (out**2).sum().backward()
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad)


@pytest.mark.parametrize("bptt", ["manual", "readable", "autograd"])
@pytest.mark.parametrize("x_dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("name", ["RNN", "LSTM", "RNNCell"])
def test_autocast_runs_in_its_dtype_like_torch_nn(name, x_dtype, bptt):
    """Under torch.autocast, torch.nn's recurrent ops take input, states and weights in the
    autocast dtype (on the CPU the RNN, the LSTM and the RNN cell; on CUDA every one): so do
    ours, whatever mix of dtypes comes in, and the gradients reach the float32 parameters."""
    torch.manual_seed(0)
    theirs = getattr(nn, name)(3, 8)
    ours = getattr(scratch, name)(3, 8, bptt=bptt)
    ours.load_state_dict(theirs.state_dict())
    cell = name.endswith("Cell")
    x = torch.randn((4, 3) if cell else (6, 4, 3)).to(x_dtype)
    h = torch.randn((4, 8) if cell else (1, 4, 8))  # float32, whatever x is
    hx = (h, h) if name == "LSTM" else h
    results = []
    for model in (ours, theirs):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = model(x, hx)
        out = out if cell else out[0]
        (out.float() ** 2).sum().backward()
        results.append((out, [p.grad for p in model.parameters()]))
    (out, grads), (out_t, grads_t) = results
    assert out.dtype == out_t.dtype == torch.bfloat16
    for a, b in zip((out, *grads), (out_t, *grads_t), strict=True):
        # bfloat16 keeps 8 bits: allow a few units in its last place at the tensor's scale
        assert (a.float() - b.float()).abs().max() <= 2e-2 * max(1.0, b.abs().max().item())
    assert all(g.dtype == torch.float32 for g in grads)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_a_cell_reads_each_parameter_once_per_call_like_torch(name):
    """spectral_norm's power iteration steps on every read of its weight in training mode: a
    cell that read weight_ih twice would drift from torch.nn's singular vector, step by step."""
    spectral_norm = nn.utils.parametrizations.spectral_norm
    torch.manual_seed(0)
    theirs = getattr(nn, name)(3, 4)
    ours = getattr(scratch, name)(3, 4)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 3)
    for model in (ours, theirs):
        torch.manual_seed(1)
        spectral_norm(model, name="weight_ih")
        for _ in range(3):
            model(x)
    u_ours = ours.parametrizations.weight_ih[0]._u
    torch.testing.assert_close(u_ours, theirs.parametrizations.weight_ih[0]._u)
