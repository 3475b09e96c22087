"""The CPU a shell spends per round trip, for A/B-ing snippet templates.

    .venv/bin/python benchmarks/cpu.py bash prompt [--runs N] [TEMPLATES_DIR ...]

Wall-clock round trips (benchmarks/run.py) carry the pty, the scheduler and
the other shells' cache traffic; differences of 10 us drown in that.  This
reads the shell's own CPU time (/proc/PID/schedstat, nanoseconds) before and
after a block of round trips instead, for a bare shell, the snippet as
`autoenv init` prints it, and the snippet rendered from each templates
directory given (a `shells/` copy, e.g. from `git archive REV shells`).
Blocks alternate between the shells, each shell's round trips in a run of
their own (warm caches), or with --interleave one round trip of each shell
in turn as benchmarks/run.py does (each finds the caches the others left);
the first block is a warm-up.  Prints the median CPU and wall time per round
trip, and the spread of the blocks.
Linux only.  The case names are benchmarks/run.py's.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import run  # noqa: E402
from ptyshell import PtyShell  # noqa: E402

from autoenv import init as autoenv_init  # noqa: E402


def cpu_ns(pid):
    with open("/proc/%d/schedstat" % pid) as handle:
        return int(handle.read().split()[0])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("bash", "zsh", "fish"))
    parser.add_argument("case", choices=[case.name for case in run.CASES])
    parser.add_argument("templates", nargs="*", help="templates directories to compare")
    parser.add_argument("--runs", type=int, default=2000, help="round trips per shell (default %(default)s)")
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--interleave", action="store_true",
                        help="a round trip of each shell in turn, as benchmarks/run.py does: each runs with"
                             " the caches the others left (cold), not after its own (warm)")
    args = parser.parse_intermixed_args(argv)
    case = {each.name: each for each in run.CASES}[args.case]
    python = os.path.realpath(autoenv_init.helper_python())

    work = tempfile.mkdtemp(prefix="aec-", dir=run.quiet_dir())
    runtime = run.runtime_dir(work)
    shells = {}
    try:
        home = os.path.join(work, "home")
        os.makedirs(home)
        environ = run.base_environ(home, os.path.dirname(python), runtime)
        tree = run.make_tree(os.path.join(work, "ae"), "autoenv", python)
        variants = ["bare", "autoenv"] + args.templates
        for variant in variants:
            shell = PtyShell(args.kind, environ, cwd=home)
            if variant != "bare":
                kind = "autoenv" if variant == "autoenv" else "candidate"
                for line in run.setup_lines(kind, args.kind, work, None if variant == "autoenv" else variant):
                    shell.run(line)
            shell.run("cd " + run.quote(args.kind, case.start(tree)))
            shells[variant] = shell
        lines = case.lines(args.kind, tree)
        per_block = max(1, args.runs // args.blocks)
        cpu = {variant: [] for variant in variants}
        wall = {variant: [] for variant in variants}
        for block in range(args.blocks + 1):
            order = variants if block % 2 else variants[::-1]
            before, after, took = {}, {}, dict.fromkeys(order, 0)
            if args.interleave:
                before = {variant: cpu_ns(shells[variant].pid) for variant in order}
                for i in range(per_block):
                    for variant in order:
                        took[variant] += shells[variant].roundtrip(lines[i % len(lines)])
                after = {variant: cpu_ns(shells[variant].pid) for variant in order}
            else:
                for variant in order:
                    before[variant] = cpu_ns(shells[variant].pid)
                    for i in range(per_block):
                        took[variant] += shells[variant].roundtrip(lines[i % len(lines)])
                    after[variant] = cpu_ns(shells[variant].pid)
            if block:  # the first is a warm-up
                for variant in order:
                    cpu[variant].append((after[variant] - before[variant]) / per_block / 1000)
                    wall[variant].append(took[variant] / per_block / 1000)
        print("%s, %s: us per round trip, median of %d blocks of %d" % (args.kind, case.label, args.blocks, per_block))
        for variant in variants:
            print("  %-44s CPU %7.1f (spread %5.1f)   wall %7.1f" % (
                variant[-44:], statistics.median(cpu[variant]), statistics.pstdev(cpu[variant]),
                statistics.median(wall[variant])))
    finally:
        for shell in shells.values():
            shell.close()
        shutil.rmtree(work, ignore_errors=True)
        if runtime.startswith("/dev/shm/"):
            shutil.rmtree(runtime, ignore_errors=True)


if __name__ == "__main__":
    main()
