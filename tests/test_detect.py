"""Which directory is the project, which env belongs to it, and what the answer depends on."""

import os

import pytest

from autoenv import detect, hook
from conftest import IN_CI


def touch(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w"):
        pass
    return path


def fake_env(path, prompt=None):
    """Enough of an env for detection: a directory with pyvenv.cfg."""
    os.makedirs(os.path.join(path, "bin"), exist_ok=True)
    with open(os.path.join(path, "pyvenv.cfg"), "w", encoding="utf-8") as cfg:
        cfg.write("home = /usr/bin\n")
        if prompt is not None:
            cfg.write("prompt = %s\n" % prompt)
    return path


def found(pwd):
    return detect.find_env(detect.scan(str(pwd)))


@pytest.mark.parametrize("marker", detect.ROOT_MARKERS)
def test_each_marker_makes_a_project_root(tmp_path, marker):
    touch(str(tmp_path / "proj" / marker))
    sub = tmp_path / "proj" / "src" / "pkg"
    sub.mkdir(parents=True)
    finding = found(sub)
    assert finding.root == str(tmp_path / "proj")
    assert finding.key == str(tmp_path / "proj")
    assert finding.env is None


@pytest.mark.parametrize("name", detect.ENV_DIR_NAMES)
def test_an_env_dir_alone_makes_a_project_and_is_its_env(tmp_path, name):
    env = fake_env(str(tmp_path / "proj" / name))
    finding = found(tmp_path / "proj")
    assert finding.root == str(tmp_path / "proj")
    assert (finding.env, finding.source) == (env, "in-project")


@pytest.mark.parametrize("name", detect.ENV_DIR_NAMES)
def test_env_dir_without_pyvenv_cfg_is_not_an_env(tmp_path, name):
    (tmp_path / "proj" / name / "bin").mkdir(parents=True)
    finding = found(tmp_path / "proj")
    assert finding.root is None and finding.env is None
    # Still watched: a pyvenv.cfg appearing in it would change the answer.
    assert finding.key == str(tmp_path / "proj")


def test_a_dotvenv_file_is_not_an_env(tmp_path):
    touch(str(tmp_path / "proj" / ".venv"))
    touch(str(tmp_path / "proj" / "pyproject.toml"))
    finding = found(tmp_path / "proj")
    assert finding.root == str(tmp_path / "proj")
    assert finding.env is None


def test_dotvenv_wins_over_venv(tmp_path):
    touch(str(tmp_path / "proj" / "pyproject.toml"))
    dot = fake_env(str(tmp_path / "proj" / ".venv"))
    fake_env(str(tmp_path / "proj" / "venv"))
    assert found(tmp_path / "proj").env == dot


def test_venv_used_when_no_dotvenv(tmp_path):
    touch(str(tmp_path / "proj" / "setup.py"))
    plain = fake_env(str(tmp_path / "proj" / "venv"))
    (tmp_path / "proj" / "deep").mkdir()
    assert found(tmp_path / "proj" / "deep").env == plain


def test_nested_projects_innermost_env_wins(tmp_path):
    outer = tmp_path / "outer"
    inner = outer / "packages" / "inner"
    touch(str(outer / "pyproject.toml"))
    fake_env(str(outer / ".venv"))
    touch(str(inner / "pyproject.toml"))
    inner_env = fake_env(str(inner / ".venv"))
    finding = found(inner / "src")
    assert finding.roots == [str(inner), str(outer)]
    assert finding.root == str(inner)
    assert finding.env == inner_env


def test_nested_project_without_env_uses_enclosing_env(tmp_path):
    outer = tmp_path / "outer"
    inner = outer / "examples" / "demo"
    touch(str(outer / "pyproject.toml"))
    outer_env = fake_env(str(outer / ".venv"))
    touch(str(inner / "requirements.txt"))
    finding = found(inner)
    assert finding.root == str(inner)
    assert finding.env == outer_env


def test_no_project(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    finding = found(tmp_path / "a" / "b")
    assert (finding.root, finding.roots, finding.env, finding.disabled_by) == (None, [], None, None)


def test_disable_marker_above_turns_off_env(tmp_path):
    touch(str(tmp_path / "work" / detect.DISABLE_MARKER))
    proj = tmp_path / "work" / "proj"
    touch(str(proj / "pyproject.toml"))
    fake_env(str(proj / ".venv"))
    finding = found(proj / "src")
    assert finding.disabled_by == str(tmp_path / "work" / detect.DISABLE_MARKER)
    assert finding.root == str(proj)
    assert finding.env is None


def test_disable_marker_in_subdirectory_only_below_it(tmp_path):
    proj = tmp_path / "proj"
    touch(str(proj / "pyproject.toml"))
    env = fake_env(str(proj / ".venv"))
    touch(str(proj / "vendored" / detect.DISABLE_MARKER))
    assert found(proj).env == env
    assert found(proj / "vendored").env is None
    assert found(proj / "vendored").disabled_by == str(proj / "vendored" / detect.DISABLE_MARKER)


def test_nearest_disable_marker_is_reported(tmp_path):
    touch(str(tmp_path / detect.DISABLE_MARKER))
    touch(str(tmp_path / "a" / detect.DISABLE_MARKER))
    (tmp_path / "a" / "b").mkdir()
    assert found(tmp_path / "a" / "b").disabled_by == str(tmp_path / "a" / detect.DISABLE_MARKER)


def test_present_lists_watched_names_per_directory(tmp_path):
    touch(str(tmp_path / "p" / "pyproject.toml"))
    touch(str(tmp_path / "p" / ".python-version"))
    (tmp_path / "p" / "sub").mkdir()
    finding = detect.scan(str(tmp_path / "p" / "sub"))
    assert finding.present[str(tmp_path / "p")] == ["pyproject.toml", ".python-version"]
    assert str(tmp_path / "p" / "sub") not in finding.present


def test_dangling_symlink_marker_counts_as_absent_for_root(tmp_path):
    (tmp_path / "p").mkdir()
    os.symlink(str(tmp_path / "nowhere"), str(tmp_path / "p" / "pyproject.toml"))
    finding = found(tmp_path / "p")
    assert finding.root is None


def test_ancestors_innermost_first():
    assert detect.ancestors("/a/b/c") == ["/a/b/c", "/a/b", "/a", "/"]
    assert detect.ancestors("/") == ["/"]


# --- what the shell may check by itself: key, below, above -----------------

class RecordingShell:
    """Stands in for a renderer: records the values the helper hands the shell."""

    def __init__(self, tests_mtimes_at_once=False, asks_server_at_prompt=False):
        self.tests_mtimes_at_once = tests_mtimes_at_once
        self.asks_server_at_prompt = asks_server_at_prompt
        self.values = {}

    def set_local(self, name, value):
        self.values[name] = value
        return "x"

    def set_local_list(self, name, values):
        self.values[name] = list(values)
        return "x"


def cache_state(pwd):
    plan = hook.Plan(RecordingShell())
    hook.add_cache_state(plan, detect.scan(str(pwd)), "/stamp")
    values = plan.shell.values
    # A shell that tests them all at once (bash, fish) gets the same
    # directories as the arguments of one `test`, and no list above the key.
    at_once = hook.Plan(RecordingShell(tests_mtimes_at_once=True))
    hook.add_cache_state(at_once, detect.scan(str(pwd)), "/stamp")
    for part in ("below", "above"):
        expected = [word for d in values["__autoenv_" + part] for word in (d, "-nt", "/stamp", "-o")]
        assert at_once.shell.values["__autoenv_%s_test" % part] == expected
    assert at_once.shell.values["__autoenv_below"] == values["__autoenv_below"]
    assert "__autoenv_above" not in at_once.shell.values
    return values


def test_cache_state_in_project_subdirectory(tmp_path):
    proj = tmp_path / "proj"
    touch(str(proj / "pyproject.toml"))
    deep = proj / "src" / "pkg"
    deep.mkdir(parents=True)
    values = cache_state(deep)
    assert values["__autoenv_key"] == str(proj)
    # Directories between PWD and the key: a watched name appearing there changes the answer.
    assert values["__autoenv_below"] == [str(deep), str(proj / "src")]
    # The key and everything above it: the shell compares their mtimes with the stamp.
    assert values["__autoenv_above"] == detect.ancestors(str(proj))
    assert values["__autoenv_stamp"] == "/stamp"


def test_a_shell_that_asks_its_server_is_told_the_paths_beyond_the_chain(tmp_path):
    """The server derives the chain from $PWD; what else the answer hangs on
    (another tool's env dir, a file read) is sent along (watch.checked_paths)."""
    proj = tmp_path / "proj"
    touch(str(proj / "pyproject.toml"))
    finding = detect.scan(str(proj))
    outside = str(tmp_path / "elsewhere" / "virtualenvs")
    finding.watch += [outside, str(tmp_path)]  # the second is on the chain already
    plan = hook.Plan(RecordingShell(asks_server_at_prompt=True))
    hook.add_cache_state(plan, finding, "/stamp")
    assert plan.shell.values["__autoenv_extra"] == [outside]
    assert "__autoenv_extra" not in cache_state(proj)


def test_cache_state_at_the_key_itself(tmp_path):
    touch(str(tmp_path / "proj" / "setup.cfg"))
    values = cache_state(tmp_path / "proj")
    assert values["__autoenv_key"] == str(tmp_path / "proj")
    assert values["__autoenv_below"] == []
    assert values["__autoenv_above"] == detect.ancestors(str(tmp_path / "proj"))


def test_cache_state_key_is_nearest_watched_name_even_without_root(tmp_path):
    touch(str(tmp_path / "a" / ".python-version"))
    (tmp_path / "a" / "b").mkdir()
    values = cache_state(tmp_path / "a" / "b")
    assert values["__autoenv_key"] == str(tmp_path / "a")
    assert values["__autoenv_below"] == [str(tmp_path / "a" / "b")]


def test_cache_state_without_any_watched_name(tmp_path):
    # tmp_path's ancestors may hold watched names on a developer machine; make a
    # chain that certainly does not by checking what scan saw.
    (tmp_path / "x" / "y").mkdir(parents=True)
    finding = detect.scan(str(tmp_path / "x" / "y"))
    values = cache_state(tmp_path / "x" / "y")
    if finding.key:
        # CI's machine has none: there the test must run, not skip.
        message = "a directory above %s holds a watched name" % tmp_path
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    assert values["__autoenv_key"] == ""
    assert values["__autoenv_below"] == detect.ancestors(str(tmp_path / "x" / "y"))
    assert values["__autoenv_above"] == []


# --- the name in the prompt -------------------------------------------------

@pytest.mark.parametrize("line, expected", [
    ("prompt = custom", "custom"),
    ("prompt = 'quoted name'", "quoted name"),
    ('prompt = "dq"', "dq"),
    ("prompt=tight", "tight"),
])
def test_env_prompt_from_pyvenv_cfg(tmp_path, line, expected):
    env = tmp_path / "proj" / ".venv"
    env.mkdir(parents=True)
    (env / "pyvenv.cfg").write_text("home = /usr/bin\n%s\n" % line)
    assert detect.env_prompt(str(env), str(tmp_path / "proj")) == expected


def test_env_prompt_falls_back_to_project_directory_name(tmp_path):
    env = fake_env(str(tmp_path / "my project" / ".venv"))
    assert detect.env_prompt(env, str(tmp_path / "my project")) == "my project"


def test_env_prompt_of_env_without_root_uses_env_parent(tmp_path):
    env = fake_env(str(tmp_path / "thing" / ".venv"))
    assert detect.env_prompt(env, None) == "thing"
