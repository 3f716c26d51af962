"""`python -m compare capabilities`: what a user may try on a recurrent layer beyond forward and
backward, tried now on scratch's layer and on torch.nn's, each answer checked against numbers
computed another way (a Python loop, finite differences, the eager module).

    python -m compare capabilities [--cell lstm|gru|rnn_tanh|rnn_relu]

Each row prints ✓ with what was compared (the largest scaled error, or a time), or ✗ with the
first line of the error. Numbers are float64; a row whose reference is a central finite
difference passes at 1e-6, every other at 1e-10 (scaled by max(1, |reference|)).
"""

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.export import Dim
from torch.func import functional_call, grad, jacfwd, jacrev, jvp, stack_module_state, vmap

import scratch

EXACT, DIFFERENCE = 1e-10, 1e-6  # tolerances: another exact method; a central difference
EPS = 1e-6  # the step of the central differences
L, N, I, H = 5, 2, 3, 4  # the sizes every row uses


@dataclass(frozen=True)
class Impl:
    """How to build one implementation's layer of a cell."""

    name: str
    module: object  # scratch or torch.nn
    cell: str  # "lstm", "gru", "rnn_tanh", "rnn_relu"

    def make(self, seed: int = 0) -> nn.Module:
        torch.manual_seed(seed)
        kinds = {"lstm": ("LSTM", {}), "gru": ("GRU", {})}
        kinds |= {f"rnn_{f}": ("RNN", {"nonlinearity": f}) for f in ("tanh", "relu")}
        name, kw = kinds[self.cell]
        if self.module is scratch:
            kw = {**kw, "bptt": "manual"}
        return getattr(self.module, name)(I, H, num_layers=2, **kw).double()


class Mismatch(AssertionError):
    pass


def scaled_error(got, want) -> float:
    """The largest |got − want| / max(1, |want|) over tensors, tuples and dicts of them."""
    if isinstance(want, dict):
        return max(scaled_error(got[k], want[k]) for k in want)
    if isinstance(want, (tuple, list)):
        return max(scaled_error(g, w) for g, w in zip(got, want, strict=True))
    scale = max(1.0, want.abs().max().item())
    return (got - want).abs().max().item() / scale


def agree(got, want, tol: float) -> str:
    err = scaled_error(got, want)
    if not err <= tol:
        raise Mismatch(f"differs from the reference by {err:.1e} (> {tol:.0e})")
    return f"err {err:.0e}"


def inputs(seed: int = 1, length: int = L, batch: int = N) -> Tensor:
    torch.manual_seed(seed)
    return torch.randn(length, batch, I, dtype=torch.float64)


def outputs(module, x) -> tuple:
    """(output, *final states): the layer's answer as one flat tuple."""
    y, state = module(x)
    return (y, *state) if isinstance(state, tuple) else (y, state)


def loss_of(module, params, x) -> Tensor:
    y, *states = outputs(lambda x: functional_call(module, params, (x,)), x)
    return (y * y.cos()).sum() + sum((s * s).sum() for s in states)


def params_of(module) -> dict:
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def eager_grads(module, x, run=None) -> tuple:
    """The outputs and the gradients of the loss w.r.t. x and every parameter, computed by
    ``run`` (the module itself unless given)."""
    x = x.clone().requires_grad_()
    out = outputs(module if run is None else run, x)
    y, *states = out
    loss = (y * y.cos()).sum() + sum((s * s).sum() for s in states)
    return tuple(o.detach() for o in out), torch.autograd.grad(loss, (x, *module.parameters()))


def random_like(tree: dict, seed: int = 2) -> dict:
    torch.manual_seed(seed)
    return {k: torch.randn_like(v) for k, v in tree.items()}


def central_difference(f, p: dict, v: dict):
    """(f(p + εv) − f(p − εv)) / 2ε, for f of a dict of tensors."""
    plus = f({k: p[k] + EPS * v[k] for k in p})
    minus = f({k: p[k] - EPS * v[k] for k in p})
    if isinstance(plus, dict):
        return {k: (plus[k] - minus[k]) / (2 * EPS) for k in plus}
    return tuple((a - b) / (2 * EPS) for a, b in zip(plus, minus, strict=True))


# The rows. Each takes an Impl, raises if the transform fails or its numbers disagree, and
# returns what it compared.


def compile_fullgraph(impl: Impl) -> str:
    module, x = impl.make(), inputs()
    compiled = torch.compile(module, fullgraph=True)
    return agree(eager_grads(module, x, compiled), eager_grads(module, x), EXACT)


def compile_dynamic(impl: Impl) -> str:
    """One compiled program for every length and batch: dynamic=True, two other sizes."""
    module = impl.make()
    compiled = torch.compile(module, fullgraph=True, dynamic=True)
    answers = []
    for length, batch in ((L, N), (2 * L + 1, N + 3)):
        x = inputs(seed=length, length=length, batch=batch)
        answers.append(agree(eager_grads(module, x, compiled), eager_grads(module, x), EXACT))
    return ", ".join(answers)


def compile_with_breaks(impl: Impl) -> str:
    """torch.compile as most programs call it: graph breaks allowed."""
    module, x = impl.make(), inputs()
    compiled = torch.compile(module)
    return agree(eager_grads(module, x, compiled), eager_grads(module, x), EXACT)


def compile_time(length: int) -> Callable[[Impl], str]:
    def row(impl: Impl) -> str:
        module, x, note = impl.make(), inputs(length=length), ""
        for fullgraph in (True, False):  # torch.nn's layer is compiled with graph breaks
            torch._dynamo.reset()
            started = time.perf_counter()
            try:
                eager_grads(module, x, torch.compile(module, fullgraph=fullgraph))
                break
            except torch._dynamo.exc.Unsupported:
                note = " (graph breaks: the layer itself runs eagerly)"
        return f"{time.perf_counter() - started:.1f} s{note}"

    row.__doc__ = f"compile time, T = {length} (fwd+bwd, first call)"
    return row


def export_dynamic(impl: Impl) -> str:
    module = impl.make()

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = module

        def forward(self, x):
            return outputs(self.rnn, x)

    dims = {"x": {0: Dim("T", min=2, max=4096), 1: Dim("N", min=2, max=1024)}}
    program = torch.export.export(Layer(), (inputs(),), dynamic_shapes=dims).module()
    other = inputs(seed=3, length=2 * L + 1, batch=N + 3)
    return agree(program(other), outputs(module, other), EXACT)


def vmap_ensemble(impl: Impl) -> str:
    members = [impl.make(seed) for seed in range(3)]
    params, buffers = stack_module_state(members)
    base, x = members[0], inputs()

    def run(p, b, x):
        return outputs(lambda x: functional_call(base, (p, b), (x,)), x)

    got = vmap(run, in_dims=(0, 0, None))(params, buffers, x)
    want = [torch.stack(parts) for parts in zip(*(outputs(m, x) for m in members), strict=True)]
    return agree(got, want, EXACT)


def per_sample_grads(impl: Impl) -> str:
    module, x = impl.make(), inputs()
    params = params_of(module)

    def loss(p, sample):  # one sequence, as a batch of one
        return loss_of(module, p, sample.unsqueeze(1))

    got = vmap(grad(loss), in_dims=(None, 1))(params, x)
    each = [grad(loss)(params, x[:, n]) for n in range(x.shape[1])]
    return agree(got, {k: torch.stack([g[k] for g in each]) for k in params}, EXACT)


def _primal_and_direction(impl: Impl):
    module, x = impl.make(), inputs()
    p = {"x": x, **params_of(module)}
    return module, p, random_like(p)


def _layer_of(module):
    """p = {"x": input, **parameters} -> the layer's outputs."""

    def f(p):
        params = {k: v for k, v in p.items() if k != "x"}
        return outputs(lambda x: functional_call(module, params, (x,)), p["x"])

    return f


def func_jvp(impl: Impl) -> str:
    module, p, v = _primal_and_direction(impl)
    f = _layer_of(module)
    _, tangent = jvp(f, (p,), (v,))
    return agree(tangent, central_difference(f, p, v), DIFFERENCE)


def forward_ad(impl: Impl) -> str:
    module, p, v = _primal_and_direction(impl)
    f = _layer_of(module)
    with torch.autograd.forward_ad.dual_level():
        duals = {k: torch.autograd.forward_ad.make_dual(p[k], v[k]) for k in p}
        tangent = [torch.autograd.forward_ad.unpack_dual(o).tangent for o in f(duals)]
    return agree(tangent, central_difference(f, p, v), DIFFERENCE)


def func_jacfwd(impl: Impl) -> str:
    module, x = impl.make(), inputs()
    return agree(jacfwd(lambda x: module(x)[0])(x), jacrev(lambda x: module(x)[0])(x), EXACT)


def _loss_grad(module):
    return lambda p: grad(lambda q: loss_of(module, q, inputs()))(p)


def hessian_vector(impl: Impl) -> str:
    module = impl.make()
    p = params_of(module)
    v = random_like(p)
    g = _loss_grad(module)
    _, hv = jvp(g, (p,), (v,))  # forward over reverse
    return agree(hv, central_difference(g, p, v), DIFFERENCE)


def double_backward(impl: Impl) -> str:
    module = impl.make()
    p = params_of(module)
    v = random_like(p)
    leaves = {k: t.clone().requires_grad_() for k, t in p.items()}
    loss = loss_of(module, leaves, inputs())
    g = torch.autograd.grad(loss, list(leaves.values()), create_graph=True)
    hv = torch.autograd.grad(g, list(leaves.values()), grad_outputs=list(v.values()))
    return agree(
        dict(zip(p, hv, strict=True)), central_difference(_loss_grad(module), p, v), DIFFERENCE
    )


def checkpointed(impl: Impl) -> str:
    module, x = impl.make(), inputs()

    def run(x):
        return torch.utils.checkpoint.checkpoint(module, x, use_reentrant=False)

    return agree(eager_grads(module, x, run), eager_grads(module, x), EXACT)


def jit_trace(impl: Impl) -> str:
    module, x = impl.make(), inputs()
    traced = torch.jit.trace(module, (x,))
    other = inputs(seed=4)
    return agree(eager_grads(module, other, traced), eager_grads(module, other), EXACT)


def jacobian_vectorized(impl: Impl) -> str:
    module, x = impl.make(), inputs()
    f = lambda x: module(x)[0]  # noqa: E731
    got = torch.autograd.functional.jacobian(f, x, vectorize=True)
    return agree(got, torch.autograd.functional.jacobian(f, x), EXACT)


def grads_batched(impl: Impl) -> str:
    module, x = impl.make(), inputs().requires_grad_()
    y = module(x)[0]
    torch.manual_seed(5)
    cotangents = torch.randn(3, *y.shape, dtype=y.dtype)
    (got,) = torch.autograd.grad(y, x, cotangents, retain_graph=True, is_grads_batched=True)
    want = [torch.autograd.grad(y, x, c, retain_graph=True)[0] for c in cotangents]
    return agree(got, torch.stack(want), EXACT)


def func_hessian(impl: Impl) -> str:
    """torch.func.hessian (jacfwd of jacrev) of a scalar of the output w.r.t. the input."""
    module, x = impl.make(), inputs(length=3, batch=1)

    def f(x):
        y = module(x)[0]
        return (y * y.cos()).sum()

    got = torch.func.hessian(f)(x)
    return agree(got, torch.autograd.functional.hessian(f, x), EXACT)


def func_grad(impl: Impl) -> str:
    module = impl.make()
    p = params_of(module)
    got = grad(lambda q: loss_of(module, q, inputs()))(p)
    _, want = eager_grads(module, inputs())
    return agree(tuple(got.values()), want[1:], EXACT)


def compiled_speed(impl: Impl, repeats: int = 15, hidden: int = 64, batch: int = 32) -> str:
    """Steady-state time of forward and backward, compiled ÷ eager: medians of interleaved
    runs at a size where the loop, not Python, takes the time (float32)."""
    torch.manual_seed(0)
    kind = {"lstm": "LSTM", "gru": "GRU"}.get(impl.cell, "RNN")
    kw = {"bptt": "manual"} if impl.module is scratch else {}
    if kind == "RNN":
        kw["nonlinearity"] = impl.cell.removeprefix("rnn_")
    module = getattr(impl.module, kind)(32, hidden, **kw)
    x = torch.randn(100, batch, 32)
    compiled = torch.compile(module, fullgraph=True)
    times: dict[str, list[float]] = {"eager": [], "compiled": []}
    for k in range(repeats + 2):  # two warm-up rounds, then interleaved
        for name, run in (("eager", module), ("compiled", compiled)):
            started = time.perf_counter()
            eager_grads(module, x, run)
            if k >= 2:
                times[name].append(time.perf_counter() - started)
    median = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    return (
        f"{median['compiled'] / median['eager']:.2f}× ({median['compiled'] * 1e3:.1f} vs "
        f"{median['eager'] * 1e3:.1f} ms, medians of {repeats}, interleaved)"
    )


ROWS: dict[str, Callable[[Impl], str]] = {
    "torch.compile(fullgraph=True)": compile_fullgraph,
    "torch.compile (graph breaks allowed)": compile_with_breaks,
    "torch.compile(fullgraph=True, dynamic=True)": compile_dynamic,
    "compile time, T = 16": compile_time(16),
    "compile time, T = 1024": compile_time(1024),
    "compiled ÷ eager time, T = 100 (fwd+bwd)": compiled_speed,
    "torch.export, dynamic T and batch": export_dynamic,
    "vmap: model ensembles": vmap_ensemble,
    "vmap(grad): per-sample gradients": per_sample_grads,
    "torch.func.grad": func_grad,
    "torch.func.jvp": func_jvp,
    "torch.autograd.forward_ad": forward_ad,
    "torch.func.jacfwd": func_jacfwd,
    "torch.func.hessian": func_hessian,
    "Hessian-vector product (jvp of grad)": hessian_vector,
    "double backward": double_backward,
    "torch.utils.checkpoint": checkpointed,
    "torch.jit.trace": jit_trace,
    "autograd.functional.jacobian(vectorize)": jacobian_vectorized,
    "autograd.grad(is_grads_batched=True)": grads_batched,
}


def attempt(row: Callable[[Impl], str], impl: Impl) -> tuple[bool, str]:
    """(passed, what it compared or the first line of the error)."""
    try:
        return True, row(impl)
    except Exception as error:  # every failure is an answer here: ✗ and its first line
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        return False, f"{type(error).__name__}: {first}"[:110]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m compare capabilities",
        description="Try each transform on scratch's layer and on torch.nn's, now.",
    )
    parser.add_argument("--cell", default="lstm", choices=("lstm", "gru", "rnn_tanh", "rnn_relu"))
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # jit.trace's and export's warnings: the rows say enough
    impls = (Impl("scratch", scratch, args.cell), Impl("torch.nn", nn, args.cell))
    print(
        f"{args.cell}: 2 layers, T={L}, N={N}, input {I}, hidden {H}, float64, torch "
        f"{torch.__version__}\n"
    )
    print(f'| capability | {impls[0].name} (bptt="manual") | {impls[1].name} |')
    print("| --- | --- | --- |")
    failed = 0
    for label, row in ROWS.items():
        cells = []
        for impl in impls:
            ok, text = attempt(row, impl)
            cells.append(f"{'✓' if ok else '✗'} {text}".replace("|", "\\|"))
            failed += not ok and impl.module is scratch
        print(f"| {label} | {cells[0]} | {cells[1]} |", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
