"""What the helper prints for bash and zsh, evaluated in the real shells.

Each case builds a directory tree and an environment, runs ``hook.run`` the
way the snippet does, evaluates the printed code in ``bash``/``zsh`` and reads
the resulting environment back with ``env -0``.
"""

import io
import os
import subprocess

import pytest

from autoenv import detect, hook, render
from conftest import require_shell

SHELLS = ["bash", "zsh"]
HOSTILE = "'\";&&e-$ èрт🚒 $(touch pwned) `touch pwned2` *?[x]\nnext\tline\\"
BASE = "/usr/local/bin:/usr/bin:/bin"

SHELL_COMMAND = {"bash": ["bash", "--norc", "--noprofile", "-c"], "zsh": ["zsh", "-f", "-c"]}
# Stand-ins for the snippet's functions: record what the helper asked for.
PRELUDE = """
__prompt='<not called>'
__autoenv_prompt_set() { __prompt=$1; }
__hashed=0
hash() { __hashed=1; }
"""
SHOW = """
printf '%s\\0' "$__prompt" "$__hashed" "${__autoenv_key-<unset>}" "${__autoenv_stamp-<unset>}"
/usr/bin/env -0
"""


def fake_env(path, prompt=None):
    os.makedirs(os.path.join(path, "bin"), exist_ok=True)
    with open(os.path.join(path, "pyvenv.cfg"), "w", encoding="utf-8", errors="surrogateescape") as cfg:
        cfg.write("home = /usr/bin\n")
        if prompt:
            cfg.write("prompt = %s\n" % prompt)
    return path


def project(path, env=True, prompt=None):
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "pyproject.toml"), "w"):
        pass
    if env:
        fake_env(os.path.join(path, ".venv"), prompt)
    return path


def bin_of(env):
    return os.path.join(env, "bin")


class Result:
    def __init__(self, code, out, err, environ, prompt, hashed, key, stamp):
        self.code, self.out, self.err = code, out, err
        self.environ, self.prompt, self.hashed = environ, prompt, hashed
        self.key, self.stamp = key, stamp

    @property
    def path(self):
        return self.environ.get("PATH", "").split(":")


def run_helper(kind, pwd, environ, tmp):
    environ = dict(environ)
    environ.setdefault("PATH", BASE)
    environ.setdefault("XDG_RUNTIME_DIR", str(tmp))
    environ.setdefault("TMPDIR", str(tmp))
    out, err = io.StringIO(), io.StringIO()
    code = hook.run([kind, "4242", str(pwd)], environ=environ, out=out, err=err)
    return code, out.getvalue(), err.getvalue(), environ


def evaluate(kind, code_text, environ, cwd):
    require_shell(kind)
    script = PRELUDE + 'eval "$1"\n' + SHOW
    result = subprocess.run(SHELL_COMMAND[kind] + [script, "sh", code_text], env=environ,
                            cwd=str(cwd), capture_output=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == b"", result.stderr
    fields = result.stdout.split(b"\0")
    decode = lambda b: b.decode("utf-8", "surrogateescape")  # noqa: E731
    prompt, hashed, key, stamp = (decode(f) for f in fields[:4])
    after = {}
    for item in fields[4:]:
        if item:
            name, _, value = decode(item).partition("=")
            after[name] = value
    return prompt, hashed == "1", key, stamp, after


def helper(kind, pwd, environ, tmp):
    """Run the helper for ``pwd`` and apply its output in a real ``kind`` shell."""
    code, out, err, environ = run_helper(kind, pwd, environ, tmp)
    prompt, hashed, key, stamp, after = evaluate(kind, out, environ, tmp)
    return Result(code, out, err, after, prompt, hashed, key, stamp)


def active_in(env, path=None, **extra):
    """The environment of a shell in which autoenv activated ``env``."""
    environ = {"VIRTUAL_ENV": env, "VIRTUAL_ENV_PROMPT": "x", hook.OWNED_VAR: env,
               "PATH": path if path is not None else bin_of(env) + ":" + BASE}
    environ.update(extra)
    return environ


@pytest.fixture(params=SHELLS)
def kind(request):
    require_shell(request.param)
    return request.param


def test_activate(kind, tmp_path):
    proj = project(str(tmp_path / "proj"))
    env = os.path.join(proj, ".venv")
    result = helper(kind, proj, {}, tmp_path)
    assert result.code == 0 and result.err == ""
    assert result.environ["VIRTUAL_ENV"] == env
    assert result.environ["VIRTUAL_ENV_PROMPT"] == "proj"
    assert result.environ[hook.OWNED_VAR] == env
    assert result.path == [bin_of(env)] + BASE.split(":")
    assert result.prompt == "(proj) "
    assert result.hashed
    assert result.key == proj
    assert os.path.exists(result.stamp)


def test_activate_uses_prompt_from_pyvenv_cfg(kind, tmp_path):
    proj = project(str(tmp_path / "proj"), prompt="shown-name")
    result = helper(kind, proj, {}, tmp_path)
    assert result.environ["VIRTUAL_ENV_PROMPT"] == "shown-name"
    assert result.prompt == "(shown-name) "


def test_subdirectory_keeps_env_without_edits(kind, tmp_path):
    proj = project(str(tmp_path / "proj"))
    env = os.path.join(proj, ".venv")
    sub = os.path.join(proj, "src", "pkg")
    os.makedirs(sub)
    result = helper(kind, sub, active_in(env), tmp_path)
    assert result.environ["VIRTUAL_ENV"] == env
    assert result.path == [bin_of(env)] + BASE.split(":")
    assert "PATH" not in result.out and "export" not in result.out
    assert not result.hashed
    assert result.prompt == "(proj) "


def test_deactivate(kind, tmp_path):
    proj = project(str(tmp_path / "proj"))
    env = os.path.join(proj, ".venv")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    result = helper(kind, outside, active_in(env), tmp_path)
    for name in ("VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT", hook.OWNED_VAR):
        assert name not in result.environ
    assert result.environ["PATH"] == BASE
    assert result.prompt == ""
    assert result.hashed


def test_nothing_to_do_outside_projects(kind, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    result = helper(kind, outside, {}, tmp_path)
    assert result.environ["PATH"] == BASE
    assert "VIRTUAL_ENV" not in result.environ
    assert "export" not in result.out and "unset" not in result.out
    assert result.prompt == ""
    assert not result.hashed


def test_switch_a_to_b(kind, tmp_path):
    a = project(str(tmp_path / "a"))
    b = project(str(tmp_path / "b"))
    env_a, env_b = os.path.join(a, ".venv"), os.path.join(b, ".venv")
    result = helper(kind, b, active_in(env_a), tmp_path)
    assert result.environ["VIRTUAL_ENV"] == env_b
    assert result.environ[hook.OWNED_VAR] == env_b
    assert result.environ["VIRTUAL_ENV_PROMPT"] == "b"
    assert result.path == [bin_of(env_b)] + BASE.split(":")
    assert result.prompt == "(b) "


def test_nested_innermost_wins(kind, tmp_path):
    outer = project(str(tmp_path / "outer"))
    inner = project(os.path.join(outer, "libs", "inner"))
    env_outer, env_inner = os.path.join(outer, ".venv"), os.path.join(inner, ".venv")
    result = helper(kind, inner, active_in(env_outer), tmp_path)
    assert result.environ["VIRTUAL_ENV"] == env_inner
    assert result.path == [bin_of(env_inner)] + BASE.split(":")
    back = helper(kind, outer, result.environ, tmp_path)
    assert back.environ["VIRTUAL_ENV"] == env_outer
    assert back.path == [bin_of(env_outer)] + BASE.split(":")


def test_nested_without_env_uses_enclosing(kind, tmp_path):
    outer = project(str(tmp_path / "outer"))
    inner = project(os.path.join(outer, "examples", "demo"), env=False)
    env_outer = os.path.join(outer, ".venv")
    result = helper(kind, inner, active_in(env_outer), tmp_path)
    assert result.environ["VIRTUAL_ENV"] == env_outer
    assert result.path == [bin_of(env_outer)] + BASE.split(":")
    assert "export PATH" not in result.out


@pytest.mark.parametrize("owned", [None, "previous"])
def test_manual_activation_untouched(kind, tmp_path, owned):
    proj = project(str(tmp_path / "proj"))
    other = fake_env(str(tmp_path / "other"))
    environ = {"VIRTUAL_ENV": other, "PATH": bin_of(other) + ":" + BASE, "VIRTUAL_ENV_PROMPT": "other"}
    if owned:
        environ[hook.OWNED_VAR] = os.path.join(proj, ".venv")
    for pwd in (proj, str(tmp_path)):
        result = helper(kind, pwd, environ, tmp_path)
        assert result.environ["VIRTUAL_ENV"] == other
        assert result.environ["VIRTUAL_ENV_PROMPT"] == "other"
        assert result.environ["PATH"] == bin_of(other) + ":" + BASE
        assert "export" not in result.out and "unset" not in result.out
        assert result.prompt == ""


def test_after_manual_deactivate_autoenv_takes_over(kind, tmp_path):
    # `deactivate` restored the PATH activate saved, which still holds autoenv's entry.
    proj = project(str(tmp_path / "proj"))
    env = os.path.join(proj, ".venv")
    environ = {hook.OWNED_VAR: env, "PATH": bin_of(env) + ":" + BASE}
    result = helper(kind, proj, environ, tmp_path)
    assert result.environ["VIRTUAL_ENV"] == env
    assert result.path == [bin_of(env)] + BASE.split(":")
    assert result.prompt == "(proj) "


def test_pythonhome_saved_and_restored(kind, tmp_path):
    proj = project(str(tmp_path / "proj"))
    outside = tmp_path / "out"
    outside.mkdir()
    inside = helper(kind, proj, {"PYTHONHOME": "/opt/odd home"}, tmp_path)
    assert "PYTHONHOME" not in inside.environ
    assert inside.environ[hook.SAVED_PYTHONHOME_VAR] == "/opt/odd home"
    left = helper(kind, outside, inside.environ, tmp_path)
    assert left.environ["PYTHONHOME"] == "/opt/odd home"
    assert hook.SAVED_PYTHONHOME_VAR not in left.environ


def test_pythonhome_stays_unset_across_a_switch(kind, tmp_path):
    a = project(str(tmp_path / "a"))
    b = project(str(tmp_path / "b"))
    outside = tmp_path / "out"
    outside.mkdir()
    in_a = helper(kind, a, {"PYTHONHOME": "/opt/ph"}, tmp_path)
    in_b = helper(kind, b, in_a.environ, tmp_path)
    assert in_b.environ["VIRTUAL_ENV"] == os.path.join(b, ".venv")
    assert "PYTHONHOME" not in in_b.environ
    assert in_b.environ[hook.SAVED_PYTHONHOME_VAR] == "/opt/ph"
    left = helper(kind, outside, in_b.environ, tmp_path)
    assert left.environ["PYTHONHOME"] == "/opt/ph"
    assert hook.SAVED_PYTHONHOME_VAR not in left.environ


def test_empty_pythonhome_is_given_back_empty(kind, tmp_path):
    proj = project(str(tmp_path / "proj"))
    outside = tmp_path / "out"
    outside.mkdir()
    inside = helper(kind, proj, {"PYTHONHOME": ""}, tmp_path)
    assert "PYTHONHOME" not in inside.environ
    left = helper(kind, outside, inside.environ, tmp_path)
    assert left.environ["PYTHONHOME"] == ""


def test_path_separator_in_env_path_is_refused(kind, tmp_path):
    proj = project(str(tmp_path / "with:colon"))
    result = helper(kind, proj, {}, tmp_path)
    assert "VIRTUAL_ENV" not in result.environ
    assert result.environ["PATH"] == BASE
    assert "PATH separator" in result.err and "with:colon" in result.err
    assert result.err.count("\n") == 1


def test_user_path_edits_kept_in_place(kind, tmp_path):
    proj = project(str(tmp_path / "proj"))
    env = os.path.join(proj, ".venv")
    outside = tmp_path / "out"
    outside.mkdir()
    inside = helper(kind, proj, {}, tmp_path)
    # While inside, the user prepends, inserts and appends entries of their own.
    edited = ["/front", bin_of(env), "/usr/local/bin", "/middle", "/usr/bin", "/bin", "/back"]
    environ = dict(inside.environ, PATH=":".join(edited))
    left = helper(kind, outside, environ, tmp_path)
    assert left.path == ["/front", "/usr/local/bin", "/middle", "/usr/bin", "/bin", "/back"]


def test_only_the_added_entry_is_removed(kind, tmp_path):
    # The env's bin was on PATH before autoenv added it: that one stays.
    proj = project(str(tmp_path / "proj"))
    env = os.path.join(proj, ".venv")
    outside = tmp_path / "out"
    outside.mkdir()
    before = BASE + ":" + bin_of(env)
    inside = helper(kind, proj, {"PATH": before}, tmp_path)
    assert inside.path[0] == bin_of(env)
    left = helper(kind, outside, inside.environ, tmp_path)
    assert left.environ["PATH"] == before


def test_in_and_out_many_times_no_duplicates_no_empty_entries(kind, tmp_path):
    a = project(str(tmp_path / "a"))
    b = project(str(tmp_path / "b"))
    outside = tmp_path / "out"
    outside.mkdir()
    environ = {}
    for pwd in (a, outside, b, a, os.path.join(a, ".venv"), b, outside, a, str(outside)):
        result = helper(kind, pwd, environ, tmp_path)
        environ = result.environ
        assert "" not in result.path
        assert len(result.path) == len(set(result.path))
    assert environ["PATH"] == BASE


def test_empty_path_gets_no_empty_entry(kind, tmp_path):
    proj = project(str(tmp_path / "proj"))
    env = os.path.join(proj, ".venv")
    outside = tmp_path / "out"
    outside.mkdir()
    code, out, err, environ = run_helper(kind, proj, {"PATH": ""}, tmp_path)
    assert out.count("export PATH=") == 1
    assert "export PATH=%s;" % render.get(kind).quote(bin_of(env)) in out


def test_hostile_directory_name(kind, tmp_path):
    proj = project(str(tmp_path / HOSTILE))
    env = os.path.join(proj, ".venv")
    result = helper(kind, proj, {}, tmp_path)
    assert result.environ["VIRTUAL_ENV"] == env
    assert result.environ["VIRTUAL_ENV_PROMPT"] == HOSTILE
    assert result.path[0] == bin_of(env) and result.environ["PATH"].endswith(":" + BASE)
    # Control bytes are spelled out in the prompt, so a name cannot drive the terminal.
    assert result.prompt == "(%s) " % HOSTILE.replace("\n", "\\n").replace("\t", "\\t")
    assert result.key == proj
    left = helper(kind, tmp_path, result.environ, tmp_path)
    assert left.environ["PATH"] == BASE
    for directory, _, files in os.walk(str(tmp_path)):
        assert not any(name.startswith("pwned") for name in files), directory


def test_invalid_utf8_directory_name(kind, tmp_path):
    name = os.fsdecode(b"bad-\xe8\xff-name")
    proj = project(str(tmp_path / name))
    result = helper(kind, proj, {}, tmp_path)
    assert result.environ["VIRTUAL_ENV"] == os.path.join(proj, ".venv")


def test_disabled_directory_deactivates(kind, tmp_path):
    proj = project(str(tmp_path / "proj"))
    env = os.path.join(proj, ".venv")
    with open(os.path.join(proj, detect.DISABLE_MARKER), "w"):
        pass
    result = helper(kind, proj, active_in(env), tmp_path)
    assert "VIRTUAL_ENV" not in result.environ
    assert result.environ["PATH"] == BASE
    assert result.prompt == ""


def test_output_is_ascii_lines_of_known_commands(kind, tmp_path):
    proj = project(str(tmp_path / HOSTILE))
    code, out, err, environ = run_helper(kind, proj, {"PYTHONHOME": "/x"}, tmp_path)
    assert "export VIRTUAL_ENV=" in out and "unset PYTHONHOME" in out, out  # there are lines to check
    for line in out.splitlines():
        assert all(32 <= ord(c) < 127 for c in line), line
        assert line.split(" ", 1)[0].split("=", 1)[0] in {
            "export", "unset", "hash", "__autoenv_prompt_set", "__autoenv_key",
            "__autoenv_below", "__autoenv_above",
            "__autoenv_extra", "__autoenv_stamp"}, line


def test_bad_arguments(tmp_path):
    err = io.StringIO()
    assert hook.run(["bash"], environ={}, out=io.StringIO(), err=err) == 2
    assert "usage" in err.getvalue()


def test_leaving_after_user_unset_virtual_env(kind, tmp_path):
    proj = project(str(tmp_path / "proj"))
    env = os.path.join(proj, ".venv")
    environ = active_in(env)
    del environ["VIRTUAL_ENV"]
    result = helper(kind, tmp_path, environ, tmp_path)
    assert "VIRTUAL_ENV_PROMPT" not in result.environ and hook.OWNED_VAR not in result.environ
    assert result.environ["PATH"] == BASE


def test_own_entry_leaves_from_behind_a_hand_activated_env(kind, tmp_path):
    proj = project(str(tmp_path / "proj"))
    env = os.path.join(proj, ".venv")
    other = fake_env(str(tmp_path / "other"))
    outside = tmp_path / "out"
    outside.mkdir()
    # autoenv had proj active; then `source other/bin/activate`; then a cd out of proj.
    environ = {"VIRTUAL_ENV": other, hook.OWNED_VAR: env, "VIRTUAL_ENV_PROMPT": "other",
               "PATH": ":".join([bin_of(other), bin_of(env)] + BASE.split(":"))}
    result = helper(kind, outside, environ, tmp_path)
    assert result.environ["VIRTUAL_ENV"] == other
    assert result.path == [bin_of(other)] + BASE.split(":")
    assert result.environ[hook.OWNED_VAR] == env
    assert result.prompt == ""
    # Back inside proj, still by hand: nothing changes.
    inside = helper(kind, proj, result.environ, tmp_path)
    assert inside.path == result.path and inside.environ["VIRTUAL_ENV"] == other
    # `deactivate` outside restores the PATH it saved, autoenv's entry included: removed.
    after = dict(result.environ, PATH=bin_of(env) + ":" + BASE)
    del after["VIRTUAL_ENV"], after["VIRTUAL_ENV_PROMPT"]
    left = helper(kind, outside, after, tmp_path)
    assert left.environ["PATH"] == BASE
    assert hook.OWNED_VAR not in left.environ
