"""One to many: one image in, a caption out, word by word.

    image (N, 3, 24, 24) ─conv─relu─pool─conv─relu─pool─▶ (N, 32, 6, 6) ─flatten─Linear─tanh─▶ h_0 (N, H)
    decoder (tasks/patterns/decoder.py): h_0, then one word a step, until <eos>

The encoder is not recurrent: the image's one vector becomes the decoder's initial state, and
the decoder must unroll everything it says from it.
"""

from torch import Tensor, nn

from tasks.patterns.decoder import Decoder
from tasks.patterns.one_to_many import scenes
from tasks.patterns.one_to_many.config import CaptionConfig

CHANNELS = (16, 32)  # of the two convolutions


class Captioner(nn.Module):
    """A small convolutional encoder, and a recurrent decoder started from its vector."""

    def __init__(self, cfg: CaptionConfig):
        super().__init__()
        pooled = scenes.SIZE // 4  # two 2×2 poolings
        self.encoder = nn.Sequential(
            nn.Conv2d(3, CHANNELS[0], 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(CHANNELS[0], CHANNELS[1], 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(CHANNELS[1] * pooled * pooled, cfg.hidden_size),
            nn.Tanh(),
        )
        self.decoder = Decoder(
            cfg.impl, cfg.cell, len(scenes.WORDS), cfg.embed_size, cfg.hidden_size
        )

    def forward(
        self, images: Tensor, targets: Tensor | None = None, teacher: Tensor | None = None
    ) -> Tensor:
        """Logits of the caption's words and its end (N, MAX_WORDS + 1, V); ``targets``,
        ``teacher``: as Decoder.forward takes them (None: greedy)."""
        h_0 = self.encoder(images)  # (N, H)
        logits, _ = self.decoder(h_0, scenes.SOS, scenes.MAX_WORDS + 1, targets, teacher)
        return logits
