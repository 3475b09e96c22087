"""Find the project around a directory and the env that belongs to it.

Runs on every directory change, so it imports nothing beyond ``os`` and does
one walk up the tree with one ``stat`` per name and directory.
"""

import os

ROOT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "Pipfile")
ENV_DIR_NAMES = (".venv", "venv")
DISABLE_MARKER = ".autoenv-disable"

# Every name whose appearance or removal in a directory can change the answer.
# The shell snippets test exactly these (rendered in from here) to prove that a
# `cd` changed nothing without starting the helper.
WATCHED_NAMES = ROOT_MARKERS + ENV_DIR_NAMES + (
    DISABLE_MARKER,
    ".python-version",
    ".pdm-python",
    "poetry.toml",
    "environment.yml",
)

BIN_DIR = "Scripts" if os.name == "nt" else "bin"


def _exists(path):
    # access(F_OK) asks what stat would (does it resolve?) but reports "no"
    # without raising: most names looked up on a walk are missing, and an
    # exception per miss costs more than the system call.
    try:
        return os.access(path, os.F_OK)
    except ValueError:  # a NUL byte
        return False


def is_env(path):
    """A virtual environment is a directory holding ``pyvenv.cfg``."""
    return _exists(os.path.join(path, "pyvenv.cfg"))


def ancestors(path):
    """``path`` and every directory above it, innermost first."""
    chain = []
    while True:
        chain.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            return chain
        path = parent


class Finding:
    """What one walk up from a directory saw."""

    __slots__ = ("pwd", "chain", "present", "key", "disabled_by", "root", "roots",
                 "env", "source", "problems", "why", "watch", "foreign", "env_root")

    def __init__(self, pwd):
        self.pwd = pwd
        self.chain = ancestors(pwd)
        # directory -> watched names present in it, for directories with any
        self.present = {}
        self.key = ""  # nearest directory holding any watched name ("" if none)
        self.disabled_by = None  # path of the nearest .autoenv-disable
        self.root = None  # innermost project root
        self.roots = []  # every project root on the chain, innermost first
        self.env = None  # env to activate
        self.source = None  # why that env: "in-project", "poetry", ...
        self.env_root = None  # the project the env belongs to (an enclosing one for nested projects)
        self.problems = []  # one-line reasons an env was passed over
        self.why = None  # one line: why this env (which file or rule pointed at it)
        # Paths outside the walked chain whose change can change the answer
        # (files read, dirs where another tool's env would appear).
        self.watch = []
        # (tool, env, hint) for an env that belongs here but that autoenv does
        # not activate itself (conda): nothing is created beside it.
        self.foreign = None


# Where the system has O_PATH, a directory is opened once and each name looked
# up relative to it: one lookup per name instead of a walk of the whole path,
# which is what a directory 40 levels deep would cost ten times over.
_BY_DIR_FD = hasattr(os, "O_PATH") and os.access in os.supports_dir_fd
_DIR_FLAGS = getattr(os, "O_PATH", 0) | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


def present_names(directory):
    """The watched names present in ``directory`` (resolving, as stat would)."""
    if _BY_DIR_FD:
        try:
            handle = os.open(directory, _DIR_FLAGS)
        except (OSError, ValueError):
            handle = None
        if handle is not None:
            try:
                return [name for name in WATCHED_NAMES if os.access(name, os.F_OK, dir_fd=handle)]
            finally:
                os.close(handle)
    # Joined by hand: os.path.join per name costs more than the lookup.
    prefix = directory + os.sep if directory and not directory.endswith(os.sep) else directory
    return [name for name in WATCHED_NAMES if _exists(prefix + name)]


def scan(pwd):
    """Walk up from ``pwd`` once and record which watched names each directory has."""
    finding = Finding(pwd)
    for directory in finding.chain:
        names = present_names(directory)
        if not names:
            continue
        finding.present[directory] = names
        if not finding.key:
            finding.key = directory
        if DISABLE_MARKER in names and finding.disabled_by is None:
            finding.disabled_by = os.path.join(directory, DISABLE_MARKER)
        if is_project_root(directory, names):
            finding.roots.append(directory)
    if finding.roots:
        finding.root = finding.roots[0]
    return finding


def is_project_root(directory, names):
    if any(name in ROOT_MARKERS for name in names):
        return True
    if any(name in ENV_DIR_NAMES and is_env(os.path.join(directory, name)) for name in names):
        return True
    # A `.venv` *file* names the project's env (virtualenvwrapper, pipenv,
    # zsh-autoswitch-virtualenv), often in a dir with no other marker.
    return ".venv" in names and os.path.isfile(os.path.join(directory, ".venv"))


def in_project_env(directory, names):
    """The env kept inside the project directory itself, if any."""
    for name in ENV_DIR_NAMES:
        if name in names:
            candidate = os.path.join(directory, name)
            if is_env(candidate):
                return candidate
    return None


def _say_if_closed(finding, root):
    """An env dir this user may not enter looks like no env at all: say why."""
    for name in ENV_DIR_NAMES:
        candidate = os.path.join(root, name)
        if name in finding.present[root] and os.path.isdir(candidate) and not os.access(candidate, os.X_OK):
            from autoenv.trust import printable

            finding.problems.append("autoenv: not activating %s: you may not open it (permission denied)"
                                    % printable(candidate))


def find_env(finding, environ=None):
    """Fill ``finding.env``: the innermost project with an env wins.

    Within a project: its in-project env dir, then the env its own tool made
    elsewhere (``autoenv.others``, imported only then).  A project root
    without either falls back to the env of an enclosing project, so nested
    example projects and workspace members reuse the outer env instead of
    getting one each.
    """
    if finding.disabled_by:
        return finding
    environ = os.environ if environ is None else environ
    for root in finding.roots:
        env = in_project_env(root, finding.present[root])
        source, why = "in-project", None
        if not env:
            from autoenv import others

            hit = others.find(root, finding.present[root], environ, finding.watch)
            if hit:
                env, source, why = hit.env, hit.tool, hit.why
            else:
                _say_if_closed(finding, root)
        if env:
            gone = missing_base_interpreter(env)
            if gone:
                finding.problems.append(
                    "autoenv: not activating %s: its Python %s is gone (upgraded or removed); "
                    "run: autoenv recreate %s" % (env, gone, root))
                return finding
            finding.env, finding.source, finding.why = env, source, why
            finding.env_root = root
            return finding
    _find_conda(finding, environ)
    return finding


def _find_conda(finding, environ):
    """A conda env named by the nearest environment.yml: reported, not activated.

    Activating conda correctly means running its activate.d scripts and setting
    CONDA_PREFIX/CONDA_SHLVL the way `conda activate` does, which needs conda
    itself; so autoenv says how instead, and creates nothing beside it.
    """
    directory = next((d for d in finding.chain if "environment.yml" in finding.present.get(d, ())), None)
    if directory is None:
        return
    if finding.root and finding.chain.index(directory) > finding.chain.index(finding.root):
        return  # it belongs to a directory around the project, not to the project
    from autoenv import others

    found = others.find_conda(directory, environ)
    if not found:
        return
    name, env = found
    if env is None:
        return
    finding.watch.append(os.path.join(directory, "environment.yml"))
    finding.foreign = ("conda", env, "conda activate %s" % name)
    if os.path.realpath(environ.get("CONDA_PREFIX") or "/nonexistent") != os.path.realpath(env):
        finding.problems.append(
            "autoenv: %s names the conda env %r (%s); autoenv does not activate conda envs: "
            "run: conda activate %s" % (os.path.join(directory, "environment.yml"), name, env, name))


def missing_base_interpreter(env):
    """The base interpreter an env points at when it no longer exists, else None.

    The most common breakage of an env.  Cheap: ``bin/python`` is a link to
    the base interpreter (one lstat and one stat); only an env made with copies
    needs pyvenv.cfg read, to stat the ``home`` it names.
    """
    python = os.path.join(env, BIN_DIR, "python.exe" if os.name == "nt" else "python")
    try:
        linked = os.path.islink(python)
    except (OSError, ValueError):
        return None
    if linked and _exists(python):
        return None
    values = _read_cfg(env)
    if linked:
        return values.get("executable") or os.path.realpath(python)
    home = values.get("home")
    if home and os.path.isabs(home) and not _exists(home):
        return home
    return None


def _read_cfg(env):
    values = {}
    try:
        with open(os.path.join(env, "pyvenv.cfg"), encoding="utf-8", errors="replace") as cfg:
            for line in cfg:
                key, sep, value = line.partition("=")
                if sep:
                    values[key.strip()] = value.strip()
    except (OSError, ValueError):
        pass
    return values


PYVENV_CFG_READ_LIMIT = 64 * 1024
PROMPT_NAME_LIMIT = 256


def env_prompt(env, root):
    """The name shown in the prompt: ``prompt`` from pyvenv.cfg, else the project's name."""
    try:
        with open(os.path.join(env, "pyvenv.cfg"), encoding="utf-8", errors="replace") as cfg:
            # A few KiB hold any real pyvenv.cfg; a huge one must not become a
            # huge VIRTUAL_ENV_PROMPT (every exec would fail with E2BIG).
            for line in cfg.read(PYVENV_CFG_READ_LIMIT).splitlines():
                key, sep, value = line.partition("=")
                if sep and key.strip() == "prompt":
                    value = value.strip()
                    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                        value = value[1:-1]
                    if value and len(value) <= PROMPT_NAME_LIMIT:
                        return value
    except (OSError, ValueError):
        pass
    return os.path.basename(root or os.path.dirname(env)) or env
