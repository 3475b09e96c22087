"""Envs other tools made, activated in real interactive shells.

Each tool's env is a real venv laid out where that tool keeps it (names and
hashes from the reference implementation in test_others.py) in the temporary
HOME; the project holds only the tool's own files.  After each typed `cd` the
shell's VIRTUAL_ENV, PATH, `command -v python` and that python's sys.prefix
are checked, and no `.venv` may appear beside the project: autoenv's own
creation must not run when a tool's env exists.
"""

import os
import shutil

import pytest

from realshell import AUTOENV, BASE_PATH, make_venv, quote_for
from test_others import ref_hatch_env, ref_pdm_prefix, ref_pipenv_env_name, ref_poetry_env_name

SHELLS = ["bash", "zsh", "fish"]


def write(path, text=""):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def assert_active(state, env):
    assert state["VIRTUAL_ENV"] == env
    assert state["PATH"] == os.path.join(env, "bin") + ":" + BASE_PATH
    assert state["python"] == os.path.join(env, "bin", "python")
    assert state["prefix"] == env


def assert_inactive(state):
    assert state["VIRTUAL_ENV"] is None
    assert state["PATH"] == BASE_PATH


def settle(shell):
    """Inactive, and past the one extra helper run a dir changed within the
    stamp's margin may cause, so the next activation is the watch's doing."""
    shell.run("sleep 0.1")
    shell.run("true")
    assert_inactive(shell.state())


@pytest.fixture
def src(tmp_path):
    """Projects live outside HOME: the state dump writes into HOME, and its
    mtime change alone would re-run the helper and hide a missing watch."""
    path = tmp_path / "src"
    path.mkdir()
    return str(path)


@pytest.fixture
def layout(home, src):
    """A project per tool, each with the env its tool made, where that tool keeps it."""
    cache = os.path.join(home, ".cache")
    data = os.path.join(home, ".local", "share")
    projects = {}

    poetry = os.path.join(src, "poetry app")
    write(os.path.join(poetry, "pyproject.toml"), '[project]\nname = "Poetry_App"\nversion = "1"\n')
    write(os.path.join(poetry, "poetry.lock"))
    venvs = os.path.join(cache, "pypoetry", "virtualenvs")
    base = ref_poetry_env_name("Poetry_App", poetry)
    projects["poetry"] = (poetry, make_venv(os.path.join(venvs, base + "-py3.11")))
    write(os.path.join(venvs, "envs.toml"), '[%s]\nminor = "3.11"\npatch = "3.11.7"\n' % base)

    pipenv = os.path.join(src, "pipenv (app)")
    write(os.path.join(pipenv, "Pipfile"), "[packages]\n")
    projects["pipenv"] = (pipenv, make_venv(os.path.join(data, "virtualenvs", ref_pipenv_env_name(pipenv))))

    pyenv_root = os.path.join(home, ".pyenv")
    pyenv_env = make_venv(os.path.join(pyenv_root, "versions", "3.11.7", "envs", "pe-env"))
    os.symlink(pyenv_env, os.path.join(pyenv_root, "versions", "pe-env"))
    pyenv = os.path.join(src, "pyenv-app")
    write(os.path.join(pyenv, "requirements.txt"))
    write(os.path.join(pyenv, ".python-version"), "pe-env\n")
    projects["pyenv-virtualenv"] = (pyenv, pyenv_env)

    wrapped = os.path.join(src, "wrapped")
    write(os.path.join(wrapped, ".venv"), "wrapped-env\n")
    projects[".venv file"] = (wrapped, make_venv(os.path.join(home, ".virtualenvs", "wrapped-env")))

    # pdm's central venvs (no .pdm-python): <location>/<dir name>-<hash>-<suffix>.
    pdm = os.path.join(src, "pdm app")
    write(os.path.join(pdm, "pyproject.toml"), '[project]\nname = "pdm-app"\n')
    write(os.path.join(pdm, "pdm.lock"))
    projects["pdm"] = (pdm, make_venv(os.path.join(data, "pdm", "venvs", ref_pdm_prefix(pdm) + "3.11")))

    hatch = os.path.join(src, "hatch-app")
    write(os.path.join(hatch, "pyproject.toml"), '[project]\nname = "Hatch_App"\nversion = "1"\n')
    projects["hatch"] = (hatch, make_venv(ref_hatch_env(os.path.join(data, "hatch", "env", "virtual"),
                                                          "Hatch_App", hatch)))

    # The shell sets UV_PROJECT_ENVIRONMENT=uv-env (relative to each project root).
    uv = os.path.join(src, "uv-app")
    write(os.path.join(uv, "pyproject.toml"), '[project]\nname = "uv-app"\n')
    write(os.path.join(uv, "uv.lock"))
    projects["uv"] = (uv, make_venv(os.path.join(uv, "uv-env")))
    return projects


@pytest.mark.parametrize("kind", SHELLS)
def test_tool_envs_activate_and_nothing_is_created(spawn, home, layout, kind):
    shell = spawn(kind, env={"PYENV_ROOT": os.path.join(home, ".pyenv"), "UV_PROJECT_ENVIRONMENT": "uv-env"})
    for tool, (root, env) in layout.items():
        shell.cd(root)
        assert_active(shell.state(), env)
        sub = os.path.join(root, "pkg")
        os.makedirs(sub, exist_ok=True)
        shell.cd(sub)
        assert_active(shell.state(), env)
        if tool != ".venv file":
            assert not os.path.lexists(os.path.join(root, ".venv")), tool
        assert not [name for name in os.listdir(root) if name.startswith(".autoenv-build")]
        status = shell.run(quote_for(kind, AUTOENV) + " status")
        assert "env:        %s (%s)" % (env, tool) in status, status
    shell.cd(home)
    assert_inactive(shell.state())


@pytest.mark.parametrize("kind", SHELLS)
def test_env_made_later_elsewhere_is_picked_up_at_the_next_prompt(spawn, home, src, kind):
    """`poetry install` makes the env in poetry's cache, not in the project: the
    shell watches that dir, so the next prompt activates it without a cd."""
    root = os.path.join(src, "later")
    write(os.path.join(root, "pyproject.toml"), '[project]\nname = "later"\n')
    write(os.path.join(root, "poetry.lock"))
    venvs = os.path.join(home, ".cache", "pypoetry", "virtualenvs")
    os.makedirs(venvs)
    shell = spawn(kind, env={"AUTOENV_CREATE": "0"})
    shell.cd(root)
    settle(shell)
    base = ref_poetry_env_name("later", root)
    old = make_venv(os.path.join(venvs, base + "-py3.10"))
    shell.run("true")
    assert_active(shell.state(), old)
    # `poetry env use 3.11`: a second env and envs.toml rewritten in place.
    new = make_venv(os.path.join(venvs, base + "-py3.9"))
    write(os.path.join(venvs, "envs.toml"), '[%s]\nminor = "3.9"\n' % base)
    shell.run("true")
    assert_active(shell.state(), new)


@pytest.mark.parametrize("kind", SHELLS)
def test_first_env_of_a_tool_is_picked_up_at_the_next_cd(spawn, home, src, kind):
    """pipenv's very first env: ~/.local/share/virtualenvs did not exist, and
    ~/.local/share itself is not watched (every program writes there), so the
    env shows at the next cd into the project (README, documented limit)."""
    root = os.path.join(src, "pp")
    write(os.path.join(root, "Pipfile"), "[packages]\n")
    os.makedirs(os.path.join(home, ".local", "share"))
    os.makedirs(os.path.join(src, "elsewhere"))
    shell = spawn(kind, env={"AUTOENV_CREATE": "0"})
    shell.cd(root)
    settle(shell)
    env = make_venv(os.path.join(home, ".local", "share", "virtualenvs", ref_pipenv_env_name(root)))
    shell.cd(os.path.join(src, "elsewhere"))
    shell.cd(root)
    assert_active(shell.state(), env)
    # From now on its dir exists and is watched: a replaced env shows at the next prompt.
    shell.cd(os.path.join(src, "elsewhere"))
    shutil.rmtree(env)
    shell.cd(root)
    settle(shell)
    make_venv(env)
    shell.run("true")
    assert_active(shell.state(), env)
