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
    try:
        os.stat(path)
    except (OSError, ValueError):
        return False
    return True


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
                 "env", "source", "problems")

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
        self.problems = []  # one-line reasons an env was passed over


def scan(pwd):
    """Walk up from ``pwd`` once and record which watched names each directory has."""
    finding = Finding(pwd)
    for directory in finding.chain:
        names = [name for name in WATCHED_NAMES if _exists(os.path.join(directory, name))]
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
    return any(name in ENV_DIR_NAMES and is_env(os.path.join(directory, name)) for name in names)


def in_project_env(directory, names):
    """The env kept inside the project directory itself, if any."""
    for name in ENV_DIR_NAMES:
        if name in names:
            candidate = os.path.join(directory, name)
            if is_env(candidate):
                return candidate
    return None


def find_env(finding):
    """Fill ``finding.env``: the innermost project with an env wins.

    A project root without an env of its own falls back to the env of an
    enclosing project, so nested example projects and workspace members reuse
    the outer env instead of getting one each.
    """
    if finding.disabled_by:
        return finding
    for root in finding.roots:
        env = in_project_env(root, finding.present[root])
        if env:
            gone = missing_base_interpreter(env)
            if gone:
                finding.problems.append(
                    "autoenv: not activating %s: its Python %s is gone (upgraded or removed); "
                    "run: autoenv recreate %s" % (env, gone, root))
                return finding
            finding.env, finding.source = env, "in-project"
            return finding
    return finding


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


def env_prompt(env, root):
    """The name shown in the prompt: ``prompt`` from pyvenv.cfg, else the project's name."""
    try:
        with open(os.path.join(env, "pyvenv.cfg"), encoding="utf-8", errors="replace") as cfg:
            for line in cfg:
                key, sep, value = line.partition("=")
                if sep and key.strip() == "prompt":
                    value = value.strip()
                    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                        value = value[1:-1]
                    if value:
                        return value
    except (OSError, ValueError):
        pass
    return os.path.basename(root or os.path.dirname(env)) or env
