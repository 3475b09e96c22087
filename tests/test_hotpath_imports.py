"""The helper the shells start on a directory change imports the standard library only.

Run exactly as the snippets run it (``python -I -S _run_hook.py SHELL PID PWD``)
with ``-X importtime``, which lists every module the process imported.
"""

import os
import subprocess
import sys

import pytest

from realshell import make_venv

HELPER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "autoenv", "_run_hook.py")
# Heavy or needless on a prompt: third-party libraries and stdlib modules the
# decision does not need.
FORBIDDEN = {"click", "psutil", "tomllib", "tomli", "packaging", "pathlib", "re", "json",
             "subprocess", "shutil", "typing", "importlib.metadata"}


def imported_modules(pwd, environ, shell):
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-X", "importtime", HELPER, shell, "4242", pwd],
        cwd=pwd, env=environ, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    modules = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                modules.add(name)
        elif line.strip():
            raise AssertionError("the helper printed a message: %r" % line)
    assert "autoenv.hook" in modules, "importtime listed nothing: %r" % result.stderr[:500]
    return modules, result.stdout


@pytest.fixture
def tree(tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    env = make_venv(str(proj / ".venv"))
    outside = tmp_path / "outside"
    outside.mkdir()
    environ = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
               "XDG_RUNTIME_DIR": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state"),
               "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_DATA_HOME": str(tmp_path / "data")}
    return str(proj), env, str(outside), environ


def cases(tree):
    proj, env, outside, environ = tree
    active = dict(environ, VIRTUAL_ENV=env, _AUTOENV_ENV=env, VIRTUAL_ENV_PROMPT="proj",
                  PATH=os.path.join(env, "bin") + ":" + environ["PATH"])
    return {
        "activate": (proj, environ, "export VIRTUAL_ENV="),
        "subdirectory-unchanged": (proj, active, "__autoenv_prompt_set"),
        "deactivate": (outside, active, "unset VIRTUAL_ENV"),
        "no-project": (outside, environ, "__autoenv_prompt_set $''"),
    }


@pytest.mark.parametrize("case", ["activate", "subdirectory-unchanged", "deactivate", "no-project"])
@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_helper_imports_only_the_standard_library(tree, case, shell):
    pwd, environ, expected_output = cases(tree)[case]
    modules, stdout = imported_modules(pwd, environ, shell)
    assert expected_output in stdout  # the case really took the path it is named for
    assert not modules & FORBIDDEN, sorted(modules & FORBIDDEN)
    stdlib = sys.stdlib_module_names
    outside_stdlib = {m for m in modules if m.split(".")[0] not in stdlib and m.split(".")[0] != "autoenv"}
    assert not outside_stdlib, sorted(outside_stdlib)
    assert not any(m.startswith("autoenv.") and m.split(".")[1] in {"cli", "status", "init", "doctor"}
                   for m in modules), sorted(m for m in modules if m.startswith("autoenv"))
    # Only the renderer of the shell that asked.
    renderers = {m for m in modules if m.startswith("autoenv.render.")} - {"autoenv.render.base",
                                                                          "autoenv.render.posix"}
    assert renderers == {"autoenv.render." + shell}
