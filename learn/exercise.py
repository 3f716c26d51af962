"""What an exercise declares: the function to write, the quantities it returns with the equation
label each belongs to, and the probes (seeded random inputs) it is checked on."""

import ast
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

import torch


@dataclass(frozen=True)
class Quantity:
    """One value the learner's function returns, and the equation that computes it."""

    name: str  # as the docs write it: d_a, d_h_prev, alpha
    label: str  # the equation's label on its page or notebook: E2, L6, A2
    axes: tuple[str, ...]  # what each dimension counts: "row", "step", "unit", "gate", ...
    depends: str  # what the quantity should depend on, said as an equation
    gates: tuple[str, ...] = ()  # the gate blocks stacked along the "gate" axis, in order
    gate_labels: tuple[str, ...] = ()  # when each gate's block has its own equation: its label
    exact: bool = False  # integer results (ids, counts): compared for equality


@dataclass(frozen=True)
class Probe:
    """A family of inputs the function is run on. ``draw(generator)`` returns its keyword
    arguments. A probe that isolates one path names that path's label and what it depends on."""

    about: str  # what the inputs are, for the message: "random inputs", "W_hh = 0: only (G5)"
    draw: Callable[[torch.Generator], dict]
    label: str | None = None  # when set, a wrong answer here is this equation's fault
    depends: str | None = None


@dataclass(frozen=True)
class Exercise:
    """A blank to fill: our ``solution`` shows its signature, docstring and answer."""

    chapter: str  # the notebook it ends: "cells", "patterns", ...
    labels: dict[str, str]  # label -> the equation, as the page or notebook writes it
    returns: tuple[Quantity, ...]  # in the order the function returns them
    probes: tuple[Probe, ...]  # checked in this order: the simplest, most telling first
    solution: Callable
    hint: str
    imports: str = "import torch"
    walk: str | None = None  # "backward" or "forward": compare the "step" axis in that order
    seeds: tuple[int, ...] = field(default=(0, 1, 2))

    @property
    def name(self) -> str:
        return self.solution.__name__

    @property
    def summary(self) -> str:
        """The docstring's first paragraph, on one line."""
        return " ".join(inspect.getdoc(self.solution).split("\n\n")[0].split())

    def solution_source(self) -> str:
        """Our answer as a file that ``python -m learn check`` accepts."""
        body = textwrap.dedent(inspect.getsource(self.solution))
        return f"{self.imports}\n\n\n{body}"

    def blank_source(self) -> str:
        """The signature and docstring of our answer, with the body left for the learner."""
        source = textwrap.dedent(inspect.getsource(self.solution))
        node = ast.parse(source).body[0]
        docstring_end = node.body[0].end_lineno
        head = "\n".join(source.splitlines()[:docstring_end])
        return f"{self.imports}\n\n\n{head}\n{self.blank_body()}"

    def blank_body(self) -> str:
        """The body of the blank: what to compute, and a placeholder the checker recognises."""
        names = ", ".join(q.name for q in self.returns)
        return f"    # your code here: compute and return {names}\n    raise NotImplementedError\n"


def rand(generator: torch.Generator, *shape: int, scale: float = 1.0) -> torch.Tensor:
    """Standard normal float64 entries from ``generator``, times ``scale``."""
    return torch.randn(*shape, generator=generator, dtype=torch.float64) * scale


def uniform(generator: torch.Generator, *shape: int, lo: float = 0.0, hi: float = 1.0):
    """Uniform float64 entries in (lo, hi): gate values, probabilities."""
    u = torch.rand(*shape, generator=generator, dtype=torch.float64)
    return lo + (hi - lo) * u


def size(generator: torch.Generator, lo: int, hi: int) -> int:
    """A random size in [lo, hi]."""
    return int(torch.randint(lo, hi + 1, (1,), generator=generator))
