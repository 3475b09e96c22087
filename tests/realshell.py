"""Drive real interactive shells through a pty with pexpect.

Every shell starts with no rc files, a temporary HOME and XDG dirs, a plain
PATH and a unique prompt.  Commands are sent one line at a time, so the hooks
run exactly as they do for a person typing.  State is read back through a
small Python script that writes JSON to a file, so nothing depends on how the
terminal renders odd bytes.
"""

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid

import pexpect

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AUTOENV = os.path.join(os.path.dirname(sys.executable), "autoenv")
# The script the snippets start on a directory change.
HELPER = os.path.join(REPO, "autoenv", "_run_hook.py")
DUMP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dump_state.py")
BASE_PATH = "/usr/local/bin:/usr/bin:/bin"

SHELL_COMMANDS = {
    "bash": ["bash", "--norc", "--noprofile", "-i"],
    "zsh": ["zsh", "-f", "-i"],
    "fish": ["fish", "--no-config", "-i"],
}


def shell_available(kind):
    return shutil.which(SHELL_COMMANDS[kind][0]) is not None


def quote_for(kind, value):
    """A literal for typing into ``kind``; written here, not taken from autoenv, so
    the tests do not trust the code they test."""
    if kind == "fish":
        # Newlines and tabs spelled outside the quotes: one line to type.
        quoted = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return quoted.replace("\n", "'\\n'").replace("\t", "'\\t'")
    return shlex.quote(value)


def make_venv(path, python=sys.executable):
    """A real env, made the quick way (no pip)."""
    subprocess.run([python, "-m", "venv", "--without-pip", path], check=True)
    return path


def lines_of(printed):
    """Lines a command printed, without the start of the next prompt."""
    body = printed.rpartition("\n")[0]
    return [line for line in body.split("\n") if line.strip()]


def autoenv_lines(printed):
    """What autoenv said in ``printed`` (every message starts with ``autoenv:``)."""
    return [line for line in lines_of(printed) if "autoenv:" in line]


def assert_answer_kept(shell, stamp, steps):
    """``steps`` (a prompt, a cd that changes nothing) say nothing and leave
    the shell's ``stamp`` as it was: no answer was computed again."""
    # Past the one extra run a dir changed within the stamp's margin may cause.
    shell.run("sleep 0.1")
    shell.run("true")
    written = os.stat(stamp).st_mtime_ns
    for step in steps:
        assert autoenv_lines(shell.run(step)) == [], step
    assert os.stat(stamp).st_mtime_ns == written, "the answer was computed again with nothing changed"


def _signals_as_at_a_terminal():
    """In the shell's child: SIGINT and SIGQUIT back to their defaults.  A test
    run started in the background (``./test.sh &``) inherits them ignored, a
    shell passes that on to every command it runs, and the Ctrl-C tests would
    then wait on a helper that cannot be interrupted."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


class InteractiveShell:
    def __init__(self, kind, home, init=True, env=None, timeout=20, prefix=(), cwd=None):
        # prefix: words run before the shell, e.g. setpriv arguments to start it as another user.
        # cwd: where the shell starts (default: home), e.g. inside a project.
        self.kind = kind
        self.home = home
        self.token = "AUTOENV-" + uuid.uuid4().hex[:12] + ">"
        self.started_marker = "STARTED-" + uuid.uuid4().hex[:12]
        # The state file lives outside HOME and every project: writing it must not
        # change the mtime of a directory autoenv watches.
        self.state_dir = tempfile.mkdtemp(prefix="autoenv-state-")
        os.chmod(self.state_dir, 0o777)  # writable when the shell runs as another user
        self.out_file = os.path.join(self.state_dir, "state.json")
        self.environ = self.base_environ(home)
        self.environ.update(env or {})
        # A value of None takes the variable away.
        self.environ = {name: value for name, value in self.environ.items() if value is not None}
        argv = list(prefix) + SHELL_COMMANDS[kind]
        self.child = pexpect.spawn(
            argv[0],
            argv[1:],
            env=self.environ,
            cwd=cwd or home,
            encoding="utf-8",
            codec_errors="replace",
            timeout=timeout,
            dimensions=(50, 400),
            preexec_fn=_signals_as_at_a_terminal,
        )
        self.child.delaybeforesend = None
        self.transcript = []
        self._set_prompt()
        if init:
            self.run(self.init_line())

    @staticmethod
    def base_environ(home):
        environ = {
            "HOME": home,
            "PATH": BASE_PATH,
            "TERM": "dumb",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "XDG_CONFIG_HOME": os.path.join(home, ".config"),
            "XDG_CACHE_HOME": os.path.join(home, ".cache"),
            "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
            "XDG_STATE_HOME": os.path.join(home, ".local", "state"),
            "XDG_RUNTIME_DIR": os.path.join(home, ".run"),
            # The stamps' first place (hook.stamp_dirs): this test's own.
            "TMPDIR": os.path.join(home, ".tmp"),
            "AUTOENV_TEST_PY": sys.executable,
            "AUTOENV_TEST_DUMP": DUMP,
        }
        for name in ("XDG_RUNTIME_DIR", "TMPDIR"):
            os.makedirs(environ[name], mode=0o700, exist_ok=True)
        if "PYENV_ROOT" in os.environ:
            environ["PYENV_ROOT"] = os.environ["PYENV_ROOT"]
        return environ

    def init_line(self):
        if self.kind == "fish":
            return "%s init fish | source" % quote_for("fish", AUTOENV)
        return 'eval "$(%s init %s)"' % (quote_for(self.kind, AUTOENV), self.kind)

    def _set_prompt(self):
        half = len(self.token) // 2
        first, second = self.token[:half], self.token[half:]
        if self.kind == "bash":
            line = "PS1='%s''%s '; bind 'set enable-bracketed-paste off' 2>/dev/null" % (first, second)
        elif self.kind == "zsh":
            line = "PS1='%s''%s '; unsetopt prompt_cr prompt_sp; RPS1=''" % (first, second)
        else:
            # fish redraws the whole line, prompt included, at every key when
            # TERM=dumb; a marker printed when the command starts (preexec)
            # tells the redraws apart from the prompt after the command.
            line = ("function fish_prompt; printf '%%s' '%s''%s '; end; "
                    "function fish_greeting; end; function fish_title; end; "
                    "function __realshell_started --on-event fish_preexec; printf '%%s\\n' '%s''%s'; end"
                    % (first, second, self.started_marker[:half], self.started_marker[half:]))
        self.child.sendline(line)
        self.child.expect_exact(self.token)

    def run(self, line, timeout=None):
        """Send one line and return what the shell printed before the next prompt."""
        self.send(line)
        return self.wait(timeout)

    def send(self, line):
        """Send one line without waiting (to drive several shells at once); then wait()."""
        self.child.sendline(line)
        self._pending = line

    def wait(self, timeout=None):
        """What the shell printed for the line sent last, once its next prompt is up."""
        timeout = timeout if timeout is not None else -1
        if self.kind == "fish":
            # fish redraws its prompt at every key: wait for the command to start first.
            self.child.expect_exact(self.started_marker, timeout=timeout)
        self.child.expect_exact(self.token, timeout=timeout)
        output = self.child.before
        if self.kind == "fish":
            # fish's mark for output without a final newline, and the line it clears.
            output = re.sub("\u23ce *\r", "", output)
        self.transcript.append((self._pending, output))
        # Drop the echoed command line.
        first, _, rest = output.partition("\n")
        return rest.replace("\r\n", "\n").replace("\r", "")

    def cd(self, path):
        return self.run("cd %s" % quote_for(self.kind, path))

    def requests_sent(self):
        """A count of the requests this shell sent its server: only differences
        mean anything.  bash and zsh number them 1, 2, ...; fish takes serials
        64 at a time, BASE followed by 00 to 63 (see __autoenv_serve_next).
        A builtin echo: no process."""
        text = self.run('echo "$__autoenv_serve_serial"').splitlines()[0].strip() or "0"
        if self.kind == "fish" and len(text) > 2:
            return (int(text[:-2]) - 1) * 64 + int(text[-2:]) + 1
        return int(text)

    def state(self):
        """VIRTUAL_ENV, PATH and friends as this shell sees them, plus where `python` resolves."""
        if os.path.exists(self.out_file):
            os.remove(self.out_file)
        if self.kind == "fish":
            line = '"$AUTOENV_TEST_PY" "$AUTOENV_TEST_DUMP" %s (command -v python | string collect; or echo "")' % (
                quote_for("fish", self.out_file))
        else:
            line = '"$AUTOENV_TEST_PY" "$AUTOENV_TEST_DUMP" %s "$(command -v python)"' % (
                quote_for(self.kind, self.out_file))
        printed = self.run(line)
        try:
            with open(self.out_file, encoding="utf-8", errors="surrogateescape") as handle:
                return json.load(handle)
        except FileNotFoundError:
            raise AssertionError("state dump did not run; the shell printed:\n%s" % printed)

    def close(self):
        if self.child.isalive():
            self.child.sendline("exit")
            try:
                self.child.expect(pexpect.EOF, timeout=5)
            except pexpect.TIMEOUT:
                pass
            self.child.close(force=True)
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
