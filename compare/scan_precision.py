"""How many digits the float32 recurrence keeps at long T: the doubling scan (scratch/fast/scan.py)
and the sequential loop, and the form we did not choose, Heinsen's log-space scan (2023,
"Efficient Parallelization of a Ubiquitous Sequential Computation"), each against a float64
loop over the same float32 coefficients. docs/minimal.md#precision.

    python -m compare.scan_precision

minGRU's recurrence h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t over T = 4096 steps, with the update
gate's bias set so that the layer forgets fast (a_t = 1 − z_t ≈ 0.12), at the initial weights'
pace (≈ 0.5), or slowly (≈ 0.98). The table gives the scaled error of h_t (contract's yardstick)
in ranges of t, beside |log a*_t| = |Σ_{s≤t} log a_s|, the number the log-space form carries.
"""

import argparse

import torch
from torch import Tensor
from torch.nn import functional as F

from compare.harness import TOLERANCES, scaled_error
from scratch.fast.scan import scan_

REGIMES = {"fast": 2.0, "initial": 0.0, "slow": -4.0}  # added to x̂_z: z = σ(x̂_z)
RANGES = ((0, 64), (64, 256), (256, 1024), (1024, 4096))


def loop(a: Tensor, b: Tensor, h0: Tensor) -> Tensor:
    """h_t = a_t ⊙ h_{t−1} + b_t, one step at a time: (T, N, H)."""
    out, h = torch.empty_like(b), h0
    for t in range(len(b)):
        h = a[t] * h + b[t]
        out[t] = h
    return out


def doubling_scan(a: Tensor, b: Tensor, h0: Tensor) -> Tensor:
    """scratch's scan over the T + 1 positions [h_0, steps], as the minimal layers run it."""
    A = torch.cat([torch.ones_like(h0)[None], a])
    return scan_(A, torch.cat([h0[None], b]))[1:]


def log_space_scan(x_z: Tensor, h_tilde: Tensor, h0: Tensor) -> Tensor:
    """Heinsen's form for minGRU: h_t = a*_t ⊙ (h_0 + Σ_{s≤t} b_s / a*_s), a*_t = Π_{s≤t} a_s,
    summed as log-sum-exp so that 1/a*_s cannot overflow; a sign split carries negative b and
    h_0. log a = −softplus(x̂_z) and log z = −softplus(−x̂_z), the stable forms."""
    log_a_star = torch.cumsum(-F.softplus(x_z), dim=0)  # log a*_t                (T, N, H)
    log_b = -F.softplus(-x_z) + h_tilde.abs().log()  # log |b_t| = log z + log |h̃|
    parts = []
    for sign in (1, -1):
        terms = torch.where(sign * h_tilde > 0, log_b - log_a_star, -torch.inf)
        start = torch.where(sign * h0 > 0, h0.abs().log(), -torch.inf)  # s = −1: a* = 1
        parts.append(torch.logcumsumexp(torch.cat([start[None], terms]), dim=0)[1:])
    return torch.exp(log_a_star + parts[0]) - torch.exp(log_a_star + parts[1])


def measure(regime: str, T: int = 4096, N: int = 4, H: int = 64, seed: int = 0) -> list[dict]:
    """Scaled errors of each float32 form against the float64 loop, per range of t."""
    g = torch.Generator().manual_seed(seed)
    x_z = torch.randn(T, N, H, generator=g) * 0.5 + REGIMES[regime]
    h_tilde, h0 = torch.randn(T, N, H, generator=g), torch.randn(N, H, generator=g)
    z = torch.sigmoid(x_z)
    a, b = 1 - z, z * h_tilde  # the float32 coefficients every form receives
    exact = loop(a.double(), b.double(), h0.double())
    forms = {
        "doubling scan": doubling_scan(a, b, h0),
        "sequential loop": loop(a, b, h0),
        "log-space scan": log_space_scan(x_z, h_tilde, h0),
    }
    log_a_star = torch.cumsum(torch.log(a.double()), dim=0).abs()
    rows = []
    for lo, hi in RANGES:
        if lo >= T:
            break
        t = slice(lo, min(hi, T))
        row = {"t": f"{lo}–{min(hi, T) - 1}", "|log a*|": log_a_star[t].max().item()}
        row |= {name: scaled_error(h[t].double(), exact[t]) for name, h in forms.items()}
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m compare.scan_precision", description=__doc__)
    parser.add_argument("--length", type=int, default=4096, help="T")
    args = parser.parse_args(argv)
    if args.length < 1:
        parser.error(f"--length must be at least 1, got {args.length}")
    tolerance = TOLERANCES["float32"]
    print(f"scaled error of float32 h_t against a float64 loop; the contract allows {tolerance:g}")
    for regime in REGIMES:
        rows = measure(regime, args.length)
        names = [k for k in rows[0] if k not in ("t", "|log a*|")]
        print(f"\n{regime} forgetting\n")
        print("| t | max \\|log a*_t\\| | " + " | ".join(names) + " |")
        print("| --- | --- |" + " --- |" * len(names))
        for row in rows:
            errors = " | ".join(
                f"**{row[n]:.1e}**" if row[n] > tolerance else f"{row[n]:.1e}" for n in names
            )
            print(f"| {row['t']} | {row['|log a*|']:.0f} | {errors} |")


if __name__ == "__main__":
    main()
