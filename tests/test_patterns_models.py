"""The pattern demos' models: shapes, each sequence's own final state (both halves of a
bidirectional h_n), padding that changes nothing (not the packed layers, not attention, not the
loss), what a unidirectional tagger can and cannot see, teacher-forcing coins and batches."""

from dataclasses import replace

import pytest
import torch
from torch.nn.utils.rnn import pad_packed_sequence

from tasks.errors import BadInput
from tasks.impl import layer_class
from tasks.patterns.batches import Batches, coins
from tasks.patterns.decoder import Decoder
from tasks.patterns.many_to_many.config import PRESETS as RESTORE_PRESETS
from tasks.patterns.many_to_many.model import Tagger
from tasks.patterns.many_to_one.config import PRESETS as KIND_PRESETS
from tasks.patterns.many_to_one.model import SpeechClassifier
from tasks.patterns.one_to_many import scenes
from tasks.patterns.one_to_many.config import PRESETS as CAPTION_PRESETS
from tasks.patterns.one_to_many.model import Captioner
from tasks.patterns.seq2seq import dates
from tasks.patterns.seq2seq.config import PRESETS as DATE_PRESETS
from tasks.patterns.seq2seq.model import DateTranslator
from tasks.patterns.sequences import final_state, masked_cross_entropy, pack, pad

IMPLS = ("scratch", "reference")
LENGTHS = torch.tensor([3, 6, 1, 4])  # unsorted, as pack(enforce_sorted=False) takes them


def padded_ids(vocab: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Random ids (4, 6) with LENGTHS, and the same with every padded position changed."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, vocab, (len(LENGTHS), int(LENGTHS.max())), generator=g)
    real = torch.arange(ids.shape[1])[None] < LENGTHS[:, None]
    other = torch.where(real, ids, torch.randint(1, vocab, ids.shape, generator=g))
    assert not torch.equal(ids, other)
    return ids.masked_fill(~real, 0), other


# ---------------------------------------------------------------------------------------------
# reading h_n


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_bidirectional_h_n_halves_are_each_sequences_own_last_states(impl, cell, num_layers):
    torch.manual_seed(0)
    H = 5
    layer = layer_class(impl, cell)(
        3, H, num_layers=num_layers, batch_first=True, bidirectional=True
    )
    x = torch.randn(len(LENGTHS), int(LENGTHS.max()), 3)
    out, h_n = layer(pack(x, LENGTHS))
    out, _ = pad_packed_sequence(out, batch_first=True)  # (N, L, 2H), zeros at padding
    read = final_state(h_n, bidirectional=True)  # (N, 2H)
    for row, length in enumerate(LENGTHS.tolist()):
        forward_last = out[row, length - 1, :H]  # the forward direction after the last step
        reverse_last = out[row, 0, H:]  # the reverse direction after reading back to step 0
        torch.testing.assert_close(read[row], torch.cat([forward_last, reverse_last]))
    wrong = out[:, -1]  # the classic mistake: padding for the short rows, and for the longest
    longest = int(LENGTHS.argmax())  # a reverse half that has read one character only
    assert not torch.allclose(wrong[longest], read[longest])
    assert torch.count_nonzero(wrong[int(LENGTHS.argmin())]) == 0


def test_unidirectional_final_state_is_the_top_layers_h_n():
    h_n = torch.randn(3, 2, 4)  # 3 layers
    assert torch.equal(final_state(h_n, bidirectional=False), h_n[-1])
    assert torch.equal(final_state((h_n, torch.zeros_like(h_n)), bidirectional=False), h_n[-1])


# ---------------------------------------------------------------------------------------------
# padding changes nothing


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_a_speechs_class_scores_ignore_its_padding(impl, bidirectional):
    cfg = replace(KIND_PRESETS["smoke"], impl=impl, bidirectional=bidirectional)
    torch.manual_seed(0)
    model = SpeechClassifier(cfg, vocab_size=12, classes=3)
    ids, other = padded_ids(12)
    scores = model(ids, LENGTHS)
    assert scores.shape == (4, 3)
    torch.testing.assert_close(model(other, LENGTHS), scores, rtol=0, atol=0)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("attention", [True, False])
def test_a_dates_translation_ignores_its_padding_which_gets_no_attention(impl, attention):
    cfg = replace(DATE_PRESETS["smoke"], impl=impl, attention=attention)
    torch.manual_seed(0)
    model = DateTranslator(cfg).eval()
    ids, other = padded_ids(1 + len(dates.INPUT_CHARS))
    logits, alpha = model(ids, LENGTHS)
    assert logits.shape == (4, dates.ISO_LENGTH + 1, 3 + len(dates.OUTPUT_CHARS))
    logits_other, alpha_other = model(other, LENGTHS)
    torch.testing.assert_close(logits_other, logits, rtol=0, atol=0)
    if attention:
        assert alpha.shape == (4, dates.ISO_LENGTH + 1, int(LENGTHS.max()))
        padding = torch.arange(alpha.shape[2])[None, None] >= LENGTHS[:, None, None]
        assert torch.all(alpha.masked_select(padding) == 0)
        torch.testing.assert_close(alpha.sum(2), torch.ones(4, dates.ISO_LENGTH + 1))
        torch.testing.assert_close(alpha_other, alpha, rtol=0, atol=0)
    else:
        assert alpha is None


def test_the_masked_loss_never_reads_masked_targets():
    torch.manual_seed(0)
    logits = torch.randn(3, 5, 7)
    targets = torch.randint(0, 7, (3, 5))
    mask = torch.rand(3, 5) < 0.6
    changed = torch.where(mask, targets, (targets + 1) % 7)
    expected = (
        torch.stack(
            [torch.log_softmax(logits[i, t], 0)[targets[i, t]] for i, t in mask.nonzero().tolist()]
        )
        .mean()
        .neg()
    )
    torch.testing.assert_close(masked_cross_entropy(logits, targets, mask), expected)
    torch.testing.assert_close(masked_cross_entropy(logits, changed, mask), expected)


def test_pad_keeps_lengths_and_fills_the_rest():
    ids, lengths = pad([torch.tensor([4, 5]), torch.tensor([6]), torch.tensor([7, 8, 9])])
    assert ids.tolist() == [[4, 5, 0], [6, 0, 0], [7, 8, 9]] and lengths.tolist() == [2, 1, 3]


# ---------------------------------------------------------------------------------------------
# decoding and teacher forcing


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_teacher_forcing_feeds_true_tokens_where_the_coins_say(impl, cell):
    torch.manual_seed(0)
    decoder = Decoder(impl, cell, vocab_size=9, embed_size=4, hidden_size=6)
    h_0 = torch.randn(2, 6)
    targets = torch.randint(3, 9, (2, 5))
    forced = torch.ones(2, 5, dtype=torch.bool)
    logits, _ = decoder(h_0, 1, 5, targets, forced)
    assert logits.shape == (2, 5, 9)
    later = targets.clone()
    later[:, 2:] = (later[:, 2:] + 1) % 9  # with every coin True, step t reads targets[:, :t] only
    torch.testing.assert_close(decoder(h_0, 1, 5, later, forced)[0][:, :3], logits[:, :3])
    assert not torch.allclose(decoder(h_0, 1, 5, later, forced)[0][:, 3:], logits[:, 3:])
    free = torch.zeros(2, 5, dtype=torch.bool)  # every coin False: the targets are never read
    torch.testing.assert_close(decoder(h_0, 1, 5, targets, free)[0], decoder(h_0, 1, 5)[0])


def test_coins_are_drawn_per_sequence_and_step_from_seed_and_step():
    a = coins(0, 7, (64, 9), 0.5)
    assert a.shape == (64, 9) and a.dtype == torch.bool
    assert torch.equal(a, coins(0, 7, (64, 9), 0.5)) and not torch.equal(
        a, coins(0, 8, (64, 9), 0.5)
    )
    assert 0.4 < a.double().mean() < 0.6
    rows = a.all(dim=1) | ~a.any(dim=1)
    assert not rows.all()  # not one coin per sequence: sequences mix true and own tokens
    assert coins(0, 7, (4, 3), 0.0).sum() == 0 and coins(0, 7, (4, 3), 1.0).all()
    whole = coins(0, 7, (64, 9), 0.5, unit="sequence")  # the alternative: one coin a sequence
    assert (whole.all(dim=1) | ~whole.any(dim=1)).all() and 0 < whole.sum() < whole.numel()


def test_batches_cover_each_epoch_once_and_are_a_function_of_the_step():
    batches = Batches(10, 3, seed=5)
    epoch = torch.cat([batches(k) for k in range(batches.per_epoch)])
    assert sorted(epoch.tolist()) == list(range(10))
    assert torch.equal(batches(5), Batches(10, 3, seed=5)(5))
    with pytest.raises(BadInput, match="the training split is empty"):
        Batches(0, 3, seed=0)


# ---------------------------------------------------------------------------------------------
# the captioner and the tagger


@pytest.mark.parametrize("impl", IMPLS)
def test_the_captioner_writes_from_one_image_vector(impl):
    torch.manual_seed(0)
    model = Captioner(replace(CAPTION_PRESETS["smoke"], impl=impl))
    images = torch.randn(3, 3, scenes.SIZE, scenes.SIZE)
    assert model(images).shape == (3, scenes.MAX_WORDS + 1, len(scenes.WORDS))


@pytest.mark.parametrize("impl", IMPLS)
def test_a_unidirectional_tagger_cannot_see_what_follows_and_a_bidirectional_one_can(impl):
    ids = torch.randint(0, 29, (2, 12), generator=torch.Generator().manual_seed(0))
    later = ids.clone()
    later[:, 6:] = (later[:, 6:] + 1) % 29
    for bidirectional in (False, True):
        torch.manual_seed(0)
        cfg = replace(RESTORE_PRESETS["smoke"], impl=impl, bidirectional=bidirectional)
        model = Tagger(cfg)
        case, mark = model(ids)
        assert case.shape == (2, 12, 2) and mark.shape == (2, 12, 7)
        sees_ahead = not torch.allclose(model(later)[0][:, :6], case[:, :6])
        assert sees_ahead == bidirectional


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_the_unidirectional_preset_has_the_bidirectional_ones_parameters_within_1_percent(cell):
    def count(cfg):
        return sum(p.numel() for p in Tagger(replace(cfg, cell=cell)).parameters())

    one_way, two_ways = count(RESTORE_PRESETS["unidirectional"]), count(RESTORE_PRESETS["default"])
    assert abs(one_way - two_ways) <= 0.01 * two_ways
