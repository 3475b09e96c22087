"""What the helper skips to stay cheap, and that skipping it changes no answer.

Timings are measured by benchmarks/; these tests check the structure: which
modules a run loads, and that the cheap paths agree with the full ones.
"""

import os
import subprocess
import sys

import pytest

from autoenv import create, hook, trust
from realshell import HELPER



def run_helper(pwd, environ):
    """The helper as the snippets start it (same process group as this test)."""
    result = subprocess.run([sys.executable, "-I", "-S", "-X", "importtime", HELPER, "bash", "4242", pwd],
                            env=environ, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    modules = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines()
               if line.startswith("import time:") and "|" in line}
    return modules, result.stdout


def test_interrupt_marker_has_one_definition(helper_places):
    _, _, _, environ = helper_places
    assert create._interrupt_marker(environ) == hook.interrupt_marker(environ)
    assert hook.interrupt_marker(environ) == os.path.join(
        environ["XDG_CACHE_HOME"], "autoenv", "interrupted", str(os.getpgrp()))


@pytest.mark.parametrize("where", ["project", "outside"])
def test_no_creation_module_without_an_interrupt_marker(helper_places, where):
    proj, _, outside, environ = helper_places
    modules, stdout = run_helper(proj if where == "project" else outside, environ)
    assert ("export VIRTUAL_ENV=" in stdout) == (where == "project")
    assert "autoenv.hook" in modules and "autoenv.create" not in modules


def test_marker_still_forgotten_after_leaving_the_project(helper_places):
    proj, _, outside, environ = helper_places
    create._remember_interrupt(proj, environ)
    marker = hook.interrupt_marker(environ)
    assert os.path.exists(marker)
    modules, _ = run_helper(proj, environ)
    assert "autoenv.create" in modules and os.path.exists(marker)  # still inside: kept
    run_helper(outside, environ)
    assert not os.path.exists(marker)


@pytest.mark.parametrize("kind", ["dir", "file", "fifo", "dangling-link", "none"])
def test_find_repository_sees_what_stat_sees(tmp_path, kind):
    top = tmp_path / "top"
    deep = top.joinpath(*("d%d" % i for i in range(12)))
    deep.mkdir(parents=True)
    dot_git = top / ".git"
    real_git = tmp_path / "real.git"
    real_git.mkdir()
    if kind == "dir":
        dot_git.mkdir()
    elif kind == "file":
        dot_git.write_text("gitdir: %s\n" % real_git)
    elif kind == "fifo":
        os.mkfifo(str(dot_git))
    elif kind == "dangling-link":
        dot_git.symlink_to(tmp_path / "missing")
    found = trust.find_repository(str(deep))
    expected = {"dir": (str(top), str(dot_git)), "file": (str(top), str(real_git))}.get(kind)
    if expected is None:
        # Nothing here counts: the walk goes on above tmp_path, which holds no repository of ours.
        assert found is None or not found[0].startswith(str(tmp_path))
    else:
        assert found == expected


def test_check_resolves_the_env_once_and_answers_as_before(helper_places, tmp_path, monkeypatch):
    proj, env, _, environ = helper_places
    link = tmp_path / "link"
    link.symlink_to(proj)
    calls = []
    real_path = trust.real_path

    def counting(path):
        calls.append(path)
        return real_path(path)

    monkeypatch.setattr(trust, "real_path", counting)
    finding = type("F", (), {})()
    finding.env = os.path.join(str(link), ".venv")
    assert trust.check(finding, environ) is None
    assert calls == [finding.env]
    trust.record(env, trust.DENY, environ)
    assert "you denied it" in trust.check(finding, environ)


HOSTILE = "a'\"; $(x) \n\t\x1b èрт🚒 \udcff"


@pytest.mark.parametrize("case", ["plain", "linked-parent", "link-chain", "relative-dotdot", "missing",
                                  "missing-under-link", "file", "hostile", "deep", "root"])
def test_real_path_is_realpath(tmp_path, case):
    base = tmp_path / "base"
    target = base / "target" / "inner"
    target.mkdir(parents=True)
    (target / "f").write_text("")
    (tmp_path / "l1").symlink_to(base)
    (tmp_path / "l2").symlink_to(tmp_path / "l1")
    (base / "up").symlink_to("target/inner/../inner/..")
    hostile = tmp_path / os.fsdecode(os.fsencode(HOSTILE))
    hostile.mkdir()
    (hostile / "link").symlink_to(target)
    deep = tmp_path.joinpath(*["d%02d" % i for i in range(45)])
    deep.mkdir(parents=True)
    path = {
        "plain": target,
        "linked-parent": tmp_path / "l1" / "target" / "inner",
        "link-chain": tmp_path / "l2" / "target" / "inner" / "f",
        "relative-dotdot": base / "up" / "inner",
        "missing": base / "nothing" / "here",
        "missing-under-link": tmp_path / "l2" / "nothing",
        "file": target / "f",
        "hostile": hostile / "link",
        "deep": deep,
        "root": "/",
    }[case]
    expected = os.path.realpath(str(path))
    assert trust.real_path(str(path)) == expected
    if trust._BY_PROC_FD and not case.startswith("missing"):
        # An existing path is answered by the kernel, without realpath's walk.
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(os.path, "realpath", None)
            assert trust.real_path(str(path)) == expected
