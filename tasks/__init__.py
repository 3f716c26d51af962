"""Demos that run on either implementation, each a package on shared scaffolding.

- ``text/``, ``series/``, ``patterns/``, ``gradients/``: the tasks (character-level
  generation, forecasting, the four sequence patterns, each a demo of its own, the adding
  problem and the gradient-flow lab), listed in ``registry.py`` for
  ``python -m compare tasks`` and CI;
- ``config.py``: a task's config is a dataclass, one comment per field, one rule per field;
- ``cli.py``: flags generated from it, presets, resume from the checkpoint, one-line errors;
- ``loop.py``: the training loop: LR schedule, hooks, clipping, divergence, checkpoints, Ctrl-C;
- ``parallel.py``: ``--device``, and data-parallel training under torchrun (DDP): the process
  group, how a task splits its batch (``Shard``), the loop's few collectives;
- ``impl.py``: ``--impl`` and ``--cell``, the one place that names scratch and reference (the
  layer class a cell stands for, and its one-step cell class for decoders);
- ``init.py``: ``--init`` and ``--forget-bias``: initialisation schemes on torch.nn's names;
- ``checkpoint.py``, ``files.py``: checkpoints read safely, run folders written atomically;
- ``errors.py``: the two ways a command ends badly.
"""
