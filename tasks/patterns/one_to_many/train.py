"""Training the captioner: the task the shared loop runs, what the command line builds from a
``CaptionConfig``, and ``smoke_losses`` for compare."""

import numpy as np
import torch
from torch import Tensor

from tasks import checkpoint, cli, parallel
from tasks.patterns import training
from tasks.patterns.batches import SCENES, coins, draws
from tasks.patterns.one_to_many import scenes
from tasks.patterns.one_to_many.config import PRESETS, CaptionConfig
from tasks.patterns.one_to_many.model import Captioner
from tasks.patterns.one_to_many.report import report, scores
from tasks.patterns.sequences import masked_cross_entropy

SPLITS = ("held_out", "seen")  # scored: held-out scenes, and new scenes of the training kinds


def tensors(rng: np.random.Generator, drawn: list[scenes.Scene]) -> tuple[Tensor, Tensor]:
    """(images (N, 3, 24, 24), caption ids (N, MAX_WORDS + 1)) of ``drawn``, rendered by ``rng``."""
    captions = [scenes.caption_ids(s.caption()) for s in drawn]
    return torch.from_numpy(scenes.images(rng, drawn)), torch.tensor(captions)


class CaptionTask(training.Stateless):
    """Image -> caption, by cross-entropy per word, teacher-forced; every step draws fresh
    scenes of the training kinds, from (seed, step)."""

    def __init__(self, cfg: CaptionConfig):
        self.cfg = cfg
        self.holdout = scenes.Holdout.of(cfg.holdout)
        rng = np.random.default_rng(scenes.DATA_SEED)
        self.scenes = {
            "held_out": scenes.draw_scenes(rng, self.holdout.held_out, cfg.held_out_scenes),
            "seen": scenes.draw_scenes(rng, self.holdout.train, cfg.held_out_scenes),
        }
        self.data = {name: tensors(rng, drawn) for name, drawn in self.scenes.items()}
        self.shard = parallel.shard()  # each process takes its rows of every batch; no state
        torch.manual_seed(cfg.seed)
        self.on = parallel.device(cfg.device)
        self.model = Captioner(cfg).to(self.on)  # drawn on the CPU, whatever the device
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)

    def loss(self, step: int) -> Tensor:
        """Mean cross-entropy per word (and end) of the step's scenes, this process's share of
        it: every process draws the whole batch from (seed, step) and captions its rows."""
        rng = draws(self.cfg.seed, step, SCENES)
        images, targets = tensors(
            rng, scenes.draw_scenes(rng, self.holdout.train, self.cfg.batch_size)
        )
        teacher = coins(
            self.cfg.seed, step, targets.shape, self.cfg.teacher_forcing, self.cfg.forcing_unit
        )
        real = targets != scenes.PAD  # (N, T)
        own = self.shard.rows(len(targets))
        images, targets, teacher = (t[own].to(self.on) for t in (images, targets, teacher))
        logits = self.model(images, targets, teacher)  # (N/P, T, V)
        total = masked_cross_entropy(logits, targets, targets != scenes.PAD, reduction="sum")
        return training.share_of_mean(total, real.sum(), self.shard)

    def caption(self, split: str) -> Tensor:
        """Greedy captions of a scored split: word ids (N, MAX_WORDS + 1), on the CPU."""
        return self.model(self.data[split][0].to(self.on)).argmax(dim=2).cpu()

    def evaluate(self) -> dict[str, float]:
        """Loss (greedy) and scores on the held-out scenes; scores on new scenes of the
        training kinds."""
        images, targets = self.data["held_out"]
        logits = self.model(images.to(self.on)).cpu()
        metrics = {"loss": masked_cross_entropy(logits, targets, targets != scenes.PAD).item()}
        for split in SPLITS:
            outputs = logits.argmax(dim=2) if split == "held_out" else self.caption(split)
            for name, value in scores(outputs, self.data[split][1]).items():
                metrics[f"{name}_{split}"] = value
        return metrics


def prepare(cfg: CaptionConfig, saved: dict | None = None, progress: bool = True) -> cli.Prepared:
    """Draw the held-out scenes and build the task (nothing to take from ``saved``: the data
    are a function of the config)."""
    task = CaptionTask(cfg)
    held = [s.caption() for s in task.holdout.held_out]
    data = checkpoint.fingerprint(*held, *(t.numpy().tobytes() for t in task.data["held_out"]))
    loop_cfg = training.loop_config(cfg, "scenes", "cross-entropy per word", progress)
    return cli.Prepared(task, loop_cfg, {}, data)


TRAINER = training.trainer(
    "one-to-many",
    "one to many: captions of generated scenes, word by word from one image vector",
    CaptionConfig,
    PRESETS,
    prepare,
    report,
)

smoke_losses = cli.smoke_losses_of(prepare, PRESETS)
