"""Scores that the demos share: per-class F1, macro-F1, the confusion matrix.

F1 of class k is the harmonic mean of its precision (of the items predicted k, the share that
are k) and its recall (of the items that are k, the share predicted k): 2·TP / (2·TP + FP + FN).
A class that is never predicted and never true has no F1; it is left out of the macro mean.
"""

import torch
from torch import Tensor


def confusion(truth: Tensor, predicted: Tensor, classes: int) -> Tensor:
    """(classes, classes) counts: row = true class, column = predicted class."""
    index = truth.long() * classes + predicted.long()
    return torch.bincount(index, minlength=classes * classes).view(classes, classes)


def f1_scores(truth: Tensor, predicted: Tensor, classes: int) -> list[float | None]:
    """F1 of every class (``None`` for a class neither true nor predicted)."""
    counts = confusion(truth, predicted, classes)
    scores = []
    for k in range(classes):
        tp = counts[k, k].item()
        fp, fn = counts[:, k].sum().item() - tp, counts[k].sum().item() - tp
        scores.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None)
    return scores


def macro_f1(truth: Tensor, predicted: Tensor, classes: int) -> float:
    """The unweighted mean of the classes' F1: a rare class counts as much as a common one."""
    scores = [s for s in f1_scores(truth, predicted, classes) if s is not None]
    return sum(scores) / len(scores)


def binary_f1(truth: Tensor, predicted: Tensor) -> float:
    """F1 of the positive class of two (True = positive), 0 when there is nothing to find."""
    return f1_scores(truth.long(), predicted.long(), 2)[1] or 0.0
