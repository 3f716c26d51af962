"""Training the character model: the task the shared loop runs, and what the command line and
the compare report build from a ``TextConfig``."""

import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from tasks import checkpoint, init, loop, parallel
from tasks.cli import Prepared, smoke_losses_of
from tasks.errors import BadInput
from tasks.impl import layer_class
from tasks.text import corpus
from tasks.text.config import PRESETS, TextConfig
from tasks.text.data import Vocab, detach, num_windows, to_streams, window
from tasks.text.model import CharModel


def build_model(cfg: TextConfig, vocab_size: int) -> CharModel:
    """The model ``cfg`` describes, on the implementation ``cfg.impl`` names, its recurrent
    weights drawn as ``cfg.init`` says."""
    model = CharModel(
        layer_class(cfg.impl, cfg.cell),
        vocab_size,
        cfg.embed_size,
        cfg.hidden_size,
        cfg.num_layers,
        cfg.dropout,
    )
    init.apply(model, cfg)
    return model


class CharTask:
    """Next-character prediction by truncated BPTT over B streams (the picture is in data.py).

    Under N processes (tasks/parallel.py) each trains on B/N of the streams and carries their
    hidden state: the state's dimension 1 runs over the streams."""

    def __init__(self, cfg: TextConfig, vocab: Vocab, train_text: str, held_out_text: str):
        loop.seed_everything(cfg.seed)
        on = parallel.device(cfg.device)
        self.model = build_model(cfg, len(vocab)).to(on)  # drawn on the CPU, whatever the device
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)
        self.shard = parallel.shard(state={"hidden": 1})  # h_n (and c_n): (layers, B, H)
        self.seq_len = cfg.seq_len
        self.train_streams = _streams(vocab.encode(train_text), cfg, "training").to(on)  # (B, L)
        held_out_ids = vocab.encode(vocab.known(held_out_text))
        self.held_out_streams = _streams(held_out_ids, cfg, "held-out").to(on)  # (B, L')
        self.state = None  # the hidden state that the last window ended with, detached

    def loss(self, step: int) -> torch.Tensor:
        """Mean cross-entropy (nats/char) of window ``step`` mod the number of windows, over
        this process's streams."""
        k = step % num_windows(self.train_streams, self.seq_len)
        if k == 0:
            self.state = None  # back at the start of the streams: nothing to carry over
        streams = self.train_streams[self.shard.rows(len(self.train_streams))]  # (B/N, L)
        x, y = window(streams, k, self.seq_len)  # (T, B/N) each
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
        raise BadInput(
            f"the {split} text has {len(ids)} characters; {cfg.batch_size} streams of "
            f"{cfg.seq_len} + 1 characters need at least {need}"
        )
    return streams


def prepare(cfg: TextConfig, saved: dict | None = None, progress: bool = True) -> Prepared:
    """Read the text and build the task and its loop settings. ``saved``: the checkpoint's meta
    when resuming (its vocabulary is kept). Raises ``BadInput`` for a missing, empty or too short
    text, or one with characters the saved vocabulary lacks."""
    train_text, held_out_text = corpus.load(cfg.text, cfg.max_chars)
    vocab = Vocab(saved["vocab"]) if saved else Vocab.of(train_text)
    task = CharTask(cfg, vocab, train_text, held_out_text)
    loop_cfg = loop.LoopConfig.of(
        cfg,
        items_per_step=cfg.batch_size * cfg.seq_len,
        item_name="chars",
        loss_label="cross-entropy (nats/char)",
        progress=progress,
    )
    data = checkpoint.fingerprint(train_text, held_out_text)
    return Prepared(task, loop_cfg, {"vocab": vocab.chars}, data)


def finish(cfg: TextConfig, prepared: Prepared, history: loop.History, out: Path) -> None:
    """The last line of a training run: the held-out loss, and how to sample."""
    if history.evals:
        final = history.evals[-1]
        print(
            f"held-out loss {final['loss']:.4f} nats/char ({final['bpc']:.4f} bits/char) "
            f"after {len(history.train)} steps; sample with: "
            f"python -m tasks.text sample --checkpoint {out / loop.CHECKPOINT}",
            file=sys.stderr,
        )


smoke_losses = smoke_losses_of(prepare, PRESETS)
