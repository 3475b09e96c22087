"""Which interpreter a new env gets: names, .python-version, requires-python.

Interpreters here are small shell scripts laid out as pyenv, uv and PATH keep
real ones; a script answers the version probe like a Python would, so the
tests see exactly which file was picked.
"""

import os
import stat
import sys

import pytest

from autoenv import interpreters


def fake_python(path, version="3.11.9", impl="cpython"):
    """An executable that answers autoenv's probe as Python ``version`` would."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write("#!/bin/sh\necho '%s %s 0'\n" % (impl, version))
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


@pytest.fixture
def machine(tmp_path):
    """A pyenv root, a uv Python dir and a PATH dir, with an environ naming them."""
    pyenv = tmp_path / "pyenv"
    for name in ("2.7.18", "3.11.7", "3.12.1", "3.12.3", "3.13.0"):
        fake_python(str(pyenv / "versions" / name / "bin" / "python3"), name if name[0] == "3" else name)
    fake_python(str(pyenv / "versions" / "2.7.18" / "bin" / "python"), "2.7.18")
    fake_python(str(pyenv / "versions" / "pypy3.10-7.3.12" / "bin" / "pypy3"), "3.10.13", "pypy")
    # pyenv-virtualenv envs live beside the versions: never a base for a new env.
    env = pyenv / "versions" / "3.12.1" / "envs" / "tool"
    fake_python(str(env / "bin" / "python3"), "3.12.1")
    (env / "pyvenv.cfg").write_text("home = x\n")
    os.symlink(str(env), str(pyenv / "versions" / "tool"))
    data = tmp_path / "data"
    fake_python(str(data / "uv" / "python" / "cpython-3.14.0-linux-x86_64-gnu" / "bin" / "python3"), "3.14.0")
    path_dir = tmp_path / "bin"
    fake_python(str(path_dir / "python3.9"), "3.9.20")
    fake_python(str(path_dir / "python3"), "3.9.20")
    shims = tmp_path / "pyenv" / "shims"
    fake_python(str(shims / "python3.8"), "3.8.0")
    environ = {"PYENV_ROOT": str(pyenv), "XDG_DATA_HOME": str(data), "HOME": str(tmp_path),
               "PATH": os.pathsep.join([str(shims), str(path_dir)])}
    return environ


def picked(request, environ):
    return interpreters.match_request(request, interpreters.installed(environ), environ)


@pytest.mark.parametrize("text, expected", [
    ("3.12.1", ("cpython", (3, 12, 1), False)),
    ("3.12", ("cpython", (3, 12), False)),
    ("pypy3.10", ("pypy", (3, 10), False)),
    ("pypy3.10-7.3.12", ("pypy", (3, 10), False)),
    ("3.13t", ("cpython", (3, 13), True)),
    ("3.14.0rc1", ("cpython", (3, 14, 0), False)),
    ("cpython-3.12.1", ("cpython", (3, 12, 1), False)),
    ("miniconda3-latest", ("miniconda", (3,), False)),
    ("system", None),
    ("", None),
])
def test_parse_name(text, expected):
    assert interpreters.parse_name(text) == expected


def test_found_where_each_tool_keeps_them(machine):
    found = {(i.source, i.version_text) for i in interpreters.installed(machine)}
    assert ("pyenv", "3.12.3") in found and ("pyenv", "pypy3.10") in found
    assert ("uv", "3.14.0") in found
    assert ("PATH", "3.9") in found
    # pyenv-virtualenv envs and pyenv's shims are not interpreters to build on
    assert not any(i.path.endswith(os.path.join("shims", "python3.8")) for i in interpreters.installed(machine))
    assert not any("envs" in i.path or "/tool/" in i.path for i in interpreters.installed(machine))


@pytest.mark.parametrize("request_, version, source", [
    ("3.12.1", (3, 12, 1), "pyenv"),       # exact
    ("3.12", (3, 12, 3), "pyenv"),         # prefix: the newest installed 3.12
    ("3", (3, 14, 0), "uv"),               # the newest of all
    ("3.9", (3, 9, 20), "PATH"),           # PATH's python3.9, run once to learn the patch level
    ("3.9.20", (3, 9, 20), "PATH"),
    ("pypy3.10", (3, 10), "pyenv"),
    ("system", (3, 9, 20), "PATH"),
])
def test_python_version_line(machine, request_, version, source):
    found = picked(request_, machine)
    assert found is not None and found.version == version and found.source == source


@pytest.mark.parametrize("request_", ["3.1", "3.12.2", "3.10", "pypy3.9", "tool", "nonsense"])
def test_python_version_line_without_match(machine, request_):
    assert picked(request_, machine) is None


def test_prefix_does_not_match_a_longer_minor(machine):
    # "3.1" is 3.1.x, not 3.12 or 3.13
    assert picked("3.1", machine) is None


def test_several_lines_first_that_exists(machine, tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / ".python-version").write_text("3.5.1\n# a comment\n\n3.11  # trailing comment\n3.13\n")
    choice = interpreters.choose(str(root), machine)
    assert choice.problem is None
    assert choice.interpreter.version == (3, 11, 7)
    assert ".python-version (3.11)" in choice.reason


def test_nothing_matches_says_what_was_asked_and_what_exists(machine, tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / ".python-version").write_text("3.5\n3.4\n")
    choice = interpreters.choose(str(root), machine)
    assert choice.interpreter is None
    assert choice.problem.startswith(".python-version asks for 3.5, 3.4; installed: ")
    assert "3.12.3 (pyenv)" in choice.problem and "3.14.0 (uv)" in choice.problem
    assert "\n" not in choice.problem


def test_python_2_is_refused_with_the_reason(machine, tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / ".python-version").write_text("2.7\n")
    choice = interpreters.choose(str(root), machine)
    assert choice.interpreter is None
    assert "2.7.18" in choice.problem and "no venv module" in choice.problem


@pytest.mark.parametrize("spec, version", [
    (">=3.12", (3, 14, 0)),
    (">=3.11,<3.13", (3, 12, 3)),
    ("~=3.11.0", (3, 11, 7)),
    ("==3.12.1", (3, 12, 1)),
    ("==3.9.*", (3, 9, 20)),     # only PATH's python3.9 fits: it is run to learn 3.9.20
    (">=3.8", (3, 14, 0)),
])
def test_requires_python_newest_satisfying(machine, tmp_path, spec, version):
    choice = interpreters.choose(str(tmp_path), machine, requires_python=spec)
    assert choice.problem is None, choice.problem
    assert choice.interpreter.version == version
    assert choice.interpreter.impl == "cpython"


def test_requires_python_nothing_fits(machine, tmp_path):
    choice = interpreters.choose(str(tmp_path), machine, requires_python=">=3.20")
    assert choice.interpreter is None
    assert choice.problem.startswith("requires-python >=3.20 in pyproject.toml; installed: ")


def test_requires_python_invalid(machine, tmp_path):
    choice = interpreters.choose(str(tmp_path), machine, requires_python="three point twelve")
    assert choice.interpreter is None
    assert "not a valid version specifier" in choice.problem


def test_python_version_wins_over_requires_python(machine, tmp_path):
    (tmp_path / ".python-version").write_text("3.12.1\n")
    choice = interpreters.choose(str(tmp_path), machine, requires_python=">=3.13")
    assert choice.interpreter.version == (3, 12, 1)


def test_default_is_the_python_autoenv_runs_on(machine, tmp_path):
    choice = interpreters.choose(str(tmp_path), machine)
    assert choice.problem is None
    assert choice.interpreter.version == tuple(sys.version_info[:3])
    # the base interpreter, not the venv autoenv is installed in (tests run in one)
    prefix = os.path.dirname(os.path.dirname(choice.interpreter.path))
    assert not os.path.exists(os.path.join(prefix, "pyvenv.cfg"))


def test_explicit_request_overrides_the_project(machine, tmp_path):
    (tmp_path / ".python-version").write_text("3.12.1\n")
    choice = interpreters.choose(str(tmp_path), machine, request="3.13")
    assert choice.interpreter.version == (3, 13, 0)
    assert choice.reason == "--python (3.13)"


def test_pyenv_root_is_honoured(machine, tmp_path):
    elsewhere = dict(machine, PYENV_ROOT=str(tmp_path / "nowhere"))
    assert picked("3.12", elsewhere) is None
