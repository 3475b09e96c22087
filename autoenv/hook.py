"""The helper the shell snippets run when the directory (or the env) changed.

It reads the shell's state from the environment, decides which env belongs to
the current directory, and prints the edits for that shell to ``eval``.  It is
the hot path: only the standard library, and only what this decision needs.
Started as ``python -I -S autoenv/_run_hook.py SHELL PID PWD``.
"""

import os
import sys
import time

from autoenv import detect

# Exported so that a child shell knows which env an autoenv parent activated.
OWNED_VAR = "_AUTOENV_ENV"
# PYTHONHOME as it was before activation; only set when there was one.
SAVED_PYTHONHOME_VAR = "_AUTOENV_PYTHONHOME"

# Directory mtimes are set from a coarse kernel clock that can lag the real
# time by a few milliseconds; backdating the stamp makes a change made just
# before a walk count as newer than it (one extra helper run at worst).
STAMP_MARGIN_NS = 50_000_000


class NeedsProcess(Exception):
    """Raised when serving (see ``serve``): this answer may build an env or
    print to the terminal, which a helper of its own does, in the foreground
    where Ctrl-C reaches it."""


def stamp_dirs(environ):
    """Where the shells' stamps may go, best first.

    First this user's private dir in the temp dir, as tmux keeps its sockets:
    fish converts the stamp's path to bytes at each of the prompt's
    comparisons (about 300 instructions a character, 8 comparisons a few
    levels below /), and ``/tmp/autoenv-UID/PID`` is 11 characters shorter
    than ``/run/user/UID/autoenv/PID.stamp`` was.  Then the runtime dir,
    then the cache."""
    dirs = []
    shared = shared_temp_stamp_dir(environ)
    if shared:
        dirs.append(shared)
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime) and os.path.isdir(runtime):
        dirs.append(os.path.join(runtime, "autoenv"))
    cache = environ.get("XDG_CACHE_HOME")
    if not (cache and os.path.isabs(cache)):
        cache = os.path.join(os.path.expanduser("~"), ".cache")
    dirs.append(os.path.join(cache, "autoenv", "stamps"))
    return dirs


def shared_temp_stamp_dir(environ):
    """This user's private dir in the temp dir, which others write to too;
    None where files have no owners to check (Windows)."""
    if not hasattr(os, "getuid"):
        return None
    temp = environ.get("TMPDIR")
    temp = temp if temp and os.path.isabs(temp) else "/tmp"
    return os.path.join(temp, "autoenv-%d" % os.getuid())


def stamp_name(pid):
    """The stamp's file name: the shell's process id, and nothing more (see stamp_dirs)."""
    return str(pid)


def is_stamp_name(name):
    """A stamp's name, or PID.stamp as earlier versions named it."""
    return name.isdigit() or name.endswith(".stamp")


def stamp_path(environ, pid):
    """Where the stamp goes when the first choice can be written."""
    return os.path.join(stamp_dirs(environ)[0], stamp_name(pid))


def place_stamp(environ, pid, when_ns):
    """Write this shell's stamp in the first place that takes it.

    Returns (path, None), or (None, why) when none does: then the shell gets
    no stamp and asks again only at the next cd, not at every prompt.
    """
    failures = []
    shared = shared_temp_stamp_dir(environ)
    for directory in stamp_dirs(environ):
        path = os.path.join(directory, stamp_name(pid))
        try:
            if directory == shared:
                make_private_dir(directory)
            write_stamp(path, when_ns)
            return path, None
        except OSError as exc:
            failures.append("%s: %s" % (directory, exc.strerror or exc))
    return None, "; ".join(failures)


def make_private_dir(path):
    """``path`` as a directory only this user can use; in a shared temp dir
    someone else may have made it first, and then it is not used."""
    try:
        check_private_dir(path)
        return
    except FileNotFoundError:
        pass
    # Made only when missing: every helper run places the stamp here, and
    # the mkdir would fail with EEXIST each time.
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    check_private_dir(path)


def check_private_dir(path):
    """Raise OSError unless ``path`` is a directory of this user's that only they can use."""
    import stat

    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise OSError(0, "not a private directory of yours")


def write_stamp(path, when_ns):
    try:
        os.utime(path, ns=(when_ns, when_ns))
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        with open(path, "wb"):
            pass
        os.utime(path, ns=(when_ns, when_ns))


def split_path(value):
    return value.split(os.pathsep) if value else []


def remove_entry(entries, entry):
    """``entries`` without the first occurrence of ``entry``: the one autoenv added."""
    if entry in entries:
        index = entries.index(entry)
        return entries[:index] + entries[index + 1:]
    return entries


class Plan:
    """The edits for one helper run, in the order the shell applies them."""

    def __init__(self, shell):
        self.shell = shell
        self.lines = []
        # (stamp, paths outside the chain) when the shell may leave the
        # check of this answer to its server (serve.Checker.vouch), else None.
        self.checked = None

    def add(self, text):
        if text:
            self.lines.append(text)

    def text(self):
        return "\n".join(self.lines) + ("\n" if self.lines else "")


def deactivate(plan, environ, env, path_entries, switching=False):
    """Undo what ``activate`` did for ``env``.

    When ``switching`` to another env, PYTHONHOME stays unset and saved: the
    next env must not see it either.
    """
    shell = plan.shell
    path_entries = remove_entry(path_entries, os.path.join(env, detect.BIN_DIR))
    plan.add(shell.set_path(path_entries))
    # Only called when VIRTUAL_ENV is ``env`` or was unset by the user: both go.
    plan.add(shell.unset("VIRTUAL_ENV"))
    plan.add(shell.unset("VIRTUAL_ENV_PROMPT"))
    plan.add(shell.unset(OWNED_VAR))
    if SAVED_PYTHONHOME_VAR in environ and not switching:
        plan.add(shell.export("PYTHONHOME", environ[SAVED_PYTHONHOME_VAR]))
        plan.add(shell.unset(SAVED_PYTHONHOME_VAR))
    return path_entries


def activate(plan, environ, env, name, path_entries):
    shell = plan.shell
    bin_dir = os.path.join(env, detect.BIN_DIR)
    if environ.get(OWNED_VAR) != env or bin_dir not in path_entries:
        path_entries = [bin_dir] + path_entries
        plan.add(shell.set_path(path_entries))
    plan.add(shell.export("VIRTUAL_ENV", env))
    plan.add(shell.export("VIRTUAL_ENV_PROMPT", name))
    plan.add(shell.export(OWNED_VAR, env))
    if "PYTHONHOME" in environ:
        plan.add(shell.export(SAVED_PYTHONHOME_VAR, environ["PYTHONHOME"]))
        plan.add(shell.unset("PYTHONHOME"))
    return path_entries


def path_problem(env):
    """Why ``env`` cannot go on PATH, or None."""
    bin_dir = os.path.join(env, detect.BIN_DIR)
    if os.pathsep in bin_dir:
        return "its path contains %r, the PATH separator, so it cannot go on PATH" % os.pathsep
    return None


def decide(finding, environ, err=None, may_create=True, serving=False):
    """Fill in ``finding.env`` with the env this directory should have active.

    The order: an env that exists (in the project, then where the project's
    tool keeps it), checked for trust; else one created for the project.
    """
    err = sys.stderr if err is None else err
    if finding.disabled_by:
        return finding
    detect.find_env(finding, environ)
    # Imported only when needed: each module costs a few hundred microseconds.
    if finding.env:
        from autoenv import trust

        reason = trust.check(finding, environ)
        if reason:
            finding.problems.append(reason)
            finding.env = None
    elif finding.root and may_create and not finding.foreign:
        if serving:
            raise NeedsProcess("may create an env")
        from autoenv import create

        created = create.maybe_create(finding, environ, err)
        if created:
            finding.env, finding.source = created, "created by autoenv"
    if finding.env:
        problem = path_problem(finding.env)
        if problem:
            finding.problems.append("autoenv: not activating %s: %s" % (finding.env, problem))
            finding.env = None
    if may_create and serving and _any_interrupt_remembered(environ):
        # Remembered per process group, which a server does not share with its shell.
        raise NeedsProcess("an interrupted build is remembered")
    if may_create and _interrupt_remembered(environ):
        from autoenv import create

        # A build this shell interrupted is started again only after it left the project.
        create.forget_interrupt(finding, environ)
    return finding


def interrupt_marker(environ):
    """The file ``create`` leaves when this shell (its process group) interrupted
    a build; defined here so that the hot path can test it without importing
    the large creation module."""
    cache = environ.get("XDG_CACHE_HOME")
    if not (cache and os.path.isabs(cache)):
        cache = os.path.join(environ.get("HOME") or os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "autoenv", "interrupted", str(os.getpgrp()))


def _any_interrupt_remembered(environ):
    try:
        return bool(os.listdir(os.path.dirname(interrupt_marker(environ))))
    except OSError:
        return False


def _interrupt_remembered(environ):
    return hasattr(os, "getpgrp") and os.access(interrupt_marker(environ), os.F_OK)


def plan_edits(shell, finding, environ):
    plan = Plan(shell)
    owned = environ.get(OWNED_VAR) or None
    active = environ.get("VIRTUAL_ENV") or None
    path_entries = split_path(environ.get("PATH", ""))
    manual = active is not None and active != owned
    target = finding.env

    if manual:
        # The user activated an env by hand: theirs until they deactivate it.
        # Only autoenv's own PATH entry, still behind theirs, goes once its
        # project is left, so its console scripts do not linger; _AUTOENV_ENV
        # stays, so the entry `deactivate` brings back is removed then too.
        if owned and owned != target:
            remaining = remove_entry(path_entries, os.path.join(owned, detect.BIN_DIR))
            if remaining != path_entries:
                plan.add(shell.set_path(remaining))
                plan.add(shell.rehash())
        plan.add(shell.call("__autoenv_prompt_set", ""))
        return plan
    if owned and owned != target:
        path_entries = deactivate(plan, environ, owned, path_entries, switching=bool(target))
    if target:
        # Named after the project that owns the env, not a nested one borrowing it.
        name = detect.env_prompt(target, finding.env_root or finding.root)
        if target != owned or active != target or os.path.join(target, detect.BIN_DIR) not in path_entries:
            activate(plan, environ, target, name, path_entries)
            plan.add(shell.rehash())
        # The prompt shows control bytes spelled out: a name must not drive the terminal.
        from autoenv.trust import printable

        plan.add(shell.call("__autoenv_prompt_set", "(%s) " % printable(name, backslashes=False)))
    else:
        if owned:
            plan.add(shell.rehash())
        plan.add(shell.call("__autoenv_prompt_set", ""))
    return plan


def add_cache_state(plan, finding, stamp):
    """Tell the shell what it may check by itself before running the helper again."""
    shell = plan.shell
    if finding.key:
        index = finding.chain.index(finding.key)
        below, above = finding.chain[:index], finding.chain[index:]
    else:
        below, above = finding.chain, []
    # Envs other tools keep outside the project appear without touching it:
    # the shell also checks the dirs and files that lookup depended on.
    above = above + [path for path in finding.watch if path not in above]
    if not stamp:
        # Nothing to compare them with: the answer holds until the next cd.
        below, above = [], []
    plan.add(shell.set_local("__autoenv_key", finding.key))
    plan.add(shell.set_local_list("__autoenv_below", below))
    if shell.tests_mtimes_at_once:
        # The arguments of one `test` that is true when any of them changed;
        # `below` goes as a list too, which a walk looks directories up in.
        plan.add(shell.set_local_list("__autoenv_below_test", newer_than(below, stamp)))
        plan.add(shell.set_local_list("__autoenv_above_test", newer_than(above, stamp)))
    else:
        plan.add(shell.set_local_list("__autoenv_above", above))
    if shell.asks_server_at_prompt:
        extra = [path for path in above if path not in finding.chain]
        plan.add(shell.set_local_list("__autoenv_extra", extra))
        plan.checked = (stamp, extra) if stamp else None
    plan.add(shell.set_local("__autoenv_stamp", stamp))


def newer_than(paths, stamp):
    """``P -nt STAMP -o`` for each path: absolute paths, never read as operators."""
    words = []
    for path in paths:
        words += [path, "-nt", stamp, "-o"]
    return words


def run(argv, environ=None, out=None, err=None):
    """``SHELL PID PWD [serve]``: print the edits; with ``serve`` (the shell has
    no server yet), also start one and tell the shell how to reach it."""
    environ = os.environ if environ is None else environ
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    if len(argv) not in (3, 4) or argv[3:] not in ([], ["serve"]):
        err.write("usage: _run_hook.py SHELL PID PWD [serve]\n")
        return 2
    shell_name, pid, pwd = argv[:3]
    from autoenv import render

    shell = render.get(shell_name)
    plan, stamp = answer(shell, pid, pwd, environ, err)
    if argv[3:] == ["serve"] and stamp:
        from autoenv import serve

        plan.add(serve.start(shell, pid, os.path.dirname(stamp), environ))
    out.write(plan.text())
    return 0


def answer(shell, pid, pwd, environ, err, serving=False):
    """The plan for the shell in ``pwd``, and the stamp written for it (or "").

    ``serving``: raise NeedsProcess rather than build an env or print.
    """
    started = time.time_ns() - STAMP_MARGIN_NS
    finding = decide(detect.scan(pwd), environ, err, serving=serving)
    plan = plan_edits(shell, finding, environ)
    stamp, failure = place_stamp(environ, pid, started)
    if failure:
        from autoenv.trust import printable

        # Said by the shell, once: there is nowhere to record that it was said.
        plan.add(shell.call("__autoenv_warn_once", "autoenv: cannot write a stamp file (%s); this shell checks "
                            "for changes only at cd" % printable(failure)))
    add_cache_state(plan, finding, stamp or "")
    say_once(finding.problems, stamp, err, serving)
    return plan, stamp or ""


def say_once(problems, stamp, err, serving=False):
    """Print the problems unless this shell was told exactly these on its last run.

    The helper may run again without the user moving (a dir changed, an extra
    run inside the stamp margin); the reasons are shown once per visit.  The
    record sits next to the shell's stamp and goes when the problems do.
    """
    text = "".join(problem + "\n" for problem in problems)
    if not stamp:
        if text and serving:
            raise NeedsProcess("has something to say")
        err.write(text)
        return
    said_path = stamp + ".said"
    if not text:
        try:
            os.unlink(said_path)
        except OSError:
            pass
        return
    try:
        with open(said_path, encoding="utf-8", errors="surrogateescape") as handle:
            if handle.read(65536) == text:
                return
    except (OSError, ValueError):
        pass
    if serving:
        raise NeedsProcess("has something to say")
    err.write(text)
    try:
        with open(said_path, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(text)
    except OSError:
        pass
