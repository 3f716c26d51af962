"""The yardsticks of the play-kind demo: the majority class, and a bag of words — tf-idf
features and a logistic regression, written here with torch — that sees which words a speech
uses and how often, but not in what order.

tf-idf of word w in speech d:  tf(w, d) · idf(w),  idf(w) = ln((1 + N) / (1 + df(w))) + 1,
with tf the count of w in d, df(w) the number of training speeches that use w, N their number;
each speech's vector is scaled to unit length. Words used by fewer than ``MIN_DF`` training
speeches are left out (a held-out play's new names among them).

The classifier: softmax(W x + b), fitted by L-BFGS on the class-weighted cross-entropy (the
network's loss) plus ``L2`` · ‖W‖²; deterministic, from zeros.
"""

import math
import re
from collections import Counter

import torch
import torch.nn.functional as F
from torch import Tensor, nn

MIN_DF = 2  # a word must occur in this many training speeches to be a feature
L2 = 1e-4  # weight of ‖W‖² in the objective
ITERATIONS = 200  # L-BFGS iterations, enough to converge here

_WORD = re.compile(r"[a-z']+")


def words(text: str) -> list[str]:
    """The lower-cased words of ``text``: runs of letters and apostrophes."""
    return _WORD.findall(text.lower())


class BagOfWords:
    """tf-idf features (vocabulary and idf from the training speeches) and their classifier."""

    def __init__(self, texts: list[str], labels: Tensor, classes: int, weight: Tensor):
        df = Counter(w for text in texts for w in set(words(text)))
        kept = sorted(w for w, n in df.items() if n >= MIN_DF)
        self.index = {w: i for i, w in enumerate(kept)}
        self.idf = torch.tensor([math.log((1 + len(texts)) / (1 + df[w])) + 1 for w in kept])
        self.linear = nn.Linear(len(kept), classes)  # W: (K, V), b: (K,)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        self._fit(self.features(texts), labels, weight)

    def features(self, texts: list[str]) -> tuple[Tensor, Tensor, Tensor]:
        """Sparse rows as EmbeddingBag takes them: (word ids, offsets, tf-idf values)."""
        ids, offsets, values = [], [], []
        for text in texts:
            offsets.append(len(ids))
            counts = Counter(self.index[w] for w in words(text) if w in self.index)
            row = [(i, n * self.idf[i].item()) for i, n in sorted(counts.items())]
            norm = math.sqrt(sum(v * v for _, v in row)) or 1.0
            ids += [i for i, _ in row]
            values += [v / norm for _, v in row]
        return torch.tensor(ids, dtype=torch.long), torch.tensor(offsets), torch.tensor(values)

    def scores(self, features: tuple[Tensor, Tensor, Tensor]) -> Tensor:
        """W x + b for every row: (N, K)."""
        ids, offsets, values = features
        x_W = F.embedding_bag(
            ids, self.linear.weight.T, offsets, mode="sum", per_sample_weights=values
        )
        return x_W + self.linear.bias

    def predict(self, texts: list[str]) -> Tensor:
        """The likeliest class of each text: (N,)."""
        with torch.no_grad():
            return self.scores(self.features(texts)).argmax(dim=1)

    def _fit(self, features: tuple[Tensor, Tensor, Tensor], labels: Tensor, weight: Tensor):
        optimizer = torch.optim.LBFGS(
            self.linear.parameters(), max_iter=ITERATIONS, line_search_fn="strong_wolfe"
        )

        def objective() -> Tensor:
            optimizer.zero_grad()
            loss = F.cross_entropy(self.scores(features), labels, weight=weight)
            loss = loss + L2 * self.linear.weight.pow(2).sum()
            loss.backward()
            return loss

        optimizer.step(objective)


def majority(labels: Tensor, classes: int) -> int:
    """The class most training examples have: the yardstick that reads nothing."""
    return int(torch.bincount(labels, minlength=classes).argmax())
