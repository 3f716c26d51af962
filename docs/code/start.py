"""Start here (docs/start.md), as code you can run: the shapes of torch.nn's recurrent layers,
a ten-line loop that equals nn.RNN, and the BPTT of that loop, checked against autograd.

    python -m docs.code.start

prints what docs/code/start.txt holds; tests/test_docs.py runs it and compares, so the shapes
the page shows are the shapes torch.nn gives today.
"""

import torch
from torch import nn


def shapes(**tensors) -> str:
    return "  ".join(f"{name} {tuple(t.shape)}" for name, t in tensors.items())


def show_shapes() -> None:
    torch.manual_seed(0)
    # --8<-- [start:one_layer]
    L, N, I, H = 5, 3, 4, 8  # time steps, batch (sequences), input features, hidden units
    x = torch.randn(L, N, I)  # time first: x[t] is step t+1 of all N sequences

    rnn = nn.RNN(I, H)  # one layer, one direction, tanh
    output, h_n = rnn(x)  # no h_0 given: it starts from zeros
    print("RNN          ", shapes(x=x, output=output, h_n=h_n))
    # --8<-- [end:one_layer]

    # --8<-- [start:parameters]
    for layer in (nn.RNN(I, H), nn.LSTM(I, H), nn.GRU(I, H)):
        print(type(layer).__name__.ljust(5), shapes(**dict(layer.named_parameters())))
    # --8<-- [end:parameters]

    # --8<-- [start:variants]
    h_0 = torch.zeros(1, N, H)  # (layers · directions, N, H)
    c_0 = torch.zeros(1, N, H)
    lstm = nn.LSTM(I, H)
    output, (h_n, c_n) = lstm(x, (h_0, c_0))  # the LSTM carries two states
    print("LSTM         ", shapes(h_0=h_0, c_0=c_0, output=output, h_n=h_n, c_n=c_n))

    gru = nn.GRU(I, H, num_layers=2)  # stacked: layer 2 reads layer 1's outputs
    output, h_n = gru(x)
    print("GRU, 2 layers", shapes(output=output, h_n=h_n))

    birnn = nn.RNN(I, H, bidirectional=True)  # a second copy reads time backwards
    output, h_n = birnn(x)
    print("RNN, 2 dirs  ", shapes(output=output, h_n=h_n))

    deep = nn.LSTM(I, H, num_layers=2, bidirectional=True)  # both: 2 layers × 2 directions
    h_0 = c_0 = torch.zeros(2 * 2, N, H)
    output, (h_n, c_n) = deep(x, (h_0, c_0))
    print("LSTM, 2 × 2  ", shapes(h_0=h_0, output=output, h_n=h_n, c_n=c_n))

    first = nn.RNN(I, H, batch_first=True)  # input and output batch first; h_0, h_n not
    output, h_n = first(x.transpose(0, 1))
    print("batch_first  ", shapes(x=x.transpose(0, 1), output=output, h_n=h_n))
    # --8<-- [end:variants]

    # --8<-- [start:last_step]
    output, h_n = rnn(x)
    print("one direction: output[-1] is h_n[-1]:", torch.equal(output[-1], h_n[-1]))
    output, h_n = birnn(x)
    print("two directions, forward half: output[-1, :, :H] is h_n[0]:", end=" ")
    print(torch.equal(output[-1, :, :H], h_n[0]))
    print("two directions, reverse half: output[-1, :, H:] is h_n[1]:", end=" ")
    print(torch.equal(output[-1, :, H:], h_n[1]))
    print("  it ended at the first step: output[0, :, H:] is h_n[1]:", end=" ")
    print(torch.equal(output[0, :, H:], h_n[1]))
    # --8<-- [end:last_step]


# --8<-- [start:loop]
def rnn_loop(x, h, W_ih, W_hh, b_ih, b_hh):
    """h_t = tanh(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh) for t = 1 … L.
    x (L, N, I), h = h_0 (N, H). Returns every h_t stacked: (L, N, H)."""
    hs = []
    for x_t in x:  # x_t (N, I): one step of every sequence
        h = torch.tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh)  # (N, H)
        hs.append(h)
    return torch.stack(hs)  # output; its last row is h_n
    # --8<-- [end:loop]


# --8<-- [start:loop_backward]
def rnn_loop_backward(d_y, x, h_0, hs, W_ih, W_hh):
    """BPTT of rnn_loop. d_y (L, N, H) is ∂L/∂y_t for every t, where y_t = h_t is the output.
    Returns dL/dx, dL/dh_0, dL/dW_ih, dL/dW_hh, dL/db (the same for b_ih and b_hh)."""
    d_x, d_W_ih, d_W_hh = torch.zeros_like(x), torch.zeros_like(W_ih), torch.zeros_like(W_hh)
    d_b = torch.zeros(W_hh.shape[0], dtype=x.dtype)
    d_h_next = torch.zeros_like(h_0)  # dL/dh_L through a step L+1: there is none
    for t in reversed(range(len(x))):  # the forward loop, backwards
        h_prev = hs[t - 1] if t > 0 else h_0
        d_h = d_y[t] + d_h_next  # dL/dh_t = ∂L/∂y_t + (∂h_{t+1}/∂h_t)ᵀ dL/dh_{t+1}
        d_a = d_h * (1 - hs[t] ** 2)  # through tanh: tanh'(a_t) = 1 − h_t²
        d_W_ih += d_a.T @ x[t]  # the weights are shared by every step: their
        d_W_hh += d_a.T @ h_prev  # gradients are sums over the steps
        d_b += d_a.sum(0)
        d_x[t] = d_a @ W_ih
        d_h_next = d_a @ W_hh  # dL/dh_{t−1} through step t
    return d_x, d_h_next, d_W_ih, d_W_hh, d_b
    # --8<-- [end:loop_backward]


def check_loop() -> None:
    torch.manual_seed(0)
    # --8<-- [start:check]
    L, N, I, H = 6, 3, 4, 5
    rnn = nn.RNN(I, H, dtype=torch.float64)
    x = torch.randn(L, N, I, dtype=torch.float64, requires_grad=True)
    h_0 = torch.randn(1, N, H, dtype=torch.float64, requires_grad=True)
    output, h_n = rnn(x, h_0)

    W = (rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0)
    hs = rnn_loop(x.detach(), h_0[0].detach(), *(w.detach() for w in W))
    print("forward: rnn_loop equals nn.RNN:", torch.allclose(hs, output, rtol=0, atol=1e-12))

    d_y = torch.randn(L, N, H, dtype=torch.float64)  # any ∂L/∂y_t will do: L = Σ_t d_y_t · y_t
    output.backward(d_y)  # autograd through torch.nn's own kernel
    ours = rnn_loop_backward(d_y, x.detach(), h_0[0].detach(), hs, W[0].detach(), W[1].detach())
    theirs = (
        x.grad,
        h_0.grad[0],
        rnn.weight_ih_l0.grad,
        rnn.weight_hh_l0.grad,
        rnn.bias_ih_l0.grad,
    )
    for name, a, b in zip(("d_x", "d_h_0", "d_W_ih", "d_W_hh", "d_b"), ours, theirs, strict=True):
        print(f"backward: {name:6} equals autograd's:", torch.allclose(a, b, rtol=0, atol=1e-12))
    # --8<-- [end:check]


# what each part prints, saved beside this file for the page: docs/code/start_<part>.txt
PARTS = {"shapes": show_shapes, "check": check_loop}


def main() -> None:
    for part in PARTS.values():
        part()


if __name__ == "__main__":
    main()
