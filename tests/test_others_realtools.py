"""Cross-check with the real tools, where they are installed: each tool makes
its env in a temporary HOME, then autoenv must find exactly that env.

The tools are not dependencies of autoenv: test.sh installs them into a venv
of their own (.venv-tools) and points AUTOENV_TEST_TOOLS_BIN at its bin dir;
without them these tests skip, except under CI, where they fail.  The always-run counterpart is
test_others.py::test_names_the_real_tools_made, whose constants came from
these tools.
"""

import os
import shutil
import subprocess
import sys

import pytest

from autoenv import detect
from conftest import missing

TOOLS_BIN = os.environ.get("AUTOENV_TEST_TOOLS_BIN", "")
PYTHON = os.path.realpath(sys.executable)


def tool(name):
    path = shutil.which(name, path=TOOLS_BIN) if TOOLS_BIN else shutil.which(name)
    if not path:
        missing("%s is not installed (test.sh installs it into .venv-tools; or set AUTOENV_TEST_TOOLS_BIN)" % name)
    return path


@pytest.fixture
def environ(home):
    env = {
        "HOME": home,
        "PATH": os.pathsep.join(filter(None, [TOOLS_BIN, "/usr/local/bin", "/usr/bin", "/bin"])),
        "XDG_CACHE_HOME": os.path.join(home, ".cache"),
        "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "LANG": "C.UTF-8",
        "PIP_NO_INDEX": "1",
        "PIPENV_YES": "1",
        "PIPENV_NOSPIN": "1",
        "PDM_CHECK_UPDATE": "false",
    }
    return env


def run(argv, cwd, environ, **extra):
    result = subprocess.run(argv, cwd=cwd, env=dict(environ, **extra), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def project(home, name, pyproject=None):
    root = os.path.join(home, "proj", name)
    os.makedirs(root)
    if pyproject:
        with open(os.path.join(root, "pyproject.toml"), "w") as handle:
            handle.write(pyproject)
    return root


def found(root, environ):
    return detect.find_env(detect.scan(root), environ)


def test_poetry(home, environ):
    poetry = tool("poetry")
    root = project(home, "My_Poetry.App", '[project]\nname = "My_Poetry.App"\nversion = "0.1.0"\n'
                                          '[tool.poetry]\npackage-mode = false\n')
    run([poetry, "env", "use", PYTHON], root, environ)
    made = run([poetry, "env", "info", "--path"], root, environ).strip().splitlines()[-1]
    finding = found(root, environ)
    assert (finding.env, finding.source) == (made, "poetry")


def test_pipenv(home, environ):
    pipenv = tool("pipenv")
    root = project(home, "pipenv proj(1)")
    with open(os.path.join(root, "Pipfile"), "w") as handle:
        handle.write("[packages]\n")
    run([pipenv, "--python", PYTHON], root, environ)
    made = run([pipenv, "--venv"], root, environ).strip().splitlines()[-1]
    finding = found(root, environ)
    assert (finding.env, finding.source) == (made, "pipenv")


def test_pdm(home, environ):
    pdm = tool("pdm")
    root = project(home, "pdmproj", '[project]\nname = "pdmproj"\nversion = "0.1"\nrequires-python = ">=3.8"\n'
                                    'dependencies = []\n[tool.pdm]\ndistribution = false\n')
    run([pdm, "venv", "create", PYTHON], root, environ, PDM_VENV_IN_PROJECT="false")
    venvs = os.path.join(environ["XDG_DATA_HOME"], "pdm", "venvs")
    (made,) = [os.path.join(venvs, name) for name in os.listdir(venvs)]
    finding = found(root, environ)
    assert (finding.env, finding.source) == (made, "pdm")  # without .pdm-python: pdm's own naming
    run([pdm, "use", "-f", os.path.join(made, "bin", "python")], root, environ)
    assert os.path.exists(os.path.join(root, ".pdm-python"))
    finding = found(root, environ)
    assert (finding.env, finding.source) == (made, "pdm") and ".pdm-python" in finding.why


def test_hatch(home, environ):
    hatch = tool("hatch")
    root = project(home, "Hatch_Proj", '[build-system]\nrequires = ["hatchling"]\n'
                                       'build-backend = "hatchling.build"\n'
                                       '[project]\nname = "Hatch_Proj"\nversion = "0.1"\n'
                                       '[tool.hatch.envs.default]\nskip-install = true\ninstaller = "pip"\n')
    run([hatch, "env", "create"], root, environ, HATCH_PYTHON=PYTHON)
    made = run([hatch, "env", "find"], root, environ).strip().splitlines()[-1]
    finding = found(root, environ)
    assert (finding.env, finding.source) == (made, "hatch")
