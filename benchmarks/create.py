"""First entry into a project without an env: autoenv's creation against `python -m venv`.

    python benchmarks/create.py [--python PATH] [--runs N]

Times, on the same interpreter, each until pip is usable:
  - the hook's helper entering a fresh project (creates .venv), seed cache warm
  - the same with an empty seed cache (the first env ever made with that Python)
  - `python -m venv` (what a user would otherwise run)
  - `uv venv --seed`, when uv is on PATH
Prints one line per way: median and min in seconds, and the ratio to `python -m venv`.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOOK = os.path.join(REPO, "autoenv", "_run_hook.py")


def timed(command, env=None, cwd=None):
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def check_pip(env_dir):
    subprocess.run([os.path.join(env_dir, "bin", "python"), "-m", "pip", "--version"], check=True,
                   stdout=subprocess.DEVNULL)


def autoenv_entry(work, python, cache, helper_python):
    project = tempfile.mkdtemp(dir=work)
    with open(os.path.join(project, "pyproject.toml"), "w"):
        pass
    with open(os.path.join(project, ".python-version"), "w") as handle:
        handle.write(python + "\n")
    env = dict(os.environ, HOME=work, XDG_CACHE_HOME=cache, XDG_STATE_HOME=os.path.join(work, "state"),
               XDG_CONFIG_HOME=os.path.join(work, "config"), XDG_RUNTIME_DIR=os.path.join(work, "run"))
    os.makedirs(env["XDG_RUNTIME_DIR"], exist_ok=True)
    took = timed([helper_python, "-I", "-S", HOOK, "bash", "1", project], env=env, cwd=project)
    check_pip(os.path.join(project, ".venv"))
    return took


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=None, help="interpreter for the envs (default: autoenv's own base)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, REPO)
    from autoenv import interpreters

    python = args.python or interpreters.own_interpreter().path
    work = tempfile.mkdtemp(prefix="autoenv-bench-create-")
    results = {}
    try:
        warm_cache = os.path.join(work, "warm-cache")
        autoenv_entry(work, python, warm_cache, sys.executable)  # fills the seed cache
        results["autoenv, seed cache warm"] = [autoenv_entry(work, python, warm_cache, sys.executable)
                                              for _ in range(args.runs)]
        results["autoenv, first env with this Python"] = [
            autoenv_entry(work, python, tempfile.mkdtemp(dir=work), sys.executable)
            for _ in range(max(1, args.runs // 2))]
        venv_times = []
        for _ in range(max(1, args.runs // 2)):
            target = os.path.join(tempfile.mkdtemp(dir=work), ".venv")
            venv_times.append(timed([python, "-m", "venv", target]))
            check_pip(target)
        results["python -m venv"] = venv_times
        uv = shutil.which("uv")
        if uv:
            uv_times = []
            for _ in range(args.runs):
                target = os.path.join(tempfile.mkdtemp(dir=work), ".venv")
                uv_times.append(timed([uv, "venv", "-q", "--seed", "--python", python, target]))
                check_pip(target)
            results["uv venv --seed"] = uv_times
    finally:
        shutil.rmtree(work, ignore_errors=True)
    baseline = statistics.median(results["python -m venv"])
    print("env creation until pip is usable, Python %s" % python)
    for name, times in results.items():
        median = statistics.median(times)
        print("  %-38s median %6.3f s  min %6.3f s  (%5.1fx faster than python -m venv)"
              % (name, median, min(times), baseline / median))


if __name__ == "__main__":
    main()
