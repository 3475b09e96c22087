"""PowerShell 7: verbatim strings, ``$env:`` variables, PATH joined with the platform separator."""

from autoenv.render import Shell

# PowerShell ends a single-quoted string at any of these, not only at U+0027;
# inside one, two in a row stand for the second.
SINGLE_QUOTES = ("'", "\u2018", "\u2019", "\u201a", "\u201b")


def _verbatim(text):
    for quote in SINGLE_QUOTES:
        text = text.replace(quote, quote + quote)
    return "'" + text + "'"


def pwsh_quote(value):
    """A PowerShell expression that evaluates to ``value``.

    A verbatim string with every kind of single quote doubled; control
    characters are joined in as ``[char]`` codes, so each rendered statement is
    one line whatever the directory names.  Bytes that are not UTF-8 have no
    .NET spelling and become U+FFFD.
    """
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    parts = []
    run = []
    for char in value:
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            char, code = "\ufffd", 0xFFFD
        if code < 0x20 or code == 0x7F:
            if run:
                parts.append(_verbatim("".join(run)))
                run = []
            parts.append("[char]0x%02X" % code)
        else:
            run.append(char)
    if run or not parts:
        parts.append(_verbatim("".join(run)))
    if len(parts) == 1 and parts[0].startswith("'"):
        return parts[0]
    # Starts with a string so that `+` concatenates rather than adds codes.
    if not parts[0].startswith("'"):
        parts.insert(0, "''")
    return "(" + " + ".join(parts) + ")"


class Renderer(Shell):
    name = "pwsh"
    snippet_suffix = "ps1"

    def quote(self, value):
        return pwsh_quote(value)

    def export(self, name, value):
        return "$env:%s = %s" % (name, self.quote(value))

    def unset(self, name):
        # No error record when it was not set, unlike Remove-Item.
        return "[System.Environment]::SetEnvironmentVariable(%s, $null)" % self.quote(name)

    def set_path(self, entries):
        return "$env:PATH = %s -join [System.IO.Path]::PathSeparator" % self._array(entries)

    def set_local(self, name, value):
        return "$global:%s = %s" % (name, self.quote(value))

    def set_local_list(self, name, values):
        return "$global:%s = [string[]]%s" % (name, self._array(values))

    def call(self, function, *args):
        return " ".join([function] + [self.quote(a) for a in args])

    def render_snippet(self, template, values):
        # Lists become comma-separated arrays: `@('a', 'b')`, not words.
        out = template
        for key, value in values.items():
            if isinstance(value, (list, tuple)):
                text = ", ".join(self.quote(item) for item in value)
            else:
                text = self.quote(value)
            out = out.replace("@" + key + "@", text)
        return out

    def _array(self, values):
        return "@(" + ", ".join(self.quote(v) for v in values) + ")"
