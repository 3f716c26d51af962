"""RNN, LSTM and GRU: torch.nn-compatible layers built on unroll.py. Layout: docs/layers.md.

What this file does: name and initialise the parameters exactly as torch.nn does, accept every
input torch.nn accepts (3-D, batch_first, unbatched 2-D, PackedSequence, optional hx), stack
layers with dropout between them, run both directions, and lay out h_n as torch.nn does.
The computation itself is function.run_layer, one call per layer and direction; what the cell
is (its gates, its states, its parameters) comes from its declaration (registry.py).
"""

import math

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from scratch import arguments, checks, registry
from scratch.declaration import Cell, Weights
from scratch.function import autocast_dtype, effective_bptt, run_layer
from scratch.recorder import RecordKey


class RNNBase(nn.Module):
    """Stacked, optionally bidirectional recurrent layers of one cell (``KEY``, a registry key).

    Every layer class takes torch.nn's layer arguments (arguments.py: ``input_size,
    hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False``,
    its own ``OWN``, then ``device=None, dtype=None, bptt="manual"``), by position or keyword.
    """

    KEY: str  # the registry key of the layer's cell
    OWN: dict = {}  # its own arguments after bidirectional, with their defaults
    AFTER_NUM_LAYERS: dict = {}  # its own arguments after num_layers (the RNN's nonlinearity)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()
        name = type(self).__name__
        order = arguments.layer_order(self.OWN, self.AFTER_NUM_LAYERS)
        a = arguments.bind(name, order, args, kwargs, self._refuse)
        input_size, hidden_size = a["input_size"], a["hidden_size"]
        proj_size = a.get("proj_size", 0)  # the LSTM's own; 0 (no projection) for the others
        key = self._check_own(a)
        num_layers, bias, dropout = a["num_layers"], a["bias"], a["dropout"]
        checks.check_layer_args(
            input_size, hidden_size, num_layers, bias, a["batch_first"], dropout, proj_size
        )
        checks.check_bptt(a["bptt"])
        cell = registry.cell(key)
        self.mode = key.upper()  # torch.nn's attribute: "LSTM", "RNN_TANH" (our key, capitals)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = a["batch_first"]
        self.dropout = float(dropout)
        self.bidirectional = a["bidirectional"]
        self.proj_size = proj_size
        self.bptt = a["bptt"]
        factory = {"device": a["device"], "dtype": a["dtype"]}
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []  # names per layer and direction, as torch.nn
        for layer in range(num_layers):
            for direction in range(self._directions):
                suffix = "_reverse" if direction == 1 else ""
                names = []
                for kind, shape in self._param_shapes(cell, layer).items():
                    names.append(f"{kind}_l{layer}{suffix}")
                    setattr(self, names[-1], nn.Parameter(torch.empty(shape, **factory)))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def _check_own(self, a: dict) -> str:
        """Check the class's own arguments, keep them as attributes; the key of the cell."""
        for name in (*self.AFTER_NUM_LAYERS, *self.OWN):
            if name != "proj_size":
                setattr(self, name, a[name])
        return self.KEY

    @staticmethod
    def _refuse(name: str, extra: dict) -> None:
        """Keywords the class does not take: torch.nn's errors (proj_size outside the LSTM)."""
        checks.check_no_extra_kwargs(name, extra)

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def _cell(self) -> Cell:
        return registry.cell(self.mode.lower())

    def _param_shapes(self, cell: Cell, layer: int) -> dict[str, tuple[int, ...]]:
        """Kind -> shape of one layer and direction's parameters, in registration order."""
        H, P = self.hidden_size, self.proj_size or self.hidden_size
        G = cell.num_gates * H
        layer_input_size = self.input_size if layer == 0 else P * self._directions
        standard = {
            "weight_ih": (G, layer_input_size),
            "weight_hh": (G, P) if cell.recurrent_weight == "matrix" else (H,),
            "bias_ih": (G,),
            "bias_hh": (G,),
            "weight_hr": (self.proj_size, H),
        }
        own = {p.kind: p.shape(H) for p in cell.extra}
        kinds = cell.param_kinds(self.proj_size > 0)
        return {
            k: standard.get(k) or own[k] for k in kinds if self.bias or not k.startswith("bias_")
        }

    def reset_parameters(self) -> None:
        """Every parameter from U(−1/√H, 1/√H), in registration order: torch.nn's draws. A
        cell's own parameters may declare ones or zeros instead (layer-norm gains and biases)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        inits = {p.kind: p.init for p in self._cell.extra}
        for name in self._flat_weights_names:
            weight, init = getattr(self, name), inits.get(name.rsplit("_l", 1)[0], "uniform")
            if init == "uniform":
                nn.init.uniform_(weight, -bound, bound)
            else:
                nn.init.constant_(weight, 1.0 if init == "ones" else 0.0)

    def __prepare_scriptable__(self):
        """torch.jit.script asks this first: say plainly that scripting is not supported."""
        raise RuntimeError(checks.NOT_SCRIPTABLE.format(type(self).__name__))

    def flatten_parameters(self) -> None:
        """Nothing to do: our weights are never packed into one buffer. Kept for programs that call it."""

    @property
    def _flat_weights(self) -> list[Tensor]:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[nn.Parameter]]:
        """Parameters grouped per layer and direction, as torch.nn.RNNBase.all_weights."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def _layer_weights(self, cell: Cell, layer: int, direction: int, masks: dict) -> Weights:
        """One layer and direction's parameters as the cell reads them; absent ones None."""
        suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        kinds = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
        standard = (getattr(self, kind + suffix, None) for kind in kinds)
        extra = {p.kind: getattr(self, p.kind + suffix, None) for p in cell.extra}
        return Weights(*standard, extra, masks)

    def _masks(self, layer: int, direction: int, x: Tensor, batch_sizes: list[int]) -> dict:
        """The masks a cell declares (cell.masks), for one layer and direction: none here. A
        layer whose cell takes masks (variational dropout, zoneout) draws them here."""
        return {}

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    def forward(self, input, hx=None):
        """input: (L, N, H_in), (N, L, H_in) if batch_first, (L, H_in) unbatched, or packed.

        Returns (output, h_n), or (output, (h_n, c_n)) for the LSTM, shaped as torch.nn's.
        """
        packed = isinstance(input, PackedSequence)
        if packed:
            x, batch_sizes, sorted_indices, unsorted_indices = input
            batch_sizes = batch_sizes.tolist()
            checks.check_batch_sizes(batch_sizes)
            is_batched = True
        else:
            if input.dim() not in (2, 3):
                raise ValueError(
                    f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.dim()}D "
                    "tensor instead"
                )
            is_batched = input.dim() == 3
            x = input if is_batched else input.unsqueeze(1 if not self.batch_first else 0)
            if self.batch_first:
                x = x.transpose(0, 1)
            sorted_indices = unsorted_indices = None
        autocast = autocast_dtype(x) is not None  # then torch.nn casts what differs
        if not autocast:
            checks.check_dtype(x, self.weight_ih_l0)
        checks.check_input(x, self.input_size, packed)
        if not packed:
            L, N = x.shape[:2]
            batch_sizes = [N] * L
            x = x.reshape(L * N, self.input_size)
        N = batch_sizes[0] if batch_sizes else 0
        state0 = self._initial_state(hx, x, N, is_batched, check_dtypes=not autocast)
        if sorted_indices is not None:
            state0 = tuple(s.index_select(1, sorted_indices) for s in state0)

        y, state_n = self._run_layers(x, state0, batch_sizes, unsorted_indices, is_batched)

        if unsorted_indices is not None:
            state_n = tuple(s.index_select(1, unsorted_indices) for s in state_n)
        if packed:
            output = PackedSequence(y, input.batch_sizes, sorted_indices, unsorted_indices)
        else:
            output = y.view(L, N, y.shape[-1])
            if self.batch_first:
                output = output.transpose(0, 1)
            if not is_batched:
                output = output.squeeze(1 if not self.batch_first else 0)
                state_n = tuple(s.squeeze(1) for s in state_n)
        return output, (state_n if len(state_n) == 2 else state_n[0])

    def _run_layers(self, x: Tensor, state0: tuple, batch_sizes, unsorted_indices, is_batched):
        """Layer after layer; in each, both directions read the same input (docs/layers.md)."""
        cell, finals = self._cell, []
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                x = nn.functional.dropout(x, self.dropout, training=True)
            outputs = []
            for direction in range(self._directions):
                k = layer * self._directions + direction
                masks = self._masks(layer, direction, x, batch_sizes)
                y, state_n = run_layer(
                    cell,
                    x,
                    tuple(s[k] for s in state0),
                    self._layer_weights(cell, layer, direction, masks),
                    batch_sizes,
                    reverse=direction == 1,
                    bptt=self.bptt,
                    record_key=RecordKey(
                        id(self), layer, direction, unsorted_indices, not is_batched
                    ),
                )
                outputs.append(y)
                finals.append(state_n)
            x = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=1)
        if len(outputs) == 1 and x.requires_grad and effective_bptt(self.bptt) != "autograd":
            # Our BPTT saved this tensor; the program gets its own, which it may change in
            # place before backward, as torch.nn's RNN and GRU allow.
            x = x.clone()
        state_n = tuple(torch.stack(parts) for parts in zip(*finals, strict=True))
        return x, state_n

    def _initial_state(
        self, hx, x: Tensor, N: int, is_batched: bool, check_dtypes: bool = True
    ) -> tuple:
        """hx as a tuple (h_0,) or (h_0, c_0), each (num_layers · directions, N, ·), checked."""
        shape_h = (self.num_layers * self._directions, N, self.proj_size or self.hidden_size)
        shape_c = (self.num_layers * self._directions, N, self.hidden_size)
        is_lstm = len(self._cell.states) == 2  # (h, c): hx is a tuple, as for torch.nn.LSTM
        if hx is None:
            zeros = {"dtype": x.dtype, "device": x.device}
            return (torch.zeros(shape_h, **zeros), torch.zeros(shape_c, **zeros))[: 1 + is_lstm]
        state = (hx[0], hx[1]) if is_lstm else (hx,)
        want = 3 if is_batched else 2
        if any(s.dim() != want for s in state):
            dims = ", ".join(f"{s.dim()}-D" for s in state)
            kind = "batched 3-D" if is_batched else "unbatched 2-D"
            raise RuntimeError(
                f"For {kind} input, hx should also be {want}-D but got ({dims}) tensor"
            )
        if not is_batched:
            state = tuple(s.unsqueeze(1) for s in state)
        labels = ("hidden[0]", "hidden[1]") if is_lstm else ("hidden",)
        for s, shape, label in zip(state, (shape_h, shape_c), labels, strict=False):
            checks.check_hidden(s, shape, label)
        if is_lstm:
            checks.check_layer_states(tuple(hx), 2)
        for s, label in zip(state, labels, strict=False):
            if check_dtypes:
                checks.check_state_dtype(s, x, label)
        return state


class RNN(RNNBase):
    """Elman RNN, tanh or relu: h_t = φ(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh). docs/cells.md#elman."""

    AFTER_NUM_LAYERS = {"nonlinearity": "tanh"}

    def _check_own(self, a: dict) -> str:
        checks.check_nonlinearity(a["nonlinearity"])
        self.nonlinearity = a["nonlinearity"]
        return f"rnn_{self.nonlinearity}"  # the cells rnn_tanh and rnn_relu


class LSTM(RNNBase):
    """Long short-term memory, gate order i, f, g, o; optional projection. docs/cells.md#lstm."""

    KEY = "lstm"
    OWN = {"proj_size": 0}


class GRU(RNNBase):
    """Gated recurrent unit, gate order r, z, n, with b_hn inside the reset product. docs/cells.md#gru."""

    KEY = "gru"


class CellStack(RNNBase):
    """A stack of the one cell ``KEY`` names (a registry key) with torch.nn's constructor, no
    projection: the base of the layers torch.nn lacks (variants.py, minimal.py)."""

    @staticmethod
    def _refuse(name: str, extra: dict) -> None:
        if "proj_size" in extra:
            raise ValueError(f"{name} has no projection: only LSTM takes proj_size")
        checks.check_no_extra_kwargs(name, extra)
