"""The character model (embedding -> recurrent layers -> linear to the vocabulary) and sampling."""

from collections.abc import Iterator

import torch
from torch import Tensor, nn

from tasks.errors import BadInput
from tasks.text.data import Vocab

State = Tensor | tuple[Tensor, Tensor]  # h_n (N_layers, B, H), or (h_n, c_n) for the LSTM


class CharModel(nn.Module):
    """Reads characters, predicts the next: logits over the vocabulary at every position.

    ``recurrent``: the layer class (``impl.RNN``, ``impl.LSTM``, ... from tasks/impl.py).

    The three parts are built in this order for either implementation, and ``scratch`` draws
    exactly what ``torch.nn`` draws, so one seed gives one set of initial weights.
    """

    def __init__(
        self,
        recurrent: type,
        vocab_size: int,
        embed_size: int,
        hidden_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_size)
        self.rnn = recurrent(embed_size, hidden_size, num_layers=num_layers, dropout=dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """x: ids (T, B); state: from the previous window, or None for zeros.
        Returns logits (T, B, V) and the state after the last character."""
        e = self.embed(x)  # (T, B, E)
        h, state = self.rnn(e, state)  # (T, B, H)
        return self.head(h), state  # (T, B, V)


def sample(
    model: CharModel,
    vocab: Vocab,
    prime: str,
    length: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int = 0,
) -> str:
    """``prime`` followed by ``length`` characters drawn one at a time from the model (see
    ``generate``, which yields them as they are drawn)."""
    return prime + "".join(generate(model, vocab, prime, length, temperature, top_k, seed))


def generate(
    model: CharModel,
    vocab: Vocab,
    prime: str,
    length: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int = 0,
) -> Iterator[str]:
    """The ``length`` characters that follow ``prime``, each yielded as soon as it is drawn.

    Each character is drawn from softmax(logits / temperature), restricted to the ``top_k``
    likeliest characters when given, with a generator seeded by ``seed``: the same arguments
    give the same text. The logits are shifted so that the largest is 0 before the division,
    which changes no probability and cannot overflow, however small the temperature (the
    likeliest character then takes all of it). Pass a float64 model to make the two
    implementations (equal to about 1e-12 there) draw the same characters too.
    """
    if not prime:
        raise BadInput("--prime: give at least one character for the model to read")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top-k must be at least 1, got {top_k}")
    generator = torch.Generator().manual_seed(seed)
    model.eval()
    with torch.no_grad():
        logits, state = model(vocab.encode(prime)[:, None])  # read the prime: (T, 1, V)
    # --8<-- [start:sampling]
    for _ in range(length):
        with torch.no_grad():
            last = logits[-1, 0].double()  # (V,)
            scaled = (last - last.max()) / temperature  # ≤ 0: exp never overflows
            if top_k is not None and top_k < len(scaled):
                kth_largest = torch.topk(scaled, top_k).values[-1]
                scaled = scaled.masked_fill(scaled < kth_largest, float("-inf"))
            ch = torch.multinomial(torch.softmax(scaled, dim=0), 1, generator=generator)  # (1,)
            logits, state = model(ch[:, None], state)  # (1, 1, V)
        yield vocab.decode([ch.item()])
    # --8<-- [end:sampling]
