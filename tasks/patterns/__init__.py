"""The four sequence patterns, each a small real demo on either implementation.

    python -m tasks.patterns many-to-one train    # which kind of play is a speech from
    python -m tasks.patterns one-to-many train    # captions of generated scenes
    python -m tasks.patterns many-to-many train   # case and punctuation restored
    python -m tasks.patterns seq2seq train        # dates into ISO form, with attention

One subpackage per demo (config, data, model, train, report); what they share:

- ``plays.py``: Shakespeare's speeches with their plays, and the plays held out whole;
- ``sequences.py``: padding, packing, masks, each sequence's final state, the masked loss;
- ``decoder.py``: a cell-by-cell decoder with teacher forcing and additive attention;
- ``batches.py``: step k's batch and teacher-forcing coins, functions of (seed, k);
- ``config.py``, ``training.py``: the shared fields, the schedule, the loop's settings;
- ``metrics.py``, ``figures.py``: F1 and confusion, tables and figures;
- ``cli.py``: the one command line, on the shared scaffolding (tasks/cli.py).

See docs/patterns.md.
"""

from tasks.patterns.cli import main

__all__ = ["main"]
