"""The pattern demos' data: what is held out really is (whole plays, unseen combinations and
pairings, other dates), the labels say what the corpus says, the generators are seeded, and no
date can be read two ways."""

import re
from collections import Counter
from datetime import date

import numpy as np
import pytest
import torch

from tasks.errors import BadInput
from tasks.patterns import plays
from tasks.patterns.many_to_many import data as restore_data
from tasks.patterns.many_to_many.rule import rule
from tasks.patterns.many_to_one.config import PRESETS as KIND_PRESETS
from tasks.patterns.many_to_one.data import classes, examples
from tasks.patterns.one_to_many import scenes
from tasks.patterns.seq2seq import dates

# ---------------------------------------------------------------------------------------------
# plays and speeches (many to one, many to many)


def test_plays_are_held_out_whole_about_one_in_five_of_each_group():
    train, held_out = plays.split(plays.speeches())
    train_plays, held_plays = {s.play for s in train}, {s.play for s in held_out}
    assert held_plays == set(plays.HELD_OUT) and not train_plays & held_plays
    groups = {s.play: s.group for s in plays.speeches()}
    for group in plays.GROUPS:
        in_group = [p for p in groups if groups[p] == group]
        held = [p for p in in_group if p in held_plays]
        assert 1 <= len(held) and 1 / 6 <= len(held) / len(in_group) <= 1 / 4, (group, held)


def test_a_speech_is_what_one_speaker_says_without_the_name():
    first = next(s for s in plays.speeches() if s.play == "macbeth")
    assert first.group == "tragedies"
    assert first.text.startswith("When shall we three meet again")
    assert not any(line.endswith(":") and line.isupper() for line in first.text.split("\n"))


def test_the_three_kinds_merge_the_six_groups_as_stated():
    cfg = KIND_PRESETS["smoke"]
    train, held_out = examples(cfg)
    assert classes(cfg) == ("comedy", "history", "tragedy")
    kind_of_play = {}
    for ex in (train, held_out):
        for play, label in zip(ex.plays, ex.labels.tolist(), strict=True):
            kind_of_play[play] = classes(cfg)[label]
    expected = {"the-tempest": "comedy", "julius-caesar": "tragedy", "henry-v": "history"}
    expected |= {"measure-for-measure": "comedy", "macbeth": "tragedy"}
    assert {p: kind_of_play[p] for p in expected if p in kind_of_play} == {
        p: k for p, k in expected.items() if p in kind_of_play
    }
    assert all(len(t) <= cfg.max_chars for t in train.texts)


def test_a_split_left_empty_is_bad_input():
    from dataclasses import replace

    with pytest.raises(BadInput, match="the training split is empty"):
        examples(replace(KIND_PRESETS["smoke"], min_chars=10**6))


# ---------------------------------------------------------------------------------------------
# case and punctuation (many to many)


def test_tagging_takes_case_and_marks_out_and_restore_puts_them_back():
    lines = ["'Tis New-bent in heaven; shall behold--the night?", "", "O, Romeo, Romeo!"]
    t = restore_data.tag(lines)
    assert t.text == "'tis new-bent in heaven shall behold the night\n\no romeo romeo\n"
    assert restore_data.restore(t.text, t.upper, t.mark) == (
        "'Tis New-bent in heaven; shall behold the night?\n\nO, Romeo, Romeo!\n"
    )  # the dashes are gone: they are no mark the tagger restores
    assert [t.text[i] for i in np.flatnonzero(t.line_first)] == ["t", "o"]
    assert set(t.text) <= set(restore_data.ALPHABET)


def test_windows_score_every_character_once_with_its_whole_line():
    lines = [f"Line {k} says{',' * (k % 2)} this and that" for k in range(40)]
    t = restore_data.tag(lines)
    w = restore_data.windows(t, seq_len=60)
    letters = sum(ch.isalpha() for ch in t.text)
    assert int(w.case_mask.sum()) == letters  # each letter scored in exactly one window
    assert int(w.mark_mask.sum()) == int(t.word_end.sum())
    newline = restore_data.ALPHABET.index("\n")
    for k in range(len(w)):
        scored = w.case_mask[k].nonzero().flatten()
        assert w.ids[k, 0] != newline and w.line_first[k, 0]  # a window begins at a line's start
        end = int(scored.max()) + 1
        assert w.ids[k, end] == newline  # and its scored part ends with a whole line


def test_a_window_shorter_than_a_line_is_bad_input():
    with pytest.raises(BadInput, match="a window must hold the longest line"):
        restore_data.windows(restore_data.tag(["a line of some length here"]), seq_len=10)


def test_the_rule_capitalises_line_starts_and_the_word_i_only():
    t = restore_data.tag(["I think it is in my mind, and I", "know it"])
    w = restore_data.windows(t, seq_len=40)
    upper, marks = rule(w)
    shown = restore_data.restore(
        t.text, upper[0, : len(t.text)].numpy(), marks[0, : len(t.text)].numpy()
    )
    assert shown == "I think it is in my mind and I\nKnow it\n"


# ---------------------------------------------------------------------------------------------
# scenes and captions (one to many)


def test_no_held_out_combination_occurs_in_training_and_every_pairing_does():
    holdout = scenes.Holdout.of("combinations")
    train = {s.caption() for s in holdout.train}
    held = {s.caption() for s in holdout.held_out}
    assert not train & held
    assert {s.objects for s in holdout.held_out} == scenes.held_out_combinations()
    assert len(scenes.held_out_combinations()) == round(len(scenes.COMBINATIONS) / 5)
    two = [s for s in holdout.train if s.relation]
    for k in (0, 1):  # every pairing, as the first object and as the second
        assert {s.objects[k] for s in two} == set(scenes.PAIRINGS)


def test_held_out_pairings_never_occur_in_training_but_their_colours_and_shapes_do():
    holdout = scenes.Holdout.of("pairings")
    seen = {p for s in holdout.train for p in s.objects}
    assert not seen & set(scenes.HELD_OUT_PAIRINGS)
    assert {c for c, _ in seen} == set(scenes.COLOURS) and {s for _, s in seen} == set(
        scenes.SHAPES
    )
    assert all(set(s.objects) & set(scenes.HELD_OUT_PAIRINGS) for s in holdout.held_out)


def test_scenes_are_seeded_and_drawn_where_their_caption_says():
    kinds = scenes.Holdout.of("combinations").train
    a, b = (scenes.draw_scenes(np.random.default_rng(3), kinds, 20) for _ in range(2))
    assert a == b
    for seed in range(20):
        for relation, (first, second) in (("left of", (1, 0)), ("above", (0, 1))):
            one = scenes.Scene((("red", "circle"), ("blue", "square")), relation)
            image = scenes.render(np.random.default_rng(seed), one)
            red = np.argwhere((image[0] > 0.5) & (image[2] < 0.3)).mean(0)  # (row, column)
            blue = np.argwhere((image[2] > 0.5) & (image[0] < 0.3)).mean(0)
            assert red[first] + 5 < blue[first]  # red left of (or above) blue, clearly
            assert abs(red[second] - blue[second]) < 3.5  # and not also above (or left of) it
    assert np.array_equal(image, scenes.render(np.random.default_rng(19), one))


def test_caption_ids_round_trip_with_the_end_and_padding():
    caption = "a red circle above a blue square"
    ids = scenes.caption_ids(caption)
    assert len(ids) == scenes.MAX_WORDS + 1 and ids[7] == scenes.EOS and ids[8] == scenes.PAD
    assert scenes.caption_of(ids) == caption


# ---------------------------------------------------------------------------------------------
# dates (seq2seq)

_FIELDS = {
    "d": r"(?P<d>\d{1,2})",
    "dd": r"(?P<d>\d{2})",
    "th": "(?:st|nd|rd|th)",
    "m": r"(?P<m>\d{1,2})",
    "mm": r"(?P<m>\d{2})",
    "M": f"(?P<M>{'|'.join(dates.MONTHS)})",
    "Mon": f"(?P<Mon>{'|'.join(dates.MONTHS_ABBR)})",
    "W": f"(?P<W>{'|'.join(dates.DAYS)})",
    "Wd": f"(?P<Wd>{'|'.join(dates.DAYS_ABBR)})",
    "yyyy": r"(?P<y>\d{4})",
    "yy": r"(?P<yy>\d{2})",
}


def readings(text: str) -> set[str]:
    """Every ISO date that some format can read ``text`` as: written independently of
    dates.write, from the formats' fields, with the weekday checked."""
    found = set()
    for fmt in dates.FORMATS:
        pattern = "".join(
            _FIELDS[part[1:-1]] if part.startswith("{") else re.escape(part)
            for part in re.split(r"(\{\w+\})", fmt)
        )
        match = re.fullmatch(pattern, text.lower())
        if not match:
            continue
        g = match.groupdict()
        month = (
            int(g["m"])
            if g.get("m")
            else 1 + (dates.MONTHS + dates.MONTHS_ABBR).index(g.get("M") or g["Mon"]) % 12
        )
        year = int(g["y"]) if g.get("y") else dates.read_two_digit_year(int(g["yy"]))
        try:
            day = date(year, month, int(g["d"]))
        except ValueError:
            continue
        weekday = g.get("W") or g.get("Wd")
        if weekday and (dates.DAYS + dates.DAYS_ABBR).index(weekday) % 7 != day.weekday():
            continue
        found.add(day.isoformat())
    return found


def test_every_date_written_reads_one_way_only():
    splits = dates.make_splits(600, 300)
    for pair in [p for split in splits.values() for p in split]:
        assert readings(pair.text) == {pair.iso}, pair


def test_two_digit_years_stay_in_the_window_and_other_years_only_come_with_four_digits():
    splits = dates.make_splits(600, 300)
    for pair in splits["train"] + splits["in_range"]:
        assert dates.WINDOW[0] <= int(pair.iso[:4]) <= dates.WINDOW[1]
    for pair in splits["outside"]:
        year = int(pair.iso[:4])
        assert not dates.WINDOW[0] <= year <= dates.WINDOW[1] and pair.fmt in dates.FOUR_DIGIT
    assert [dates.read_two_digit_year(yy) for yy in (50, 99, 0, 49)] == [1950, 1999, 2000, 2049]


def test_dates_are_seeded_and_held_out_dates_never_train():
    small, large = dates.make_splits(200, 500), dates.make_splits(2000, 500)
    assert small["train"] == large["train"][:200]  # one stream: a larger set extends a smaller
    assert small["in_range"] == large["in_range"]
    assert not {p.iso for p in large["train"]} & {p.iso for p in large["in_range"]}
    assert len(large["in_range"]) == len(large["outside"]) == 500
    assert set(Counter(p.fmt for p in large["train"])) == set(dates.FORMATS)


def test_writing_dates_in_words_and_cases():
    day = date(2026, 11, 26)
    assert dates.write(day, "{W} {d} {M} {yyyy}", "lower") == "thursday 26 november 2026"
    assert dates.write(day, "{Mon} {d}{th}, {yyyy}", "title") == "Nov 26th, 2026"
    assert dates.write(day, "the {d}{th} of {M} {yyyy}", "upper") == "THE 26TH OF NOVEMBER 2026"
    assert [dates.ordinal(d) for d in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31)] == [
        "st",
        "nd",
        "rd",
        "th",
        "th",
        "th",
        "th",
        "st",
        "nd",
        "rd",
        "st",
    ]
    assert (
        dates.decode_output(torch.tensor(dates.encode_output("2026-11-26")).tolist())
        == "2026-11-26"
    )
