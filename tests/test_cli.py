"""The autoenv command: init (with shell detection), status, enable, disable."""

import json
import os
import subprocess
import sys

import pytest

from conftest import require_shell
from realshell import AUTOENV


def autoenv(*args, cwd=None, env=None):
    environ = dict(os.environ)
    environ.pop("VIRTUAL_ENV", None)
    environ.pop("_AUTOENV_ENV", None)
    environ.update(env or {})
    return subprocess.run([AUTOENV, *args], capture_output=True, text=True, cwd=cwd, env=environ,
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("kind", ["bash", "zsh", "fish"])
def test_init_detects_the_calling_shell(kind):
    require_shell(kind)
    # As in an rc file: the command substitution's subshell runs autoenv, the shell is its parent.
    line = 'eval "$("$0" init)"' if kind != "fish" else '$argv[1] init | source'
    args = [kind, "-c", line, AUTOENV] if kind != "fish" else [kind, "--no-config", "-c", line, AUTOENV]
    result = subprocess.run(args, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "detected %s" % kind in result.stderr


# Runs `autoenv init` from a process orphaned by a double fork, so its ancestors are
# only what adopted it (PID 1 or a subreaper), not the shell that ran pytest.  It
# reports those ancestors' names, read from /proc, to say which answer is right.
ORPHANED_INIT = r"""
import json, os, subprocess, sys, time
intermediate = os.getpid()
if os.fork():
    os._exit(0)
while os.getppid() == intermediate:
    time.sleep(0.01)
names, pid = [], os.getppid()
while pid > 0:
    with open("/proc/%d/stat" % pid) as handle:
        stat = handle.read()
    names.append(stat[stat.index("(") + 1:stat.rindex(")")])
    pid = int(stat[stat.rindex(")") + 2:].split()[1])
result = subprocess.run([sys.argv[1], "init"], capture_output=True, text=True)
print(json.dumps({"ancestors": names, "code": result.returncode, "stderr": result.stderr}))
"""


def test_init_without_a_shell_parent_asks_for_a_name():
    result = subprocess.run([sys.executable, "-c", ORPHANED_INIT, AUTOENV], capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin"}, start_new_session=True)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert "Traceback" not in report["stderr"]
    shells = [name.lstrip("-") for name in report["ancestors"] if name.lstrip("-") in ("bash", "zsh", "fish", "pwsh")]
    if shells:  # e.g. a container whose PID 1 is a shell: that one is named
        assert report["code"] == 0 and "detected %s" % shells[0] in report["stderr"], report
    else:
        assert report["code"] == 2 and "name it" in report["stderr"], report


def test_init_rejects_unknown_shell():
    result = autoenv("init", "tcsh")
    assert result.returncode == 2
    assert "tcsh" in result.stderr


def test_status_in_a_project(project):
    result = autoenv("status", cwd=str(project / "sub"), env={"PWD": str(project / "sub")})
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
    status = autoenv("status", str(project / "sub"))
    assert "disabled by %s" % marker in status.stdout
    again = autoenv("disable", str(project))
    assert "already disabled" in again.stdout
    enabled = autoenv("enable", str(project))
    assert enabled.returncode == 0 and not marker.exists()
    assert "disabled" not in autoenv("status", str(project)).stdout


def test_enable_points_at_a_marker_further_up(project):
    (project / ".autoenv-disable").write_text("")
    result = autoenv("enable", str(project / "sub"))
    assert result.returncode == 1
    assert "still disabled here by %s" % (project / ".autoenv-disable") in result.stderr
