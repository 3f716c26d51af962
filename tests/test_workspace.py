"""The fast backward loops reuse their gradient buffers from one call to the next
(scratch/fast/workspace.py); reuse must never let one backward see another's numbers."""

import threading

import pytest
import torch
from torch import nn

import scratch
import scratch.function
from scratch.fast import workspace

LAYERS = [(scratch.LSTM, nn.LSTM), (scratch.GRU, nn.GRU), (scratch.RNN, nn.RNN)]


def pair(ours_cls, ref_cls, **kwargs):
    torch.manual_seed(0)
    ref = ref_cls(3, 5, dtype=torch.float64, **kwargs)
    ours = ours_cls(3, 5, dtype=torch.float64, **kwargs)
    ours.load_state_dict(ref.state_dict())
    return ours, ref


def grads(module, loss_of):
    module.zero_grad()
    loss_of(module).backward()
    return [p.grad.clone() for p in module.parameters()]


def assert_same_grads(ours, ref, loss_of):
    for g, r in zip(grads(ours, loss_of), grads(ref, loss_of), strict=True):
        torch.testing.assert_close(g, r, rtol=1e-10, atol=1e-10)


@pytest.fixture(autouse=True)
def fresh_workspace():
    workspace.release()
    yield
    workspace.release()


@pytest.mark.parametrize("ours_cls, ref_cls", LAYERS)
def test_a_second_backward_reuses_the_first_ones_buffer(ours_cls, ref_cls, monkeypatch):
    ours, _ = pair(ours_cls, ref_cls)
    x = torch.randn(7, 2, 3, dtype=torch.float64)
    assert workspace.held_bytes() == 0
    ours(x)[0].sum().backward()
    kept = workspace.held_bytes()
    assert kept > 0
    taken, pointers = workspace.empty, []

    def spy(like, *shape):  # what the next backward is handed
        t = taken(like, *shape)
        pointers.append(t.data_ptr())
        return t

    monkeypatch.setattr(workspace, "empty", spy)
    before = {t.data_ptr() for t in workspace._kept().values()}
    ours(x)[0].sum().backward()
    assert pointers and set(pointers) <= before
    assert workspace.held_bytes() == kept
    workspace.release()
    assert workspace.held_bytes() == 0


@pytest.mark.parametrize("ours_cls, ref_cls", LAYERS)
def test_graphs_alive_at_once_each_get_their_own_gradients(ours_cls, ref_cls):
    """Two forwards of one layer and two stacked layers of one shape, one backward: every
    backward reuses the same kept buffer in turn, and all gradients are torch.nn's."""
    ours, ref = pair(ours_cls, ref_cls, num_layers=2)
    a, b = torch.randn(6, 2, 3, dtype=torch.float64), torch.randn(9, 2, 3, dtype=torch.float64)
    state = torch.randn(2, 2, 5, dtype=torch.float64)
    states = {}

    def loss_of(m):
        hx = (state.clone().requires_grad_(), state.clone().requires_grad_())
        hx = hx if ours_cls is scratch.LSTM else hx[0]
        states[m] = hx
        return (m(a, hx)[0] ** 2).sum() + (m(b, hx)[0] * 3).sum()

    assert_same_grads(ours, ref, loss_of)
    for s, r in zip(_leaves(states[ours]), _leaves(states[ref]), strict=True):
        torch.testing.assert_close(s.grad, r.grad, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("ours_cls, ref_cls", LAYERS)
def test_a_retained_graph_gives_the_same_gradients_twice(ours_cls, ref_cls):
    ours, _ = pair(ours_cls, ref_cls)
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    out = (ours(x)[0] ** 2).sum()
    first = torch.autograd.grad(out, list(ours.parameters()), retain_graph=True)
    ours(torch.randn(8, 2, 3, dtype=torch.float64))[0].sum().backward()  # another, between
    second = torch.autograd.grad(out, list(ours.parameters()))
    for f, s in zip(first, second, strict=True):
        torch.testing.assert_close(f, s, rtol=0, atol=0)


VARIANTS = [(cls, "variant") for cls in (scratch.LayerNormLSTM, scratch.PeepholeLSTM)]
VARIANTS += [(scratch.ZoneoutLSTM, "variant"), (scratch.ChoGRU, "variant")]
VARIANTS += [(scratch.MinGRU, "minimal"), (scratch.MinLSTM, "minimal")]  # the scan's backward


@pytest.mark.parametrize("ours_cls, ref_cls", LAYERS + [(scratch.LSTM, None)] + VARIANTS)
def test_nothing_a_backward_returns_is_a_view_of_the_kept_buffers(ours_cls, ref_cls, monkeypatch):
    """What layer_backward returns outlives its scope: the next backward would overwrite it.
    (ref_cls None: the LSTM with a projection; "variant": the variants' fast loops, the LSTM
    ones taking their factor buffer from the workspace through fast.lstm.lstm_factors.)"""
    returned = []
    original = scratch.function.layer_backward

    def spy(*args):
        out = original(*args)
        returned.extend(t for t in torch.utils._pytree.tree_leaves(out) if torch.is_tensor(t))
        return out

    monkeypatch.setattr(scratch.function, "layer_backward", spy)
    kwargs = {"proj_size": 2} if ref_cls is None else {}
    ours = ours_cls(3, 5, num_layers=2, bidirectional=True, **kwargs)
    x = torch.randn(6, 2, 3, requires_grad=True)
    hx = torch.randn(4, 2, 2 if kwargs else 5, requires_grad=True)
    one_state = (scratch.GRU, scratch.RNN, scratch.ChoGRU, scratch.MinGRU, scratch.MinLSTM)
    carries_c = ours_cls not in one_state  # (h, c) states
    hx = (hx, torch.randn(4, 2, 5, requires_grad=True)) if carries_c else hx
    out, state = ours(x, hx)
    (out.sum() + sum(s.sum() for s in _leaves(state))).backward()
    kept = {t.untyped_storage().data_ptr() for t in workspace._kept().values()}
    assert kept and returned
    assert not kept & {t.untyped_storage().data_ptr() for t in returned}


def test_nested_scopes_take_distinct_buffers():
    like = torch.zeros(1)
    with workspace.scope():
        outer = workspace.empty(like, 4, 4)
        with workspace.scope():
            inner = workspace.empty(like, 4, 4)
    assert outer.data_ptr() != inner.data_ptr()
    with workspace.scope():
        again = workspace.empty(like, 2, 3)  # a smaller request is served from the first
    assert again.data_ptr() == outer.data_ptr() and again.shape == (2, 3)


def test_outside_a_scope_nothing_is_kept():
    workspace.empty(torch.zeros(1), 8, 8)
    assert workspace.held_bytes() == 0


def test_each_thread_keeps_its_own():
    like, seen = torch.zeros(1), {}

    def take(name):
        with workspace.scope():
            seen[name] = workspace.empty(like, 16).data_ptr()

    take("main")
    thread = threading.Thread(target=take, args=("other",))
    thread.start()
    thread.join()
    assert seen["main"] != seen["other"]


def _leaves(hx):
    return hx if isinstance(hx, tuple) else (hx,)
