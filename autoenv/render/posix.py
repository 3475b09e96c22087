"""What bash and zsh share: ``$'...'`` quoting and POSIX variable syntax."""

import os

from autoenv.render import Shell

_SAFE = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    " !\"#$%&()*+,-./:;<=>?@[]^_`{|}~"
)
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "'": "\\'", "\\": "\\\\"}


def ansi_c_quote(value):
    """``$'...'`` with every byte outside printable ASCII spelled ``\\xHH``.

    The result is one line of plain ASCII whatever the input, which keeps
    ``eval`` safe from the terminal's and the locale's ideas about bytes.
    """
    if isinstance(value, bytes):
        data = value
    else:
        if value.isascii() and value.isprintable():
            # The common case (PATH, most paths) without a loop per byte:
            # printable ASCII is safe but for the two escaped characters.
            return "$'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        data = value.encode("utf-8", "surrogateescape")
    parts = ["$'"]
    for byte in data:
        char = chr(byte)
        if char in _NAMED:
            parts.append(_NAMED[char])
        elif char in _SAFE:
            parts.append(char)
        else:
            parts.append("\\x%02x" % byte)
    parts.append("'")
    return "".join(parts)


class PosixShell(Shell):
    def quote(self, value):
        return ansi_c_quote(value)

    def export(self, name, value):
        return "export %s=%s;" % (name, self.quote(value))

    def unset(self, name):
        return "unset %s;" % name

    def set_path(self, entries):
        return self.export("PATH", os.pathsep.join(entries))

    def set_local(self, name, value):
        return "%s=%s;" % (name, self.quote(value))

    def set_local_list(self, name, values):
        return "%s=(%s);" % (name, " ".join(self.quote(v) for v in values))

    def call(self, function, *args):
        return " ".join([function] + [self.quote(a) for a in args]) + ";"

    def rehash(self):
        return "hash -r;"
