"""Forward mode through scratch layers under bptt="manual" and "readable": torch.func.jvp,
jacfwd and torch.autograd.forward_ad run our tangent recurrence (tangent.py with each cell's
step_tangent) and give the tangents of autograd's forward mode over the readable loop
(bptt="autograd") to 1e-12, and of central finite differences; forward-over-reverse
Hessian-vector products agree with reverse-over-reverse ones."""

import pytest
import torch
from torch.autograd import forward_ad
from torch.func import functional_call, grad, jacfwd, jacrev, jvp

import scratch
import scratch.function

EXACT = {"rtol": 1e-12, "atol": 1e-12}
CONFIGS = {  # name: (class, keyword arguments)
    "rnn_tanh": ("RNN", {}),
    "rnn_relu": ("RNN", {"nonlinearity": "relu"}),
    "lstm": ("LSTM", {}),
    "lstm_proj": ("LSTM", {"proj_size": 2}),
    "gru": ("GRU", {}),
}


def layer(config: str, bptt: str):
    name, kw = CONFIGS[config]
    torch.manual_seed(0)
    return getattr(scratch, name)(3, 4, num_layers=2, bidirectional=True, bptt=bptt, **kw).double()


def point(module):
    """The primal (x, h_0 [, c_0], every parameter) and a random direction in that space."""
    torch.manual_seed(1)
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    h0 = torch.randn(4, 2, module.proj_size or 4, dtype=torch.float64)
    hx = (h0, torch.randn(4, 2, 4, dtype=torch.float64)) if module.mode == "LSTM" else h0
    p = {"x": x, "hx": hx, **{k: v.detach() for k, v in module.named_parameters()}}
    return p, torch.utils._pytree.tree_map(torch.randn_like, p)


def run(module):
    def f(p):
        params = {k: v for k, v in p.items() if k not in ("x", "hx")}
        y, state = functional_call(module, params, (p["x"], p["hx"]))
        return (y, *state) if isinstance(state, tuple) else (y, state)

    return f


@pytest.mark.parametrize("bptt", ["manual", "readable"])
@pytest.mark.parametrize("config", list(CONFIGS))
def test_jvp_runs_our_tangent_recurrence_and_matches_autograd_and_differences(
    monkeypatch, config, bptt
):
    calls = []
    original = scratch.function.layer_tangent
    monkeypatch.setattr(
        scratch.function, "layer_tangent", lambda *a: calls.append(1) or original(*a)
    )
    ours, theirs = layer(config, bptt), layer(config, "autograd")
    p, v = point(ours)
    out, tangent = jvp(run(ours), (p,), (v,))
    assert len(calls) == 4  # our recurrence, once per layer and direction
    ref_out, ref_tangent = jvp(run(theirs), (p,), (v,))  # autograd's, over the readable loop
    torch.testing.assert_close(out, ref_out, **EXACT)
    torch.testing.assert_close(tangent, ref_tangent, **EXACT)
    eps = 1e-6
    plus = run(ours)(torch.utils._pytree.tree_map(lambda a, d: a + eps * d, p, v))
    minus = run(ours)(torch.utils._pytree.tree_map(lambda a, d: a - eps * d, p, v))
    central = tuple((a - b) / (2 * eps) for a, b in zip(plus, minus, strict=True))
    torch.testing.assert_close(tangent, central, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("bptt", ["manual", "readable"])
def test_forward_ad_and_jacfwd_through_our_rule(bptt):
    ours = layer("gru", bptt)
    p, v = point(ours)
    _, want = jvp(run(ours), (p,), (v,))
    with forward_ad.dual_level():
        duals = torch.utils._pytree.tree_map(forward_ad.make_dual, p, v)
        got = [forward_ad.unpack_dual(o).tangent for o in run(ours)(duals)]
    torch.testing.assert_close(tuple(got), want, **EXACT)
    x = p["x"]
    torch.testing.assert_close(
        jacfwd(lambda x: ours(x)[0])(x), jacrev(lambda x: ours(x)[0])(x), **EXACT
    )


@pytest.mark.parametrize("config", ["lstm", "gru", "rnn_tanh"])
def test_hessian_vector_product_forward_over_reverse(config):
    ours, theirs = layer(config, "manual"), layer(config, "autograd")
    p, v = point(ours)
    params = {k: t for k, t in p.items() if k not in ("x", "hx")}
    direction = {k: v[k] for k in params}

    def loss(module):
        def f(q):
            y, _ = functional_call(module, q, (p["x"], p["hx"]))
            return (y * y.cos()).sum()

        return f

    _, hv = jvp(grad(loss(ours)), (params,), (direction,))
    _, want = jvp(grad(loss(theirs)), (params,), (direction,))
    torch.testing.assert_close(hv, want, rtol=1e-10, atol=1e-10)
    leaves = {k: t.clone().requires_grad_() for k, t in params.items()}  # reverse over reverse
    g = torch.autograd.grad(loss(ours)(leaves), list(leaves.values()), create_graph=True)
    again = torch.autograd.grad(g, list(leaves.values()), list(direction.values()))
    torch.testing.assert_close(dict(zip(params, again, strict=True)), hv, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_forward_mode(name):
    torch.manual_seed(0)
    ours = getattr(scratch, name)(3, 4).double()
    theirs = getattr(scratch, name)(3, 4, bptt="autograd").double()
    theirs.load_state_dict(ours.state_dict())
    x, t = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 3, dtype=torch.float64)
    torch.testing.assert_close(jvp(ours, (x,), (t,)), jvp(theirs, (x,), (t,)), **EXACT)


def test_a_cell_without_a_tangent_step_gets_autograds_forward_mode():
    torch.manual_seed(0)
    ours = scratch.PeepholeLSTM(3, 4).double()
    theirs = scratch.PeepholeLSTM(3, 4, bptt="autograd").double()
    theirs.load_state_dict(ours.state_dict())
    x, t = torch.randn(5, 2, 3, dtype=torch.float64), torch.randn(5, 2, 3, dtype=torch.float64)
    got = jvp(lambda x: ours(x)[0], (x,), (t,))
    torch.testing.assert_close(got, jvp(lambda x: theirs(x)[0], (x,), (t,)), **EXACT)
