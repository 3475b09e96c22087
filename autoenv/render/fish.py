"""fish: single-quoted words, PATH as a list, ``set -g``/``set -gx`` scopes."""

import re

from autoenv.render import Shell

# Spelled outside the quotes, so every rendered value is one line of text.
_CONTROL_NAMES = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _outside_quotes(char):
    """The escape for a character that must not appear raw, or None."""
    if char in _CONTROL_NAMES:
        return _CONTROL_NAMES[char]
    code = ord(char)
    if code < 0x20 or code == 0x7F:
        return "\\x%02x" % code
    if 0xDC80 <= code <= 0xDCFF:
        # A byte that is not UTF-8 (a surrogate from os.fsdecode): fish reads
        # \xHH back as that raw byte.
        return "\\x%02x" % (code - 0xDC00)
    return None


def fish_quote(value):
    """A fish word that reads back as ``value`` byte for byte.

    Inside single quotes fish treats only ``\\`` and ``'`` specially; control
    characters and undecodable bytes are escaped between quoted runs, so the
    helper's output has one statement per line whatever the directory names.
    """
    if isinstance(value, bytes):
        value = value.decode("utf-8", "surrogateescape")
    if value.isprintable():
        # The common case (paths, PATH) without a loop per character: no control
        # character and no undecodable byte (a surrogate is not printable).
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    parts = []
    run = []
    for char in value:
        escape = _outside_quotes(char)
        if escape is None:
            run.append("\\" + char if char in "\\'" else char)
            continue
        if run:
            parts.append("'" + "".join(run) + "'")
            run = []
        parts.append(escape)
    if run or not parts:
        parts.append("'" + "".join(run) + "'")
    return "".join(parts)


# What a fish script is made of, as far as finding its comments goes: a line
# that is only a comment or blank, or else (kept) a quoted string (which may
# span lines, and hold a "#" line), an escaped character, a comment (a "#"
# at the start of a word) or a run of anything else.
_FISH_TOKEN = re.compile(r"""
    (?P<comment_line> ^[ \t]*(?:\#[^\n]*)?\n )
  | (?P<kept> '(?:[^'\\]|\\.)*'
            | "(?:[^"\\]|\\.)*"
            | \\.
            | (?<=[ \t;]) \#[^\n]*
            | [^'"\\\#\n]+
            | . )
""", re.VERBOSE | re.MULTILINE | re.DOTALL)


def strip_comments(script):
    """``script`` without its comment-only and blank lines.

    Whenever a fish function starts a block or a call, fish counts the lines
    of the text it was sourced from, from its start up to where the function
    stands, at a few instructions a character: comments make every function
    defined below them cost more at each run.  A "#" line inside a quoted
    string is text, and stays.
    """
    return _FISH_TOKEN.sub(r"\g<kept>", script)


class Renderer(Shell):
    name = "fish"
    asks_server_at_prompt = True
    snippet_suffix = "fish"
    tests_mtimes_at_once = True

    def quote(self, value):
        return fish_quote(value)

    def render_snippet(self, template, values):
        return strip_comments(super().render_snippet(template, values))

    def export(self, name, value):
        return "set -gx %s %s;" % (name, self.quote(value))

    def unset(self, name):
        # Erase every scope the shell session sees, not a caller's local.
        return "set -e -g %s;" % name

    def set_path(self, entries):
        # fish keeps PATH as a list; one element per entry, never a joined string.
        return " ".join(["set -gx PATH"] + [self.quote(e) for e in entries]) + ";"

    def set_local(self, name, value):
        return "set -g %s %s;" % (name, self.quote(value))

    def set_local_list(self, name, values):
        return " ".join(["set -g", name] + [self.quote(v) for v in values]) + ";"

    def call(self, function, *args):
        return " ".join([function] + [self.quote(a) for a in args]) + ";"
