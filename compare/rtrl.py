"""Real-time recurrent learning (Williams & Zipser, 1989) as forward mode with respect to the
weights: the exact gradient of a loss summed over time, carried forward step by step, for an
Elman RNN. docs/forward.md derives it; tests/test_rtrl.py holds it equal to BPTT's.

    python -m compare.rtrl [--figure docs/figures/rtrl_cost.png]

RTRL carries, beside h_t, its tangent ḣ_t in every direction of the weights at once: one
tangent per weight, each advanced by the cell's own tangent step (elman_step_tangent), vmapped
over the weights. Each step costs |θ| ≈ H² tangent steps of O(H²) each, O(H⁴), where BPTT's
step costs O(H²) and its memory grows with T instead. The command measures both as H grows.
"""

import argparse
import statistics
import time
from pathlib import Path

import torch
from torch import Tensor
from torch.func import vmap

import scratch
from scratch.declaration import Weights
from scratch.equations.elman import elman_step, elman_step_tangent
from tasks.files import write_figure

KINDS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


def directions(module) -> list[Tensor]:
    """The standard basis of the weights: for each parameter kind, (|θ|, *its shape), where row k
    is 1 at the k-th weight of all the layer's weights and 0 elsewhere."""
    shapes = [getattr(module, k).shape for k in KINDS]
    sizes = [s.numel() for s in shapes]
    eye = torch.eye(sum(sizes), dtype=module.weight_ih_l0.dtype)
    return [part.reshape(-1, *s) for part, s in zip(eye.split(sizes, dim=1), shapes, strict=True)]


# --8<-- [start:rtrl]
def rtrl_gradients(module: scratch.RNN, x: Tensor, targets: Tensor) -> dict[str, Tensor]:
    """The gradient of Σ_t ½‖h_t − y_t‖² w.r.t. each weight, by RTRL: h_t and its tangents
    ḣ_t = dh_t/dθ_k for every weight θ_k move forward together; at each step the loss's
    share adds (h_t − y_t) · ḣ_t to the gradient, so nothing of the past is kept."""
    w = Weights(*(getattr(module, k).detach() for k in KINDS))
    dW_ih, dW_hh, db_ih, db_hh = directions(module)  # one direction per weight
    h = x.new_zeros(x.shape[1], module.hidden_size)
    h_dot = x.new_zeros(dW_ih.shape[0], *h.shape)  # ḣ_0 = 0: h_0 does not depend on θ
    gradient = x.new_zeros(dW_ih.shape[0])
    for x_t, y_t in zip(x, targets, strict=True):
        x_proj = x_t @ w.W_ih.t() + w.b_ih + w.b_hh  # x̂_t
        x_proj_dot = x_t @ dW_ih.transpose(1, 2) + (db_ih + db_hh).unsqueeze(1)  # x̂̇_t
        (h,), saved = elman_step(x_proj, (h,), w, "tanh")

        def tangent_step(x_proj_dot, h_prev_dot, W_hh_dot, saved=saved):
            w_dot = Weights(None, W_hh_dot)  # the step reads Ẇ_hh; Ẇ_ih and ḃ are in x̂̇_t
            return elman_step_tangent(x_proj_dot, (h_prev_dot,), w, w_dot, saved, "tanh")[0]

        h_dot = vmap(tangent_step)(x_proj_dot, h_dot, dW_hh)  # every direction at once
        gradient += torch.einsum("nh,knh->k", h - y_t, h_dot)  # dℓ_t/dh_t · ḣ_t
    sizes = [getattr(module, k).numel() for k in KINDS]
    parts = gradient.split(sizes)
    return {k: p.view_as(getattr(module, k)) for k, p in zip(KINDS, parts, strict=True)}
    # --8<-- [end:rtrl]


def bptt_gradients(module: scratch.RNN, x: Tensor, targets: Tensor) -> dict[str, Tensor]:
    """The same gradient by BPTT: the layer's hand-written backward."""
    y, _ = module(x)
    loss = 0.5 * ((y - targets) ** 2).sum()
    grads = torch.autograd.grad(loss, [getattr(module, k) for k in KINDS])
    return dict(zip(KINDS, grads, strict=True))


def problem(hidden: int, length: int = 20, batch: int = 1, seed: int = 0, dtype=torch.float64):
    """A one-layer tanh RNN with 2 inputs, and a sequence with targets."""
    torch.manual_seed(seed)
    module = scratch.RNN(2, hidden, dtype=dtype)
    x = torch.randn(length, batch, 2, dtype=dtype)
    return module, x, torch.randn(length, batch, hidden, dtype=dtype)


def seconds_per_step(hidden: int, length: int = 20, repeats: int = 5) -> dict[str, float]:
    """Median seconds per time step of each method's whole gradient, measured interleaved."""
    module, x, targets = problem(hidden, length)
    runs: dict[str, list[float]] = {"RTRL": [], "BPTT": []}
    for _ in range(repeats):
        for name, method in (("RTRL", rtrl_gradients), ("BPTT", bptt_gradients)):
            started = time.perf_counter()
            method(module, x, targets)
            runs[name].append((time.perf_counter() - started) / length)
    return {name: statistics.median(times) for name, times in runs.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m compare.rtrl", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--hidden", default="4,8,16,24,32", help="hidden sizes (default: %(default)s)"
    )
    parser.add_argument("--figure", type=Path, help="write the cost figure here (PNG)")
    args = parser.parse_args(argv)
    hidden = [int(h) for h in args.hidden.split(",")]
    module, x, targets = problem(hidden[0])
    rtrl, bptt = rtrl_gradients(module, x, targets), bptt_gradients(module, x, targets)
    worst = max(((rtrl[k] - bptt[k]).abs().max() / bptt[k].abs().max()).item() for k in KINDS)
    print(
        f"RTRL vs BPTT, H = {hidden[0]}, T = 20, float64: largest relative difference {worst:.1e}"
    )
    print("H     RTRL ms/step   BPTT ms/step   ratio")
    table = {}
    for h in hidden:
        table[h] = seconds_per_step(h)
        r, b = table[h]["RTRL"] * 1e3, table[h]["BPTT"] * 1e3
        print(f"{h:<5} {r:>12.3f}   {b:>12.3f}   {r / b:>5.1f}", flush=True)
    if args.figure:
        plot(table, args.figure)
        print(f"wrote {args.figure}")
    return 0


def plot(table: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hidden = sorted(table)
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for name, marker in (("RTRL", "o"), ("BPTT", "s")):
        ax.loglog(hidden, [table[h][name] * 1e3 for h in hidden], marker=marker, label=name)
    last = hidden[-1]
    ref = table[last]["RTRL"] * 1e3
    ax.loglog(hidden, [ref * (h / last) ** 4 for h in hidden], "k--", lw=0.8, label="∝ H⁴")
    ax.set_xticks(hidden, [str(h) for h in hidden])
    ax.minorticks_off()
    ax.set_xlabel("hidden size H")
    ax.set_ylabel("ms per time step (whole gradient)")
    ax.set_title("Exact gradient: forward (RTRL) vs reverse (BPTT)")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_figure(fig, path)  # records its smallest text size, which the site test reads


if __name__ == "__main__":
    raise SystemExit(main())
