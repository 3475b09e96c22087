"""``autoenv init SHELL``: the snippet a shell evaluates at start-up."""

import os
import sys

from autoenv import detect, render, serve

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def snippet_dir():
    """Snippets ship inside the wheel as autoenv/snippets; a checkout keeps them in shells/."""
    installed = os.path.join(_PACKAGE_DIR, "snippets")
    if os.path.isdir(installed):
        return installed
    return os.path.join(os.path.dirname(_PACKAGE_DIR), "shells")


def helper_path():
    return os.path.join(_PACKAGE_DIR, "_run_hook.py")


def helper_python():
    """The interpreter the snippet runs the helper with: the one autoenv is installed in.

    Not resolved through symlinks, so a venv's python keeps its own prefix.
    """
    return os.path.abspath(sys.executable)


def render_init(shell_name, templates=None):
    """The snippet for ``shell_name``, from ``shells/`` or another directory
    of templates (benchmarks/run.py --candidate)."""
    renderer = render.get(shell_name)
    path = os.path.join(templates or snippet_dir(), "autoenv." + renderer.snippet_suffix)
    with open(path, encoding="utf-8") as handle:
        template = handle.read()
    return renderer.render_snippet(
        template,
        {
            "PYTHON": helper_python(),
            "HELPER": helper_path(),
            "NAMES": list(detect.WATCHED_NAMES),
            "FORWARDED": list(serve.FORWARDED),
            "SYNC_FROM": str(serve.SYNC_FROM_PATHS),
        },
    )
