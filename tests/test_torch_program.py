"""A program written for torch.nn runs on scratch with torch.nn.LSTM swapped out, nothing else
changed, and its losses match step by step."""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import scratch

# ---- the program, as someone would write it for torch.nn ----------------------------------


class Tagger(nn.Module):
    """A two-layer bidirectional LSTM part-of-speech-style tagger over padded batches."""

    def __init__(self, vocab: int, tags: int, emb: int = 16, hidden: int = 12):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb, padding_idx=0)
        self.lstm = nn.LSTM(
            emb, hidden, num_layers=2, bidirectional=True, batch_first=True, dropout=0.2
        )
        self.out = nn.Linear(2 * hidden, tags)

    def forward(self, tokens, lengths):
        packed = pack_padded_sequence(
            self.embed(tokens), lengths, batch_first=True, enforce_sorted=False
        )
        self.lstm.flatten_parameters()
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=tokens.size(1))
        return self.out(out)


def train_tagger(steps: int = 8) -> list[float]:
    torch.manual_seed(0)
    vocab, tags, batch, max_len = 30, 5, 6, 9
    model = Tagger(vocab, tags)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(steps):
        lengths = torch.randint(1, max_len + 1, (batch,))
        tokens = torch.randint(1, vocab, (batch, max_len))
        mask = torch.arange(max_len)[None, :] < lengths[:, None]
        tokens = tokens * mask
        labels = torch.where(mask, tokens % tags, torch.full_like(tokens, -100))
        logits = model(tokens, lengths)
        loss = nn.functional.cross_entropy(logits.reshape(-1, tags), labels.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    return losses


# ---- the check ------------------------------------------------------------------------------


def test_tagger_losses_match_with_scratch_swapped_in(monkeypatch):
    theirs = train_tagger()
    monkeypatch.setattr(nn, "LSTM", scratch.LSTM)
    assert isinstance(Tagger(30, 5).lstm, scratch.LSTM)
    ours = train_tagger()
    assert theirs[-1] < theirs[0]  # it learns: the comparison is not between two flat lines
    for step, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert abs(a - b) <= 1e-5 * max(1.0, abs(b)), f"step {step}: {a} vs {b}"
