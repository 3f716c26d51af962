"""What a task's config is: a dataclass, one comment per field, and the rules of each field.

    @dataclass
    class TextConfig:
        cell: str = "lstm"  # recurrent layer, by its cell key
        hidden_size: int = 384  # H: width of h_t (and of the LSTM's cell state c_t)
        max_chars: int = option(0, check=at_least(0))  # use only the first N characters; 0 = all

A field's comment is its ``--help`` text (``comments``), and its type decides how a flag is read
(``int``, ``float``, ``str``, ``X | None``, ``list[str] | None``; a ``bool`` that defaults to
False is a switch: ``--smoke``). Its rules (``Rule``: the
choices, a check, whether ``--resume`` may change it) are declared once: with ``option(...)``
for a field of one task, or, for the fields every task has, by name in ``SHARED`` (named as
torch.nn names them: ``hidden_size``, ``num_layers``, ``dropout``, ``batch_size``, ...). So one
name means one thing, with one check, in every task.

``validate`` applies the rules to a whole config, wherever it came from (flags, a preset, a
checkpoint), then the pairing of ``impl`` and ``cell`` and of ``init`` / ``forget_bias`` and
``cell`` (tasks/init.py), then the config's own ``check()`` method if it has one (rules
between fields). A broken rule is a ``BadInput`` naming the flag.
"""

import ast
import functools
import inspect
import io
import math
import textwrap
import tokenize
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any

from tasks import init
from tasks.errors import BadInput
from tasks.impl import IMPLS, NAMES, check_cell, choice, help_text
from tasks.parallel import DEVICES

Check = Callable[[Any], None]  # raises ValueError("must be ...") for a value it rejects
CLIP_MODES = ("norm", "value", "none")  # how the loop clips gradients (tasks/loop.py)


def at_least(minimum: int) -> Check:
    """An integer ≥ ``minimum``."""

    def check(value: int) -> None:
        if value < minimum:
            raise ValueError(f"must be at least {minimum}, got {value}")

    return check


def finite(value: float) -> None:
    """Any finite number (a bias)."""
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number, got {value}")


def positive(value: float) -> None:
    """A finite number > 0 (a learning rate, a threshold, a temperature)."""
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"must be a positive finite number, got {value}")


def probability(value: float) -> None:
    """A number in [0, 1): a dropout probability."""
    if not 0 <= value < 1:
        raise ValueError(f"must be in [0, 1), got {value}")


def fraction(value: float) -> None:
    """A number in (0, 1): a share of a series."""
    if not 0 < value < 1:
        raise ValueError(f"must be in (0, 1), got {value}")


def distinct(values: list) -> None:
    """A list without repeats."""
    if repeated := sorted({v for v in values if values.count(v) > 1}):
        raise ValueError(f"names {', '.join(map(str, repeated))} more than once")


@dataclass(frozen=True)
class Rule:
    """What a field accepts, declared once; the flags and ``validate`` both read it."""

    check: Check | None = None  # raises ValueError for a value it rejects (None passes always)
    choices: tuple[str, ...] | None = None  # the allowed values, for a field of names
    resumable: bool = False  # may ``--resume`` change it (the budget, the implementation)
    required: bool = False  # must the flag be given (a field without a sensible default)
    vocabulary: Callable[[], str] | None = None  # what each choice means, for --help


# The rules of the fields every task has, by name: a task config just declares the field.
SHARED = {
    "impl": Rule(choices=IMPLS, resumable=True),
    "cell": Rule(choices=NAMES, vocabulary=help_text),  # tasks/impl.py: scratch's registry
    "hidden_size": Rule(at_least(1)),
    "num_layers": Rule(at_least(1)),
    "dropout": Rule(probability),
    "batch_size": Rule(at_least(1)),
    "seq_len": Rule(at_least(1)),
    "lr": Rule(positive),
    "clip_mode": Rule(choices=CLIP_MODES),
    "clip": Rule(positive),
    "init": Rule(choices=init.SCHEMES),  # tasks/init.py; a task calls init.apply(model, cfg)
    "forget_bias": Rule(finite),
    "steps": Rule(at_least(1), resumable=True),
    "epochs": Rule(at_least(1), resumable=True),
    "eval_every": Rule(at_least(1), resumable=True),
    "checkpoint_every": Rule(at_least(1), resumable=True),
    "device": Rule(choices=DEVICES, resumable=True),  # tasks/parallel.py: auto, cpu or cuda
}


def option(default: Any, **rule: Any) -> Any:
    """A dataclass field with its ``Rule``, for a field that only one task has."""
    return field(default=default, metadata={"rule": Rule(**rule)})


def smoke_run(preset: Any, impl: str, steps: int, seed: int, cell: str | None = None) -> Any:
    """A task's smoke ``preset`` on ``impl`` for ``steps`` steps from ``seed``, evaluated once, at
    the end, on the CPU: what a task's ``smoke_losses`` trains for compare's tasks check, the
    same on every machine."""
    cfg = replace(preset, impl=impl, steps=steps, seed=seed, eval_every=steps, device="cpu")
    return cfg if cell is None else replace(cfg, cell=cell)


def rule(cls: type, name: str) -> Rule:
    """The rule of field ``name`` of config class ``cls``: its own, else the shared one."""
    own = {f.name: f.metadata.get("rule") for f in fields(cls)}.get(name)
    return own or SHARED.get(name, Rule())


def flag(name: str) -> str:
    """The command-line flag of a field: ``hidden_size`` -> ``--hidden-size``."""
    return "--" + name.replace("_", "-")


def resumable(cls: type) -> set[str]:
    """The fields that ``--resume`` may change."""
    return {f.name for f in fields(cls) if rule(cls, f.name).resumable}


def check_value(cls: type, name: str, value: Any) -> None:
    """Apply field ``name``'s rule to ``value``; ``ValueError`` saying what is wrong."""
    r = rule(cls, name)
    if value is None:
        return
    if r.choices is not None:
        for item in value if isinstance(value, list) else [value]:
            if item not in r.choices:
                raise ValueError(f"{item!r} is not one of {', '.join(r.choices)}")
    if r.check is not None:
        r.check(value)


def validate(cfg: Any) -> None:
    """Check every field of ``cfg``, then impl and init against cell, then ``cfg.check()``;
    ``BadInput``."""
    cls = type(cfg)
    for f in fields(cls):
        value = getattr(cfg, f.name)
        try:
            check_value(cls, f.name, value)
        except ValueError as error:
            raise BadInput(f"{flag(f.name)} {_shown(value)}: {error}") from None
    if hasattr(cfg, "impl") and hasattr(cfg, "cell"):
        check_cell(cfg.impl, cfg.cell)
    if hasattr(cfg, "init") and hasattr(cfg, "cell"):
        cell = choice(cfg.cell)
        init.check(cfg.init, getattr(cfg, "forget_bias", None), cell.kind, cell.layer)
    if hasattr(cfg, "check"):
        cfg.check()


def _shown(value: Any) -> str:
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


@functools.cache
def comments(cls: type) -> dict[str, str]:
    """The comment written after each field of a config dataclass (and of its bases): the help.

    Read from the source with ``ast`` and ``tokenize``; a field without a comment, or a class
    whose source is not at hand, gets an empty string.
    """
    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__[:-1]):  # bases first, object left out
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):
            continue
        by_line = {
            tok.start[0]: tok.string.lstrip("#").strip()
            for tok in tokenize.generate_tokens(io.StringIO(source).readline)
            if tok.type == tokenize.COMMENT
        }
        for node in ast.parse(source).body[0].body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                lines = range(node.lineno, node.end_lineno + 1)
                found[node.target.id] = " ".join(by_line[n] for n in lines if n in by_line)
    return {f.name: found.get(f.name, "") for f in fields(cls)}
