"""Small generated scenes and the captions that describe them.

A scene is a 24×24 RGB image of one or two shapes, each a colour–shape *pairing* (a red circle,
a blue square: 4 colours × 3 shapes = 12 pairings); two shapes stand side by side or one above
the other, the first named on the left or top:

    ┌────────────────────────┐
    │    ●           ▲       │    "a red circle left of a blue triangle"
    │                        │
    └────────────────────────┘

Positions, sizes, brightness and pixel noise are drawn at random, so no two scenes are alike;
two shapes side by side stand at about the same height, two above each other in about the same
column, so that one relation, and only one, describes them.

Held out (``Holdout``), two ways:

- ``combinations`` (the default): a fifth of the 132 ordered two-object combinations (first
  pairing, second pairing) never appear in training; every pairing still does, as first and as
  second object. The held-out scenes' captions never occur in training.
- ``pairings`` (the experiment): three pairings (``HELD_OUT_PAIRINGS``) never appear in
  training at all, in any scene; every colour and every shape still does. The held-out scenes
  hold at least one of them.
"""

import itertools
from dataclasses import dataclass

import numpy as np

SIZE = 24  # the images are SIZE × SIZE pixels, 3 channels
COLOURS = {
    "red": (0.9, 0.12, 0.1),
    "green": (0.15, 0.75, 0.2),
    "blue": (0.15, 0.3, 0.95),
    "yellow": (0.95, 0.85, 0.1),
}
SHAPES = ("circle", "square", "triangle")
PAIRINGS = tuple(itertools.product(COLOURS, SHAPES))  # (colour, shape): 12
COMBINATIONS = tuple(itertools.permutations(PAIRINGS, 2))  # ordered, two different: 132
RELATIONS = ("left of", "above")  # first object left of / above the second
HELD_OUT_SHARE = 0.2  # of COMBINATIONS, with --holdout combinations
HELD_OUT_PAIRINGS = (("red", "triangle"), ("green", "circle"), ("blue", "square"))
SINGLE_SHARE = 0.2  # of the training scenes show one object
DATA_SEED = 12  # draws the held-out combinations and the held-out scenes

WORDS = ("<pad>", "<sos>", "<eos>", "a", *COLOURS, *SHAPES, "left", "of", "above")
PAD, SOS, EOS = 0, 1, 2
MAX_WORDS = 8  # "a red circle left of a blue square"


@dataclass(frozen=True)
class Scene:
    objects: tuple[tuple[str, str], ...]  # one or two (colour, shape) pairings, first first
    relation: str | None  # one of RELATIONS, or None for a single object

    def caption(self) -> str:
        described = [f"a {colour} {shape}" for colour, shape in self.objects]
        return described[0] if self.relation is None else f" {self.relation} ".join(described)


def caption_ids(caption: str) -> list[int]:
    """The caption's word ids, then EOS, padded to MAX_WORDS + 1."""
    ids = [WORDS.index(w) for w in caption.split()] + [EOS]
    return ids + [PAD] * (MAX_WORDS + 1 - len(ids))


def caption_of(ids: list[int]) -> str:
    """The words of decoded ids up to the first EOS."""
    words = []
    for i in ids:
        if i == EOS:
            break
        words.append(WORDS[i])
    return " ".join(words)


@dataclass(frozen=True)
class Holdout:
    """What training never shows, and what the held-out scenes are made of."""

    train: tuple[Scene, ...]  # the scene kinds (pairings and relation) training draws from
    held_out: tuple[Scene, ...]  # the scene kinds of the held-out scenes

    @classmethod
    def of(cls, mode: str) -> "Holdout":
        """``mode``: "combinations" or "pairings" (see the module's docstring)."""
        singles = [Scene((p,), None) for p in PAIRINGS]
        pairs = [Scene(c, r) for c in COMBINATIONS for r in RELATIONS]
        if mode == "pairings":

            def unseen(scene: Scene) -> bool:
                return any(p in HELD_OUT_PAIRINGS for p in scene.objects)

        else:
            kept_out = held_out_combinations()

            def unseen(scene: Scene) -> bool:
                return scene.objects in kept_out

        kinds = singles + pairs
        return cls(tuple(s for s in kinds if not unseen(s)), tuple(s for s in kinds if unseen(s)))


def held_out_combinations() -> set[tuple]:
    """A fifth of COMBINATIONS, drawn from DATA_SEED so that every pairing stays in the
    training combinations both as first and as second object."""
    rng = np.random.default_rng(DATA_SEED)
    count = round(HELD_OUT_SHARE * len(COMBINATIONS))
    while True:
        drawn = {COMBINATIONS[i] for i in rng.choice(len(COMBINATIONS), count, replace=False)}
        kept = [c for c in COMBINATIONS if c not in drawn]
        if all({c[k] for c in kept} == set(PAIRINGS) for k in (0, 1)):
            return drawn


def draw_scenes(rng: np.random.Generator, kinds: tuple[Scene, ...], n: int) -> list[Scene]:
    """``n`` scenes of ``kinds``: a single object with probability SINGLE_SHARE (where kinds
    has any), else two objects, each kind of its group equally likely."""
    singles = [s for s in kinds if s.relation is None]
    pairs = [s for s in kinds if s.relation is not None]
    group = [singles if singles and rng.random() < SINGLE_SHARE else pairs for _ in range(n)]
    return [g[int(rng.integers(len(g)))] for g in group]


def render(rng: np.random.Generator, scene: Scene) -> np.ndarray:
    """The scene as an image (3, SIZE, SIZE), values about in [0, 1]: shapes at random places,
    sizes and brightness, over a noisy dark background. Two shapes stand each in its own half,
    at about the same height (side by side) or the same column (one above the other), so that
    only one relation describes them."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    image = np.full((3, SIZE, SIZE), 0.1)
    line = rng.uniform(6.5, SIZE - 6.5)  # the row (or column) both shapes stand on
    for k, (colour, shape) in enumerate(scene.objects):
        r = rng.uniform(3.5, 5.0)  # half the shape's width: big enough that corners show
        across, along = line + rng.uniform(-1.5, 1.5), rng.uniform(5.0, 7.0)
        if scene.relation is None:
            cx, cy = rng.uniform(5.0, SIZE - 5.0, size=2)
        else:
            side = along if k == 0 else SIZE - along  # first object: left, or top
            cx, cy = (side, across) if scene.relation == "left of" else (across, side)
        dx, dy = xx - cx, yy - cy
        if shape == "circle":
            inside = dx**2 + dy**2 <= r**2
        elif shape == "square":
            inside = np.maximum(abs(dx), abs(dy)) <= 0.9 * r
        else:  # a triangle, point up: wider further down
            inside = (abs(dy) <= r) & (abs(dx) <= (dy + r) / 2)
        brightness = rng.uniform(0.75, 1.0)
        for channel, value in enumerate(COLOURS[colour]):
            image[channel][inside] = brightness * value
    return (image + rng.normal(0, 0.04, image.shape)).astype(np.float32)


def images(rng: np.random.Generator, scenes: list[Scene]) -> np.ndarray:
    """(N, 3, SIZE, SIZE) renderings of ``scenes``."""
    return np.stack([render(rng, s) for s in scenes])
