"""The one equivalence harness: build scratch and reference from one configuration, copy the
weights, run the same batch through both, and diff every output, state and gradient.

The tests, the benchmark and `python -m compare` all use this module; nothing else compares.
Errors are scaled as docs/contract.md says: max |ours − ref| / max(1, max |ref|). The cells
compared are those of scratch's registry that torch.nn has (a declaration's ``torch_nn``).
"""

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

import reference
import scratch
from scratch.declaration import Cell
from scratch.registry import CELLS as REGISTRY

TORCH_CELLS = {key: c for key, c in REGISTRY.items() if c.torch_nn}  # "lstm" -> its declaration
CELLS = tuple(TORCH_CELLS)  # the keys: rnn_tanh, rnn_relu, lstm, gru
DTYPES = {"float64": torch.float64, "float32": torch.float32}
# The contract's tolerances: float64 absolute and relative; float32 on the scaled error.
TOLERANCES = {"float64": 1e-10, "float32": 1e-5}


@dataclass(frozen=True)
class Case:
    """One configuration to compare. Sizes use the contract's letters."""

    cell: str  # a key of CELLS
    input_size: int = 4  # H_in
    hidden_size: int = 5  # H
    num_layers: int = 1
    bidirectional: bool = False
    bias: bool = True
    batch_first: bool = False
    proj_size: int = 0  # LSTM only
    seq_len: int = 6  # L (longest sequence when packed)
    batch: int = 3  # N
    lengths: tuple[int, ...] | None = None  # packed input with these lengths (one per row)
    enforce_sorted: bool = True  # passed to pack_padded_sequence
    unbatched: bool = False  # 2-D input (1-D for a cell)
    with_hx: bool = True  # pass an initial state, or let the module use zeros
    dtype: str = "float64"
    bptt: str = "manual"
    train: bool = False  # module.train() or .eval()
    dropout: float = 0.0
    input_scale: float = 1.0  # multiplies the input; large values saturate the gates
    step: bool = False  # the one-step cell class (LSTMCell, ...) instead of the layer

    @property
    def is_step(self) -> bool:
        return self.step

    @property
    def declaration(self) -> Cell:
        """The registry's declaration of the cell this case runs."""
        return TORCH_CELLS[self.cell]

    @property
    def is_lstm(self) -> bool:
        """Whether the cell carries (h, c), as the LSTM does."""
        return len(self.declaration.states) == 2

    def label(self) -> str:
        """A short human-readable name for tables."""
        parts = [self.cell + (" step" if self.step else ""), self.dtype, self.bptt]
        flags = {
            f"layers={self.num_layers}": self.num_layers > 1,
            "bidir": self.bidirectional,
            "no-bias": not self.bias,
            "batch_first": self.batch_first,
            f"proj={self.proj_size}": self.proj_size > 0,
            "packed" + ("" if self.enforce_sorted else "-unsorted"): self.lengths is not None,
            "unbatched": self.unbatched,
            "no-hx": not self.with_hx,
            "train": self.train,
            f"dropout={self.dropout}": self.dropout > 0,
            f"scale={self.input_scale}": self.input_scale != 1.0,
        }
        return " ".join(parts + [flag for flag, on in flags.items() if on])


def module_for(impl, case: Case) -> nn.Module:
    """Build the module that `case` describes from `impl` (scratch, reference or torch.nn)."""
    factory = {"dtype": DTYPES[case.dtype]}
    if impl is scratch:
        factory["bptt"] = case.bptt
    cell = case.declaration
    factory |= cell.layer_options  # the Elman cells' nonlinearity
    I, H = case.input_size, case.hidden_size
    if case.is_step:
        return getattr(impl, cell.torch_nn + "Cell")(I, H, case.bias, **factory)
    layer = {
        "num_layers": case.num_layers,
        "bias": case.bias,
        "batch_first": case.batch_first,
        "dropout": case.dropout,
        "bidirectional": case.bidirectional,
    }
    if case.proj_size:
        layer["proj_size"] = case.proj_size
    return getattr(impl, cell.torch_nn)(I, H, **layer, **factory)


def build_pair(case: Case, seed: int = 0) -> tuple[nn.Module, nn.Module]:
    """(ours, ref): a reference module from `seed`, and a scratch module with its weights."""
    torch.manual_seed(seed)
    ref = module_for(reference, case)
    ours = module_for(scratch, case)
    ours.load_state_dict(ref.state_dict())
    for module in (ours, ref):
        module.train(case.train)
    return ours, ref


def make_inputs(case: Case, seed: int = 0) -> tuple[Tensor, tuple[Tensor, ...]]:
    """The input batch and the initial states (empty when the module should use zeros)."""
    g = torch.Generator().manual_seed(seed + 1)
    dtype = DTYPES[case.dtype]

    def rand(*shape):
        return torch.randn(*shape, generator=g, dtype=dtype)

    N, D = case.batch, 2 if case.bidirectional else 1
    if case.is_step:
        x = rand(case.input_size) if case.unbatched else rand(N, case.input_size)
        state_shape = x.shape[:-1] + (case.hidden_size,)
        states = [rand(*state_shape) for _ in range(2 if case.is_lstm else 1)]
    else:
        shape = (case.seq_len, N, case.input_size)
        if case.unbatched:
            shape = (case.seq_len, case.input_size)
        elif case.batch_first:
            shape = (N, case.seq_len, case.input_size)
        x = rand(*shape)
        lead = (case.num_layers * D,) if case.unbatched else (case.num_layers * D, N)
        states = [rand(*lead, case.proj_size or case.hidden_size)]
        if case.is_lstm:
            states.append(rand(*lead, case.hidden_size))
    if not case.with_hx:
        states = []
    return x * case.input_scale, tuple(states)


def _as_outputs(case: Case, result) -> dict[str, Tensor]:
    """Name what the module returned: output and each final state."""
    if case.is_step:
        states = result if case.is_lstm else (result,)
        return dict(zip(("h'", "c'"), states, strict=False))
    output, state = result
    if isinstance(output, PackedSequence):
        output = output.data
    states = state if case.is_lstm else (state,)
    return {"output": output, **dict(zip(("h_n", "c_n"), states, strict=False))}


def run(module: nn.Module, case: Case, seed: int = 0) -> dict[str, Tensor]:
    """Forward one batch, backward a fixed random weighting of every output; return all tensors.
    The batch and the weighting are drawn on the CPU in the case's dtype, then put where the
    module's parameters are, in their dtype (a GPU; float64 for an oracle)."""
    like = next(module.parameters())
    x, states = make_inputs(case, seed)
    x = x.to(like).requires_grad_(True)
    states = tuple(s.to(like).requires_grad_(True) for s in states)
    module.zero_grad(set_to_none=True)
    model_input = x
    if case.lengths is not None:
        model_input = pack_padded_sequence(
            x, torch.tensor(case.lengths), case.batch_first, case.enforce_sorted
        )
    hx = None
    if states:
        hx = states if case.is_lstm else states[0]
    torch.manual_seed(seed + 2)  # the same dropout masks, if both draw them alike
    outputs = _as_outputs(case, module(model_input, hx))
    g = torch.Generator().manual_seed(seed + 3)
    dtype = DTYPES[case.dtype]
    loss = sum(
        (t * torch.randn(t.shape, generator=g, dtype=dtype).to(t)).sum() for t in outputs.values()
    )
    loss.backward()
    tensors = {name: t.detach() for name, t in outputs.items()}
    tensors["grad input"] = x.grad
    for name, s in zip(("grad h_0", "grad c_0"), states, strict=False):
        tensors[name] = s.grad
    for name, p in module.named_parameters():
        tensors[f"grad {name}"] = p.grad if p.grad is not None else torch.zeros_like(p)
    return tensors


def scaled_error(ours: Tensor, ref: Tensor) -> float:
    """max |ours − ref| / max(1, max |ref|), the contract's yardstick."""
    if ref.numel() == 0:
        return 0.0
    scale = max(1.0, ref.abs().max().item())
    return (ours - ref).abs().max().item() / scale


def within_tolerance(ours: Tensor, ref: Tensor) -> bool:
    """docs/contract.md: float64 1e-10 absolute and relative; float32 scaled error ≤ 1e-5."""
    if ref.dtype == torch.float64:
        tol = TOLERANCES["float64"]
        return torch.allclose(ours, ref, rtol=tol, atol=tol)
    return scaled_error(ours, ref) <= TOLERANCES["float32"]


@dataclass
class CaseResult:
    """The outcome of one case: the scaled error of every tensor, and which ones failed."""

    case: Case
    errors: dict[str, float]
    failed: list[str]

    @property
    def passed(self) -> bool:
        return not self.failed

    @property
    def worst(self) -> float:
        return max(self.errors.values(), default=0.0)

    def as_dict(self) -> dict:
        return {"case": asdict(self.case), "label": self.case.label(), **asdict(self)} | {
            "passed": self.passed
        }


def compare_case(case: Case, seed: int = 0) -> CaseResult:
    """Build the pair, run both, diff every tensor. The heart of every equivalence check."""
    ours_module, ref_module = build_pair(case, seed)
    return diff(case, run(ours_module, case, seed), run(ref_module, case, seed))


def diff(case: Case, ours: dict[str, Tensor], ref: dict[str, Tensor]) -> CaseResult:
    """Every tensor ``run`` returned for ours against ref's, on the CPU, in ours' dtype (a
    float64 oracle is rounded to a float32 run's dtype, and judged by float32's tolerance)."""
    if ours.keys() != ref.keys():
        raise AssertionError(f"different tensors: {sorted(ours)} vs {sorted(ref)}")
    errors, failed = {}, []
    for name, theirs in ref.items():
        o = ours[name].cpu()
        r = theirs.cpu().to(o.dtype)
        if o.shape != r.shape:
            errors[name] = float("inf")
            failed.append(name)
            continue
        errors[name] = scaled_error(o, r)
        if not within_tolerance(o, r):
            failed.append(name)
    return CaseResult(case, errors, failed)
