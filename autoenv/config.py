"""Settings for creating envs, from the user's config file, the project and the environment.

Read only when an env is about to be created.  Sources, weakest first:

- ``$XDG_CONFIG_HOME/autoenv/config.toml`` (default ``~/.config/autoenv/config.toml``)
- ``[tool.autoenv]`` in the project's pyproject.toml: may turn creation off,
  never on, and may not turn ``install`` on: a cloned project must not make a
  ``cd`` run its own setup code.
- ``AUTOENV_CREATE=0`` (or 1) in the environment.

A file that cannot be read or holds a wrong value costs one line naming the
file and the problem; the defaults stand for whatever it got wrong.
"""

import os

DEFAULTS = {"create": True, "install": False}
# Keys pyproject.toml may set, and the one value each may take there.
PROJECT_MAY_SET = {"create": False}
FALSE_WORDS = ("0", "false", "no", "off")
TRUE_WORDS = ("1", "true", "yes", "on")


class Settings:
    def __init__(self):
        self.values = dict(DEFAULTS)
        self.problems = []  # one line each, naming the file

    @property
    def create(self):
        return self.values["create"]

    @property
    def install(self):
        return self.values["install"]


def user_config_path(environ):
    base = environ.get("XDG_CONFIG_HOME")
    if not (base and os.path.isabs(base)):
        base = os.path.join(environ.get("HOME") or os.path.expanduser("~"), ".config")
    return os.path.join(base, "autoenv", "config.toml")


def read_toml(path):
    """The parsed file, None when it does not exist; ValueError with the reason when it is bad."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ValueError("cannot read it (%s)" % (exc.strerror or exc))
    from autoenv import tomlfile

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("it is not UTF-8 text")
    try:
        return tomlfile.loads(text)
    except tomlfile.Unavailable as exc:
        raise ValueError("cannot parse it: %s" % exc)
    except ValueError as exc:
        raise ValueError("invalid TOML: %s" % exc)


def _apply(settings, table, path, allowed):
    for key, value in table.items():
        if key not in DEFAULTS:
            settings.problems.append("autoenv: %s: unknown setting %r (known: %s); ignored"
                                     % (path, key, ", ".join(sorted(DEFAULTS))))
        elif not isinstance(value, bool):
            settings.problems.append("autoenv: %s: %s must be true or false, not %r; using %s"
                                     % (path, key, value, str(settings.values[key]).lower()))
        elif allowed is not None and allowed.get(key, object()) is not value:
            settings.problems.append("autoenv: %s: %s = %s is only read from %s; ignored"
                                     % (path, key, str(value).lower(), "your own config.toml"))
        else:
            settings.values[key] = value


def load(root, environ, pyproject=None):
    """Settings for creating an env in ``root``.

    ``pyproject`` is the already parsed pyproject.toml (or None); a caller that
    has not read it yet passes nothing and this reads it when it exists.
    """
    settings = Settings()
    user_path = user_config_path(environ)
    try:
        user = read_toml(user_path)
    except ValueError as exc:
        settings.problems.append("autoenv: %s: %s; using the defaults" % (user_path, exc))
        user = None
    if user is not None:
        _apply(settings, user, user_path, None)

    project_path = os.path.join(root, "pyproject.toml")
    if pyproject is None:
        try:
            pyproject = read_toml(project_path)
        except ValueError:
            pyproject = None  # the caller reports a broken pyproject.toml when it reads it
    table = ((pyproject or {}).get("tool") or {}).get("autoenv")
    if table is not None:
        if isinstance(table, dict):
            _apply(settings, table, project_path + " [tool.autoenv]", PROJECT_MAY_SET)
        else:
            settings.problems.append("autoenv: %s: [tool.autoenv] must be a table; ignored" % project_path)

    switch = environ.get("AUTOENV_CREATE")
    if switch is not None and switch.strip() != "":
        word = switch.strip().lower()
        if word in FALSE_WORDS:
            settings.values["create"] = False
        elif word in TRUE_WORDS:
            pass  # on unless a file turned it off: the files are the user's own choice too
        else:
            settings.problems.append("autoenv: AUTOENV_CREATE=%r is not 0 or 1; ignored" % switch)
    return settings


def create_switched_off(environ):
    """The cheap check before any file is read: AUTOENV_CREATE=0."""
    value = environ.get("AUTOENV_CREATE")
    return value is not None and value.strip().lower() in FALSE_WORDS
