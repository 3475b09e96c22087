"""Envs other tools made: each tool's directories laid out exactly as that tool
lays them out, in a temporary HOME, then found by autoenv without the tool.

Names and hashes come from an independent reference (``ref_*`` below: the
tools' own formulas written with hashlib/base64/re) and from constants taken
from the real tools (poetry 2.5.1, pipenv 2026.10.3, pdm 2.29.4, hatch 1.18.2
run in a scratch venv; see test_names_the_real_tools_made).
"""

import base64
import hashlib
import io
import os
import re
import subprocess
import sys

import pytest

from autoenv import detect, hook, others, status
from conftest import missing

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---------------------------------------------------------------- reference names

def ref_poetry_env_name(name, cwd):
    # poetry/utils/env/env_manager.py generate_env_name (poetry 2.5.1), with the
    # name canonicalised as poetry-core's Package does.
    name = re.sub(r"[-_.]+", "-", name).lower()
    sanitized_name = re.sub(r'[ $`!*@"\\\r\n\t]', "_", name)[:42]
    normalized_cwd = os.path.normcase(os.path.realpath(cwd))
    h_bytes = hashlib.sha256(normalized_cwd.encode()).digest()
    h_str = base64.urlsafe_b64encode(h_bytes).decode()[:8]
    return "%s-%s" % (sanitized_name, h_str)


def ref_pipenv_env_name(project_dir):
    # pipenv/utils/venv_locator.py _get_virtualenv_hash (pipenv 2026.10.3)
    location = os.path.join(os.path.realpath(project_dir), "Pipfile")
    name = re.sub(r'[ &$`!*@"()\[\]\\\r\n\t]', "_", os.path.basename(os.path.dirname(location)))[0:42]
    encoded_hash = base64.urlsafe_b64encode(hashlib.sha256(location.encode()).digest()[:6]).decode()
    return "%s-%s" % (name, encoded_hash[:8])


def ref_pdm_prefix(root):
    # pdm/cli/commands/venv/utils.py get_venv_prefix + hash_path (pdm 2.29.4)
    root = os.path.realpath(root)
    digest = hashlib.md5(root.encode()).digest()
    return "%s-%s-" % (os.path.basename(root), base64.urlsafe_b64encode(digest).decode()[:8])


def ref_hatch_env(virtual_dir, name, root):
    # hatch/env/virtual.py + hatch/utils/fs.py Path.id (hatch 1.18.2), Linux
    name = re.sub(r"[-_.]+", "-", name).lower()
    project_id = base64.urlsafe_b64encode(
        hashlib.sha256(os.path.realpath(root).encode("utf-8")).digest()).decode("utf-8")[:8]
    return os.path.join(virtual_dir, name, project_id, name)


# ---------------------------------------------------------------- fixtures

def fake_env(path):
    """What detection looks at: a dir with pyvenv.cfg and bin/."""
    os.makedirs(os.path.join(path, detect.BIN_DIR), exist_ok=True)
    with open(os.path.join(path, "pyvenv.cfg"), "w") as handle:
        handle.write("include-system-site-packages = false\n")
    return path


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


@pytest.fixture
def environ(home):
    return {
        "HOME": home,
        "PATH": "/usr/bin:/bin",
        "XDG_CACHE_HOME": os.path.join(home, ".cache"),
        "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "XDG_STATE_HOME": os.path.join(home, ".local", "state"),
    }


def project(home, name="proj", pyproject=None, files=()):
    root = os.path.join(home, "src", name)
    os.makedirs(root, exist_ok=True)
    if pyproject is not None:
        write(os.path.join(root, "pyproject.toml"), pyproject)
    for filename in files:
        write(os.path.join(root, filename), "")
    return root


def found(directory, environ):
    finding = detect.find_env(detect.scan(directory), environ)
    return finding


def poetry_venvs(environ):
    return os.path.join(environ["XDG_CACHE_HOME"], "pypoetry", "virtualenvs")


POETRY_PYPROJECT = '[project]\nname = "My_App.Core"\nversion = "1"\n'


# ---------------------------------------------------------------- names

def test_names_the_real_tools_made():
    """Directory names the real tools created for these paths (run once, by hand,
    in a scratch venv: poetry env use, pipenv --python, pdm venv create, hatch env create)."""
    assert others.canonical_name("My_Poetry.App") == "my-poetry-app"
    assert others.poetry_env_name("my-poetry-app", "/tmp/scratch-d/h1/proj/My_Poetry.App") == \
        "my-poetry-app-Q3QxmFwB"
    assert others.pipenv_env_name("/tmp/scratch-d/h1/proj/pipenv proj(1)/Pipfile") == "pipenv_proj_1_-bwCTMiNM"
    assert others.pdm_env_prefix("/tmp/scratch-d/h1/proj/pdmproj") == "pdmproj-vX_kU0BA-"
    assert others.hatch_root_id("/tmp/scratch-d/h1/proj/Hatch_Proj") == "AoFOHTRD"


HOSTILE_NAMES = [
    "plain", "My_App.Core", "a b", "q$`!*@\"\\x", "tab\there", "new\nline", "amp&(x)[y]",
    "èрт🚒", "x" * 80, "-._-lead", "UPPER.case__x",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_poetry_and_pipenv_names_match_the_reference(tmp_path, name):
    directory = tmp_path / name
    directory.mkdir()
    real = os.path.realpath(str(directory))
    assert others.poetry_env_name(others.canonical_name(name), real) == ref_poetry_env_name(name, real)
    assert others.pipenv_env_name(os.path.join(real, "Pipfile")) == ref_pipenv_env_name(real)
    assert others.pdm_env_prefix(real) == ref_pdm_prefix(real)
    assert os.path.join("v", others.canonical_name(name), others.hatch_root_id(real),
                        others.canonical_name(name)) == ref_hatch_env("v", name, real)


def test_pipenv_looks_like_dir_rule():
    # pipenv: PurePath(text).parts > 1 or a trailing separator
    assert others.looks_like_dir("../envs/x")
    assert others.looks_like_dir("envs/x")
    assert others.looks_like_dir("/abs/env")
    assert others.looks_like_dir("env/")
    assert not others.looks_like_dir("myenv")
    assert not others.looks_like_dir("./myenv")


def test_version_file_first_word():
    assert others.first_version("# comment\n\n  myenv extra\n3.11\n") == "myenv"
    assert others.first_version("") is None
    assert others.first_version("#only\n") is None


# ---------------------------------------------------------------- .venv file

def test_dot_venv_file_names_env_in_workon_home(home, environ):
    root = project(home, files=("requirements.txt",))
    write(os.path.join(root, ".venv"), "shared-env\n")
    workon = os.path.join(home, "envs-here")
    env = fake_env(os.path.join(workon, "shared-env"))
    finding = found(root, dict(environ, WORKON_HOME=workon))
    assert (finding.env, finding.source) == (env, ".venv file")
    assert "shared-env" in finding.why


def test_dot_venv_file_default_homes(home, environ):
    root = project(home, files=("requirements.txt",))
    write(os.path.join(root, ".venv"), "wrapper-env")
    pipenv_style = fake_env(os.path.join(environ["XDG_DATA_HOME"], "virtualenvs", "wrapper-env"))
    assert found(root, environ).env == pipenv_style
    wrapper_style = fake_env(os.path.join(home, ".virtualenvs", "wrapper-env"))
    assert found(root, environ).env == wrapper_style  # virtualenvwrapper's default first


@pytest.mark.parametrize("text, where", [
    ("../shared/env", ("src", "shared", "env")),
    ("envs/dev", ("src", "proj", "envs", "dev")),
    ("envs/dev/", ("src", "proj", "envs", "dev")),
])
def test_dot_venv_file_relative_path(home, environ, text, where):
    root = project(home, files=("setup.py",))
    write(os.path.join(root, ".venv"), text + "\n")
    env = fake_env(os.path.join(home, *where))
    assert found(root, environ).env == env


def test_dot_venv_file_absolute_path(home, environ):
    root = project(home, files=("setup.py",))
    env = fake_env(os.path.join(home, "elsewhere", "e"))
    write(os.path.join(root, ".venv"), env)
    assert found(root, environ).env == env


def test_dot_venv_file_alone_makes_a_project(home, environ):
    root = project(home)
    write(os.path.join(root, ".venv"), "solo")
    env = fake_env(os.path.join(home, ".virtualenvs", "solo"))
    sub = os.path.join(root, "pkg")
    os.makedirs(sub)
    finding = found(sub, environ)
    assert finding.root == root and finding.env == env


def test_dot_venv_file_naming_nothing(home, environ):
    root = project(home, files=("setup.py",))
    write(os.path.join(root, ".venv"), "missing-env")
    finding = found(root, environ)
    assert finding.env is None
    # where it would appear is watched, so making it later is noticed
    assert os.path.join(home, ".local", "share") not in finding.watch
    assert os.path.join(root, ".venv") in finding.watch


def test_dot_venv_file_with_dots_or_lines_is_ignored(home, environ):
    root = project(home, files=("setup.py",))
    fake_env(os.path.join(home, "x"))
    for text in ("..", "a\nb", "."):
        write(os.path.join(root, ".venv"), text)
        assert found(root, environ).env is None


# ---------------------------------------------------------------- uv

def test_uv_project_environment_relative_to_root(home, environ):
    root = project(home, pyproject='[project]\nname = "u"\n')
    env = fake_env(os.path.join(root, "build", "env"))
    finding = found(os.path.join(root), dict(environ, UV_PROJECT_ENVIRONMENT="build/env"))
    assert (finding.env, finding.source) == (env, "uv")
    assert found(root, environ).env is None  # without the variable: .venv only


def test_uv_project_environment_absolute_and_workspace_member(home, environ):
    root = project(home, pyproject='[project]\nname = "ws"\n[tool.uv.workspace]\nmembers = ["pkgs/*"]\n')
    member = os.path.join(root, "pkgs", "a")
    write(os.path.join(member, "pyproject.toml"), '[project]\nname = "a"\n')
    env = fake_env(os.path.join(root, "envs", "ws"))
    assert found(member, dict(environ, UV_PROJECT_ENVIRONMENT="envs/ws")).env == env
    assert found(member, dict(environ, UV_PROJECT_ENVIRONMENT=env)).env == env


# ---------------------------------------------------------------- poetry

def test_poetry_default_cache_dir_and_envs_toml(home, environ):
    root = project(home, "My App", pyproject=POETRY_PYPROJECT, files=("poetry.lock",))
    base = ref_poetry_env_name("My_App.Core", root)
    venvs = poetry_venvs(environ)
    fake_env(os.path.join(venvs, base + "-py3.12"))
    chosen = fake_env(os.path.join(venvs, base + "-py3.10"))
    write(os.path.join(venvs, "envs.toml"), '[%s]\nminor = "3.10"\npatch = "3.10.13"\n' % base)
    finding = found(root, environ)
    assert (finding.env, finding.source) == (chosen, "poetry")
    assert "envs.toml" in finding.why
    assert venvs in finding.watch and os.path.join(venvs, "envs.toml") in finding.watch


def test_poetry_without_envs_toml_takes_the_newest(home, environ):
    root = project(home, pyproject=POETRY_PYPROJECT)
    base = ref_poetry_env_name("My_App.Core", root)
    venvs = poetry_venvs(environ)
    fake_env(os.path.join(venvs, base + "-py3.9"))
    newest = fake_env(os.path.join(venvs, base + "-py3.10"))
    fake_env(os.path.join(venvs, "other-" + base.rsplit("-", 1)[1] + "x-py3.13"))  # another project
    assert found(root, environ).env == newest


def test_poetry_name_from_tool_poetry_and_non_package_mode(home, environ):
    root = project(home, "a", pyproject='[tool.poetry]\nname = "Legacy_Name"\nversion = "1"\n')
    env = fake_env(os.path.join(poetry_venvs(environ), ref_poetry_env_name("Legacy_Name", root) + "-py3.11"))
    assert found(root, environ).env == env
    root = project(home, "b", pyproject='[tool.poetry]\npackage-mode = false\n')
    env = fake_env(os.path.join(poetry_venvs(environ), ref_poetry_env_name("non-package-mode", root) + "-py3.11"))
    assert found(root, environ).env == env


def test_poetry_wrong_name_is_not_taken(home, environ):
    root = project(home, pyproject=POETRY_PYPROJECT)
    fake_env(os.path.join(poetry_venvs(environ), ref_poetry_env_name("renamed", root) + "-py3.11"))
    assert found(root, environ).env is None


def test_poetry_hash_is_of_the_resolved_dir(home, environ):
    real_root = project(home, "real", pyproject=POETRY_PYPROJECT)
    link = os.path.join(home, "link")
    os.symlink(real_root, link)
    env = fake_env(os.path.join(poetry_venvs(environ), ref_poetry_env_name("My_App.Core", real_root) + "-py3.11"))
    assert found(link, environ).env == env


@pytest.mark.parametrize("how", ["POETRY_CACHE_DIR", "POETRY_VIRTUALENVS_PATH", "poetry.toml",
                                 "config.toml", "cache-dir template"])
def test_poetry_configured_locations(home, environ, how):
    root = project(home, pyproject=POETRY_PYPROJECT)
    custom = os.path.join(home, "custom")
    venvs = os.path.join(custom, "virtualenvs") if how in ("POETRY_CACHE_DIR", "cache-dir template") else custom
    if how == "POETRY_CACHE_DIR":
        environ["POETRY_CACHE_DIR"] = custom
    elif how == "POETRY_VIRTUALENVS_PATH":
        environ["POETRY_VIRTUALENVS_PATH"] = custom
    elif how == "poetry.toml":
        write(os.path.join(root, "poetry.toml"), '[virtualenvs]\npath = "%s"\n' % custom)
    elif how == "config.toml":
        write(os.path.join(environ["XDG_CONFIG_HOME"], "pypoetry", "config.toml"),
              '[virtualenvs]\npath = "%s"\n' % custom)
    else:
        write(os.path.join(environ["XDG_CONFIG_HOME"], "pypoetry", "config.toml"),
              'cache-dir = "%s"\n[virtualenvs]\npath = "{cache-dir}/virtualenvs"\n' % custom)
    env = fake_env(os.path.join(venvs, ref_poetry_env_name("My_App.Core", root) + "-py3.11"))
    assert found(root, environ).env == env


def test_poetry_toml_in_project_relative_path(home, environ):
    root = project(home, pyproject=POETRY_PYPROJECT)
    write(os.path.join(root, "poetry.toml"), '[virtualenvs]\npath = "~/pv"\n')
    env = fake_env(os.path.join(home, "pv", ref_poetry_env_name("My_App.Core", root) + "-py3.11"))
    assert found(root, environ).env == env


# ---------------------------------------------------------------- pipenv

def test_pipenv_default_location(home, environ):
    root = project(home, "pipenv proj(1)", files=("Pipfile",))
    env = fake_env(os.path.join(environ["XDG_DATA_HOME"], "virtualenvs", ref_pipenv_env_name(root)))
    finding = found(os.path.join(root), environ)
    assert (finding.env, finding.source) == (env, "pipenv")


def test_pipenv_workon_home_custom_name_and_python_suffix(home, environ):
    root = project(home, "pp", files=("Pipfile",))
    workon = os.path.join(home, "wh")
    env = fake_env(os.path.join(workon, ref_pipenv_env_name(root)))
    environ["WORKON_HOME"] = workon
    assert found(root, environ).env == env
    suffixed = fake_env(os.path.join(workon, ref_pipenv_env_name(root) + "-3.11"))
    assert found(root, dict(environ, PIPENV_PYTHON="3.11")).env == suffixed
    by_path = fake_env(os.path.join(workon, ref_pipenv_env_name(root) + "-python3.11"))
    assert found(root, dict(environ, PIPENV_PYTHON="/usr/bin/python3.11")).env == by_path
    custom = fake_env(os.path.join(workon, "mine"))
    assert found(root, dict(environ, PIPENV_CUSTOM_VENV_NAME="mine")).env == custom


def test_pipenv_symlinked_project_uses_resolved_path(home, environ):
    real_root = project(home, "realp", files=("Pipfile",))
    link = os.path.join(home, "linkp")
    os.symlink(real_root, link)
    env = fake_env(os.path.join(environ["XDG_DATA_HOME"], "virtualenvs", ref_pipenv_env_name(real_root)))
    assert found(link, environ).env == env


# ---------------------------------------------------------------- pdm

def test_pdm_python_file(home, environ):
    root = project(home, pyproject='[project]\nname = "p"\n')
    env = fake_env(os.path.join(environ["XDG_DATA_HOME"], "pdm", "venvs", ref_pdm_prefix(root) + "3.11"))
    write(os.path.join(root, ".pdm-python"), os.path.join(env, detect.BIN_DIR, "python"))
    finding = found(root, environ)
    assert (finding.env, finding.source) == (env, "pdm")
    assert ".pdm-python" in finding.why


def test_pdm_python_file_naming_a_base_interpreter(home, environ):
    root = project(home, pyproject='[project]\nname = "p"\n')
    base = os.path.join(home, "python-3.11")  # an installed Python: bin/python, no pyvenv.cfg
    write(os.path.join(base, detect.BIN_DIR, "python"), "")
    write(os.path.join(root, ".pdm-python"), os.path.join(base, detect.BIN_DIR, "python"))
    assert found(root, environ).env is None
    fake_env(base)  # the same path as an env is taken
    assert found(root, environ).env == base


def test_pdm_central_venvs_and_config(home, environ):
    root = project(home, "pdmproj", pyproject='[project]\nname = "p"\n', files=("pdm.lock",))
    env = fake_env(os.path.join(environ["XDG_DATA_HOME"], "pdm", "venvs", ref_pdm_prefix(root) + "3.11"))
    assert found(root, environ).env == env
    location = os.path.join(home, "pdm-envs")
    write(os.path.join(environ["XDG_CONFIG_HOME"], "pdm", "config.toml"), '[venv]\nlocation = "%s"\n' % location)
    assert found(root, environ).env is None
    moved = fake_env(os.path.join(location, ref_pdm_prefix(root) + "for-test"))
    assert found(root, environ).env == moved


def test_pdm_in_project_env_dir(home, environ):
    root = project(home, pyproject='[project]\nname = "p"\n', files=("pdm.lock",))
    env = fake_env(os.path.join(root, "env"))
    assert found(root, environ).env == env


# ---------------------------------------------------------------- hatch

HATCH_PYPROJECT = '[project]\nname = "Hatch_Proj"\nversion = "0.1"\n'


def test_hatch_default_env(home, environ):
    root = project(home, "Hatch_Proj", pyproject=HATCH_PYPROJECT)
    virtual = os.path.join(environ["XDG_DATA_HOME"], "hatch", "env", "virtual")
    env = fake_env(ref_hatch_env(virtual, "Hatch_Proj", root))
    finding = found(root, environ)
    assert (finding.env, finding.source) == (env, "hatch")


def test_hatch_data_dir_config_and_explicit_path(home, environ):
    root = project(home, "hp", pyproject=HATCH_PYPROJECT)
    data = os.path.join(home, "hatch-data")
    env = fake_env(ref_hatch_env(os.path.join(data, "env", "virtual"), "Hatch_Proj", root))
    assert found(root, dict(environ, HATCH_DATA_DIR=data)).env == env
    virtual = os.path.join(home, "hv")
    write(os.path.join(environ["XDG_CONFIG_HOME"], "hatch", "config.toml"), '[dirs.env]\nvirtual = "%s"\n' % virtual)
    configured = fake_env(ref_hatch_env(virtual, "Hatch_Proj", root))
    assert found(root, environ).env == configured
    write(os.path.join(root, "pyproject.toml"), HATCH_PYPROJECT + '[tool.hatch.envs.default]\npath = ".hatch/d"\n')
    explicit = fake_env(os.path.join(root, ".hatch", "d"))
    assert found(root, environ).env == explicit


# ---------------------------------------------------------------- pyenv-virtualenv

def pyenv_virtualenv(pyenv_root, version, name):
    """What `pyenv virtualenv VERSION NAME` makes: the env and a link to it."""
    env = fake_env(os.path.join(pyenv_root, "versions", version, "envs", name))
    os.symlink(env, os.path.join(pyenv_root, "versions", name))
    return env


def test_pyenv_virtualenv_name(home, environ):
    pyenv_root = os.path.join(home, ".pyenv")
    os.makedirs(os.path.join(pyenv_root, "versions", "3.11.7", "bin"))
    env = pyenv_virtualenv(pyenv_root, "3.11.7", "proj-env")
    root = project(home, files=("requirements.txt",))
    write(os.path.join(root, ".python-version"), "# pinned\nproj-env\n")
    finding = found(root, environ)
    assert (finding.env, finding.source) == (env, "pyenv-virtualenv")  # the link's target
    write(os.path.join(root, ".python-version"), "3.11.7/envs/proj-env\n")
    assert found(root, environ).env == env
    write(os.path.join(root, ".python-version"), "3.11.7\n")  # a plain version
    assert found(root, environ).env is None


def test_pyenv_root_variable_and_traversal(home, environ):
    pyenv_root = os.path.join(home, "pr")
    env = pyenv_virtualenv(pyenv_root, "3.12.1", "e")
    root = project(home, files=("setup.py",))
    write(os.path.join(root, ".python-version"), "e\n")
    assert found(root, dict(environ, PYENV_ROOT=pyenv_root)).env == env
    fake_env(os.path.join(home, "outside"))
    write(os.path.join(root, ".python-version"), "../../outside\n")
    assert found(root, dict(environ, PYENV_ROOT=pyenv_root)).env is None


# ---------------------------------------------------------------- conda

def conda_layout(home, name):
    root_prefix = os.path.join(home, "miniforge3")
    os.makedirs(os.path.join(root_prefix, "conda-meta"))
    env = os.path.join(root_prefix, "envs", name)
    os.makedirs(os.path.join(env, "conda-meta"))
    return root_prefix, env


def test_conda_env_reported_not_activated_and_nothing_created(home, environ, monkeypatch):
    _, env = conda_layout(home, "sci")
    root = project(home, files=("setup.py",))
    write(os.path.join(root, "environment.yml"), "# env\nname: 'sci'  # the name\nchannels:\n  - conda-forge\n")
    created = []
    monkeypatch.setattr("autoenv.create.maybe_create", lambda *args: created.append(args))
    finding = hook.decide(detect.scan(root), environ, io.StringIO())
    assert finding.env is None and not created
    assert finding.foreign == ("conda", env, "conda activate sci")
    assert any("conda activate sci" in problem for problem in finding.problems)
    text = status.describe(root, environ)
    assert "conda:" in text and env in text and "run: conda activate sci" in text
    active = dict(environ, CONDA_PREFIX=env, CONDA_DEFAULT_ENV="sci")
    finding = hook.decide(detect.scan(root), active, io.StringIO())
    assert finding.foreign and not finding.problems
    assert "active (CONDA_PREFIX)" in status.describe(root, active)


def test_conda_env_dirs_and_environments_txt(home, environ):
    root = project(home, files=("environment.yml",))
    write(os.path.join(root, "environment.yml"), "name: tools\n")
    elsewhere = os.path.join(home, "opt", "tools")
    os.makedirs(os.path.join(elsewhere, "conda-meta"))
    assert found(root, environ).foreign is None
    write(os.path.join(home, ".conda", "environments.txt"), elsewhere + "\n")
    assert found(root, environ).foreign[1] == elsewhere
    exe_root = os.path.join(home, "mc")
    os.makedirs(os.path.join(exe_root, "envs", "tools", "conda-meta"))
    assert found(root, dict(environ, CONDA_EXE=os.path.join(exe_root, "bin", "conda"))).foreign[1] == \
        os.path.join(exe_root, "envs", "tools")


def test_conda_name_must_be_a_plain_name(home, environ):
    conda_layout(home, "ok")
    root = project(home, files=("setup.py",))
    for text in ("name: ../ok\n", "name: a b\n", "name: \x1b]0;x\x07\n", "  name: ok\n"):
        write(os.path.join(root, "environment.yml"), text)
        assert found(root, environ).foreign is None


# ---------------------------------------------------------------- precedence

def test_in_project_env_comes_first(home, environ):
    root = project(home, pyproject=POETRY_PYPROJECT, files=("Pipfile", "poetry.lock"))
    fake_env(os.path.join(poetry_venvs(environ), ref_poetry_env_name("My_App.Core", root) + "-py3.11"))
    fake_env(os.path.join(environ["XDG_DATA_HOME"], "virtualenvs", ref_pipenv_env_name(root)))
    in_project = fake_env(os.path.join(root, ".venv"))
    finding = found(root, environ)
    assert (finding.env, finding.source) == (in_project, "in-project")
    assert finding.watch == []


def test_order_between_tools(home, environ):
    root = project(home, pyproject=POETRY_PYPROJECT, files=("Pipfile",))
    poetry_env = fake_env(os.path.join(poetry_venvs(environ), ref_poetry_env_name("My_App.Core", root) + "-py3.11"))
    pdm_env = fake_env(os.path.join(environ["XDG_DATA_HOME"], "pdm", "venvs", ref_pdm_prefix(root) + "3.11"))
    pipenv_env = fake_env(os.path.join(environ["XDG_DATA_HOME"], "virtualenvs", ref_pipenv_env_name(root)))
    assert found(root, environ).source == "pipenv"  # a Pipfile is explicit
    os.remove(os.path.join(root, "Pipfile"))
    assert found(root, environ).env == poetry_env
    write(os.path.join(root, "pdm.lock"), "")
    assert found(root, environ).env == pdm_env  # the project's own lock file decides
    write(os.path.join(root, ".venv"), os.path.relpath(pipenv_env, root))
    assert found(root, environ).source == ".venv file"


def test_inner_project_tool_env_before_outer_in_project_env(home, environ):
    outer = project(home, "outer", files=("setup.py",))
    outer_env = fake_env(os.path.join(outer, ".venv"))
    inner = os.path.join(outer, "examples", "demo")
    write(os.path.join(inner, "Pipfile"), "")
    inner_env = fake_env(os.path.join(environ["XDG_DATA_HOME"], "virtualenvs", ref_pipenv_env_name(inner)))
    assert found(inner, environ).env == inner_env
    os.remove(os.path.join(inner_env, "pyvenv.cfg"))
    assert found(inner, environ).env == outer_env


# ---------------------------------------------------------------- hot path and cache

def run_isolated(code, home):
    """Run ``code`` the way the hook runs: ``python -I -S``, the repo on sys.path."""
    script = "import sys; sys.path.insert(0, %r)\n%s" % (REPO, code)
    result = subprocess.run([sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True,
                            env={"HOME": home, "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_no_toml_parsed_unless_a_tool_env_for_this_dir_exists(home):
    root = project(home, pyproject=POETRY_PYPROJECT, files=("Pipfile",))
    venvs = os.path.join(home, ".cache", "pypoetry", "virtualenvs")
    fake_env(os.path.join(venvs, "someone-else-abcdefgh-py3.11"))
    os.makedirs(os.path.join(home, ".local", "share", "hatch", "env", "virtual", "other", "id"))
    code = ("from autoenv import detect\n"
            "f = detect.find_env(detect.scan(%r))\n"
            "print(f.env, 'tomllib' in sys.modules, 'tomli' in sys.modules, 're' in sys.modules)\n" % root)
    assert run_isolated(code, home) == ["None", "False", "False", "False"]
    env = fake_env(os.path.join(venvs, ref_poetry_env_name("My_App.Core", root) + "-py3.11"))
    assert run_isolated(code, home)[0] == env


def test_toml_answers_are_cached_until_the_file_changes(home):
    root = project(home, pyproject=POETRY_PYPROJECT)
    venvs = os.path.join(home, ".cache", "pypoetry", "virtualenvs")
    env = fake_env(os.path.join(venvs, ref_poetry_env_name("My_App.Core", root) + "-py3.11"))
    code = ("from autoenv import detect\n"
            "f = detect.find_env(detect.scan(%r))\n"
            "print(f.env, 'tomllib' in sys.modules)\n" % root)
    assert run_isolated(code, home) == [env, "True"]
    assert run_isolated(code, home) == [env, "False"]  # answered from the cache
    renamed = fake_env(os.path.join(venvs, ref_poetry_env_name("renamed\\x\ny", root) + "-py3.11"))
    write(os.path.join(root, "pyproject.toml"), '[project]\nname = "renamed\\\\x\\ny"\n')
    assert run_isolated(code, home) == [renamed, "True"]
    assert run_isolated(code, home) == [renamed, "False"]


def test_in_project_env_does_not_import_the_lookup(home):
    root = project(home, pyproject=POETRY_PYPROJECT)
    fake_env(os.path.join(root, ".venv"))
    code = ("from autoenv import detect\n"
            "f = detect.find_env(detect.scan(%r))\n"
            "print('autoenv.others' in sys.modules)\n" % root)
    assert run_isolated(code, home) == ["False"]


def test_shell_is_told_to_watch_where_the_env_appears(home, environ):
    root = project(home, pyproject=POETRY_PYPROJECT)
    venvs = poetry_venvs(environ)
    os.makedirs(venvs)
    finding = hook.decide(detect.scan(root), environ, io.StringIO(), may_create=False)
    assert finding.env is None and venvs in finding.watch

    class Recorder:
        tests_mtimes_at_once = False
        asks_server_at_prompt = True

        def set_local(self, name, value):
            return (name, value)

        def set_local_list(self, name, values):
            return (name, list(values))

    plan = hook.Plan(Recorder())
    hook.add_cache_state(plan, finding, "/stamp")
    above = dict(plan.lines)["__autoenv_above"]
    assert venvs in above and root in above
    # A server watching for the shell is told it apart from the chain.
    assert dict(plan.lines)["__autoenv_extra"] == [venvs]
    # A tool dir that does not exist yet: its nearest existing parent, at most
    # two levels up, but never HOME or an XDG base dir (autoenv writes there).
    stops = others.watch_stops(environ)
    os.makedirs(os.path.join(home, ".cache", "tool"))
    assert others.nearest_existing(os.path.join(home, ".cache", "tool", "x", "y"), stops) == \
        os.path.join(home, ".cache", "tool")
    assert others.nearest_existing(os.path.join(home, ".cache", "tool", "x", "y", "z"), stops) is None
    assert others.nearest_existing(os.path.join(home, ".cache", "x", "y"), stops) is None
    assert others.nearest_existing(os.path.join(home, "nothing"), stops) is None
    assert others.nearest_existing(os.path.join(home, "a", "b"), [os.path.join(home, "a", "b", "c")]) is None


def test_status_says_which_tool_and_why(home, environ):
    root = project(home, "pipenv proj(1)", files=("Pipfile",))
    env = fake_env(os.path.join(environ["XDG_DATA_HOME"], "virtualenvs", ref_pipenv_env_name(root)))
    text = status.describe(root, environ)
    assert "env:        %s (pipenv)" % env in text
    assert "why:        Pipfile in %s; pipenv names its env %s" % (root, ref_pipenv_env_name(root)) in text
    fake_env(os.path.join(root, ".venv"))
    assert "in-project env comes before any tool's" in status.describe(root, environ)


def old_pythons():
    """Interpreters older than 3.11 on this machine (no tomllib there)."""
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    versions = os.path.join(pyenv_root, "versions")
    found_ = {}
    for name in sorted(os.listdir(versions)) if os.path.isdir(versions) else []:
        parts = name.split(".")
        if len(parts) >= 2 and parts[0] == "3" and parts[1].isdigit() and 8 <= int(parts[1]) <= 10:
            python = os.path.join(versions, name, "bin", "python3")
            if os.path.exists(python):
                found_["3." + parts[1]] = python
    return sorted(found_.items())


@pytest.mark.parametrize("version, python", old_pythons() or [("3.8-3.10", None)])
def test_tomli_is_found_under_dash_S_on_old_pythons(tmp_path, home, version, python):
    """The helper runs as ``python -I -S``: without site, tomli in the helper
    venv's site-packages is not on sys.path; the lookup adds it for the import.
    A stand-in ``tomli`` (answers one key) shows where the module came from."""
    if python is None:
        missing("no Python 3.8-3.10 under PYENV_ROOT to run the helper with")
    venv = str(tmp_path / "helper-venv")
    subprocess.run([python, "-m", "venv", "--without-pip", venv], check=True)
    site_packages = os.path.join(venv, "lib", "python" + version, "site-packages")
    write(os.path.join(site_packages, "tomli", "__init__.py"),
          "def loads(text):\n    return {'project': {'name': 'From-Stand-In'}}\n")
    root = project(home, pyproject='[project]\nname = "ignored"\n')
    env = fake_env(os.path.join(home, ".cache", "pypoetry", "virtualenvs",
                                ref_poetry_env_name("From-Stand-In", root) + "-py" + version))
    code = ("import sys; sys.path.insert(0, %r)\n"
            "from autoenv import detect\n"
            "f = detect.find_env(detect.scan(%r))\n"
            "print(f.env, f.source, sys.modules['tomli'].__file__)\n" % (REPO, root))
    result = subprocess.run([os.path.join(venv, "bin", "python"), "-I", "-S", "-c", code],
                            capture_output=True, text=True, env={"HOME": home, "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [env, "poetry", os.path.join(site_packages, "tomli", "__init__.py")]
