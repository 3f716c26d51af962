"""Initialisation schemes for recurrent layers, on torch.nn's parameter names: either implementation.

Each scheme says what every weight of a layer is drawn from. A weight stacks its gates'
blocks (``weight_ih_l0`` is (G·H, H_in), gates in torch.nn's order), and every block is one
linear map of its own, so each scheme treats each block on its own: fan_in is the block's
columns, fan_out its H rows.

| scheme | W_ih, W_hr (each gate block) | W_hh (each gate block) | biases |
| --- | --- | --- | --- |
| default | U(−1/√H, 1/√H) | U(−1/√H, 1/√H) | U(−1/√H, 1/√H) |
| xavier_uniform | U(−a, a), a = √(6 / (fan_in + fan_out)) | the same | 0 |
| xavier_normal | N(0, 2 / (fan_in + fan_out)) | the same | 0 |
| kaiming | N(0, 2 / fan_in) | the same | 0 |
| orthogonal | as xavier_uniform | orthogonal | 0 |
| identity | N(0, σ²), σ = ``IDENTITY_INPUT_STD`` | the identity I | 0 |

- default: torch.nn's own draw (every parameter, in registration order), so the same seed gives
  the same weights as ``torch.nn``'s constructor.
- xavier (Glorot & Bengio 2010): keeps the variance of a linear map's output and of its
  gradient about equal when fan_in ≈ fan_out.
- kaiming (He et al. 2015): the variance that keeps a ReLU layer's activations from shrinking.
- orthogonal (Saxe, McClelland & Ganguli 2014): every singular value of W_hh is 1, so the
  recurrent product alone neither grows nor shrinks a vector.
- identity (Le, Jaitly & Hinton 2015, the IRNN): for Elman RNNs: h_t starts as h_{t−1} plus the
  new input, and with relu the gradient passes back through active units unchanged.

``forget_bias`` sets the LSTM's forget-gate bias: torch.nn adds two biases, b_ih + b_hh, into
the gate's pre-activation, so a forget bias of b means b_ih_f + b_hh_f = b (we set b_ih_f = b,
b_hh_f = 0); b in each would give 2b. Gers, Schmidhuber & Cummins (2000) and Jozefowicz et al.
(2015) start it at 1, so that f_t = σ(1) ≈ 0.73 and the cell state is kept by default.

A task gets ``--init`` and ``--forget-bias`` by declaring the fields ``init`` and
``forget_bias`` in its config (their rules are in tasks/config.py's ``SHARED``) and calling
``apply(model, cfg)`` once its model is built. See docs/gradients.md#init.
"""

import math
import re
from typing import Any

import torch
from torch import Tensor, nn

from tasks.errors import BadInput

SCHEMES = ("default", "xavier_uniform", "xavier_normal", "kaiming", "orthogonal", "identity")
IDENTITY_INPUT_STD = 1e-3  # our choice: small inputs, so that at first h_t ≈ h_{t−1}
FORGET_GATE = 1  # the forget gate's block in the LSTM's gate order i, f, g, o
GATED = {4: "LSTM", 3: "GRU", 1: "RNN"}  # gate blocks per weight -> the cell

_NAME = re.compile(r"(weight_ih|weight_hh|weight_hr|bias_ih|bias_hh)(_l\d+(_reverse)?)?")


def recurrent_layers(model: nn.Module) -> list[nn.Module]:
    """The recurrent layers and cells in ``model`` (or ``model`` itself): every module with a
    parameter named as torch.nn names a recurrent layer's input weights (``weight_ih_l0``, or
    ``weight_ih``), the minimal RNNs, which have no W_hh, included."""
    return [m for m in model.modules() if _own(m, "weight_ih_l0") or _own(m, "weight_ih")]


def _own(module: nn.Module, name: str) -> bool:
    return name in dict(module.named_parameters(recurse=False))


def cell_of(layer: nn.Module) -> str:
    """ "RNN", "LSTM", "GRU", "minimal" (no W_hh) or "vector" (W_hh a vector u, the IndRNN's):
    the kind of cell a layer runs, from its gate count (a variant counts as the core cell it
    varies: its gates are that cell's)."""
    own = dict(layer.named_parameters(recurse=False))
    recurrent = [p for n, p in own.items() if n.startswith("weight_hh")]
    if not recurrent:
        return "minimal"
    if recurrent[0].dim() == 1:
        return "vector"
    first = next(p for n, p in own.items() if n.startswith("weight_ih"))
    gates = first.shape[0] // layer.hidden_size
    return GATED.get(gates, f"{gates}-gate cell")


def check(scheme: str, forget_bias: float | None, kind: str, name: str | None = None) -> None:
    """``BadInput`` for a pairing that does not exist: identity weights outside an Elman RNN, a
    forget bias outside the LSTMs, any scheme on a minimal RNN (it has no W_hh, which the
    schemes are about) or on the IndRNN's vector W_hh. ``kind``: as ``cell_of`` says; ``name``:
    the layer's own name for the message (``kind`` if None)."""
    name = name or kind
    if scheme not in SCHEMES:
        raise BadInput(f"--init {scheme}: expected one of {', '.join(SCHEMES)}")
    if scheme != "default" and kind == "minimal":
        raise BadInput(
            f"--init {scheme}: the {name} has no recurrent weights W_hh, which the schemes "
            "are about: leave --init default"
        )
    if scheme != "default" and kind == "vector":
        raise BadInput(
            f"--init {scheme}: the {name}'s recurrent weight W_hh is a vector u, not the matrix "
            "the schemes draw: leave --init default"
        )
    if scheme == "identity" and kind != "RNN":
        raise BadInput(
            f"--init identity is for Elman RNNs (Le et al. 2015), not the {name}: "
            "use --cell rnn_tanh or rnn_relu, or another --init"
        )
    if forget_bias is not None and kind != "LSTM":
        raise BadInput(
            f"--forget-bias {forget_bias}: only the LSTM and its variants have a forget gate "
            f"on a cell state, not the {name}"
        )


@torch.no_grad()
def initialise(layer: nn.Module, scheme: str = "default", forget_bias: float | None = None) -> None:
    """Draw every torch.nn-named parameter of ``layer`` (a layer or a cell of either
    implementation) from ``scheme``, in registration order, then set the forget bias.
    Parameters torch.nn does not have (a variant's own) keep what they were."""
    check(scheme, forget_bias, cell_of(layer), type(layer).__name__)
    H = layer.hidden_size
    for name, p in layer.named_parameters(recurse=False):
        if match := _NAME.fullmatch(name):
            _draw(p, match.group(1), scheme, H)
    if forget_bias is not None:
        set_forget_bias(layer, forget_bias)


def _draw(p: Tensor, kind: str, scheme: str, H: int) -> None:
    """Fill one parameter of kind ``kind`` (e.g. "weight_hh") from ``scheme``, block by block."""
    if scheme == "default":
        bound = 1 / math.sqrt(H)
        p.uniform_(-bound, bound)
        return
    if kind.startswith("bias"):
        p.zero_()
        return
    rows = H if kind != "weight_hr" else p.shape[0]  # W_hr is (P, H): one block
    for block in p.split(rows):  # views: each gate's (rows, fan_in) block
        _draw_block(block, scheme if kind == "weight_hh" else _input_scheme(scheme))


def _input_scheme(scheme: str) -> str:
    """What the non-recurrent weights (W_ih, W_hr) get under a scheme about W_hh."""
    return {"orthogonal": "xavier_uniform", "identity": "small_normal"}.get(scheme, scheme)


def _draw_block(w: Tensor, scheme: str) -> None:
    """One gate block (fan_out, fan_in), in place."""
    fan_out, fan_in = w.shape
    if scheme == "xavier_uniform":
        a = math.sqrt(6 / (fan_in + fan_out))
        w.uniform_(-a, a)
    elif scheme == "xavier_normal":
        w.normal_(0, math.sqrt(2 / (fan_in + fan_out)))
    elif scheme == "kaiming":
        w.normal_(0, math.sqrt(2 / fan_in))
    elif scheme == "orthogonal":
        w.copy_(orthogonal(fan_out, fan_in, w.dtype))
    elif scheme == "identity":
        w.copy_(torch.eye(fan_out, fan_in, dtype=w.dtype))
    else:  # "small_normal": the IRNN's input weights
        w.normal_(0, IDENTITY_INPUT_STD)


def orthogonal(rows: int, cols: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """A (rows, cols) matrix with orthonormal rows or columns (whichever are fewer), uniformly
    distributed: Q of the QR factorisation of a Gaussian matrix, each column's sign fixed by R's
    diagonal (without the fix, Q is not uniform: Mezzadri 2007)."""
    a = torch.randn(max(rows, cols), min(rows, cols), dtype=torch.float64)
    q, r = torch.linalg.qr(a)  # q: (max, min), orthonormal columns
    q = q * torch.sign(torch.diagonal(r))
    return (q if rows >= cols else q.t()).to(dtype)


@torch.no_grad()
def set_forget_bias(layer: nn.Module, value: float) -> None:
    """b_ih_f + b_hh_f = ``value`` in every layer and direction of an LSTM (b_ih_f = value,
    b_hh_f = 0): the forget gate's pre-activation then starts at W·(inputs) + value."""
    H = layer.hidden_size
    params = dict(layer.named_parameters(recurse=False))
    if not any(n.startswith("bias_ih") for n in params):
        raise BadInput("--forget-bias needs biases: the layer was built with bias=False")
    forget = slice(FORGET_GATE * H, (FORGET_GATE + 1) * H)
    for name, p in params.items():
        if name.startswith("bias_ih"):
            p[forget] = value
        elif name.startswith("bias_hh"):
            p[forget] = 0.0


def apply(model: nn.Module, cfg: Any) -> None:
    """The one call a task makes once it has built its model: ``cfg.init`` and
    ``cfg.forget_bias`` on every recurrent layer in ``model``. "default" keeps the
    constructor's draw, which is already torch.nn's, so a seed gives the same model as before."""
    for layer in recurrent_layers(model):
        if cfg.init != "default":
            initialise(layer, cfg.init)
        if cfg.forget_bias is not None:
            check(cfg.init, cfg.forget_bias, cell_of(layer), type(layer).__name__)
            set_forget_bias(layer, cfg.forget_bias)
