"""`autoenv doctor` in real shells, and the allow/deny commands' own faults."""

import os
import subprocess

import pytest

from realshell import AUTOENV, make_venv, quote_for


def doctor_lines(printed):
    return [line for line in printed.rpartition("\n")[0].split("\n") if line.strip()]


def line_starting(lines, prefix):
    found = [line for line in lines if line.startswith(prefix)]
    assert len(found) == 1, "\n".join(lines)
    return found[0]


@pytest.mark.parametrize("kind", ["bash", "zsh", "fish"])
def test_doctor_in_a_hooked_shell(spawn, home, kind):
    shell = spawn(kind)
    rc = {"bash": ".bashrc", "zsh": ".zshrc", "fish": ".config/fish/conf.d/autoenv.fish"}[kind]
    os.makedirs(os.path.dirname(os.path.join(home, rc)), exist_ok=True)
    with open(os.path.join(home, rc), "w") as handle:
        handle.write(shell.init_line() + "\n")
    lines = doctor_lines(shell.run("%s doctor" % quote_for(kind, AUTOENV)))
    assert line_starting(lines, "ok    hook: active in this %s" % kind)
    # The first helper run of the shell started its server.
    assert "/serve-" in line_starting(lines, "info  server: answers this shell's switches (")
    assert line_starting(lines, "ok    %s: " % kind).endswith(shell.init_line()[:120])
    assert line_starting(lines, "ok    helper: ")
    assert line_starting(lines, "ok    interpreters: ")
    assert line_starting(lines, "ok    trust store: ")
    assert not [line for line in lines if line.startswith("FAIL")]
    assert "exit=0" in shell.run("%s doctor >/dev/null; echo exit=$%s" % (
        quote_for(kind, AUTOENV), "status" if kind == "fish" else "?"))


@pytest.mark.parametrize("kind", ["bash", "zsh"])
def test_doctor_says_when_a_shell_has_no_server(spawn, home, kind):
    shell = spawn(kind, env={"AUTOENV_SERVE": "0"})
    lines = doctor_lines(shell.run("%s doctor" % quote_for(kind, AUTOENV)))
    assert line_starting(lines, "info  server: off (AUTOENV_SERVE=0)")


@pytest.mark.parametrize("kind", ["bash", "zsh"])
def test_doctor_in_a_shell_without_the_hook(spawn, kind):
    shell = spawn(kind, init=False)
    printed = shell.run("%s doctor; echo exit=$?" % quote_for(kind, AUTOENV))
    lines = doctor_lines(printed)
    assert line_starting(lines, "FAIL  hook: not active in this %s" % kind)
    assert line_starting(lines, "FAIL  %s: no autoenv init line in " % kind)
    assert "exit=1" in printed


def test_doctor_reports_the_trust_store(spawn, home, tmp_path):
    root = tmp_path / "p"
    root.mkdir()
    (root / "setup.py").write_text("")
    make_venv(str(root / ".venv"))
    shell = spawn("bash")
    shell.run("%s deny %s" % (quote_for("bash", AUTOENV), quote_for("bash", str(root))))
    lines = doctor_lines(shell.run("%s doctor" % quote_for("bash", AUTOENV)))
    assert line_starting(lines, "ok    trust store: ").endswith("(1 decisions)")
    assert line_starting(lines, "info    deny %s" % (root / ".venv")).endswith("(in force)")
    os.remove(str(root / ".venv" / "pyvenv.cfg"))
    (root / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    lines = doctor_lines(shell.run("%s doctor" % quote_for("bash", AUTOENV)))
    assert "replaced since" in line_starting(lines, "info    deny ")


def cli(*args, env=None, cwd=None):
    return subprocess.run([AUTOENV, *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def test_allow_without_an_env_says_so(tmp_path):
    result = cli("allow", str(tmp_path), env={"XDG_STATE_HOME": str(tmp_path / "state")})
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: no env found for %s (nothing to allow or deny)" % tmp_path
    assert not (tmp_path / "state").exists()


def test_allow_with_an_unwritable_state_dir(tmp_path):
    root = tmp_path / "p"
    root.mkdir()
    (root / "setup.py").write_text("")
    make_venv(str(root / ".venv"))
    blocker = tmp_path / "state-is-a-file"
    blocker.write_text("")
    result = cli("allow", str(root), env={"XDG_STATE_HOME": str(blocker)})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: cannot record the decision: ")
    assert result.stderr.count("\n") == 1


def test_allow_accepts_the_env_dir_itself_and_resolves_symlinks(tmp_path):
    root = tmp_path / "p"
    root.mkdir()
    make_venv(str(root / "myenv"))
    (tmp_path / "link").symlink_to(root)
    state = tmp_path / "state"
    result = cli("allow", str(tmp_path / "link" / "myenv"), env={"XDG_STATE_HOME": str(state)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("autoenv: allowed %s;" % (root / "myenv"))
