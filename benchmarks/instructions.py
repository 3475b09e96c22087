"""Instructions a shell runs per round trip, counted by callgrind.

    .venv/bin/python benchmarks/instructions.py bash prompt [TEMPLATES_DIR ...]

Wall and CPU time on a shared VM drift with the machine (a bare bash's CPU
per prompt has measured from 25 to 55 us in one day here); the instructions
a shell runs for the same line do not.  This starts each shell under
`valgrind --tool=callgrind` on a pty, as benchmarks/run.py starts them, sends
the case's lines, and counts the instructions of two runs of different
lengths: their difference over the difference in round trips is the cost of
one, start-up and exit left out.  Shells: a bare one, the snippet as
`autoenv init` prints it, and the snippet rendered from each templates
directory given (a `shells/` copy, e.g. from `git archive REV shells`).
Instructions are not time (a cache miss costs more than an addition), so
use it to compare snippet templates, beside benchmarks/cpu.py.  Needs
valgrind; a few minutes per case (valgrind runs a shell some 50x slower).
The case names are benchmarks/run.py's.
"""

import argparse
import os
import re
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import ptyshell  # noqa: E402
import run  # noqa: E402

from autoenv import init as autoenv_init  # noqa: E402

WARMUP = 20


def exit_pending(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def count(kind, variant, environ, home, work, start, lines, rounds):
    """Instructions a shell ran from its start to its exit, after ``rounds`` round trips."""
    out = os.path.join(work, "callgrind.out")
    argv = ptyshell.SHELL_ARGV[kind]
    ptyshell.SHELL_ARGV[kind] = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + argv
    try:
        shell = ptyshell.PtyShell(kind, environ, cwd=home, timeout=600)
    finally:
        ptyshell.SHELL_ARGV[kind] = argv
    try:
        if variant != "bare":
            which = "autoenv" if variant == "autoenv" else "candidate"
            for line in run.setup_lines(which, kind, work, None if which == "autoenv" else variant):
                shell.run(line)
        shell.run("cd " + run.quote(kind, start))
        # Past the helper's 50 ms stamp margin: a tree made just now reads as changed until then.
        time.sleep(0.2)
        for i in range(WARMUP + rounds):
            shell.roundtrip(lines[i % len(lines)])
        shell.send("exit")
        # callgrind writes its file as the shell exits: wait for that (a
        # zombie) before close(), which would kill it after 3 s.
        deadline = time.monotonic() + 120
        while exit_pending(shell.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        shell.close()
    with open(out) as handle:
        found = re.search(r"^(?:summary|totals): (\d+)", handle.read(), re.M)
    os.unlink(out)
    return int(found.group(1))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("bash", "zsh", "fish"))
    parser.add_argument("case", choices=[case.name for case in run.CASES])
    parser.add_argument("templates", nargs="*", help="templates directories to compare")
    parser.add_argument("--rounds", type=int, default=0,
                        help="round trips in the longer run (default: 1000, or 300 where each is a first visit)")
    args = parser.parse_args(argv)
    if not shutil.which("valgrind"):
        parser.error("valgrind is not installed (Debian: apt-get install valgrind)")
    case = {each.name: each for each in run.CASES}[args.case]
    first_visits = args.case.endswith("new")
    longer = args.rounds or (300 if first_visits else 1000)
    shorter = max(1, longer // 6)
    if first_visits and WARMUP + longer > run.FRESH_DIRS:
        parser.error("--rounds %d: only %d directories not visited before" % (longer, run.FRESH_DIRS - WARMUP))
    python = os.path.realpath(autoenv_init.helper_python())
    work = tempfile.mkdtemp(prefix="aei-", dir=run.quiet_dir())
    runtime = run.runtime_dir(work)
    try:
        home = os.path.join(work, "home")
        os.makedirs(home)
        environ = run.base_environ(home, os.path.dirname(python), runtime)
        tree = run.make_tree(os.path.join(work, "ae"), "autoenv", python)
        lines = case.lines(args.kind, tree)
        print("%s, %s: instructions per round trip (callgrind; runs of %d and %d)"
              % (args.kind, case.label, shorter, longer))
        for variant in ["bare", "autoenv"] + args.templates:
            few = count(args.kind, variant, environ, home, work, case.start(tree), lines, shorter)
            many = count(args.kind, variant, environ, home, work, case.start(tree), lines, longer)
            print("  %-44s %9.0f" % (variant[-44:], (many - few) / (longer - shorter)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if runtime.startswith("/dev/shm/"):
            shutil.rmtree(runtime, ignore_errors=True)


if __name__ == "__main__":
    main()
