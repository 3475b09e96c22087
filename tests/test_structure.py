"""Speed by structure, in real interactive shells: what starts a process and what does not.

Timings live in benchmarks/; these tests guard the shape that makes them
small.  Each shell runs under ``strace -f``, which logs every process the shell
starts (fork/clone without CLONE_THREAD, execve).  An unchanged prompt and a
``cd`` that changes nothing must start none; a change to a watched name
anywhere on the path (new ``.autoenv-disable``, ``.venv``, ``pyproject.toml``
...) must run the helper at the very next prompt, so the shell-side cache is
never stale.
"""

import glob
import os
import re
import shutil
import time

import pytest

from autoenv import detect, hook, serve
from conftest import require_shell, require_tool
from realshell import InteractiveShell, make_venv

SHELLS = ["bash", "zsh", "fish"]
HELPER_NAME = "_run_hook.py"
DEPTH = 40
STAMP_MARGIN_S = hook.STAMP_MARGIN_NS / 1e9 + 0.01
# A process, not a thread: fish runs threads of its own at every key.
_SPAWN = re.compile(r"\b(?:clone3?|v?fork)\(")
_EXEC = re.compile(r"\bexecve\(\"([^\"]*)\", \[(.*?)\]")


class ProcessLog:
    """The processes a shell started, read back from the strace log.

    ``root`` is the test's own tree and ``home`` the shell's HOME (its stamp
    lives in ``home/.tmp``); both only serve :meth:`assert_quiet`.
    """

    def __init__(self, path, root=None, home=None):
        self.path = path
        self.offset = 0
        self.root = root
        self.home = home

    def mark(self):
        self.offset = os.path.getsize(self.path)

    def since_mark(self):
        """(spawns, execs) logged since the last mark; execs as (path, argv text)."""
        with open(self.path, encoding="utf-8", errors="replace") as handle:
            handle.seek(self.offset)
            lines = handle.read().splitlines()
        spawns, execs = [], []
        for line in lines:
            if "resumed>" in line:
                continue  # the second half of a call already counted
            if _SPAWN.search(line) and "CLONE_THREAD" not in line:
                spawns.append(line)
            match = _EXEC.search(line)
            if match:
                execs.append((match.group(1), match.group(2)))
        return spawns, execs

    def helper_runs(self):
        return [argv for _, argv in self.since_mark()[1] if HELPER_NAME in argv]

    def assert_none_since_mark(self, what):
        spawns, execs = self.since_mark()
        assert not spawns and not execs, "%s started processes:\n%s" % (
            what, "\n".join(spawns + ["execve %s %s" % e for e in execs]))

    def assert_quiet(self, what, action):
        """``action()`` starts no process.

        The directories above the test's tree (/tmp, /) are on the path too,
        and other programs change them at any time; the helper rightly runs
        then.  Only such a run is retried, a few times; any other fails.
        """
        retried = 0
        for _ in range(10):
            stamp = self.stamp_mtime()
            self.mark()
            action()
            spawns, execs = self.since_mark()
            if not spawns and not execs:
                return
            if stamp is None or not self.outside_changed_since(stamp):
                break
            retried += 1
        self.assert_none_since_mark("%s (tried %d times after outside changes; newer than the stamp: %s)"
                                    % (what, retried + 1, self.changed_since(stamp)))

    def stamp_mtime(self):
        stamps = glob.glob(os.path.join(self.home, ".tmp", "autoenv-*", "[0-9]*[0-9]"))
        return max(os.stat(path).st_mtime_ns for path in stamps) if stamps else None

    def changed_since(self, stamp):
        """Directories in the test's tree and above it modified after ``stamp`` (for messages)."""
        if stamp is None:
            return "no stamp"
        found = []
        for directory, _, _ in os.walk(str(self.root)):
            if os.stat(directory).st_mtime_ns >= stamp:
                found.append(directory)
        return found + (["(above the tree)"] if self.outside_changed_since(stamp) else [])

    def outside_changed_since(self, stamp):
        directory = os.path.dirname(str(self.root))
        while True:
            if os.stat(directory).st_mtime_ns >= stamp:
                return True
            parent = os.path.dirname(directory)
            if parent == directory:
                return False
            directory = parent


@pytest.fixture
def traced(home, tmp_path):
    """traced(kind) -> (shell, ProcessLog): a real shell with autoenv, under strace."""
    shells = []

    def start(kind, serve=False):
        require_shell(kind)
        require_tool("strace")  # counts the processes a shell starts
        log_path = str(tmp_path / ("strace-%s-%d.log" % (kind, len(shells))))
        # -s: whole argument strings, so the helper's path is recognised wherever
        # the checkout lives (strace cuts strings at 32 bytes by default).
        prefix = ["strace", "-f", "-qq", "-s", "4096", "-e", "trace=execve,fork,vfork,clone,clone3",
                  "-e", "signal=none", "-o", log_path]
        # Creation would take seconds and is another issue's; switched off here.
        # So is the server, unless asked for: these tests count helper runs to
        # prove the shell asked nobody, and a server is asked without one.
        env = {"AUTOENV_CREATE": "0", "AUTOENV_SERVE": "1" if serve else "0"}
        shell = InteractiveShell(kind, home, prefix=prefix, env=env, timeout=40)
        shells.append(shell)
        return shell, ProcessLog(log_path, root=tmp_path, home=home)

    yield start
    for shell in shells:
        shell.close()


def project(path, env=True):
    os.makedirs(os.path.join(path, "src", "a"))
    os.makedirs(os.path.join(path, "src", "b"))
    with open(os.path.join(path, "pyproject.toml"), "w") as handle:
        handle.write("[project]\nname = 'p'\n")
    if env:
        make_venv(os.path.join(path, ".venv"))
    return path


def prompt(shell):
    """One prompt with nothing typed that changes anything."""
    # fish runs no hook for an empty line the way bash and zsh do; `true` is a builtin everywhere.
    shell.run("true")


def active_env(shell):
    return shell.state()["VIRTUAL_ENV"] or None


def touch(path):
    with open(path, "w"):
        pass


def assert_marker_seen_at_the_next_prompt(shell, where, env):
    """A disable marker made in ``where`` turns ``env`` off at the next prompt; removed, back on."""
    marker = os.path.join(where, detect.DISABLE_MARKER)
    touch(marker)
    prompt(shell)
    assert active_env(shell) is None, "%s not seen at the next prompt" % marker
    os.remove(marker)
    prompt(shell)
    assert active_env(shell) == env, "removing %s not seen at the next prompt" % marker


@pytest.mark.parametrize("kind", SHELLS)
def test_no_process_on_unchanged_prompt_or_cd_that_changes_nothing(kind, traced, tmp_path):
    proj = project(str(tmp_path / "proj"))
    deep = project(os.path.join(str(tmp_path), *("d%02d" % i for i in range(DEPTH)), "proj"))
    plain = tmp_path / "plain"
    (plain / "x").mkdir(parents=True)
    (plain / "y").mkdir()
    shell, log = traced(kind)

    shell.cd(os.path.join(proj, "src", "a"))
    assert active_env(shell) == os.path.join(proj, ".venv")

    log.assert_quiet("an unchanged prompt in a project subdir",
                     lambda: [prompt(shell) for _ in range(3)])

    def inside_project():
        shell.cd(os.path.join(proj, "src", "b"))
        shell.cd(os.path.join(proj, "src", "a"))
        shell.cd(proj)
        shell.cd(os.path.join(proj, "src"))
        prompt(shell)

    log.assert_quiet("cd inside one project", inside_project)

    # Leaving the project must run the helper: the log does see it.
    log.mark()
    shell.cd(str(plain / "x"))
    assert log.helper_runs(), "leaving the project ran no helper; is strace logging?"

    def no_project():
        shell.cd(str(plain / "y"))
        shell.cd(str(plain / "x"))
        shell.cd(str(plain))
        prompt(shell)

    log.assert_quiet("cd between directories with no project", no_project)

    log.mark()
    shell.cd(os.path.join(deep, "src", "a"))
    assert log.helper_runs(), "entering the deep project ran no helper"
    assert active_env(shell) == os.path.join(deep, ".venv")

    def inside_deep_project():
        prompt(shell)
        shell.cd(os.path.join(deep, "src", "b"))
        shell.cd(deep)
        shell.cd(os.path.join(deep, "src", "a"))
        prompt(shell)

    log.assert_quiet("prompt and cd inside a project %d directories deep" % DEPTH, inside_deep_project)


def switch_costs(shell, log, targets, expected):
    """cd to each target in turn; ``expected(spawns, execs, asks)`` says
    whether what it started (and how often it asked the server) is right."""
    here = shell.state()["cwd"]
    for target in targets:
        for _ in range(5):
            stamp = log.stamp_mtime()
            serial = shell.requests_sent()
            log.mark()
            shell.cd(target)
            prompt(shell)
            spawns, execs = log.since_mark()
            asks = shell.requests_sent() - serial
            if expected(spawns, execs, asks):
                break
            if not (stamp and log.outside_changed_since(stamp)):
                raise AssertionError("cd %s started %r / %r, asked the server %d times" % (target, spawns, execs, asks))
            shell.cd(here)  # a dir above the test's tree changed: try again
        else:
            raise AssertionError("cd %s: the directories above the test kept changing" % target)
        here = target


@pytest.mark.parametrize("kind", SHELLS)
def test_with_the_server_a_deep_prompt_or_cd_starts_no_process(kind, traced, tmp_path):
    """40 levels down bash and zsh leave the chain to their server (see
    tests/test_watch_realshell.py); still nothing is started, by the shell
    or by the server."""
    deep = project(os.path.join(str(tmp_path), *("d%02d" % i for i in range(DEPTH)), "proj"))
    shell, log = traced(kind, serve=True)
    shell.cd(os.path.join(deep, "src", "a"))
    assert active_env(shell) == os.path.join(deep, ".venv")
    deadline = time.time() + 30
    while not shell.run("echo \"$__autoenv_serve_dir\"").splitlines()[0].strip() and time.time() < deadline:
        time.sleep(0.1)
    prompt(shell)  # the first prompt with the server up asks it

    def inside_deep_project():
        for _ in range(3):
            prompt(shell)
        shell.cd(os.path.join(deep, "src", "b"))
        prompt(shell)
        shell.cd(os.path.join(deep, "src", "a"))
        prompt(shell)

    log.assert_quiet("prompt and cd %d directories deep, the server on" % DEPTH, inside_deep_project)
    assert active_env(shell) == os.path.join(deep, ".venv")




@pytest.mark.parametrize("kind", SHELLS)
def test_a_switch_starts_one_process_the_helper_without_a_server(kind, traced, tmp_path):
    """zsh runs its hook on chpwd and at the prompt, bash on cd and at the
    prompt: the second must find the answer already cached."""
    first = project(str(tmp_path / "first"))
    second = project(str(tmp_path / "second"))
    shell, log = traced(kind)
    shell.cd(first)
    switch_costs(shell, log, (second, first, os.path.join(second, "src", "a")),
                 lambda spawns, execs, asks: len(spawns) == 1 and len(execs) == 1 and len(log.helper_runs()) == 1)
    assert active_env(shell) == os.path.join(second, ".venv")


@pytest.mark.parametrize("kind", SHELLS)
def test_a_switch_the_server_answers_starts_no_process(kind, traced, tmp_path):
    """With its server up, a shell asks it once per switch and starts nothing."""
    first = project(str(tmp_path / "first"))
    second = project(str(tmp_path / "second"))
    shell, log = traced(kind, serve=True)
    shell.cd(first)
    # Up once it sits in its channel (fish asks only then).
    deadline = time.time() + 30
    while time.time() < deadline:
        pid, _, channel = shell.run("echo \"$__autoenv_serve_pid:$__autoenv_serve_dir\"").splitlines()[0].partition(":")
        if pid and os.path.realpath("/proc/%s/cwd" % pid) == channel.strip():
            break
        time.sleep(0.1)
    else:
        raise AssertionError("no server started")
    switch_costs(shell, log, (second, first, os.path.join(second, "src", "a"), str(tmp_path)),
                 lambda spawns, execs, asks: not spawns and not execs and asks == 1)
    assert active_env(shell) is None
    shell.cd(second)
    assert active_env(shell) == os.path.join(second, ".venv")


@pytest.mark.parametrize("kind", SHELLS)
def test_marker_on_the_path_takes_effect_at_the_next_prompt(kind, traced, tmp_path):
    outer = tmp_path / "outer"
    proj = project(str(outer / "proj"))
    sub = os.path.join(proj, "src", "a")
    env = os.path.join(proj, ".venv")
    shell, log = traced(kind)
    shell.cd(sub)
    assert active_env(shell) == env

    # In the project root while sitting in a subdir, then in a parent of the project.
    for where in (proj, str(outer)):
        assert_marker_seen_at_the_next_prompt(shell, where, env)

    # A new env in a directory between here and the project root: an inner project.
    inner_env = make_venv(os.path.join(proj, "src", ".venv"))
    prompt(shell)
    assert active_env(shell) == inner_env
    shutil.rmtree(inner_env)
    prompt(shell)
    assert active_env(shell) == env

    # Created just before a cd that the cache would otherwise answer alone:
    # in the new directory, and in the directory old and new share.
    for where in (os.path.join(proj, "src", "b"), os.path.join(proj, "src")):
        shell.cd(sub)
        assert active_env(shell) == env
        marker = os.path.join(where, detect.DISABLE_MARKER)
        touch(marker)
        shell.cd(os.path.join(proj, "src", "b"))
        assert active_env(shell) is None, "%s not seen at the cd" % marker
        os.remove(marker)
        prompt(shell)
        assert active_env(shell) == env


@pytest.mark.parametrize("kind", SHELLS)
def test_hostile_names_in_the_prompt_check_are_data(kind, traced, tmp_path):
    """bash and zsh write the directories they test into a function of their
    own (__autoenv_compile), fish passes them to `test`: with names made of
    quotes, `$(...)`, globs and a newline, an unchanged prompt still starts
    nothing, and a marker in any of those directories counts at the next one."""
    outer = tmp_path / "o '\";&&e-$ èрт🚒 $(touch pwned) `touch pwned`"
    proj = project(str(outer / "p *?[a]\nline $HOME \\"))
    sub = os.path.join(proj, "src", "a")
    assert sub.count(os.sep) < serve.SYNC_FROM_PATHS - 1, "a chain this long is the server's: move TMPDIR up"
    env = os.path.join(proj, ".venv")
    shell, log = traced(kind)
    shell.cd(sub)
    assert active_env(shell) == env
    log.assert_quiet("an unchanged prompt under hostile names", lambda: [prompt(shell) for _ in range(3)])
    for where in (sub, proj, str(outer)):
        assert_marker_seen_at_the_next_prompt(shell, where, env)
    assert not glob.glob(os.path.join(str(tmp_path), "**", "pwned"), recursive=True)


@pytest.mark.parametrize("kind", SHELLS)
def test_new_env_in_a_plain_directory_is_seen_at_the_next_prompt(kind, traced, tmp_path):
    here = tmp_path / "plain" / "x" / "y"
    here.mkdir(parents=True)
    shell, log = traced(kind)
    shell.cd(str(here))
    assert active_env(shell) is None
    log.assert_quiet("a prompt with no project", lambda: prompt(shell))
    env = make_venv(str(tmp_path / "plain" / ".venv"))
    prompt(shell)
    assert active_env(shell) == env


@pytest.mark.parametrize("kind", SHELLS)
def test_every_watched_name_anywhere_on_the_path_reruns_the_helper(kind, traced, tmp_path):
    """pyproject.toml and friends often change nothing visible (the enclosing env stays),
    so what is checked is that the helper ran at the next prompt, for creation and removal."""
    top = tmp_path / "top"
    proj = project(str(top / "mid" / "proj"))
    here = os.path.join(proj, "src", "a")
    places = [here, os.path.join(proj, "src"), proj, str(top / "mid"), str(top)]
    shell, log = traced(kind)
    shell.cd(here)
    skipped = []
    for index, name in enumerate(detect.WATCHED_NAMES):
        where = places[index % len(places)]
        path = os.path.join(where, name)
        if os.path.lexists(path):
            skipped.append(path)
            continue
        log.mark()
        touch(path)
        prompt(shell)
        assert log.helper_runs(), "new %s not seen at the next prompt" % path
        log.mark()
        os.remove(path)
        prompt(shell)
        assert log.helper_runs(), "removed %s not seen at the next prompt" % path
        # A change made less than the stamp's margin before a helper run may
        # cost one more run; after that the prompt is quiet again.
        time.sleep(STAMP_MARGIN_S)
        prompt(shell)
        log.assert_quiet("the prompt after %s came and went" % path, lambda: prompt(shell))
    # Only the project's own files were left out; every other name was checked.
    assert set(skipped) <= {os.path.join(proj, "pyproject.toml"), os.path.join(proj, ".venv")}, skipped


@pytest.mark.parametrize("kind", SHELLS)
def test_deep_project_sees_markers_far_above(kind, traced, tmp_path):
    levels = [str(tmp_path.joinpath(*("d%02d" % i for i in range(n + 1)))) for n in range(DEPTH)]
    proj = project(os.path.join(levels[-1], "proj"))
    env = os.path.join(proj, ".venv")
    shell, log = traced(kind)
    shell.cd(os.path.join(proj, "src", "a"))
    assert active_env(shell) == env
    for where in (levels[0], levels[DEPTH // 2], proj):
        assert_marker_seen_at_the_next_prompt(shell, where, env)


def test_names_looked_up_by_directory_handle_match_full_paths(tmp_path, monkeypatch):
    """detect looks names up relative to an O_PATH handle (one lookup each, not a
    walk of the whole path); the answer must be what full paths give."""
    deep = tmp_path.joinpath(*("d%02d" % i for i in range(DEPTH)))
    deep.mkdir(parents=True)
    (deep / "pyproject.toml").write_text("")
    (deep / ".venv").mkdir()
    os.symlink(str(deep / "pyproject.toml"), str(deep / "setup.py"))  # a link to a file: present
    os.symlink(str(deep / "missing"), str(deep / "setup.cfg"))  # dangling: absent, as stat says
    linked = tmp_path / "linked"
    os.symlink(str(deep), str(linked))  # the directory reached through a link
    expected = ["pyproject.toml", "setup.py", ".venv"]
    for directory in (str(deep), str(linked), str(linked) + "/"):
        assert sorted(detect.present_names(directory)) == sorted(expected)
    assert detect.present_names(str(tmp_path / "nowhere")) == []
    by_handle = {d: detect.present_names(d) for d in detect.ancestors(str(deep))}
    monkeypatch.setattr(detect, "_BY_DIR_FD", False)
    by_path = {d: detect.present_names(d) for d in detect.ancestors(str(deep))}
    assert by_handle == by_path
    assert sorted(by_path[str(deep)]) == sorted(expected)


@pytest.mark.parametrize("kind", SHELLS)
def test_directories_a_walk_found_clean_are_remembered_but_never_trusted_stale(kind, traced, tmp_path):
    """root -> 40 below -> root -> 40 below: the second descent tests each
    directory once (unchanged since the stamp), starting nothing; a marker
    made meanwhile in a remembered directory still counts at that cd.  The
    names are hostile: the shells key what they remember by directory."""
    proj = project(str(tmp_path / "p '\";&&e-$ èрт🚒 $(x) `y` [z]* ?"))
    env = os.path.join(proj, ".venv")
    deep = os.path.join(proj, *("s%02d]$(x)" % i for i in range(1, DEPTH + 1)))
    os.makedirs(deep)
    shell, log = traced(kind)
    shell.cd(proj)
    time.sleep(STAMP_MARGIN_S)
    shell.cd(deep)
    assert active_env(shell) == env
    shell.cd(proj)

    def descend_and_return():
        shell.cd(deep)
        shell.cd(proj)

    log.assert_quiet("a second descent %d directories deep" % DEPTH, descend_and_return)
    middle = os.path.join(proj, *("s%02d]$(x)" % i for i in range(1, DEPTH // 2 + 1)))
    for name in (detect.DISABLE_MARKER, ".venv"):
        marker = os.path.join(middle, name)
        if name == ".venv":
            make_venv(marker)
        else:
            touch(marker)
        shell.cd(deep)
        assert active_env(shell) == (marker if name == ".venv" else None), "%s not seen" % marker
        shell.cd(proj)
        if name == ".venv":
            shutil.rmtree(marker)
        else:
            os.remove(marker)
        shell.cd(deep)
        assert active_env(shell) == env
        shell.cd(proj)
