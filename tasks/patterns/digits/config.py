"""What one MNIST-1D run is: ``DigitsConfig`` and its presets by name.

MNIST-1D's examples are 40 numbers each, one per step, so the recurrent layer reads one number
x_t a step (input size 1): there is no embedding, and its config has no ``embed_size``.
"""

from dataclasses import dataclass

from tasks.config import at_least, option


@dataclass
class DigitsConfig:
    # one field a line, its comment is its --help (tasks/config.py): not reformatted
    # fmt: off
    impl: str = "scratch"  # which package builds the recurrent layer: scratch | reference
    cell: str = "gru"  # recurrent layer, by its cell key (the variants and the minimal RNNs: --impl scratch)
    hidden_size: int = 128  # H: width of h_t (and of the LSTM's cell state c_t)
    num_layers: int = 1  # recurrent layers stacked on each other
    bidirectional: bool = False  # read each signal both ways; the classifier reads both halves of h_n
    max_examples: int = option(0, check=at_least(0))  # train on only the first N training examples; 0 = all 4,000 (the test set is always all 1,000)
    batch_size: int = 100  # examples per optimizer step
    lr: float = 3e-3  # Adam's learning rate at the start; it decays to a tenth along a cosine
    clip_mode: str = "norm"  # norm: scale the gradient to global L2 norm ≤ clip | value: clamp each element to ±clip | none
    clip: float = 1.0  # the clipping threshold
    steps: int = 1500  # optimizer steps in the run (a --resume may raise it)
    eval_every: int = 250  # steps between evaluations on the test set
    checkpoint_every: int = 500  # steps between checkpoints
    seed: int = 0  # seeds the initial weights and the batch order (the data is always the package's, seed 42)
    device: str = "auto"  # where to train: auto (a GPU when there is one) | cpu | cuda; under torchrun each process on a machine takes its own GPU
    # fmt: on


PRESETS = {
    # the run measured in docs/patterns.md: a minute or two on 2 CPU cores (scratch)
    "default": DigitsConfig(),
    # a few steps of a toy model on a slice of the training set: seconds, what CI runs
    "smoke": DigitsConfig(
        hidden_size=16,
        max_examples=200,
        batch_size=8,
        steps=4,
        eval_every=2,
        checkpoint_every=2,
    ),
}
