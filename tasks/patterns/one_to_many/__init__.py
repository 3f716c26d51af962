"""One to many: captions of generated scenes, written word by word from one image vector.

    python -m tasks.patterns one-to-many train                     # held-out combinations
    python -m tasks.patterns one-to-many train --preset pairings   # held-out pairings: fails
    python -m tasks.patterns one-to-many train --teacher-forcing 1 --cell lstm

scenes.py  the scenes, their images and captions; what is held out
config.py  CaptionConfig and its presets
model.py   small convolutional encoder -> h_0 -> decoder (tasks/patterns/decoder.py)
train.py   the task the shared loop runs; smoke_losses for compare
report.py  exact caption and per-word accuracy; held-out scenes with their captions
"""

from tasks.patterns.one_to_many.config import PRESETS, CaptionConfig
from tasks.patterns.one_to_many.train import TRAINER, smoke_losses

__all__ = ["PRESETS", "TRAINER", "CaptionConfig", "smoke_losses"]
