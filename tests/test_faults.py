"""Faults and bad input, in real shells: the shell stays usable, each problem
gives one clear line (no traceback, nothing at every prompt), and nothing the
user had is lost.

The snippet is rendered as ``autoenv init`` renders it, then pointed at a
missing, crashing or slow helper where a test needs one.
"""

import os
import sys

import pytest

from autoenv import init
from autoenv.render import get as get_renderer
from realshell import BASE_PATH, assert_answer_kept, autoenv_lines, make_venv, quote_for

SHELLS = ["bash", "zsh", "fish"]
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def shell_with_helper(spawn, kind, home, helper=None, python=None, env=None):
    """A shell whose snippet runs ``helper`` (a script) with ``python`` instead of the real ones."""
    renderer = get_renderer(kind)
    text = init.render_init(kind)
    if helper:
        text = text.replace(renderer.quote(init.helper_path()), renderer.quote(helper))
    if python:
        text = text.replace(renderer.quote(init.helper_python()), renderer.quote(python))
    path = os.path.join(home, "snippet." + kind)
    with open(path, "w") as handle:
        handle.write(text)
    # The server would answer in place of the helper swapped in here.
    shell = spawn(kind, init=False, env={**(env or {}), "AUTOENV_SERVE": "0"})
    shell.printed_at_start = shell.run("source %s" % quote_for(kind, path))
    return shell


def assert_untouched(shell):
    state = shell.state()
    assert state["VIRTUAL_ENV"] is None
    assert state["PATH"] == BASE_PATH
    return state


def write_helper(tmp_path, body):
    path = tmp_path / "fake_helper.py"
    path.write_text("import os, sys\nsys.path.insert(0, %r)\n%s\n" % (REPO, body))
    return str(path)


# ---------------------------------------------------------------- the helper itself

@pytest.mark.parametrize("kind", SHELLS)
@pytest.mark.parametrize("what", ["helper", "python"])
def test_helper_missing(spawn, home, project, kind, what):
    """As after uninstalling autoenv: the shell says so once and carries on."""
    missing = os.path.join(home, "gone", "_run_hook.py" if what == "helper" else "python3")
    shell = shell_with_helper(spawn, kind, home, **{what: missing})
    printed = shell.printed_at_start + shell.cd(str(project))
    said = autoenv_lines(printed)
    assert len(said) == 1 and "autoenv doctor" in said[0], printed
    assert "Traceback" not in printed
    assert_untouched(shell)
    for step in ("true", "cd sub", "cd ..", "true"):
        assert autoenv_lines(shell.run(step)) == [], step
    assert shell.run("echo still-here").startswith("still-here")


def counting_helper(tmp_path, body):
    """A helper that counts its runs in a file next to it, then runs ``body``."""
    runs = tmp_path / "helper-runs"
    runs.write_text("")
    helper = write_helper(tmp_path, """
with open(%r, "a") as counter:
    counter.write("run\\n")
%s""" % (str(runs), body))
    return helper, lambda: len(runs.read_text().split())


@pytest.mark.parametrize("kind", SHELLS)
def test_helper_crash_is_one_line_without_traceback(spawn, home, project, tmp_path, kind):
    helper, runs = counting_helper(tmp_path, """
from autoenv import hook, _run_hook
def broken(argv, **kwargs):
    raise RuntimeError("simulated bug\\nwith a second line \\x1b[31m")
hook.run = broken
sys.exit(_run_hook.main())
""")
    shell = shell_with_helper(spawn, kind, home, helper=helper)
    printed = shell.printed_at_start + shell.cd(str(project))
    assert "Traceback" not in printed
    # The helper's own line only: the snippet adds nothing for exit 70.
    assert autoenv_lines(printed) == [
        "autoenv: internal error: RuntimeError: simulated bug\\x0awith a second line \\x1b[31m"], printed
    assert "\x1b" not in printed
    assert_untouched(shell)
    started = runs()
    for step in ("true", "true", "cd sub", "true", "cd %s" % quote_for(kind, str(project))):
        assert autoenv_lines(shell.run(step)) == [], step
    # Prompts do not start it again; a cd into the project may, quietly.
    assert runs() - started <= 2
    shell.run("true")
    shell.run("true")
    assert runs() - started <= 2


@pytest.mark.parametrize("kind", SHELLS)
def test_other_helper_failures_get_the_snippets_line_once(spawn, home, project, tmp_path, kind):
    helper, runs = counting_helper(tmp_path, "sys.exit(3)")
    shell = shell_with_helper(spawn, kind, home, helper=helper)
    printed = shell.printed_at_start + shell.cd(str(project))
    said = autoenv_lines(printed)
    assert len(said) == 1 and "exit 3" in said[0] and "autoenv doctor" in said[0], printed
    for step in ("true", "cd sub", "cd ..", "true"):
        assert autoenv_lines(shell.run(step)) == [], step
    assert_untouched(shell)


def test_internal_error_exit_status_and_debug_switch(tmp_path):
    import subprocess

    helper = write_helper(tmp_path, """
from autoenv import hook, _run_hook
def broken(argv, **kwargs):
    raise KeyError("x")
hook.run = broken
sys.exit(_run_hook.main())
""")
    result = subprocess.run([sys.executable, "-I", "-S", helper, "bash", "1", "/"], capture_output=True,
                            text=True)
    assert result.returncode == 70 and result.stdout == ""
    assert result.stderr == "autoenv: internal error: KeyError: 'x'\n"
    result = subprocess.run([sys.executable, "-S", helper, "bash", "1", "/"], capture_output=True, text=True,
                            env={**os.environ, "AUTOENV_DEBUG": "1"})
    assert "Traceback" in result.stderr


@pytest.mark.parametrize("kind", ["bash", "zsh"])
def test_slow_helper_can_be_interrupted(spawn, home, project, tmp_path, kind):
    """A helper that hangs (a dead network mount, say): Ctrl-C gives the prompt back."""
    helper = write_helper(tmp_path, """
import time
if os.path.exists(os.path.join(os.environ["HOME"], "slow")):
    try:
        time.sleep(60)
    except KeyboardInterrupt:
        sys.exit(130)
from autoenv import _run_hook
sys.exit(_run_hook.main())
""")
    shell = shell_with_helper(spawn, kind, home, helper=helper)
    slow = os.path.join(home, "slow")
    open(slow, "w").close()
    shell.child.sendline("cd %s" % quote_for(kind, str(project)))
    import time

    time.sleep(1.0)
    shell.child.sendintr()
    try:
        shell.child.expect_exact(shell.token, timeout=5)
    finally:
        os.remove(slow)
    # Nothing half done, and the next cd into the project works.
    state = shell.state()
    assert state["VIRTUAL_ENV"] is None and state["PATH"] == BASE_PATH
    shell.cd(str(project.parent / "outside"))
    shell.cd(str(project))
    assert shell.state()["VIRTUAL_ENV"] == os.path.join(str(project), ".venv")


# ---------------------------------------------------------------- the file system

@pytest.mark.parametrize("kind", SHELLS)
def test_current_directory_deleted(spawn, project, kind):
    import shutil

    shell = spawn(kind, env={"AUTOENV_CREATE": "0"})
    shell.cd(str(project / "sub"))
    assert shell.state()["VIRTUAL_ENV"] == os.path.join(str(project), ".venv")
    shutil.rmtree(str(project))
    printed = shell.run("true")
    printed += shell.run("true")
    assert "Traceback" not in printed
    assert len(autoenv_lines(printed)) <= 1
    state = shell.state()
    assert state["VIRTUAL_ENV"] is None and state["PATH"] == BASE_PATH
    shell.cd(str(project.parent / "outside"))
    assert_untouched(shell)


@pytest.mark.parametrize("kind", ["bash", "zsh"])
@pytest.mark.parametrize("name, content", [
    ("pyvenv.cfg", b"\x00\xff\xfe binary \x1b[2J garbage\n" * 100),
    ("pyvenv.cfg", b"prompt = " + b"x" * (8 * 1024 * 1024) + b"\n"),
    ("pyproject.toml", b"\x00\x01\x02[[[ not toml"),
    (".python-version", b"\xff\xfe\x00 3.\x00"),
])
def test_malformed_files_next_to_an_env(spawn, project, kind, name, content):
    target = project / ".venv" / name if name == "pyvenv.cfg" else project / name
    if name == "pyvenv.cfg":
        content = (project / ".venv" / "pyvenv.cfg").read_bytes() + content
    target.write_bytes(content)
    shell = spawn(kind, env={"AUTOENV_CREATE": "0"})
    printed = shell.cd(str(project))
    assert "Traceback" not in printed
    assert len(autoenv_lines(printed)) <= 1
    state = shell.state()
    assert state["VIRTUAL_ENV"] == os.path.join(str(project), ".venv")
    assert "\x1b" not in printed
    shell.cd(str(project.parent / "outside"))
    assert_untouched(shell)


@pytest.mark.parametrize("kind", ["bash", "zsh"])
@pytest.mark.parametrize("name, content", [
    ("pyproject.toml", b"\x00\x01\x02[[[ not toml"),
    ("pyproject.toml", b"[project]\nrequires-python = '>=99'\n"),
    (".python-version", b"\xff\xfe\x00 3.\x00"),
    (".python-version", b"no-such-python-9.9\n"),
])
def test_bad_input_where_an_env_would_be_created(spawn, tmp_path, kind, name, content):
    root = tmp_path / "fresh"
    root.mkdir()
    (root / "setup.py").write_text("")
    (root / name).write_bytes(content)
    shell = spawn(kind)
    printed = shell.cd(str(root))
    assert "Traceback" not in printed
    progress = ("autoenv: creating ", "autoenv: created ")
    problems = [line for line in autoenv_lines(printed) if not line.startswith(progress)]
    assert len(problems) <= 1, printed
    # Either no env, or a whole one: never half-built.
    assert not (root / ".venv").exists() or (root / ".venv" / "pyvenv.cfg").exists()
    assert autoenv_lines(shell.run("true")) == []
    shell.cd(str(tmp_path))
    assert_untouched(shell)


@pytest.mark.parametrize("kind", ["bash", "zsh"])
def test_bad_user_config(spawn, home, tmp_path, kind):
    config = os.path.join(home, ".config", "autoenv")
    os.makedirs(config)
    with open(os.path.join(config, "config.toml"), "wb") as handle:
        handle.write(b"\x00\xff create = maybe [[[\n")
    root = tmp_path / "fresh"
    root.mkdir()
    (root / "setup.py").write_text("")
    shell = spawn(kind)
    printed = shell.cd(str(root))
    assert "Traceback" not in printed
    said = autoenv_lines(printed)
    assert any("config.toml" in line for line in said), printed
    assert autoenv_lines(shell.run("true")) == []


def test_damaged_trust_store_and_git_cache(spawn, home, project):
    state_dir = os.path.join(home, ".local", "state", "autoenv")
    cache_dir = os.path.join(home, ".cache", "autoenv")
    os.makedirs(state_dir)
    os.makedirs(cache_dir)
    with open(os.path.join(state_dir, "trust"), "wb") as handle:
        handle.write(os.urandom(4096))
    with open(os.path.join(cache_dir, "git-tracked"), "wb") as handle:
        handle.write(os.urandom(4096))
    shell = spawn("bash", env={"AUTOENV_CREATE": "0"})
    printed = shell.cd(str(project))
    assert autoenv_lines(printed) == []
    assert shell.state()["VIRTUAL_ENV"] == os.path.join(str(project), ".venv")


# ---------------------------------------------------------------- the stamp file

def blocked_dirs(tmp_path, temp_too):
    """XDG dirs that cannot be directories (a regular file is in the way), so
    writing the stamp there fails even for root."""
    blocker = tmp_path / "a-regular-file"
    blocker.write_text("")
    temp = blocker / "tmp" if temp_too else tmp_path / "tmp"
    if not temp_too:
        temp.mkdir()
    return {"XDG_RUNTIME_DIR": str(blocker), "XDG_CACHE_HOME": str(blocker / "cache"), "TMPDIR": str(temp)}


@pytest.fixture
def quiet_project():
    """A project outside /tmp, which other test runs change all the time: every
    dir on the path counts when a test asserts that no helper ran."""
    import pathlib
    import shutil
    import tempfile

    base = tempfile.mkdtemp(prefix="faults-", dir="/var/tmp")
    root = os.path.join(base, "proj")
    os.makedirs(os.path.join(root, "sub"))
    with open(os.path.join(root, "pyproject.toml"), "w") as handle:
        handle.write("[project]\nname = 'proj'\n")
    make_venv(os.path.join(root, ".venv"))
    os.mkdir(os.path.join(base, "outside"))
    yield pathlib.Path(root)
    shutil.rmtree(base)


@pytest.mark.parametrize("kind", SHELLS)
def test_stamp_goes_to_a_private_dir_in_the_temp_dir(spawn, quiet_project, tmp_path, kind):
    """First choice (hook.stamp_dirs), before the runtime dir: a shorter path."""
    project = quiet_project
    temp = tmp_path / "tmp"
    temp.mkdir()
    shell = spawn(kind, env={"TMPDIR": str(temp), "AUTOENV_CREATE": "0"})
    printed = shell.cd(str(project))
    assert autoenv_lines(printed) == [], printed
    assert shell.state()["VIRTUAL_ENV"] == os.path.join(str(project), ".venv")
    private = os.path.join(str(temp), "autoenv-%d" % os.getuid())
    assert oct(os.stat(private).st_mode & 0o777) == oct(0o700)
    assert os.listdir(private) == [str(shell.child.pid)]
    assert_answer_kept(shell, os.path.join(private, str(shell.child.pid)), ("true", "true", "cd sub"))
    shell.cd(str(project.parent / "outside"))
    assert_untouched(shell)


@pytest.mark.parametrize("kind", SHELLS)
def test_stamp_taken_by_someone_else_in_the_temp_dir_is_not_used(spawn, quiet_project, tmp_path, kind):
    """The runtime dir takes the stamp, silently; with no other place, one line says why."""
    project = quiet_project
    env = blocked_dirs(tmp_path, temp_too=False)
    squatted = os.path.join(env["TMPDIR"], "autoenv-%d" % os.getuid())
    os.mkdir(squatted)
    os.chmod(squatted, 0o777)
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    shell = spawn(kind, env={**env, "XDG_RUNTIME_DIR": str(runtime), "AUTOENV_CREATE": "0"})
    printed = shell.cd(str(project))
    assert autoenv_lines(printed) == [], printed
    assert_answer_kept(shell, str(runtime / "autoenv" / str(shell.child.pid)), ("true", "cd sub"))
    assert os.listdir(squatted) == []
    shell = spawn(kind, env={**env, "AUTOENV_CREATE": "0"})
    shell.cd(str(project))
    shell.run("true")
    # Said once, when the hook first ran (at the prompt after the init line).
    said = [line for line in autoenv_lines("".join(out for _, out in shell.transcript) + "\n")
            if "stamp" in line]
    assert len(said) == 1 and "not a private directory of yours" in said[0], said
    assert os.listdir(squatted) == []
    assert shell.state()["VIRTUAL_ENV"] == os.path.join(str(project), ".venv")


@pytest.mark.parametrize("kind", SHELLS)
def test_no_stamp_anywhere_one_line_and_checks_only_at_cd(spawn, home, project, tmp_path, kind):
    env = blocked_dirs(tmp_path, temp_too=True)
    helper, runs = counting_helper(tmp_path, """
from autoenv import _run_hook
sys.exit(_run_hook.main())
""")
    shell = shell_with_helper(spawn, kind, home, helper=helper, env={**env, "AUTOENV_CREATE": "0"})
    printed = shell.printed_at_start + shell.cd(str(project))
    said = autoenv_lines(printed)
    assert len(said) == 1 and said[0].startswith("autoenv: cannot write a stamp file ("), printed
    assert said[0].endswith("); this shell checks for changes only at cd")
    assert shell.state()["VIRTUAL_ENV"] == os.path.join(str(project), ".venv")
    at_rest = runs()
    for step in ("true", "true"):
        assert autoenv_lines(shell.run(step)) == [], step
    assert runs() == at_rest, "the helper ran at a prompt"
    assert autoenv_lines(shell.run("cd sub")) == []
    assert runs() == at_rest + 1
    assert shell.state()["VIRTUAL_ENV"] == os.path.join(str(project), ".venv")
    # A change made in place is seen at the next cd.
    (project / ".autoenv-disable").write_text("")
    assert autoenv_lines(shell.run("cd ..")) == []
    assert_untouched(shell)
    os.remove(str(project / ".autoenv-disable"))
    assert autoenv_lines(shell.cd(str(project.parent / "outside"))) == []
    assert autoenv_lines(shell.cd(str(project))) == []
    assert shell.state()["VIRTUAL_ENV"] == os.path.join(str(project), ".venv")


# ---------------------------------------------------------------- PowerShell (no pwsh here: parsed)

def test_pwsh_helper_output_without_any_stamp_parses(tmp_path):
    import io
    import re

    from autoenv import hook
    from test_quote_fish_pwsh import decode_pwsh, parse_errors

    root = tmp_path / "it's proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("")
    make_venv(str(root / ".venv"))
    environ = {"PATH": BASE_PATH, "HOME": str(tmp_path), "AUTOENV_CREATE": "0",
               **blocked_dirs(tmp_path, temp_too=True)}
    out, err = io.StringIO(), io.StringIO()
    assert hook.run(["pwsh", "4242", str(root)], environ=environ, out=out, err=err) == 0
    text = out.getvalue()
    assert parse_errors(text) == [] and err.getvalue() == ""
    warning = re.search(r"^__autoenv_warn_once (.*)$", text, re.M)
    assert decode_pwsh(warning.group(1)).startswith("autoenv: cannot write a stamp file (")
    assert "$global:__autoenv_stamp = ''" in text.splitlines()
    assert "$global:__autoenv_below = [string[]]@()" in text.splitlines()
    assert "$global:__autoenv_above = [string[]]@()" in text.splitlines()
    assert "$env:VIRTUAL_ENV = " in text


@pytest.mark.parametrize("kind", ["bash", "zsh", "fish", "pwsh"])
def test_every_snippet_mirrors_the_fault_handling(kind):
    """What the real-shell tests above check in bash, zsh and fish, written the same way in
    each snippet (pwsh cannot run here): no second line for exit 70, a warning said once,
    and an empty stamp meaning "the answer holds until the next cd"."""
    import re

    text = init.render_init(kind)
    quiet_for_70 = {"bash": "elif [[ $code != 70 ]]; then", "zsh": "elif (( code != 70 )); then",
                    "fish": "else if builtin test $code != 70", "pwsh": "} elseif ($exit -ne 70) {"}[kind]
    assert quiet_for_70 in text
    assert re.search(r"^(function (global:)?)?__autoenv_warn_once\b", text, re.M)
    empty_stamp = {"bash": "[[ -n $__autoenv_stamp ]] || \\builtin return 1",
                   "zsh": "[[ -n $__autoenv_stamp ]] || return 1",
                   "fish": 'builtin test -n "$__autoenv_stamp"; or return 1',
                   "pwsh": "if (-not $stamp) { return ($here -ceq $global:__autoenv_pwd) }"}[kind]
    assert empty_stamp in text
    if kind == "pwsh":
        from test_quote_fish_pwsh import parse_errors

        assert parse_errors(text) == []
