"""The renderer interface, and one small module per shell implementing it.

The helper decides; a renderer only spells the decision in one shell's syntax.
Every value passes through :meth:`Shell.quote`, a pure function, so no byte of
a path is ever interpreted by the shell that evaluates the output.

Adding a shell means one snippet in ``shells/`` and one module here (a
subclass of :class:`Shell`); the helper only ever talks to this interface.
The interface lives in the package itself, not a module of its own: each
module the helper imports costs it about 0.1-0.2 ms.
"""

SHELLS = ("bash", "zsh", "fish", "pwsh")


def get(name):
    """The renderer for ``name``, importing only that shell's module."""
    if name not in SHELLS:
        raise KeyError(name)
    module = __import__("autoenv.render." + name, fromlist=["Renderer"])
    return module.Renderer()


class Shell:
    name = ""
    # Suffix of the snippet file in shells/, e.g. "bash" for shells/autoenv.bash.
    snippet_suffix = ""
    # The snippet checks its directories with one `test D -nt STAMP -o ...`
    # (the helper sends the arguments as __autoenv_below_test/_above_test).
    tests_mtimes_at_once = False
    # A long chain is checked by the shell's server (serve.Sync) instead: the
    # helper sends __autoenv_extra, the checked paths outside the chain.
    asks_server_at_prompt = False

    def quote(self, value):
        """``value`` as a literal the shell reads back byte for byte."""
        raise NotImplementedError

    def export(self, name, value):
        """Set an environment variable, visible to child processes."""
        raise NotImplementedError

    def unset(self, name):
        """Remove an environment variable."""
        raise NotImplementedError

    def set_path(self, entries):
        """Set PATH to exactly ``entries``, in order."""
        raise NotImplementedError

    def set_local(self, name, value):
        """Set a variable of the shell session only, never exported."""
        raise NotImplementedError

    def set_local_list(self, name, values):
        """Set a list (array) variable of the shell session only."""
        raise NotImplementedError

    def call(self, function, *args):
        """Call a function the snippet defined."""
        raise NotImplementedError

    def rehash(self):
        """Forget cached command locations, so PATH changes show at once."""
        return ""

    def render_snippet(self, template, values):
        """Fill ``@NAME@`` placeholders of a snippet template with quoted values."""
        out = template
        for key, value in values.items():
            if isinstance(value, (list, tuple)):
                text = " ".join(self.quote(item) for item in value)
            else:
                text = self.quote(value)
            out = out.replace("@" + key + "@", text)
        return out
