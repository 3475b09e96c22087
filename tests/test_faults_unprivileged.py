"""Permission faults in real shells, as an unprivileged user (root passes
every permission check): an unreadable parent directory, a project directory
the user may not enter, an env the user may not read, a project that cannot
be written when an env would be created, and stamp dirs the user may not
write.  The shell stays usable, each problem gives at most one clear line,
and PATH comes back exactly as it was.
"""

import os
import subprocess

import pytest

from realshell import BASE_PATH, assert_answer_kept, autoenv_lines, quote_for
from unprivileged import NOBODY, SYSTEM_PYTHON, as_nobody, chown_tree, nobody_shell, scratch_dir

SHELLS = ["bash", "zsh", "fish"]


@pytest.fixture
def base():
    yield from scratch_dir()


def project_of_nobody(path, env=True):
    os.makedirs(os.path.join(path, "sub"))
    with open(os.path.join(path, "pyproject.toml"), "w") as handle:
        handle.write("[project]\nname = 'p'\n")
    chown_tree(path)
    if env:
        subprocess.run(as_nobody(SYSTEM_PYTHON, "-m", "venv", "--without-pip", os.path.join(path, ".venv")),
                       check=True)
    return path


def assert_untouched(shell):
    state = shell.state()
    assert state["VIRTUAL_ENV"] is None and state["PATH"] == BASE_PATH, state


def assert_active(shell, root):
    state = shell.state()
    assert state["VIRTUAL_ENV"] == os.path.join(root, ".venv")
    assert state["python"] == os.path.join(root, ".venv", "bin", "python")


@pytest.mark.parametrize("kind", SHELLS)
def test_parent_directory_without_read_permission(base, kind):
    """Search permission is all the walk needs: a parent that cannot be listed changes nothing."""
    locked = os.path.join(base, "locked")
    root = project_of_nobody(os.path.join(locked, "proj"))
    os.chmod(locked, 0o711)  # root's: nobody may pass through, not list it
    shell = nobody_shell(kind, base)
    assert "Permission denied" in shell.run("ls %s" % quote_for(kind, locked))
    printed = shell.cd(root)
    assert autoenv_lines(printed) == [], printed
    assert_active(shell, root)
    for step in ("cd sub", "true"):
        assert autoenv_lines(shell.run(step)) == [], step
    assert_active(shell, root)
    shell.cd(base)
    assert_untouched(shell)


@pytest.mark.parametrize("kind", SHELLS)
def test_parent_directory_closed_while_inside(base, kind):
    """A parent that nobody may even pass through any more: the shell stays usable and leaves cleanly."""
    gate = os.path.join(base, "gate")
    root = project_of_nobody(os.path.join(gate, "proj"))
    shell = nobody_shell(kind, base)
    shell.cd(os.path.join(root, "sub"))
    assert_active(shell, root)
    os.chmod(gate, 0o700)
    printed = shell.run("true") + shell.run("true")
    assert "Traceback" not in printed
    assert len(autoenv_lines(printed)) <= 1, printed
    assert shell.run("echo usable").startswith("usable")
    printed = shell.cd(base)
    assert "Traceback" not in printed and len(autoenv_lines(printed)) <= 1, printed
    assert_untouched(shell)
    assert autoenv_lines(shell.run("true")) == []


@pytest.mark.parametrize("kind", SHELLS)
def test_project_directory_permission_denied(base, kind):
    root = project_of_nobody(os.path.join(base, "closed"))
    chown_tree(root, 0, 0)
    os.chmod(root, 0o700)
    shell = nobody_shell(kind, base)
    printed = shell.cd(root)
    # The shell's own complaint, nothing from autoenv.
    assert "ermission denied" in printed and autoenv_lines(printed) == [], printed
    assert_untouched(shell)
    assert shell.run("echo usable").startswith("usable")


@pytest.mark.parametrize("kind", SHELLS)
def test_env_directory_permission_denied(base, kind):
    """An env nobody may not open: not activated, one line at most, nothing at the next prompts."""
    root = project_of_nobody(os.path.join(base, "proj"))
    os.chmod(os.path.join(root, ".venv"), 0)
    shell = nobody_shell(kind, base)
    printed = shell.cd(root)
    assert autoenv_lines(printed) == [
        "autoenv: not activating %s/.venv: you may not open it (permission denied)" % root], printed
    assert_untouched(shell)
    for step in ("true", "cd sub", "true"):
        assert autoenv_lines(shell.run(step)) == [], step
    assert_untouched(shell)


@pytest.mark.parametrize("kind", SHELLS)
def test_creation_in_a_project_that_cannot_be_written(base, kind):
    """Read-only (here: the owner took away write permission): creation refuses with one line, once."""
    root = project_of_nobody(os.path.join(base, "readonly"), env=False)
    os.chmod(root, 0o555)
    shell = nobody_shell(kind, base)
    printed = shell.cd(root)
    said = autoenv_lines(printed)
    assert len(said) == 1 and "not creating" in said[0] and "cannot write" in said[0], printed
    assert os.listdir(root) == ["pyproject.toml", "sub"] or sorted(os.listdir(root)) == ["pyproject.toml", "sub"]
    for step in ("true", "cd sub", "true", "cd .."):
        assert autoenv_lines(shell.run(step)) == [], step
    assert_untouched(shell)
    shell.cd(base)
    assert_untouched(shell)
    assert sorted(os.listdir(root)) == ["pyproject.toml", "sub"]


@pytest.mark.parametrize("kind", SHELLS)
def test_stamp_dirs_the_user_cannot_write(base, kind):
    """The temp and runtime dirs made read-only: the stamp goes to the cache, silently."""
    root = project_of_nobody(os.path.join(base, "proj"))
    temp, runtime = os.path.join(base, "closed-tmp"), os.path.join(base, "run")
    for path in (temp, runtime):
        os.mkdir(path)
        os.chown(path, NOBODY, NOBODY)
        os.chmod(path, 0o500)
    cache = os.path.join(base, "home", ".cache")
    shell = nobody_shell(kind, base, env={"TMPDIR": temp, "XDG_RUNTIME_DIR": runtime, "XDG_CACHE_HOME": cache,
                                          "AUTOENV_CREATE": "0"})
    printed = shell.printed_at_start + shell.cd(root)
    assert autoenv_lines(printed) == [], printed
    assert_active(shell, root)
    stamps = os.path.join(cache, "autoenv", "stamps")
    assert os.stat(stamps).st_uid == NOBODY
    assert_answer_kept(shell, os.path.join(stamps, str(shell.child.pid)), ("true", "cd sub", "true"))
    assert os.listdir(runtime) == [] and os.listdir(temp) == []


@pytest.mark.parametrize("kind", SHELLS)
def test_no_stamp_dir_the_user_can_write(base, kind):
    root = project_of_nobody(os.path.join(base, "proj"))
    closed = os.path.join(base, "closed")
    os.mkdir(closed, 0o755)  # root's: nobody cannot make anything in it
    env = {"XDG_RUNTIME_DIR": closed, "XDG_CACHE_HOME": closed, "TMPDIR": closed, "AUTOENV_CREATE": "0"}
    shell = nobody_shell(kind, base, env=env)
    printed = shell.printed_at_start + shell.cd(root)
    said = autoenv_lines(printed)
    assert len(said) == 1 and "cannot write a stamp file" in said[0] and "Permission denied" in said[0], printed
    assert_active(shell, root)
    for step in ("true", "cd sub", "true", "cd ..", "true"):
        assert autoenv_lines(shell.run(step)) == [], step
    shell.cd(base)
    assert_untouched(shell)
    assert autoenv_lines(shell.cd(root)) == []
    assert_active(shell, root)
