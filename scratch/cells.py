"""RNNCell, LSTMCell, GRUCell (and IndRNNCell): one time step as torch.nn-compatible modules.

A cell is the unrolled layer of unroll.py over a sequence of length one, so its gradients come
from the cell's own hand-written backward step (bptt="manual" or "readable", which are the
same for one step: the readable loop runs for both) or from autograd (bptt="autograd"). What
the cell is comes from its declaration (registry.py).
"""

import math

import torch
from torch import Tensor, nn

from scratch import arguments, checks, registry
from scratch.declaration import Weights
from scratch.function import autocast_dtype, run_layer


class RNNCellBase(nn.Module):
    """Parameters weight_ih (G·H, I), weight_hh (G·H, H), bias_ih, bias_hh, as torch.nn names them.

    Every cell class takes torch.nn's cell arguments (arguments.py: ``input_size, hidden_size,
    bias=True``, its own ``OWN``, then ``device=None, dtype=None, bptt="manual"``).
    """

    KEY: str  # the registry key of its cell (for the weights' shapes)
    OWN: dict = {}  # its own arguments after bias, with their defaults (the RNNCell's nonlinearity)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()
        order = arguments.cell_order(self.OWN)
        a = arguments.bind(type(self).__name__, order, args, kwargs, arguments.unexpected)
        input_size, hidden_size, bias, bptt = (
            a[k] for k in ("input_size", "hidden_size", "bias", "bptt")
        )
        checks.check_cell_args(input_size, hidden_size)
        checks.check_bptt(bptt)
        for name in self.OWN:
            setattr(self, name, a[name])
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.bptt = bptt
        factory = {"device": a["device"], "dtype": a["dtype"]}
        cell = registry.cell(self.KEY)
        G = cell.num_gates * hidden_size
        recurrent = (G, hidden_size) if cell.recurrent_weight == "matrix" else (hidden_size,)
        self.weight_ih = nn.Parameter(torch.empty((G, input_size), **factory))
        self.weight_hh = nn.Parameter(torch.empty(recurrent, **factory))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(G, **factory))
            self.bias_hh = nn.Parameter(torch.empty(G, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter from U(−1/√H, 1/√H), in registration order: torch.nn's draws."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def __prepare_scriptable__(self):
        """torch.jit.script asks this first: say plainly that scripting is not supported."""
        raise RuntimeError(checks.NOT_SCRIPTABLE.format(type(self).__name__))

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _step(self, key: str, input: Tensor, hx) -> tuple:
        """Check and batch the input, run one step, unbatch. hx: None or a tuple of states,
        checked in torch.nn's order (each state's dimensions first, then the tuple itself)."""
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        is_batched = input.dim() == 2
        x = input if is_batched else input.unsqueeze(0)
        cell = registry.cell(key)
        n_states = len(cell.states)
        if hx is None:
            zeros = torch.zeros(x.size(0), self.hidden_size, dtype=x.dtype, device=x.device)
            hx = (zeros,) * n_states
        else:
            for k, h in enumerate(hx):
                if h.dim() not in (1, 2):
                    label = f"hx[{k}]" if n_states == 2 else "hidden"
                    raise ValueError(
                        f"{name}: Expected {label} to be 1D or 2D, got {h.dim()}D instead"
                    )
            checks.check_cell_states(name, hx, n_states)
            hx = hx if is_batched else tuple(h.unsqueeze(0) for h in hx)
        checks.check_cell_input(name, x, hx, self.input_size, self.hidden_size)
        # each parameter read once, as torch.nn's cells do: a stateful parametrization (such
        # as spectral_norm's power iteration) steps once per call
        w = Weights(self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        autocast = autocast_dtype(x) is not None  # then torch.nn casts what differs
        for h in (w.W_ih, *hx):
            if h.dtype != x.dtype and not autocast:
                raise RuntimeError(
                    f"{name}: expected input, hx and weights of one dtype, got input {x.dtype}, "
                    f"{'hx' if h is not w.W_ih else 'weights'} {h.dtype}"
                )
        bptt = "readable" if self.bptt == "manual" else self.bptt  # one step: the same loop
        _, state = run_layer(cell, x, hx, w, [x.size(0)], reverse=False, bptt=bptt)
        return state if is_batched else tuple(s.squeeze(0) for s in state)


class RNNCell(RNNCellBase):
    """h' = φ(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), φ = tanh or relu. docs/cells.md#elman."""

    KEY = "rnn_tanh"  # either Elman cell has one gate; forward checks the nonlinearity, as torch.nn
    OWN = {"nonlinearity": "tanh"}

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(
                f"Unknown nonlinearity: {self.nonlinearity}; expected 'tanh' or 'relu'"
            )
        key = f"rnn_{self.nonlinearity}"  # the cells rnn_tanh and rnn_relu
        return self._step(key, input, None if hx is None else (hx,))[0]


class LSTMCell(RNNCellBase):
    """One LSTM step, gate order i, f, g, o: returns (h', c'). docs/cells.md#lstm."""

    KEY = "lstm"

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        h, c = self._step(self.KEY, input, hx)
        return h, c


class IndRNNCell(RNNCellBase):
    """One IndRNN step: h' = relu(x W_ihᵀ + b_ih + u ⊙ h + b_hh); weight_hh is u, (H,).
    docs/adding-a-cell.md."""

    KEY = "indrnn"

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._step(self.KEY, input, None if hx is None else (hx,))[0]


class GRUCell(RNNCellBase):
    """One GRU step, gate order r, z, n, with b_hn inside the reset product. docs/cells.md#gru."""

    KEY = "gru"

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._step(self.KEY, input, None if hx is None else (hx,))[0]
