"""TOML, imported only when a file must be read.

``tomllib`` (3.11+) or ``tomli``.  The helper runs with ``-I -S``; on Python
before 3.11 tomli sits in site-packages, which is then put on the path (no
.pth files run) for this one import.
"""

import os
import sys


class Unavailable(Exception):
    """Neither tomllib nor tomli can be imported."""


def _import():
    try:
        import tomllib

        return tomllib
    except ImportError:
        pass
    try:
        import tomli

        return tomli
    except ImportError:
        pass
    import site

    # Before 3.11, sys.prefix is the venv only after site ran (site.venv):
    # find the helper's venv the same way, from pyvenv.cfg by the executable.
    prefixes = [sys.prefix]
    exe_dir = os.path.dirname(sys.executable)
    if any(os.path.isfile(os.path.join(d, "pyvenv.cfg")) for d in (exe_dir, os.path.dirname(exe_dir))):
        prefixes.insert(0, os.path.dirname(exe_dir))
    for directory in getattr(site, "getsitepackages", lambda prefixes: [])(prefixes):
        if directory not in sys.path:
            sys.path.append(directory)
    try:
        import tomli

        return tomli
    except ImportError:
        raise Unavailable("neither tomllib nor tomli can be imported")


def loads(text):
    """Parse ``text``; ValueError (tomllib's TOMLDecodeError is one) when it is not TOML."""
    return _import().loads(text)
