"""The server a shell asks in place of starting a helper (autoenv/serve.py).

The protocol is tested from Python against a real server process, the way a
shell talks to it (FIFOs, or fish's request files, NUL-separated requests, one
reply each); the real shells' side is in tests/test_serve_realshell.py.
"""

import io
import os
import select
import signal
import subprocess
import sys
import time

import pytest

from autoenv import hook, render, serve
from conftest import missing
from realshell import make_venv

HOSTILE = "'\";&&e-$ èрт🚒 $(touch pwned) `x`\nline"


def write(path, text=""):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)


def encode(*fields):
    return b"".join(os.fsencode(field) + b"\0" for field in fields)


# ------------------------------------------------------------- requests

def test_requests_are_split_on_a_lone_dot_and_keep_every_byte():
    pwd = "/p/" + HOSTILE
    raw = encode("1", pwd, "PATH=/a:/b", "X=" + HOSTILE, "EMPTY=", ".") + encode("2", "/", ".")
    requests, rest = serve.parse_requests(raw)
    assert rest == b""
    assert requests == [("1", pwd, {"PATH": "/a:/b", "X": HOSTILE, "EMPTY": ""}), ("2", "/", {})]


def test_a_request_cut_anywhere_waits_for_the_rest():
    raw = encode("7", "/a/.", "A=.", ".")
    for cut in range(len(raw)):
        requests, rest = serve.parse_requests(raw[:cut])
        assert requests == [] and rest == raw[:cut]
        more, rest = serve.parse_requests(rest + raw[cut:])
        assert more == [("7", "/a/.", {"A": "."})] and rest == b""


def test_bytes_that_are_not_utf8_survive():
    raw = b"3\0/p/\xff\xfe\0V=\xe9\0.\0"
    (serial, pwd, pairs), = serve.parse_requests(raw)[0]
    assert os.fsencode(pwd) == b"/p/\xff\xfe" and os.fsencode(pairs["V"]) == b"\xe9"


# ------------------------------------------ the variables the helper reads

class RecordingEnviron(dict):
    """A mapping that notes every name looked up in it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read = set()

    def __getitem__(self, name):
        self.read.add(name)
        return super().__getitem__(name)

    def get(self, name, default=None):
        self.read.add(name)
        return super().get(name, default)

    def __contains__(self, name):
        self.read.add(name)
        return super().__contains__(name)


def every_kind_of_project(root):
    """One project per rule the helper knows, each of which reads settings."""
    projects = {
        "venv": ["pyproject.toml", ".venv/pyvenv.cfg"],
        "poetry": ["pyproject.toml=[tool.poetry]\nname = 'p'\n", "poetry.toml=[virtualenvs]\nin-project = false\n"],
        "poetry_lock": ["pyproject.toml=[project]\nname = 'q'\n", "poetry.lock"],
        "pipenv": ["Pipfile"],
        "pdm": ["pyproject.toml=[tool.pdm]\n", "pdm.lock", ".pdm-python=/nowhere/bin/python"],
        "hatch": ["pyproject.toml=[tool.hatch.envs.default]\n", "hatch.toml"],
        "uv": ["pyproject.toml", "uv.lock"],
        "pyenv": [".python-version=myenv\n"],
        "conda": ["environment.yml=name: demo\n"],
        "dot_venv_file": [".venv=someenv\n"],
        "disabled": ["pyproject.toml", ".autoenv-disable"],
        "setup": ["setup.py"],
    }
    made = []
    for name, files in projects.items():
        for spec in files:
            relative, _, text = spec.partition("=")
            write(os.path.join(root, name, relative), text)
        made.append(os.path.join(root, name))
    return made


def test_every_variable_the_helper_reads_is_forwarded(tmp_path, monkeypatch):
    """What the server does not get sent it knows only as of its start: the
    helper must read nothing but forwarded variables, in every kind of project."""
    home = str(tmp_path / "home")
    os.makedirs(home)
    environ = RecordingEnviron(HOME=home, PATH="/usr/bin:/bin", LANG="C.UTF-8", SHELL="/bin/sh", USER="me",
                               PWD="/", TERM="dumb", LOGNAME="me", SHLVL="1", OLDPWD="/", EDITOR="vi")
    monkeypatch.setattr(os, "environ", environ)  # expanduser() and friends read it directly
    shell = render.get("bash")
    err = io.StringIO()
    for directory in every_kind_of_project(str(tmp_path / "projects")):
        for sub in ("", "deeper"):
            here = os.path.join(directory, sub)
            os.makedirs(here, exist_ok=True)
            for serving in (True, False):
                environ["AUTOENV_CREATE"] = "0"
                try:
                    hook.answer(shell, "123", here, environ, err, serving=serving)
                except hook.NeedsProcess:
                    pass
    assert environ.read, "nothing recorded: the test is not looking"
    unforwarded = sorted(name for name in environ.read if not serve.forwarded(name))
    assert unforwarded == []
    # The shells build patterns from the prefixes: plain names only.
    assert all(prefix.replace("_", "a").isalnum() and not prefix[0].isdigit() for prefix in serve.FORWARDED)


# ---------------------------------------------------------------- the server

class Channel:
    """A server started the way the helper starts it, spoken to like a shell."""

    def __init__(self, parent, shell_name="bash", shell_pid=None, environ=None):
        shell_pid = os.getpid() if shell_pid is None else shell_pid
        code = serve.start(render.get(shell_name), shell_pid, parent, environ or {})
        assert code.startswith("__autoenv_serve_open "), code
        self.dir = [os.path.join(parent, name) for name in os.listdir(parent) if name.startswith("serve-")][0]
        self.pid = int(code.split()[-1].strip(";'$"))
        self.fish = shell_name == "fish"
        if self.fish:
            # fish writes each request to a file; it has no FIFOs.  As fish
            # does, it waits to find the server in its channel (inbox ready).
            self.request = self.reply = None
            self.sent = 0
            deadline = time.time() + 10
            while not in_channel(self.pid, self.dir):
                assert time.time() < deadline, "the server never sat in its channel"
                time.sleep(0.01)
        else:
            self.request = os.open(os.path.join(self.dir, "request"), os.O_RDWR)
            self.reply = os.open(os.path.join(self.dir, "reply"), os.O_RDWR)
        self.buffer = b""

    def send(self, data):
        if self.fish:
            self.sent += 1
            with open(os.path.join(self.dir, "requests", str(self.sent)), "wb") as handle:
                handle.write(data)
        else:
            os.write(self.request, data)

    def read_line(self, timeout=10):
        while b"\n" not in self.buffer:
            ready, _, _ = select.select([self.reply], [], [], timeout)
            assert ready, "no reply from the server in %s s" % timeout
            self.buffer += os.read(self.reply, 4096)
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode()

    def ask(self, serial, pwd, **pairs):
        self.send(encode(str(serial), pwd, *("%s=%s" % item for item in pairs.items()), "."))
        return self.read_line()

    def wait_for(self, name, timeout=10):
        """Waits for the file ``name`` in the channel (a fish reply)."""
        deadline = time.time() + timeout
        while not os.path.exists(os.path.join(self.dir, name)):
            assert time.time() < deadline, os.listdir(self.dir)
            time.sleep(0.01)

    def answer(self):
        with open(os.path.join(self.dir, "answer"), "rb") as handle:
            return handle.read().decode("utf-8", "surrogateescape")

    def close(self):
        if not self.fish:
            os.close(self.request)
            os.close(self.reply)
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def in_channel(pid, channel):
    try:
        return os.path.samefile("/proc/%d/cwd" % pid, channel)
    except OSError:
        return False


def wait_gone(pid, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            # Reaped by us when we started it, or by init when the helper did.
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            if not os.path.exists("/proc/%d" % pid):
                return True
        time.sleep(0.02)
    return False


@pytest.fixture(autouse=True)
def no_shared_memory(monkeypatch, tmp_path):
    """Channels beside the stamp, in the test's own directory, unless a test
    says otherwise (as a shell with a runtime dir has them)."""
    monkeypatch.setattr(serve, "SHARED_MEMORY", str(tmp_path / "no-shared-memory"))


@pytest.fixture
def channel(tmp_path):
    opened = []

    def start(**kwargs):
        parent = str(tmp_path / ("run%d" % len(opened)))
        os.makedirs(parent, mode=0o700)
        opened.append(Channel(parent, **kwargs))
        return opened[-1]

    yield start
    for each in opened:
        each.close()


def base_pairs(home):
    return {"HOME": home, "PATH": "/usr/bin:/bin", "XDG_RUNTIME_DIR": os.path.join(home, ".run"),
            "TMPDIR": os.path.join(home, ".run"), "XDG_CACHE_HOME": os.path.join(home, ".cache"), "AUTOENV_CREATE": "0"}


def test_server_answers_as_the_helper_would(channel, tmp_path):
    home = str(tmp_path / "home")
    proj = str(tmp_path / ("proj " + HOSTILE))
    env = make_venv(os.path.join(proj, ".venv"))
    server = channel()
    assert server.ask(1, proj, **base_pairs(home)) == "1 ok"
    code = server.answer()
    expected, _ = hook.answer(render.get("bash"), str(os.getpid()), proj, base_pairs(home), None)
    # The same edits; the stamp it names is the same file.
    assert code == expected.text()
    assert "export VIRTUAL_ENV=%s;" % render.get("bash").quote(env) in code
    assert "export PATH=%s;" % render.get("bash").quote(os.path.join(env, "bin") + ":/usr/bin:/bin") in code

    # Leaving it: the state the shell sends now says the env is active.
    pairs = base_pairs(home)
    pairs.update(PATH=os.path.join(env, "bin") + ":/usr/bin:/bin", VIRTUAL_ENV=env, _AUTOENV_ENV=env)
    assert server.ask(2, str(tmp_path), **pairs) == "2 ok"
    code = server.answer()
    assert "unset VIRTUAL_ENV;" in code and "export PATH=$'/usr/bin:/bin';" in code


def test_variables_are_the_ones_sent_with_each_request(channel, tmp_path):
    """A variable the shell changed after the server started counts at once."""
    home = str(tmp_path / "home")
    proj = str(tmp_path / "proj")
    write(os.path.join(proj, ".venv"), "named\n")  # a .venv file: the env lives in $WORKON_HOME
    first = make_venv(str(tmp_path / "first" / "named"))
    second = make_venv(str(tmp_path / "second" / "named"))
    server = channel()
    for serial, workon, env in ((1, "first", first), (2, "second", second)):
        pairs = base_pairs(home)
        pairs["WORKON_HOME"] = str(tmp_path / workon)
        assert server.ask(serial, proj, **pairs) == "%d ok" % serial
        assert "export VIRTUAL_ENV=%s;" % render.get("bash").quote(env) in server.answer()


def test_what_the_helper_must_do_itself_is_handed_back(channel, tmp_path):
    home = str(tmp_path / "home")
    bare = str(tmp_path / "bare")
    write(os.path.join(bare, "pyproject.toml"))
    server = channel()
    pairs = base_pairs(home)
    del pairs["AUTOENV_CREATE"]
    # An env to create: a process of its own, in the foreground.
    assert server.ask(1, bare, **pairs) == "1 process"
    # Something to say (creation switched off by config is said once).
    untrusted = str(tmp_path / "untrusted")
    env = make_venv(os.path.join(untrusted, ".venv"))
    os.chmod(os.path.join(env, "bin"), 0o777)
    assert server.ask(2, untrusted, **base_pairs(home)) == "2 process"
    # Fine again afterwards.
    assert server.ask(3, str(tmp_path), **base_pairs(home)) == "3 ok"


def test_requests_in_one_write_or_split_get_one_reply_each_in_order(channel, tmp_path):
    home = str(tmp_path / "home")
    server = channel()
    pairs = ["%s=%s" % item for item in base_pairs(home).items()]
    data = encode("5", str(tmp_path), *pairs, ".") + encode("6", "/", *pairs, ".")
    server.send(data[:7])
    time.sleep(0.05)
    server.send(data[7:])
    assert [server.read_line(), server.read_line()] == ["5 ok", "6 ok"]


def test_server_ends_with_its_shell_and_takes_its_channel(tmp_path):
    parent = str(tmp_path / "run")
    os.makedirs(parent, mode=0o700)
    shell = subprocess.Popen(["sleep", "60"])
    server = Channel(parent, shell_pid=shell.pid)
    assert server.ask(1, "/", **base_pairs(str(tmp_path))) == "1 ok"
    shell.kill()
    shell.wait()
    assert wait_gone(server.pid), "server outlived its shell"
    assert not os.path.exists(server.dir)
    os.close(server.request)
    os.close(server.reply)


def test_server_stopped_politely_takes_its_channel(channel, tmp_path):
    server = channel()
    assert server.ask(1, "/", **base_pairs(str(tmp_path))) == "1 ok"  # up and running
    os.kill(server.pid, signal.SIGTERM)
    assert wait_gone(server.pid)
    assert not os.path.exists(server.dir)


def test_no_server_when_switched_off_or_for_a_shell_without_one(tmp_path):
    assert serve.start(render.get("bash"), 1, str(tmp_path), {"AUTOENV_SERVE": "0"}) == ""
    assert serve.start(render.get("pwsh"), 1, str(tmp_path), {}) == ""
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("shell_name, names", [("bash", {"request": 0o600, "reply": 0o600}),
                                                ("fish", {"requests": 0o700})])
def test_channel_is_private(channel, shell_name, names):
    server = channel(shell_name=shell_name)
    assert os.stat(server.dir).st_mode & 0o777 == 0o700
    names = dict(names, **{os.path.basename(serve.tokens_dir(server.dir)): 0o700})
    for name, mode in names.items():
        assert os.stat(os.path.join(server.dir, name)).st_mode & 0o777 == mode
    assert sorted(os.listdir(server.dir)) == sorted(names)


def test_helper_run_with_serve_starts_one_and_says_so(tmp_path):
    """``_run_hook.py bash PID PWD serve`` from a process, as the snippets run it."""
    home = str(tmp_path / "home")
    os.makedirs(os.path.join(home, ".run"), mode=0o700)
    environ = dict(base_pairs(home), LANG="C.UTF-8")
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        out = subprocess.run([sys.executable, "-I", "-S", hook.__file__.replace("hook.py", "_run_hook.py"), "bash",
                              str(sleeper.pid), str(tmp_path), "serve"], env=environ, capture_output=True, text=True,
                             timeout=30)
        assert out.returncode == 0 and out.stderr == ""
        line, = [line for line in out.stdout.splitlines() if line.startswith("__autoenv_serve_open ")]
        channel_dir = os.path.join(home, ".run", "autoenv", [n for n in os.listdir(os.path.join(home, ".run", "autoenv"))
                                                              if n.startswith("serve-%d-" % sleeper.pid)][0])
        assert render.get("bash").quote(channel_dir) in line
    finally:
        sleeper.kill()
        sleeper.wait()
    server_pid = int(line.split()[-1].strip(";'$"))
    assert wait_gone(server_pid)


def test_fish_is_answered_with_a_file_per_request(channel, tmp_path):
    """fish looks for SERIAL.ok / SERIAL.process (it cannot wait on a FIFO with
    a timeout); only the newest is kept, and no line goes to the reply FIFO."""
    home = str(tmp_path / "home")
    bare = str(tmp_path / "bare")
    write(os.path.join(bare, "pyproject.toml"))
    server = channel(shell_name="fish")
    pairs = ["%s=%s" % item for item in base_pairs(home).items()]
    server.send(encode("1", str(tmp_path), *pairs, "."))
    server.wait_for("1.ok")
    assert "__autoenv_prompt_set '';" in server.answer()
    creating = [pair for pair in pairs if not pair.startswith("AUTOENV_CREATE=")]
    server.send(encode("2", bare, *creating, "."))
    server.wait_for("2.process")
    assert not os.path.exists(os.path.join(server.dir, "1.ok"))
    # A serial that is not a number names no file: ignored.
    server.send(encode("../x", str(tmp_path), *pairs, ".") + encode("3", str(tmp_path), *pairs, "."))
    server.wait_for("3.ok")
    assert not os.path.exists(os.path.join(str(tmp_path), "x.ok"))
    assert sorted(os.listdir(server.dir)) == sorted(["3.ok", "answer", "requests",
                                                     os.path.basename(serve.tokens_dir(server.dir))])
    assert os.listdir(os.path.join(server.dir, "requests")) == [], "requests taken are left"


def test_a_fish_request_cut_short_is_dropped_alone(channel, tmp_path):
    """A request file whose write was interrupted (Ctrl-C in fish's printf)
    holds no complete request: nothing is answered for it, and its bytes do
    not run into the next request, which is answered."""
    home = str(tmp_path / "home")
    server = channel(shell_name="fish")
    pairs = ["%s=%s" % item for item in base_pairs(home).items()]
    server.send(encode("1", str(tmp_path), *pairs))  # no closing "."
    server.send(encode("2", str(tmp_path), *pairs, "."))
    server.wait_for("2.ok")
    assert "__autoenv_prompt_set '';" in server.answer()
    assert not os.path.exists(os.path.join(server.dir, "1.ok"))
    assert os.listdir(os.path.join(server.dir, "requests")) == []


def test_a_fish_server_without_its_inbox_ends_at_once_and_takes_its_channel(tmp_path):
    """No inotify watch on requests/ (the user's limit on instances reached,
    say): the server never sits in its channel, so fish never writes to it,
    and runs helpers."""
    channel_dir = tmp_path / "serve-1-x"
    channel_dir.mkdir()
    (channel_dir / "answer").write_text("")
    before = signal.getsignal(signal.SIGTERM)
    try:
        assert serve.main(["fish", str(os.getpid()), str(channel_dir)]) == 1
    finally:
        signal.signal(signal.SIGTERM, before)
    assert not channel_dir.exists()
    assert os.getcwd() != str(channel_dir)


def test_an_answer_it_cannot_write_is_handed_back_and_the_server_goes_on(channel, tmp_path):
    home = str(tmp_path / "home")
    server = channel()
    blocker = os.path.join(server.dir, "answer")
    os.mkdir(blocker)  # the answer file cannot be opened for writing (as on a full disk)
    assert server.ask(1, str(tmp_path), **base_pairs(home)) == "1 process"
    os.rmdir(blocker)
    assert server.ask(2, str(tmp_path), **base_pairs(home)) == "2 ok"


def test_without_a_runtime_dir_the_channel_goes_to_shared_memory(monkeypatch, tmp_path):
    """A shell with no $XDG_RUNTIME_DIR keeps its stamp in ~/.cache, on disk,
    where each file a request makes costs several times more: its channel
    goes to a private directory in /dev/shm (here a stand-in), and works."""
    shared_memory = tmp_path / "shm"
    shared_memory.mkdir()
    os.chmod(str(shared_memory), 0o1777)
    monkeypatch.setattr(serve, "SHARED_MEMORY", str(shared_memory))
    home = str(tmp_path / "home")
    stamp_dir = str(tmp_path / "home" / ".cache" / "autoenv" / "stamps")
    os.makedirs(stamp_dir, mode=0o700)
    code = serve.start(render.get("bash"), os.getpid(), stamp_dir, {"HOME": home})
    assert code.startswith("__autoenv_serve_open ")
    mine = shared_memory / ("autoenv-%d" % os.getuid())
    assert os.stat(str(mine)).st_mode & 0o777 == 0o700
    channel_dir, = [str(mine / name) for name in os.listdir(str(mine))]
    assert os.listdir(stamp_dir) == []
    pid = int(code.split()[-1].strip(";'$"))
    request = os.open(os.path.join(channel_dir, "request"), os.O_RDWR)
    reply = os.open(os.path.join(channel_dir, "reply"), os.O_RDWR)
    try:
        os.write(request, encode("1", str(tmp_path), *("%s=%s" % item for item in base_pairs(home).items()), "."))
        assert select.select([reply], [], [], 10)[0], "no reply"
        assert os.read(reply, 100) == b"1 ok\n"
    finally:
        os.close(request)
        os.close(reply)
        os.kill(pid, signal.SIGTERM)
    assert wait_gone(pid)
    assert os.listdir(str(mine)) == []


def test_the_channel_goes_to_the_runtime_dir_else_shared_memory_else_beside_the_stamp(monkeypatch, tmp_path):
    """Wherever the stamp is (hook.stamp_dirs puts it in the temp dir first)."""
    shared_memory = tmp_path / "shm"
    shared_memory.mkdir()
    os.chmod(str(shared_memory), 0o1777)
    monkeypatch.setattr(serve, "SHARED_MEMORY", str(shared_memory))
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    in_runtime = str(runtime / "autoenv")
    stamp_dir = str(tmp_path / "tmp" / ("autoenv-%d" % os.getuid()))
    assert serve.channel_parent(stamp_dir, {"XDG_RUNTIME_DIR": str(runtime)}) == in_runtime
    assert os.stat(in_runtime).st_mode & 0o777 == 0o700
    assert not os.listdir(str(shared_memory))
    # A runtime dir that is missing, or where no dir can be made (a file is in the way).
    mine = shared_memory / ("autoenv-%d" % os.getuid())
    assert serve.channel_parent(stamp_dir, {"XDG_RUNTIME_DIR": str(tmp_path / "none")}) == str(mine)
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "autoenv").write_text("")
    assert serve.channel_parent(stamp_dir, {"XDG_RUNTIME_DIR": str(blocked)}) == str(mine)
    # Someone made it first, open to all: not used.
    os.chmod(str(mine), 0o777)
    assert serve.channel_parent(stamp_dir, {}) == stamp_dir
    os.chmod(str(mine), 0o700)
    assert serve.channel_parent(stamp_dir, {}) == str(mine)
    # No shared memory at all.
    monkeypatch.setattr(serve, "SHARED_MEMORY", str(tmp_path / "none"))
    assert serve.channel_parent(stamp_dir, {}) == stamp_dir


def test_no_server_where_someone_else_could_swap_the_answer(tmp_path):
    """The shell sources what the server writes: its channel goes only where
    nobody else can replace it (the stamp dir may come from $XDG_RUNTIME_DIR,
    which the environment names)."""
    bash = render.get("bash")
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    os.chmod(str(open_dir), 0o777)
    inner = open_dir / "run"
    inner.mkdir(mode=0o700)
    assert serve.start(bash, os.getpid(), str(open_dir), {}) == ""  # writable by others itself
    assert serve.start(bash, os.getpid(), str(inner), {}) == ""  # below a directory others may rename in
    os.chmod(str(open_dir), 0o1777)  # sticky, as /tmp: nobody renames what is ours
    code = serve.start(bash, os.getpid(), str(inner), {})
    assert code.startswith("__autoenv_serve_open ")
    server_pid = int(code.split()[-1].strip(";'$"))
    os.kill(server_pid, signal.SIGTERM)
    assert wait_gone(server_pid)
    if os.geteuid() == 0:  # only root can make a directory that belongs to someone else
        theirs = tmp_path / "theirs"
        theirs.mkdir(mode=0o700)
        os.chown(str(theirs), 65534, 65534)
        assert serve.start(bash, os.getpid(), str(theirs), {}) == ""
    assert [name for name in os.listdir(str(open_dir)) if name.startswith("serve-")] == []


def test_a_server_nobody_asks_ends_after_its_idle_time(channel, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOENV_SERVE_IDLE", "1.5")  # the server gets the helper's environment
    server = channel()
    assert server.ask(1, str(tmp_path), **base_pairs(str(tmp_path))) == "1 ok"
    time.sleep(0.8)
    assert server.ask(2, str(tmp_path), **base_pairs(str(tmp_path))) == "2 ok"  # asked: it starts over
    time.sleep(0.8)
    assert os.path.exists(server.dir)  # 1.6 s since it started, 0.8 s since it was asked
    assert wait_gone(server.pid, timeout=10)
    assert not os.path.exists(server.dir)


def deep_tree_and_stamp(tmp_path):
    """A directory 25 levels down (a chain the server watches), and a stamp
    newer than all of it."""
    deep = tmp_path.joinpath(*("d%02d" % i for i in range(25)))
    deep.mkdir(parents=True)
    stamp = str(tmp_path / "shell.stamp")
    with open(stamp, "w"):
        pass
    later = time.time_ns() + 10**9
    os.utime(stamp, ns=(later, later))
    return deep, stamp


def test_a_server_holding_tokens_stays_while_its_shell_works_until_superseded(channel, tmp_path, monkeypatch):
    """The 'shell' here is this test process: it burns CPU like a shell busy
    with prompts that trust their tokens and never ask.  Directories above
    the test tree (/var/tmp) may change meanwhile and rightly take the token
    away; such a round is tried again, a few times."""
    monkeypatch.setenv("AUTOENV_SERVE_IDLE", "1")
    deep, stamp = deep_tree_and_stamp(tmp_path)

    def work(seconds, token):
        """Burn CPU; False when the token went meanwhile."""
        until = time.time() + seconds
        while time.time() < until:
            sum(range(10000))
            if token and not os.path.exists(token):
                return False
        return True

    for _ in range(3):
        server = channel()
        server.send(encode("1", str(deep), ":sync", stamp, "."))
        assert server.read_line() == "1 c"
        token = os.path.join(serve.tokens_dir(server.dir), "1")
        if work(3, token):
            break
    else:
        # Another test run on this machine, making and removing its state
        # directories in the same temp dir; never the case under CI.
        missing("the directories above the test tree kept changing")
    assert os.path.exists(server.dir), "ended while its shell was working"
    # `exec bash`: the same pid, a new server beside this one.  It ends at
    # its next deadline, though its shell goes on working.
    os.mkdir(os.path.join(os.path.dirname(server.dir), "serve-%d-new" % os.getpid()))
    until = time.time() + 8
    while time.time() < until and not wait_gone(server.pid, timeout=0.05):
        work(0.1, None)
    assert time.time() < until, "a superseded server stayed"


def test_a_watch_request_leaves_its_token_and_no_reply(channel, tmp_path):
    """``:watch`` is a Sync the shell does not wait for: the token comes, no
    reply line does (it would pile up in a FIFO nobody reads)."""
    deep, stamp = deep_tree_and_stamp(tmp_path)
    server = channel()
    server.send(encode("1", str(deep), ":watch", stamp, "."))
    token = os.path.join(serve.tokens_dir(server.dir), "1")
    until = time.time() + 10
    while not os.path.exists(token) and time.time() < until:
        time.sleep(0.01)
    assert os.path.exists(token)
    # The next reply on the FIFO is the next question's.
    server.send(encode("2", str(deep), ":sync", stamp, "."))
    assert server.read_line() == "2 c"


def test_idle_limit_reads_seconds_and_ignores_nonsense():
    assert serve.idle_limit({}) == serve.IDLE_SECONDS
    assert serve.idle_limit({"AUTOENV_SERVE_IDLE": "60"}) == 60.0
    for bad in ("", "soon", "0", "-5"):
        assert serve.idle_limit({"AUTOENV_SERVE_IDLE": bad}) == serve.IDLE_SECONDS
