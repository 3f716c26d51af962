"""Training the character model: the config, its presets, and the task the shared loop runs."""

import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F

from tasks import loop
from tasks.impl import load_impl
from tasks.text import corpus
from tasks.text.data import Vocab, detach, num_windows, to_streams, window
from tasks.text.model import CharModel


@dataclass
class TextConfig:
    impl: str = "reference"  # which package builds the recurrent layers: scratch | reference
    cell: str = "lstm"  # recurrent layer: rnn (Elman, tanh) | lstm | gru
    embed_size: int = 64  # width of a character's embedding, the recurrent input x_t
    hidden_size: int = 384  # H: width of h_t (and of the LSTM's cell state c_t)
    num_layers: int = 1  # recurrent layers stacked on each other
    dropout: float = 0.0  # dropout on the output of each recurrent layer but the last
    batch_size: int = 32  # B: parallel streams the text is cut into (see data.py)
    seq_len: int = 64  # T: characters per window, the farthest back BPTT reaches
    lr: float = 2e-3  # Adam's learning rate
    clip: float = 1.0  # largest global gradient norm; larger gradients are scaled down; 0 = off
    steps: int = 5000  # optimizer steps in the run
    eval_every: int = 500  # steps between evaluations on the held-out text
    checkpoint_every: int = 500  # steps between checkpoints
    text: str | None = None  # UTF-8 file to learn; None = Shakespeare's plays (see corpus.py)
    max_chars: int = 0  # use only the first this many characters of each split; 0 = all
    seed: int = 0  # seeds the initial weights and dropout


PRESETS = {
    # the run measured in docs/text.md: minutes on 2 CPU cores
    "default": TextConfig(),
    # a baby model for a laptop: learns words and speaker names in about a minute
    "tiny": TextConfig(embed_size=32, hidden_size=128, batch_size=16, seq_len=32),
    # a few steps of a toy model on a slice of the text, in seconds: what CI runs
    "smoke": TextConfig(
        embed_size=8,
        hidden_size=16,
        batch_size=4,
        seq_len=16,
        steps=4,
        eval_every=2,
        checkpoint_every=2,
        max_chars=4000,
    ),
}


def build_model(cfg: TextConfig, vocab_size: int) -> CharModel:
    """The model ``cfg`` describes, on the implementation ``cfg.impl`` names."""
    return CharModel(
        load_impl(cfg.impl),
        cfg.cell,
        vocab_size,
        cfg.embed_size,
        cfg.hidden_size,
        cfg.num_layers,
        cfg.dropout,
    )


class CharTask:
    """Next-character prediction by truncated BPTT over B streams (the picture is in data.py)."""

    def __init__(self, cfg: TextConfig, vocab: Vocab, train_text: str, held_out_text: str):
        loop.seed_everything(cfg.seed)
        self.model = build_model(cfg, len(vocab))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)
        self.seq_len = cfg.seq_len
        self.train_streams = _streams(vocab.encode(train_text), cfg, "training")  # (B, L)
        held_out_ids = vocab.encode(vocab.known(held_out_text))
        self.held_out_streams = _streams(held_out_ids, cfg, "held-out")  # (B, L')
        self.state = None  # the hidden state that the last window ended with, detached

    def loss(self, step: int) -> torch.Tensor:
        """Mean cross-entropy (nats/char) of window ``step`` mod the number of windows."""
        k = step % num_windows(self.train_streams, self.seq_len)
        if k == 0:
            self.state = None  # back at the start of the streams: nothing to carry over
        x, y = window(self.train_streams, k, self.seq_len)  # (T, B) each
        logits, state = self.model(x, self.state)  # (T, B, V)
        self.state = detach(state)
        return F.cross_entropy(logits.flatten(0, 1), y.flatten())

    def evaluate(self) -> dict[str, float]:
        """Cross-entropy over all of the held-out streams, state carried: nats and bits per char."""
        windows = num_windows(self.held_out_streams, self.seq_len)
        state, total = None, 0.0
        for k in range(windows):
            x, y = window(self.held_out_streams, k, self.seq_len)
            logits, state = self.model(x, state)
            total += F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="sum").item()
        nats = total / (windows * x.numel())
        return {"loss": nats, "bpc": nats / math.log(2)}

    def get_state(self) -> dict:
        return {"hidden": self.state}

    def set_state(self, state: dict) -> None:
        self.state = state["hidden"]


def _streams(ids: torch.Tensor, cfg: TextConfig, split: str) -> torch.Tensor:
    """``to_streams``, with a clear error when the text is too short for even one window."""
    streams = to_streams(ids, cfg.batch_size)
    if num_windows(streams, cfg.seq_len) < 1:
        need = cfg.batch_size * (cfg.seq_len + 1)
        raise ValueError(
            f"the {split} text has {len(ids)} characters; {cfg.batch_size} streams of "
            f"{cfg.seq_len} + 1 characters need at least {need}"
        )
    return streams


def make_task(cfg: TextConfig, vocab: Vocab | None = None) -> tuple[CharTask, Vocab]:
    """Read the text and build the task. ``vocab``: the saved one when resuming; by default
    it is built from the training text. Raises OSError / ValueError with a clear message for
    a missing, empty or too short text, or one with characters ``vocab`` lacks."""
    train_text, held_out_text = corpus.load(cfg.text, cfg.max_chars)
    vocab = vocab or Vocab.of(train_text)
    return CharTask(cfg, vocab, train_text, held_out_text), vocab


def run(
    task: CharTask,
    cfg: TextConfig,
    vocab: Vocab,
    out: Path | None = None,
    resume: bool = False,
    progress: bool = True,
    print_evals: bool = True,
) -> loop.History:
    """Train ``task`` with the shared loop; ``out``: the run folder (None writes nothing);
    ``progress``: show the progress bar; ``print_evals``: a line per evaluation."""
    loop_cfg = loop.LoopConfig(
        steps=cfg.steps,
        clip=cfg.clip,
        eval_every=cfg.eval_every,
        checkpoint_every=cfg.checkpoint_every,
        items_per_step=cfg.batch_size * cfg.seq_len,
        item_name="chars",
        loss_label="cross-entropy (nats/char)",
        progress=progress,
        print_evals=print_evals,
    )
    meta = {"config": asdict(cfg), "vocab": vocab.chars}
    return loop.train(task, loop_cfg, out, meta, resume)


def smoke_losses(impl: str, steps: int = 50, seed: int = 0) -> list[float]:
    """Training losses of the first ``steps`` steps of the smoke model on ``impl``; no files.

    The compare report puts these side by side for scratch and reference: from one seed the
    two start from the same weights, read the same windows and should agree to rounding.
    """
    cfg = replace(PRESETS["smoke"], impl=impl, steps=steps, seed=seed, eval_every=steps)
    task, vocab = make_task(cfg)
    return run(task, cfg, vocab, progress=False, print_evals=False).train
