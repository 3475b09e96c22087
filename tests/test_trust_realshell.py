"""Trust in real interactive shells: refused envs stay off PATH, the reason is
shown once per visit, and `autoenv allow`/`deny` take effect at the next prompt
in every open shell."""

import os
import subprocess

import pytest

from conftest import require_shell
from realshell import AUTOENV, BASE_PATH, make_venv, quote_for
from test_trust import git
from unprivileged import NOBODY, SYSTEM_PYTHON, as_nobody, chown_tree, nobody_shell, scratch_dir

SHELLS = ["bash", "zsh", "fish"]
REFUSED = "autoenv: not activating"


@pytest.fixture
def cloned(tmp_path):
    """A project whose .venv is committed to its repository, as after a clone."""
    root = tmp_path / "cloned"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'cloned'\n")
    make_venv(str(root / ".venv"))
    git("init", "-q", cwd=root)
    git("add", ".venv/pyvenv.cfg", "pyproject.toml", cwd=root)
    (tmp_path / "elsewhere").mkdir()
    return root


def autoenv_line(kind, *args):
    return " ".join([quote_for(kind, AUTOENV)] + list(args))


def assert_inactive(state):
    assert state["VIRTUAL_ENV"] is None
    assert state["PATH"] == BASE_PATH
    assert state["python"] != os.path.join(state["cwd"] or "", ".venv", "bin", "python")


@pytest.mark.parametrize("kind", SHELLS)
def test_tracked_env_is_refused_once_per_visit_then_allowed_and_denied(spawn, cloned, tmp_path, kind):
    shell = spawn(kind)
    env = str(cloned / ".venv")
    printed = shell.cd(str(cloned))
    assert printed.count(REFUSED) == 1, printed
    assert "tracked by the git repository" in printed and "autoenv allow" in printed
    assert_inactive(shell.state())
    # More prompts in the same directory: silent, still inactive.
    for _ in range(3):
        assert REFUSED not in shell.run("true")
    (cloned / "sub").mkdir()
    assert REFUSED not in shell.cd(str(cloned / "sub"))
    assert REFUSED not in shell.cd(str(cloned))
    # Leave and come back: one line again.
    assert REFUSED not in shell.cd(str(tmp_path / "elsewhere"))
    assert shell.cd(str(cloned)).count(REFUSED) == 1

    printed = shell.run(autoenv_line(kind, "allow"))
    assert "allowed %s" % env in printed
    state = shell.state()  # the prompt after `allow` activated it, without a cd
    assert state["VIRTUAL_ENV"] == env
    assert state["PATH"] == os.path.join(env, "bin") + ":" + BASE_PATH
    assert state["python"] == os.path.join(env, "bin", "python")

    printed = shell.run(autoenv_line(kind, "deny"))
    assert "denied %s" % env in printed
    assert_inactive(shell.state())


@pytest.mark.parametrize("kind", SHELLS)
def test_allow_and_deny_reach_a_shell_deep_in_a_tree(spawn, tmp_path, kind):
    """Deep in a tree the server vouches for the chain; `allow` and `deny`
    change no directory on it, but date the stamp back: the next prompt
    still picks them up."""
    deep = tmp_path.joinpath(*("d%02d" % i for i in range(25)))
    root = deep / "cloned"
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'cloned'\n")
    make_venv(str(root / ".venv"))
    git("init", "-q", cwd=root)
    git("add", ".venv/pyvenv.cfg", "pyproject.toml", cwd=root)
    shell = spawn(kind)
    env = str(root / ".venv")
    assert shell.cd(str(root)).count(REFUSED) == 1
    for _ in range(3):
        shell.run("true")  # the chain handed to the server, and its token standing
    assert "allowed %s" % env in shell.run(autoenv_line(kind, "allow"))
    assert shell.state()["VIRTUAL_ENV"] == env
    assert "denied %s" % env in shell.run(autoenv_line(kind, "deny"))
    assert_inactive(shell.state())


@pytest.mark.parametrize("kind", ["bash", "zsh"])
def test_allow_in_one_shell_reaches_another_open_shell(spawn, cloned, kind):
    first, second = spawn(kind), spawn(kind)
    second.cd(str(cloned))
    assert second.state()["VIRTUAL_ENV"] is None
    first.run(autoenv_line(kind, "allow", quote_for(kind, str(cloned))))
    second.run("true")
    assert second.state()["VIRTUAL_ENV"] == str(cloned / ".venv")


@pytest.mark.parametrize("kind", ["bash", "zsh"])
def test_env_owned_by_a_stranger_is_refused(spawn, tmp_path, kind):
    root = tmp_path / "shared"
    root.mkdir()
    (root / "setup.py").write_text("")
    make_venv(str(root / ".venv"))
    os.chown(str(root / ".venv" / "bin"), 65534, 65534)
    shell = spawn(kind)
    printed = shell.cd(str(root))
    assert printed.count(REFUSED) == 1 and "owned by nobody" in printed
    assert_inactive(shell.state())


# ---------------------------------------------------------------- as an unprivileged user

@pytest.fixture
def nobody_base():
    yield from scratch_dir()


@pytest.mark.parametrize("kind", ["bash", "zsh"])
def test_as_an_unprivileged_user(nobody_base, kind):
    require_shell(kind)
    projects = os.path.join(nobody_base, "projects")
    os.mkdir(projects)
    own, foreign, shared = (os.path.join(projects, name) for name in ("own", "foreign", "shared"))
    for root in (own, foreign, shared):
        os.mkdir(root)
        open(os.path.join(root, "pyproject.toml"), "w").close()
    chown_tree(projects)
    # An env nobody made itself; one root put in nobody's project; one a shared group may write.
    for root in (own, shared):
        subprocess.run(as_nobody(SYSTEM_PYTHON, "-m", "venv", "--without-pip", os.path.join(root, ".venv")),
                       check=True)
    make_venv(os.path.join(foreign, ".venv"), python=SYSTEM_PYTHON)
    os.chown(os.path.join(shared, ".venv", "bin"), NOBODY, 100)
    os.chmod(os.path.join(shared, ".venv", "bin"), 0o775)

    shell = nobody_shell(kind, nobody_base)
    printed = shell.cd(own)
    assert REFUSED not in printed, printed
    state = shell.state()
    assert state["VIRTUAL_ENV"] == os.path.join(own, ".venv")
    assert state["python"] == os.path.join(own, ".venv", "bin", "python")

    printed = shell.cd(foreign)
    assert printed.count(REFUSED) == 1 and "owned by root" in printed, printed
    assert_inactive(shell.state())

    printed = shell.cd(shared)
    assert printed.count(REFUSED) == 1 and "is writable by its group" in printed, printed
    assert_inactive(shell.state())
