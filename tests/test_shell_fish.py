"""The whole behaviour matrix in a real interactive fish (pexpect, --no-config, temporary HOME).

Each `cd` is typed as its own line, as a person would; the state is read back
from the shell's environment (VIRTUAL_ENV, PATH entry by entry, where
`python` resolves, its sys.prefix).
"""

import os
import re
import stat
import time

import pytest

from realshell import AUTOENV, BASE_PATH, make_venv, quote_for

BASE = BASE_PATH.split(":")
HOSTILE = "'\";&&e-$ èрт🚒 $(touch pwned) `touch pwned2` (touch pwned3) *?[x]\nnext\tline\\ end"


def new_project(path, env=True):
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "pyproject.toml"), "w"):
        pass
    if env:
        make_venv(os.path.join(path, ".venv"))
    return path


@pytest.fixture
def fish(spawn):
    return spawn("fish")


@pytest.fixture
def fish_alone(spawn):
    """fish without a server, for tests that swap the helper or count its runs
    (a server would answer in their place)."""
    return spawn("fish", env={"AUTOENV_SERVE": "0"})


@pytest.fixture
def proj(tmp_path):
    return new_project(str(tmp_path / "proj"))


def env_of(project):
    return os.path.join(project, ".venv")


def assert_active(state, project, name=None):
    env = env_of(project)
    assert state["VIRTUAL_ENV"] == env
    assert state["_AUTOENV_ENV"] == env
    assert state["VIRTUAL_ENV_PROMPT"] == (name or os.path.basename(project))
    assert state["PATH"].split(":")[0] == os.path.join(env, "bin")
    assert state["python"] == os.path.join(env, "bin", "python")
    assert state["prefix"] == env


def assert_inactive(state, path=BASE):
    assert state["VIRTUAL_ENV"] is None
    assert state["VIRTUAL_ENV_PROMPT"] is None
    assert state["_AUTOENV_ENV"] is None
    assert state["PATH"].split(":") == path


def autoenv(*args):
    return " ".join([quote_for("fish", AUTOENV)] + [quote_for("fish", a) for a in args])


def test_activate_subdirectory_leave(fish, proj, tmp_path):
    before = fish.state()["PATH"].split(":")
    assert before == BASE
    printed = fish.cd(proj)
    assert printed.endswith("(proj) "), printed
    assert_active(fish.state(), proj)
    os.makedirs(os.path.join(proj, "src", "pkg"))
    fish.cd(os.path.join(proj, "src", "pkg"))
    state = fish.state()
    assert_active(state, proj)
    assert state["PATH"].split(":") == [os.path.join(env_of(proj), "bin")] + BASE
    printed = fish.cd(str(tmp_path))
    assert "(proj)" not in printed
    assert_inactive(fish.state(), before)


def test_switch_happens_at_the_cd_itself(fish, proj):
    out = fish.run("cd %s; and python -c 'import sys; print(sys.prefix)'" % quote_for("fish", proj))
    assert env_of(proj) in out.splitlines()


def test_user_path_edits_kept_and_fish_user_paths_intact(fish, proj, tmp_path):
    # fish_user_paths is fish's own machinery, set up by its share/config.fish
    # (which --no-config skips); load it as a default install would.
    fish.run("source $__fish_data_dir/config.fish")
    fish.cd(proj)
    fish.run("set -gx PATH /mine/first $PATH")
    fish.run("set -a PATH /mine/last")
    fish.run("set -g fish_user_paths /mine/user")
    inside = fish.state()["PATH"].split(":")
    assert "/mine/user" in inside and os.path.join(env_of(proj), "bin") in inside
    fish.cd(str(tmp_path))
    state = fish.state()
    assert state["VIRTUAL_ENV"] is None
    expected = [entry for entry in inside if entry != os.path.join(env_of(proj), "bin")]
    assert state["PATH"].split(":") == expected
    # fish's own bookkeeping still works: dropping the user path removes it.
    fish.run("set -e fish_user_paths")
    assert "/mine/user" not in fish.state()["PATH"].split(":")


def test_in_and_out_many_times_no_duplicates(fish, proj, tmp_path):
    for _ in range(3):
        fish.cd(proj)
        fish.cd(str(tmp_path))
    fish.cd(proj)
    path = fish.state()["PATH"].split(":")
    assert path == [os.path.join(env_of(proj), "bin")] + BASE
    fish.cd(str(tmp_path))
    assert fish.state()["PATH"].split(":") == BASE


def test_switch_a_to_b(fish, tmp_path):
    a = new_project(str(tmp_path / "a"))
    b = new_project(str(tmp_path / "b"))
    fish.cd(a)
    assert_active(fish.state(), a)
    printed = fish.cd(b)
    assert printed.endswith("(b) ") and "(a)" not in printed
    state = fish.state()
    assert_active(state, b)
    assert state["PATH"].split(":") == [os.path.join(env_of(b), "bin")] + BASE


def test_nested_innermost_wins(fish, tmp_path):
    outer = new_project(str(tmp_path / "outer"))
    inner = new_project(os.path.join(outer, "inner"))
    fish.cd(inner)
    assert_active(fish.state(), inner)
    fish.cd(outer)
    state = fish.state()
    assert_active(state, outer)
    assert state["PATH"].split(":") == [os.path.join(env_of(outer), "bin")] + BASE


def test_marker_and_disable_enable_at_the_next_prompt(fish, proj, tmp_path):
    off = new_project(str(tmp_path / "off"))
    open(os.path.join(off, ".autoenv-disable"), "w").close()
    fish.cd(off)
    assert_inactive(fish.state())

    fish.cd(proj)
    assert_active(fish.state(), proj)
    fish.run(autoenv("disable"))
    state = fish.state()
    assert_inactive(state)
    assert os.path.exists(os.path.join(proj, ".autoenv-disable"))
    fish.run(autoenv("enable"))
    assert_active(fish.state(), proj)


def test_manual_activation_left_alone(fish, proj, tmp_path):
    mine = make_venv(str(tmp_path / "mine"))
    fish.cd(proj)
    fish.run("source %s" % quote_for("fish", os.path.join(mine, "bin", "activate.fish")))
    state = fish.state()
    assert state["VIRTUAL_ENV"] == mine
    assert state["python"] == os.path.join(mine, "bin", "python")
    # Prompts and cds do not take it away.
    fish.run("true")
    os.makedirs(os.path.join(proj, "sub"))
    fish.cd(os.path.join(proj, "sub"))
    fish.cd(str(tmp_path))
    state = fish.state()
    assert state["VIRTUAL_ENV"] == mine
    assert state["python"] == os.path.join(mine, "bin", "python")
    fish.cd(proj)
    assert fish.state()["VIRTUAL_ENV"] == mine
    # Once they deactivate, autoenv takes over again at the next prompt.
    fish.run("deactivate")
    assert_active(fish.state(), proj)
    fish.cd(str(tmp_path))
    assert_inactive(fish.state())


def test_hostile_directory_name(fish, tmp_path):
    project = new_project(str(tmp_path / HOSTILE))
    printed = fish.cd(project)
    assert "rror" not in printed
    state = fish.state()
    assert_active(state, project, name=HOSTILE)
    assert state["cwd"] == project
    fish.cd(str(tmp_path))
    assert_inactive(fish.state())
    assert not [name for name in os.listdir(str(tmp_path)) if name.startswith("pwned")]
    assert not [name for name in os.listdir(fish.home) if name.startswith("pwned")]


@pytest.mark.parametrize("can_capture", ["1", "0"])
def test_a_walk_finds_each_parent_with_or_without_named_groups(spawn, proj, can_capture):
    """fish 3.2 and later find a parent with a regex's named group, older
    ones with a command substitution: both give the same directories for
    hostile names, and a marker in one of them counts at the next prompt."""
    fish = spawn("fish", env={"AUTOENV_CREATE": "0"})
    fish.run("set -g __autoenv_can_capture %s" % can_capture)
    # (A command substitution splits a name with a newline: then the helper
    # answers for it, and nothing is walked.)
    outer = os.path.join(proj, HOSTILE if can_capture == "1" else HOSTILE.replace("\n", " "))
    middle = os.path.join(outer, "-x y")
    inner = os.path.join(middle, "in")
    os.makedirs(inner)
    fish.cd(proj)
    # Past the stamp's margin: the directories just made are older than it.
    fish.run("sleep 0.1")
    fish.run("true")
    fish.cd(inner)
    assert_active(fish.state(), proj)
    printed = fish.run("printf '<%s>' $__autoenv_below; echo; echo walk=$__autoenv_walk_here")
    walked = printed[printed.index("<"):printed.rindex(">") + 1]
    assert walked == "".join("<%s>" % path for path in (inner, middle, outer)), walked
    assert "walk=1" in printed, "the helper answered: nothing was walked"
    open(os.path.join(middle, ".autoenv-disable"), "w").close()
    fish.run("true")
    assert_inactive(fish.state())


def served_deep_project(fish, tmp_path, above, below):
    """A project ``above`` levels down, a directory ``below`` levels into it,
    and the shell in the project with a chain its server watches."""
    proj = new_project(str(tmp_path.joinpath(*("d%02d" % i for i in range(above)), "proj")))
    sub = os.path.join(proj, *("w%d" % i for i in range(below)))
    os.makedirs(sub)
    fish.cd(proj)
    fish.run("sleep 0.1")
    for _ in range(2):
        fish.run("true")
    assert fish.run("echo $__autoenv_check").startswith("long")
    return proj, sub


def test_a_walk_into_many_new_directories_is_handed_over_not_tested_at_each_prompt(fish, tmp_path):
    """A walk that finds as many new directories as a chain fish leaves to
    its server does not go on the token of the directory it came from (its
    prompt would test them all each time): the chain is tested whole once
    and handed over, and a marker in it still counts at the next prompt."""
    proj, deep = served_deep_project(fish, tmp_path, 15, 22)
    fish.cd(deep)
    for _ in range(2):
        fish.run("true")
    printed = fish.run('printf "base=[%s] own=[%s]\\n" "$__autoenv_base_serial" "$__autoenv_token_dir"')
    assert "base=[] own=[%s]" % deep in printed, printed
    open(os.path.join(proj, "w0", "w1", ".autoenv-disable"), "w").close()
    fish.run("true")
    assert_inactive(fish.state())


def test_a_walk_into_a_few_new_directories_goes_on_the_old_token_and_tests_them(fish, tmp_path):
    """Deep in a tree, a cd into a few new directories goes on the token of
    the directory it came from, worked out at the cd (__autoenv_aim): the
    prompts after it start nothing and run no work, and a marker in one of
    the new directories counts at the next prompt."""
    proj, sub = served_deep_project(fish, tmp_path, 25, 2)
    fish.cd(sub)
    fish.run("functions -c __autoenv_prompt_work __t_real; set -g __t_real_runs 0; "
             "function __autoenv_prompt_work; set -g __t_real_runs (math $__t_real_runs + 1); __t_real; end")
    for _ in range(3):
        fish.run("true")
    printed = fish.run('printf "base=[%s] own=[%s] works=%s\\n" "$__autoenv_base_for" "$__autoenv_token_dir" '
                       '"$__t_real_runs"')
    assert "base=[%s] own=[%s] works=0" % (sub, proj) in printed, printed
    open(os.path.join(proj, "w0", ".autoenv-disable"), "w").close()
    fish.run("true")
    assert_inactive(fish.state())


def test_helper_missing_says_so_once_and_the_shell_works(fish, proj, tmp_path):
    other = new_project(str(tmp_path / "other"))
    fish.cd(str(tmp_path))
    printed = [fish.run("set -g __autoenv_helper %s"
                        % quote_for("fish", str(tmp_path / "gone" / "_run_hook.py")))]
    printed.append(fish.cd(proj))
    for _ in range(2):
        printed += [fish.run("true"), fish.cd(other), fish.cd(str(tmp_path)), fish.cd(proj)]
    assert "".join(printed).count("autoenv: cannot run") == 1, printed
    assert "autoenv:" not in "".join(printed[2:]), printed
    assert fish.run("echo still-here").startswith("still-here")
    assert fish.state()["VIRTUAL_ENV"] is None


def test_helper_failing_says_so_once(fish_alone, proj, tmp_path):
    fish = fish_alone
    failing = tmp_path / "failing-python"
    failing.write_text("#!/bin/sh\necho 'set -gx PWNED 1;'\nexit 3\n")
    failing.chmod(failing.stat().st_mode | stat.S_IXUSR)
    fish.cd(str(tmp_path))
    printed = [fish.run("set -g __autoenv_python %s" % quote_for("fish", str(failing)))]
    printed += [fish.cd(proj), fish.cd(str(tmp_path)), fish.cd(proj)]
    assert "".join(printed).count("autoenv: the helper failed (exit 3)") == 1, printed
    assert fish.state()["VIRTUAL_ENV"] is None
    assert fish.run("echo \"[$PWNED]\"").startswith("[]")
    # Once the helper works again, so does autoenv, and a later failure is reported again.
    fish.run("set -g __autoenv_python %s" % quote_for("fish", os.path.join(os.path.dirname(AUTOENV), "python")))
    fish.cd(str(tmp_path))
    fish.cd(proj)
    assert_active(fish.state(), proj)


def definition(fish, name="fish_prompt"):
    # fish 3.8+ notes in a comment where a copied function came from; the code is what counts.
    # What follows the last `end` is the prompt's prefix.
    lines = fish.run("functions %s" % name).splitlines()
    return [line for line in lines[:len(lines) - lines[::-1].index("end")] if not line.startswith("#")]


def test_prompt_prefix_shown_and_original_restored_exactly(fish, proj, tmp_path):
    """The prefix comes from fish_mode_prompt, whose output fish shows first:
    fish_prompt is never touched, and the mode prompt is put back as it was."""
    original = definition(fish)
    original_mode = definition(fish, "fish_mode_prompt")
    assert "fish_default_mode_prompt" in "\n".join(original_mode)
    assert fish.cd(proj).endswith("(proj) ")
    assert fish.run("true").endswith("(proj) ")
    assert definition(fish) == original
    assert definition(fish, "fish_mode_prompt") != original_mode
    fish.cd(str(tmp_path))
    assert definition(fish) == original
    assert definition(fish, "fish_mode_prompt") == original_mode
    assert fish.run("functions -q __autoenv_user_mode_prompt; or echo gone").startswith("gone")


@pytest.mark.parametrize("mode_prompt", [
    "function fish_mode_prompt; printf '%s' '<m>'; end",
    "function fish_mode_prompt; end",
    "functions -e fish_mode_prompt",
])
def test_your_mode_prompt_kept_after_the_prefix(fish, proj, tmp_path, mode_prompt):
    """Your own fish_mode_prompt (one that prints, an empty one, none at all)
    still runs, after the prefix, and is exactly as it was once you leave."""
    fish.run(mode_prompt)
    shown = "<m>" if "<m>" in mode_prompt else ""
    exists = "functions -q fish_mode_prompt; and echo yes; or echo no"
    before = fish.run(exists).splitlines()[0]
    original_mode = definition(fish, "fish_mode_prompt") if before == "yes" else None
    assert fish.cd(proj).endswith("(proj) " + shown)
    assert fish.run("false").endswith("(proj) " + shown)
    fish.cd(str(tmp_path))
    assert fish.run(exists).splitlines()[0] == before
    if original_mode is not None:
        assert definition(fish, "fish_mode_prompt") == original_mode
    assert fish.cd(proj).endswith("(proj) " + shown)


def test_vi_mode_indicator_follows_the_prefix(fish, proj):
    # (Set as a variable: the function, typed at a dumb terminal, leaves the
    # line editor waiting.  Which mode a dumb terminal shows varies.)
    fish.run("set -g fish_key_bindings fish_vi_key_bindings")
    printed = fish.cd(proj)
    assert re.search(r"\(proj\) \[[NI]\] $", printed), printed


def test_a_prompt_wrapped_by_an_older_autoenv_is_put_back(fish, proj):
    """An older autoenv wrapped fish_prompt itself; the init of this one, run
    again in that shell, restores it, and shows the prefix once."""
    original = definition(fish)
    fish.run("functions -c fish_prompt __autoenv_user_prompt; "
             "function fish_prompt; printf '%s' '(old) '; __autoenv_user_prompt; end")
    fish.run(fish.init_line())
    assert definition(fish) == original
    printed = fish.cd(proj)
    assert printed.endswith("(proj) ") and "(old)" not in printed, printed


def test_virtual_env_disable_prompt_honoured(fish, proj):
    original = definition(fish)
    fish.run("set -gx VIRTUAL_ENV_DISABLE_PROMPT 1")
    printed = fish.cd(proj)
    assert "(proj)" not in printed
    assert definition(fish) == original
    assert_active(fish.state(), proj)
    # Changed while inside: the prompt follows at the next prompt.
    assert fish.run("set -e VIRTUAL_ENV_DISABLE_PROMPT").endswith("(proj) ")
    assert not fish.run("set -gx VIRTUAL_ENV_DISABLE_PROMPT 1").endswith("(proj) ")


@pytest.mark.parametrize("serve", ["1", "0"])
def test_a_state_change_is_seen_once_and_the_prompt_is_quick_again(spawn, proj, tmp_path, serve):
    """The prompt compares neither $PWD nor VIRTUAL_ENV nor
    VIRTUAL_ENV_DISABLE_PROMPT nor AUTOENV_SERVE: setting any of them takes
    the prompt's test away until a prompt has looked, and that prompt brings
    it back, with its server and without."""
    fish = spawn("fish", env={"AUTOENV_SERVE": serve})
    fish.cd(proj)
    armed = 'string join " " -- $__autoenv_prompt_test'
    quick = fish.run(armed).splitlines()[0]
    assert quick.endswith("-z x") and "-nt" in quick
    other = make_venv(str(tmp_path / "envs" / "other"))
    for change, check in (("set -gx VIRTUAL_ENV $VIRTUAL_ENV", lambda: assert_active(fish.state(), proj)),
                          ("set -gx VIRTUAL_ENV_DISABLE_PROMPT 1", None),
                          ("set -e VIRTUAL_ENV_DISABLE_PROMPT", None),
                          ("set -gx AUTOENV_SERVE %s" % ("0" if serve == "1" else "1"), None),
                          ("set -gx AUTOENV_SERVE %s" % serve, None),
                          ("source %s" % quote_for("fish", os.path.join(other, "bin", "activate.fish")), None),
                          ("deactivate", lambda: assert_active(fish.state(), proj))):
        # In one line: the change, then what the prompt will test.
        assert fish.run("%s; %s" % (change, armed)).splitlines()[0] == "-n x", change
        # The prompt after it looked, and made its test quick again.
        assert fish.run(armed).splitlines()[0] == quick, change
        if check:
            check()
    assert not fish.run("set -gx VIRTUAL_ENV_DISABLE_PROMPT 1").endswith("(proj) ")
    assert fish.run("set -e VIRTUAL_ENV_DISABLE_PROMPT").endswith("(proj) ")


@pytest.mark.parametrize("value", ["!", "-n", "(", "="])
def test_values_that_look_like_test_operators_are_data(fish, proj, value):
    """The prompt compares VIRTUAL_ENV_DISABLE_PROMPT and AUTOENV_SERVE with
    `test`: a value such as `!` is a value there, not an operator."""
    fish.cd(proj)
    for line in ("set -gx VIRTUAL_ENV_DISABLE_PROMPT %s" % quote_for("fish", value),
                 "set -gx AUTOENV_SERVE %s" % quote_for("fish", value), "true"):
        printed = fish.run(line)
        assert "test:" not in printed and "(proj)" not in printed, printed
    assert_active(fish.state(), proj)
    printed = fish.run("set -e VIRTUAL_ENV_DISABLE_PROMPT")
    assert "test:" not in printed and printed.endswith("(proj) "), printed


def test_status_kept_for_the_user_and_their_prompt(fish, proj, tmp_path):
    # A prompt that shows $status, defined before autoenv wraps it.
    token = fish.token
    fish.run("function fish_prompt; printf '[%%s]' $status; printf '%%s' '%s''%s '; end"
             % (token[:5], token[5:]))
    fish.run("false")
    assert fish.run("echo $status").startswith("1")
    printed = fish.run("cd %s; false" % quote_for("fish", proj))
    assert printed.endswith("(proj) [1]"), printed
    assert fish.run("echo $status").startswith("1")
    # Any status, and a success after a failure.
    printed = fish.run("function __three; return 3; end; __three")
    assert printed.endswith("(proj) [3]"), printed
    assert fish.run("true").endswith("(proj) [0]")
    printed = fish.run("cd %s; false" % quote_for("fish", str(tmp_path)))
    assert printed.endswith("[1]") and "(proj)" not in printed, printed


def test_pipestatus_kept_for_the_user_and_their_prompt(fish, proj):
    token = fish.token
    fish.run("function fish_prompt; printf '[%%s]' (string join '|' $pipestatus); printf '%%s' '%s''%s '; end"
             % (token[:5], token[5:]))
    fish.cd(proj)
    printed = fish.run("false | true | sh -c 'exit 3'")
    assert printed.endswith("(proj) [1|0|3]"), printed
    assert fish.run("echo $pipestatus").startswith("1 0 3")


def test_unchanged_prompts_start_no_process(fish_alone, proj, tmp_path):
    """The shell-side cache: the helper runs on a real change only."""
    fish = fish_alone
    # Outside every directory the test visits, and made before: writing it changes no mtime there.
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "helper-runs"
    log.write_text("")
    counting = logs / "counting-python"
    counting.write_text("#!/bin/sh\necho run \"$6\" >> %s\nexec %s \"$@\"\n"
                        % (quote_for("bash", str(log)),
                           quote_for("bash", os.path.join(os.path.dirname(AUTOENV), "python"))))
    counting.chmod(counting.stat().st_mode | stat.S_IXUSR)
    os.makedirs(os.path.join(proj, "a", "b"))
    fish.run("set -g __autoenv_python %s" % quote_for("fish", str(counting)))
    # The helper backdates its stamp by 50 ms (coarse directory clocks): a
    # change younger than that gets one extra helper run, which is not what
    # this test is about.
    time.sleep(0.1)

    def runs():
        return len(log.read_text().splitlines())

    before = runs()
    fish.cd(proj)
    assert runs() >= before + 1
    first = runs()
    for _ in range(10):
        fish.run("true")
    for _ in range(2):
        fish.cd(os.path.join(proj, "a", "b"))
        fish.cd(os.path.join(proj, "a"))
    # Without the cache that is 14 runs; with it none, but for a run or two when
    # a directory above (like /tmp) is touched by another process meanwhile.
    assert runs() - first <= 2, log.read_text()
    assert_active(fish.state(), proj)
    # A change in place is seen at the next prompt, by the helper.
    seen = runs()
    open(os.path.join(proj, "a", ".autoenv-disable"), "w").close()
    time.sleep(0.1)
    fish.run("true")
    assert runs() > seen
    assert fish.state()["VIRTUAL_ENV"] is None


def test_init_twice_runs_the_helper_once_per_change(spawn, proj, tmp_path):
    fish = spawn("fish")
    fish.run(fish.init_line())
    assert fish.cd(proj).count("(proj)") == 1
    assert_active(fish.state(), proj)


def test_interrupted_helper_gives_the_prompt_back_and_is_not_restarted(fish_alone, proj, tmp_path):
    """A helper that hangs (a dead network mount, say): Ctrl-C gives the prompt back."""
    fish = fish_alone
    log = tmp_path / "slow-runs"
    log.write_text("")
    slow = tmp_path / "slow-python"
    slow.write_text("#!/bin/sh\necho run >> %s\nexec sleep 60\n" % quote_for("bash", str(log)))
    slow.chmod(slow.stat().st_mode | stat.S_IXUSR)
    # One line: a prompt in between could already start the slow helper.
    fish.child.sendline("set -g __autoenv_python %s; cd %s" % (quote_for("fish", str(slow)), quote_for("fish", proj)))
    fish.child.expect_exact(fish.started_marker, timeout=10)
    deadline = time.time() + 10
    while not log.read_text() and time.time() < deadline:
        time.sleep(0.05)
    assert log.read_text(), "the helper never started"
    fish.child.sendintr()
    fish.child.expect_exact(fish.token, timeout=10)
    # The next prompts do not start it again; the shell is usable.
    assert fish.run("echo usable", timeout=10).startswith("usable")
    assert fish.run("true", timeout=10) == ""
    assert len(log.read_text().splitlines()) == 1
    # With a working helper, the next cd into a project works as ever.
    fish.run("set -g __autoenv_python %s" % quote_for("fish", os.path.join(os.path.dirname(AUTOENV), "python")))
    other = new_project(str(tmp_path / "other"))
    fish.cd(other)
    assert_active(fish.state(), other)


def test_user_functions_shadowing_builtins_change_nothing(fish, proj, tmp_path):
    # (Not printf: this test's own prompt uses it.)
    for name in ("source", "functions", "count", "contains"):
        fish.run("function %s; builtin echo HIJACKED-%s; end" % (name, name))
    # A cd of the user's own (fish's cd is a function too): the PWD handler still runs.
    fish.run("function cd; builtin echo my-cd; builtin cd $argv; end")
    printed = fish.cd(proj)
    assert "HIJACKED" not in printed, printed
    assert "my-cd" in printed
    fish.run("builtin functions -e source functions count contains")
    assert_active(fish.state(), proj)
    fish.cd(str(tmp_path))
    assert_inactive(fish.state())


@pytest.mark.parametrize("how", ["file", "dir", "dangling symlink"])
def test_the_compiled_name_test_sees_every_watched_name(spawn, tmp_path, how):
    """A cd walk tests all names of a directory in one compiled `test`: each one still counts."""
    from autoenv.detect import WATCHED_NAMES

    fish = spawn("fish", env={"AUTOENV_CREATE": "0"})
    plain = tmp_path / "plain 'x' $y"
    (plain / "quiet").mkdir(parents=True)
    (plain / "quiet" / "pyproject.toml.bak").write_text("")
    for name in WATCHED_NAMES:
        target = plain / ("with " + name)
        target.mkdir()
        if how == "file":
            (target / name).write_text("")
        elif how == "dir":
            (target / name).mkdir()
        else:
            os.symlink(str(tmp_path / "nowhere"), str(target / name))
        said = fish.run("__autoenv_has_watched %s; echo has=$status" % quote_for("fish", str(target)))
        assert "has=0" in said, "%s (%s) was not seen" % (name, how)
        # The same test for $PWD, in place.
        said = fish.run("builtin cd %s; builtin test $__autoenv_watched_here; echo here=$status" % quote_for("fish", str(target)))
        assert "here=0" in said, "%s (%s) was not seen in $PWD" % (name, how)
    said = fish.run("__autoenv_has_watched %s; echo has=$status" % quote_for("fish", str(plain / "quiet")))
    assert "has=1" in said
    said = fish.run("builtin cd %s; builtin test $__autoenv_watched_here; echo here=$status" % quote_for("fish", str(plain / "quiet")))
    assert "here=1" in said
