"""Deep in a tree, real bash, zsh and fish leave the check of their long
chain to their server (autoenv/watch.py), and trust its token unasked while
it sleeps and is not busy.  Into a directory new to them, they go on the
token of the directory they came from and test the new directories
themselves; a second prompt there hands the server the new chain, without
waiting for a reply.  With no
token to go on, bash and zsh ask the server once, fish tests the chain.
Whatever the route, a marker made anywhere on the path counts at the next
prompt, also when the command line before that prompt made it, and a server
that is stopped or killed is never trusted.  (tests/test_structure.py shows
no process starts.)"""

import contextlib
import os
import signal
import time

import pytest

from autoenv import detect, serve
from conftest import require_shell
from realshell import InteractiveShell, make_venv, quote_for
from test_serve_realshell import echo, gone, server_of

SHELLS = ["bash", "zsh", "fish"]
DEPTH = 40
HOSTILE = "p '\";&&e-$ èрт🚒 $(x) `y`"


@pytest.fixture
def deep_project(tmp_path):
    """(levels, project, env): a project DEPTH directories down, some hostile."""
    names = ["d%02d" % i if i % 10 else "d%02d %s" % (i, HOSTILE) for i in range(1, DEPTH + 1)]
    levels = [str(tmp_path.joinpath(*names[:n + 1])) for n in range(DEPTH)]
    proj = os.path.join(levels[-1], "proj")
    os.makedirs(os.path.join(proj, "src", "a"))
    os.makedirs(os.path.join(proj, "src", "b"))
    with open(os.path.join(proj, "pyproject.toml"), "w") as handle:
        handle.write("[project]\nname = 'deep'\n")
    env = make_venv(os.path.join(proj, ".venv"))
    return levels, proj, env


def active_env(shell):
    return shell.state()["VIRTUAL_ENV"] or None


def made_before_the_stamp(*paths):
    """Makes PATHS (directories), older than the stamp a shell started next writes."""
    for path in paths:
        os.makedirs(path)
    time.sleep(0.1)
    return paths


def assert_marker_counts(shell, where, env):
    """A disable marker made in WHERE turns ENV off at the next prompt; removed, back on."""
    marker = os.path.join(where, detect.DISABLE_MARKER)
    open(marker, "w").close()
    shell.run("true")
    assert active_env(shell) is None, "%s not seen at the next prompt" % marker
    os.remove(marker)
    shell.run("true")
    assert active_env(shell) == env, "removing %s not seen at the next prompt" % marker


def vouched(shell):
    """Whether the server left a token saying this directory's chain is unchanged.

    A chain handed over without waiting gets its token a moment after the
    prompt: looked for a few times.  fish goes on the token of the directory
    it walked from for as long as it stands (it tests the rest itself): that
    one counts too."""
    if shell.kind == "fish":
        line = ('set -l t none; set -l i (contains -i -- $PWD $__autoenv_token_dirs); '
                'and set t $__autoenv_token_serials[$i]; '
                'or begin; test "$__autoenv_base_for" = "$PWD" -a -n "$__autoenv_base_serial"; and set t $__autoenv_base_serial; end; '
                'test -e $__autoenv_serve_tokens/$t; and echo yes; or echo no')
    else:
        line = '[ -e "$__autoenv_serve_tokens/${__autoenv_tokens[$PWD]-none}" ] && echo yes || echo no'
    for _ in range(20):
        if shell.run(line).splitlines()[0].strip() == "yes":
            return True
        time.sleep(0.05)
    return False


@contextlib.contextmanager
def deep_shell(kind, home, where, **env):
    require_shell(kind)
    with InteractiveShell(kind, home, env=dict(env, AUTOENV_CREATE="0"), timeout=40) as shell:
        shell.cd(where)
        server_of(shell)
        # The first prompts with the server up ask it (fish: to watch, then
        # finds the token at the next).
        shell.run("true")
        shell.run("true")
        yield shell


@pytest.mark.parametrize("kind", SHELLS)
def test_long_chain_is_left_to_the_server_and_trusted_unasked(kind, home, deep_project):
    levels, proj, env = deep_project
    with deep_shell(kind, home, os.path.join(proj, "src", "a")) as shell:
        assert active_env(shell) == env
        assert vouched(shell), "the server never said this chain is clean"
        before = shell.requests_sent()
        for _ in range(6):
            shell.run("true")
        # Asleep, not busy, its token there: not asked at all (once at most,
        # should a prompt catch it still going back to sleep).
        assert shell.requests_sent() - before <= 1
        # A cd into a new directory hands its chain over once; back in one it
        # holds a token for, nothing is asked.
        shell.cd(os.path.join(proj, "src", "b"))
        assert vouched(shell)
        before = shell.requests_sent()
        for target in ("a", "b", "a", "b"):
            shell.cd(os.path.join(proj, "src", target))
            assert vouched(shell)
        assert shell.requests_sent() - before <= 1


@pytest.mark.parametrize("kind", SHELLS)
def test_new_directories_go_on_the_token_they_came_from(kind, home, deep_project):
    """Into directories never visited, one after another (siblings, and a
    child of one): each goes on the token the walk started from, and the
    shell tests the directories it found new itself; nothing is sent.  bash
    and zsh hand the chain to the server at a second prompt in one (once, no
    reply waited for), and it gets its token; fish goes on the token it came
    from for as long as that stands, and sends nothing."""
    levels, proj, env = deep_project
    start = os.path.join(proj, "src", "a")
    fresh = [os.path.join(start, "new %d $(x)" % i) for i in range(4)]
    fresh.insert(2, os.path.join(fresh[1], "inner"))
    made_before_the_stamp(*fresh)
    with deep_shell(kind, home, start) as shell:
        assert vouched(shell)
        before = shell.requests_sent()
        joiner = "; and " if kind == "fish" else " && "
        for path in fresh:
            # One line: a second prompt here would hand the chain over.
            said = shell.run('cd %s%secho "[$VIRTUAL_ENV]"' % (quote_for(kind, path), joiner))
            assert said.splitlines()[0].strip() == "[%s]" % env
        # This line's prompt is the second in the last directory: bash and
        # zsh hand over there.
        if kind == "fish":
            sent = shell.requests_sent()
        else:
            # (__autoenv_serve_got is set by each reply read; a hand-over reads none.)
            sent = int(echo(shell, '"$__autoenv_serve_serial"; __autoenv_serve_got=none'))
        assert sent == before, "a walk through new directories sent the server something"
        if kind == "fish":
            for _ in range(3):
                shell.run("true")
            assert shell.requests_sent() == before, "fish handed over a chain its token before vouches for"
        else:
            assert echo(shell, '"$__autoenv_serve_got"') == "none", "waited for a reply"
            # One more at most, should a prompt find the server still at work.
            assert 1 <= shell.requests_sent() - before <= 2, "not handed over once"
        assert vouched(shell), "no token for %s" % fresh[-1]


@pytest.mark.parametrize("kind", SHELLS)
def test_a_directory_found_new_counts_while_it_is_on_the_way(kind, home, deep_project):
    """Down two new directories and across to a sibling of the second: the
    first, found new two walks before and never watched by the server, still
    lies on the way, and a marker made in it counts at the next prompt."""
    levels, proj, env = deep_project
    outer = os.path.join(proj, "src", "a", "outer 'x'")
    first, second = made_before_the_stamp(os.path.join(outer, "one"), os.path.join(outer, "two"))
    with deep_shell(kind, home, os.path.join(proj, "src", "a")) as shell:
        assert vouched(shell)
        for path in (outer, first, second):
            shell.cd(path)
        # Made before any chain that holds it is handed over (the prompt
        # after it checks first, then hands over).
        assert_marker_counts(shell, outer, env)


def test_fish_going_on_the_token_before_still_sees_a_change_of_state(home, deep_project):
    """fish's prompt in a directory it walked into goes on the token of the
    one it came from; a change to VIRTUAL_ENV_DISABLE_PROMPT or VIRTUAL_ENV
    made there is still seen at the very next prompt."""
    levels, proj, env = deep_project
    walked, = made_before_the_stamp(os.path.join(proj, "src", "a", "walked"))
    with deep_shell("fish", home, os.path.join(proj, "src", "a")) as shell:
        shell.cd(walked)
        assert echo(shell, '"$__autoenv_base_for"') == walked
        assert vouched(shell)
        assert not shell.run("set -gx VIRTUAL_ENV_DISABLE_PROMPT 1").endswith("(proj) ")
        assert shell.run("set -e VIRTUAL_ENV_DISABLE_PROMPT").endswith("(proj) ")
        # Left by hand: the next prompt brings the project's env back.
        shell.run("set -e VIRTUAL_ENV")
        assert active_env(shell) == env


def test_fish_back_in_a_directory_walked_into_goes_on_the_same_token(home, deep_project):
    """Back and forth between two directories fish walked into: each time back
    on the token the walk went on, nothing sent, and the directory the walk
    found new still tested (a marker in it counts)."""
    levels, proj, env = deep_project
    start = os.path.join(proj, "src", "a")
    one, two = made_before_the_stamp(os.path.join(start, "one"), os.path.join(start, "two"))
    with deep_shell("fish", home, start) as shell:
        before = shell.requests_sent()
        for path in (one, two, one, two):
            shell.cd(path)
        assert shell.requests_sent() == before, "a way back asked the server"
        assert vouched(shell)
        assert_marker_counts(shell, two, env)


@pytest.mark.parametrize("then", ["another new directory", "back where it was"])
@pytest.mark.parametrize("kind", SHELLS)
def test_two_cds_on_one_line_leave_nothing_pending(kind, home, deep_project, then):
    """The first cd, into a new directory, leaves its chain to hand over at
    the prompt; the second, on the same line, moves on: into another new
    directory (whose chain the prompt hands over) or back into one holding a
    token (nothing to hand over).  Either way the prompt leaves nothing
    pending, and the prompts after it find their token without asking."""
    levels, proj, env = deep_project
    start = os.path.join(proj, "src", "a")
    first, other = made_before_the_stamp(os.path.join(start, "first"), os.path.join(start, "other"))
    second = other if then == "another new directory" else start
    joiner = "; and " if kind == "fish" else " && "
    with deep_shell(kind, home, start) as shell:
        assert vouched(shell)
        shell.run("cd %s%scd %s" % (quote_for(kind, first), joiner, quote_for(kind, second)))
        assert echo(shell, '"$PWD"') == second
        assert active_env(shell) == env
        # Nothing left for the directory the first cd went into.
        assert echo(shell, '"$__autoenv_watch_pending"') in ("", second)
        assert vouched(shell), "no token where the shell ended up"
        before = shell.requests_sent()
        for _ in range(4):
            shell.run("true")
        assert shell.requests_sent() - before <= 1, "the prompts after it kept asking"


@pytest.mark.parametrize("kind", SHELLS)
def test_a_marker_made_right_after_a_cd_into_a_new_directory_counts(kind, home, deep_project):
    """Going on the token of the directory before: a marker in the new
    directory, or anywhere that token vouches for, made by the very command
    line that moved there, counts at its prompt."""
    levels, proj, env = deep_project
    fresh = made_before_the_stamp(*(os.path.join(proj, "src", "b", "n%d" % i) for i in range(9)))
    with deep_shell(kind, home, os.path.join(proj, "src", "b")) as shell:
        for round_, path in enumerate(fresh):
            assert vouched(shell)
            where = (path, proj, levels[5])[round_ % 3]
            marker = os.path.join(where, detect.DISABLE_MARKER)
            joiner = "; and " if kind == "fish" else " && "
            shell.run("cd %s%strue > %s" % (quote_for(kind, path), joiner, quote_for(kind, marker)))
            assert active_env(shell) is None, "marker %d (%s) not seen at its own prompt" % (round_, where)
            os.remove(marker)
            shell.run("true")
            assert active_env(shell) == env, "removal %d (%s) not seen" % (round_, where)


@pytest.mark.parametrize("kind", SHELLS)
def test_a_switch_into_a_deep_project_brings_its_token(kind, home, deep_project):
    """The server's answer leaves the token itself: read on the cd's own line,
    before any prompt could ask for one, the new directory has it."""
    levels, proj, env = deep_project
    other = os.path.join(levels[-1], "other $(x)")
    os.makedirs(other)
    open(os.path.join(other, "pyproject.toml"), "w").close()
    other_env = make_venv(os.path.join(other, ".venv"))
    if kind == "fish":
        line = 'cd %s; and echo "[$__autoenv_token_dir|$__autoenv_token]"'
    else:
        line = 'cd %s && echo "[$PWD|${__autoenv_tokens[$PWD]-}]"'
    with deep_shell(kind, home, proj) as shell:
        before = shell.requests_sent()
        for target, expected in ((other, other_env), (proj, env), (other, other_env)):
            said = shell.run(line % quote_for(kind, target)).splitlines()[0].strip()
            assert said.startswith("[%s|" % target) and not said.endswith("|]"), \
                "the answer for %s brought no token: %s" % (target, said)
            assert vouched(shell), "no token after the switch to %s" % target
            assert active_env(shell) == expected
        # Per switch its answer, and at most one question from a prompt that
        # found the server still on its way back to sleep (a loaded machine).
        assert shell.requests_sent() - before <= 6


@pytest.mark.parametrize("kind", SHELLS)
def test_markers_anywhere_on_a_deep_path_count_at_the_next_prompt(kind, home, deep_project):
    levels, proj, env = deep_project
    with deep_shell(kind, home, os.path.join(proj, "src", "a")) as shell:
        for where in (levels[0], levels[9], levels[DEPTH // 2], levels[-1], proj, os.path.join(proj, "src")):
            assert_marker_counts(shell, where, env)
        # An env that appears closer in: an inner project's.
        inner = make_venv(os.path.join(proj, "src", ".venv"))
        shell.run("true")
        assert active_env(shell) == inner
        os.rename(inner, inner + "-gone")
        shell.run("true")
        assert active_env(shell) == env


@pytest.mark.parametrize("kind", SHELLS)
def test_a_change_the_command_line_makes_counts_at_its_own_prompt(kind, home, deep_project):
    """The marker is written by the shell itself, microseconds before its hook
    runs: the server has had no time to see the event.  It must not be
    trusted then, and is not: the kernel wakes it within the write."""
    levels, proj, env = deep_project
    with deep_shell(kind, home, os.path.join(proj, "src", "a")) as shell:
        for round_ in range(12):
            where = (levels[round_ * 3], proj, os.path.join(proj, "src", "a"))[round_ % 3]
            marker = quote_for(kind, os.path.join(where, detect.DISABLE_MARKER))
            shell.run("true > %s" % marker)
            assert active_env(shell) is None, "marker %d (%s) not seen at its own prompt" % (round_, where)
            shell.run("rm %s" % marker)
            assert active_env(shell) == env, "removal %d (%s) not seen at its own prompt" % (round_, where)


@pytest.mark.parametrize("kind", SHELLS)
@pytest.mark.parametrize("how", ["stopped", "killed"])
def test_a_server_that_cannot_answer_is_never_trusted(kind, how, home, deep_project):
    levels, proj, env = deep_project
    with deep_shell(kind, home, os.path.join(proj, "src", "a")) as shell:
        pid, _ = server_of(shell)
        assert vouched(shell)
        os.kill(pid, signal.SIGSTOP if how == "stopped" else signal.SIGKILL)
        try:
            marker = os.path.join(levels[DEPTH // 2], detect.DISABLE_MARKER)
            open(marker, "w").close()
            started = time.time()
            shell.run("true")
            assert time.time() - started < 10
            assert active_env(shell) is None
            os.remove(marker)
            shell.run("true")
            assert active_env(shell) == env
        finally:
            if how == "stopped":
                os.kill(pid, signal.SIGCONT)
        if how == "killed":
            assert gone(pid)


@pytest.mark.parametrize("kind", SHELLS)
def test_the_server_is_not_consulted_when_switched_off(kind, home, deep_project):
    levels, proj, env = deep_project
    with deep_shell(kind, home, os.path.join(proj, "src", "a")) as shell:
        before = shell.requests_sent()
        shell.run("set -gx AUTOENV_SERVE 0" if kind == "fish" else "export AUTOENV_SERVE=0")
        marker = os.path.join(levels[3], detect.DISABLE_MARKER)
        open(marker, "w").close()
        shell.run("true")
        assert active_env(shell) is None
        os.remove(marker)
        shell.run("true")
        assert active_env(shell) == env
        assert shell.requests_sent() == before


@pytest.mark.parametrize("kind", SHELLS)
def test_a_shell_using_its_tokens_keeps_its_server_and_an_idle_one_does_not(kind, home, deep_project):
    """Deep in a tree a prompt does not ask the server, so requests cannot tell
    it the shell is in use: the shell's CPU time does."""
    levels, proj, env = deep_project
    busy = "for i in (seq 30000); end" if kind == "fish" else "for ((i = 0; i < 60000; i++)); do :; done"
    with deep_shell(kind, home, os.path.join(proj, "src", "a"), AUTOENV_SERVE_IDLE="1") as shell:
        pid, _ = server_of(shell)
        assert vouched(shell)
        until = time.time() + 4
        while time.time() < until:
            shell.run(busy)
        assert not gone(pid, timeout=0.1), "the server ended while its shell was in use"
        assert gone(pid, timeout=10), "the server outlived an idle shell"
        # Without it the shell tests for itself, and still sees a change.
        marker = os.path.join(levels[5], detect.DISABLE_MARKER)
        open(marker, "w").close()
        shell.run("true")
        assert active_env(shell) is None
        os.remove(marker)


def test_the_snippets_know_the_servers_process_name():
    """The shells match /proc/PID/stat against it (serve.PROCESS_NAME)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for kind in SHELLS:
        with open(os.path.join(here, "shells", "autoenv." + kind), encoding="utf-8") as handle:
            assert "(%s) S " % serve.PROCESS_NAME in handle.read()
