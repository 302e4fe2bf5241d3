"""Every `orderledger ...` command line the README shows is one the command accepts (parsing only, nothing runs)."""

from __future__ import annotations

import itertools
import re
import shlex
from pathlib import Path

import pytest

from api.cli import _parser

README = Path(__file__).resolve().parents[2] / "README.md"
FENCE = re.compile(r"^```[a-z]*\n(.*?)^```", re.S | re.M)
SPAN = re.compile(r"`(orderledger [^`]+)`")
METASYNTAX = re.compile(r"[\[\]<>|]|\.\.\.")


def shown_commands() -> list[str]:
    text = README.read_text("utf-8")
    found = []
    for block in FENCE.findall(text):
        for line in block.splitlines():
            line = line.strip().removeprefix("$ ")
            if line.startswith("orderledger "):
                found.append(line.split(" #", 1)[0].strip())
    outside = FENCE.sub("", text)
    found += [" ".join(span.split()) for span in SPAN.findall(outside)]
    return found


def test_the_readme_shows_commands_of_every_kind():
    shown = {shlex.split(command)[1] for command in shown_commands()}
    assert {"serve", "worker", "rebuild", "verify", "keys", "contract-clock", "relay-rewind"} <= shown


@pytest.mark.parametrize("command", shown_commands())
def test_each_command_the_readme_shows_parses(command):
    assert not METASYNTAX.search(command), f"write `{command}` as a command that runs, not a syntax summary"
    argv = shlex.split(command)[1:]
    try:
        _parser().parse_args(argv)
    except SystemExit:
        pytest.fail(f"`{command}` does not parse: see `orderledger --help`")


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--database-url", "postgresql://a@db/x", "--kafka-bootstrap", "k1:9092"],
        ["--database-url", "postgresql://a@db/x", "serve", "--kafka-bootstrap", "k1:9092"],
        ["keys", "create", "--role", "broker", "--data-dir", "/srv/ledger"],
    ],
)
def test_where_the_ledger_is_may_be_given_before_or_after_the_command(argv):
    args = _parser().parse_args(argv)
    given = dict(itertools.pairwise(argv))
    for option in ("--database-url", "--kafka-bootstrap", "--data-dir"):
        if option in given:
            assert getattr(args, option.removeprefix("--").replace("-", "_")) == given[option]
