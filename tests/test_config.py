"""The config machinery every task shares (tasks/config.py, tasks/cli.py, tasks/impl.py): help
from the comments, one rule per field, the impl/cell vocabulary, generated flags."""

import argparse
from dataclasses import dataclass, fields

import pytest
import torch

from tasks import cli, config, impl
from tasks.config import at_least, option
from tasks.errors import BadInput
from tasks.series import SeriesConfig
from tasks.text import TextConfig


@dataclass
class DemoConfig:
    impl: str = "reference"  # who computes the layer
    cell: str = "lstm"  # the recurrent cell
    hidden_size: int = 8  # H: width of h_t
    names: list[str] | None = option(None, check=config.distinct)  # names,
    # a comment on its own line belongs to no field
    window: int = option(5, check=at_least(2))  # a field written over three lines keeps its comment
    seed: int = 0


def test_help_is_the_comment_after_each_field():
    assert config.comments(DemoConfig) == {
        "impl": "who computes the layer",
        "cell": "the recurrent cell",
        "hidden_size": "H: width of h_t",
        "names": "names,",
        "window": "a field written over three lines keeps its comment",
        "seed": "",
    }


@pytest.mark.parametrize("cls", [TextConfig, SeriesConfig])
def test_every_field_of_a_task_config_has_help(cls):
    helps = config.comments(cls)
    assert [name for name, text in helps.items() if not text] == []


def test_shared_fields_take_their_rule_by_name_and_own_fields_their_option():
    assert config.rule(DemoConfig, "hidden_size") is config.SHARED["hidden_size"]
    assert config.rule(DemoConfig, "window").check is not None
    assert config.rule(DemoConfig, "seed") == config.Rule()
    assert config.resumable(TextConfig) == {
        "impl",
        "steps",
        "eval_every",
        "checkpoint_every",
        "device",
    }
    assert config.resumable(SeriesConfig) == {
        "impl",
        "epochs",
        "eval_every",
        "checkpoint_every",
        "device",
    }


def test_validate_names_the_flag_and_the_reason():
    config.validate(DemoConfig())
    cases = [
        (DemoConfig(hidden_size=0), "--hidden-size 0: must be at least 1, got 0"),
        (DemoConfig(window=1), "--window 1: must be at least 2, got 1"),
        (DemoConfig(names=["a", "b", "a"]), "--names a b a: names a more than once"),
        (
            DemoConfig(cell="tree"),
            "--cell tree: 'tree' is not one of rnn_tanh, rnn_relu, lstm, gru",
        ),
    ]
    for cfg, says in cases:
        with pytest.raises(BadInput, match=says):
            config.validate(cfg)


def test_generated_flags_read_types_lists_and_rules():
    parser = cli.Parser(prog="demo")
    cli.add_config_flags(parser, DemoConfig)
    args = parser.parse_args(["--hidden-size", "12", "--names", "x", "y", "--cell", "gru"])
    assert cli.given(args, DemoConfig) == {"hidden_size": 12, "names": ["x", "y"], "cell": "gru"}
    assert cli.given(parser.parse_args([]), DemoConfig) == {}  # left out: the preset decides
    with pytest.raises(SystemExit):
        parser.parse_args(["--window", "1"])


def test_a_bool_field_is_a_pair_of_switches():
    @dataclass
    class Switched:
        attention: bool = True  # read the memory with attention

    parser = cli.Parser(prog="demo")
    cli.add_config_flags(parser, Switched)
    assert cli.given(parser.parse_args(["--no-attention"]), Switched) == {"attention": False}
    assert cli.given(parser.parse_args(["--attention"]), Switched) == {"attention": True}
    assert cli.given(parser.parse_args([]), Switched) == {}  # left out: the preset decides
    assert "read the memory with attention" in parser.format_help()


def test_a_field_of_a_type_without_a_flag_is_a_programming_error():
    @dataclass
    class Odd:
        ratio: complex = 1j  # no flag reads a complex number

    with pytest.raises(TypeError, match="no flag for a field of type"):
        cli.add_config_flags(argparse.ArgumentParser(), Odd)


@pytest.mark.parametrize("name", [n for n, c in impl.CELLS.items() if c.impls == ("scratch",)])
def test_a_cell_only_scratch_has_builds_there_with_its_options_and_is_refused_elsewhere(name):
    import scratch

    layer = impl.layer_class("scratch", name)(3, 4)
    assert type(layer) is getattr(scratch, impl.CELLS[name].layer)
    for argument, rate in impl.CELLS[name].options.items():
        assert getattr(layer, argument) == rate
    y, _ = layer(torch.randn(5, 2, 3))
    assert y.shape == (5, 2, 4)
    with pytest.raises(BadInput, match=f"--cell {name} exists only in scratch, not in reference"):
        impl.layer_class("reference", name)


def test_the_same_field_names_in_every_task():
    shared = {"impl", "cell", "hidden_size", "num_layers", "dropout", "batch_size", "lr"}
    shared |= {"clip_mode", "clip", "eval_every", "checkpoint_every", "seed"}
    for cls in (TextConfig, SeriesConfig):
        assert shared <= {f.name for f in fields(cls)}
