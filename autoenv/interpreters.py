"""Which Python a new env is made with.

The project says what it wants (``.python-version``, else ``requires-python``
in pyproject.toml); this module finds what is installed (pyenv versions, uv's
managed Pythons, ``python3.X`` on PATH, the Python autoenv runs on) and picks.
Only used when an env is about to be created: never on a plain ``cd``.

Versions come from directory and file names wherever those say them, so an
interpreter is run only when its exact version is needed and its name does not
tell (``python3.12`` on PATH says 3.12 but not which 3.12).
"""

import os
import re
import subprocess
import sys

# "3.12.1", "3.13t", "pypy3.10", "pypy3.10-7.3.12", "cpython-3.12.1", "3.14.0rc1"
_NAME = re.compile(
    r"^(?P<impl>[a-z]*?)-?(?P<version>\d+(?:\.\d+)*)(?P<pre>(?:a|b|rc)\d+)?(?P<t>t)?(?P<rest>[-+].*)?$"
)
_PATH_NAME = re.compile(r"^(?P<impl>python|pypy)(?P<version>3(?:\.\d+)?)(?P<t>t)?$")
_IMPL_ALIASES = {"": "cpython", "python": "cpython", "cpython": "cpython", "pypy": "pypy"}
OLDEST_WITH_VENV = (3, 3)


class Interpreter:
    """One installed Python: where it is and what its name says about it."""

    def __init__(self, path, impl, version, source, name=None, freethreaded=False, exact=True):
        self.path = path
        self.impl = impl  # "cpython", "pypy", or another name pyenv used
        self.version = tuple(version)  # as much as is known: (3, 12, 1) or (3, 12)
        self.exact = exact  # False while only the name (python3.12) says the version
        self.source = source  # "pyenv", "uv", "PATH", "autoenv's own"
        self.name = name  # pyenv's directory name, for exact .python-version matches
        self.freethreaded = freethreaded

    @property
    def version_text(self):
        text = ".".join(str(part) for part in self.version)
        if self.impl not in ("cpython", ""):
            text = self.impl + text
        return text + ("t" if self.freethreaded else "")

    def label(self):
        return "%s (%s)" % (self.version_text, self.source)

    def __repr__(self):
        return "Interpreter(%r, %s)" % (self.path, self.label())


def parse_name(text):
    """(impl, version tuple, freethreaded) for a pyenv/uv-style name, or None."""
    match = _NAME.match(text.strip().lower())
    if not match:
        return None
    impl = _IMPL_ALIASES.get(match.group("impl"), match.group("impl"))
    version = tuple(int(part) for part in match.group("version").split("."))
    return impl, version, bool(match.group("t"))


def _is_executable(path):
    return os.path.isfile(path) and os.access(path, os.X_OK)


def pyenv_root(environ):
    return environ.get("PYENV_ROOT") or os.path.join(os.path.expanduser("~"), ".pyenv")


def _pyenv_interpreters(environ):
    versions = os.path.join(pyenv_root(environ), "versions")
    try:
        names = sorted(os.listdir(versions))
    except OSError:
        return []
    found = []
    for name in names:
        prefix = os.path.join(versions, name)
        # pyenv-virtualenv keeps envs here too (as links or dirs with pyvenv.cfg):
        # they are envs, not interpreters to base a new env on.
        if os.path.islink(prefix) or os.path.exists(os.path.join(prefix, "pyvenv.cfg")):
            continue
        parsed = parse_name(name)
        executable = _first_executable(prefix, parsed)
        if executable is None:
            continue
        if parsed is None:
            found.append(Interpreter(executable, name, (), "pyenv", name=name, exact=False))
        else:
            impl, version, freethreaded = parsed
            found.append(Interpreter(executable, impl, version, "pyenv", name=name,
                                     freethreaded=freethreaded, exact=len(version) >= 3))
    return found


def _first_executable(prefix, parsed):
    bin_dir = os.path.join(prefix, "bin")
    candidates = ["python3", "python"]
    if parsed and parsed[0] == "pypy":
        candidates = ["pypy3", "pypy", "python3", "python"]
    if parsed and parsed[2]:
        candidates.insert(0, "python%d.%dt" % parsed[1][:2] if len(parsed[1]) >= 2 else "python3t")
    for candidate in candidates:
        path = os.path.join(bin_dir, candidate)
        if _is_executable(path):
            return path
    return None


def uv_python_dir(environ):
    if environ.get("UV_PYTHON_INSTALL_DIR"):
        return environ["UV_PYTHON_INSTALL_DIR"]
    data = environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(data, "uv", "python")


def _uv_interpreters(environ):
    # uv names them "cpython-3.12.1-linux-x86_64-gnu", "pypy-3.10.14-linux-...",
    # "cpython-3.13.0+freethreaded-linux-...".
    base = uv_python_dir(environ)
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return []
    found = []
    for name in names:
        impl, _, rest = name.partition("-")
        version_text = rest.split("-", 1)[0]
        freethreaded = "+freethreaded" in version_text
        version_text = version_text.split("+", 1)[0]
        match = re.match(r"^(\d+(?:\.\d+)*)", version_text)
        if not match:
            continue
        version = tuple(int(part) for part in match.group(1).split("."))
        parsed = (impl, version, freethreaded)
        executable = _first_executable(os.path.join(base, name), parsed)
        if executable:
            found.append(Interpreter(executable, _IMPL_ALIASES.get(impl, impl), version, "uv",
                                     freethreaded=freethreaded, exact=len(version) >= 3))
    return found


def _is_shim_dir(directory, environ):
    # pyenv's shims are scripts that run pyenv (slow, and they fail for versions
    # the current directory did not select); pyenv's versions are read directly.
    root = pyenv_root(environ)
    return os.path.basename(directory) == "shims" and (
        directory.startswith(root) or os.path.exists(os.path.join(os.path.dirname(directory), "versions"))
        or "pyenv" in directory)


def path_interpreters(environ):
    """``python3.X``, ``python3``, ``pypy3.X`` on PATH, first of each real file only."""
    found, seen = [], set()
    for directory in (environ.get("PATH") or "").split(os.pathsep):
        if not directory or not os.path.isabs(directory) or _is_shim_dir(directory, environ):
            continue
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            match = _PATH_NAME.match(name)
            if not match:
                continue
            path = os.path.join(directory, name)
            if not _is_executable(path):
                continue
            real = os.path.realpath(path)
            if real in seen:
                continue
            seen.add(real)
            impl = _IMPL_ALIASES[match.group("impl")]
            version = tuple(int(part) for part in match.group("version").split("."))
            found.append(Interpreter(path, impl, version, "PATH", freethreaded=bool(match.group("t")),
                                     exact=False))
    return found


def own_interpreter():
    """The base interpreter autoenv itself runs on (not the venv autoenv lives in)."""
    executable = getattr(sys, "_base_executable", None) or sys.executable
    if sys.prefix != sys.base_prefix and executable == sys.executable:
        candidate = os.path.join(sys.base_prefix, "bin", "python%d.%d" % sys.version_info[:2])
        if _is_executable(candidate):
            executable = candidate
    impl = "pypy" if sys.implementation.name == "pypy" else "cpython"
    return Interpreter(executable, impl, sys.version_info[:3], "autoenv's own")


def installed(environ):
    """Every interpreter found, pyenv first, then uv's, then PATH's."""
    return _pyenv_interpreters(environ) + _uv_interpreters(environ) + path_interpreters(environ)


def probe(interpreter):
    """Run the interpreter once to learn its exact version; False when it does not run."""
    if interpreter.exact:
        return True
    code = ("import sys; print('%s %s %s' % (sys.implementation.name, "
            "'.'.join(map(str, sys.version_info[:3])), int(not getattr(sys, '_is_gil_enabled', lambda: 1)())))")
    try:
        result = subprocess.run([interpreter.path, "-I", "-S", "-c", code], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, timeout=10, universal_newlines=True)
    except (OSError, subprocess.SubprocessError):
        return False
    parts = result.stdout.split()
    if result.returncode != 0 or len(parts) != 3:
        return False
    interpreter.impl = parts[0]
    interpreter.version = tuple(int(part) for part in parts[1].split("."))
    interpreter.exact = True
    return True


def version_key(interpreter):
    # Newest first among equals; CPython before other implementations;
    # a regular build before a free-threaded one.
    return (interpreter.impl == "cpython", not interpreter.freethreaded, interpreter.version)


class Choice:
    """The outcome of picking: an interpreter, or why there is none."""

    def __init__(self, interpreter=None, reason="", problem=None):
        self.interpreter = interpreter
        self.reason = reason  # what asked for it: ".python-version (3.12)"
        self.problem = problem  # one line when nothing fits


def _describe_installed(candidates):
    labels = []
    for candidate in sorted(candidates, key=lambda c: (c.source, c.version)):
        label = candidate.label() if candidate.version else "%s (%s)" % (candidate.name, candidate.source)
        if label not in labels:
            labels.append(label)
    return ", ".join(labels) if labels else "none"


def read_python_version(root):
    """The requests in ``root/.python-version``, one per line, comments dropped; None if no file."""
    path = os.path.join(root, ".python-version")
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read(65536)
    except OSError:
        return None
    requests = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requests.append(line)
    return requests


def match_request(request, candidates, environ):
    """The interpreter one ``.python-version`` line names, or None.

    ``system`` is the python3 on PATH; an exact pyenv name wins; otherwise the
    line is a version prefix (``3.12`` = newest installed 3.12.x) of the named
    implementation (``pypy3.10``).
    """
    if request == "system":
        for candidate in candidates:
            if candidate.source == "PATH" and candidate.impl == "cpython" and probe(candidate):
                return candidate
        return None
    if os.path.isabs(request):
        return Interpreter(request, "cpython", (), "path", exact=False) if _is_executable(request) else None
    for candidate in candidates:
        if candidate.name == request:
            return candidate
    parsed = parse_name(request)
    if parsed is None:
        return None
    impl, wanted, freethreaded = parsed
    fitting = []
    for candidate in candidates:
        if candidate.impl != impl or candidate.freethreaded != freethreaded or not candidate.version:
            continue
        known = candidate.version
        if known[:len(wanted)] != wanted[:len(known)]:
            continue
        if len(known) < len(wanted) and not (probe(candidate) and candidate.version[:len(wanted)] == wanted):
            continue
        fitting.append(candidate)
    if not fitting:
        return None
    return max(fitting, key=version_key)


def newest_satisfying(specifier_text, candidates):
    """The newest CPython (then any) whose version satisfies ``requires-python``."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        specifiers = SpecifierSet(specifier_text)
    except InvalidSpecifier:
        raise ValueError("requires-python %r is not a valid version specifier" % specifier_text)
    fitting = []
    for candidate in candidates:
        if not candidate.version:
            continue
        if not candidate.exact:
            # python3.12 on PATH: only run it when its minor version could fit.
            minor = "%d.%d" % candidate.version[:2] if len(candidate.version) >= 2 else None
            if minor is None or not any(specifiers.contains(minor + "." + patch, prereleases=True)
                                        for patch in ("0", "99")):
                continue
            if not probe(candidate):
                continue
        if specifiers.contains(".".join(map(str, candidate.version)), prereleases=True):
            fitting.append(candidate)
    if not fitting:
        return None
    return max(fitting, key=version_key)


def choose(root, environ, requires_python=None, request=None):
    """Pick the interpreter for a new env in ``root``.

    ``request`` (from ``autoenv create --python``) overrides the project's own
    files; then ``.python-version``; then ``requires_python``; then autoenv's own.
    """
    candidates = installed(environ)
    if request:
        requests, source = [request], "--python"
    else:
        requests, source = read_python_version(root), ".python-version"
    if requests is not None:
        for line in requests:
            found = match_request(line, candidates, environ)
            if found is not None:
                return _checked(Choice(found, "%s (%s)" % (source, line)))
        asked = ", ".join(requests) if requests else "nothing (the file is empty)"
        return Choice(problem="%s asks for %s; installed: %s" % (source, asked, _describe_installed(candidates)))
    if requires_python:
        try:
            found = newest_satisfying(requires_python, candidates)
        except ValueError as exc:
            return Choice(problem="pyproject.toml: %s" % exc)
        if found is None:
            return Choice(problem="requires-python %s in pyproject.toml; installed: %s"
                          % (requires_python, _describe_installed(candidates)))
        return _checked(Choice(found, "requires-python %s" % requires_python))
    return _checked(Choice(own_interpreter(), "default: the Python autoenv runs on"))


def _checked(choice):
    interpreter = choice.interpreter
    if not probe(interpreter):
        choice.problem = "%s (from %s) does not run" % (interpreter.path, choice.reason)
        choice.interpreter = None
    elif interpreter.impl == "cpython" and interpreter.version and interpreter.version < OLDEST_WITH_VENV:
        choice.problem = ("%s asks for Python %s, which has no venv module (3.3+ needed)"
                          % (choice.reason, interpreter.version_text))
        choice.interpreter = None
    return choice
