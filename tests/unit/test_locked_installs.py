"""Installs come from uv.lock: the lock matches pyproject.toml, and the Makefile, image and README install from it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# The index every machine of ours reaches; a lock written against a mirror would not install elsewhere.
INDEX = "https://pypi.org/simple"
FILES = "https://files.pythonhosted.org/"
RELOCK = "pyproject.toml and uv.lock disagree: run `uv lock` and commit uv.lock"
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*([^;]*?)\s*$")


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def lock() -> dict[str, Any]:
    return tomllib.loads((ROOT / "uv.lock").read_text("utf-8"))


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement(text: str, extra: str | None) -> tuple[str, frozenset[str], frozenset[str], str | None]:
    """(name, extras, specifier clauses, extra it belongs to) of a PEP 508 line as simple as ours."""
    match = REQUIREMENT.match(text)
    assert match, f"{text!r} is not a plain `name[extras]specifier` requirement"
    name, extras, specifier = match.groups()
    clauses = frozenset(c.replace(" ", "") for c in specifier.split(",") if c.strip())
    return normalised(name), frozenset(e.strip() for e in (extras or "").split(",") if e.strip()), clauses, extra


def declared() -> set[tuple[str, frozenset[str], frozenset[str], str | None]]:
    project = pyproject()["project"]
    found = {requirement(line, None) for line in project["dependencies"]}
    for extra, lines in project.get("optional-dependencies", {}).items():
        found |= {requirement(line, extra) for line in lines}
    return found


def locked_project() -> dict[str, Any]:
    (own,) = [p for p in lock()["package"] if p.get("source") == {"editable": "."}]
    return own


def recorded() -> set[tuple[str, frozenset[str], frozenset[str], str | None]]:
    found = set()
    for entry in locked_project()["metadata"]["requires-dist"]:
        marker = re.fullmatch(r"extra == '([^']+)'", entry.get("marker", ""))
        assert marker or "marker" not in entry, f"unexpected marker in uv.lock: {entry}"
        clauses = frozenset(c.replace(" ", "") for c in entry.get("specifier", "").split(",") if c.strip())
        extra = marker.group(1) if marker else None
        found.add((normalised(entry["name"]), frozenset(entry.get("extras", [])), clauses, extra))
    return found


def makefile_rule(target: str) -> tuple[str, list[str]]:
    """The prerequisites line and recipe lines of the rule for `target` in the Makefile."""
    text = (ROOT / "Makefile").read_text("utf-8")
    match = re.search(rf"^{re.escape(target)}:(.*)\n((?:\t.*\n)+)", text, re.M)
    assert match, f"the Makefile has no rule for {target}"
    return match.group(1), [line.strip() for line in match.group(2).splitlines()]


def makefile_variable(name: str) -> str:
    match = re.search(rf"^{name}\s*:?=\s*(\S+)", (ROOT / "Makefile").read_text("utf-8"), re.M)
    assert match, f"the Makefile sets no {name}"
    return match.group(1)


def uv_commands() -> list[str]:
    """The uv commands the install runs, as a person types them (`uv ...`, the Makefile's own --python left out)."""
    _, recipe = makefile_rule("$(STAMP)")
    return [
        "uv " + line.removeprefix("$(UV) ").replace(" --python $(PYTHON)", "")
        for line in recipe
        if line.startswith("$(UV) ") and line != "$(UV) --version"
    ]


def test_the_lock_records_every_dependency_as_pyproject_declares_it():
    assert declared() == recorded(), RELOCK
    assert lock()["requires-python"] == pyproject()["project"]["requires-python"], RELOCK
    assert locked_project()["version"] == pyproject()["project"]["version"], RELOCK


def test_every_dependency_pyproject_names_is_locked_to_one_version():
    versions: dict[str, set[str]] = {}
    for package in lock()["package"]:
        versions.setdefault(normalised(package["name"]), set()).add(package["version"])
    for name, _, _, extra in declared():
        assert name in versions, f"{name} ({extra or 'runtime'}) is not in uv.lock: {RELOCK}"
        assert len(versions[name]) == 1, f"uv.lock holds {name} {sorted(versions[name])}: the suite ran with one"


def test_every_locked_package_comes_from_pypi_with_its_hashes():
    for package in lock()["package"]:
        if package.get("source") == {"editable": "."}:
            continue
        where = f"{package['name']} {package['version']}"
        assert package["source"] == {"registry": INDEX}, f"{where} is locked from {package['source']}"
        artifacts = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
        assert artifacts, f"{where} has no file to install"
        for artifact in artifacts:
            assert artifact["url"].startswith(FILES), f"{where}: {artifact['url']}"
            assert re.fullmatch(r"sha256:[0-9a-f]{64}", artifact["hash"]), f"{where}: {artifact['url']} unhashed"


def test_make_checks_the_lock_then_installs_exactly_what_it_holds():
    prerequisites, recipe = makefile_rule("$(STAMP)")
    assert {"pyproject.toml", "uv.lock"} <= set(prerequisites.split()), "a changed lock must reinstall"
    assert uv_commands() == ["uv lock --check", "uv sync --frozen --extra test"], recipe
    assert not [line for line in recipe if "pip install" in line], "the project's packages come from the lock only"
    run, _ = makefile_rule("run")
    test, _ = makefile_rule("test")
    assert "install" in run.split() and "install" in test.split()


def test_make_bootstraps_the_pinned_uv_from_pypi():
    version = makefile_variable("UV_VERSION")
    _, recipe = makefile_rule("$(UV_VENV)/bin/uv")
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert "$(UV_VENV)/bin/pip install -q uv==$(UV_VERSION)" in recipe


def test_the_image_installs_the_same_lock_with_the_same_uv():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text("utf-8")
    assert re.search(r"^COPY .*\buv\.lock\b", dockerfile, re.M), "the image must be built from uv.lock"
    assert re.search(r"\buv sync --frozen\b", dockerfile)
    assert f"uv=={makefile_variable('UV_VERSION')}" in dockerfile
    assert not re.search(r"pip install\b(?!.*\buv==)", dockerfile), "the image's packages come from the lock only"


def test_the_readme_says_how_installs_work():
    readme = (ROOT / "README.md").read_text("utf-8")
    for command in uv_commands():
        assert f"`{command}`" in readme or f"\n{command} " in readme, f"README.md does not show `{command}`"
    assert f"uv {makefile_variable('UV_VERSION')}" in readme, "README.md names another uv version"
    assert "uv lock --upgrade-package" in readme, "README.md must say how to move one package"
