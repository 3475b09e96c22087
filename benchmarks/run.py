"""Time autoenv in real interactive shells: ``.venv/bin/python benchmarks/run.py``.

Every number is a median round trip (line sent on the pty -> next prompt drawn)
minus the same round trip in a bare shell of the same kind, measured
interleaved so that load on the machine hits both alike.  Beside autoenv:
direnv with a minimal ``.envrc`` and with ``layout python3`` (when direnv is
installed), and the floor of any Python helper, ``python -I -S -c pass`` run
from the shell the way the snippet runs the helper (inside ``$(...)``).

Options: ``--quick`` (fewer runs), ``--shells bash,zsh``, ``--runs N``,
``--json FILE`` (raw medians), ``--no-direnv``, ``--cases prompt,deep-prompt``,
``--candidate DIR`` (templates to compare).
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)
sys.path.insert(0, HERE)

from autoenv import hook as autoenv_hook  # noqa: E402
from autoenv import init as autoenv_init  # noqa: E402
from ptyshell import PtyShell  # noqa: E402

DEPTH = 40
# Directories a "first visit" case goes into, one a round (after that many,
# it starts over; by then the shell has forgotten the first ones it walked).
FRESH_DIRS = 1000
BUDGETS_MS = {"prompt": 0.1, "cd": 1.0, "switch": 8.0}


# ---------------------------------------------------------------- the trees

def make_tree(base, tool, python):
    """The same directory layout for each tool; only the project files differ.

    ``tool`` is "autoenv" (pyproject.toml + .venv), "direnv" (.envrc with one
    export) or "layout" (.envrc with ``layout python3``).
    """
    deep = os.path.join(base, *("d%02d" % i for i in range(1, DEPTH + 1)))
    projects = {
        "A": os.path.join(base, "projA"),
        "B": os.path.join(base, "projB"),
        "deepA": os.path.join(deep, "projA"),
        "deepB": os.path.join(deep, "projB"),
    }
    for letter, root in projects.items():
        for sub in ("one", "two"):
            os.makedirs(os.path.join(root, "src", sub))
        for index in range(FRESH_DIRS):
            os.makedirs(os.path.join(root, "src", "new", "n%03d" % index))
        if tool == "autoenv":
            with open(os.path.join(root, "pyproject.toml"), "w") as handle:
                handle.write('[project]\nname = "bench%s"\n' % letter)
            subprocess.run([python, "-m", "venv", "--without-pip", os.path.join(root, ".venv")], check=True)
        elif tool == "direnv":
            with open(os.path.join(root, ".envrc"), "w") as handle:
                handle.write("export BENCH_PROJECT=%s\n" % letter)
        else:
            with open(os.path.join(root, ".envrc"), "w") as handle:
                handle.write("layout python3\n")
    deep_sub = os.path.join(projects["A"], *("s%02d" % i for i in range(1, DEPTH + 1)))
    os.makedirs(deep_sub)
    for sub in ("one", "two"):
        os.makedirs(os.path.join(base, "plain", sub))
    return dict(projects, deep_sub=deep_sub, plain=os.path.join(base, "plain"))


class Case:
    def __init__(self, name, label, budget, start, lines, runs_factor=1):
        self.name = name
        self.label = label
        self.budget = budget  # key of BUDGETS_MS, or None
        self.start = start  # tree -> directory to stand in
        self.lines = lines  # (kind, tree) -> lines sent in turn
        self.runs_factor = runs_factor  # times --runs (see MORE_RUNS)


def cd_lines(*picks):
    def lines(kind, tree):
        return ["cd " + quote(kind, pick(tree)) for pick in picks]
    return lines


def fresh_lines(project):
    """A cd into a directory of ``project`` not visited before, each round."""
    def lines(kind, tree):
        base = os.path.join(tree[project], "src", "new")
        return ["cd " + quote(kind, os.path.join(base, "n%03d" % index)) for index in range(FRESH_DIRS)]
    return lines


def quote(kind, value):
    if kind == "fish":
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return "'" + value.replace("'", "'\\''") + "'"


def unchanged_prompt(kind, tree):
    # fish runs nothing, and so prints no start marker, for an empty line.
    return ["true" if kind == "fish" else ""]


def join(*parts):
    return lambda tree: os.path.join(tree[parts[0]], *parts[1:])


# Variants that start a process at every prompt, measured in rounds of
# their own against the bare shell's round trips in those rounds (see
# bench_shell).
FORKING_NEIGHBOURS = ("direnv", "layout")
NEIGHBOURS_BARE = "bare beside direnv"

# The cases nearest their budgets take this many times more round trips:
# an unchanged prompt, which costs a tenth of what a cd does under the same
# noise (the budget is 0.1 ms, and medians moved by 0.03 between runs of
# 150), and a first visit (fish's 40 deep moved by 0.5 ms between runs of
# 150 a minute apart).
MORE_RUNS = 4

CASES = [
    Case("prompt", "prompt, nothing changed (in a project subdir)", "prompt",
         join("A", "src", "one"), unchanged_prompt, MORE_RUNS),
    Case("cd-project", "cd inside one project (src/one <-> src/two)", "cd",
         join("A", "src", "one"), cd_lines(join("A", "src", "two"), join("A", "src", "one"))),
    Case("cd-new", "cd into a project dir not visited before", "cd",
         join("A", "src", "new"), fresh_lines("A"), MORE_RUNS),
    Case("cd-plain", "cd between dirs with no project", "cd",
         join("plain", "one"), cd_lines(join("plain", "two"), join("plain", "one"))),
    Case("switch", "cd that switches envs (A <-> B)", "switch",
         join("A"), cd_lines(join("B"), join("A"))),
    Case("deep-prompt", "prompt in a project %d dirs deep" % DEPTH, "prompt",
         join("deepA", "src", "one"), unchanged_prompt, MORE_RUNS),
    Case("deep-cd", "cd inside a project %d dirs deep" % DEPTH, "cd",
         join("deepA", "src", "one"), cd_lines(join("deepA", "src", "two"), join("deepA", "src", "one"))),
    Case("deep-new", "cd into a project dir not visited before, %d deep" % DEPTH, "cd",
         join("deepA", "src", "new"), fresh_lines("deepA"), MORE_RUNS),
    Case("deep-sub", "cd project root <-> its subdir %d below" % DEPTH, "cd",
         join("A"), cd_lines(join("deep_sub"), join("A"))),
    Case("deep-switch", "switch between projects %d dirs deep" % DEPTH, "switch",
         join("deepA"), cd_lines(join("deepB"), join("deepA"))),
]


# ---------------------------------------------------------------- shells

def runtime_dir(work):
    """$XDG_RUNTIME_DIR for the shells: on a memory file system where there is
    one, as systemd makes /run/user/UID (the stamp and the server's channel
    live there; on a disk every file a request makes costs several times
    more), else in the work dir."""
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK | os.X_OK):
        return tempfile.mkdtemp(prefix="aeb-run-", dir="/dev/shm")
    return os.path.join(work, "home", ".run")


def base_environ(home, bin_dir, runtime):
    environ = {
        "HOME": home,
        "PATH": os.pathsep.join([bin_dir, "/usr/local/bin", "/usr/bin", "/bin"]),
        "TERM": "dumb",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "XDG_CACHE_HOME": os.path.join(home, ".cache"),
        "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
        "XDG_STATE_HOME": os.path.join(home, ".local", "state"),
        "XDG_RUNTIME_DIR": runtime,
        "DIRENV_LOG_FORMAT": "",
    }
    os.makedirs(environ["XDG_RUNTIME_DIR"], mode=0o700, exist_ok=True)
    return environ


def snippet_file(kind, work, templates=None):
    """The snippet `autoenv init KIND` prints, or the same rendered from other templates."""
    text = autoenv_init.render_init(kind, templates)
    path = os.path.join(work, ("autoenv-init." if templates is None else "candidate-init.") + kind)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def setup_lines(variant, kind, work, candidate=None):
    if variant in ("autoenv", "candidate"):
        path = snippet_file(kind, work, candidate if variant == "candidate" else None)
        return ["source " + quote(kind, path)]
    if variant == "process":
        # autoenv as it was before its server: one helper process per switch.
        path = snippet_file(kind, work)
        return ["set -gx AUTOENV_SERVE 0" if kind == "fish" else "export AUTOENV_SERVE=0", "source " + quote(kind, path)]
    if variant in ("direnv", "layout"):
        return ["direnv hook fish | source" if kind == "fish" else 'eval "$(direnv hook %s)"' % kind]
    return []


def floor_line(kind, python):
    if kind == "fish":
        return "set __x (%s -I -S -c pass)" % quote(kind, python)
    return "__x=$(%s -I -S -c pass)" % quote(kind, python)


def helper_line(kind, python, helper, pwd):
    """The helper exactly as the snippet starts it, output thrown away."""
    args = " ".join(quote(kind, a) for a in (python, "-I", "-S", helper, kind, "1", pwd))
    if kind == "fish":
        return "set __x (%s)" % args
    return "__x=$(%s)" % args


# ---------------------------------------------------------------- measuring

def median_ms(samples):
    return statistics.median(samples) / 1e6


def stamp_mtime(path):
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def measure(shells, lines_for, runs, warmup, stamps, start=0):
    """Round trips for each shell, interleaved.

    Returns ({variant: [ns, ...]}, {variant: helper runs}).  A helper run is
    seen as a new mtime of that shell's stamp file (``stamps``: variant -> path),
    which every run of the helper rewrites.  The lines are taken in turn from
    index ``start`` (a later pass goes on where the one before stopped).
    """
    samples = {variant: [] for variant in shells}
    helper_runs = {variant: 0 for variant in stamps}
    order = list(shells)
    total = warmup + runs
    for i in range(total):
        # Rotate who goes first so no variant always follows the same neighbour.
        rotated = order[i % len(order):] + order[: i % len(order)]
        for variant in rotated:
            lines = lines_for[variant]
            before = stamp_mtime(stamps[variant]) if variant in stamps else None
            took = shells[variant].roundtrip(lines[(start + i) % len(lines)])
            if i >= warmup:
                samples[variant].append(took)
                if variant in stamps and stamp_mtime(stamps[variant]) != before:
                    helper_runs[variant] += 1
    return samples, helper_runs


def check(shell, line, expect, what):
    # Only the first line: the prompt prefix "(name) " follows it.
    got = shell.run(line).strip().split("\n")[0]
    if got != expect:
        raise SystemExit("benchmark setup broken: %s: expected %r, got %r" % (what, expect, got))


def sanity(kind, shells, trees):
    """Make sure each tool really switches, else the numbers would be meaningless."""
    for variant, shell in shells.items():
        tree = trees.get(variant, trees["autoenv"])
        if variant in ("autoenv", "candidate", "process"):
            shell.run("cd " + quote(kind, tree["B"]))
            check(shell, 'printf "[%s]\\n" "$VIRTUAL_ENV"', "[%s]" % os.path.join(tree["B"], ".venv"),
                  "%s autoenv activates project B" % kind)
        elif variant == "direnv":
            shell.run("cd " + quote(kind, tree["B"]))
            check(shell, 'printf "[%s]\\n" "$BENCH_PROJECT"', "[B]", "%s direnv loads B" % kind)
        elif variant == "layout":
            shell.run("cd " + quote(kind, tree["B"]))
            out = shell.run('printf "[%s]\\n" "$VIRTUAL_ENV"').strip().split("\n")[0]
            if not out.startswith("[" + tree["B"]):
                raise SystemExit("benchmark setup broken: %s direnv layout python3: VIRTUAL_ENV=%s" % (kind, out))


# Peak RSS of one run.  A child started from this process inherits its
# high-water mark across exec, so the process is started and waited for by a
# small Python parent that reports the child's ru_maxrss (KiB on Linux).
_RSS_PARENT = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    fd = os.open(os.devnull, os.O_WRONLY); os.dup2(fd, 1)\n"
    "    os.execv(sys.argv[1], sys.argv[1:])\n"
    "print(os.wait4(pid, 0)[2].ru_maxrss)\n"
)


def peak_rss_kib(argv, environ):
    out = subprocess.run([argv[0], "-I", "-S", "-c", _RSS_PARENT] + list(argv), env=environ,
                         capture_output=True, text=True, check=True).stdout
    return int(out.split()[-1])


def helper_facts(python, helper, environ, pwd, runs):
    """The helper started directly (no shell): median wall time and peak RSS, beside the floor."""
    def spawn(argv):
        start = time.perf_counter_ns()
        pid = os.posix_spawn(argv[0], argv, environ,
                             file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
        _, status, usage = os.wait4(pid, 0)
        took = time.perf_counter_ns() - start
        if status != 0:
            raise SystemExit("helper failed: %r" % (argv,))
        return took, (usage.ru_utime + usage.ru_stime) * 1e9

    commands = (("floor", [python, "-I", "-S", "-c", "pass"]),
                ("floor_os", [python, "-I", "-S", "-c", "import os"]),
                ("helper", [python, "-I", "-S", helper, "bash", "1", pwd]))
    samples = {name: [] for name, _ in commands}
    for i in range(runs + 1):
        for name, argv in commands:  # interleaved, as in the shells
            result = spawn(argv)
            if i:
                samples[name].append(result)
    facts = {}
    for name, argv in commands:
        facts[name] = {
            "median_ms": median_ms([r[0] for r in samples[name]]),
            "cpu_ms": median_ms([r[1] for r in samples[name]]),
            "peak_rss_kib": max(peak_rss_kib(argv, environ) for _ in range(3)),
        }
    return facts


# ---------------------------------------------------------------- report

def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d CPUs (nproc), %s %s, Python %s" % (
        model, os.cpu_count() or 0, platform.system(), platform.release(), platform.python_version())


def shell_version(kind):
    try:
        out = subprocess.run([kind, "--version"], capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return kind
    return out.strip().splitlines()[0] if out.strip() else kind


def fmt(value):
    if value is None:
        return "–"
    if abs(value) < 1:
        return "%.2f" % value
    return "%.1f" % value


def verdict(case, value):
    if case.budget is None or value is None:
        return ""
    limit = BUDGETS_MS[case.budget]
    return ("meets ≤%g" if value <= limit else "**misses** ≤%g") % limit


def print_table(kind, results, variants):
    names = {"autoenv": "autoenv", "process": "autoenv, no server", "candidate": "candidate snippets",
             "direnv": "direnv (export)", "layout": "direnv (layout python3)"}
    shown = [v for v in ("autoenv", "process", "candidate", "direnv", "layout") if v in variants]
    print("\n#### %s (%s), ms above a bare shell (median)\n" % (kind, shell_version(kind)))
    print("| case | bare shell round trip | " + " | ".join(names[v] for v in shown)
          + " | autoenv helper runs | autoenv budget |")
    print("|---|---|" + "---|" * len(shown) + "---|---|")
    for case in CASES:
        row = results[case.name]
        cells = [fmt(row.get(v)) for v in shown]
        print("| %s | %s | %s | %d/%d | %s |" % (case.label, fmt(row["bare"]), " | ".join(cells),
                                               row["helper_runs"], row["runs"],
                                               verdict(case, row.get("autoenv"))))
    floor = results["floor"]
    dashes = " | ".join(["–"] * (len(shown) - 1))
    print("| `python -I -S -c pass` in `$(...)` (floor of any Python helper) | %s | %s | %s | | |" % (
        fmt(floor["bare"]), fmt(floor["floor"]), dashes))
    print("| the helper itself in `$(...)` (what a switch pays at least) | %s | %s | %s | | |" % (
        fmt(floor["bare"]), fmt(floor["helper"]), dashes))


# ---------------------------------------------------------------- main

def available(kind):
    if shutil.which(kind) is None:
        return False
    return kind != "fish" or os.path.exists(os.path.join(autoenv_init.snippet_dir(), "autoenv.fish"))


def bench_shell(kind, args, trees, environ, work, python, helper):
    variants = (["bare", "autoenv", "process"] + (["candidate"] if args.candidate else [])
                + (["direnv", "layout"] if trees.get("direnv") else []))
    shells = {}
    try:
        for variant in variants:
            shell = PtyShell(kind, environ, cwd=environ["HOME"])
            for line in setup_lines(variant, kind, work, args.candidate):
                shell.run(line)
            shells[variant] = shell
        sanity(kind, shells, trees)
        # Each case in a few passes over all cases, so that a spell of load on
        # the machine (this is often a VM) falls on several cases a little
        # rather than on one case whole.
        collected = {case.name: {variant: [] for variant in variants + [NEIGHBOURS_BARE]} for case in CASES}
        # direnv starts processes at every prompt, which end on the machine
        # while the next shell's round trip runs: its variants go in rounds
        # of their own, beside a bare shell's, not between autoenv's.
        groups = [[v for v in variants if v not in FORKING_NEIGHBOURS],
                  ["bare"] + [v for v in variants if v in FORKING_NEIGHBOURS]]
        helper_runs_of = dict.fromkeys(collected, 0)
        taken = dict.fromkeys(collected, 0)
        for _ in range(args.passes):
            for case in CASES:
                if case.budget == "switch":
                    runs = max(5, args.runs // 4)
                else:
                    runs = args.runs * case.runs_factor
                runs = max(1, -(-runs // args.passes))
                warmup = max(2, runs // 10)
                for variant, shell in shells.items():
                    tree = trees.get(variant, trees["autoenv"])
                    shell.run("cd " + quote(kind, case.start(tree)))
                lines_for = {v: case.lines(kind, trees.get(v, trees["autoenv"])) for v in shells}
                stamps = {v: autoenv_hook.stamp_path(environ, shells[v].pid)
                          for v in ("autoenv", "candidate", "process") if v in shells}
                for number, group in enumerate(groups):
                    if len(group) < 2:
                        continue
                    samples, helper_runs = measure({v: shells[v] for v in group}, lines_for, runs, warmup,
                                                   {v: p for v, p in stamps.items() if v in group},
                                                   start=taken[case.name])
                    helper_runs_of[case.name] += helper_runs.get("autoenv", 0)
                    for variant in group:
                        key = NEIGHBOURS_BARE if number and variant == "bare" else variant
                        collected[case.name][key] += samples[variant]
                taken[case.name] += warmup + runs
        results = {}
        for case in CASES:
            samples = collected[case.name]
            bare = median_ms(samples["bare"])
            results[case.name] = {"bare": bare, "helper_runs": helper_runs_of[case.name],
                                  "runs": len(samples["bare"])}
            for variant in variants[1:]:
                beside = samples[NEIGHBOURS_BARE] if variant in FORKING_NEIGHBOURS else samples["bare"]
                results[case.name][variant] = median_ms(samples[variant]) - median_ms(beside)
            print("  %s %-12s %s" % (kind, case.name, "  ".join(
                "%s=%.3f" % (v, results[case.name][v]) for v in variants)), file=sys.stderr)
        results["server_kib"] = server_peak_rss_kib(shells["autoenv"])
        # The floor and the helper, from the bare shell, against its empty line.
        bare = shells["bare"]
        bare.run("cd " + quote(kind, trees["autoenv"]["A"]))
        pwd = trees["autoenv"]["A"]
        runs = max(5, args.runs // 4)
        lines = {"bare": unchanged_prompt(kind, None), "floor": [floor_line(kind, python)],
                 "helper": [helper_line(kind, python, helper, pwd)]}
        samples = {"bare": [], "floor": [], "helper": []}
        for i in range(runs + 3):
            for name in ("bare", "floor", "helper"):
                took = bare.roundtrip(lines[name][0])
                if i >= 3:
                    samples[name].append(took)
        base = median_ms(samples["bare"])
        results["floor"] = {"bare": base, "floor": median_ms(samples["floor"]) - base,
                            "helper": median_ms(samples["helper"]) - base}
        return results, variants
    finally:
        for shell in shells.values():
            shell.close()


def server_peak_rss_kib(shell):
    """The peak RSS of the server of the autoenv shell (from /proc), or None."""
    pid = shell.run('echo "[$__autoenv_serve_pid]"').strip().split("\n")[0].strip("[]")
    try:
        with open("/proc/%s/status" % pid) as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def print_summary(everything):
    """One table for all shells: what the README shows."""
    kinds = list(everything["shells"])
    if not kinds:
        return
    has_direnv = any("direnv" in everything["shells"][k][case.name] for k in kinds for case in CASES)
    print("\n### Summary: ms above a bare shell, median (helper runs in brackets when not 0)\n")
    head = ["case", "budget"] + ["autoenv %s" % k for k in kinds]
    head.append("no server, AUTOENV_SERVE=0 (%s)" % "/".join(kinds))
    if has_direnv:
        head += ["direnv export (%s)" % "/".join(kinds), "direnv layout python3 (%s)" % "/".join(kinds)]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for case in CASES:
        cells = [case.label, "≤%g" % BUDGETS_MS[case.budget]]
        for kind in kinds:
            row = everything["shells"][kind][case.name]
            cell = fmt(row["autoenv"])
            if row["helper_runs"] and case.budget != "switch":
                cell += " (%d/%d)" % (row["helper_runs"], row["runs"])
            cells.append(cell if row["autoenv"] <= BUDGETS_MS[case.budget] else "**%s**" % cell)
        cells.append(" / ".join(fmt(everything["shells"][k][case.name].get("process")) for k in kinds))
        if has_direnv:
            for tool in ("direnv", "layout"):
                cells.append(" / ".join(fmt(everything["shells"][k][case.name].get(tool)) for k in kinds))
        print("| " + " | ".join(cells) + " |")
    for key, label in (("floor", "`python -I -S -c pass` in `$(...)`"), ("helper", "the helper alone in `$(...)`")):
        cells = [label, ""] + [fmt(everything["shells"][k]["floor"][key]) for k in kinds] + [""]
        if has_direnv:
            cells += ["", ""]
        print("| " + " | ".join(cells) + " |")
    servers = ["%s %.1f MiB" % (k, everything["shells"][k]["server_kib"] / 1024) for k in kinds
               if everything["shells"][k].get("server_kib")]
    if servers:
        print("\nThe server's peak RSS (one per shell): %s." % ", ".join(servers))
    facts = everything.get("helper")
    if facts:
        print("\nHelper started directly: %.1f ms wall, %.1f ms CPU, peak RSS %.1f MiB; "
              "`python -I -S -c pass` %.1f ms wall, %.1f ms CPU, %.1f MiB; with `import os` %.1f ms CPU."
              % (facts["helper"]["median_ms"], facts["helper"]["cpu_ms"], facts["helper"]["peak_rss_kib"] / 1024,
                 facts["floor"]["median_ms"], facts["floor"]["cpu_ms"], facts["floor"]["peak_rss_kib"] / 1024,
                 facts["floor_os"]["cpu_ms"]))


def run_creation(args):
    script = os.path.join(HERE, "create.py")
    if not os.path.exists(script):
        print("\n(first entry / creation: benchmarks/create.py is not there yet; not measured)")
        return
    print("\n### First entry (env created)\n")
    sys.stdout.flush()
    command = [sys.executable, script, "--runs", "2" if args.quick else "3"]
    subprocess.run(command, check=False)


def quiet_dir():
    """/var/tmp when usable: /tmp changes every second on a busy machine."""
    return "/var/tmp" if os.access("/var/tmp", os.W_OK | os.X_OK) else tempfile.gettempdir()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs (about a quarter)")
    parser.add_argument("--runs", type=int, default=None, help="round trips per cheap case (default 150)")
    parser.add_argument("--shells", default="bash,zsh,fish")
    parser.add_argument("--no-direnv", action="store_true")
    parser.add_argument("--no-create", action="store_true", help="skip the first-entry benchmark")
    parser.add_argument("--json", help="also write the raw medians here")
    parser.add_argument("--dir", default=quiet_dir(),
                        help="where the project trees go (default %(default)s).  Every directory above"
                             " them is on the path: one that changes (a busy /tmp) reruns the helper")
    parser.add_argument("--passes", type=int, default=3,
                        help="passes over all cases, each taking its share of the runs (default %(default)s)")
    parser.add_argument("--cases", metavar="NAMES",
                        help="only these cases, comma-separated (of: %s)" % ", ".join(c.name for c in CASES))
    parser.add_argument("--candidate", metavar="DIR",
                        help="also time snippets rendered from the templates in DIR (A/B a snippet change)")
    args = parser.parse_args(argv)
    if args.runs is None:
        args.runs = 40 if args.quick else 150
    if args.passes < 1:
        parser.error("--passes must be 1 or more")
    # A first visit takes a directory of its own each round.
    per_pass = -(-args.runs * MORE_RUNS // args.passes)
    if args.passes * (per_pass + max(2, per_pass // 10)) > FRESH_DIRS:
        parser.error("--runs %d needs more than the %d directories not visited before" % (args.runs, FRESH_DIRS))
    if args.cases:
        wanted = args.cases.split(",")
        unknown = set(wanted) - {c.name for c in CASES}
        if unknown:
            parser.error("unknown case: %s" % ", ".join(sorted(unknown)))
        CASES[:] = [c for c in CASES if c.name in wanted]

    python = autoenv_init.helper_python()
    helper = autoenv_init.helper_path()
    real_python = os.path.realpath(python)
    direnv = None if args.no_direnv else shutil.which("direnv")
    kinds = [k for k in args.shells.split(",") if k]
    skipped = [k for k in kinds if not available(k)]
    kinds = [k for k in kinds if k not in skipped]

    work = tempfile.mkdtemp(prefix="aeb-", dir=args.dir)
    runtime = runtime_dir(work)
    try:
        home = os.path.join(work, "home")
        bin_dir = os.path.join(work, "bin")
        os.makedirs(home)
        os.makedirs(bin_dir)
        # direnv's `layout python3` runs python3 from PATH: the real one, not a shim.
        os.symlink(real_python, os.path.join(bin_dir, "python3"))
        environ = base_environ(home, bin_dir, runtime)
        trees = {"autoenv": make_tree(os.path.join(work, "ae"), "autoenv", real_python)}
        if direnv:
            trees["direnv"] = make_tree(os.path.join(work, "dm"), "direnv", real_python)
            trees["layout"] = make_tree(os.path.join(work, "dl"), "layout", real_python)
            for tool in ("direnv", "layout"):
                for key in ("A", "B", "deepA", "deepB"):
                    subprocess.run([direnv, "allow", trees[tool][key]], env=environ, check=True)
                    # `layout python3` builds its venv on first load: do that now, untimed.
                    subprocess.run([direnv, "exec", trees[tool][key], "true"], env=environ, check=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        started = time.monotonic()
        print("## autoenv benchmark, %s\n" % datetime.date.today().isoformat())
        print("Machine: %s  " % machine())
        print("Helper interpreter: `%s`; project trees under %s; $XDG_RUNTIME_DIR %s  "
              % (real_python, args.dir, runtime))
        print("direnv: %s  " % (subprocess.run([direnv, "version"], capture_output=True, text=True).stdout.strip()
                                if direnv else "not measured" if args.no_direnv else "not installed"))
        print("Runs per case: %d (unchanged prompts and first visits: %d, switches: %d), in %d passes over all"
              " cases; median of round trips minus the bare shell's median."
              % (args.runs, args.runs * MORE_RUNS, max(5, args.runs // 4), args.passes))
        print("Load average at the start: %.2f %.2f %.2f (other work on the machine adds noise)  "
              % os.getloadavg())
        if skipped:
            print("Not measured (shell or its autoenv snippet missing): %s" % ", ".join(skipped))
        sys.stdout.flush()

        everything = {"machine": machine(), "date": datetime.date.today().isoformat(), "shells": {}}
        for kind in kinds:
            results, variants = bench_shell(kind, args, trees, environ, work, python, helper)
            everything["shells"][kind] = results
            print_table(kind, results, variants)
            sys.stdout.flush()

        facts = helper_facts(python, helper, environ, trees["autoenv"]["A"], runs=max(10, args.runs // 4))
        everything["helper"] = facts
        print("\n#### The helper started directly (no shell), switching into a project\n")
        print("| process | median wall ms | median CPU ms (user+sys) | peak RSS MiB |")
        print("|---|---|---|---|")
        for name, label in (("floor", "`python -I -S -c pass`"),
                            ("floor_os", "`python -I -S -c 'import os'` (any helper needs os)"),
                            ("helper", "autoenv helper (`python -I -S _run_hook.py bash ...`)")):
            print("| %s | %.1f | %.1f | %.1f |" % (label, facts[name]["median_ms"], facts[name]["cpu_ms"],
                                                 facts[name]["peak_rss_kib"] / 1024))
        sys.stdout.flush()

        print_summary(everything)
        sys.stdout.flush()
        if not args.no_create:
            run_creation(args)
        print("\n(total %.0f s; load average at the end: %.2f %.2f %.2f)"
              % ((time.monotonic() - started,) + os.getloadavg()))
        if args.json:
            with open(args.json, "w") as handle:
                json.dump(everything, handle, indent=1)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(runtime, ignore_errors=True)


if __name__ == "__main__":
    main()
