"""Creating envs for real (no shell): what gets built, pip in it, policy, failures, recreate.

Uses the interpreters under $PYENV_ROOT/versions (set explicitly here).
"""

import glob
import io
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from autoenv import create, detect, hook
from conftest import missing

PYENV_ROOT = os.environ.get("AUTOENV_TEST_PYENV_ROOT", "/root/.pyenv")


def pyenv_version(prefix):
    """The newest pyenv-installed version starting with ``prefix``; skipped (failed under CI) if none."""
    names = sorted(
        (name for name in os.listdir(os.path.join(PYENV_ROOT, "versions"))
         if name.startswith(prefix + ".") or name == prefix) if os.path.isdir(os.path.join(PYENV_ROOT, "versions"))
        else [],
        key=lambda name: tuple(int(p) for p in name.split(".") if p.isdigit()))
    if not names:
        missing("no Python %s under %s/versions" % (prefix, PYENV_ROOT))
    return names[-1]


@pytest.fixture
def environ(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    return {
        "HOME": str(home),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "PYENV_ROOT": PYENV_ROOT,
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        # one seed cache for the whole run: the first build per Python fills it
        "XDG_CACHE_HOME": str(shared_cache(tmp_path)),
    }


def shared_cache(tmp_path):
    path = tmp_path.parent.parent / "autoenv-shared-cache"
    path.mkdir(exist_ok=True)
    return path


def project(path, marker="pyproject.toml", text="", python_version=None):
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, marker), "w") as handle:
        handle.write(text)
    if python_version:
        with open(os.path.join(path, ".python-version"), "w") as handle:
            handle.write(python_version + "\n")
    return path


def env_python_version(env):
    out = subprocess.run([os.path.join(env, "bin", "python"), "-c",
                          "import sys; print('.'.join(map(str, sys.version_info[:3])))"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def leftovers(root):
    return [name for name in os.listdir(root) if name.startswith(".autoenv-")]


def make_wheel(directory, name="autoenv_demo", version="0.1"):
    """A minimal pure-Python wheel, written by hand so the test needs no network."""
    path = os.path.join(directory, "%s-%s-py3-none-any.whl" % (name, version))
    info = "%s-%s.dist-info" % (name, version)
    files = {
        name + ".py": "VALUE = 42\n",
        info + "/METADATA": "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version),
        info + "/WHEEL": "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    with zipfile.ZipFile(path, "w") as archive:
        for arcname, text in files.items():
            archive.writestr(arcname, text)
        archive.writestr(info + "/RECORD", "".join("%s,,\n" % n for n in list(files) + [info + "/RECORD"]))
    return path


def test_creates_with_python_version_and_pip_installs_offline(tmp_path, environ):
    version = pyenv_version("3.12")
    root = project(str(tmp_path / "proj"), python_version="3.12")
    err = io.StringIO()
    finding = detect.scan(root)
    env = create.maybe_create(finding, environ, err)
    assert env == os.path.join(root, ".venv")
    assert env_python_version(env) == version
    lines = err.getvalue().splitlines()
    assert lines[0] == "autoenv: creating .venv with Python %s (.python-version (3.12)) ..." % version
    assert lines[1].startswith("autoenv: created %s in " % env)
    assert leftovers(root) == []
    python = os.path.join(env, "bin", "python")
    assert subprocess.run([python, "-m", "pip", "--version"], capture_output=True).returncode == 0
    wheel = make_wheel(str(tmp_path))
    subprocess.run([os.path.join(env, "bin", "pip"), "install", "--no-index", "-q", wheel], check=True)
    out = subprocess.run([python, "-c", "import autoenv_demo, sys; print(autoenv_demo.VALUE, sys.prefix)"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["42", env]
    # every path written into the env names its final place, not the build dir
    written = [path for path in glob.glob(os.path.join(env, "bin", "*")) + [os.path.join(env, "pyvenv.cfg")]
               if os.path.isfile(path) and not os.path.islink(path)]
    assert {os.path.join(env, "pyvenv.cfg"), os.path.join(env, "bin", "activate"),
            os.path.join(env, "bin", "pip")} <= set(written), written
    for path in written:
        with open(path, "rb") as handle:
            assert b".autoenv-build-" not in handle.read(), path
    with open(os.path.join(env, "bin", "activate")) as handle:
        assert env in handle.read()
    with open(os.path.join(env, ".gitignore")) as handle:
        assert "*" in handle.read().split()
    assert detect.env_prompt(env, root) == "proj"


def test_seeds_what_python_m_venv_seeds(tmp_path, environ):
    """setuptools beside pip up to 3.11 (as ``python -m venv`` does there), pip alone from 3.12."""
    pyenv_version("3.11")
    pyenv_version("3.12")
    listed = {}
    for version in ("3.11", "3.12"):
        root = project(str(tmp_path / version), python_version=version)
        env = create.maybe_create(detect.scan(root), environ, io.StringIO())
        out = subprocess.run([os.path.join(env, "bin", "python"), "-m", "pip", "list", "--format=freeze",
                              "--disable-pip-version-check"], capture_output=True, text=True, check=True)
        listed[version] = sorted(line.split("==")[0] for line in out.stdout.split())
    assert listed == {"3.11": ["pip", "setuptools"], "3.12": ["pip"]}


def test_second_env_reuses_the_seed_and_is_independent(tmp_path, environ):
    pyenv_version("3.12")
    first = create.maybe_create(detect.scan(project(str(tmp_path / "a"), python_version="3.12")),
                                environ, io.StringIO())
    second = create.maybe_create(detect.scan(project(str(tmp_path / "b"), python_version="3.12")),
                                 environ, io.StringIO())
    # uninstalling pip from one env leaves the other (and the shared seed) whole
    subprocess.run([os.path.join(first, "bin", "python"), "-m", "pip", "uninstall", "-y", "-q", "pip"], check=True)
    assert not os.path.exists(os.path.join(first, "bin", "pip"))
    assert subprocess.run([os.path.join(second, "bin", "python"), "-m", "pip", "--version"],
                          capture_output=True).returncode == 0


@pytest.mark.parametrize("marker", detect.ROOT_MARKERS)
def test_hook_creates_and_activates_for_each_marker(tmp_path, environ, marker):
    root = project(str(tmp_path / "proj"), marker)
    err = io.StringIO()
    finding = hook.decide(detect.scan(root), environ, err)
    assert finding.env == os.path.join(root, ".venv")
    assert detect.is_env(finding.env)


def test_home_directory_never_gets_an_env(environ):
    home = environ["HOME"]
    project(home, "requirements.txt")
    err = io.StringIO()
    finding = hook.decide(detect.scan(home), environ, err)
    assert finding.env is None and not os.path.exists(os.path.join(home, ".venv"))
    assert err.getvalue() == ""


@pytest.mark.parametrize("where, reason", [
    ("/", "root directory"),
    ("site-packages/pkg", "installed package"),
])
def test_refusals(tmp_path, environ, where, reason):
    path = where if where == "/" else str(tmp_path / where)
    assert reason in create.refusal(path, environ)


def test_directory_of_another_user_is_refused(tmp_path, environ):
    root = project(str(tmp_path / "theirs"))
    os.chown(root, 65534, 65534)
    assert create.refusal(root, environ) == "you do not own it"
    assert create.maybe_create(detect.scan(root), environ, io.StringIO()) is None
    assert not os.path.exists(os.path.join(root, ".venv"))


def test_switched_off(tmp_path, environ):
    root = project(str(tmp_path / "proj"))
    assert create.maybe_create(detect.scan(root), dict(environ, AUTOENV_CREATE="0"), io.StringIO()) is None
    os.makedirs(os.path.join(environ["XDG_CONFIG_HOME"], "autoenv"))
    with open(os.path.join(environ["XDG_CONFIG_HOME"], "autoenv", "config.toml"), "w") as handle:
        handle.write("create = false\n")
    assert create.maybe_create(detect.scan(root), environ, io.StringIO()) is None
    assert not os.path.exists(os.path.join(root, ".venv"))


def test_nested_project_reuses_the_enclosing_env(tmp_path, environ):
    outer = project(str(tmp_path / "outer"))
    create.maybe_create(detect.scan(outer), environ, io.StringIO())
    inner = project(os.path.join(outer, "examples", "demo"))
    finding = hook.decide(detect.scan(inner), environ, io.StringIO())
    assert finding.env == os.path.join(outer, ".venv")
    assert not os.path.exists(os.path.join(inner, ".venv"))


def test_no_matching_interpreter_one_line_no_env(tmp_path, environ):
    root = project(str(tmp_path / "proj"), python_version="3.4")
    err = io.StringIO()
    finding = detect.scan(root)
    assert create.maybe_create(finding, environ, err) is None
    # The refusal goes to finding.problems, which the hook shows once per visit.
    assert err.getvalue() == ""
    lines = finding.problems
    assert len(lines) == 1
    assert lines[0].startswith("autoenv: not creating %s/.venv: .python-version asks for 3.4; installed: " % root)
    assert sorted(os.listdir(root)) == [".python-version", "pyproject.toml"]  # nothing built, nothing left


def test_failing_build_leaves_nothing(tmp_path, environ):
    root = project(str(tmp_path / "proj"))
    broken = tmp_path / "python3"
    broken.write_text("#!/bin/sh\ncase \"$*\" in *_make_venv.py*) mkdir -p \"$3/bin\"; touch \"$3/pyvenv.cfg\"; "
                      "echo 'OSError: [Errno 28] No space left on device' >&2; exit 1;; esac\n"
                      "echo 'cpython 3.12.9 0'\n")
    broken.chmod(0o755)
    (tmp_path / "proj" / ".python-version").write_text(str(broken) + "\n")
    err = io.StringIO()
    finding = detect.scan(root)
    assert create.maybe_create(finding, environ, err) is None
    assert "No space left on device" in finding.problems[-1]
    assert sorted(os.listdir(root)) == [".python-version", "pyproject.toml"]


def test_leftover_of_a_killed_build_is_cleared_and_never_an_env(tmp_path, environ):
    root = project(str(tmp_path / "proj"))
    stale = os.path.join(root, ".autoenv-build-99999")
    os.makedirs(os.path.join(stale, "bin"))
    open(os.path.join(stale, "pyvenv.cfg"), "w").close()
    finding = detect.find_env(detect.scan(root))
    assert finding.env is None  # a half-built dir is never taken for an env
    env = create.maybe_create(detect.scan(root), environ, io.StringIO())
    assert env and leftovers(root) == []


def test_two_processes_at_once_build_one_env(tmp_path, environ):
    root = project(str(tmp_path / "proj"))
    code = ("import io, sys; sys.path.insert(0, %r)\n"
            "from autoenv import create, detect\n"
            "err = io.StringIO()\n"
            "print(create.maybe_create(detect.scan(%r), %r, err))\n"
            "sys.stderr.write(err.getvalue())\n") % (
        os.path.dirname(os.path.dirname(create.__file__)), root, environ)
    processes = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]
    results = [process.communicate() for process in processes]
    assert [out.strip() for out, _ in results] == [os.path.join(root, ".venv")] * 2
    messages = "".join(err for _, err in results)
    assert messages.count("autoenv: creating .venv") == 1
    assert leftovers(root) == []


def broken_env(tmp_path):
    """An env whose base interpreter then disappears (as when pyenv uninstalls it)."""
    version = pyenv_version("3.12")
    base = tmp_path / "base" / "bin"
    base.mkdir(parents=True)
    real = os.path.join(PYENV_ROOT, "versions", version, "bin", "python3.12")
    os.symlink(real, str(base / "python3.12"))
    root = project(str(tmp_path / "proj"))
    env = os.path.join(root, ".venv")
    subprocess.run([str(base / "python3.12"), "-m", "venv", "--without-pip", env], check=True)
    assert os.path.realpath(os.path.join(env, "bin", "python")) == os.path.realpath(real)
    shutil.rmtree(str(tmp_path / "base"))
    return root, env, version


def test_broken_base_interpreter_detected_not_activated_and_recreated(tmp_path, environ):
    root, env, version = broken_env(tmp_path)
    err = io.StringIO()
    finding = hook.decide(detect.scan(root), environ, err)
    assert finding.env is None
    assert len(finding.problems) == 1
    problem = finding.problems[0]
    assert problem.startswith("autoenv: not activating %s: its Python " % env)
    assert "is gone" in problem and problem.endswith("run: autoenv recreate %s" % root)
    assert err.getvalue() == ""  # and nothing was created over it
    err = io.StringIO()
    assert create.recreate(root, env, environ, err) == env
    assert env_python_version(env) == version
    assert "the env had %s" % version in err.getvalue()
    assert hook.decide(detect.scan(root), environ, io.StringIO()).env == env
    assert leftovers(root) == []


def test_copied_env_with_missing_home_is_broken(tmp_path):
    env = tmp_path / "proj" / ".venv"
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "python").write_text("")
    (env / "pyvenv.cfg").write_text("home = %s\n" % (tmp_path / "gone" / "bin"))
    assert detect.missing_base_interpreter(str(env)) == str(tmp_path / "gone" / "bin")
    (tmp_path / "gone" / "bin").mkdir(parents=True)
    assert detect.missing_base_interpreter(str(env)) is None


def test_install_dependencies_failure_leaves_a_working_env(tmp_path, environ):
    root = project(str(tmp_path / "proj"), "requirements.txt", "surely-not-a-package-autoenv==0\n")
    os.makedirs(os.path.join(environ["XDG_CONFIG_HOME"], "autoenv"))
    with open(os.path.join(environ["XDG_CONFIG_HOME"], "autoenv", "config.toml"), "w") as handle:
        handle.write("install = true\n")
    err = io.StringIO()
    env = create.maybe_create(detect.scan(root), dict(environ, PIP_NO_INDEX="1"), err)
    text = err.getvalue()
    assert env == os.path.join(root, ".venv")
    assert "autoenv: installing the dependencies: python -m pip install -r requirements.txt" in text
    assert "failed (exit status 1); the env works" in text
    assert subprocess.run([os.path.join(env, "bin", "python"), "-m", "pip", "--version"],
                          capture_output=True).returncode == 0


def test_install_dependencies_from_requirements(tmp_path, environ):
    wheel = make_wheel(str(tmp_path))
    root = project(str(tmp_path / "proj"), "requirements.txt", wheel + "\n")
    os.makedirs(os.path.join(environ["XDG_CONFIG_HOME"], "autoenv"))
    with open(os.path.join(environ["XDG_CONFIG_HOME"], "autoenv", "config.toml"), "w") as handle:
        handle.write("install = true\n")
    err = io.StringIO()
    env = create.maybe_create(detect.scan(root), dict(environ, PIP_NO_INDEX="1"), err)
    assert "installed the dependencies" in err.getvalue()
    subprocess.run([os.path.join(env, "bin", "python"), "-c", "import autoenv_demo"], check=True)


def test_hot_path_imports_stay_stdlib_when_an_env_exists(tmp_path, environ):
    """Entering a project that has its env imports nothing of creation's weight."""
    root = project(str(tmp_path / "proj"))
    create.maybe_create(detect.scan(root), environ, io.StringIO())
    code = ("import sys, json; sys.path.insert(0, %r)\n"
            "from autoenv import hook, detect\n"
            "hook.decide(detect.scan(%r), %r)\n"
            "print(json.dumps([m for m in ('packaging', 'tomllib', 'tomli', 'psutil', 'click', 'subprocess',"
            " 'autoenv.interpreters', 'autoenv.config') if m in sys.modules]))\n") % (
        os.path.dirname(os.path.dirname(create.__file__)), root, environ)
    out = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
