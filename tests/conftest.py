import os
import shutil

import pytest

from realshell import InteractiveShell, make_venv, shell_available

IN_CI = os.environ.get("CI") == "true"


def missing(message):
    """Skip for something this machine lacks; under CI it is a failure (CI installs everything)."""
    if IN_CI:
        pytest.fail("%s; .ci/run must install it" % message)
    pytest.skip(message)


def require_shell(kind):
    """Skip when a shell is missing here; under CI a missing shell is a failure."""
    if not shell_available(kind):
        missing("%s is not installed (the test command installs it where it may)" % kind)


def require_tool(name, path=None):
    """The tool's path (``path`` when given, else ``name`` looked up on PATH); missing: see ``missing``."""
    found = (path if os.access(path, os.X_OK) else None) if path else shutil.which(name)
    if not found:
        missing("%s is not installed" % name)
    return found


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "home"
    path.mkdir()
    return str(path)


@pytest.fixture
def project(tmp_path):
    """tmp_path/proj: a pyproject.toml, a real .venv and a subdir ``sub``; tmp_path/outside beside it."""
    root = tmp_path / "proj"
    (root / "sub").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'proj'\n")
    make_venv(str(root / ".venv"))
    (tmp_path / "outside").mkdir()
    return root


@pytest.fixture
def spawn(home):
    """spawn(kind, **kw) starts a real interactive shell with autoenv hooked in."""
    shells = []

    def start(kind, **kwargs):
        require_shell(kind)
        shell = InteractiveShell(kind, home, **kwargs)
        shells.append(shell)
        return shell

    yield start
    for shell in shells:
        shell.close()


@pytest.fixture
def helper_places(tmp_path):
    """(project, its env, a dir outside it, a clean environ) for running the helper directly."""
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    env = make_venv(str(proj / ".venv"))
    outside = tmp_path / "outside"
    outside.mkdir()
    environ = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
               "XDG_RUNTIME_DIR": str(tmp_path), "TMPDIR": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state"),
               "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_DATA_HOME": str(tmp_path / "data")}
    return str(proj), env, str(outside), environ
