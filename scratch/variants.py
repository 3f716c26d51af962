"""The layers of the cells torch.nn does not have: LayerNormLSTM, PeepholeLSTM, ChoGRU,
VariationalLSTM and ZoneoutLSTM (docs/variants.md), and IndRNN (docs/adding-a-cell.md).

Each is modules.RNNBase with its cell's declaration (scratch/equations/: lnlstm.py,
peephole.py, chogru.py, variational.py, zoneout.py, indrnn.py), so it takes what torch.nn's layers take (3-D, batch_first,
unbatched, packed input, hx), stacks layers with dropout between them, runs both directions and
has bptt="manual" | "readable" | "autograd". Parameters keep torch.nn.LSTM's / GRU's names for
what those have, so load_state_dict(torch_layer.state_dict(), strict=False) fills them; the
cell's own parameters are registered after them, per layer and direction.

VariationalLSTM and ZoneoutLSTM take masks (the declaration's ``masks``). In training mode with a
rate above zero they are drawn for each forward; otherwise each is its expectation. They can
also be given: ``forward(input, hx, masks=...)`` (the layout is in docs/contract.md), so that a
test can run exactly the masks it hands to a reference.
"""

from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from scratch import checks
from scratch.modules import CellStack

MaskSet = dict[tuple[int, int], dict[str, Tensor]]  # (layer, direction) -> mask name -> tensor


class LayerNormLSTM(CellStack):
    """LSTM with layer normalisation of both products and of c_t's output path (Ba et al. 2016):
    â_t = LN_ih(x_t W_ihᵀ) + LN_hh(h_{t−1} W_hhᵀ) + b_ih + b_hh, h_t = o_t ⊙ tanh(LN_c(c_t)),
    carrying the un-normalised c_t. Own parameters: ln_{ih,hh}_{weight,bias}_l{k} (4H,) and
    ln_c_{weight,bias}_l{k} (H,). docs/variants.md#lnlstm."""

    KEY = "lnlstm"


class PeepholeLSTM(CellStack):
    """LSTM whose gates see the cell state (Gers et al. 2002): i_t, f_t through w_ci, w_cf from
    c_{t−1}, o_t through w_co from c_t. Own parameters: weight_c{i,f,o}_l{k} (H,), starting at 0,
    where this layer is torch.nn.LSTM. docs/variants.md#peephole."""

    KEY = "peephole"


class ChoGRU(CellStack):
    """The GRU of Cho et al. (2014): n_t = tanh(x̂_n + (r_t ⊙ h_{t−1}) W_hnᵀ), the reset gate
    before the product, not torch.nn.GRU's r_t ⊙ (h_{t−1} W_hnᵀ + b_hn). torch.nn.GRU's
    parameters. docs/variants.md#chogru."""

    KEY = "chogru"


class IndRNN(CellStack):
    """Independently recurrent network (Li et al. 2018): h_t = relu(x_t W_ihᵀ + b_ih + u ⊙ h_{t−1}
    + b_hh), each unit with its own recurrent weight. torch.nn.RNN's parameters, except that
    weight_hh_l{k} is the vector u, (H,). docs/adding-a-cell.md."""

    KEY = "indrnn"


class _MaskedVariant(CellStack):
    """A variant whose cell reads masks: drawn, their expectations, or given to forward."""

    OWN: dict  # each mask's rate (0.0 by default), in the cell's mask order

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._given: MaskSet | None = None  # set by forward(masks=...) for its own call only

    def _check_own(self, a: dict) -> str:
        for name in self.OWN:  # checked before any weight exists
            checks.check_rate(name, a[name])
            setattr(self, name, float(a[name]))
        return self.KEY

    def forward(self, input, hx=None, masks: MaskSet | None = None):
        """As torch.nn.LSTM's forward. masks: None (drawn in training mode, expectations at
        evaluation), or every layer and direction's masks, {(layer, direction): {name: tensor}}:
        a "sequence" mask (N, width) in the batch's order, a "step" mask (L, N, H) time-major
        whatever batch_first is (padded for packed input); without the N for unbatched input."""
        self._given = None if masks is None else self._lay_out(masks, input)
        try:
            return super().forward(input, hx)
        finally:
            self._given = None

    def _rates(self) -> dict[str, float]:
        return dict(zip(self._cell.masks, (getattr(self, a) for a in self.OWN), strict=True))

    def _widths(self, layer: int, input_width: int) -> dict[str, int]:
        """Each mask's width: H, or the layer's input width for a mask on x_t."""
        cell = self._cell
        return {n: input_width if n == cell.input_mask else self.hidden_size for n in cell.masks}

    def _masks(self, layer: int, direction: int, x: Tensor, batch_sizes: list[int]) -> dict:
        if self._given is not None:
            return self._given[(layer, direction)]
        N, rates, masks = (batch_sizes[0] if batch_sizes else 0), self._rates(), {}
        for name, width in self._widths(layer, x.shape[1]).items():
            rows = N if self._cell.masks[name] == "sequence" else x.shape[0]
            if self.training and rates[name] > 0:
                masks[name] = self._draw(x.new_empty(rows, width), rates[name])
            else:  # the expectation: the same value everywhere, no memory
                masks[name] = x.new_full((), self._expectation(rates[name])).expand(rows, width)
        return masks

    def _draw(self, empty: Tensor, rate: float) -> Tensor:
        raise NotImplementedError

    def _expectation(self, rate: float) -> float:
        raise NotImplementedError

    def _lay_out(self, masks: MaskSet, input) -> MaskSet:
        """Given masks, checked, in the layout the loops read: "sequence" masks in the packed
        rows' order, "step" masks as the packed rows of all steps (T_total, H)."""
        batch = _Batch.of(input, self.batch_first)
        laid_out = {}
        for layer in range(self.num_layers):
            width = self.input_size if layer == 0 else self.hidden_size * self._directions
            for direction in range(self._directions):
                key, given = (layer, direction), masks.get((layer, direction), {})
                laid_out[key] = {
                    name: self._lay_out_one(given.get(name), name, key, width, batch)
                    for name, width in self._widths(layer, width).items()
                }
        return laid_out

    def _lay_out_one(self, mask, name: str, key, width: int, batch: "_Batch") -> Tensor:
        step = self._cell.masks[name] == "step"
        L, N, sizes, order = batch.L, batch.N, batch.sizes, batch.order
        want = ((L,) if step else ()) + (() if batch.unbatched else (N,)) + (width,)
        dtype = self.weight_ih_l0.dtype
        if not isinstance(mask, Tensor) or tuple(mask.shape) != want or mask.dtype != dtype:
            got = type(mask).__name__
            if isinstance(mask, Tensor):
                got = f"{tuple(mask.shape)} {mask.dtype}"
            raise ValueError(
                f"{type(self).__name__}: masks[{key}][{name!r}] should be a tensor of shape "
                f"{want} and dtype {dtype}, got {got}"
            )
        mask = mask.unsqueeze(-2) if batch.unbatched else mask  # a batch of one
        if not step:
            return mask if order is None else mask.index_select(0, order)
        if order is None and all(b == N for b in sizes):
            return mask.reshape(L * N, width)
        rows = torch.arange(N, device=mask.device) if order is None else order
        return torch.cat([mask[t].index_select(0, rows[:b]) for t, b in enumerate(sizes)])


class _Batch(NamedTuple):
    """How forward's input lays out its sequences: what given masks are read against."""

    L: int  # steps (the longest sequence)
    N: int  # sequences
    sizes: list[int]  # rows that move at each step (batch_sizes)
    order: Tensor | None  # packed rows' sequences in the batch's order (sorted_indices)
    unbatched: bool

    @classmethod
    def of(cls, input, batch_first: bool) -> "_Batch":
        if isinstance(input, PackedSequence):
            sizes = input.batch_sizes.tolist()
            return cls(len(sizes), sizes[0], sizes, input.sorted_indices, False)
        unbatched = input.dim() == 2
        L = input.shape[1 if batch_first and not unbatched else 0]
        N = 1 if unbatched else input.shape[0 if batch_first else 1]
        return cls(L, N, [N] * L, None, unbatched)


class VariationalLSTM(_MaskedVariant):
    """LSTM with variational (locked) dropout (Gal & Ghahramani 2016): one mask per sequence,
    reused at every step, on x_t (rate dropout_input) and on h_{t−1} (rate dropout_hidden), in
    training mode only; masks "x" (N, layer input width) and "h" (N, H) hold 0 or 1/(1 − p).
    torch.nn.LSTM's parameters. docs/variants.md#variational."""

    KEY = "variational"
    OWN = {"dropout_input": 0.0, "dropout_hidden": 0.0}

    def _draw(self, empty: Tensor, rate: float) -> Tensor:
        return nn.functional.dropout(empty.fill_(1), rate, training=True)  # 0 or 1/(1 − p)

    def _expectation(self, rate: float) -> float:
        return 1.0

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, dropout_input={self.dropout_input}, dropout_hidden={self.dropout_hidden}"


class ZoneoutLSTM(_MaskedVariant):
    """LSTM with zoneout (Krueger et al. 2017): per unit and step, c keeps c_{t−1} with
    probability zoneout_c and h keeps h_{t−1} with probability zoneout_h; at evaluation the
    masks are their expectations. Masks "h" and "c" (L, N, H) hold 1 where the unit keeps its
    previous value. torch.nn.LSTM's parameters. docs/variants.md#zoneout."""

    KEY = "zoneout"
    OWN = {"zoneout_h": 0.0, "zoneout_c": 0.0}

    def _draw(self, empty: Tensor, rate: float) -> Tensor:
        return empty.bernoulli_(rate)  # 1: keep the previous value

    def _expectation(self, rate: float) -> float:
        return rate

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, zoneout_h={self.zoneout_h}, zoneout_c={self.zoneout_c}"
