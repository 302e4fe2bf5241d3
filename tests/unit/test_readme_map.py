"""The README's map ("What is where") names only paths that exist; every module says first what it holds."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTEXTS = ("orders", "contracts", "billing", "services")
PATH = re.compile(r"(?<![\w./-])[\w.]+(?:/[\w.]+)*(?:/|\.py|\.json)(?![\w/])")


def map_block() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## What is where\n", 1)[1]
    return section.split("```\n", 2)[1].splitlines()


def named_paths(lines: list[str]) -> list[str]:
    """Each path the map names, resolved: an indented entry lies in the folder above it, and so do the files
    its description names (relative to the entry's folder, or to the folder of an entry that is a file)."""
    folders: list[tuple[int, str]] = []  # (indent, folder) from the top down
    found = []
    for line in lines:
        indent = len(line) - len(line.lstrip())
        first = line.split()[0] if line.strip() else ""
        while folders and folders[-1][0] >= indent:
            folders.pop()
        base = folders[-1][1] if folders else ""
        if PATH.fullmatch(first):
            entry = base + first
            found.append(entry)
            here = entry if entry.endswith("/") else entry.rsplit("/", 1)[0] + "/" if "/" in entry else ""
            folders.append((indent, here))
            described = line.strip()[len(first) :]
        else:
            here, described = base, line.strip()
        found += [here + name for name in PATH.findall(described)]
    return found


def test_every_path_the_map_names_exists() -> None:
    paths = named_paths(map_block())
    assert len(paths) > 60, paths  # the map was read, not skipped
    assert [path for path in paths if not (ROOT / path).exists()] == []


def test_the_map_reader_catches_a_missing_path() -> None:
    block = ["events/           the core", "  kernel/         model.py and gone.py", "    nowhere.py    no"]
    assert named_paths(block) == [
        "events/",
        "events/kernel/",
        "events/kernel/model.py",
        "events/kernel/gone.py",
        "events/kernel/nowhere.py",
    ]
    assert not (ROOT / "events/kernel/gone.py").exists()


def test_events_and_api_keep_at_most_ten_entries_at_their_top() -> None:
    for folder in ("events", "api"):
        entries = [p.name for p in (ROOT / folder).iterdir() if p.name != "__pycache__"]
        assert len(entries) <= 10, (folder, sorted(entries))


def test_each_context_has_the_same_files_with_the_same_meaning() -> None:
    for context in CONTEXTS:
        assert {"facts.py", "commands.py", "decider.py"} <= {p.name for p in (ROOT / "events" / context).iterdir()}


def test_every_module_says_on_its_first_line_what_it_holds() -> None:
    silent = []
    for package in ("events", "projections", "processors", "api", "bench"):
        for module in sorted((ROOT / package).rglob("*.py")):
            first = module.read_text().split("\n", 1)[0]
            if not re.fullmatch(r'"""\S.{10,}', first):
                silent.append(f"{module.relative_to(ROOT)}: {first!r}")
    assert silent == []
