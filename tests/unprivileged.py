"""Real shells run as the unprivileged user ``nobody``: root passes every
permission check, so ownership and mode rules can only be tested as someone
else (setpriv)."""

import os
import shutil
import tempfile

import pytest

from conftest import require_shell, require_tool
from realshell import InteractiveShell, quote_for

NOBODY = 65534
# The helper runs with the system Python: the dev venv lives under /root, closed to nobody.
SYSTEM_PYTHON = "/usr/bin/python3"


def as_nobody(*argv):
    return ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups", *argv]


def chown_tree(path, uid=NOBODY, gid=NOBODY):
    for directory, dirs, files in os.walk(path):
        os.lchown(directory, uid, gid)
        for name in dirs + files:
            os.lchown(os.path.join(directory, name), uid, gid)


def scratch_dir():
    """A world-traversable scratch dir (pytest's tmp dirs are private to root),
    removed afterwards even where a test closed directories inside it."""
    if os.geteuid() != 0:
        pytest.skip("already unprivileged: setting up these faults needs root")
    require_tool("setpriv")
    require_tool("python3", SYSTEM_PYTHON)
    # Not under /tmp: other programs change it all the time, and every dir on
    # the path counts when a test asserts that no helper ran.
    path = tempfile.mkdtemp(prefix="autoenv-nobody-", dir="/var/tmp")
    os.chmod(path, 0o755)
    yield path
    for directory, dirs, _ in os.walk(path):
        for name in dirs:
            os.chmod(os.path.join(directory, name), 0o755)
    shutil.rmtree(path)


def nobody_shell(kind, base, env=None):
    """An interactive ``kind`` running as nobody in ``base``/home, hooked with a
    snippet whose helper runs on the system Python."""
    from autoenv import init
    from autoenv.render import get as get_renderer

    require_shell(kind)
    home = os.path.join(base, "home")
    os.mkdir(home)
    renderer = get_renderer(kind)
    snippet = init.render_init(kind).replace(renderer.quote(init.helper_python()), renderer.quote(SYSTEM_PYTHON))
    assert SYSTEM_PYTHON in snippet
    snippet_file = os.path.join(home, "autoenv-init." + kind)
    with open(snippet_file, "w") as handle:
        handle.write(snippet)
    temp = os.path.join(base, "tmp")
    os.mkdir(temp)
    environ = {"AUTOENV_TEST_PY": SYSTEM_PYTHON, "TMPDIR": temp}
    environ.update(env or {})
    shell = InteractiveShell(kind, home, init=False, prefix=as_nobody(), env=environ)
    chown_tree(home)
    chown_tree(temp)
    shell.printed_at_start = shell.run("source %s" % quote_for(kind, snippet_file))
    assert shell.run("id -u").strip() == str(NOBODY)
    return shell
