"""Strict shell options and other prompt tools, in real interactive shells.

Each test sets the user's options or loads the neighbour exactly as an rc file
would (before or after autoenv's init line), then checks that autoenv still
switches envs, the neighbour still works, nothing is printed, and the user's
exit status reaches the prompt.
"""

import os

import pytest

from conftest import require_tool
from realshell import BASE_PATH, quote_for

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def said(printed):
    """What a command printed, without the start of the next prompt (e.g. "(proj) ")."""
    return printed.rpartition("\n")[0]


def prompt(printed):
    """The part of the next prompt printed before the test's prompt token."""
    return printed.rpartition("\n")[2]


def assert_active(shell, root):
    state = shell.state()
    env = os.path.join(str(root), ".venv")
    assert state["VIRTUAL_ENV"] == env
    assert state["PATH"].split(os.pathsep)[0] == os.path.join(env, "bin")
    assert state["python"] == os.path.join(env, "bin", "python")
    assert state["prefix"] == env
    return state


def assert_inactive(shell, path=BASE_PATH):
    state = shell.state()
    assert state["VIRTUAL_ENV"] is None
    assert state["PATH"] == path
    return state


def round_trip(shell, root, outside, path=BASE_PATH):
    """cd in, into a subdir, out, back: every step silent and right."""
    assert said(shell.cd(str(root))) == ""
    assert_active(shell, root)
    assert said(shell.cd(str(root / "sub"))) == ""
    assert_active(shell, root)
    assert said(shell.cd(str(outside))) == ""
    assert_inactive(shell, path)
    assert said(shell.cd(str(root))) == ""
    assert_active(shell, root)


def init_after(kind, shell, line):
    """Run the user's line, then autoenv's init line (as an rc file would)."""
    assert said(shell.run(line)) == ""
    assert said(shell.run(shell.init_line())) == ""


# ---------------------------------------------------------------- strict modes

def test_bash_strict_options(spawn, project):
    shell = spawn("bash", init=False)
    init_after("bash", shell, "set -u; set -o pipefail; shopt -s nullglob failglob extglob")
    round_trip(shell, project, project.parent / "outside")
    assert said(shell.run("shopt -p nullglob failglob extglob")).split("\n") == [
        "shopt -s nullglob", "shopt -s failglob", "shopt -s extglob"]
    assert "u" in said(shell.run("echo \"$-\""))
    assert said(shell.run("set -o | grep pipefail")).split() == ["pipefail", "on"]


def test_bash_errexit_does_not_kill_the_shell(spawn, project):
    shell = spawn("bash", init=False)
    init_after("bash", shell, "set -eu -o pipefail")
    round_trip(shell, project, project.parent / "outside")
    assert shell.child.isalive()


def test_zsh_strict_options(spawn, project):
    shell = spawn("zsh", init=False)
    options = "nounset ksh_arrays sh_word_split no_glob warn_create_global"
    init_after("zsh", shell, "setopt %s" % options)
    round_trip(shell, project, project.parent / "outside")
    # The user's options are theirs afterwards.
    assert said(shell.run("[[ -o nounset && -o ksh_arrays && -o sh_word_split && ! -o glob ]] && echo kept")) \
        .strip() == "kept"


def test_fish_user_functions_shadowing_cd_and_source(spawn, project):
    shell = spawn("fish", init=False)
    assert shell.run("function cd; echo user-cd >&2; builtin cd $argv; end") == ""
    assert shell.run("function source; echo user-source >&2; builtin source $argv; end") == ""
    shell.run(shell.init_line())
    printed = shell.cd(str(project))
    assert "user-cd" in printed
    assert_active(shell, project)
    shell.cd(str(project.parent / "outside"))
    assert_inactive(shell)


# ---------------------------------------------------------------- the user's $?

@pytest.mark.parametrize("kind", ["bash", "zsh", "fish"])
def test_exit_status_reaches_the_prompt(spawn, project, kind):
    shell = spawn(kind)
    if kind == "bash":
        shell.run("PS1='<rc=$?>'\"$PS1\"")
    elif kind == "zsh":
        shell.run("PS1='<rc=%?>'\"$PS1\"")
    else:
        shell.run("functions -c fish_prompt __test_prompt; "
                  "function fish_prompt; printf '<rc=%s>' $status; __test_prompt; end")
    for command, status in (("false", 1), ("true", 0), ("sh -c 'exit 7'", 7)):
        assert prompt(shell.run(command)).endswith("<rc=%d>" % status), command
    # Also when the prompt is the one that switches the env.
    shell.run("builtin cd %s" % quote_for(kind, str(project)) if kind != "fish" else
              "builtin cd %s" % quote_for(kind, str(project)))
    assert prompt(shell.run("sh -c 'exit 3'")).endswith("<rc=3>")
    assert prompt(shell.run("cd %s; sh -c 'exit 4'" % quote_for(kind, str(project.parent / "outside")))) \
        .endswith("<rc=4>")
    assert_inactive(shell)


# ---------------------------------------------------------------- bash prompt tools

def test_prompt_command_string_is_kept(spawn, project, home):
    log = os.path.join(home, "pc.log")
    shell = spawn("bash", init=False)
    init_after("bash", shell, "PROMPT_COMMAND='echo pc-string >>%s'" % log)
    round_trip(shell, project, project.parent / "outside")
    shell.run("true")
    with open(log) as handle:
        assert handle.read().count("pc-string") >= 6
    assert said(shell.run("echo \"$PROMPT_COMMAND\"")).strip() == "__autoenv_hook;echo pc-string >>%s" % log


def test_prompt_command_array_is_kept(spawn, project, home):
    log = os.path.join(home, "pc.log")
    shell = spawn("bash", init=False)
    init_after("bash", shell, "PROMPT_COMMAND=('echo one >>%s' 'echo two >>%s')" % (log, log))
    round_trip(shell, project, project.parent / "outside")
    with open(log) as handle:
        lines = handle.read().split()
    assert lines.count("one") >= 5 and lines.count("one") == lines.count("two")
    assert said(shell.run("declare -p PROMPT_COMMAND")).strip().startswith("declare -a PROMPT_COMMAND=([0]=\"__autoenv_hook\"")


@pytest.mark.parametrize("order", ["preexec-first", "autoenv-first"])
def test_alongside_a_bash_preexec_style_tool(spawn, project, home, order):
    log = os.path.join(home, "preexec.log")
    shell = spawn("bash", init=False, env={"MINI_PREEXEC_LOG": log})
    load = "source %s" % quote_for("bash", os.path.join(FIXTURES, "mini_preexec.bash"))
    if order == "preexec-first":
        init_after("bash", shell, load)
    else:
        shell.run(shell.init_line())
        shell.run(load)
    shell.run("PS1='<rc=$?>'\"$PS1\"")
    round_trip(shell, project, project.parent / "outside")
    open(log, "w").close()
    assert prompt(shell.run("sh -c 'exit 5'")).endswith("<rc=5>")
    with open(log) as handle:
        entries = handle.read().splitlines()
    assert entries == ["preexec sh -c 'exit 5'", "precmd rc=5"]
    # Running the rc file again hooks autoenv once, whatever the separator.
    shell.run(shell.init_line())
    assert said(shell.run("echo \"$PROMPT_COMMAND\" | grep -c __autoenv_hook")).strip() == "1"


def test_alongside_direnv(spawn, project, home):
    direnv = require_tool("direnv")
    (project / ".envrc").write_text("export FROM_DIRENV=yes\n")
    shell = spawn("bash", init=False, env={"DIRENV_LOG_FORMAT": ""})
    init_after("bash", shell, 'eval "$(%s hook bash)"' % direnv)
    shell.run("%s allow %s" % (direnv, quote_for("bash", str(project))))
    shell.cd(str(project))
    state = assert_active(shell, project)
    assert said(shell.run("echo \"${FROM_DIRENV-unset}\"")).strip() == "yes"
    shell.cd(str(project.parent / "outside"))
    assert_inactive(shell)
    assert said(shell.run("echo \"${FROM_DIRENV-unset}\"")).strip() == "unset"
    assert state["PATH"].count(".venv") == 1


@pytest.mark.parametrize("with_direnv", [False, True], ids=["omz-hooks", "omz-hooks-and-direnv"])
def test_zsh_alongside_direnv_and_oh_my_zsh_style_hooks(spawn, project, home, with_direnv):
    direnv = require_tool("direnv") if with_direnv else None
    (project / ".envrc").write_text("export FROM_DIRENV=yes\n")
    shell = spawn("zsh", init=False, env={"DIRENV_LOG_FORMAT": ""})
    shell.run("autoload -Uz add-zsh-hook; typeset -ga rcs; "
              "__omz_like() { rcs+=($?) }; add-zsh-hook precmd __omz_like; "
              "__omz_title() { print -n '' }; add-zsh-hook chpwd __omz_title")
    if direnv:
        shell.run('eval "$(%s hook zsh)"' % direnv)
        shell.run("%s allow %s" % (direnv, quote_for("zsh", str(project))))
    shell.run(shell.init_line())
    round_trip(shell, project, project.parent / "outside")
    shell.run("rcs=()")
    shell.run("false")
    shell.run("true")
    assert said(shell.run("print -r -- ${rcs[@]}")).strip() == "0 1 0"  # after rcs=(), false, true
    if direnv:
        shell.cd(str(project))
        assert said(shell.run("echo ${FROM_DIRENV-unset}")).strip() == "yes"


@pytest.mark.parametrize("kind", ["bash", "zsh"])
def test_alongside_pyenv(spawn, project, home, kind):
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    require_tool("pyenv", os.path.join(pyenv_root, "bin", "pyenv"))
    shell = spawn(kind, init=False, env={"PYENV_ROOT": pyenv_root})
    shell.run("export PATH=%s:$PATH" % quote_for(kind, os.path.join(pyenv_root, "bin")))
    init_after(kind, shell, 'eval "$(pyenv init - %s)"' % kind)
    outside_path = shell.state()["PATH"]
    assert os.path.join(pyenv_root, "shims") in outside_path.split(os.pathsep)
    shell.cd(str(project))
    assert_active(shell, project)
    shell.cd(str(project.parent / "outside"))
    state = assert_inactive(shell, outside_path)
    assert state["python"] == os.path.join(pyenv_root, "shims", "python")
