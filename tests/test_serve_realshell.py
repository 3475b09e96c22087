"""The server in real interactive bash, zsh and fish: one per shell, gone with
the shell, replaced when it dies, and told the shell's variables at each switch.

Every other real-shell test runs with the server too (it is on by default);
tests/test_structure.py checks that a switch it answers starts no process.
"""

import contextlib
import os
import signal
import subprocess
import time

import pytest

from autoenv import serve
from conftest import require_shell
from realshell import AUTOENV, InteractiveShell, make_venv, quote_for

SHELLS = ["bash", "zsh", "fish"]


def echo(shell, text):
    """What ``echo TEXT`` prints (the prompt's env prefix comes after it)."""
    return shell.run("echo " + text).splitlines()[0].strip()


def server_of(shell):
    """(pid, channel dir) of the shell's server, waiting until it is up."""
    deadline = time.time() + 20
    while time.time() < deadline:
        pid, _, channel = echo(shell, "$__autoenv_serve_pid:$__autoenv_serve_dir").partition(":")
        if pid and os.path.exists("/proc/%s/cwd" % pid) and os.path.realpath("/proc/%s/cwd" % pid) == channel:
            return int(pid), channel
        time.sleep(0.05)
    raise AssertionError("no server for this shell: %r" % shell.run("echo $__autoenv_serve_pid:$__autoenv_serve_dir"))


def servers_for(shell_pid):
    """The server processes started for the shell ``shell_pid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        if b"--serve" in argv and argv[argv.index(b"--serve") + 2:][:1] == [str(shell_pid).encode()]:
            found.append(int(entry))
    return found


def shell_pid(shell):
    return int(echo(shell, "$fish_pid" if shell.kind == "fish" else "$$"))


def gone(pid, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not os.path.exists("/proc/%d" % pid):
            return True
        time.sleep(0.05)
    return False


def projects(tmp_path):
    first = str(tmp_path / "first")
    second = str(tmp_path / "sécond $(x) 'q'")
    for path in (first, second):
        os.makedirs(path)
        open(os.path.join(path, "pyproject.toml"), "w").close()
        make_venv(os.path.join(path, ".venv"))
    return first, second


@contextlib.contextmanager
def served_shell(kind, home, tmp_path, **env):
    """A real shell in the first of two projects, its server up:
    (shell, first, second, server pid, channel dir)."""
    require_shell(kind)
    first, second = projects(tmp_path)
    with InteractiveShell(kind, home, env=dict(env, AUTOENV_CREATE="0")) as shell:
        shell.cd(first)
        pid, channel = server_of(shell)
        yield shell, first, second, pid, channel


@pytest.mark.parametrize("kind", SHELLS)
def test_one_server_per_shell_answers_the_switches(kind, home, tmp_path):
    with served_shell(kind, home, tmp_path) as (shell, first, second, pid, channel):
        serial = shell.requests_sent()
        for target in (second, first, str(tmp_path), second):
            shell.cd(target)
            state = shell.state()
            expected = os.path.join(target, ".venv") if target != str(tmp_path) else None
            assert state["VIRTUAL_ENV"] == expected and state["prefix"] == expected
        # The server was asked (four switches) and it is still the only one.
        assert shell.requests_sent() >= serial + 4
        assert servers_for(shell_pid(shell)) == [pid]
        assert os.path.isdir(channel)
    assert gone(pid), "the server outlived its shell"
    assert not os.path.exists(channel)


@pytest.mark.parametrize("kind", SHELLS)
def test_a_killed_server_costs_one_helper_run_and_is_replaced(kind, home, tmp_path):
    with served_shell(kind, home, tmp_path) as (shell, first, second, pid, channel):
        os.kill(pid, signal.SIGKILL)
        assert gone(pid)
        # Left behind, as a crash would.
        assert os.path.exists(os.path.join(channel, "requests" if kind == "fish" else "request"))
        shell.cd(second)
        assert shell.state()["VIRTUAL_ENV"] == os.path.join(second, ".venv")
        new_pid, new_channel = server_of(shell)
        assert new_pid != pid and new_channel != channel
        shell.cd(first)
        assert shell.state()["VIRTUAL_ENV"] == os.path.join(first, ".venv")


@pytest.mark.parametrize("kind", SHELLS)
def test_without_a_runtime_dir_the_channel_is_in_shared_memory(kind, home, tmp_path):
    """No $XDG_RUNTIME_DIR (a root shell in a container, ssh without logind):
    the stamp goes to the temp dir as always, which may be on disk, and the
    channel to the user's private directory in /dev/shm, where the server
    answers the switches.  (A machine with no /dev/shm keeps it beside the
    stamp: checked there instead.)"""
    with served_shell(kind, home, tmp_path, XDG_RUNTIME_DIR=None) as (shell, first, second, pid, channel):
        stamp = echo(shell, "$__autoenv_stamp")
        assert os.path.dirname(stamp) == os.path.join(home, ".tmp", "autoenv-%d" % os.getuid())
        if os.path.isdir(serve.SHARED_MEMORY):
            assert os.path.dirname(channel) == serve.shared_memory_dir()
            assert os.stat(serve.shared_memory_dir()).st_mode & 0o777 == 0o700
        else:
            assert os.path.dirname(channel) == os.path.dirname(stamp)
        serial = shell.requests_sent()
        for target in (second, first):
            shell.cd(target)
            assert shell.state()["VIRTUAL_ENV"] == os.path.join(target, ".venv")
        assert shell.requests_sent() >= serial + 2
        assert servers_for(shell_pid(shell)) == [pid]
        # autoenv doctor finds it there.
        said = shell.run("%s doctor" % quote_for(kind, AUTOENV))
        assert "info  server: answers this shell's switches (%s)" % channel in said, said
    assert gone(pid), "the server outlived its shell"
    assert not os.path.exists(channel)


@pytest.mark.parametrize("kind", SHELLS)
def test_variables_set_after_the_server_started_count(kind, home, tmp_path):
    """A `.venv` file names an env in $WORKON_HOME; the shell changes
    WORKON_HOME after its server started, and the next switch follows it."""
    named = str(tmp_path / "named")
    os.makedirs(named)
    with open(os.path.join(named, ".venv"), "w") as handle:
        handle.write("the-env\n")
    workon = {where: make_venv(str(tmp_path / where / "the-env")) for where in ("one", "two")}
    with served_shell(kind, home, tmp_path) as (shell, first, _, _, _):
        for where in ("one", "two"):
            value = str(tmp_path / where)
            shell.run("set -gx WORKON_HOME '%s'" % value if kind == "fish" else "export WORKON_HOME='%s'" % value)
            shell.cd(named)
            assert shell.state()["VIRTUAL_ENV"] == workon[where]
            shell.cd(first)
        # Unexported, a variable is not the env's: the helper would not see it either.
        shell.run("set -e WORKON_HOME; set -g WORKON_HOME '%s'" % (tmp_path / "one") if kind == "fish"
                  else "unset WORKON_HOME; WORKON_HOME='%s'" % (tmp_path / "one"))
        shell.cd(named)
        assert shell.state()["VIRTUAL_ENV"] is None


@pytest.mark.parametrize("kind", SHELLS)
def test_switched_off_the_shell_starts_no_server(kind, home, tmp_path):
    require_shell(kind)
    first, second = projects(tmp_path)
    with InteractiveShell(kind, home, env={"AUTOENV_CREATE": "0", "AUTOENV_SERVE": "0"}) as shell:
        for target in (first, second):
            shell.cd(target)
            assert shell.state()["VIRTUAL_ENV"] == os.path.join(target, ".venv")
        assert echo(shell, '"x$__autoenv_serve_pid"x') == "xx"
        assert servers_for(shell_pid(shell)) == []


@pytest.mark.parametrize("kind", SHELLS)
def test_a_stuck_server_never_hangs_the_shell(kind, home, tmp_path):
    """A server that stops answering (stopped here; a hung mount would do the
    same): the shell gives up on it after a short wait and runs the helper."""
    with served_shell(kind, home, tmp_path) as (shell, first, second, pid, _):
        os.kill(pid, signal.SIGSTOP)
        try:
            started = time.time()
            shell.cd(second)
            assert time.time() - started < 10
            assert shell.state()["VIRTUAL_ENV"] == os.path.join(second, ".venv")
            # Given up on: the next switch runs a helper, which starts a new server.
            assert int(echo(shell, '"$__autoenv_serve_pid"') or 0) != pid
        finally:
            os.kill(pid, signal.SIGCONT)
        shell.cd(first)
        shell.cd(second)
        assert shell.state()["VIRTUAL_ENV"] == os.path.join(second, ".venv")


@pytest.mark.parametrize("kind", SHELLS)
def test_a_server_that_holds_no_channel_open_never_hangs_the_shell(kind, home, tmp_path):
    """A process alive in its channel that reads nothing: what the shell sees
    of a server killed between its check and its request (the kernel closes
    the server's descriptors before it leaves its directory).  Opening a FIFO
    nobody reads waits for ever, Ctrl-C or not; the shell must never do it.
    The channel holds everything a shell might use (FIFOs and requests/)."""
    fake = tmp_path / "fake-channel"
    (fake / "requests").mkdir(parents=True)
    for name in ("request", "reply"):
        os.mkfifo(str(fake / name), 0o600)
    sitter = subprocess.Popen(["sleep", "600"], cwd=str(fake))
    try:
        with served_shell(kind, home, tmp_path) as (shell, first, second, pid, _):
            shell.run("__autoenv_serve_close; __autoenv_serve_open %s %d"
                      % (quote_for(kind, str(fake)), sitter.pid))
            assert echo(shell, '"$__autoenv_serve_pid"') == str(sitter.pid)
            started = time.time()
            shell.send("cd %s" % quote_for(kind, second))
            shell.wait(timeout=15)
            assert time.time() - started < 10
            assert shell.state()["VIRTUAL_ENV"] == os.path.join(second, ".venv")
            # Given up on; the helper started a real server.
            new_pid, _ = server_of(shell)
            assert new_pid not in (pid, sitter.pid)
    finally:
        sitter.kill()
        sitter.wait()


@pytest.mark.parametrize("kind", ["bash", "zsh"])
def test_descriptors_the_user_closed_are_noticed(kind, home, tmp_path):
    """The shell's ends of the FIFOs closed behind autoenv's back (a script that
    closes every descriptor above 2): the numbers may be reused by the shell
    for anything, so nothing is written to them; a helper runs instead."""
    mine = str(tmp_path / "mine")
    with open(mine, "w") as handle:
        handle.write("still mine\n")
    with served_shell(kind, home, tmp_path) as (shell, first, second, pid, _):
        printed = shell.run('exec {__autoenv_serve_request}>&- {__autoenv_serve_reply}>&-; exec 2>&1')
        if kind == "bash":
            # The user's own file takes the number that was autoenv's request
            # FIFO (zsh redirects only one-digit numbers: not done there).
            printed += shell.run('mine=$__autoenv_serve_request; eval "exec $mine<%s"' % quote_for(kind, mine))
        printed += shell.cd(second)
        assert shell.state()["VIRTUAL_ENV"] == os.path.join(second, ".venv")
        assert "\0" not in printed and "PATH=" not in printed and "autoenv" not in printed, printed
        if kind == "bash":
            # Not closed by autoenv, not written to.
            assert echo(shell, '"$(cat <&$mine)"') == "still mine"
        assert int(echo(shell, '"$__autoenv_serve_pid"') or 0) not in (0, pid)  # a new server
        shell.cd(first)
        assert shell.state()["VIRTUAL_ENV"] == os.path.join(first, ".venv")


@pytest.mark.parametrize("kind", SHELLS)
def test_a_server_that_ended_idle_is_replaced_at_the_next_switch(kind, home, tmp_path):
    """Again and again: a shell left open for days outlives many idle servers
    (only failed starts in a row are limited)."""
    with served_shell(kind, home, tmp_path, AUTOENV_SERVE_IDLE="1") as (shell, first, second, pid, channel):
        for round_ in range(4):
            assert gone(pid, timeout=10), "the idle server did not end (round %d)" % round_
            assert not os.path.exists(channel)
            printed = shell.cd(second)
            assert "autoenv" not in printed, printed
            assert shell.state()["VIRTUAL_ENV"] == os.path.join(second, ".venv")
            new_pid, channel = server_of(shell)
            assert new_pid != pid, "no new server in round %d" % round_
            pid = new_pid
            shell.cd(first)  # answered by the new server
            assert shell.state()["VIRTUAL_ENV"] == os.path.join(first, ".venv")
