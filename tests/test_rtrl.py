"""RTRL (compare/rtrl.py): forward mode w.r.t. the weights, carried step by step by the Elman
cell's tangent step, gives BPTT's gradient of a loss summed over time to 1e-12."""

import torch

from compare import rtrl


def test_rtrl_online_gradient_equals_bptt():
    module, x, targets = rtrl.problem(hidden=5, length=12, batch=3)
    got = rtrl.rtrl_gradients(module, x, targets)
    want = rtrl.bptt_gradients(module, x, targets)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_the_command_checks_and_times_both(capsys):
    assert rtrl.main(["--hidden", "3,4"]) == 0
    out = capsys.readouterr().out
    difference = float(out.splitlines()[0].rsplit(" ", 1)[1])
    assert difference < 1e-12
    assert "RTRL ms/step" in out
