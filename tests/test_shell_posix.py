"""Every behaviour of issue 2 in real interactive bash and zsh, driven through a pty.

Each `cd` is typed as its own line, as a person would; the state is then read
back from inside the shell (VIRTUAL_ENV, PATH entry by entry, `command -v
python`, that python's sys.prefix) and the prompt is read from the terminal.
"""

import os
import sys

import pytest

from autoenv import detect
from realshell import AUTOENV, BASE_PATH, make_venv, quote_for

BASE = BASE_PATH.split(":")


@pytest.fixture(params=["bash", "zsh"])
def kind(request):
    return request.param


def typed(path):
    """``path`` as a $'...' literal for typing, every byte but letters and digits in octal.

    Written here rather than taken from autoenv, so the tests do not trust the
    quoting they test; pure ASCII, so the line editor sees nothing special.
    """
    data = os.fsencode(path)
    return "$'" + "".join(chr(b) if chr(b).isalnum() and b < 128 else "\\%03o" % b for b in data) + "'"


def project(parent, name, env=True, prompt=None, marker="pyproject.toml"):
    root = os.path.join(parent, name)
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, marker), "w"):
        pass
    if env:
        make_venv(os.path.join(root, ".venv"))
        if prompt is not None:
            with open(os.path.join(root, ".venv", "pyvenv.cfg"), "a", encoding="utf-8") as cfg:
                cfg.write("prompt = %s\n" % prompt)
    return root


def venv_of(root):
    return os.path.join(root, ".venv")


def bin_of(root):
    return os.path.join(root, ".venv", "bin")


def prompt_line(output):
    """The prompt the shell drew after the command: the text before the unique token."""
    return output.rsplit("\n", 1)[-1]


def assert_active(state, root, rest=BASE, ps1_exported_by_deactivate=False):
    env = venv_of(root)
    assert state["VIRTUAL_ENV"] == env
    assert state["_AUTOENV_ENV"] == env
    assert state["PATH"].split(":") == [bin_of(root)] + list(rest)
    assert state["python"] == os.path.join(env, "bin", "python")
    assert state["prefix"] == env
    if not ps1_exported_by_deactivate:
        assert state["PS1"] is None  # never exported


def assert_inactive(state, path=BASE, ps1_exported_by_deactivate=False):
    assert state["VIRTUAL_ENV"] is None
    assert state["VIRTUAL_ENV_PROMPT"] is None
    assert state["_AUTOENV_ENV"] is None
    assert state["PATH"].split(":") == list(path)
    if not ps1_exported_by_deactivate:
        assert state["PS1"] is None


def no_pwned(home):
    hits = [os.path.join(d, f) for d, _, files in os.walk(home) for f in files if "pwned" in f]
    assert hits == []


# ---------------------------------------------------------------- activation


def test_cd_activates_subdirectory_keeps_leave_restores(kind, spawn, home):
    proj = project(home, "proj")
    os.makedirs(os.path.join(proj, "src", "pkg"))
    sh = spawn(kind)
    before = sh.state()
    assert_inactive(before)

    out = sh.cd(proj)
    assert prompt_line(out) == "(proj) "
    state = sh.state()
    assert_active(state, proj)
    assert state["VIRTUAL_ENV_PROMPT"] == "proj"
    assert state["PATH"].split(":")[1:] == before["PATH"].split(":")
    status = sh.run("%s status" % quote_for(kind, AUTOENV))
    assert "project:    %s\n" % proj in status and "active:     yes, by autoenv\n" in status

    out = sh.cd("src/pkg")
    assert prompt_line(out) == "(proj) "
    assert_active(sh.state(), proj)

    out = sh.cd(home)
    assert prompt_line(out) == ""
    after = sh.state()
    assert_inactive(after)
    assert after["PATH"].split(":") == before["PATH"].split(":")


def test_command_hash_is_reset(kind, spawn, home):
    proj = project(home, "proj")
    sh = spawn(kind)
    # Run python3 once outside so the shell remembers where it found it.
    sh.run("python3 -c pass; hash | cat >/dev/null")
    sh.cd(proj)
    assert sh.run("python3 -c 'import sys; print(sys.prefix)'").splitlines()[0] == venv_of(proj)
    sh.cd(home)
    assert sh.run("python3 -c 'import sys; print(sys.prefix)'").splitlines()[0] != venv_of(proj)


def test_prompt_name_from_pyvenv_cfg(kind, spawn, home):
    proj = project(home, "proj", prompt="shown name")
    sh = spawn(kind)
    assert prompt_line(sh.cd(proj)) == "(shown name) "
    assert sh.state()["VIRTUAL_ENV_PROMPT"] == "shown name"


def test_user_path_edits_while_inside_are_kept_in_place(kind, spawn, home):
    proj = project(home, "proj")
    sh = spawn(kind)
    sh.cd(proj)
    inside = sh.state()["PATH"].split(":")
    edited = ["/front"] + inside[:2] + ["/middle"] + inside[2:] + ["/back"]
    sh.run("export PATH=%s" % quote_for(kind, ":".join(edited)))
    assert sh.state()["PATH"].split(":") == edited
    sh.cd(home)
    state = sh.state()
    assert_inactive(state, path=[e for e in edited if e != bin_of(proj)])
    assert state["PATH"].split(":") == ["/front", BASE[0], "/middle"] + BASE[1:] + ["/back"]


def test_switch_from_a_straight_to_b(kind, spawn, home):
    a = project(home, "a")
    b = project(home, "b", marker="requirements.txt")
    sh = spawn(kind)
    sh.cd(a)
    assert_active(sh.state(), a)
    out = sh.cd(b)
    assert prompt_line(out) == "(b) "
    state = sh.state()
    assert_active(state, b)
    assert bin_of(a) not in state["PATH"].split(":")
    sh.cd(home)
    assert_inactive(sh.state())


def test_nested_projects(kind, spawn, home):
    outer = project(home, "outer")
    inner = project(outer, "inner", marker="setup.py")
    bare = project(outer, "bare", env=False, marker="setup.cfg")  # no env: uses outer's
    sh = spawn(kind)
    sh.cd(outer)
    assert_active(sh.state(), outer)
    out = sh.cd(inner)
    assert prompt_line(out) == "(inner) "
    assert_active(sh.state(), inner)
    out = sh.cd(bare)
    assert prompt_line(out) == "(outer) "
    assert_active(sh.state(), outer)
    sh.cd(inner)
    sh.cd(home)
    assert_inactive(sh.state())


def test_many_switches_leave_path_exactly_as_before(kind, spawn, home):
    a = project(home, "a")
    b = project(home, "b")
    sh = spawn(kind)
    for path in (a, b, home, a, os.path.join(a, ".venv"), b, "/", a, home):
        sh.cd(path)
        entries = sh.state()["PATH"].split(":")
        assert "" not in entries
        assert len(entries) == len(set(entries)), entries
    assert_inactive(sh.state())


# ---------------------------------------------------------------- ways to change directory


def test_pushd_popd_and_cd_dash(kind, spawn, home):
    proj = project(home, "proj")
    sh = spawn(kind)
    sh.run("pushd %s >/dev/null" % quote_for(kind, proj))
    assert_active(sh.state(), proj)
    sh.run("popd >/dev/null")
    assert_inactive(sh.state())
    sh.cd(proj)
    sh.cd("/")
    assert_inactive(sh.state())
    sh.run("cd - >/dev/null")
    assert_active(sh.state(), proj)


def test_builtin_cd_is_picked_up_by_the_next_prompt(kind, spawn, home):
    proj = project(home, "proj")
    other = project(home, "other")
    sh = spawn(kind)
    out = sh.run("builtin cd %s" % quote_for(kind, proj))
    assert prompt_line(out) == "(proj) "
    assert_active(sh.state(), proj)
    sh.run("builtin cd %s" % quote_for(kind, home))
    assert_inactive(sh.state())
    # Back where the prompt's common case held before: what it remembered of
    # a directory left goes with the next answer.
    for target in (proj, other, proj):
        sh.run("builtin cd %s" % quote_for(kind, target))
        assert_active(sh.state(), target)
    sh.run("builtin cd %s" % quote_for(kind, home))
    assert_inactive(sh.state())


def test_builtin_cd_back_and_forth_inside_a_project_checks_where_it_is(kind, spawn, home):
    """No answer runs between two directories of one project, so only the
    prompt's own bookkeeping tells them apart: back in the first, a marker
    made there counts at the next prompt."""
    proj = project(home, "proj")
    first, second = os.path.join(proj, "first"), os.path.join(proj, "second")
    os.mkdir(first)
    os.mkdir(second)
    sh = spawn(kind)
    for target in (first, second, first):
        sh.run("builtin cd %s" % quote_for(kind, target))
        assert_active(sh.state(), proj)
    open(os.path.join(first, ".autoenv-disable"), "w").close()
    sh.run("true")
    assert_inactive(sh.state())


def test_builtin_cd_in_zsh_switches_at_once(spawn, home):
    proj = project(home, "proj")
    sh = spawn("zsh")
    out = sh.run("builtin cd %s; print -r -- \"[$VIRTUAL_ENV]\"" % quote_for("zsh", proj))
    assert "[%s]" % venv_of(proj) in out


def test_cd_and_command_on_one_line(kind, spawn, home):
    proj = project(home, "proj")
    sh = spawn(kind)
    out = sh.run("cd %s && python -c 'import sys;print(sys.prefix)'" % quote_for(kind, proj))
    assert out.splitlines()[0] == venv_of(proj)
    out = sh.run("cd %s && command -v python || echo none" % quote_for(kind, home))
    assert out.splitlines()[0] == "none"


def test_first_prompt_of_a_shell_started_inside_a_project(kind, spawn, home):
    proj = project(home, "proj")
    sub = os.path.join(proj, "src")
    os.makedirs(sub)
    sh = spawn(kind, cwd=sub)
    state = sh.state()
    assert state["cwd"] == sub
    assert_active(state, proj)
    sh.cd(home)
    assert_inactive(sh.state())


def test_bash_user_cd_function_defined_before_init_still_works(spawn, home):
    proj = project(home, "proj")
    sh = spawn("bash", init=False)
    sh.run('cd() { builtin cd "$@" && echo "user-cd-ran"; }')
    sh.run(sh.init_line())
    out = sh.run('cd %s && echo "[$VIRTUAL_ENV]"' % quote_for("bash", proj))
    assert out.splitlines()[:2] == ["user-cd-ran", "[%s]" % venv_of(proj)]
    assert_active(sh.state(), proj)


def test_init_twice_hooks_once_and_prefixes_once(kind, spawn, home):
    proj = project(home, "proj")
    sh = spawn(kind)
    sh.cd(proj)
    out = sh.run(sh.init_line())
    assert prompt_line(out) == "(proj) "
    if kind == "bash":
        assert sh.run('printf "%s\\n" "$PROMPT_COMMAND"').splitlines()[0] == "__autoenv_hook"
    else:
        assert sh.run('print -r -- "${chpwd_functions[*]}|${precmd_functions[*]}"').splitlines()[0] == \
            "__autoenv_hook|__autoenv_precmd"
    assert prompt_line(sh.cd(home)) == ""
    assert prompt_line(sh.cd(proj)) == "(proj) "
    assert_active(sh.state(), proj)


# ---------------------------------------------------------------- manual activation


def test_manual_activation_left_alone_until_deactivate(kind, spawn, home):
    proj = project(home, "proj")
    other = make_venv(os.path.join(home, "envs", "other"))
    sh = spawn(kind)
    sh.cd(proj)
    out = sh.run(". %s" % quote_for(kind, os.path.join(other, "bin", "activate")))
    assert prompt_line(out) == "(other) "
    state = sh.state()
    assert state["VIRTUAL_ENV"] == other
    assert state["PATH"].split(":")[0] == os.path.join(other, "bin")
    assert state["prefix"] == other
    status = sh.run("%s status" % quote_for(kind, AUTOENV))
    assert "active:     %s, activated by hand" % other in status
    # Moving around leaves the hand-activated env alone.
    for path in (home, proj, os.path.join(proj, ".venv")):
        out = sh.cd(path)
        assert prompt_line(out) == "(other) "
        state = sh.state()
        assert state["VIRTUAL_ENV"] == other and state["prefix"] == other
        assert state["PATH"].split(":")[0] == os.path.join(other, "bin")
        if path == home:
            # Only autoenv's own entry, left behind theirs, went with the project.
            assert state["PATH"].split(":") == [os.path.join(other, "bin")] + BASE
    sh.cd(proj)
    out = sh.run("deactivate")
    assert prompt_line(out) == "(proj) "
    # venv's `deactivate` runs `export PS1` (CPython's activate script does); not autoenv's doing.
    assert_active(sh.state(), proj, ps1_exported_by_deactivate=True)
    assert prompt_line(sh.cd(home)) == ""
    assert_inactive(sh.state(), ps1_exported_by_deactivate=True)


def test_manual_activation_deactivated_outside_leaves_path_as_before(kind, spawn, home):
    proj = project(home, "proj")
    other = make_venv(os.path.join(home, "envs", "other"))
    sh = spawn(kind)
    sh.cd(proj)
    sh.run(". %s" % quote_for(kind, os.path.join(other, "bin", "activate")))
    sh.cd(home)
    assert prompt_line(sh.run("deactivate")) == ""
    assert_inactive(sh.state(), ps1_exported_by_deactivate=True)


def test_manual_activation_outside_then_into_project(kind, spawn, home):
    proj = project(home, "proj")
    other = make_venv(os.path.join(home, "envs", "other"))
    sh = spawn(kind)
    sh.run(". %s" % quote_for(kind, os.path.join(other, "bin", "activate")))
    out = sh.cd(proj)
    assert prompt_line(out) == "(other) "
    assert sh.state()["VIRTUAL_ENV"] == other
    assert prompt_line(sh.run("deactivate")) == "(proj) "
    assert_active(sh.state(), proj, ps1_exported_by_deactivate=True)
    assert prompt_line(sh.cd(home)) == ""
    assert_inactive(sh.state(), ps1_exported_by_deactivate=True)


# ---------------------------------------------------------------- turning it off


def test_disable_marker_above_keeps_env_off(kind, spawn, home):
    work = os.path.join(home, "work")
    proj = project(work, "proj")
    open(os.path.join(work, detect.DISABLE_MARKER), "w").close()
    sh = spawn(kind)
    assert prompt_line(sh.cd(proj)) == ""
    assert_inactive(sh.state())
    status = sh.run("%s status" % quote_for(kind, AUTOENV))
    assert "env:        not activated: disabled by %s\n" % os.path.join(work, detect.DISABLE_MARKER) in status


def test_autoenv_disable_and_enable_show_at_the_next_prompt(kind, spawn, home):
    proj = project(home, "proj")
    sub = os.path.join(proj, "src")
    os.makedirs(sub)
    sh = spawn(kind)
    sh.cd(sub)
    assert_active(sh.state(), proj)
    out = sh.run("%s disable" % quote_for(kind, AUTOENV))
    assert os.path.exists(os.path.join(sub, detect.DISABLE_MARKER))
    assert prompt_line(out) == ""
    assert_inactive(sh.state())
    out = sh.run("%s enable" % quote_for(kind, AUTOENV))
    assert prompt_line(out) == "(proj) "
    assert_active(sh.state(), proj)
    # A marker for the project root, written from a subdirectory.
    out = sh.run("%s disable %s" % (quote_for(kind, AUTOENV), quote_for(kind, proj)))
    assert prompt_line(out) == ""
    assert_inactive(sh.state())
    out = sh.run("%s enable %s" % (quote_for(kind, AUTOENV), quote_for(kind, proj)))
    assert prompt_line(out) == "(proj) "
    assert_active(sh.state(), proj)


def test_marker_file_made_by_hand_shows_at_the_next_prompt(kind, spawn, home):
    proj = project(home, "proj")
    sh = spawn(kind)
    sh.cd(proj)
    out = sh.run(": > .autoenv-disable")
    assert prompt_line(out) == ""
    assert_inactive(sh.state())
    out = sh.run("rm .autoenv-disable")
    assert prompt_line(out) == "(proj) "
    assert_active(sh.state(), proj)


# ---------------------------------------------------------------- prompt, PYTHONHOME, $?


def test_virtual_env_disable_prompt_honoured(kind, spawn, home):
    proj = project(home, "proj")
    sh = spawn(kind, env={"VIRTUAL_ENV_DISABLE_PROMPT": "1"})
    assert prompt_line(sh.cd(proj)) == ""
    assert_active(sh.state(), proj)
    # Unset later: the prefix shows at the next prompt.
    assert prompt_line(sh.run("unset VIRTUAL_ENV_DISABLE_PROMPT")) == "(proj) "
    assert prompt_line(sh.run("VIRTUAL_ENV_DISABLE_PROMPT=1")) == ""


@pytest.mark.parametrize("option", ["default", "other"])
def test_prompt_expansion_modes(kind, spawn, home, option):
    """bash with promptvars off, zsh with prompt_subst on: the prefix still shows as text."""
    proj = project(home, "$(touch pwned) %d `x` \\w !")
    sh = spawn(kind)
    if option == "other":
        sh.run("shopt -u promptvars" if kind == "bash" else "setopt prompt_subst")
    assert prompt_line(sh.cd(proj)) == "(%s) " % os.path.basename(proj)
    # Toggled while inside: rebuilt at the next prompt, still literal.
    toggle = {("bash", "default"): "shopt -u promptvars", ("bash", "other"): "shopt -s promptvars",
              ("zsh", "default"): "setopt prompt_subst", ("zsh", "other"): "unsetopt prompt_subst"}
    assert prompt_line(sh.run(toggle[kind, option])) == "(%s) " % os.path.basename(proj)
    assert prompt_line(sh.run("true")) == "(%s) " % os.path.basename(proj)
    assert prompt_line(sh.cd(home)) == ""
    no_pwned(home)


def test_pythonhome_unset_inside_and_given_back(kind, spawn, home):
    proj = project(home, "proj")
    # A PYTHONHOME the state dumper's own python can start with.
    python_home = sys.base_prefix
    sh = spawn(kind, env={"PYTHONHOME": python_home})
    assert sh.state()["PYTHONHOME"] == python_home
    sh.cd(proj)
    state = sh.state()
    assert state["PYTHONHOME"] is None
    assert state["prefix"] == venv_of(proj)  # with PYTHONHOME set, sys.prefix would be that instead
    sh.cd(home)
    assert sh.state()["PYTHONHOME"] == python_home


def test_exit_status_kept_for_the_users_prompt(kind, spawn, home):
    proj = project(home, "proj")
    sh = spawn(kind)
    if kind == "bash":
        sh.run('PS1="[\\$?]$PS1"')
    else:
        sh.run('PS1="[%?]$PS1"')
    assert prompt_line(sh.run("false")).endswith("[1]")
    assert prompt_line(sh.run("true")).endswith("[0]")
    # A prompt at which the helper runs: cd into a project, and a watched file appearing.
    assert prompt_line(sh.run("cd %s; (exit 3)" % quote_for(kind, proj))) == "(proj) [3]"
    assert prompt_line(sh.run(": > .python-version; (exit 4)")) == "(proj) [4]"
    assert prompt_line(sh.run("builtin cd %s; (exit 5)" % quote_for(kind, home))) == "[5]"


@pytest.mark.parametrize("kind, form", [("bash", "string"), ("bash", "array"), ("zsh", "precmd")])
def test_exit_status_seen_by_the_users_own_hook(kind, spawn, home, form):
    proj = project(home, "proj")
    sh = spawn(kind, init=False)
    if kind == "bash" and form == "string":
        sh.run("PROMPT_COMMAND='__seen=$?'")
    elif kind == "bash":
        sh.run("PROMPT_COMMAND=('__seen=$?' 'true')")
    else:
        sh.run("__mine() { __seen=$?; }; precmd_functions=(__mine)")
    sh.run(sh.init_line())
    sh.run("builtin cd %s; (exit 7)" % quote_for(kind, proj))
    assert sh.run('echo "seen=$__seen"').splitlines()[0] == "seen=7"
    assert_active(sh.state(), proj)


# ---------------------------------------------------------------- directory names are data

HOSTILE_NAMES = [
    "it's \"quoted\"",
    "$(touch pwned)",
    "`touch pwned`",
    "a;touch pwned;b",
    "a && touch pwned",
    "a & touch pwned",
    "*?[a-z]{1,2}",
    "  spaces  around ",
    "èрт🚒 日本",
    "line\nbreak $(touch pwned)",
    "'\";&&e-$ èрт🚒",
    "-leading-dash",
    "back\\slash\\",
    "tab\there",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_directory_names(kind, spawn, home, name):
    proj = project(home, name)
    sh = spawn(kind)
    out = sh.run("cd %s" % typed(proj))
    # Control bytes are shown spelled out, so a name cannot drive the terminal.
    assert prompt_line(out) == "(%s) " % name.replace("\n", "\\n").replace("\t", "\\t")
    state = sh.state()
    assert state["cwd"] == proj
    assert_active(state, proj)
    assert state["VIRTUAL_ENV_PROMPT"] == name
    sh.cd(home)
    assert_inactive(sh.state())
    no_pwned(home)


def test_hostile_prompt_in_pyvenv_cfg(kind, spawn, home):
    proj = project(home, "proj", prompt="$(touch pwned) `touch pwned` %~ \\w")
    sh = spawn(kind)
    assert prompt_line(sh.cd(proj)) == "($(touch pwned) `touch pwned` %~ \\w) "
    assert sh.state()["VIRTUAL_ENV_PROMPT"] == "$(touch pwned) `touch pwned` %~ \\w"
    no_pwned(home)


def test_invalid_utf8_directory_name(kind, spawn, home):
    # venv refuses to create such a path; an env made elsewhere and moved in works.
    made = project(home, "made")
    proj = os.path.join(home, os.fsdecode(b"bad-\xe8\xff-name"))
    os.rename(made, proj)
    sh = spawn(kind)
    sh.run("cd %s" % typed(proj))
    assert_active(sh.state(), proj)


def test_env_path_with_path_separator_is_refused_once(kind, spawn, home):
    # venv refuses to create such a path; an env made elsewhere and moved in.
    made = project(home, "made")
    proj = os.path.join(home, "with:colon")
    os.rename(made, proj)
    sh = spawn(kind)
    out = sh.cd(proj)
    assert out.count("PATH separator") == 1, out
    assert_inactive(sh.state())
    out = sh.run("true")
    assert "autoenv:" not in out


# ---------------------------------------------------------------- the helper gone


@pytest.mark.parametrize("broken", ["python", "helper", "crash"])
def test_helper_missing_or_failing_shell_stays_usable_one_message(kind, spawn, home, broken):
    proj = project(home, "proj")
    other = project(home, "other")
    # The server would answer in place of the helper swapped in here.
    sh = spawn(kind, env={"AUTOENV_SERVE": "0"})
    if broken == "python":
        setting = "__autoenv_python=%s" % quote_for(kind, os.path.join(home, "gone", "python"))
    elif broken == "helper":
        setting = "__autoenv_helper=%s" % quote_for(kind, os.path.join(home, "gone", "_run_hook.py"))
    else:
        crash = os.path.join(home, "crash.py")
        with open(crash, "w") as handle:
            handle.write("import sys\nsys.stderr.write('boom\\n')\nsys.exit(3)\n")
        setting = "__autoenv_helper=%s" % quote_for(kind, crash)
    printed = [sh.run(setting), sh.cd(proj)]
    for line in ("true", "false", "cd src 2>/dev/null; true", "cd ..", "cd %s" % quote_for(kind, other),
                 "cd %s" % quote_for(kind, proj), "cd %s" % quote_for(kind, home), "true"):
        printed.append(sh.run(line))
    text = "".join(printed)
    assert text.count("autoenv:") == 1, "\n".join(repr(t) for t in sh.transcript)
    assert "autoenv doctor" in text
    assert text.count("boom") == (1 if broken == "crash" else 0), text
    assert sh.run("echo usable").splitlines()[0] == "usable"
    assert_inactive(sh.state())
    # Back again: the next cd that matters works, silently.
    if broken == "python":
        sh.run("__autoenv_python=%s" % quote_for(kind, os.path.join(os.path.dirname(AUTOENV), "python")))
    else:
        sh.run("__autoenv_helper=%s" % quote_for(kind, os.path.join(
            os.path.dirname(os.path.dirname(os.path.abspath(detect.__file__))), "autoenv", "_run_hook.py")))
    out = sh.cd(proj)
    assert prompt_line(out) == "(proj) " and "autoenv:" not in out
    assert_active(sh.state(), proj)
