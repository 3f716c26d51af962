"""The GEMM bound (compare/bound.py): its plan is the products a scratch layer really makes, the
bound runs exactly those, and the benchmark reports it. Counts and shapes, never timings."""

from collections import Counter

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence
from torch.profiler import profile

import scratch
from compare import bench, tables
from compare.bound import Bound, calls, plan
from compare.split import KINDS, kind_of, layer_runs, split

PRODUCTS = ("aten::mm", "aten::addmm", "aten::addmm_")
# class, gate blocks, and how the forward splits each step's product (the GRU: r z, then n)
LAYERS = {"lstm": ("LSTM", 4, None), "gru": ("GRU", 3, (2, 1)), "rnn_tanh": ("RNN", 1, None)}


def profiled_products(run) -> Counter:
    """(m, k, n) -> how many matrix products of that shape `run()` made, from a profile."""
    with profile(record_shapes=True) as prof:
        run()
    counted: Counter = Counter()
    for event in prof.events():
        if event.name in PRODUCTS:
            a, b = event.input_shapes[1:3] if "addmm" in event.name else event.input_shapes[:2]
            counted[(a[0], a[1], b[1])] += 1
    return counted


@pytest.mark.parametrize("cell", list(LAYERS))
@pytest.mark.parametrize("lengths", [None, (7, 7, 3, 5, 1), (2, 7, 7, 4, 5)])
def test_the_plan_is_the_products_the_layer_makes(cell, lengths):
    """Same shapes, same number of calls as one fwd+bwd of the fast loop (bptt="manual")."""
    name, gates, split = LAYERS[cell]
    L, N, I, H = 7, 5, 3, 6
    torch.manual_seed(0)
    layer = getattr(scratch, name)(I, H)
    x = torch.randn(L, N, I, requires_grad=True)
    batch_sizes = [N] * L
    if lengths is not None:
        sort = lengths == tuple(sorted(lengths, reverse=True))
        packed = pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=sort)
        batch_sizes = packed.batch_sizes.tolist()

    def run():
        out, _ = layer(x if lengths is None else packed)
        (out if lengths is None else out.data).sum().backward()

    assert profiled_products(run) == calls(plan(gates, I, H, batch_sizes, split))


def test_the_bound_runs_its_plan_and_counts_its_flops():
    """The bound makes each planned call once per call; FLOPs: per row of every step, the six
    products of G·H columns against H or I: 2 · T_total · G·H · 3 · (H + I)."""
    T, N, I, H, G = 9, 4, 3, 5, 4
    products = plan(G, I, H, [N] * T)
    bound = Bound(products)
    assert profiled_products(bound) == calls(products)
    assert bound.flops == 2 * (T * N) * (G * H) * 3 * (H + I)
    packed = plan(G, I, H, [4, 4, 3, 1])
    assert sum(p.flops for p in packed) == 2 * 12 * (G * H) * 3 * (H + I)
    split = plan(G, I, H, [N] * T, step_products=(3, 1))  # the same work in two products
    assert sum(p.flops for p in split) == bound.flops


def test_the_benchmark_times_the_bound_beside_each_implementation():
    sizes = {"small": bench.Size(6, 3, 2, 4)}
    (result,) = bench.run_bench(["lstm"], sizes, repeats=3, threads=1, progress=False)
    assert len(result.bound.times_ms) == len(result.bound.ratios) == 3
    for impl in bench.IMPLS:
        r = result.impls[impl]
        assert len(r.bound_ratios) == 3
        assert r.bound_ratio == pytest.approx(
            sorted(t / b for t, b in zip(r.times_ms, result.bound.times_ms, strict=True))[1]
        )
    rows = tables.bench_rows([result])
    assert [row[2] for row in rows] == [*bench.IMPLS, bench.BOUND]
    assert result.as_dict()["bound"]["gflop"] == result.bound.gflop


def test_the_profile_split_counts_the_layers_calls_by_kind():
    """compare.split sorts a fwd+bwd's ops into kinds: the fast loop's products are the plan's
    (2 per step, 5 around the loop), and the four kinds add up to the wall time."""
    assert kind_of("aten::addmm_") == "products" and kind_of("aten::copy_") == "copies"
    assert kind_of("aten::sigmoid_") == "elementwise" and kind_of("aten::split") is None
    assert kind_of("aten::resolve_conj") is None  # returns its input: dispatch, no kernel
    T = 6
    runs = layer_runs("lstm", bench.Size(T, 3, 2, 4))
    s = split(runs["scratch manual"], T, "scratch manual", repeats=1)
    assert s.calls_per_step["products"] == pytest.approx((2 * T + 5) / T)
    assert sum(s.us_per_step[k] for k in KINDS) * T / 1e3 >= s.wall_ms * (1 - 1e-9)


@pytest.mark.parametrize("name", ["LSTM", "RNN"])
def test_the_folded_biases_gradient_is_one_sum(name):
    """b_ih and b_hh both fold into x̂, so they have one gradient, Σ_t d_x̂_t: one reduction
    over the steps, handed to each bias as a tensor of its own."""
    torch.manual_seed(0)
    layer = getattr(scratch, name)(3, 4)
    out, _ = layer(torch.randn(5, 2, 3))
    with profile() as prof:
        torch.autograd.backward(out, torch.randn(out.shape))
    assert sum(e.name == "aten::sum" for e in prof.events()) == 1
    d_b_ih, d_b_hh = layer.bias_ih_l0.grad, layer.bias_hh_l0.grad
    assert torch.equal(d_b_ih, d_b_hh)
    assert d_b_ih.untyped_storage().data_ptr() != d_b_hh.untyped_storage().data_ptr()
