"""Filling parameters: the command line first, then labels, then the front matter; secrets
from Tocsin's own environment unless a caller gives one."""

from __future__ import annotations

import pytest
from tests.support.runbooks import NOW, TOOLS

from tocsin.errors import Invalid
from tocsin.runbooks.params import environment, fill, parse_given
from tocsin.runbooks.parse import parse


def test_values_come_from_the_command_line_then_labels_then_the_front_matter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    book = parse(TOOLS, "tools.md")
    monkeypatch.setenv("TOOLS_TOKEN", "from-the-environment")
    blocks = [b for s in book.steps for b in s.blocks if s.number in (1, 2, 8)]
    filled = fill(book, blocks, {"name": "cli"}, {"name": "label"}, NOW, "UTC", environment(None))
    assert filled.values == {"now": NOW, "name": "cli", "token": "from-the-environment"}
    assert filled.secrets == ("from-the-environment",)
    filled = fill(book, blocks, {}, {"name": "label"}, NOW, "UTC", {"TOOLS_TOKEN": "t0ken"})
    assert filled.values["name"] == "label"


def test_every_problem_is_named_at_once_with_its_line() -> None:
    book = parse(TOOLS, "tools.md")
    blocks = [b for s in book.steps for b in s.blocks if s.number in (2, 7)]
    with pytest.raises(Invalid) as caught:
        fill(book, blocks, {"order_id": "12a"}, {}, NOW, "UTC", {})
    message = str(caught.value)
    assert "tools.md:27: parameter ${NAME} is not filled" in message
    assert "'12a' does not match '^[0-9]+$'" in message


def test_a_param_flag_must_be_name_equals_value() -> None:
    assert parse_given(["NAME=a=b", "x="]) == {"name": "a=b", "x": ""}
    with pytest.raises(Invalid, match="write it NAME=VALUE"):
        parse_given(["novalue"])
