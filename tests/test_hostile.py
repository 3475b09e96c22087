"""Hostile directory names in real shells: every byte reaches VIRTUAL_ENV and
PATH unchanged and nothing in a name runs.

The names reach the shell through environment variables (``cd "$D3"``), so the
test never has to type a tab or a newline at an interactive prompt; the shell
still runs its hooks on a `cd` typed as its own line.  Each name holds
commands that would create a file named PWNED* if they ever ran.
PowerShell (no binary here): the helper's output is parsed with tree-sitter
and its assignments are read back.
"""

import io
import os
import re
import time

import pytest

from autoenv import hook
from realshell import BASE_PATH, make_venv
from test_quote_fish_pwsh import decode_pwsh, parse_errors

NAMES = [
    "'\";&&e-$ èрт🚒",
    "$(touch PWNED1)",
    "`touch PWNED2`",
    "a;touch PWNED3;b",
    "a && touch PWNED4",
    "a | touch PWNED5",
    "<in >PWNED6",
    "* ? [ab] [!x]",
    "{a,b}",
    "~",
    "~root",
    "!! !x !$",
    "#hash",
    "%s %n %(x) %F{red} %1~ %%",
    "\\",
    "trailing\\",
    "-leading",
    "--",
    "  spaces  ",
    "tab\there",
    "new\nline",
    "new\nline; touch PWNED7",
    "$HOME ${HOME} $((1+1)) \\$x",
    "\\u \\w \\$ \\[\\e[31m\\]",
    "(touch PWNED8)",
    "é 中文 🐍 \u202e",
    "\"; touch PWNED9; \"",
    "'; touch PWNEDA; '",
    "$(touch PWNEDB)'$(touch PWNEDC)'\"$(touch PWNEDD)\"",
]
# Not UTF-8: bash and zsh keep raw bytes; fish maps them to its private range and back.
RAW_NAMES = [os.fsdecode(b"latin1-\xe9-\xff")]


@pytest.fixture
def hostile_projects(tmp_path):
    base = tmp_path / "hostile"
    base.mkdir()
    roots = []
    for index, name in enumerate(NAMES + RAW_NAMES):
        # A numbered parent keeps names like "~" and "--" distinct and unambiguous.
        root = os.path.join(str(base), "%02d" % index, name)
        os.makedirs(root)
        open(os.path.join(root, "pyproject.toml"), "w").close()
        roots.append(root)
    # One real env is made; the others are copies of it (fast), each a real env.
    make_venv(os.path.join(roots[0], ".venv"))
    import shutil

    for root in roots[1:]:
        shutil.copytree(os.path.join(roots[0], ".venv"), os.path.join(root, ".venv"), symlinks=True)
    return str(base), roots


def pwned_files(*trees):
    found = []
    for tree in trees:
        for directory, dirs, files in os.walk(tree):
            found += [os.path.join(directory, f) for f in files + dirs if f.startswith("PWNED")]
    return found


def cd_line(kind, variable):
    return "cd $%s" % variable if kind == "fish" else 'cd "$%s"' % variable


@pytest.mark.parametrize("kind", ["bash", "zsh", "fish"])
def test_hostile_names_reach_the_environment_unchanged(spawn, home, hostile_projects, kind):
    base, roots = hostile_projects
    variables = {"D%02d" % i: root for i, root in enumerate(roots)}
    shell = spawn(kind, env=variables)
    for variable, root in sorted(variables.items()):
        printed = shell.run(cd_line(kind, variable))
        env = os.path.join(root, ".venv")
        state = shell.state()
        label = "%s %r: %s" % (kind, root, printed)
        assert state["cwd"] == root, label
        assert state["VIRTUAL_ENV"] == env, label
        assert state["_AUTOENV_ENV"] == env, label
        assert state["VIRTUAL_ENV_PROMPT"] == os.path.basename(root), label
        assert state["PATH"] == os.path.join(env, "bin") + os.pathsep + BASE_PATH, label
        assert state["python"] == os.path.join(env, "bin", "python"), label
        assert "autoenv:" not in printed, label
    shell.cd(home)
    state = shell.state()
    assert state["VIRTUAL_ENV"] is None and state["PATH"] == BASE_PATH
    assert pwned_files(base, home) == []


@pytest.mark.parametrize("kind", ["bash", "zsh", "fish"])
def test_a_walk_finds_each_parent_whatever_the_names(spawn, home, tmp_path, kind):
    """From a directory whose name reads as a pattern into a sibling's child,
    which such a pattern would match (fish takes a parent it can match as a
    literal regex, \\Q...\\E, from the directories before): each parent on the
    way is the real one, so a marker made in it counts at the next prompt."""
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "pyproject.toml").write_text("")
    env = make_venv(str(proj / ".venv"))
    cases = []
    for index, (before, after) in enumerate(((r"p\E.*", "pQ"), ("a*", "ab"), ("[x]", "x"), ("q.?", "qq?"))):
        # From the pattern-named directory itself, and from a child of it.
        for depth, start in enumerate((proj / str(index) / before, proj / str(index) / before / "in")):
            target = proj / str(index) / ("%s%d" % (after, depth)) / "child"
            start.mkdir(parents=True, exist_ok=True)
            target.mkdir(parents=True)
            cases.append((start, target))
    time.sleep(0.1)  # older than the stamp the shell is about to write
    variables = {"START%d" % i: str(start) for i, (start, _) in enumerate(cases)}
    variables.update({"TARGET%d" % i: str(target) for i, (_, target) in enumerate(cases)})
    shell = spawn(kind, env=dict(variables, AUTOENV_CREATE="0"))
    for number, (start, target) in enumerate(cases):
        shell.run(cd_line(kind, "START%d" % number))
        shell.run(cd_line(kind, "TARGET%d" % number))
        marker = target.parent / ".autoenv-disable"
        marker.write_text("")
        shell.run("true")
        assert shell.state()["VIRTUAL_ENV"] is None, "%s: the marker in %s was not seen" % (kind, target.parent)
        marker.unlink()
        shell.run("true")
        assert shell.state()["VIRTUAL_ENV"] == env


# Counts the calls of each shell's prompt work, the way out of its prompt hook's
# common case (bash looks up the directory, env and options it settled on in
# associative arrays, keyed by their text).
COUNT_PROMPT_WORK = {
    "bash": ('eval "__autoenv_test_work() $(declare -f __autoenv_prompt_work | tail -n +2)"; '
             "__autoenv_prompt_work() { __autoenv_test_works=$((__autoenv_test_works + 1)); __autoenv_test_work; }; "
             "__autoenv_test_works=0"),
    "zsh": ("functions[__autoenv_test_work]=$functions[__autoenv_hook]; "
            '__autoenv_hook() { (( ++__autoenv_test_works )); __autoenv_test_work "$@"; }; __autoenv_test_works=0'),
    "fish": ("functions -c __autoenv_prompt_work __autoenv_test_work; function __autoenv_prompt_work; "
             "set -g __autoenv_test_works (math $__autoenv_test_works + 1); __autoenv_test_work; end; "
             "set -g __autoenv_test_works 0"),
}


def prompt_works(shell):
    printed = shell.run('echo "works=$__autoenv_test_works"')
    return int(re.search(r"works=(\d+)", printed).group(1))


@pytest.mark.parametrize("kind", ["bash", "zsh", "fish"])
def test_an_unchanged_prompt_takes_the_common_case_whatever_the_names(spawn, tmp_path, hostile_projects, kind):
    """A prompt where nothing changed does no work beyond the hook's first
    test, in every hostile directory and 30 hostile names deep (the server's
    token): no key, pattern or expansion in a name makes it miss."""
    base, roots = hostile_projects
    deep = os.path.join(str(tmp_path), "deep", *NAMES)
    os.makedirs(deep)
    open(os.path.join(deep, "pyproject.toml"), "w").close()
    make_venv(os.path.join(deep, ".venv"))
    time.sleep(0.1)  # older than the stamps the shell is about to write
    variables = {"D%02d" % i: root for i, root in enumerate(roots + [deep])}
    shell = spawn(kind, env=variables)
    shell.run(COUNT_PROMPT_WORK[kind])
    for variable, root in sorted(variables.items()):
        shell.run(cd_line(kind, variable))
        assert shell.state()["VIRTUAL_ENV"] == os.path.join(root, ".venv"), "%s: %r" % (kind, root)
        shell.run("true")
        before = prompt_works(shell)
        for _ in range(3):
            shell.run("true")
        assert prompt_works(shell) == before, "%s: an unchanged prompt in %r did its work" % (kind, root)
    assert pwned_files(base, str(tmp_path / "deep")) == []


def colon_project(tmp_path, name):
    """venv refuses to create an env under a path with ':', so one is made and then moved."""
    made = tmp_path / "made"
    made.mkdir()
    (made / "setup.py").write_text("")
    make_venv(str(made / ".venv"))
    root = tmp_path / name
    made.rename(root)
    return root


@pytest.mark.parametrize("kind", ["bash", "zsh", "fish"])
def test_a_path_with_the_separator_is_refused_and_path_kept(spawn, home, tmp_path, kind):
    root = colon_project(tmp_path, "has:colon")
    shell = spawn(kind, env={"DC": str(root)})
    printed = shell.run(cd_line(kind, "DC"))
    assert printed.count("autoenv: not activating") == 1, printed
    assert "PATH separator" in printed
    state = shell.state()
    assert state["VIRTUAL_ENV"] is None
    assert state["PATH"] == BASE_PATH
    # Said once: the next prompt is silent.
    later = shell.run("true")
    assert "autoenv:" not in later, later


def pwsh_assignments(text):
    """{name: value} of the ``$env:NAME = '...'`` lines of helper output for pwsh."""
    values = {}
    for line in text.splitlines():
        match = re.match(r"^\$env:(\w+) = (.*)$", line)
        if match and not match.group(2).startswith("@("):
            values[match.group(1)] = decode_pwsh(match.group(2))
    return values


def expanding_nodes(source):
    """Parts of PowerShell source that expand or run something inside a string."""
    import tree_sitter
    import tree_sitter_pwsh

    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_pwsh.language()))
    found, stack = [], [parser.parse(source.encode("utf-8")).root_node]
    while stack:
        node = stack.pop()
        if node.type in ("expandable_string_literal", "expandable_here_string_literal", "sub_expression"):
            found.append(node.text[:60])
        stack.extend(node.children)
    return found


def test_expanding_nodes_finds_expansion():
    assert expanding_nodes('$env:X = "a$(touch PWNED)"\n') != []
    assert expanding_nodes("$env:X = 'a$(touch PWNED)'\n") == []


def test_hostile_names_in_powershell_output_parse_and_read_back(hostile_projects, tmp_path):
    _, roots = hostile_projects
    environ = {
        "PATH": BASE_PATH,
        "HOME": str(tmp_path),
        "XDG_RUNTIME_DIR": str(tmp_path), "TMPDIR": str(tmp_path),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    for root in roots:
        out, err = io.StringIO(), io.StringIO()
        assert hook.run(["pwsh", "77", root], environ=environ, out=out, err=err) == 0
        text = out.getvalue()
        assert parse_errors(text) == [], (root, text)
        values = pwsh_assignments(text)
        env = os.path.join(root, ".venv")
        assert values["VIRTUAL_ENV"] == env.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        assert expanding_nodes(text) == [], (root, text)
        assert err.getvalue() == ""


def test_pwsh_output_for_a_path_with_the_separator_changes_nothing(tmp_path):
    root = colon_project(tmp_path, "a:b")
    environ = {"PATH": BASE_PATH, "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path), "TMPDIR": str(tmp_path),
               "XDG_STATE_HOME": str(tmp_path / "s"), "XDG_CACHE_HOME": str(tmp_path / "c")}
    out, err = io.StringIO(), io.StringIO()
    hook.run(["pwsh", "78", str(root)], environ=environ, out=out, err=err)
    assert "$env:PATH" not in out.getvalue() and "VIRTUAL_ENV" not in out.getvalue()
    assert parse_errors(out.getvalue()) == []
    assert "PATH separator" in err.getvalue() and err.getvalue().count("\n") == 1


@pytest.mark.parametrize("shell_name", ["bash", "zsh", "fish", "pwsh"])
def test_the_prompt_never_carries_terminal_control_bytes(tmp_path, shell_name):
    root = tmp_path / "evil\x1b]0;title\x07\x1b[2J\nname\u202e"
    root.mkdir()
    (root / "setup.py").write_text("")
    make_venv(str(root / ".venv"))
    environ = {"PATH": BASE_PATH, "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path), "TMPDIR": str(tmp_path),
               "XDG_STATE_HOME": str(tmp_path / "s"), "XDG_CACHE_HOME": str(tmp_path / "c")}
    out, err = io.StringIO(), io.StringIO()
    hook.run([shell_name, "79", str(root)], environ=environ, out=out, err=err)
    prompt_lines = [line for line in out.getvalue().splitlines() if line.startswith("__autoenv_prompt_set")]
    assert len(prompt_lines) == 1
    assert "\\x1b]0;title\\x07\\x1b[2J\\nname\\u202e" in prompt_lines[0].replace("\\\\", "\\")
    assert "\x1b" not in out.getvalue() and "\x07" not in out.getvalue() and "\u202e" not in prompt_lines[0]
