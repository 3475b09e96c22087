"""Quoting for fish and PowerShell: every value reads back byte for byte.

fish values go through a real ``fish --no-config``.  No PowerShell runs here,
so its literals are read back by a decoder written from PowerShell's tokenizer
rules (any of five single-quote characters ends a verbatim string; two in a
row stand for the second), and parsed with the tree-sitter grammar.
"""

import os
import re
import subprocess

import pytest

from autoenv.render import fish, pwsh
from conftest import require_shell


def parse_errors(source):
    """ERROR and MISSING nodes tree-sitter-pwsh finds in ``source`` (empty when it parses)."""
    import tree_sitter
    import tree_sitter_pwsh

    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_pwsh.language()))
    tree = parser.parse(source.encode("utf-8"))
    problems, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing or node.type == "ERROR":
            problems.append("%s at %s: %r" % ("MISSING" if node.is_missing else "ERROR",
                                              node.start_point, node.text[:60]))
        stack.extend(node.children)
    if tree.root_node.has_error and not problems:
        problems.append("tree has an error")
    return problems


def test_parser_flags_broken_powershell():
    # The parse checks must be able to fail.
    assert parse_errors("$x = 'unterminated\n") != []
    assert parse_errors("$x = @('a' 'b')\n") != []
    assert parse_errors("if ($x) {\n") != []
    assert parse_errors("$x = 'ok'\n") == []

HOSTILE = [
    "",
    "plain",
    "'\";&&e-$ èрт🚒",
    "$(touch pwned) `touch pwned` (touch pwned) {a,b} *?[x] ~ %self $HOME",
    "line\nbreak\n",
    "tab\tcr\rbell\x07del\x7f",
    "back\\slash\\",
    "\\'",
    "'",
    "it's",
    "typographic \u2018single\u2019 \u201alow\u201b and 'ascii'",
    "\u2019",
    "\"double\" and `backtick`",
    "-n",
    "--",
    "; exit 1",
    "end; echo pwned",
    "#not a comment",
]
NOT_UTF8 = os.fsdecode(b"bytes-\xff\xfe-\xc3(")


# --- fish ------------------------------------------------------------------

@pytest.mark.parametrize("value", HOSTILE + [NOT_UTF8])
def test_fish_quote_reads_back_in_real_fish(value, tmp_path):
    require_shell("fish")
    literal = fish.fish_quote(value)
    result = subprocess.run(["fish", "--no-config", "-c", "printf %s " + literal],
                            capture_output=True, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    assert result.stdout == os.fsencode(value)
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("value", HOSTILE + [NOT_UTF8])
def test_fish_quote_is_one_printable_line(value):
    literal = fish.fish_quote(value)
    assert not re.search("[\x00-\x1f\x7f]", literal)
    literal.encode("utf-8")  # no lone surrogates left


def test_fish_quote_is_one_word():
    assert fish.fish_quote("a b") == "'a b'"
    assert fish.fish_quote("") == "''"


def test_fish_path_is_a_list_never_a_joined_string(tmp_path):
    require_shell("fish")
    entries = ["/a b/bin", "/c:d", "", "/e'f"]
    statement = fish.Renderer().set_path(entries)
    assert ":" not in statement.replace("/c:d", "")
    # fish splits PATH elements on ':' itself, like every shell reading $PATH,
    # and spells an empty entry '.', as it does for the PATH it starts with.
    result = subprocess.run(["fish", "--no-config", "-c", statement + " printf '%s\\n' (count $PATH); "
                             "printf '[%s]' $PATH"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "5\n[/a b/bin][/c][d][.][/e'f]"


# --- PowerShell --------------------------------------------------------------

SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"


def decode_pwsh(expression):
    """Evaluate the subset of PowerShell pwsh_quote may produce, by the language rules.

    ``'...'`` (opened and closed by any single-quote character, doubled ones
    standing for the second), ``[char]0xNN``, ``+`` and one pair of parentheses.
    """
    text = expression
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    out, i = [], 0
    expect_term = True
    while i < len(text):
        if text[i] == " ":
            i += 1
            continue
        if not expect_term:
            assert text[i] == "+", (expression, i)
            i += 1
            expect_term = True
            continue
        if text[i] in SINGLE_QUOTES:
            i += 1
            chunk = []
            while True:
                assert i < len(text), "unterminated string in %r" % expression
                c = text[i]
                if c in SINGLE_QUOTES:
                    if i + 1 < len(text) and text[i + 1] in SINGLE_QUOTES:
                        chunk.append(text[i + 1])
                        i += 2
                        continue
                    i += 1
                    break
                chunk.append(c)
                i += 1
            out.append("".join(chunk))
        else:
            match = re.match(r"\[char\]0x([0-9A-Fa-f]{2})", text[i:])
            assert match, (expression, i)
            out.append(chr(int(match.group(1), 16)))
            i += match.end()
        expect_term = False
    assert not expect_term or not out, expression
    return "".join(out)


@pytest.mark.parametrize("value", HOSTILE)
def test_pwsh_quote_reads_back(value):
    assert decode_pwsh(pwsh.pwsh_quote(value)) == value


@pytest.mark.parametrize("value", HOSTILE + [NOT_UTF8])
def test_pwsh_quote_parses_and_is_one_line(value):
    literal = pwsh.pwsh_quote(value)
    assert "\n" not in literal and "\r" not in literal
    assert parse_errors("$x = %s\n__autoenv_prompt_set %s\n" % (literal, literal)) == []


def test_pwsh_quote_doubles_every_kind_of_single_quote():
    for quote in SINGLE_QUOTES:
        assert pwsh.pwsh_quote("a%sb" % quote) == "'a%s%sb'" % (quote, quote)


def test_pwsh_decoder_rejects_an_undoubled_quote():
    # The decoder above must be able to fail, or the read-back tests prove nothing.
    with pytest.raises(AssertionError):
        decode_pwsh("'it\u2019s'")


def test_pwsh_control_characters_are_char_codes():
    assert pwsh.pwsh_quote("a\nb") == "('a' + [char]0x0A + 'b')"
    # A leading code must not be added to a number: the sum starts with a string.
    assert pwsh.pwsh_quote("\n") == "('' + [char]0x0A)"


def test_pwsh_not_utf8_becomes_replacement_character():
    assert decode_pwsh(pwsh.pwsh_quote(NOT_UTF8)) == "bytes-\ufffd\ufffd-\ufffd("
