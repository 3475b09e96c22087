"""Create the project's env on first entry, and on purpose (``autoenv create``/``recreate``).

Imported on the hot path, where ``maybe_create`` first decides with ``stat``
calls only whether this directory may get an env; everything heavier (config
files, interpreters, the build) is imported after that says yes.

An env is built in a sibling directory ``.autoenv-build-<pid>`` by the chosen
interpreter running ``_make_venv.py`` and renamed to ``.venv`` as the very last
step, so an interrupted build never leaves anything named like an env.  A lock
per project (``flock``: the kernel drops it when its holder dies, so a killed
build leaves no stale lock) makes two shells entering at once build one env.
"""

import os
import sys

ENV_NAME = ".venv"
BUILD_PREFIX = ".autoenv-build-"
OLD_PREFIX = ".autoenv-old-"
MAKE_VENV = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_make_venv.py")


class CreationError(Exception):
    """Creation did not happen; the message is the one line to show."""


def shown(text):
    """``text`` for a message line: control characters of a hostile path spelled out."""
    from autoenv import trust

    return trust.printable(text)


def _is_within(path, parent):
    return path == parent or path.startswith(parent.rstrip(os.sep) + os.sep)


# A refusal worth a line: the user owns the project and expects an env there
# (a read-only file system, or write permission taken away).
CANNOT_WRITE = "you cannot write to it"


def refusal(root, environ):
    """Why ``root`` must not get an env made without asking, or None.  Stats only."""
    real = os.path.realpath(root)
    home = environ.get("HOME") or os.path.expanduser("~")
    home_real = os.path.realpath(home) if home else ""
    if real == os.path.dirname(real):
        return "it is the root directory"
    if home_real and _is_within(home_real, real):
        return "it is your home directory or holds it"
    parts = real.split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts:
        return "it is inside an installed package"
    try:
        info = os.stat(real)
    except OSError as exc:
        return "it cannot be read (%s)" % exc.strerror
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        return "you do not own it"
    if not os.access(real, os.W_OK | os.X_OK):
        return CANNOT_WRITE
    for name in (".venv", "venv"):
        if os.path.lexists(os.path.join(root, name)):
            return "%s already exists there" % name
    return None


def maybe_create(finding, environ, err):
    """Create an env for ``finding.root`` when policy allows; return its path or None."""
    from autoenv import config

    root = finding.root
    if config.create_switched_off(environ):
        return None
    reason = refusal(root, environ)
    if reason:
        if reason == CANNOT_WRITE:
            finding.problems.append("autoenv: not creating %s: you cannot write to %s (read-only?)"
                                    % (shown(os.path.join(root, ENV_NAME)), shown(root)))
        return None
    # Refusals go to finding.problems: the hook shows them once per visit,
    # not again when it runs a second time for the same directory.
    if _just_interrupted(root, environ):
        finding.problems.append("autoenv: not creating %s: interrupted; leave the project and come back, "
                                "or run: autoenv create" % shown(os.path.join(root, ENV_NAME)))
        return None
    try:
        return create(root, environ, err, automatic=True)
    except CreationError as exc:
        finding.problems.append("autoenv: not creating %s: %s" % (shown(os.path.join(root, ENV_NAME)),
                                                                  shown(str(exc))))
        return None


# After Ctrl-C the shell's hooks run the helper again at once (bash at every
# prompt until one run completes): without a memory of the interrupt the build
# would start over before the user got the prompt back.  The memory is per
# shell (its process group) and ends when that shell leaves the project.
INTERRUPT_MEMORY_SECONDS = 600


def _interrupt_marker(environ):
    from autoenv import hook

    return hook.interrupt_marker(environ)


def _remember_interrupt(root, environ):
    if not hasattr(os, "getpgrp"):
        return
    path = _interrupt_marker(environ)
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(os.path.realpath(root))
    except OSError:
        pass


def _interrupted_root(environ):
    if not hasattr(os, "getpgrp"):
        return None
    import time

    path = _interrupt_marker(environ)
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            root = handle.read()
        if time.time() - os.stat(path).st_mtime < INTERRUPT_MEMORY_SECONDS:
            return root
        os.remove(path)
    except OSError:
        pass
    return None


def _just_interrupted(root, environ):
    return _interrupted_root(environ) == os.path.realpath(root)


def forget_interrupt(finding, environ):
    """Called on every helper run (one failed open when there is nothing to forget)."""
    root = _interrupted_root(environ)
    if root is not None and not _is_within(os.path.realpath(finding.pwd), root):
        try:
            os.remove(_interrupt_marker(environ))
        except OSError:
            pass


def _enable_site_packages():
    # The hook runs Python with -S; creating an env needs packaging (and tomli
    # before 3.11), which live in autoenv's own site-packages.
    if sys.flags.no_site and "site" not in sys.modules:
        import site

        site.main()


def read_pyproject(root):
    """(parsed pyproject.toml or None, one-line problem or None)."""
    from autoenv import config

    path = os.path.join(root, "pyproject.toml")
    try:
        return config.read_toml(path), None
    except ValueError as exc:
        return None, "autoenv: %s: %s; ignoring it" % (path, exc)


def requires_python(pyproject):
    value = ((pyproject or {}).get("project") or {}).get("requires-python")
    return value if isinstance(value, str) and value.strip() else None


def _load_settings(root, environ, err):
    """The project's pyproject.toml and the creation settings, problems told on ``err``."""
    from autoenv import config

    _enable_site_packages()
    pyproject, problem = read_pyproject(root)
    if problem:
        err.write(problem + "\n")
    settings = config.load(root, environ, pyproject)
    for line in settings.problems:
        err.write(line + "\n")
    return pyproject, settings


def create(root, environ, err, automatic=False, request=None, env_name=ENV_NAME):
    """Build ``root/env_name``; return its path.  Raises CreationError with the reason."""
    from autoenv import interpreters

    pyproject, settings = _load_settings(root, environ, err)
    if automatic and not settings.create:
        return None
    choice = interpreters.choose(root, environ, requires_python(pyproject), request=request)
    if choice.interpreter is None:
        raise CreationError(choice.problem)
    env = build(root, choice, environ, err, env_name=env_name)
    if env and settings.install:
        install_dependencies(root, env, environ, err)
    return env


def cache_dir(environ):
    base = environ.get("XDG_CACHE_HOME")
    if not (base and os.path.isabs(base)):
        base = os.path.join(environ.get("HOME") or os.path.expanduser("~"), ".cache")
    return os.path.join(base, "autoenv")


def _prompt_for(root):
    name = os.path.basename(os.path.realpath(root))
    return name if name.isprintable() and "'" not in name else ""


class ProjectLock:
    """An exclusive lock per project directory, held while its env is built."""

    def __init__(self, root, environ, err):
        import hashlib

        key = hashlib.sha256(os.path.realpath(root).encode("utf-8", "surrogateescape")).hexdigest()[:24]
        self.path = os.path.join(cache_dir(environ), "locks", key + ".lock")
        self.root = root
        self.err = err
        self.handle = None

    def __enter__(self):
        os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
        self.handle = open(self.path, "a+")
        try:
            _lock_file(self.handle, blocking=False)
        except BlockingIOError:
            self.handle.seek(0)
            holder = self.handle.read().strip() or "another process"
            self.err.write("autoenv: waiting for %s, which is creating the env of %s ...\n"
                           % (holder, shown(self.root)))
            self.err.flush()
            _lock_file(self.handle, blocking=True)  # Ctrl-C interrupts the wait
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write("process %d" % os.getpid())
        self.handle.flush()
        return self

    def __exit__(self, *exc):
        self.handle.seek(0)
        self.handle.truncate()
        _unlock_file(self.handle)
        self.handle.close()


# The kernel drops these locks when their holder dies, so a lock is never stale.
# Windows locks a byte far past the holder's note, which others still read.
_WINDOWS_LOCK_OFFSET = 1 << 30


def _lock_file(handle, blocking):
    if os.name != "nt":
        import fcntl

        fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        return
    import msvcrt
    import time

    while True:
        handle.seek(_WINDOWS_LOCK_OFFSET)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            return
        except OSError:
            if not blocking:
                raise BlockingIOError("locked")
            time.sleep(0.1)


def _unlock_file(handle):
    if os.name != "nt":
        import fcntl

        fcntl.flock(handle, fcntl.LOCK_UN)
        return
    import msvcrt

    handle.seek(_WINDOWS_LOCK_OFFSET)
    msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)


class _Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP during a build: clean up as for Ctrl-C."""


def _interrupt_on_termination():
    import signal

    def raise_interrupt(signum, frame):
        raise _Terminated()

    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            previous[number] = signal.signal(number, raise_interrupt)
    return previous


def _restore_signals(previous):
    import signal

    for number, handler in previous.items():
        signal.signal(number, handler)


def remove_leftovers(root):
    """Build dirs of creations that were killed: only ever called under the project lock."""
    import shutil

    try:
        names = os.listdir(root)
    except OSError:
        return
    for name in names:
        if name.startswith(BUILD_PREFIX) or name.startswith(OLD_PREFIX):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def build(root, choice, environ, err, env_name=ENV_NAME, replace=False):
    """Build the env with ``choice.interpreter`` and rename it into place; return its path.

    With ``replace``, an existing env is swapped out only once the new one is complete.
    """
    import shutil
    import subprocess
    import time

    from autoenv import detect

    interpreter = choice.interpreter
    final = os.path.join(root, env_name)
    previous = _interrupt_on_termination()
    try:
        with ProjectLock(root, environ, err):
            if not replace and detect.is_env(final):
                return final  # another shell made it while this one waited
            if not replace and os.path.lexists(final):
                raise CreationError("%s exists and is not an env" % final)
            remove_leftovers(root)
            started = time.monotonic()
            err.write("autoenv: creating %s with Python %s (%s) ...\n"
                      % (env_name, interpreter.version_text, choice.reason))
            err.flush()
            building = os.path.join(root, "%s%d" % (BUILD_PREFIX, os.getpid()))
            try:
                result = subprocess.run(
                    [interpreter.path, "-I", MAKE_VENV, building, final, _prompt_for(root),
                     os.path.join(cache_dir(environ), "seed")],
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    universal_newlines=True, errors="replace")
                if result.returncode != 0:
                    lines = [line for line in result.stderr.splitlines() if line.strip()]
                    raise CreationError("%s failed: %s" % (
                        interpreter.path, lines[-1].strip() if lines else "exit status %d" % result.returncode))
                _write_gitignore(building)
                if replace and os.path.lexists(final):
                    old = os.path.join(root, "%s%d" % (OLD_PREFIX, os.getpid()))
                    os.rename(final, old)
                    os.rename(building, final)
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    os.rename(building, final)
            except OSError as exc:
                raise CreationError("%s: %s" % (exc.filename or final, exc.strerror or exc))
            finally:
                shutil.rmtree(building, ignore_errors=True)
            _record_trust(final, environ, err)
            err.write("autoenv: created %s in %.2f s (python -m pip works in it)\n"
                      % (shown(final), time.monotonic() - started))
            return final
    except KeyboardInterrupt:
        _remember_interrupt(root, environ)
        raise
    finally:
        _restore_signals(previous)


def _record_trust(env, environ, err):
    from autoenv import trust

    try:
        trust.record_created(env, environ)
    except OSError as exc:
        err.write("autoenv: could not record %s as made by autoenv (%s)\n" % (env, exc))


def _write_gitignore(env):
    # An env autoenv made in someone's checkout must never end up committed.
    try:
        with open(os.path.join(env, ".gitignore"), "w", encoding="utf-8") as handle:
            handle.write("# created by autoenv\n*\n")
    except OSError:
        pass


def install_commands(root, env, environ):
    """What ``install = true`` runs after creation, in order of preference."""
    python = os.path.join(env, "bin", "python")
    if os.path.exists(os.path.join(root, "uv.lock")):
        uv = find_uv(environ)
        if uv:
            return [[uv, "sync"]]
    if os.path.exists(os.path.join(root, "requirements.txt")):
        return [[python, "-m", "pip", "install", "-r", "requirements.txt"]]
    if os.path.exists(os.path.join(root, "pyproject.toml")) or os.path.exists(os.path.join(root, "setup.py")):
        return [[python, "-m", "pip", "install", "-e", "."]]
    return []


def find_uv(environ):
    import shutil

    found = shutil.which("uv", path=environ.get("PATH"))
    if found:
        return found
    try:
        import uv

        return uv.find_uv_bin()
    except (ImportError, FileNotFoundError, AttributeError):
        return None


def install_dependencies(root, env, environ, err):
    """Run the project's install command, streaming its output to ``err``.

    A failure leaves the env as it is (working, with pip) and says what to run.
    """
    import subprocess
    import time

    commands = install_commands(root, env, environ)
    if not commands:
        return True
    child_env = dict(environ)
    child_env["VIRTUAL_ENV"] = env
    child_env["PATH"] = os.path.join(env, "bin") + os.pathsep + environ.get("PATH", "")
    child_env.pop("PYTHONHOME", None)
    for command in commands:
        shown = " ".join(os.path.basename(part) if index == 0 else part for index, part in enumerate(command))
        err.write("autoenv: installing the dependencies: %s\n" % shown)
        err.flush()
        started = time.monotonic()
        try:
            process = subprocess.Popen(command, cwd=root, env=child_env, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       universal_newlines=True, errors="replace")
        except OSError as exc:
            err.write("autoenv: could not run %s (%s); the env works without the dependencies\n"
                      % (shown, exc.strerror))
            return False
        with process:
            for line in process.stdout:
                err.write("  " + line)
                err.flush()
        if process.returncode != 0:
            err.write("autoenv: %s failed (exit status %d); the env works, fix the cause and run it in %s\n"
                      % (shown, process.returncode, root))
            return False
        err.write("autoenv: installed the dependencies in %.1f s\n" % (time.monotonic() - started))
    return True


def env_version(env):
    """The Python version an env was made with, from its pyvenv.cfg (``version``/``version_info``)."""
    try:
        with open(os.path.join(env, "pyvenv.cfg"), encoding="utf-8", errors="replace") as cfg:
            for line in cfg:
                key, sep, value = line.partition("=")
                if sep and key.strip() in ("version", "version_info"):
                    return value.strip()
    except OSError:
        pass
    return None


def recreate(root, env, environ, err, request=None):
    """Rebuild ``env`` (broken or not) with the Python version it had, when installed."""
    from autoenv import interpreters

    pyproject, settings = _load_settings(root, environ, err)
    choice = None
    version = env_version(env) if not request else None
    if version:
        parsed = interpreters.parse_name(version)
        candidates = interpreters.installed(environ)
        for wanted in ([version, ".".join(version.split(".")[:2])] if parsed else []):
            found = interpreters.match_request(wanted, candidates, environ)
            if found is not None:
                choice = interpreters._checked(interpreters.Choice(found, "the env had %s" % version))
                break
        if choice is None:
            err.write("autoenv: Python %s (which %s had) is not installed; choosing as for a new env\n"
                      % (version, env))
    if choice is None or choice.interpreter is None:
        choice = interpreters.choose(root, environ, requires_python(pyproject), request=request)
    if choice.interpreter is None:
        raise CreationError(choice.problem)
    result = build(root, choice, environ, err, env_name=os.path.basename(env), replace=True)
    err.write("autoenv: packages installed in the old env were not carried over\n")
    if settings.install:
        install_dependencies(root, result, environ, err)
    return result
