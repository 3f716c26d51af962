"""torch.nn's constructor arguments, written once for every class of a family.

A layer (modules.py, variants.py, minimal.py) takes ``input_size, hidden_size``, then
``LAYER`` in torch.nn's order, then its class's own arguments (the LSTM's ``proj_size``, a
variant's rates), then ``FACTORY``; the Elman RNN puts its ``nonlinearity`` right after
``num_layers``, as torch.nn.RNN does. A cell (cells.py) takes ``input_size, hidden_size``,
``CELL``, its own, then ``FACTORY``. Adding a torch.nn keyword to every layer is one edit here.
"""

from collections.abc import Mapping

from scratch import checks

REQUIRED = ("input_size", "hidden_size")
LAYER = {
    "num_layers": 1,
    "bias": True,
    "batch_first": False,
    "dropout": 0.0,
    "bidirectional": False,
}
CELL = {"bias": True}
FACTORY = {"device": None, "dtype": None, "bptt": "manual"}


def layer_order(own: Mapping, after_num_layers: Mapping) -> dict:
    """A layer's optional arguments with their defaults, in its positional order."""
    first, *rest = LAYER
    return {
        first: LAYER[first],
        **after_num_layers,
        **{k: LAYER[k] for k in rest},
        **own,
        **FACTORY,
    }


def cell_order(own: Mapping) -> dict:
    """A cell's optional arguments with their defaults, in its positional order."""
    return {**CELL, **own, **FACTORY}


def unexpected(name: str, extra: dict) -> None:
    """A keyword the class does not take, as Python says it: TypeError (torch.nn's cells)."""
    raise TypeError(f"{name} got unexpected keyword arguments {sorted(extra)}")


def bind(name: str, optional: dict, args: tuple, kwargs: dict, refuse=checks.check_no_extra_kwargs):
    """Every argument by name, defaults filled in, from a call (input_size, hidden_size,
    *optional); ``refuse(name, extra)`` raises for keywords the class does not take."""
    names = (*REQUIRED, *optional)
    if len(args) > len(names):
        raise TypeError(
            f"{name} takes at most {len(names)} positional arguments ({len(args)} given)"
        )
    given = dict(zip(names[: len(args)], args, strict=True))
    if twice := sorted(kwargs.keys() & given.keys()):
        raise TypeError(f"{name} got multiple values for argument {twice[0]!r}")
    extra = {k: v for k, v in kwargs.items() if k not in names}
    if extra:
        refuse(name, extra)
    given.update((k, v) for k, v in kwargs.items() if k in names)
    missing = [k for k in REQUIRED if k not in given]
    if missing:
        raise TypeError(f"{name} missing required argument {missing[0]!r}")
    return {**optional, **given}
