"""The GEMM bound: a layer's matrix products alone, the time no loop of this design can beat.

A scratch layer (bptt="manual", one layer, one direction) does these products, and nothing
else of their size (scratch/unroll.py, scratch/fast/*.py), for G gate blocks of H columns:

    forward   x̂ = X W_ihᵀ + b                      1 call    (T_total, I) · (I, G·H)
              a_t = x̂_t + h_{t−1} W_hhᵀ            per step  (b_t, H) · (H, G·H), or in parts
    backward  d_h_{t−1} = ∂L/∂y_{t−1} + d_a_t W_hh  per step  (b_t, G·H) · (G·H, H)
              d_W_hh = Σ_t d_a_tᵀ h_{t−1}           1 or 2    (G·H, T_total) · (T_total, H)
              d_x = d_A W_ih                        1 call    (T_total, G·H) · (G·H, I)
              d_W_ih = d_Aᵀ X                       1 call    (G·H, T_total) · (T_total, I)

(d_W_hh is two calls in a plain batch, where h_{t−1} is the output shifted by one step: the
first step's rows against h_0, the rest against the outputs; Steps.previous_product.) The
bound runs the same calls, with the same shapes and the same transposed operands, on
operands allocated once, and nothing else: no elementwise work, no copies. A layer's time
over it is what its elementwise work, copies and per-call overhead cost on top.
"""

from collections import Counter
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class Product:
    """One kind of matrix product of the layer: (m, k) · (k, n), made `calls` times."""

    name: str  # what it computes, in the equations' symbols
    m: int
    k: int
    n: int
    calls: int = 1
    transposed: str = ""  # "A": the left operand is a transposed view (a column-major
    #                       matrix, as d_Aᵀ is); "B": the right one is (as W_hhᵀ is)
    accumulate: bool = False  # addmm onto a matrix or bias (C + A·B) rather than mm

    @property
    def flops(self) -> int:
        """Multiply-adds count two: 2·m·k·n per call."""
        return 2 * self.m * self.k * self.n * self.calls

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.m, self.k, self.n


def plan(
    num_gates: int,
    input_size: int,
    hidden_size: int,
    batch_sizes: list[int],
    step_products: tuple[int, ...] | None = None,
) -> list[Product]:
    """The products of one fwd+bwd of one layer and direction, as the manual loops make them;
    step_products: the gate blocks of each part of a step's forward product, where the loop
    splits it (ManualLoop.step_products)."""
    G, I, H, T = num_gates * hidden_size, input_size, hidden_size, sum(batch_sizes)
    per_step = Counter(batch_sizes)  # steps that move the same number of rows: the same product
    products = [Product("x̂ = X W_ihᵀ + b", T, I, G, transposed="B", accumulate=True)]
    products += [
        Product("a_t = x̂_t + h_{t−1} W_hhᵀ", b, H, part * H, calls, "B", True)
        for b, calls in sorted(per_step.items(), reverse=True)
        for part in step_products or (num_gates,)
    ]
    products += [
        Product("d_h_{t−1} = ∂L/∂y_{t−1} + d_a_t W_hh", b, G, H, calls, accumulate=True)
        for b, calls in sorted(per_step.items(), reverse=True)
    ]
    N = batch_sizes[0] if batch_sizes else 0
    if len(per_step) == 1 and len(batch_sizes) > 1:  # a plain batch: two shifted products
        products += [
            Product("d_W_hh = d_A_1ᵀ h_0", G, N, H, transposed="A"),
            Product(
                "d_W_hh += Σ_{t>1} d_a_tᵀ h_{t−1}", G, T - N, H, transposed="A", accumulate=True
            ),
        ]
    else:
        products += [Product("d_W_hh = Σ_t d_a_tᵀ h_{t−1}", G, T, H, transposed="A")]
    products += [
        Product("d_x = d_A W_ih", T, G, I),
        Product("d_W_ih = d_Aᵀ X", G, T, I, transposed="A"),
    ]
    return products


def calls(products: list[Product]) -> Counter:
    """How many products of each (m, k, n) the plan makes: what a profile of the layer counts."""
    counted: Counter = Counter()
    for p in products:
        counted[p.shape] += p.calls
    return counted


class Bound:
    """The plan's products on operands allocated once; calling it runs them all, in order."""

    def __init__(self, products: list[Product], dtype: torch.dtype = torch.float32) -> None:
        g = torch.Generator().manual_seed(0)
        self.products = products
        self.operands = [_operands(p, dtype, g) for p in products]

    @property
    def flops(self) -> int:
        return sum(p.flops for p in self.products)

    def __call__(self) -> None:
        for p, (a, b, c, out) in zip(self.products, self.operands, strict=True):
            for _ in range(p.calls):
                if c is None:
                    torch.mm(a, b, out=out)
                else:
                    torch.addmm(c, a, b, out=out)


def _operands(p: Product, dtype, g) -> tuple[Tensor, Tensor, Tensor | None, Tensor]:
    def matrix(rows: int, cols: int, transposed: bool) -> Tensor:
        shape = (cols, rows) if transposed else (rows, cols)
        t = torch.randn(shape, generator=g, dtype=dtype)
        return t.t() if transposed else t

    a = matrix(p.m, p.k, "A" in p.transposed)
    b = matrix(p.k, p.n, "B" in p.transposed)
    c = torch.randn(p.m, p.n, generator=g, dtype=dtype) if p.accumulate else None
    return a, b, c, torch.empty(p.m, p.n, dtype=dtype)
