"""The sLSTM and the RG-LRU against their authors' own code, weights mapped onto theirs.

- sLSTM: the xlstm package's pure-PyTorch ("vanilla") sLSTM, ``slstm_forward`` with the
  "slstm" pointwise function (NXAI, xlstm/blocks/slstm/src/vanilla), in float64;
- RG-LRU: recurrentgemma's PyTorch ``RGLRU`` (Google DeepMind, recurrentgemma/torch/layers.py),
  whose scan accumulates in float32 whatever the input's dtype: float32, to 1e-5.

Both are optional (``pip install -e '.[crosscheck]'``); without them these tests are skipped
with the reason. The paper references in tests/variant_references.py and tests/test_minimal.py
hold either way.
"""

import pytest
import torch

import scratch
from tests.test_variants import assert_close

XLSTM_MISSING = "xlstm is not installed (pip install -e '.[crosscheck]')"
RECURRENTGEMMA_MISSING = (
    "recurrentgemma with jax and flax is not installed: its top-level __init__ imports the JAX "
    "model even for the PyTorch layers (pip install -e '.[crosscheck]')"
)


@pytest.mark.parametrize("num_heads", [1, 2])
def test_slstm_equals_xlstm_vanilla(num_heads):
    """h_t of every step and the gradients of a loss on them. Their first step sets m_1 = ĩ_1
    where ours takes max(log f_1 + m_0, ĩ_1), and they clamp i′, f′ at 1: the states c, n, m
    may differ by a common factor exp(m), h_t does not, and neither do h's gradients."""
    vanilla = pytest.importorskip("xlstm.blocks.slstm.src.vanilla", reason=XLSTM_MISSING)
    torch.manual_seed(0)
    T, N, I, H = 9, 3, 5, 8
    model = scratch.SLSTM(I, H, num_heads=num_heads, dtype=torch.float64)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(4)  # gates away from 0: exp() and m do work
    x = torch.randn(T, N, I, dtype=torch.float64, requires_grad=True)
    weights = [model.weight_ih_l0, model.weight_hh_l0, model.bias_ih_l0, model.bias_hh_l0]
    g = torch.randn(T, N, H, dtype=torch.float64)

    y, _ = model(x)
    ours = {"h": y.detach(), **_grads((y * g).sum(), x, weights)}

    d = H // num_heads  # theirs: R (heads, 4·d, d), rows gate-major within each head
    R = model.weight_hh_l0.view(4, num_heads, d, d).transpose(0, 1).reshape(num_heads, 4 * d, d)
    Wx = x @ model.weight_ih_l0.t()  # (T, N, 4H), gates i, f, z, o as ours
    states0 = torch.zeros(4, N, H, dtype=torch.float64)
    b = model.bias_ih_l0 + model.bias_hh_l0
    pointwise = vanilla.slstm_pointwise_function_registry["slstm"]
    states_all, _, _ = vanilla.slstm_forward(Wx, states0, R, b, pointwise)
    h = states_all[0, 1:]  # y (= h) after every step
    theirs = {"h": h.detach(), **_grads((h * g).sum(), x, weights)}
    assert_close(ours, theirs)


def test_rglru_equals_recurrentgemma():
    """recurrentgemma's RGLRU reads x directly: ours with input_size = H and the identity as
    the input projection. Their a_param is −Λ (a = exp(−8 r softplus(a_param))). Positions
    start at 1: at position 0 they reset the state and skip the √(1 − a²) normalisation."""
    layers = pytest.importorskip("recurrentgemma.torch.layers", reason=RECURRENTGEMMA_MISSING)
    torch.manual_seed(0)
    N, T, H = 3, 40, 8
    theirs_layer = layers.RGLRU(width=H, num_heads=1, dtype=torch.float32)
    ours_layer = scratch.RGLRU(H, H, batch_first=True)
    with torch.no_grad():
        ours_layer.weight_ih_l0.copy_(
            torch.cat(
                [theirs_layer.a_gate.w[0].t(), theirs_layer.input_gate.w[0].t(), torch.eye(H)]
            )
        )
        ours_layer.bias_ih_l0.copy_(
            torch.cat([theirs_layer.a_gate.b[0], theirs_layer.input_gate.b[0], torch.zeros(H)])
        )
        ours_layer.lambda_l0.copy_(-theirs_layer.a_param)
    x = torch.randn(N, T, H, requires_grad=True)
    h0 = torch.randn(N, H, requires_grad=True)
    g = torch.randn(N, T, H)

    y, _ = ours_layer(x, h0[None])
    W, b, Lam = ours_layer.weight_ih_l0, ours_layer.bias_ih_l0, ours_layer.lambda_l0
    d_x, d_h0, d_W, d_b, d_Lam = torch.autograd.grad((y * g).sum(), [x, h0, W, b, Lam])
    ours = {"y": y.detach(), "grad x": d_x, "grad h_0": d_h0, "grad a_param": -d_Lam}
    ours |= {"grad a_gate.w": d_W[:H].t(), "grad input_gate.w": d_W[H : 2 * H].t()}
    ours |= {"grad a_gate.b": d_b[:H], "grad input_gate.b": d_b[H : 2 * H]}

    positions = torch.arange(1, T + 1).expand(N, T)
    y_ref, _ = theirs_layer(x, positions, cache=h0)
    gates = (theirs_layer.a_gate, theirs_layer.input_gate)
    leaves = [x, h0, theirs_layer.a_param, *(q for gate in gates for q in (gate.w, gate.b))]
    d = torch.autograd.grad((y_ref * g).sum(), leaves)
    theirs = {"y": y_ref.detach(), "grad x": d[0], "grad h_0": d[1], "grad a_param": d[2]}
    theirs |= {"grad a_gate.w": d[3][0], "grad input_gate.w": d[5][0]}
    theirs |= {"grad a_gate.b": d[4][0], "grad input_gate.b": d[6][0]}
    assert_close(ours, theirs, tol=1e-5)


def _grads(loss, x, params) -> dict:
    found = torch.autograd.grad(loss, [x, *params])
    return {"grad x": found[0], **{f"grad {k}": d for k, d in enumerate(found[1:])}}
