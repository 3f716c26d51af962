"""The text task: corpus, vocabulary, truncated-BPTT batching, resume, sampling, CLI errors,
and scratch against reference from one seed."""

import json
import math
import signal
from dataclasses import replace

import pytest
import torch

from compare.tasks_check import check_task
from tasks import checkpoint
from tasks.impl import IMPLS
from tasks.text import PRESETS, main, smoke_losses
from tasks.text.config import smoke_config
from tasks.text.corpus import play_text, shakespeare
from tasks.text.data import Vocab, num_windows, to_streams, window
from tasks.text.train import CharTask, prepare

ALPHABET = "abcdefghijklmnopqrstuvwxyz"


def test_play_markdown_becomes_plain_text():
    markdown = (
        "# Macbeth\n\n## ACT I\n\n### SCENE II. A camp near Forres.\n\n"
        "_Alarum within. Enter DUNCAN,\nmeeting a bleeding Sergeant_\n\n"
        "**DUNCAN**  \nWhat bloody man is that?  \n__\\[Aside]_  \nHe can report\\--\n\n"
        "*Sound a horn.*\n\n"
        "**Sergeant**  \n_\\[To DUNCAN]_ Doubtful it stood;\n"
    )
    assert play_text(markdown) == (
        "DUNCAN:\nWhat bloody man is that?\nHe can report--\n\nSergeant:\nDoubtful it stood;\n"
    )


def test_shakespeare_split_holds_out_the_last_tenth_of_every_play():
    train, held_out = shakespeare()
    assert len(held_out) / (len(train) + len(held_out)) == pytest.approx(0.1, abs=1e-3)
    first_line, last_line = (
        "When shall we three meet again",
        "Whom we invite to see us crown'd at Scone.",
    )
    assert first_line in train and first_line not in held_out  # Macbeth's opening ...
    assert last_line in held_out and last_line not in train  # ... and its end
    assert "ROMEO:\n" in train and "ROMEO:\n" in held_out
    assert not set("*_#\\[]") & set(train + held_out)  # no markdown left


def test_vocab_round_trip_and_unknown_characters():
    text = "To be, or not to be: that is the question.\n"
    vocab = Vocab.of(text)
    assert vocab.chars == "".join(sorted(set(text)))
    assert vocab.decode(vocab.encode(text)) == text
    assert vocab.known("Tobe?!") == "Tobe"
    with pytest.raises(ValueError, match=r"'!\?'"):
        vocab.encode("be?!")


def test_streams_and_windows_match_the_picture_in_data_py():
    vocab = Vocab.of(ALPHABET)
    streams = to_streams(vocab.encode(ALPHABET), 3)
    assert [vocab.decode(row) for row in streams] == ["abcdefgh", "ijklmnop", "qrstuvwx"]
    assert num_windows(streams, 3) == 2
    x, y = window(streams, 1, 3)
    assert [vocab.decode(row) for row in x] == ["dlt", "emu", "fnv"]  # (T, B)
    assert [vocab.decode(row) for row in y] == ["emu", "fnv", "gow"]


def test_hidden_state_is_carried_detached_and_reset_at_wrap():
    cfg = replace(PRESETS["smoke"], batch_size=2, seq_len=5)
    text = ALPHABET + ALPHABET.upper() + "\n"
    task = CharTask(cfg, Vocab.of(text), text, text)  # streams a..z and A..Z: 5 windows each
    assert num_windows(task.train_streams, 5) == 5
    torch.testing.assert_close(task.loss(0), _loss_from_start(task, 1)[0])  # from zeros
    assert all(not s.requires_grad for s in task.state)  # detached: BPTT stops at the edge
    torch.testing.assert_close(task.loss(1), _loss_from_start(task, 2)[1])  # state carried
    for step in (2, 3, 4):
        task.loss(step)
    torch.testing.assert_close(task.loss(5), _loss_from_start(task, 1)[0])  # wrapped: zeros again


def _loss_from_start(task: CharTask, windows: int) -> torch.Tensor:
    """Losses of the first ``windows`` windows read in one forward pass, without cutting."""
    x, y = window(task.train_streams, 0, task.seq_len * windows)
    logits, _ = task.model(x)  # (windows * T, B, V)
    losses = torch.nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none")
    return losses.view(windows, -1).mean(1)  # (windows,)


def test_ctrl_c_then_resume_reproduces_an_uninterrupted_run(tmp_path, monkeypatch):
    smoke = ["train", "--smoke", "--num-layers", "2", "--dropout", "0.5", "--no-progress"]
    smoke += ["--steps", "6", "--checkpoint-every", "100"]  # dropout: the RNG state matters
    assert main([*smoke, "--out", str(tmp_path / "whole")]) == 0

    def ctrl_c_during_step_2(task, step, loss=CharTask.loss):
        if step == 2:
            signal.raise_signal(signal.SIGINT)
        return loss(task, step)

    monkeypatch.setattr(CharTask, "loss", ctrl_c_during_step_2)
    assert main([*smoke, "--out", str(tmp_path / "cut")]) == 130  # stopped, checkpoint written
    monkeypatch.undo()
    assert checkpoint.load(tmp_path / "cut" / "checkpoint.pt")["step"] == 3
    assert main(["train", "--out", str(tmp_path / "cut"), "--resume", "--no-progress"]) == 0

    whole, cut = (checkpoint.load(tmp_path / run / "checkpoint.pt") for run in ("whole", "cut"))
    assert len(cut["history"]["records"]) == 6
    assert cut["history"]["records"] == whole["history"]["records"]  # the same bits
    assert cut["history"]["evals"] == whole["history"]["evals"]
    final = json.loads((tmp_path / "cut" / "summary.json").read_text())["held_out"]
    assert final["bpc"] == pytest.approx(final["loss"] / math.log(2))
    assert (tmp_path / "cut" / "loss.png").is_file()


def test_resume_refuses_to_change_the_model(tmp_path, capsys):
    assert main(["train", "--smoke", "--no-progress", "--out", str(tmp_path)]) == 0
    with pytest.raises(SystemExit):
        main(["train", "--out", str(tmp_path), "--resume", "--hidden-size", "64"])
    assert "cannot change --hidden-size" in capsys.readouterr().err


def test_sampling_is_deterministic_for_a_seed(tmp_path, capsys):
    assert main(["train", "--smoke", "--no-progress", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    sample = ["sample", "--checkpoint", str(tmp_path / "checkpoint.pt"), "--length", "200"]
    texts = []
    for seed in ("1", "1", "2"):
        assert main([*sample, "--prime", "ROMEO:", "--top-k", "10", "--seed", seed]) == 0
        texts.append(capsys.readouterr().out)
    assert texts[0] == texts[1] != texts[2]
    assert texts[0].startswith("ROMEO:") and len(texts[0]) == len("ROMEO:") + 200 + 1


def test_missing_and_empty_text_files_are_clear_errors(tmp_path, capsys):
    missing, empty = tmp_path / "missing.txt", tmp_path / "empty.txt"
    empty.write_text("")
    for path, message in ((missing, "no such file"), (empty, "the file is empty")):
        with pytest.raises(SystemExit) as exit:
            main(["train", "--smoke", "--text", str(path), "--out", str(tmp_path / "run")])
        assert exit.value.code == 2
        assert f"--text {path}: {message}" in capsys.readouterr().err


def test_prime_outside_the_checkpoints_vocabulary_is_a_clear_error(tmp_path, capsys):
    text = tmp_path / "abc.txt"
    text.write_text("abc cab bca\n" * 200)
    args = ["train", "--smoke", "--no-progress", "--text", str(text), "--out", str(tmp_path / "r")]
    assert main(args) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["sample", "--checkpoint", str(tmp_path / "r" / "checkpoint.pt"), "--prime", "ROMEO:"])
    assert (
        "characters not in the vocabulary of the training text: ':EMOR'" in capsys.readouterr().err
    )


def test_smoke_losses_write_no_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    losses = smoke_losses("reference", steps=5, seed=1)
    assert len(losses) == 5 and all(loss > 0 for loss in losses)
    assert list(tmp_path.iterdir()) == []


# scratch against reference: the same seed must give the same weights and the same training


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_scratch_and_reference_start_equal_and_train_alike(cell):
    scratch, reference = (prepare(smoke_config(impl, 50, 0, cell)).task for impl in IMPLS)
    torch.testing.assert_close(
        scratch.model.state_dict(), reference.model.state_dict(), rtol=0, atol=0
    )
    result = check_task("text", steps=50, seed=0, cell=cell)  # compare's check, 1e-4 a step
    assert result.passed, result.error or result.max_difference
    assert len(result.losses["scratch"]) == 50


def test_a_checkpoint_samples_the_same_on_either_implementation(tmp_path, capsys):
    assert main(["train", "--smoke", "--no-progress", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    texts = []
    for impl in ("scratch", "reference"):
        args = ["sample", "--checkpoint", str(tmp_path / "checkpoint.pt"), "--impl", impl]
        assert main([*args, "--length", "300", "--temperature", "1.0", "--seed", "3"]) == 0
        texts.append(capsys.readouterr().out)
    assert texts[0] == texts[1]
