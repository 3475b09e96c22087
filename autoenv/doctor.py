"""``autoenv doctor``: check an installation end to end and say what is wrong.

Each check gives one line: ``ok``, ``warn`` (works, but worth knowing) or
``FAIL`` (autoenv will not work as expected), with what to do about it.
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

from autoenv import hook, init, trust
from autoenv.trust import printable

OK, WARN, FAIL, INFO = "ok", "warn", "FAIL", "info"


def rc_files(environ):
    """Where install.sh (and the README) put each shell's init line."""
    home = environ.get("HOME") or os.path.expanduser("~")
    config = environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    return {
        "bash": [os.path.join(home, ".bashrc"), os.path.join(home, ".bash_profile")],
        "zsh": [os.path.join(environ.get("ZDOTDIR") or home, ".zshrc")],
        "fish": [os.path.join(config, "fish", "conf.d", "autoenv.fish"),
                 os.path.join(config, "fish", "config.fish")],
        "pwsh": [os.path.join(config, "powershell", "Microsoft.PowerShell_profile.ps1"),
                 os.path.join(config, "powershell", "profile.ps1")],
    }


class Report:
    def __init__(self):
        self.lines = []
        self.failed = False

    def add(self, level, text):
        if level == FAIL:
            self.failed = True
        self.lines.append("%-5s %s" % (level, text))

    def text(self):
        return "\n".join(self.lines)


def _init_lines(path, shell):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read(1024 * 1024)
    except OSError:
        return []
    return [line.strip() for line in text.splitlines()
            if "autoenv" in line and "init" in line and not line.lstrip().startswith("#")
            and (shell in line or "init |" in line or line.rstrip().endswith("init)\""))]


def check_rc_lines(report, environ, current_shell):
    found_any = False
    for shell, paths in rc_files(environ).items():
        hits = [(path, line) for path in paths for line in _init_lines(path, shell)]
        if hits:
            found_any = True
            for path, line in hits:
                report.add(OK, "%s: %s hooks autoenv: %s" % (shell, printable(path), printable(line[:120])))
        elif shell == current_shell:
            report.add(FAIL, "%s: no autoenv init line in %s; add: %s" % (
                shell, " or ".join(printable(p) for p in paths), _suggested_line(shell)))
    if not found_any and current_shell is None:
        report.add(WARN, "no shell start-up file hooks autoenv (run ./install.sh or see README)")


def _suggested_line(shell):
    return {
        "bash": 'eval "$(autoenv init bash)"',
        "zsh": 'eval "$(autoenv init zsh)"',
        "fish": "autoenv init fish | source",
        "pwsh": "autoenv init pwsh | Out-String | Invoke-Expression",
    }[shell]


def check_hook_active(report, environ, shell, pid):
    """The helper writes a stamp file named after the shell's process id on every run."""
    if shell is None:
        report.add(WARN, "hook: cannot tell which shell started autoenv doctor; run it from your shell")
        return
    stamp = hook.stamp_path(environ, pid)
    # The first stamp dir may be unwritable; the helper then uses the next.
    found = [path for path in (os.path.join(d, hook.stamp_name(pid)) for d in hook.stamp_dirs(environ))
             if os.path.exists(path)]
    if not found:
        report.add(FAIL, "hook: not active in this %s (process %d): the helper never ran for it "
                         "(no %s); open a new shell after adding the init line" % (shell, pid, printable(stamp)))
        return
    report.add(OK, "hook: active in this %s (process %d)" % (shell, pid))
    report_server(report, environ, os.path.dirname(found[0]), pid)
    owned = environ.get(hook.OWNED_VAR)
    active = environ.get("VIRTUAL_ENV")
    if owned and owned == active:
        report.add(INFO, "env: %s, activated by autoenv" % printable(owned))
    elif active:
        report.add(INFO, "env: %s, activated by hand (autoenv leaves it alone)" % printable(active))


def report_server(report, environ, stamp_dir, pid):
    """Whether the shell has a server (autoenv/serve.py): its channel is in
    one of the places serve.channel_parent picks from."""
    from autoenv import serve

    found = [os.path.join(parent, name) for parent in serve.channel_parents(stamp_dir, environ)
             for name in serve.channels(parent, pid)]
    if found:
        report.add(INFO, "server: answers this shell's switches (%s)" % printable(found[-1]))
    elif environ.get("AUTOENV_SERVE") == "0":
        report.add(INFO, "server: off (AUTOENV_SERVE=0); each switch starts the helper")
    else:
        report.add(INFO, "server: none now; the next switch starts the helper, which starts one (unless: "
                         "PowerShell, fish outside Linux or without inotify, bash before 4.4, "
                         "or no private place for it)")


def check_helper(report, environ, shell):
    python, helper = init.helper_python(), init.helper_path()
    if not os.access(python, os.X_OK):
        report.add(FAIL, "helper interpreter %s is missing; reinstall autoenv" % printable(python))
        return
    if not os.path.isfile(helper):
        report.add(FAIL, "helper %s is missing; reinstall autoenv" % printable(helper))
        return
    cwd = environ.get("PWD") or os.getcwd()
    with tempfile.TemporaryDirectory(prefix="autoenv-doctor-") as scratch:
        trial_env = dict(environ)
        # The trial's stamp goes here, not next to real ones.
        trial_env["XDG_RUNTIME_DIR"] = trial_env["TMPDIR"] = scratch
        started = time.perf_counter()
        try:
            result = subprocess.run([python, "-I", "-S", helper, shell or "bash", "0", cwd],
                                    env=trial_env, capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            report.add(FAIL, "helper %s %s does not run: %s" % (printable(python), printable(helper), exc))
            return
        elapsed = (time.perf_counter() - started) * 1000
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        report.add(FAIL, "helper exits with %d here: %s" % (
            result.returncode, printable(message[-1] if message else "(no message)")))
        return
    report.add(OK, "helper: %s -I -S %s (Python %s; one run here took %.0f ms)" % (
        printable(python), printable(helper), sys.version.split()[0], elapsed))


def visible_interpreters(environ):
    """Interpreters on PATH and under pyenv, by real path (first name seen wins)."""
    seen = {}
    path = environ.get("PATH", "")
    active_bin = None
    if environ.get("VIRTUAL_ENV"):
        active_bin = os.path.join(environ["VIRTUAL_ENV"], "bin")
    for directory in path.split(os.pathsep):
        if not directory or directory == active_bin:
            continue
        for candidate in sorted(glob.glob(os.path.join(glob.escape(directory), "python3*")) +
                                glob.glob(os.path.join(glob.escape(directory), "python"))):
            name = os.path.basename(candidate)
            if not (name == "python" or name == "python3" or name[7:].replace(".", "").isdigit()):
                continue
            if os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
                seen.setdefault(os.path.realpath(candidate), candidate)
    pyenv_root = environ.get("PYENV_ROOT") or os.path.join(
        environ.get("HOME") or os.path.expanduser("~"), ".pyenv")
    for candidate in sorted(glob.glob(os.path.join(glob.escape(pyenv_root), "versions", "*", "bin", "python"))):
        seen.setdefault(os.path.realpath(candidate), candidate)
    return list(seen.values())


def check_interpreters(report, environ):
    try:
        # The same search creation uses, when that module is there.
        from autoenv import interpreters

        found = ["%s (%s %s, %s)" % (i.path, i.impl, ".".join(map(str, i.version)), i.source)
                 for i in interpreters.installed(environ)]
    except ImportError:
        found = visible_interpreters(environ)
    if not found:
        report.add(FAIL, "interpreters: none found on PATH or under pyenv; autoenv cannot create envs")
        return
    shown = ", ".join(printable(path) for path in found[:12])
    more = " and %d more" % (len(found) - 12) if len(found) > 12 else ""
    report.add(OK, "interpreters: %d visible: %s%s" % (len(found), shown, more))
    if shutil.which("uv", path=environ.get("PATH")):
        report.add(INFO, "uv found: envs can be created with it")


def check_trust_store(report, environ):
    path = trust.store_path(environ)
    if not os.path.exists(path):
        report.add(OK, "trust store: %s (empty: nothing allowed or denied yet)" % printable(path))
        return
    try:
        info = os.stat(path)
    except OSError as exc:
        report.add(FAIL, "trust store %s unreadable: %s" % (printable(path), exc.strerror))
        return
    if hasattr(os, "geteuid") and (info.st_uid != os.geteuid() or info.st_mode & 0o022):
        report.add(FAIL, "trust store %s is writable by someone else; remove it and allow again"
                   % printable(path))
    records = trust.read_store(environ)
    report.add(OK, "trust store: %s (%d decisions)" % (printable(path), len(records)))
    for env, (decision, ident) in sorted(records.items()):
        if not os.path.exists(env):
            state = "gone"
        elif trust.identity(env) != ident:
            state = "replaced since: ignored until decided again"
        else:
            state = "in force"
        report.add(INFO, "  %s %s (%s)" % (decision, printable(env), state))


def diagnose(environ, shell, pid):
    report = Report()
    check_rc_lines(report, environ, shell)
    check_hook_active(report, environ, shell, pid)
    check_helper(report, environ, shell)
    check_interpreters(report, environ)
    check_trust_store(report, environ)
    return report
