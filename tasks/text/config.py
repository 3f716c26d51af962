"""What one text run is: ``TextConfig`` (one comment per field: each is also a flag's help), its
presets by name, and ``SampleConfig``, the flags of the ``sample`` command.

Fields named as everywhere in the project (``hidden_size``, ``num_layers``, ``dropout``, ...)
take their checks from tasks/config.py's ``SHARED``; the others declare theirs with ``option``.
"""

from dataclasses import dataclass

from tasks.config import at_least, option, positive, smoke_run


@dataclass
class TextConfig:
    # one field a line, its comment is its --help (tasks/config.py): not reformatted
    # fmt: off
    impl: str = "reference"  # which package builds the recurrent layers: scratch | reference
    cell: str = "lstm"  # recurrent layer, by its cell key (the variants and the minimal RNNs: --impl scratch)
    embed_size: int = option(64, check=at_least(1))  # width of a character's embedding, the recurrent input x_t
    hidden_size: int = 384  # H: width of h_t (and of the LSTM's cell state c_t)
    num_layers: int = 1  # recurrent layers stacked on each other
    dropout: float = 0.0  # dropout on the output of each recurrent layer but the last, in [0, 1)
    init: str = "default"  # recurrent weights: default (torch.nn's U(−1/√H, 1/√H)) | xavier_uniform | xavier_normal | kaiming | orthogonal | identity (rnn only); tasks/init.py
    forget_bias: float | None = None  # LSTM: start b_ih_f + b_hh_f at this value (e.g. 1); None: as --init draws it
    batch_size: int = 32  # B: parallel streams the text is cut into (see data.py)
    seq_len: int = 64  # T: characters per window, the farthest back BPTT reaches
    lr: float = 2e-3  # Adam's learning rate
    clip_mode: str = "norm"  # norm: scale the gradient to global L2 norm ≤ clip | value: clamp each element to ±clip | none
    clip: float = 1.0  # the clipping threshold
    steps: int = 5000  # optimizer steps in the run (a --resume may raise it)
    eval_every: int = 500  # steps between evaluations on the held-out text
    checkpoint_every: int = 500  # steps between checkpoints
    text: str | None = None  # UTF-8 file to learn; None = Shakespeare's plays (see corpus.py)
    max_chars: int = option(0, check=at_least(0))  # use only the first this many characters of each split; 0 = all
    seed: int = 0  # seeds the initial weights and dropout
    device: str = "auto"  # where to train: auto (a GPU when there is one) | cpu | cuda; under torchrun each process on a machine takes its own GPU
    # fmt: on


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


def smoke_config(impl: str, steps: int, seed: int, cell: str | None = None) -> TextConfig:
    """The smoke preset on ``impl`` for ``steps`` steps from ``seed`` (one evaluation, at the end)."""
    return smoke_run(PRESETS["smoke"], impl, steps, seed, cell)


@dataclass
class SampleConfig:
    # one field a line, its comment is its --help (tasks/config.py): not reformatted
    # fmt: off
    checkpoint: str | None = option(None, required=True)  # a run's checkpoint.pt
    impl: str | None = None  # implementation to run it on (default: the one it trained on)
    prime: str = "ROMEO:"  # text the model reads before it writes
    temperature: float = option(0.8, check=positive)  # each character is drawn from softmax(logits / temperature): below 1 safer, more repetitive text; above 1 more varied, more misspelt
    top_k: int | None = option(None, check=at_least(1))  # draw only among the K likeliest characters
    length: int = option(500, check=at_least(0))  # characters to generate
    seed: int = 0  # the same seed gives the same text
    # fmt: on
