"""The exercises' checker: our solutions pass, and each seeded mistake (a wrong sign, a dropped
term, a transposed weight, the wrong time step, a missing mask, ...) is caught and blamed on the
equation it breaks. A mistake is a one-line edit of our own solution's source."""

import subprocess
import sys

import pytest

from learn.__main__ import main
from learn.check import report
from learn.exercises import CHAPTERS, EXERCISES

# exercise -> [(what the learner got wrong, text of our solution, its wrong version, the label)]
MISTAKES = {
    "elman_step": [
        ("transposed weight", "h_prev @ W_hh.T", "h_prev @ W_hh", "E1"),
        ("dropped term", "x_proj + h_prev @ W_hh.T", "h_prev @ W_hh.T", "E1"),
        ("wrong nonlinearity", "torch.tanh(a)", "torch.sigmoid(a)", "E2"),
    ],
    "elman_step_backward": [
        ("wrong sign", "(1 - h * h)", "(1 + h * h)", "E2"),
        ("dropped term", "d_h * (1 - h * h)", "d_h", "E2"),
        ("derivative of the input, not the output", "(1 - h * h)", "(1 - h_prev * h_prev)", "E2"),
        ("transposed weight", "d_a @ W_hh  #", "d_a @ W_hh.T  #", "E1"),
        ("transposed share", "d_a.T @ h_prev", "h_prev.T @ d_a", "E1"),
    ],
    "lstm_cell_state": [
        ("dropped term", "f * c_prev + i * g", "i * g", "L6"),
        ("gates swapped", "f * c_prev + i * g", "i * c_prev + f * g", "L6"),
        ("wrong sign", "f * c_prev + i * g", "f * c_prev - i * g", "L6"),
    ],
    "lstm_cell_state_backward": [
        ("dropped term: the carry from step t+1", "d_c = d_c_next + d_m", "d_c = d_m", "L7"),
        ("wrong sign", "(1 - tanh_c * tanh_c)", "(1 + tanh_c * tanh_c)", "L7"),
        ("only one path into c_{t−1}", "d_c_prev = d_c * f", "d_c_prev = d_c_next * f", "L6"),
        ("wrong gate", "d_c_prev = d_c * f", "d_c_prev = d_c * i", "L6"),
        ("wrong factor", "d_f = d_c * c_prev", "d_f = d_c * g", "L6"),
    ],
    "lstm_gates_backward": [
        ("σ' where tanh' belongs", "d_g * (1 - g * g)", "d_g * g * (1 - g)", "L4"),
        ("wrong derivative", "d_f * f * (1 - f)", "d_f * (1 - f * f)", "L3"),
        ("wrong gate", "d_o * o * (1 - o)", "d_o * i * (1 - i)", "L5"),
        ("wrong sign", "d_i * i * (1 - i)", "d_i * i * (i - 1)", "L2"),
        (
            "the o block where the i block belongs",
            "d_i * i * (1 - i),  #",
            "d_o * o * (1 - o),  #",
            "L2",
        ),
    ],
    "gru_d_h_prev": [
        ("dropped term: the direct path", "d_h * z + d_h_proj @ W_hh", "d_h_proj @ W_hh", "G5"),
        ("wrong weight on the direct path", "d_h * z + d_h_proj", "d_h * (1 - z) + d_h_proj", "G5"),
        ("wrong sign", "(h_prev - n)", "(n - h_prev)", "G3"),
        ("wrong derivative", "d_r * r * (1 - r)", "d_r * (1 - r * r)", "G2"),
        ("dropped factor r_t", "d_a_n * r]", "d_a_n]", "G4"),
        (
            "gate blocks out of order",
            "[d_a_r, d_a_z, d_a_n * r]",
            "[d_a_z, d_a_r, d_a_n * r]",
            "G3",
        ),
    ],
    "elman_bptt": [
        ("dropped term: the carry", "d_y[t] + d_carry", "d_y[t]", "B1"),
        ("the wrong way through time", "reversed(range(T))", "range(T)", "B1"),
        ("transposed weight", "d_a[t] @ W_hh  #", "d_a[t] @ W_hh.T  #", "B1"),
        ("wrong time step", "d_a[t].T @ h_prevs[t]", "d_a[t].T @ hs[t]", "E1"),
        ("wrong sign", "(1 - hs[t] * hs[t])", "(1 + hs[t] * hs[t])", "E2"),
    ],
    "scaled_error": [
        ("no floor at 1", ".clamp(min=1)", "", "Q1"),
        ("mean, not max", "(ours - ref).abs().max()", "(ours - ref).abs().mean()", "Q1"),
        ("wrong sign: no absolute value", "(ours - ref).abs().max()", "(ref - ours).max()", "Q1"),
    ],
    "sample_next": [
        (
            "times the temperature",
            "torch.softmax(logits / temperature",
            "torch.softmax(logits * temperature",
            "S1",
        ),
        ("softmax over the rows", "temperature, dim=1)", "temperature, dim=0)", "S1"),
        ("no temperature", "torch.softmax(logits / temperature", "torch.softmax(logits", "S1"),
        ("greedy, not sampled", "ids.clamp(max=logits.shape[1] - 1)", "probs.argmax(dim=1)", "S2"),
        ("off by one", "right=True)[:, 0]", "right=True)[:, 0] + 1", "S2"),
    ],
    "sliding_windows": [
        ("wrong time step: targets one early", "values[window:]", "values[window - 1 :]", "W2"),
        (
            "inputs one step late",
            "values.unfold(0, window, 1)[:count]",
            "values[1:].unfold(0, window, 1)[:count]",
            "W1",
        ),
        (
            "one example too many",
            "count = len(values) - window - horizon + 1",
            "count = len(values) - window - horizon + 2",
            "W1",
        ),
    ],
    "decoder_step": [
        (
            "coin ignored: always the true token",
            "torch.where(teacher, y_true, y_guess)",
            "y_true",
            "D1",
        ),
        (
            "coin inverted",
            "torch.where(teacher, y_true, y_guess)",
            "torch.where(teacher, y_guess, y_true)",
            "D1",
        ),
        ("transposed weight", "h_prev @ W_hh.T", "h_prev @ W_hh", "D3"),
        ("dropped term", "x @ W_ih.T + h_prev @ W_hh.T + b", "x @ W_ih.T + b", "D3"),
        ("wrong time step: logits from s_{t−1}", "h @ W_out.T", "h_prev @ W_out.T", "D4"),
    ],
    "attention": [
        ("missing mask", 'e.masked_fill(~mask, float("-inf"))', "e", "A2"),
        ("softmax over the rows", 'float("-inf")), dim=1)', 'float("-inf")), dim=0)', "A2"),
        ("transposed weight", "query @ W_s.T", "query @ W_s", "A1"),
        (
            "dropped tanh",
            "torch.tanh(keys + (query @ W_s.T)[:, None])",
            "(keys + (query @ W_s.T)[:, None])",
            "A1",
        ),
        (
            "scores, not weights, in the context",
            "(alpha[:, :, None] * memory)",
            "(e[:, :, None] * memory)",
            "A3",
        ),
    ],
    "clip_grad_norm": [
        ("no square root", ".sum().sqrt()", ".sum()", "GN1"),
        ("scales up too", "(max_norm / norm).clamp(max=1.0)", "(max_norm / norm)", "GN2"),
        (
            "inverted factor",
            "(max_norm / norm).clamp(max=1.0)",
            "(norm / max_norm).clamp(max=1.0)",
            "GN2",
        ),
        (
            "one norm per tensor",
            "[g * scale for g in grads]",
            "[g * (max_norm / g.norm()).clamp(max=1.0) for g in grads]",
            "GN2",
        ),
    ],
    "peephole_d_c_prev": [
        ("dropped term: the cell-state line", "d_c * f + ", "", "P5"),
        ("dropped term: the input peephole", " + d_a_i * w_ci", "", "P2"),
        ("wrong peephole", "d_a_f * w_cf", "d_a_f * w_ci", "P3"),
        ("wrong sign", "+ d_a_f * w_cf", "- d_a_f * w_cf", "P3"),
    ],
    "mingru_step_backward": [
        ("wrong sign", "(h_tilde - h_prev)", "(h_prev - h_tilde)", "MG3"),
        ("wrong derivative: a tanh that is not there", "z * (1 - z)  #", "(1 - z * z)  #", "MG1"),
        ("weights swapped", "d_x_h = d_h * z", "d_x_h = d_h * (1 - z)", "MG2"),
        ("a matrix-free chain kept wrong", "d_h * (1 - z)  #", "d_h * z  #", "MG3"),
    ],
    "slstm_stabilised_gates": [
        (
            "dropped term: m_{t−1}",
            "torch.maximum(log_f + m_prev, log_i)",
            "torch.maximum(log_f, log_i)",
            "S6",
        ),
        (
            "min, not max",
            "torch.maximum(log_f + m_prev, log_i)",
            "torch.minimum(log_f + m_prev, log_i)",
            "S6",
        ),
        ("not stabilised", "torch.exp(log_i - m)", "torch.exp(log_i)", "S7"),
        ("wrong sign", "torch.exp(log_i - m)", "torch.exp(log_i + m)", "S7"),
        (
            "wrong time step: m_{t−1} dropped",
            "torch.exp(log_f + m_prev - m)",
            "torch.exp(log_f - m)",
            "S8",
        ),
    ],
    "rglru_step": [
        ("dropped factor c", "(8.0 * r)", "r", "RG3"),
        ("Λ, not σ(Λ)", "torch.sigmoid(lam) ** (8.0 * r)", "torch.exp(-lam) ** (8.0 * r)", "RG3"),
        ("a_t, not a_t²", "torch.sqrt(1 - a * a)", "torch.sqrt(1 - a)", "RG4"),
        ("wrong sign", "torch.sqrt(1 - a * a)", "torch.sqrt(1 + a * a)", "RG4"),
        ("dropped input scale", "s * (i * u)", "(i * u)", "RG5"),
        ("dropped input gate", "s * (i * u)", "s * u", "RG5"),
    ],
    "mingru_negative_step": [
        ("wrong nonlinearity", "torch.sigmoid(x_z)", "torch.tanh(x_z)", "MG1"),
        ("the positive transition", "a = 1 - 2 * z", "a = 1 - z", "MG3"),
        ("wrong sign", "a = 1 - 2 * z", "a = 2 * z - 1", "MG3"),
        ("dropped term", "a * h_prev + z * h_tilde", "a * h_prev + h_tilde", "MG3"),
    ],
    "elman_step_tangent": [
        ("dropped term: Ẇ_hh", " + h_prev @ W_hh_dot.T", "", "E1"),
        ("dropped term: the carry ḣ_{t−1}", " + h_prev_dot @ W_hh.T", "", "E1"),
        ("transposed weight", "h_prev_dot @ W_hh.T", "h_prev_dot @ W_hh", "E1"),
        ("wrong sign", "(1 - h * h)", "(1 + h * h)", "E2"),
        ("derivative at the wrong step", "(1 - h * h)", "(1 - h_prev * h_prev)", "E2"),
    ],
}


def _function(source: str, name: str):
    namespace = {}
    exec(compile(source, f"<{name}>", "exec"), namespace)
    return namespace[name]


def test_every_exercise_has_seeded_mistakes_and_ten_or_more_exist():
    assert set(MISTAKES) == set(EXERCISES)
    assert len(EXERCISES) >= 10
    assert all(len(m) >= 3 for m in MISTAKES.values())


def test_every_chapter_has_an_exercise():
    assert {ex.chapter for ex in EXERCISES.values()} == set(CHAPTERS)


@pytest.mark.parametrize("name", list(EXERCISES))
def test_our_solution_passes(name):
    exercise = EXERCISES[name]
    result = report(exercise, _function(exercise.solution_source(), name))
    assert result.ok, result.message


@pytest.mark.parametrize(
    ("name", "what", "right", "wrong", "label"),
    [(name, *m) for name, mistakes in MISTAKES.items() for m in mistakes],
)
def test_a_mistake_is_named_by_its_label(name, what, right, wrong, label):
    exercise = EXERCISES[name]
    source = exercise.solution_source()
    assert source.count(right) == 1, (
        f"the mistake {what!r} edits a line that is not in the solution"
    )
    result = report(exercise, _function(source.replace(right, wrong), name))
    assert not result.ok, f"{what} was not caught"
    assert result.label == label, f"{what}: blamed on {result.label}\n{result.message}"
    first = result.message.splitlines()[0]
    assert first.startswith(f"{name}: wrong at ({label}) {exercise.labels[label]}")
    assert f"  {result.quantity}: " in result.message and "should depend on:" in result.message
    assert any(w in result.message for w in ("largest error", "entries wrong", "shape"))


def test_the_message_says_where():
    exercise = EXERCISES["elman_bptt"]
    source = exercise.solution_source().replace("d_y[t] + d_carry", "d_y[t]")
    message = report(exercise, _function(source, "elman_bptt")).message
    assert "d_h: largest error" in message and "at step " in message and ", row " in message


def test_a_gate_is_named_in_the_location_and_blamed_on_its_own_equation():
    exercise = EXERCISES["lstm_gates_backward"]
    source = exercise.solution_source().replace("d_g * (1 - g * g)", "d_g * g * (1 - g)")
    result = report(exercise, _function(source, "lstm_gates_backward"))
    assert result.label == "L4" and "at gate g, row " in result.message


def test_a_gate_is_named_in_the_location():
    from learn.check import _where
    from learn.exercise import Quantity

    q = Quantity("d_a", "L1", ("row", "gate"), "", gates=("i", "f", "g", "o"))
    assert _where(q, (2, 7), (3, 12)) == "row 2, gate g, unit 1"


def _cli(capsys, *args):
    """``python -m learn ARGS`` in this process: (exit status, stdout, stderr)."""
    status = main(list(args))
    out = capsys.readouterr()
    return status, out.out, out.err


def test_python_m_learn_runs_as_a_command(tmp_path):
    listed = subprocess.run(
        [sys.executable, "-m", "learn", "list"], capture_output=True, text=True, check=False
    )
    assert listed.returncode == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == list(EXERCISES)
    bad = tmp_path / "bad.py"
    bad.write_text(EXERCISES["attention"].solution_source().replace("~mask", "mask"))
    wrong = subprocess.run(
        [sys.executable, "-m", "learn", "check", "attention", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert wrong.returncode == 1 and wrong.stdout.startswith("attention: wrong at (A2)")


def test_cli_solution_is_accepted_by_check_and_a_mistake_exits_1(tmp_path, capsys):
    status, solution, _ = _cli(capsys, "solution", "gru_d_h_prev")
    assert status == 0
    good = tmp_path / "good.py"
    good.write_text(solution)
    status, out, _ = _cli(capsys, "check", "gru_d_h_prev", str(good))
    assert status == 0 and len(out.splitlines()) == 1, out
    bad = tmp_path / "bad.py"
    bad.write_text(solution.replace("(h_prev - n)", "(n - h_prev)"))
    status, out, _ = _cli(capsys, "check", "gru_d_h_prev", str(bad))
    assert status == 1
    assert "(G3)" in out and "d_h_prev" in out


def test_cli_blank_is_the_signature_and_fails_the_check(tmp_path, capsys):
    status, blank, _ = _cli(capsys, "blank", "elman_step")
    assert status == 0 and "def elman_step(x_proj, h_prev, W_hh):" in blank
    file = tmp_path / "mine.py"
    file.write_text(blank)
    assert _cli(capsys, "check", "elman_step", str(file))[0] == 1


def test_a_learner_error_names_their_line(tmp_path, capsys):
    file = tmp_path / "mine.py"
    file.write_text("def elman_step(x_proj, h_prev, W_hh):\n    return x_proj @ W_hh[0:1]\n")
    status, out, _ = _cli(capsys, "check", "elman_step", str(file))
    assert status == 1
    assert "raised RuntimeError" in out and "line 2 of" in out


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("check", "no_such", "x.py"), "no exercise 'no_such'"),
        (("check", "elman_step", "missing.py"), "missing.py: no such file"),
        (("solution", "nope"), "no exercise 'nope'"),
    ],
)
def test_cli_usage_errors_exit_2_in_one_line(args, says, capsys):
    status, _, err = _cli(capsys, *args)
    assert status == 2
    assert says in err and len(err.strip().splitlines()) == 1


def test_a_command_line_without_a_command_exits_2_in_one_line(capsys):
    with pytest.raises(SystemExit) as stopped:
        main([])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "required" in err


def test_a_file_without_the_function_or_with_bad_syntax_exits_2(tmp_path, capsys):
    other = tmp_path / "other.py"
    other.write_text("def something_else():\n    pass\n")
    status, _, err = _cli(capsys, "check", "elman_step", str(other))
    assert status == 2 and "defines no function elman_step" in err
    broken = tmp_path / "broken.py"
    broken.write_text("def elman_step(:\n")
    status, _, err = _cli(capsys, "check", "elman_step", str(broken))
    assert status == 2 and "line 1: syntax error" in err
