"""The play-kind examples: each speech's first characters, labelled by the kind of its play;
the plays of tasks/patterns/plays.py ``HELD_OUT`` are held out whole.

    speech (from a comedy)                   example
    MARIA:                                   text  "Marry, sir, sometimes he is a kind\\nof ..."
    Marry, sir, sometimes he is a kind of    label 0 = comedy
    puritan.                                 play  "twelfth-night"
"""

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from tasks.errors import BadInput
from tasks.patterns import plays
from tasks.patterns.many_to_one.config import KINDS, PlayKindConfig
from tasks.patterns.sequences import pad
from tasks.text.data import Vocab


@dataclass
class Examples:
    """One split: the speeches' texts, their class ids and plays."""

    texts: list[str]
    labels: Tensor  # (N,) class ids, indices into ``classes(cfg)``
    plays: list[str]

    def __len__(self) -> int:
        return len(self.texts)

    def encode(self, vocab: Vocab) -> tuple[Tensor, Tensor]:
        """(ids (N, L) padded with 0, lengths (N,)); characters the vocabulary lacks dropped."""
        return pad([vocab.encode(vocab.known(text)) for text in self.texts])


def classes(cfg: PlayKindConfig) -> tuple[str, ...]:
    """The class names, in id order."""
    return tuple(KINDS[cfg.kinds])


def examples(cfg: PlayKindConfig) -> tuple[Examples, Examples]:
    """(training examples, held-out examples) that ``cfg`` describes; ``BadInput`` for a split
    that ``--min-chars`` leaves empty."""
    kind_of = {group: k for k, groups in enumerate(KINDS[cfg.kinds].values()) for group in groups}
    splits = []
    for name, speeches in zip(("training", "held-out"), plays.split(plays.speeches()), strict=True):
        kept = [s for s in speeches if len(s.text) >= cfg.min_chars]
        if cfg.max_speeches:
            order = np.random.default_rng(0).permutation(len(kept))[: cfg.max_speeches]
            kept = [kept[i] for i in sorted(order)]
        if not kept:
            raise BadInput(
                f"the {name} split is empty: no speech has --min-chars {cfg.min_chars} characters"
            )
        labels = torch.tensor([kind_of[s.group] for s in kept])
        splits.append(
            Examples([s.text[: cfg.max_chars] for s in kept], labels, [s.play for s in kept])
        )
    return splits[0], splits[1]
