from autoenv.render.base import Shell

# PowerShell also ends a single-quoted string at the typographic single quotes.
_SINGLE_QUOTES = ("'", "\u2018", "\u2019", "\u201a", "\u201b")


def pwsh_quote(value):
    """A PowerShell verbatim string: every kind of single quote doubled."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "surrogateescape")
    for quote in _SINGLE_QUOTES:
        value = value.replace(quote, quote + quote)
    return "'" + value + "'"


class Renderer(Shell):
    name = "pwsh"
    snippet_suffix = "ps1"

    def quote(self, value):
        return pwsh_quote(value)

    def export(self, name, value):
        return "$env:%s = %s\n" % (name, self.quote(value))

    def unset(self, name):
        return "Microsoft.PowerShell.Management\\Remove-Item -LiteralPath %s -ErrorAction SilentlyContinue\n" % (
            self.quote("Env:" + name)
        )

    def set_path(self, entries):
        return "$env:PATH = %s -join [System.IO.Path]::PathSeparator\n" % self._array(entries)

    def set_local(self, name, value):
        return "$global:%s = %s\n" % (name, self.quote(value))

    def set_local_list(self, name, values):
        return "$global:%s = %s\n" % (name, self._array(values))

    def call(self, function, *args):
        return " ".join([function] + [self.quote(a) for a in args]) + "\n"

    def _array(self, values):
        return "@(" + ", ".join(self.quote(v) for v in values) + ")"
