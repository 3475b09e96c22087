"""Envs other tools made for a project, found where those tools keep them.

No tool is run (each would cost 100 ms to a second): every rule below
recomputes the tool's own naming and location rule from its source, cited at
the rule, using ``stat``, ``listdir`` and small file reads only.  Imported by
``detect.find_env`` only when a project has no in-project env, so the common
case pays nothing.  Standard library only; TOML is parsed only when a file
that must be read says something only TOML can (see ``ToolLookup.pyproject``).

Order inside one project (the first that exists wins; README "Envs other
tools made"): a ``.venv`` file, ``.pdm-python``, a pyenv-virtualenv name in
``.python-version``, ``$UV_PROJECT_ENVIRONMENT``, pipenv, then poetry, pdm
and hatch (the one whose lock or config file the project has goes first).
conda envs are reported, never activated.
"""

import os
import sys

from autoenv import detect

# Files read here are small; anything larger is not one of these files.
SMALL_FILE_LIMIT = 64 * 1024
TOML_FILE_LIMIT = 1024 * 1024

WINDOWS = os.name == "nt"
MACOS = sys.platform == "darwin"


class Hit:
    """An env a tool made for the project, and the one-line reason it was picked."""

    __slots__ = ("env", "tool", "why")

    def __init__(self, env, tool, why):
        self.env, self.tool, self.why = env, tool, why


# ---------------------------------------------------------------- small helpers

def read_small(path, limit=SMALL_FILE_LIMIT):
    """Text of a small file, or None when it is missing, unreadable or not small."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except (OSError, ValueError):
        return None
    if len(data) > limit:
        return None
    return data.decode("utf-8", "surrogateescape")


def listdir(path):
    try:
        return os.listdir(path)
    except (OSError, ValueError):
        return []


def is_file(path):
    try:
        return os.path.isfile(path)
    except ValueError:
        return False


def home_dir(environ):
    return environ.get("HOME") or os.path.expanduser("~")


def expand_user(path, environ):
    """``~`` and ``~/x`` from ``environ``'s HOME (``~user`` via the password database)."""
    if path == "~" or path.startswith("~" + os.sep) or (os.altsep and path.startswith("~" + os.altsep)):
        return home_dir(environ) + path[1:]
    return os.path.expanduser(path) if path.startswith("~") else path


def b64_urlsafe(data):
    """``base64.urlsafe_b64encode(data).decode()`` without importing base64 (and re)."""
    import binascii

    return binascii.b2a_base64(data, newline=False).decode("ascii").translate(_URLSAFE)


_URLSAFE = str.maketrans("+/", "-_")


def sha256(data):
    """The sha256 digest; the builtin module imports in a tenth of hashlib's time."""
    try:
        from _sha256 import sha256 as new  # CPython <= 3.11
    except ImportError:
        try:
            from _sha2 import sha256 as new  # CPython >= 3.12
        except ImportError:
            from hashlib import sha256 as new
    return new(data).digest()


def md5(data):
    try:
        from _md5 import md5 as new
    except ImportError:
        import hashlib

        def new(data):
            try:
                return hashlib.md5(data, usedforsecurity=False)
            except TypeError:  # Python < 3.9
                return hashlib.md5(data)
    return new(data).digest()


def canonical_name(name):
    """PEP 503 normalisation, as ``packaging.utils.canonicalize_name`` (used by
    poetry-core) and hatchling's ``normalize_project_name`` do:
    ``re.sub(r"[-_.]+", "-", name).lower()``, written without ``re``."""
    out = []
    for char in name:
        if char in "-_.":
            if not out or out[-1] != "-":
                out.append("-")
        else:
            out.append(char)
    return "".join(out).lower()


def replace_chars(text, chars, by="_"):
    return text.translate({ord(char): by for char in chars})


def nearest_existing(path, stops, climb=2):
    """``path``, or the nearest of its ``climb`` closest ancestors that exists:
    the directory whose mtime changes when the tool makes its env there, for
    the shell to watch.  None past that, and never one of ``stops`` (HOME and
    the XDG base dirs) or an ancestor of one: those change whenever any
    program, autoenv included, makes its own dir there, and each change
    would cost a helper run."""
    stops = [os.path.normpath(stop) for stop in stops]
    path = os.path.normpath(path)
    for _ in range(climb + 1):
        parent = os.path.dirname(path)
        if parent == path or any(stop == path or stop.startswith(path.rstrip(os.sep) + os.sep)
                                 for stop in stops):
            return None
        if detect._exists(path):
            return path
        path = parent
    return None


def watch_stops(environ):
    """HOME and the XDG base dirs (see nearest_existing)."""
    return [home_dir(environ), os.path.join(home_dir(environ), ".local"),
            _xdg(environ, "XDG_CACHE_HOME", ".cache"), _xdg(environ, "XDG_DATA_HOME", ".local", "share"),
            _xdg(environ, "XDG_CONFIG_HOME", ".config"), _xdg(environ, "XDG_STATE_HOME", ".local", "state")]


def version_key(text):
    """Sort key for ``3.9`` < ``3.10``; non-numbers sort first."""
    key = []
    for part in text.split("."):
        key.append(int(part) if part.isdigit() else -1)
    return key


# ---------------------------------------------------------------- platform dirs

def _xdg(environ, name, *fallback):
    """platformdirs' unix rule: the variable when set and not blank, else ``~/<fallback>``."""
    value = environ.get(name, "")
    if value.strip():
        return expand_user(value, environ)
    return os.path.join(home_dir(environ), *fallback)


def user_cache_dir(app, environ):
    """platformdirs.user_cache_dir(app, appauthor=False)."""
    if WINDOWS:
        return os.path.join(environ.get("LOCALAPPDATA") or home_dir(environ), app, "Cache")
    if MACOS:
        return os.path.join(home_dir(environ), "Library", "Caches", app)
    return os.path.join(_xdg(environ, "XDG_CACHE_HOME", ".cache"), app)


def user_data_dir(app, environ, roaming=False):
    """platformdirs.user_data_dir(app, appauthor=False, roaming=roaming)."""
    if WINDOWS:
        base = environ.get("APPDATA" if roaming else "LOCALAPPDATA") or home_dir(environ)
        return os.path.join(base, app)
    if MACOS:
        return os.path.join(home_dir(environ), "Library", "Application Support", app)
    return os.path.join(_xdg(environ, "XDG_DATA_HOME", ".local", "share"), app)


def user_config_dir(app, environ, roaming=False):
    """platformdirs.user_config_dir(app, appauthor=False, roaming=roaming)."""
    if WINDOWS or MACOS:
        return user_data_dir(app, environ, roaming)
    return os.path.join(_xdg(environ, "XDG_CONFIG_HOME", ".config"), app)


# ---------------------------------------------------------------- TOML, lazily

def read_toml(path):
    """The parsed TOML file; {} when missing, unreadable, too big or broken."""
    text = read_small(path, TOML_FILE_LIMIT)
    if text is None:
        return {}
    from autoenv import tomlfile

    try:
        data = tomlfile.loads(text)
    except (ValueError, tomlfile.Unavailable):  # not TOML, or no TOML parser at all
        return {}
    return data if isinstance(data, dict) else {}


def dig(data, *keys):
    """``data[k1][k2]...`` or None when any level is missing or not a table."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def toml_strings(path, queries, environ):
    """The string at each key path in ``queries`` (a tuple of tuples) of the
    TOML file ``path``, None where there is none.

    Importing tomllib and parsing costs ~30 ms here, three times the rest of
    a helper run; so the answers are kept in a small file per (path, queries),
    valid while the file's mtime, size and inode are unchanged (git's index
    trusts the same facts).  A hit costs one stat and one small read.
    """
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return [None] * len(queries)
    identity = "%d %d %d" % (info.st_mtime_ns, info.st_size, info.st_ino)
    key = "\0".join([path] + ["\0".join(query) + "\0" for query in queries])
    cache = os.path.join(_xdg(environ, "XDG_CACHE_HOME", ".cache"), "autoenv", "toml-values",
                         b64_urlsafe(sha256(key.encode("utf-8", "surrogateescape")))[:22])
    cached = read_small(cache)
    if cached is not None:
        lines = cached.split("\n")
        if lines[0] == identity and len(lines) == len(queries) + 2:
            return [_unescape(line[1:]) if line[:1] == "=" else None for line in lines[1:-1]]
    data = read_toml(path)
    values = []
    for query in queries:
        value = dig(data, *query)
        values.append(value if isinstance(value, str) else None)
    text = identity + "\n" + "".join(("=" + _escape(value) if value is not None else "-") + "\n"
                                     for value in values)
    _write_quietly(cache, text)
    return values


def _escape(text):
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _unescape(text):
    out, chars = [], iter(text)
    for char in chars:
        if char == "\\":
            char = next(chars, "")
            out.append("\n" if char == "n" else char)
        else:
            out.append(char)
    return "".join(out)


def _write_quietly(path, text):
    """Write a cache file whole (temp file + rename); a failure only costs speed."""
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        temp = "%s.%d.tmp" % (path, os.getpid())
        with open(temp, "w", encoding="utf-8", errors="surrogateescape", newline="") as handle:
            handle.write(text)
        os.replace(temp, path)
    except (OSError, ValueError):
        pass


# ---------------------------------------------------------------- one project

class ToolLookup:
    """The lookups for one project root; remembers what it read.

    ``watch`` collects every file read and every directory where a tool's env
    would appear, so the shell can re-run the helper when one changes (an env
    made by ``poetry install`` elsewhere does not touch the project dir).
    """

    def __init__(self, root, names, environ, watch):
        self.root = root
        self.names = names
        self.environ = environ
        self.watch = watch
        self.home = home_dir(environ)
        self._real_root = None
        self._pyproject = None
        self._stops = None

    def strings(self, path, *queries):
        """``toml_strings`` for this lookup's environment; the file is watched."""
        self.add_watch(path)
        return toml_strings(path, queries, self.environ)

    # -- shared facts

    def real_root(self):
        """The root as the tools see it: they start from ``os.getcwd()``, which
        has no symlinks (pipenv and poetry resolve it explicitly too)."""
        if self._real_root is None:
            self._real_root = os.path.realpath(self.root)
        return self._real_root

    def has(self, name):
        """A watched name the scan saw, or another file in the root."""
        if name in detect.WATCHED_NAMES:
            return name in self.names
        return detect._exists(os.path.join(self.root, name))

    PYPROJECT_QUERIES = (("project", "name"), ("tool", "poetry", "name"),
                         ("tool", "hatch", "envs", "default", "path"))

    def pyproject(self, query):
        """One string from pyproject.toml; the file is read only when a rule
        needs its contents, and then for all of PYPROJECT_QUERIES at once."""
        if self._pyproject is None:
            path = os.path.join(self.root, "pyproject.toml")
            self._pyproject = dict(zip(self.PYPROJECT_QUERIES, self.strings(path, *self.PYPROJECT_QUERIES)))
        return self._pyproject[query]

    def add_watch(self, path):
        if path and path not in self.watch:
            self.watch.append(path)

    def watch_dir(self, path):
        """Watch ``path``, or where it will appear when it does not exist yet."""
        if self._stops is None:
            self._stops = watch_stops(self.environ)
        self.add_watch(nearest_existing(path, self._stops))

    def env_if_valid(self, path):
        return path if path and detect.is_env(path) else None

    # -- the rules, in order

    def find(self):
        for rule in (self.dot_venv_file, self.pdm_python, self.pyenv_virtualenv, self.uv):
            hit = rule()
            if hit:
                return hit
        if self.has("Pipfile"):
            hit = self.pipenv()
            if hit:
                return hit
        if self.has("pyproject.toml"):
            for rule in self.pyproject_tools_in_order():
                hit = rule()
                if hit:
                    return hit
        return None

    def pyproject_tools_in_order(self):
        """poetry, pdm, hatch; a tool whose own file the project has goes first."""
        rules = [(self.has("poetry.lock") or self.has("poetry.toml"), self.poetry),
                 (self.has("pdm.lock") or self.has("pdm.toml"), self.pdm_central),
                 (self.has("hatch.toml"), self.hatch)]
        return [rule for marked, rule in rules if marked] + [rule for marked, rule in rules if not marked]

    # -- `.venv` file: virtualenvwrapper, pipenv, zsh-autoswitch-virtualenv

    def workon_homes(self):
        """Where a bare env name in a ``.venv`` file lives.

        ``$WORKON_HOME`` when set (virtualenvwrapper and pipenv both use it);
        otherwise virtualenvwrapper's default ``~/.virtualenvs``, then pipenv's
        (pipenv/utils/shell.py get_workon_home: ``$XDG_DATA_HOME/virtualenvs``,
        ``~/.virtualenvs`` on Windows).
        """
        workon = self.environ.get("WORKON_HOME")
        if workon:
            return [expand_user(workon, self.environ)]
        homes = [os.path.join(self.home, ".virtualenvs")]
        if not WINDOWS:
            homes.append(os.path.join(_xdg(self.environ, "XDG_DATA_HOME", ".local", "share"), "virtualenvs"))
        return homes

    def dot_venv_file(self):
        """pipenv/utils/venv_locator.py get_location: a ``.venv`` *file* holds a
        path when it "looks like a dir" (ends with a separator or has more than
        one path part: ``../envs/x``, ``/abs/env``, ``envs/x``), resolved
        against the project; otherwise an env name in WORKON_HOME."""
        path = os.path.join(self.root, ".venv")
        if ".venv" not in self.names or not is_file(path):
            return None
        self.add_watch(path)
        text = (read_small(path) or "").strip()
        if not text or "\n" in text or "\0" in text:
            return None
        if looks_like_dir(text):
            env = os.path.normpath(os.path.join(self.root, expand_user(text, self.environ)))
            if detect.is_env(env):
                return Hit(env, ".venv file", "the .venv file in %s names the path %s" % (self.root, text))
            self.watch_dir(env)
            return None
        if text in (".", ".."):
            return None
        for workon in self.workon_homes():
            self.watch_dir(workon)
            env = os.path.join(workon, text)
            if detect.is_env(env):
                return Hit(env, ".venv file", "the .venv file in %s names the env %r in %s"
                           % (self.root, text, workon))
        return None

    # -- pdm: the interpreter it saved for the project

    def pdm_python(self):
        """pdm/project/core.py _saved_python: ``$PDM_PYTHON``, else ``.pdm-python``
        holds the interpreter path (``<env>/bin/python``) pdm uses."""
        saved = self.environ.get("PDM_PYTHON")
        origin = "$PDM_PYTHON"
        if not saved:
            if ".pdm-python" not in self.names:
                return None
            path = os.path.join(self.root, ".pdm-python")
            self.add_watch(path)
            saved = (read_small(path) or "").strip()
            origin = ".pdm-python"
        if not saved or "\n" in saved or "\0" in saved:
            return None
        interpreter = os.path.join(self.root, saved)  # pdm writes absolute paths
        bin_dir = os.path.dirname(interpreter)
        if os.path.basename(bin_dir) != detect.BIN_DIR:
            return None  # a base interpreter (PEP 582 mode): nothing to activate
        env = self.env_if_valid(os.path.dirname(bin_dir))
        if env:
            return Hit(env, "pdm", "%s names its interpreter %s" % (origin, interpreter))
        return None

    # -- pyenv-virtualenv

    def pyenv_virtualenv(self):
        """pyenv libexec/pyenv-version-file-read: the first word of each line,
        blank lines and ``#`` comments skipped; a name with ``/`` or ``..`` only
        if it stays inside ``$PYENV_ROOT/versions``.  pyenv-virtualenv keeps the
        env in ``versions/<ver>/envs/<name>`` with a link ``versions/<name>`` and
        activates the link's target (bin/pyenv-sh-activate resolve_link)."""
        if ".python-version" not in self.names:
            return None
        path = os.path.join(self.root, ".python-version")
        self.add_watch(path)
        version = first_version(read_small(path) or "")
        if not version:
            return None
        pyenv_root = expand_user(self.environ.get("PYENV_ROOT") or os.path.join(self.home, ".pyenv"),
                                 self.environ)
        versions = os.path.join(pyenv_root, "versions")
        self.watch_dir(versions)
        candidate = os.path.join(versions, version)
        if not detect.is_env(candidate):
            return None  # a plain Python version (or a conda env): not a virtualenv
        env = os.path.realpath(candidate)
        real_versions = os.path.realpath(versions)
        if ("/" in version or version == "..") and not env.startswith(real_versions + os.sep):
            return None
        return Hit(env, "pyenv-virtualenv", ".python-version in %s names the pyenv virtualenv %r"
                   % (self.root, version))

    # -- uv

    def uv(self):
        """uv (PR astral-sh/uv#6834, docs "UV_PROJECT_ENVIRONMENT"): the project
        env is ``$UV_PROJECT_ENVIRONMENT``, relative to the workspace root when
        relative; else ``<root>/.venv`` (found as the in-project env)."""
        value = self.environ.get("UV_PROJECT_ENVIRONMENT")
        if not value or not self.has("pyproject.toml"):
            return None
        env = os.path.normpath(os.path.join(self.root, expand_user(value, self.environ)))
        if detect.is_env(env):
            return Hit(env, "uv", "$UV_PROJECT_ENVIRONMENT is %s" % value)
        self.watch_dir(env)
        return None

    # -- pipenv

    def pipenv_home(self):
        """pipenv/utils/shell.py get_workon_home: ``$WORKON_HOME``, else
        ``$XDG_DATA_HOME/virtualenvs`` (``~/.local/share/virtualenvs``)."""
        workon = self.environ.get("WORKON_HOME")
        if workon:
            return expand_user(workon, self.environ)
        if WINDOWS:
            return os.path.join(self.home, ".virtualenvs")
        data = self.environ.get("XDG_DATA_HOME") or os.path.join(self.home, ".local", "share")
        return os.path.join(expand_user(data, self.environ), "virtualenvs")

    def pipenv(self):
        """pipenv/utils/venv_locator.py ``name``: ``$PIPENV_CUSTOM_VENV_NAME``, or
        the project dir name sanitised, ``-``, the hash of the Pipfile path, and
        ``-$PIPENV_PYTHON`` when that is set.  The Pipfile path is the resolved
        project dir + ``/Pipfile`` (find_pipfile walks up from the resolved cwd;
        normalize_pipfile_path keeps a symlinked Pipfile unresolved)."""
        home = self.pipenv_home()
        self.watch_dir(home)
        name = self.environ.get("PIPENV_CUSTOM_VENV_NAME")
        why = "$PIPENV_CUSTOM_VENV_NAME is %r" % name
        if not name:
            name = pipenv_env_name(os.path.join(self.real_root(), "Pipfile"))
            python = self.environ.get("PIPENV_PYTHON")
            if python:
                name += "-" + (os.path.basename(python) if os.path.isabs(python) else python)
            why = "Pipfile in %s; pipenv names its env %s" % (self.root, name)
        env = self.env_if_valid(os.path.join(home, name))
        if env:
            return Hit(env, "pipenv", "%s in %s" % (why, home))
        return None

    # -- poetry

    def poetry_settings(self):
        """poetry/config/config.py: a setting comes from ``POETRY_<KEY>``, then the
        project's poetry.toml, then ``<config dir>/config.toml``
        (``$POETRY_CONFIG_DIR`` or platformdirs' user config dir, roaming),
        then the default.  Returns (cache_dir, virtualenvs_path)."""
        files = []
        if self.has("poetry.toml"):
            files.append(os.path.join(self.root, "poetry.toml"))
        config_dir = self.environ.get("POETRY_CONFIG_DIR") or user_config_dir("pypoetry", self.environ,
                                                                                roaming=True)
        global_config = os.path.join(config_dir, "config.toml")
        if is_file(global_config):
            files.append(global_config)
        tables = [self.strings(path, ("cache-dir",), ("virtualenvs", "path")) for path in files]

        def setting(env_var, index):
            value = self.environ.get(env_var)
            if value is not None:
                return value
            for values in tables:
                if values[index] is not None:
                    return values[index]
            return None

        cache_dir = setting("POETRY_CACHE_DIR", 0) or user_cache_dir("pypoetry", self.environ)
        path = setting("POETRY_VIRTUALENVS_PATH", 1)
        if path is None:
            path = os.path.join(str(cache_dir), "virtualenvs")
        # Config.process: "{cache-dir}" in a value is the cache dir.
        path = str(path).replace("{cache-dir}", str(cache_dir))
        path = expand_user(path, self.environ)
        return str(cache_dir), os.path.join(self.root, path)

    def poetry(self):
        """poetry/utils/env/env_manager.py: the env is
        ``<virtualenvs.path>/<generate_env_name(name, project dir)>-py<X.Y>``;
        ``envs.toml`` there records the minor version ``poetry env use`` chose
        (section = the base name, key ``minor``).  Without a record poetry asks
        the current Python, which we cannot without running it: the newest
        existing one is taken.  The name is ``[project].name``, else
        ``[tool.poetry].name``, else "non-package-mode" (poetry/core/factory.py),
        canonicalised by poetry-core's Package."""
        _, venvs = self.poetry_settings()
        self.watch_dir(venvs)
        path_hash = poetry_path_hash(self.real_root())
        entries = [entry for entry in listdir(venvs) if ("-%s-py" % path_hash) in entry]
        if not entries:
            return None  # no env made for this directory: no need to read pyproject.toml
        name = (self.pyproject(("project", "name")) or self.pyproject(("tool", "poetry", "name"))
                or "non-package-mode")
        base = poetry_env_name(canonical_name(name), self.real_root())
        envs_file = os.path.join(venvs, "envs.toml")
        minor = None
        if is_file(envs_file):
            minor, = self.strings(envs_file, (base, "minor"))
        if minor is not None:
            env = self.env_if_valid(os.path.join(venvs, "%s-py%s" % (base, minor.strip())))
            if env:
                return Hit(env, "poetry", "poetry's env for %r in %s (envs.toml picks Python %s)"
                           % (name, venvs, minor.strip()))
        minors = sorted((entry[len(base) + 3:] for entry in entries if entry.startswith(base + "-py")
                         and detect.is_env(os.path.join(venvs, entry))), key=version_key)
        if not minors:
            return None
        env = os.path.join(venvs, "%s-py%s" % (base, minors[-1]))
        why = "poetry's env for %r in %s" % (name, venvs)
        if len(minors) > 1:
            why += " (the newest of Python %s; `poetry env use` records a choice)" % ", ".join(minors)
        return Hit(env, "poetry", why)

    # -- pdm, envs kept outside the project

    def pdm_settings_location(self):
        """pdm/project/config.py ``venv.location`` (global only): from
        ``$PDM_CONFIG_FILE`` or ``<user config dir>/pdm/config.toml``, default
        ``<user data dir>/pdm/venvs``."""
        config = self.environ.get("PDM_CONFIG_FILE") or os.path.join(
            user_config_dir("pdm", self.environ), "config.toml")
        location = None
        if is_file(config):
            location, = self.strings(config, ("venv", "location"))
        if not location:
            location = os.path.join(user_data_dir("pdm", self.environ), "venvs")
        return expand_user(location, self.environ)

    def pdm_central(self):
        """pdm/cli/commands/venv/utils.py iter_venvs: in-project ``.venv``,
        ``venv``, ``env``, then ``<venv.location>/<dir name>-<hash>-<ident>``
        (get_venv_prefix; hash_path = urlsafe base64 of md5 of the root)."""
        if self.has("pdm.lock"):
            env = self.env_if_valid(os.path.join(self.root, "env"))
            if env:
                return Hit(env, "pdm", "pdm.lock in %s; pdm uses the in-project env dir 'env'" % self.root)
        location = self.pdm_settings_location()
        self.watch_dir(location)
        prefix = pdm_env_prefix(self.real_root())
        for entry in sorted(listdir(location)):
            if entry.startswith(prefix):
                env = self.env_if_valid(os.path.join(location, entry))
                if env:
                    return Hit(env, "pdm", "pdm's env for %s in %s" % (self.root, location))
        return None

    # -- hatch

    def hatch_dirs(self):
        """hatch/config/model.py + cli/application.py get_env_directory: the
        ``virtual`` env dir is ``[dirs.env] virtual`` (relative to the project),
        else ``<data dir>/env/virtual``; data dir = ``$HATCH_DATA_DIR``, else
        ``[dirs] data``, else platformdirs' user data dir for "hatch".  Config:
        ``$HATCH_CONFIG`` or ``<user config dir>/hatch/config.toml``."""
        config_path = self.environ.get("HATCH_CONFIG") or os.path.join(
            user_config_dir("hatch", self.environ), "config.toml")
        virtual = data = None
        if is_file(config_path):
            virtual, data = self.strings(config_path, ("dirs", "env", "virtual"), ("dirs", "data"))
        if virtual:
            return os.path.join(self.root, expand_user(virtual, self.environ))
        data = self.environ.get("HATCH_DATA_DIR") or data
        if not data:
            data = user_data_dir("hatch", self.environ)
        return os.path.join(expand_user(data, self.environ), "env", "virtual")

    def hatch(self):
        """hatch/env/virtual.py: the default env lives at
        ``<virtual dir>/<project name>/<root id>/<project name>`` (root id =
        hatch/utils/fs.py Path.id: urlsafe base64 of sha256 of the path,
        case-folded on macOS and Windows, 8 chars); flat
        ``<virtual dir>/<project name>`` when that dir is ``~/.virtualenvs`` or
        inside the project; an explicit ``path`` in ``[tool.hatch.envs.default]``
        (or hatch.toml ``[envs.default]``) wins."""
        explicit = self.hatch_explicit_path()
        if explicit:
            env = os.path.normpath(os.path.join(self.real_root(), expand_user(explicit, self.environ)))
            if detect.is_env(env):
                return Hit(env, "hatch", "the hatch default env's path is %s" % explicit)
            self.watch_dir(env)
            return None
        virtual = self.hatch_dirs()
        self.watch_dir(virtual)
        flat = (virtual == os.path.join(self.home, ".virtualenvs")
                or os.path.realpath(virtual).startswith(self.real_root() + os.sep))
        project_id = hatch_root_id(self.real_root())
        if not flat and not any(detect._exists(os.path.join(virtual, entry, project_id))
                                for entry in listdir(virtual)):
            return None  # no env made for this directory: no need to read pyproject.toml
        name = self.pyproject(("project", "name"))
        if not name:
            return None
        name = canonical_name(name)
        if flat:
            env = os.path.join(virtual, name)
        else:
            env = os.path.join(virtual, name, project_id, name)
            self.watch_dir(os.path.dirname(env))
        if detect.is_env(env):
            return Hit(env, "hatch", "hatch's default env for %r in %s" % (name, virtual))
        return None

    def hatch_explicit_path(self):
        """The default env's ``path``, read only from files that mention one."""
        candidates = []
        pyproject_text = read_small(os.path.join(self.root, "pyproject.toml"), TOML_FILE_LIMIT) or ""
        if "tool.hatch" in pyproject_text and "path" in pyproject_text:
            candidates.append(self.pyproject(("tool", "hatch", "envs", "default", "path")))
        if self.has("hatch.toml"):
            candidates.extend(self.strings(os.path.join(self.root, "hatch.toml"), ("envs", "default", "path")))
        for value in candidates:
            if value:
                return value
        return None


# ---------------------------------------------------------------- names and hashes

def poetry_path_hash(project_dir):
    """EnvManager.generate_env_name: urlsafe base64 of sha256 of
    ``normcase(realpath(cwd))``, 8 chars (the caller passes the realpath)."""
    return b64_urlsafe(sha256(os.path.normcase(project_dir).encode("utf-8", "surrogateescape")))[:8]


def poetry_env_name(name, project_dir):
    """EnvManager.generate_env_name: the name lower-cased, each of
    ``[ $`!*@"\\\\\\r\\n\\t]`` replaced by ``_``, cut to 42, ``-``, the path hash."""
    sanitized = replace_chars(name.lower(), ' $`!*@"\\\r\n\t')[:42]
    return "%s-%s" % (sanitized, poetry_path_hash(project_dir))


def pipenv_env_name(pipfile):
    """VenvLocator._get_virtualenv_hash and _sanitize: the Pipfile's dir name
    with each of ``[ &$`!*@"()[]\\\\\\r\\n\\t]`` replaced by ``_``, cut to 42,
    ``-``, urlsafe base64 of the first 6 bytes of sha256 of the Pipfile path."""
    name = replace_chars(os.path.basename(os.path.dirname(pipfile)), ' &$`!*@"()[]\\\r\n\t')[:42]
    return "%s-%s" % (name, b64_urlsafe(sha256(pipfile.encode("utf-8", "surrogateescape"))[:6])[:8])


def pdm_env_prefix(root):
    """get_venv_prefix: ``<dir name>-<hash_path(root)>-``."""
    digest = md5(root.replace(os.sep, "/").encode("utf-8", "surrogateescape"))
    return "%s-%s-" % (os.path.basename(root), b64_urlsafe(digest)[:8])


def hatch_root_id(root):
    if WINDOWS or MACOS:
        root = root.casefold()
    return b64_urlsafe(sha256(root.encode("utf-8", "surrogateescape")))[:8]


def looks_like_dir(text):
    """pipenv/utils/shell.py looks_like_dir: ends with a separator, or
    ``PurePath(text).parts`` has more than one part (``./x`` has one)."""
    seps = [os.sep] + ([os.altsep] if os.altsep else [])
    if any(text.endswith(sep) for sep in seps):
        return True
    normal = text.replace(os.altsep, os.sep) if os.altsep else text
    parts = [part for part in normal.split(os.sep) if part not in ("", ".")]
    if os.path.isabs(normal):
        parts.insert(0, os.sep)
    return len(parts) > 1


def first_version(text):
    """The first version pyenv reads from a ``.python-version`` text."""
    for line in text[:1024 * 64].splitlines():
        words = line[:1024].split()
        if words and not words[0].startswith("#"):
            return words[0]
    return None


def find(root, names, environ, watch):
    """The env another tool made for the project at ``root``, as a Hit, or None."""
    return ToolLookup(root, names, environ, watch).find()


# ---------------------------------------------------------------- conda

def conda_env_name(directory):
    """The top-level ``name:`` of ``environment.yml`` (no YAML parser needed
    for one scalar: an unindented ``name:`` line, quotes and comment dropped)."""
    text = read_small(os.path.join(directory, "environment.yml"))
    for line in (text or "").splitlines():
        if not line.startswith("name:"):
            continue
        value = line[len("name:"):]
        if " #" in value:
            value = value[:value.index(" #")]
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        # conda refuses names with separators, spaces or control characters;
        # so does this, which also keeps the name safe to print.
        if value and value not in (".", "..") and not any(
                char in "/\\:#" or char.isspace() or not char.isprintable() for char in value):
            return value
        return None
    return None


def conda_env_dirs(environ):
    """Where conda looks for named envs (conda docs "Specifying a location for
    an environment" / envs_dirs): ``$CONDA_ENVS_PATH`` / ``$CONDA_ENVS_DIRS``,
    ``<root prefix>/envs`` (root from ``$CONDA_EXE``, ``$MAMBA_ROOT_PREFIX``,
    ``$CONDA_ROOT``, or the usual install dirs), ``~/.conda/envs``."""
    dirs = []
    for var in ("CONDA_ENVS_PATH", "CONDA_ENVS_DIRS"):
        dirs.extend(part for part in (environ.get(var) or "").split(os.pathsep) if part)
    roots = []
    conda_exe = environ.get("CONDA_EXE")
    if conda_exe:
        roots.append(os.path.dirname(os.path.dirname(conda_exe)))
    for var in ("MAMBA_ROOT_PREFIX", "CONDA_ROOT"):
        if environ.get(var):
            roots.append(environ[var])
    home = home_dir(environ)
    roots.extend(os.path.join(home, name) for name in
                 ("miniconda3", "anaconda3", "miniforge3", "mambaforge", "micromamba"))
    dirs.extend(os.path.join(root, "envs") for root in roots)
    dirs.append(os.path.join(home, ".conda", "envs"))
    return [expand_user(directory, environ) for directory in dirs], roots


def find_conda(directory, environ):
    """(name, env path) for the conda env ``environment.yml`` names, when it
    exists (a dir with ``conda-meta/``); else (name, None); None without a name."""
    name = conda_env_name(directory)
    if not name:
        return None
    dirs, roots = conda_env_dirs(environ)
    candidates = [os.path.join(envs, name) for envs in dirs]
    if name == "base":
        candidates = roots
    for candidate in candidates:
        if os.path.isdir(os.path.join(candidate, "conda-meta")):
            return name, candidate
    # conda records every env it made here, wherever it lives.
    listed = read_small(os.path.join(home_dir(environ), ".conda", "environments.txt")) or ""
    for line in listed.splitlines():
        line = line.strip()
        if line and os.path.basename(line) == name and os.path.isdir(os.path.join(line, "conda-meta")):
            return name, line
    return name, None
