"""One small module per shell, each a subclass of :class:`autoenv.render.base.Shell`.

Adding a shell means one snippet in ``shells/`` and one module here; the helper
only ever talks to the interface in ``base``.
"""

SHELLS = ("bash", "zsh", "fish", "pwsh")


def get(name):
    """The renderer for ``name``, importing only that shell's module."""
    if name not in SHELLS:
        raise KeyError(name)
    module = __import__("autoenv.render." + name, fromlist=["Renderer"])
    return module.Renderer()
