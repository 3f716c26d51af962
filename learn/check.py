"""Runs a learner's function against ours on seeded random inputs and, when they differ, names
the equation: its label, the quantity, the largest error and where (row, step, gate), and what
the quantity should depend on. Probes run simplest first, so the first difference found is the
line to fix, not the lines downstream of it that inherit its error."""

import traceback
from dataclasses import dataclass, replace

import torch

from learn.exercise import Exercise, Probe, Quantity
from learn.exercises import EXERCISES


@dataclass(frozen=True)
class Result:
    """What the checker found: ``ok``, and when not, the label and quantity it blames."""

    ok: bool
    message: str
    label: str | None = None
    quantity: str | None = None


def check(function, name: str | None = None) -> None:
    """Check ``function`` (in a notebook: the function you just wrote) against the exercise of
    its name, or of ``name``; print one line when it is right and the diagnosis when not."""
    print(report(EXERCISES[name or function.__name__], function).message)


def report(exercise: Exercise, function, source: str | None = None) -> Result:
    """Run ``function`` on every probe of ``exercise``; the first difference from ours decides."""
    runs = 0
    for number, probe in enumerate(exercise.probes):
        for seed in exercise.seeds:
            inputs = probe.draw(torch.Generator().manual_seed(1000 * number + seed))
            ours = _as_tuple(exercise.solution(**_copy(inputs)))
            try:
                yours = function(**_copy(inputs))
            except NotImplementedError:
                return Result(
                    False, f"{exercise.name} is still a blank: fill it in and check again"
                )
            except Exception as error:  # the learner's code: any error is a finding to report
                return Result(False, _raised(exercise, error, source))
            runs += 1
            yours = _as_tuple(yours)
            if len(yours) != len(ours):
                names = ", ".join(q.name for q in exercise.returns)
                return Result(
                    False,
                    f"{exercise.name} returned {len(yours)} value(s); it should return "
                    f"{len(ours)}: {names}",
                )
            for quantity, mine, theirs, at in _by_gate(_in_order(exercise, yours, ours)):
                wrong = _difference(quantity, mine, theirs, at)
                if wrong:
                    return _blame(exercise, probe, seed, quantity, wrong)
    return Result(True, f"{exercise.name}: right ({runs} seeded runs, every quantity matches ours)")


def _in_order(exercise: Exercise, yours: tuple, ours: tuple):
    """(quantity, yours, ours, at) in the order the values are computed. Without a time walk,
    in the order returned. With one, step by step in the walk's order (the last step first for
    BPTT), so that an error made at one step is blamed there, not on the steps it flows into."""
    pairs = list(zip(exercise.returns, yours, ours, strict=True))
    if exercise.walk is None:
        yield from ((q, m, t, None) for q, m, t in pairs)
        return
    timed = [(q, m, t) for q, m, t in pairs if q.axes[:1] == ("step",)]
    for q, m, t in timed:
        if not isinstance(m, torch.Tensor) or m.shape != t.shape:
            yield q, m, t, None  # the shape is reported before any step is compared
    steps = range(len(timed[0][2]))
    for step in reversed(steps) if exercise.walk == "backward" else steps:
        for q, m, t in timed:
            yield replace(q, axes=q.axes[1:]), m[step], t[step], f"step {step}"
    yield from ((q, m, t, None) for q, m, t in pairs if q.axes[:1] != ("step",))


def _by_gate(items):
    """Each quantity whose gates have labels of their own (the LSTM's d_a: L2 … L5), one gate
    block at a time, in the gates' order: a wrong block is blamed on its gate's equation."""
    for q, mine, theirs, at in items:
        if not q.gate_labels or not isinstance(mine, torch.Tensor) or mine.shape != theirs.shape:
            yield q, mine, theirs, at
            continue
        axis = q.axes.index("gate")
        blocks = zip(mine.chunk(len(q.gates), axis), theirs.chunk(len(q.gates), axis), strict=True)
        axes = tuple("unit" if a == "gate" else a for a in q.axes)
        for gate, label, (m, t) in zip(q.gates, q.gate_labels, blocks, strict=True):
            block = replace(q, label=label, axes=axes, gates=(), gate_labels=())
            yield block, m, t, ", ".join(filter(None, [at, f"gate {gate}"]))


def _blame(exercise: Exercise, probe: Probe, seed: int, q: Quantity, wrong: str) -> Result:
    label = probe.label or q.label
    depends = probe.depends or q.depends
    message = "\n".join(
        [
            f"{exercise.name}: wrong at ({label}) {exercise.labels[label]}",
            f"  {q.name}: {wrong}",
            f"  inputs: {probe.about} (seed {seed})",
            f"  {q.name} should depend on: {depends}",
        ]
    )
    return Result(False, message, label, q.name)


def _difference(q: Quantity, mine, theirs, at: str | None = None) -> str | None:
    """None when ``mine`` equals ``theirs``; else what is wrong, with the largest error and where
    (``at``: the step or gate of the slice compared, when it is one)."""
    if isinstance(theirs, list | tuple):
        if not isinstance(mine, list | tuple) or len(mine) != len(theirs):
            return f"should be a list of {len(theirs)} tensors"
        for k, (m, t) in enumerate(zip(mine, theirs, strict=True)):
            wrong = _difference(Quantity(q.name, q.label, ("index",), q.depends), m, t)
            if wrong:
                return f"tensor {k}: {wrong}"
        return None
    theirs = torch.as_tensor(theirs)
    try:
        mine = torch.as_tensor(mine, dtype=theirs.dtype)
    except (TypeError, ValueError, RuntimeError):
        return f"is a {type(mine).__name__}; it should be a tensor of shape {tuple(theirs.shape)}"
    if mine.shape != theirs.shape:
        return f"has shape {tuple(mine.shape)}; it should have shape {tuple(theirs.shape)}"
    if q.exact:
        bad = mine != theirs
        if not bad.any():
            return None
        index = tuple(int(i) for i in bad.nonzero()[0])
        where = ", ".join(filter(None, [at, _where(q, index, theirs.shape)]))
        return (
            f"{int(bad.sum())} of {bad.numel()} entries wrong; the first at {where}: "
            f"yours {mine[index].item()}, ours {theirs[index].item()}"
        )
    error = (mine - theirs).abs().nan_to_num(nan=float("inf"))
    scale = max(1.0, theirs.abs().max().item()) if theirs.numel() else 1.0
    tolerance = 1e-9 * scale
    if theirs.numel() == 0 or error.max() <= tolerance:
        return None
    index = tuple(int(i) for i in torch.unravel_index(error.argmax(), error.shape))
    count = int((error > tolerance).sum())
    where = ", ".join(filter(None, [at, _where(q, index, theirs.shape)]))
    where = f" at {where}" if where else ""
    return (
        f"largest error {error[index].item():.3g}{where} (yours {mine[index].item():.4g}, "
        f"ours {theirs[index].item():.4g}); {count} of {theirs.numel()} entries wrong"
    )


def _where(q: Quantity, index: tuple, shape: tuple) -> str:
    """An index told in the quantity's own words: row 2, step 3, gate f, unit 1."""
    parts = []
    if not index:
        return ""
    if q.axes == ("index",):  # a tensor of a list: any shape
        return f"index {index}"
    for axis, i, n in zip(q.axes, index, shape, strict=True):
        if axis == "gate":
            width = n // len(q.gates)
            parts.append(f"gate {q.gates[i // width]}, unit {i % width}")
        else:
            parts.append(f"{axis} {i}")
    return ", ".join(parts)


def _raised(exercise: Exercise, error: Exception, source: str | None) -> str:
    """The learner's error, with the line of their code it came from."""
    frames = traceback.extract_tb(error.__traceback__)
    theirs = [f for f in frames if source is not None and f.filename == source]
    at = f" at line {theirs[-1].lineno} of {source}: {theirs[-1].line}" if theirs else ""
    return f"{exercise.name} raised {type(error).__name__}: {error}{at}"


def _as_tuple(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def _copy(inputs: dict) -> dict:
    """Fresh tensors for each call: a function that writes into its inputs harms no one else."""
    return {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in inputs.items()}
