import os

import pytest

from realshell import InteractiveShell, shell_available

IN_CI = os.environ.get("CI") == "true"


def require_shell(kind):
    """Skip when a shell is missing here; under CI a missing shell is a failure."""
    if shell_available(kind):
        return
    if IN_CI:
        pytest.fail("%s is not installed; .ci/run must install it" % kind)
    pytest.skip("%s is not installed (the test command installs it where it may)" % kind)


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "home"
    path.mkdir()
    return str(path)


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
