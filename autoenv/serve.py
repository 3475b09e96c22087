"""A helper that stays: one per shell, so a switch costs a round trip on a
pipe instead of a Python start (about 10 ms on a slow machine).

The first helper a shell runs makes a private channel directory holding two
FIFOs, ``request`` and ``reply``, starts the server on it and tells the shell
where it is.  For each switch the shell writes one request: a serial number,
``$PWD`` and the exported variables the helper reads (``FORWARDED``),
NUL-separated and ended by a lone ``.``.  The server answers as the helper
would, writes the shell code to ``answer`` and replies ``SERIAL ok``; the shell
sources that file.  ``SERIAL process`` hands the request back: an env may be
built, or something is to be said, which a helper of its own does in the
foreground.  fish, which can neither hold a FIFO open nor wait on one with a
timeout, writes each request to a file in ``requests/`` instead (``FileInbox``)
and looks for an empty file ``SERIAL.ok`` or ``SERIAL.process`` in place of a
reply line.  The shell checks its side before it asks (bash and zsh that their
descriptors are still the FIFOs, fish through ``/proc`` that the server sits
in its channel), and whether the server is alive when a reply is late; it
gives up after a timeout, so a dead or stuck server costs one ordinary helper
run, never a hang.

Deep in a tree the shell also asks whether any directory it would check
changed (``SERIAL PWD :sync STAMP EXTRA... .``, replied ``c``, ``d`` or
``u``); the server watches them with inotify (``watch``) and leaves a token
file for a clean reply, which the shell trusts without asking while the
server sleeps (``Checker``).  ``:watch`` in place of ``:sync`` is the same
with no reply: the shell checked for itself, and looks for the token later.

The server ends with its shell: it waits on a pidfd (Linux) or checks the
shell every few seconds.  It also ends after half an hour without a request
(``AUTOENV_SERVE_IDLE``).  ``AUTOENV_SERVE=0`` keeps a shell on one process
per switch.
"""

import io
import os
import select
import sys

from autoenv import hook

# The exported variables the helper reads, by prefix (tests/test_serve.py
# checks every name the helper looks up is among them).  Anything else the
# server keeps as the shell had it when the server started.
FORWARDED = (
    "AUTOENV_", "_AUTOENV_", "VIRTUAL_ENV", "PATH", "HOME", "PYTHONHOME", "TMPDIR", "XDG_",
    "POETRY_", "PIPENV_", "PDM_", "UV_", "HATCH_", "CONDA_", "MAMBA_", "PYENV", "WORKON_HOME",
    "APPDATA", "LOCALAPPDATA", "USERPROFILE",
)

# The shells with a server side in their snippet.  fish holds no file
# descriptors open between commands, so it checks the server through /proc
# before it opens a FIFO: elsewhere fish stays on a process per switch.
SERVED_SHELLS = ("bash", "zsh", "fish")

# From this many paths to check (a chain this deep), a shell leaves the check
# to its server (Sync, then its tokens) instead of testing each path: on the
# machine measured (benchmarks/run.py) fewer cost the shell's own tests no
# more, while the server's word costs the same however deep.
SYNC_FROM_PATHS = 20

# The server's process name (Linux): `ps` shows what it is, and a shell reads
# its state from /proc/PID/stat, which begins "PID (autoenv-serve) S " while
# it sleeps (the snippets spell it out too).
PROCESS_NAME = "autoenv-serve"

# Where channels go when the shell has no runtime dir ($XDG_RUNTIME_DIR, which
# systemd makes on a memory file system): each request makes, writes and
# removes files in the channel (the answer, tokens, fish's requests),
# which costs a disk file system several times more (100-300 us a file on
# the ext4 measured, 10-25 on tmpfs), in the shell's wait.
SHARED_MEMORY = "/dev/shm"

# How often the server checks its shell where no pidfd tells it at once.
POLL_SECONDS = 5.0

# A server nobody asked for this long ends, giving its memory back (a shell
# left open in a terminal for days); the next switch runs the helper, which
# starts another.  AUTOENV_SERVE_IDLE (seconds) changes it.  A shell holding
# tokens does not ask; it counts as idle once it used no CPU for that long
# (checked at each deadline, so it may keep its server up to twice as long).
IDLE_SECONDS = 1800.0


def idle_limit(environ):
    try:
        value = float(environ.get("AUTOENV_SERVE_IDLE", IDLE_SECONDS))
    except ValueError:
        return IDLE_SECONDS
    return value if value > 0 else IDLE_SECONDS


def forwarded(name):
    return name.startswith(FORWARDED)


def wanted(shell_name, environ):
    if environ.get("AUTOENV_SERVE", "1") == "0" or shell_name not in SERVED_SHELLS:
        return False
    if not hasattr(os, "mkfifo") or not hasattr(os, "posix_spawn"):
        return False
    return shell_name != "fish" or os.path.isdir("/proc/self/fd")


def shared_memory_dir():
    """This user's private directory in SHARED_MEMORY (made by
    ``channel_parent``), or None where files have no owners."""
    if not hasattr(os, "getuid"):
        return None
    return os.path.join(SHARED_MEMORY, "autoenv-%d" % os.getuid())


def runtime_channel_dir(environ):
    """The ``autoenv`` dir in the runtime dir, or None without a usable one."""
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime) and os.path.isdir(runtime):
        return os.path.join(runtime, "autoenv")
    return None


def channel_parents(stamp_dir, environ):
    """Where a shell's channel may be, best first (see channel_parent)."""
    return [parent for parent in (runtime_channel_dir(environ), shared_memory_dir(), stamp_dir) if parent]


def channel_parent(stamp_dir, environ):
    """Where a shell's channel goes: in the runtime dir when it can be made
    there (wherever the stamp went, see hook.stamp_dirs); else in this
    user's private directory in SHARED_MEMORY, when it can be made (nobody
    else's, nobody else can swap it); else beside the stamp after all."""
    from autoenv import trust

    in_runtime = runtime_channel_dir(environ)
    if in_runtime:
        try:
            os.makedirs(in_runtime, mode=0o700, exist_ok=True)
            if os.access(in_runtime, os.W_OK | os.X_OK):
                return in_runtime
        except OSError:
            pass
    shared = shared_memory_dir()
    if shared is None:
        return stamp_dir
    try:
        if not os.path.isdir(SHARED_MEMORY):
            return stamp_dir
        hook.make_private_dir(shared)
        if trust.replaceable_by_others(shared):
            return stamp_dir
    except OSError:
        return stamp_dir
    return shared


def start(shell, pid, stamp_dir, environ):
    """Start a server for the shell ``pid`` and return the code that tells the
    shell about it; "" when none can start (the shell goes on without)."""
    if not wanted(shell.name, environ):
        return ""
    from autoenv import trust

    parent = channel_parent(stamp_dir, environ)
    try:
        # The shell will source what the server writes here.
        if trust.replaceable_by_others(parent):
            return ""
    except OSError:
        return ""
    channel = os.path.join(parent, "serve-%s-%s" % (pid, os.urandom(6).hex()))  # see channels
    try:
        os.mkdir(channel, 0o700)
        os.mkdir(tokens_dir(channel), 0o700)
        if shell.name == "fish":
            os.mkdir(os.path.join(channel, FileInbox.NAME), 0o700)
        else:
            os.mkfifo(os.path.join(channel, "request"), 0o600)
            os.mkfifo(os.path.join(channel, "reply"), 0o600)
        entry = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_run_hook.py")
        devnull = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
        # Its own session: Ctrl-C and the terminal's hang-up are for the shell;
        # the server follows the shell, not the terminal.
        server = os.posix_spawn(sys.executable, [sys.executable, "-I", "-S", entry, "--serve", shell.name,
                                                 str(pid), channel], os.environ, file_actions=devnull,
                                setsid=True)
    except OSError:
        remove_channel(channel)
        return ""
    return shell.call("__autoenv_serve_open", channel, str(server))


def remove_channel(channel):
    for name in (FileInbox.NAME, os.path.basename(tokens_dir(channel)),
                 os.path.basename(tokens_dir(channel)) + Checker.BUSY):
        remove_files(os.path.join(channel, name))
    remove_files(channel)


def remove_files(directory):
    """Removes the directory and the files in it."""
    try:
        names = os.listdir(directory)
    except OSError:
        names = []
    for name in names:
        try:
            os.unlink(os.path.join(directory, name))
        except OSError:
            pass
    try:
        os.rmdir(directory)
    except OSError:
        pass


def shell_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        # The number went to another user's process: ours is gone.
        return False
    return True


def cpu_ticks(pid):
    """The CPU time the process ``pid`` used so far (clock ticks), or None."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            fields = handle.read().rpartition(b")")[2].split()
        return int(fields[11]) + int(fields[12])  # utime, stime
    except (OSError, ValueError, IndexError):
        return None


def channels(parent, pid):
    """The names of the channels for the shell ``pid`` in ``parent`` (each
    server's, named by ``start``), sorted by name."""
    prefix = "serve-%s-" % pid
    try:
        return sorted(name for name in os.listdir(parent) if name.startswith(prefix))
    except OSError:
        return []


def tokens_dir(channel):
    """Where the server leaves its tokens (``Checker``): named after the
    channel's random part, so a shell that looks for one through
    /proc/PID/cwd, which is the channel, finds none in another process's
    directory should PID go to another process (the snippets spell it out
    from the channel's name)."""
    return os.path.join(channel, "tokens-" + os.path.basename(channel).rpartition("-")[2])


def superseded(channel, pid):
    """Whether another server's channel for the shell ``pid`` sits beside
    ``channel``: the shell started a new one (``exec bash`` keeps its pid but
    forgets this server) and no longer asks this one."""
    return any(name != os.path.basename(channel) for name in channels(os.path.dirname(channel), pid))


def watch_shell(pid):
    """A descriptor that becomes readable when the shell ends, or None."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


class Sync:
    """A prompt's question: did any path the shell checks change since STAMP?
    With ``reply`` false (``:watch``) the shell waits for no answer, only for
    the token."""

    __slots__ = ("stamp", "extras", "reply")

    def __init__(self, stamp, extras, reply=True):
        self.stamp = stamp
        self.extras = extras
        self.reply = reply

    def __eq__(self, other):
        return isinstance(other, Sync) and (self.stamp, self.extras, self.reply) == (
            other.stamp, other.extras, other.reply)

    def __repr__(self):
        return "Sync(%r, %r, reply=%r)" % (self.stamp, self.extras, self.reply)


class FifoInbox:
    """bash's and zsh's requests: written to the FIFO ``request``, which each
    shell holds open read-write, so its writes never wait for a reader."""

    def __init__(self, channel):
        # Read and write ends both: opening never waits for the other side.
        self.fd = os.open(os.path.join(channel, "request"), os.O_RDWR)
        self.buffer = b""

    def fileno(self):
        return self.fd

    def take(self):
        """The requests complete so far, as ``parse_requests`` gives them."""
        self.buffer += os.read(self.fd, 65536)
        requests, self.buffer = parse_requests(self.buffer)
        return requests


class FileInbox:
    """fish's requests: a file each, in ``requests/``.  fish holds no
    descriptor between commands, and opening a FIFO with no reader waits for
    ever: a server killed between fish's check that it lives and the open
    would hang the prompt for good.  Writing a file never waits; the server
    hears of it from inotify (on the close, so it is complete)."""

    NAME = "requests"

    def __init__(self, channel):
        from autoenv import watch

        self.watch = watch
        self.dir = os.path.join(channel, self.NAME)
        self.fd = watch.watch_directory(self.dir, watch.IN_CLOSE_WRITE)

    def fileno(self):
        return self.fd

    def take(self):
        requests = []
        for _, _, name in self.watch.queued_events(self.fd):
            if not name:
                continue  # about the directory itself
            path = os.path.join(self.dir, name)
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
                os.unlink(path)
            except OSError:
                continue
            # One request a file: what a file holds past it (an interrupted
            # write, say) is not carried into the next.
            requests.extend(parse_requests(data)[0])
        return requests


def parse_requests(buffer):
    """Complete requests in ``buffer`` as (serial, pwd, body), and the rest.

    ``body`` is the exported variables as a dict for an answer, or a Sync for
    a prompt's question (``SERIAL PWD :sync STAMP EXTRA... .``, or ``:watch``).
    """
    requests = []
    while True:
        fields = buffer.split(b"\0")
        try:
            end = fields.index(b".", 2, len(fields) - 1)
        except ValueError:
            return requests, buffer
        serial, pwd, rest = fields[0], fields[1], fields[2:end]
        if rest[:1] in ([b":sync"], [b":watch"]) and len(rest) >= 2:
            body = Sync(os.fsdecode(rest[1]), [os.fsdecode(path) for path in rest[2:]], rest[0] == b":sync")
        else:
            body = {}
            for field in rest:
                name, sep, value = field.partition(b"=")
                if sep:
                    body[os.fsdecode(name)] = os.fsdecode(value)
        requests.append((serial.decode("ascii", "replace"), os.fsdecode(pwd), body))
        buffer = b"\0".join(fields[end + 1:])


def respond(shell, pid, channel, pwd, pairs, base, vouch=None):
    """Answer one request; returns the status word for the reply line.

    ``vouch(pwd, stamp, extras)``: when it leaves a token for the answer's
    chain (``Checker.vouch``), the answer tells the shell, which then need
    not ask at its next prompt."""
    environ = dict(base)
    environ.update(pairs)
    # Code that looks at os.environ itself (expanduser) sees the shell's values too.
    os.environ.clear()
    os.environ.update(environ)
    err = io.StringIO()
    try:
        plan, _ = hook.answer(shell, pid, pwd, os.environ, err, serving=True)
    except Exception:
        # NeedsProcess, or a failure the helper in the foreground reports itself.
        return "process"
    if err.getvalue():
        return "process"
    if vouch is not None and plan.checked:
        serial = vouch(pwd, *plan.checked)
        if serial:
            plan.add(shell.call("__autoenv_serve_token", serial))
    data = plan.text().encode("utf-8", "surrogateescape")
    try:
        fd = os.open(os.path.join(channel, "answer"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            written = os.write(fd, data)
        finally:
            os.close(fd)
    except OSError:
        # A full disk, say: the helper in the foreground does without the file.
        return "process"
    return "ok" if written == len(data) else "process"


class Checker:
    """Answers a prompt's Sync from inotify (``watch``), and leaves a token for
    each clean answer: an empty file SERIAL in the channel's tokens directory
    (``tokens_dir``), there for as long as that answer holds.  A shell back
    in that directory that finds this server asleep (so every event queued so
    far is handled) and then the token, need not ask.  Tokens go at an event
    on any path vouched for, and when a new answer (stamp) makes them all old.
    While the server works on a request the directory is renamed away
    (``BUSY``): no token can be found then, even with the server asleep (in a
    stat on a hung mount, say)."""

    MAX_TOKENS = 256
    BUSY = ".busy"

    def __init__(self, channel):
        self.idle_dir = tokens_dir(channel)  # made with the channel (start)
        self.dir = self.idle_dir
        self.tokens = []  # serials with a token file, oldest first
        self.watcher = None
        self.unavailable = False
        self.generation = None

    def _token(self, serial):
        return os.path.join(self.dir, serial)

    def begin(self):
        """Busy from here to ``end``: a shell that stopped waiting (Ctrl-C)
        must not trust a token while this server works, even asleep."""
        os.rename(self.idle_dir, self.idle_dir + self.BUSY)
        self.dir = self.idle_dir + self.BUSY

    def end(self):
        # Events queued while busy (asleep in a stat, say) are taken in first:
        # a shell that saw this server asleep then, and finds the tokens back
        # now, must not find a token those events withdraw.
        if self.watcher is not None:
            self.events()
        os.rename(self.dir, self.idle_dir)
        self.dir = self.idle_dir

    def _forget_tokens(self):
        for serial in self.tokens:
            try:
                os.unlink(self._token(serial))
            except FileNotFoundError:
                pass
        self.tokens = []

    def _follow_generation(self):
        if self.watcher.generation != self.generation:
            self._forget_tokens()
            self.generation = self.watcher.generation

    def fileno(self):
        """The descriptor to wait on for events, or None before the first Sync."""
        return None if self.watcher is None else self.watcher.fd

    def events(self):
        self.watcher.drain()
        self._follow_generation()

    def vouch(self, serial, pwd, stamp, extras):
        """For ``respond``: a token (its serial) for the chain of a new answer,
        when that chain is long enough for the shell to want one, else None."""
        from autoenv import watch

        if len(watch.checked_paths(pwd, extras)) < SYNC_FROM_PATHS:
            return None
        return serial if self.status(serial, pwd, Sync(stamp, extras)) == "c" else None

    def status(self, serial, pwd, question):
        """"c" (clean, with a token left), "d" (dirty), or "u": unknown, the
        shell checks for itself."""
        if self.unavailable:
            return "u"
        from autoenv import watch

        if self.watcher is None:
            try:
                self.watcher = watch.Watcher()
            except OSError:
                self.unavailable = True
                return "u"
        try:
            clean = self.watcher.clean_since(question.stamp, watch.checked_paths(pwd, question.extras))
        except OSError:
            clean = None
        self._follow_generation()
        if clean:
            os.close(os.open(self._token(serial), os.O_WRONLY | os.O_CREAT, 0o600))
            self.tokens.append(serial)
            if len(self.tokens) > self.MAX_TOKENS:
                os.unlink(self._token(self.tokens.pop(0)))
        # One letter: bash and zsh read a reply a byte per system call.
        return {True: "c", False: "d", None: "u"}[clean]


def mark_reply(channel, serial, status):
    """fish's reply: an empty file SERIAL.STATUS (see the snippet for why)."""
    for name in os.listdir(channel):
        if name.endswith((".ok", ".process")):
            os.unlink(os.path.join(channel, name))
    os.close(os.open(os.path.join(channel, "%s.%s" % (serial, status)), os.O_WRONLY | os.O_CREAT, 0o600))


def main(argv):
    """``--serve SHELL PID CHANNEL``: answer the shell ``PID`` until it ends."""
    shell_name, pid, channel = argv
    from autoenv import render

    shell = render.get(shell_name)
    shell_pid = int(pid)
    import signal

    # Killed politely, it still takes its channel away.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        if shell_name == "fish":
            inbox, reply = FileInbox(channel), None
        else:
            # Read and write ends both: opening never waits for the other
            # side, and a shell that closed its ends is not an end of input.
            inbox, reply = FifoInbox(channel), os.open(os.path.join(channel, "reply"), os.O_RDWR)
    except OSError:
        # No inotify for fish (its limit reached): fish never finds this
        # server in its channel, and runs helpers.
        remove_channel(channel)
        return 1
    # fish finds the server by it: /proc/PID/cwd is the channel, once the
    # inbox is ready.
    os.chdir(channel)
    try:
        with open("/proc/self/comm", "w") as handle:
            handle.write(PROCESS_NAME)
    except OSError:
        pass  # not Linux: shells ask rather than read /proc
    shell_ended = watch_shell(shell_pid)
    base = {name: value for name, value in os.environ.items() if not forwarded(name)}
    idle = idle_limit(os.environ)
    import time

    asked = time.monotonic()
    shell_ticks = cpu_ticks(shell_pid)
    try:
        checker = Checker(channel)
        while shell_ended is not None or shell_alive(shell_pid):
            left = idle - (time.monotonic() - asked)
            if left <= 0:
                # A shell deep in a tree trusts its tokens without asking:
                # while it still runs prompts (uses CPU), it is not idle.
                ticks = cpu_ticks(shell_pid) if checker.tokens else None
                if ticks is None or ticks == shell_ticks or superseded(channel, pid):
                    break
                shell_ticks, asked = ticks, time.monotonic()
                continue
            waiting = [inbox.fileno()] + [fd for fd in (shell_ended, checker.fileno()) if fd is not None]
            ready, _, _ = select.select(waiting, [], [], left if shell_ended is not None else min(left, POLL_SECONDS))
            if shell_ended is not None and shell_ended in ready:
                break
            if checker.fileno() in ready:
                checker.events()
            if inbox.fileno() not in ready:
                continue
            asked = time.monotonic()
            for serial, pwd, body in inbox.take():
                if not serial.isdigit():
                    continue
                checker.begin()
                try:
                    if isinstance(body, Sync):
                        status = checker.status(serial, pwd, body)
                    else:
                        vouch = None
                        if shell.asks_server_at_prompt:
                            vouch = lambda *answer: checker.vouch(serial, *answer)  # noqa: E731
                        status = respond(shell, pid, channel, pwd, body, base, vouch)
                finally:
                    checker.end()
                if isinstance(body, Sync) and (shell_name == "fish" or not body.reply):
                    continue  # the shell looks for the token; it waits for no reply
                try:
                    if shell_name == "fish":
                        mark_reply(channel, serial, status)
                    else:
                        os.write(reply, ("%s %s\n" % (serial, status)).encode("ascii"))
                except OSError:
                    pass  # the shell's wait runs out, and it does without this server
    finally:
        remove_channel(channel)
    return 0
