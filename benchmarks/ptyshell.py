"""A minimal interactive shell on a pty, for timing round trips.

pexpect is fine for tests, but its pattern matching adds noise of the same
order as the costs measured here (tens of microseconds), so the benchmark
talks to the pty with plain ``os.read``/``os.write`` and looks for a unique
prompt token in the raw bytes.
"""

import errno
import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time
import uuid

SHELL_ARGV = {
    "bash": ["bash", "--norc", "--noprofile", "-i"],
    "zsh": ["zsh", "-f", "-i"],
    "fish": ["fish", "--no-config", "-i"],
}


class ShellGone(RuntimeError):
    pass


class PtyShell:
    """One interactive shell; ``roundtrip(line)`` sends a line and waits for the next prompt."""

    def __init__(self, kind, environ, cwd, timeout=60.0):
        self.kind = kind
        self.timeout = timeout
        token = "BENCH-" + uuid.uuid4().hex[:10] + ">"
        self.token = token.encode()
        argv = SHELL_ARGV[kind]
        pid, fd = pty.fork()
        if pid == 0:  # child
            try:
                os.chdir(cwd)
                os.execvpe(argv[0], argv, environ)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 400, 0, 0))
        half = len(token) // 2
        first, second = token[:half], token[half:]
        if kind == "bash":
            line = "PS1='%s''%s '; PS2=''; bind 'set enable-bracketed-paste off' 2>/dev/null" % (first, second)
        elif kind == "zsh":
            line = "PS1='%s''%s '; PS2=''; unsetopt prompt_cr prompt_sp; RPS1=''" % (first, second)
        else:
            # With TERM=dumb fish redraws the whole line, prompt included, at
            # every key; a marker printed when a command starts tells those
            # redraws from the prompt after the command (fish runs no command,
            # and prints no marker, for an empty line: send `true`).
            started = "STARTED-" + uuid.uuid4().hex[:10]
            self.started = started.encode()
            line = ("function fish_prompt; printf '%%s' '%s''%s '; end; function fish_greeting; end; "
                    "function fish_title; end; function fish_right_prompt; end; "
                    "function __bench_started --on-event fish_preexec; printf '%%s\\n' '%s''%s'; end"
                    % (first, second, started[:8], started[8:]))
        self.send(line)
        self.wait_prompt(started=False)

    def send(self, line):
        os.write(self.fd, line.encode("utf-8") + b"\n")

    started = None

    def wait_prompt(self, started=True):
        """Read until the prompt token (in fish: after the started marker); return what came before."""
        chunks = []
        tail = b""
        deadline = time.monotonic() + self.timeout
        token = self.token
        first = self.started if started else None
        while True:
            ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError("%s: no prompt within %.0f s; last output: %r"
                                   % (self.kind, self.timeout, b"".join(chunks)[-500:]))
            try:
                data = os.read(self.fd, 65536)
            except OSError as exc:
                if exc.errno == errno.EIO:
                    raise ShellGone("%s exited; output: %r" % (self.kind, b"".join(chunks)[-500:]))
                raise
            if not data:
                raise ShellGone("%s exited" % self.kind)
            chunks.append(data)
            window = tail + data
            if first is not None:
                at = window.find(first)
                if at < 0:
                    tail = window[-len(first):]
                    continue
                window = window[at + len(first):]
                first = None
            if token in window:
                text = b"".join(chunks)
                return text[: text.rfind(token)]
            tail = window[-len(token):]

    def run(self, line):
        """Send a line, return its output (echo dropped) as text."""
        self.send(line)
        out = self.wait_prompt(started=bool(line.strip())).decode("utf-8", "replace")
        if self.started is not None and line.strip():
            out = out.split(self.started.decode(), 1)[-1]  # fish: what follows the marker
        return out.replace("\r", "").partition("\n")[2]

    def roundtrip(self, line):
        """Nanoseconds from sending ``line`` to the next prompt."""
        start = time.perf_counter_ns()
        os.write(self.fd, line.encode("utf-8") + b"\n")
        self.wait_prompt(started=bool(line.strip()))
        return time.perf_counter_ns() - start

    def close(self):
        try:
            os.write(self.fd, b"exit\n")
        except OSError:
            pass
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.02)
        else:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        try:
            os.close(self.fd)
        except OSError:
            pass
