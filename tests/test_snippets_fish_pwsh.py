"""The fish and PowerShell snippets and the helper's output for them.

fish: the rendered snippet is sourced in ``fish --no-config`` and prints
nothing; the helper's output for hostile directory names is sourced in a real
fish and the environment read back.  PowerShell (no pwsh here): the rendered
snippet and the helper's output are parsed with tree-sitter-pwsh and must have
no ERROR or MISSING node; values are read back with the decoder from
test_quote_fish_pwsh.
"""

import io
import os
import re
import subprocess

from autoenv import detect, hook, render
from autoenv.init import render_init, snippet_dir
from autoenv.render.fish import strip_comments
from conftest import require_shell
from realshell import AUTOENV, make_venv, quote_for
from test_quote_fish_pwsh import decode_pwsh, parse_errors

HOSTILE = "'\";&&e-$ èрт🚒 $(touch pwned) `touch pwned2` (touch pwned3) *?[x]\nnext\tline\\ \u2019q\u2018"
BASE = "/usr/local/bin:/usr/bin:/bin"
# The prompt spells control characters out, so a name cannot drive the terminal.
HOSTILE_SHOWN = HOSTILE.replace("\n", "\\n").replace("\t", "\\t")
FISH = ["fish", "--no-config"]


def project(path, prompt=None):
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "pyproject.toml"), "w"):
        pass
    env = os.path.join(path, ".venv")
    os.makedirs(os.path.join(env, "bin"), exist_ok=True)
    with open(os.path.join(env, "pyvenv.cfg"), "w", encoding="utf-8") as cfg:
        cfg.write("home = /usr/bin\n")
        if prompt:
            cfg.write("prompt = %s\n" % prompt)
    return env


def run_helper(kind, pwd, environ, tmp):
    environ = dict(environ)
    environ.setdefault("PATH", BASE)
    environ.setdefault("HOME", str(tmp))
    environ.setdefault("XDG_RUNTIME_DIR", str(tmp))
    environ.setdefault("TMPDIR", str(tmp))
    out, err = io.StringIO(), io.StringIO()
    code = hook.run([kind, "4242", str(pwd)], environ=environ, out=out, err=err)
    assert code == 0, err.getvalue()
    return out.getvalue(), environ


def own_places(tmp_path, **extra):
    """The environment with the stamp and the server's channel in ``tmp_path``."""
    return dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path), TMPDIR=str(tmp_path), **extra)


# --- fish ----------------------------------------------------------------------

def fish(script, cwd, env=None, args=()):
    require_shell("fish")
    return subprocess.run(FISH + ["-c", script] + list(args), cwd=str(cwd), env=env,
                          capture_output=True)


def test_fish_snippet_parses_and_sources_silently(tmp_path):
    snippet = render_init("fish")
    assert "@" + "PYTHON@" not in snippet and "@NAMES@" not in snippet
    checked = subprocess.run(FISH + ["-n"], input=snippet.encode(), capture_output=True)
    assert checked.returncode == 0 and checked.stderr == b"", checked.stderr
    result = fish("autoenv init fish | source; and __autoenv_update; and functions -q __autoenv_fresh",
                  tmp_path, env=own_places(tmp_path, PATH=os.path.dirname(AUTOENV) + ":" + BASE))
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")


def test_fish_snippet_activates_in_a_project_silently(tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "pyproject.toml").write_text("")
    make_venv(str(proj / ".venv"))
    show = "printf '%s\\n' $VIRTUAL_ENV $PATH[1] $__autoenv_key"
    result = fish("%s init fish | source; __autoenv_update; %s" % (quote_for("fish", AUTOENV), show), proj,
                  env=own_places(tmp_path, PATH=BASE, HOME=str(tmp_path)))
    assert result.stderr == b""
    venv = str(proj / ".venv")
    assert result.stdout.decode().splitlines() == [venv, venv + "/bin", str(proj)]


TRICKY_FISH = r"""# a comment line
set -l a 'one
# inside single quotes
two'
set -l b "three
   # inside double quotes, \"quoted\"
four"

    # an indented comment, then a blank line

printf '%s|' $a $b x#y \# 'it\'s' # a trailing comment: it's kept
printf '\n'
"""


def test_fish_comment_lines_go_and_nothing_else(tmp_path):
    stripped = strip_comments(TRICKY_FISH)
    assert stripped == TRICKY_FISH.replace("# a comment line\n", "").replace(
        "\n    # an indented comment, then a blank line\n\n", "")
    before, after = (fish(script, tmp_path) for script in (TRICKY_FISH, stripped))
    assert before.returncode == 0 and before.stderr == b""
    assert after.stdout == before.stdout and b"# inside single quotes" in before.stdout


def test_fish_snippet_has_no_comments_and_the_same_code(tmp_path):
    """`autoenv init fish` leaves out the template's comments (fish counts
    lines up to the running function at each block it starts), and every
    function reads as in the template, comments aside."""
    renderer = render.get("fish")
    values = {"PYTHON": AUTOENV, "HELPER": AUTOENV, "NAMES": ["pyproject.toml"], "FORWARDED": ["PATH"],
              "SYNC_FROM": "20"}
    with open(os.path.join(snippet_dir(), "autoenv.fish"), encoding="utf-8") as handle:
        template = handle.read()
    whole = render.Shell.render_snippet(renderer, template, values)
    stripped = renderer.render_snippet(template, values)
    assert not re.search(r"(?m)^[ \t]*(#.*)?\n", stripped)
    assert len(stripped) < len(whole) * 0.7
    show = "for name in (functions -a | string match '__autoenv*'); functions $name; end"
    shown = []
    for text in (whole, stripped):
        result = subprocess.run(FISH + ["-c", "source -; " + show], input=text.encode(), cwd=str(tmp_path),
                                env=own_places(tmp_path), capture_output=True)
        assert result.returncode == 0, result.stderr
        shown.append([line for line in result.stdout.decode().splitlines() if not re.match(r"\s*(#|$)", line)])
    assert shown[0] == shown[1] and len(shown[0]) > 300


def test_fish_functions_a_prompt_or_cd_runs_come_first():
    """fish counts the lines of the sourced text up to a function whenever it
    runs a block or a call: the ones run at a prompt or a cd sit at the top."""
    snippet = render_init("fish")
    defined = re.findall(r"(?m)^function (\S+)", snippet)
    hot = ["__autoenv_define_on_prompt", "__autoenv_aim", "__autoenv_on_pwd", "__autoenv_compile", "__autoenv_changed",
           "__autoenv_serve_quiet", "__autoenv_serve_asleep", "__autoenv_fresh"]
    assert defined[:len(hot)] == hot
    assert snippet.index("function __autoenv_fresh") < len(snippet) / 4


def test_fish_init_twice_hooks_once(tmp_path):
    init = quote_for("fish", AUTOENV) + " init fish | source"
    result = fish("%s; %s; functions --handlers" % (init, init),
                  tmp_path, env=own_places(tmp_path, PATH=BASE))
    handlers = [line for line in result.stdout.decode().split() if line.startswith("__autoenv")]
    assert sorted(handlers) == ["__autoenv_on_prompt", "__autoenv_on_pwd"] + ["__autoenv_on_state"] * 3


def test_fish_serials_are_unique_and_rising_across_stocks_and_inits(tmp_path):
    """fish takes serials from a stock of 64 (no `math` per request); an init
    over one from before the stock (serial 150, say) goes on above it."""
    init = quote_for("fish", AUTOENV) + " init fish | source"
    take = "for i in (seq 150); __autoenv_serve_next; echo $__autoenv_serve_serial; end"
    result = fish("%s; %s; %s; %s; set -g __autoenv_serve_serial 9999; set -e __autoenv_serve_base __autoenv_serve_stock; %s; %s"
                  % (init, take, init, take, init, take),
                  tmp_path, env=own_places(tmp_path, PATH=BASE))
    assert result.stderr == b""
    serials = [int(line) for line in result.stdout.decode().split()]
    assert len(serials) == 450
    assert serials == sorted(set(serials))
    assert serials[300] > 9999


def test_fish_token_lists_stay_short_and_keep_the_newest(tmp_path):
    """The directories the server left tokens for: at most 64 (fish copies a
    list to add to it), the older half dropped, the newest always there."""
    for index in range(100):
        (tmp_path / ("d%03d" % index)).mkdir()
    init = quote_for("fish", AUTOENV) + " init fish | source"
    script = ("%s; function __autoenv_update; end; "
              "for i in (seq 0 99); cd d(string pad -c 0 -w 3 $i); __autoenv_serve_token $i; cd ..; end; "
              "count $__autoenv_token_dirs; count $__autoenv_token_serials; "
              "echo $__autoenv_token_dirs[-1] $__autoenv_token_serials[-1] $__autoenv_token_serials[1]" % init)
    result = fish(script, tmp_path, env=own_places(tmp_path, PATH=BASE))
    assert result.stderr == b""
    dirs, serials, last = result.stdout.decode().splitlines()
    assert int(dirs) == int(serials) <= 64
    assert last == "%s 99 %d" % (tmp_path / "d099", 100 - int(serials))


# Stand-in for the snippet's prompt function: records what the helper asked for.
FISH_PRELUDE = "function __autoenv_prompt_set; set -g __prompt $argv; end; "
FISH_SHOW = ("; printf '%s\\0' \"$__prompt\" \"$__autoenv_key\" (count $__autoenv_above); "
             "printf '%s\\0' $PATH; printf 'ENV-FOLLOWS\\0'; /usr/bin/env -0")


def evaluate_fish(code, environ, cwd):
    result = fish(FISH_PRELUDE + "builtin source " + str(code) + FISH_SHOW, cwd, env=environ)
    assert result.returncode == 0, result.stderr
    assert result.stderr == b"", result.stderr
    decode = lambda b: b.decode("utf-8", "surrogateescape")  # noqa: E731
    head, _, env_part = result.stdout.partition(b"ENV-FOLLOWS\0")
    fields = [decode(f) for f in head.split(b"\0")[:-1]]
    prompt, key, above, path = fields[0], fields[1], int(fields[2]), fields[3:]
    after = {}
    for item in env_part.split(b"\0"):
        if item:
            name, _, value = decode(item).partition("=")
            after[name] = value
    return prompt, key, above, path, after


def helper_in_fish(pwd, environ, tmp_path):
    out, environ = run_helper("fish", pwd, environ, tmp_path)
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f]", out), "control characters in %r" % out
    script = tmp_path / ("out-%d.fish" % len(os.listdir(str(tmp_path))))
    script.write_text(out, encoding="utf-8")
    return evaluate_fish(script, environ, tmp_path) + (out,)


def test_fish_helper_output_hostile_activate_and_leave(tmp_path):
    require_shell("fish")
    proj = str(tmp_path / HOSTILE)
    env = project(proj)
    prompt, key, above, path, after, out = helper_in_fish(proj, {}, tmp_path)
    assert after["VIRTUAL_ENV"] == env
    assert after["VIRTUAL_ENV_PROMPT"] == HOSTILE
    assert after[hook.OWNED_VAR] == env
    assert path == [env + "/bin"] + BASE.split(":")
    assert prompt == "(%s) " % HOSTILE_SHOWN
    assert key == proj
    assert not any(name.startswith("pwned") for name in os.listdir(str(tmp_path)))
    # One statement per line: fish reads every value back from one line.
    assert all(line.endswith(";") for line in out.splitlines())

    user = "/opt/user bin"
    inside = {"VIRTUAL_ENV": env, "VIRTUAL_ENV_PROMPT": HOSTILE, hook.OWNED_VAR: env,
              "PATH": ":".join([user, env + "/bin"] + BASE.split(":"))}
    prompt, key, above, path, after, out = helper_in_fish(str(tmp_path), inside, tmp_path)
    assert "VIRTUAL_ENV" not in after and "VIRTUAL_ENV_PROMPT" not in after and hook.OWNED_VAR not in after
    assert path == [user] + BASE.split(":")
    assert prompt == ""


def test_fish_helper_output_not_utf8_name(tmp_path):
    require_shell("fish")
    proj = os.path.join(str(tmp_path), os.fsdecode(b"bad\xff\xfe"))
    env = project(proj)
    prompt, key, above, path, after, out = helper_in_fish(proj, {}, tmp_path)
    assert os.fsencode(after["VIRTUAL_ENV"]) == os.fsencode(env)
    assert os.fsencode(path[0]) == os.fsencode(env + "/bin")
    out.encode("utf-8")


def test_fish_helper_output_switch_keeps_user_entries(tmp_path):
    require_shell("fish")
    env_a = project(str(tmp_path / "a"))
    env_b = project(str(tmp_path / "b"), prompt="bee")
    inside_a = {"VIRTUAL_ENV": env_a, "VIRTUAL_ENV_PROMPT": "a", hook.OWNED_VAR: env_a,
                "PATH": ":".join([env_a + "/bin", "/mine"] + BASE.split(":"))}
    prompt, key, above, path, after, out = helper_in_fish(str(tmp_path / "b"), inside_a, tmp_path)
    assert after["VIRTUAL_ENV"] == env_b and after["VIRTUAL_ENV_PROMPT"] == "bee"
    assert path == [env_b + "/bin", "/mine"] + BASE.split(":")
    assert prompt == "(bee) "


# --- PowerShell ----------------------------------------------------------------

def test_pwsh_snippet_parses(tmp_path):
    snippet = render_init("pwsh")
    assert "@" + "PYTHON@" not in snippet and "@NAMES@" not in snippet
    assert parse_errors(snippet) == []


def test_pwsh_snippet_parses_with_hostile_install_path(monkeypatch):
    from autoenv import init

    monkeypatch.setattr(init, "helper_python", lambda: "/opt/" + HOSTILE + "/bin/python")
    monkeypatch.setattr(init, "helper_path", lambda: "/opt/" + HOSTILE + "/_run_hook.py")
    snippet = init.render_init("pwsh")
    assert parse_errors(snippet) == []
    match = re.search(r"^\$global:__autoenv_python = (.*)$", snippet, re.M)
    assert decode_pwsh(match.group(1)) == "/opt/" + HOSTILE + "/bin/python"


def test_pwsh_live_scenarios_script_parses():
    # tests/pwsh/run.ps1 cannot run here; at least it is valid PowerShell.
    from realshell import REPO

    with open(os.path.join(REPO, "tests", "pwsh", "run.ps1"), encoding="utf-8") as handle:
        assert parse_errors(handle.read()) == []


def test_pwsh_snippet_uses_qualified_cmdlets_only():
    snippet = render_init("pwsh")
    code = "\n".join(line for line in snippet.splitlines() if not line.lstrip().startswith("#"))
    # Verb-Noun words not preceded by a module name: an alias or function could stand in.
    bare = re.findall(r"(?<![\\\w.-])([A-Z][a-z]+-[A-Z][A-Za-z]+)\b", code)
    assert bare == []


def test_pwsh_snippet_names_every_watched_name():
    snippet = render_init("pwsh")
    match = re.search(r"^\$global:__autoenv_names = \[string\[\]\]@\((.*)\)$", snippet, re.M)
    names = [decode_pwsh(item.strip()) for item in match.group(1).split(",")]
    assert names == list(detect.WATCHED_NAMES)


def pwsh_statements(out):
    """Helper output for pwsh as {target: decoded value}, checking each line's form."""
    values = {}
    for line in out.splitlines():
        assert parse_errors(line + "\n") == [], line
        match = re.match(r"^\$(env|global):(\w+) = (.*)$", line)
        if match:
            scope, name, expr = match.groups()
            if expr.startswith("[string[]]@(") or expr.startswith("@("):
                inner = expr.split("@(", 1)[1].rsplit(")", 1)[0]
                values[name] = [decode_pwsh(i.strip()) for i in split_top(inner)] if inner else []
            else:
                values[name] = decode_pwsh(expr)
            continue
        match = re.match(r"^\[System\.Environment\]::SetEnvironmentVariable\((.*), \$null\)$", line)
        if match:
            values[decode_pwsh(match.group(1))] = None
            continue
        match = re.match(r"^__autoenv_prompt_set (.*)$", line)
        assert match, "unexpected statement %r" % line
        values["prompt"] = decode_pwsh(match.group(1))
    return values


def split_top(inner):
    """Split 'a', ('b' + [char]0x0A), 'c' at the commas outside strings and parentheses."""
    items, depth, quoted, current = [], 0, False, []
    for char in inner:
        if char in "'\u2018\u2019\u201a\u201b":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        if char == "," and depth == 0 and not quoted:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return items


def test_pwsh_helper_output_hostile_activate_parses_and_reads_back(tmp_path):
    proj = str(tmp_path / HOSTILE)
    env = project(proj)
    out, _ = run_helper("pwsh", proj, {}, tmp_path)
    assert parse_errors(out) == []
    values = pwsh_statements(out)
    assert values["VIRTUAL_ENV"] == env
    assert values["VIRTUAL_ENV_PROMPT"] == HOSTILE
    assert values["prompt"] == "(%s) " % HOSTILE_SHOWN
    assert values["__autoenv_key"] == proj
    assert proj in values["__autoenv_above"]
    assert "$env:PATH = @(" in out and "-join [System.IO.Path]::PathSeparator" in out


def test_pwsh_helper_output_leave_parses(tmp_path):
    proj = str(tmp_path / HOSTILE)
    env = project(proj)
    inside = {"VIRTUAL_ENV": env, "VIRTUAL_ENV_PROMPT": HOSTILE, hook.OWNED_VAR: env,
              "PATH": ":".join(["/mine", env + "/bin"] + BASE.split(":")), "_AUTOENV_PYTHONHOME": "/ph'"}
    out, _ = run_helper("pwsh", str(tmp_path), inside, tmp_path)
    assert parse_errors(out) == []
    values = pwsh_statements(out)
    assert values["VIRTUAL_ENV"] is None and values[hook.OWNED_VAR] is None
    assert values["PYTHONHOME"] == "/ph'"
    assert values["prompt"] == ""


def test_pwsh_path_statement_reads_back(tmp_path):
    statement = render.get("pwsh").set_path(["/a b", "/it's", "/x\u2019y", ""])
    assert parse_errors(statement + "\n") == []
    assert pwsh_statements(statement) == {"PATH": ["/a b", "/it's", "/x\u2019y", ""]}


def test_pwsh_helper_output_catches_a_broken_renderer(tmp_path, monkeypatch):
    # If quoting stopped doubling quotes, the parse check above would notice.
    from autoenv.render import pwsh

    monkeypatch.setattr(pwsh, "_verbatim", lambda text: "'" + text + "'")
    proj = str(tmp_path / "it's")
    project(proj)
    out, _ = run_helper("pwsh", proj, {}, tmp_path)
    assert parse_errors(out) != []


# --- the structure: one snippet and one renderer per shell ------------------------

def test_every_shell_is_one_snippet_and_one_renderer():
    for name in render.SHELLS:
        renderer = render.get(name)
        assert os.path.isfile(os.path.join(snippet_dir(), "autoenv." + renderer.snippet_suffix))
        snippet = render_init(name)
        assert not re.search(r"@[A-Z]+@", snippet), name


def test_a_fifth_shell_needs_only_a_renderer(tmp_path):
    """The helper speaks only the renderer interface: a toy shell gets a full plan."""
    from autoenv.render import Shell

    class Toy(Shell):
        name = "toy"

        def quote(self, value):
            return repr(value)

        def export(self, name, value):
            return "export %s %s" % (name, self.quote(value))

        def unset(self, name):
            return "unset %s" % name

        def set_path(self, entries):
            return "path %s" % self.quote(entries)

        def set_local(self, name, value):
            return "local %s %s" % (name, self.quote(value))

        def set_local_list(self, name, values):
            return "local %s %s" % (name, self.quote(values))

        def call(self, function, *args):
            return "call %s %s" % (function, self.quote(args))

    env = project(str(tmp_path / "proj"))
    finding = hook.decide(detect.scan(str(tmp_path / "proj")), {"HOME": str(tmp_path)})
    plan = hook.plan_edits(Toy(), finding, {"PATH": BASE})
    hook.add_cache_state(plan, finding, "/stamp")
    text = plan.text()
    assert "export VIRTUAL_ENV %r" % env in text
    assert "path %r" % ([env + "/bin"] + BASE.split(":")) in text
    assert "call __autoenv_prompt_set ('(proj) ',)" in text


def test_fish_matches_the_answers_directory_as_a_glob_that_errs_only_inwards(tmp_path):
    """fish checks a cd against the directory the answer hangs on with one
    glob made per answer.  The project's own directories match, the
    directories around it do not; a lookalike the glob's wildcards let in
    (a * or ? in the name, a backslash made a *) is found outside by the walk
    up, and gets the right answer."""
    proj = tmp_path / "p.j*+?()[]{}|^$\\ é'\""
    (proj / "src" / "a").mkdir(parents=True)
    (proj / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    make_venv(str(proj / ".venv"))
    lookalike = tmp_path / "p.jXX+Y()[]{}|^$Z é'\""
    (lookalike / "sub").mkdir(parents=True)
    outside = tmp_path / "p.j"
    outside.mkdir()
    script = ("autoenv init fish | source; __autoenv_on_prompt; "
              "printf '%s\\n' $__autoenv_key; "
              "for dir in $argv; string match -q -- $__autoenv_key_glob $dir/; and echo in; or echo out; end; "
              "cd $argv[3]/sub; printf '[%s]\\n' \"$VIRTUAL_ENV\"; cd $argv[2]; printf '[%s]\\n' \"$VIRTUAL_ENV\"")
    result = fish(script, proj, env=own_places(tmp_path, PATH=os.path.dirname(AUTOENV) + ":" + BASE,
                                               AUTOENV_CREATE="0"),
                  args=[str(proj), str(proj / "src" / "a"), str(lookalike), str(outside), str(tmp_path)])
    assert result.stderr == b""
    venv = str(proj / ".venv")
    assert result.stdout.decode().split("\n") == [str(proj), "in", "in", "in", "out", "out",
                                                  "[]", "[%s]" % venv, ""]
