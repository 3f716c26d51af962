# %% [markdown]
# # Proving equality: the compare harness
#
# The lesson to run beside *python -m compare* (`docs/compare.md`, [on the
# site](../../compare/)), which explains the report. Here you run the harness on a few
# configurations yourself and read the scaled error of every tensor.

# %%
import learn
from compare.harness import Case, compare_case

cases = [
    Case("lstm", num_layers=2, bidirectional=True),
    Case("gru", lengths=(6, 4, 2), enforce_sorted=False),
    Case("rnn_tanh", dtype="float32", bptt="readable"),
    Case("lstm", proj_size=3, dtype="float32", input_scale=8.0),
]
for case in cases:
    result = compare_case(case)
    print(
        f"{case.label():40} {'pass' if result.passed else 'FAIL'}   largest scaled error {result.worst:.1e}"
    )

# %% [markdown]
# Every tensor of one case: outputs, final states, and the gradient of every input and weight.

# %%
result = compare_case(cases[0])
for name, error in result.errors.items():
    print(f"{name:28} {error:.1e}")

# %% [markdown]
# The same from a terminal, over the whole matrix of configurations, with the benchmark and
# the tasks: `python -m compare --quick` (about 20 s).
#
# The label (Q1) below names the scaled error of the page's section *The scaled error*:
# (Q1) scaled error = max |ours − ref| / max(1, max |ref|).

# %% [markdown]
# ## Exercise: scaled_error (Q1)
#
# The error compare reports for one tensor: the largest difference, scaled by the reference's size when that size is above 1, so that large and small tensors are judged alike.
# Fill in the blank, run the cell and read what the checker says; from a terminal,
# `python -m learn check scaled_error FILE.py`.
#
# *Hint*: max, not mean; absolute values on both; and the divisor is never below 1.


# %%
def scaled_error(ours, ref):
    """The error compare reports for one tensor: the largest difference, scaled by the
    reference's size when that size is above 1, so that large and small tensors are judged alike.

    ours, ref: tensors of one shape. Returns a 0-d tensor.
    """
    # your code here: compute and return error
    raise NotImplementedError


learn.check(scaled_error)

# %% [markdown]
# <details><summary>Solution (try first)</summary>
#
# `python -m learn solution scaled_error` prints ours, as a file that `check` accepts.
#
# </details>
