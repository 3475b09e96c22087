"""The helper the shells start on a directory change imports the standard library only.

Run exactly as the snippets run it (``python -I -S _run_hook.py SHELL PID PWD``)
with ``-X importtime``, which lists every module the process imported.
"""

import os
import subprocess
import sys

import pytest

from realshell import HELPER

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


def cases(places):
    proj, env, outside, environ = places
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
def test_helper_imports_only_the_standard_library(helper_places, case, shell):
    pwd, environ, expected_output = cases(helper_places)[case]
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


# Cases in and results out as Python literals: json would import re.
SERVER_SESSION = r"""
import sys
sys.path.insert(0, sys.argv[1])
from autoenv import render, serve
cases = eval(sys.argv[2])
channel = sys.argv[3]
shell = render.get("bash")
statuses = [serve.respond(shell, "4242", channel, pwd, environ, {}) for pwd, environ in cases]
print(repr([statuses, sorted(sys.modules)]))
"""


def test_server_answering_every_case_imports_only_the_standard_library(helper_places, tmp_path):
    """The server is the hot path of a switch: the same rule, over a session."""
    import ast

    session = [cases(helper_places)[name][:2] for name in ("activate", "subdirectory-unchanged", "deactivate",
                                                         "no-project")]
    result = subprocess.run([sys.executable, "-I", "-S", "-c", SERVER_SESSION, os.path.dirname(os.path.dirname(HELPER)),
                             repr(session), str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    statuses, modules = ast.literal_eval(result.stdout)
    assert statuses == ["ok"] * 4  # answered, not handed back
    assert not set(modules) & FORBIDDEN, sorted(set(modules) & FORBIDDEN)
    outside_stdlib = {m for m in modules if m.split(".")[0] not in sys.stdlib_module_names
                      and m.split(".")[0] not in ("autoenv", "__main__")}
    assert not outside_stdlib, sorted(outside_stdlib)
