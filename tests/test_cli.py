"""The autoenv command: init (with shell detection), status, enable, disable."""

import os
import subprocess
import sys

import pytest

from conftest import require_shell
from realshell import AUTOENV, make_venv


def autoenv(*args, cwd=None, env=None):
    environ = dict(os.environ)
    environ.pop("VIRTUAL_ENV", None)
    environ.pop("_AUTOENV_ENV", None)
    environ.update(env or {})
    return subprocess.run([AUTOENV, *args], capture_output=True, text=True, cwd=cwd, env=environ,
                          stdin=subprocess.DEVNULL)


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'proj'\n")
    make_venv(str(root / ".venv"))
    return root


@pytest.mark.parametrize("kind", ["bash", "zsh", "fish"])
def test_init_detects_the_calling_shell(kind):
    require_shell(kind)
    # As in an rc file: the command substitution's subshell runs autoenv, the shell is its parent.
    line = 'eval "$("$0" init)"' if kind != "fish" else '$argv[1] init | source'
    args = [kind, "-c", line, AUTOENV] if kind != "fish" else [kind, "--no-config", "-c", line, AUTOENV]
    result = subprocess.run(args, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "detected %s" % kind in result.stderr


def test_init_without_a_shell_parent_asks_for_a_name():
    result = subprocess.run([sys.executable, "-c", "import subprocess,sys; sys.exit(subprocess.call([sys.argv[1], 'init']))",
                             AUTOENV], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"},
                            start_new_session=True)
    # Started from python under whatever ran pytest: either a shell up the tree is named,
    # or the user is told to name one.  Never a traceback.
    assert "Traceback" not in result.stderr
    assert result.returncode == 0 or "name it" in result.stderr


def test_init_rejects_unknown_shell():
    result = autoenv("init", "tcsh")
    assert result.returncode == 2
    assert "tcsh" in result.stderr


def test_status_in_a_project(project):
    result = autoenv("status", cwd=str(project / "src"), env={"PWD": str(project / "src")})
    assert result.returncode == 0, result.stderr
    assert "project:    %s" % project in result.stdout
    assert "env:        %s" % (project / ".venv") in result.stdout
    assert "no env is active" in result.stdout


def test_status_reports_active_and_manual(project):
    env = str(project / ".venv")
    auto = autoenv("status", str(project), env={"VIRTUAL_ENV": env, "_AUTOENV_ENV": env})
    assert "yes, by autoenv" in auto.stdout
    manual = autoenv("status", str(project), env={"VIRTUAL_ENV": "/elsewhere/env"})
    assert "activated by hand" in manual.stdout


def test_status_outside_any_project(tmp_path):
    result = autoenv("status", str(tmp_path))
    assert "project:    none" in result.stdout


def test_disable_then_enable(project):
    disabled = autoenv("disable", str(project))
    assert disabled.returncode == 0
    marker = project / ".autoenv-disable"
    assert marker.exists()
    status = autoenv("status", str(project / "src"))
    assert "disabled by %s" % marker in status.stdout
    again = autoenv("disable", str(project))
    assert "already disabled" in again.stdout
    enabled = autoenv("enable", str(project))
    assert enabled.returncode == 0 and not marker.exists()
    assert "disabled" not in autoenv("status", str(project)).stdout


def test_enable_points_at_a_marker_further_up(project):
    (project / ".autoenv-disable").write_text("")
    result = autoenv("enable", str(project / "src"))
    assert result.returncode == 1
    assert "still disabled here by %s" % (project / ".autoenv-disable") in result.stderr
