"""ansi_c_quote must give back every string byte for byte in a real bash and zsh."""

import subprocess

import pytest

from autoenv.render.posix import ansi_c_quote
from conftest import require_shell

HOSTILE = [
    "",
    "plain",
    "'\";&&e-$ èрт🚒",
    "line one\nline two",
    "\n",
    "tab\there",
    "carriage\rreturn",
    "$(touch pwned)",
    "`touch pwned`",
    "${HOME}",
    "$HOME",
    "back\\slash",
    "trailing backslash\\",
    "\\",
    "-n",
    "-e leading dash",
    "--",
    "'",
    "''",
    "\"",
    "a;b&&c||d|e&f",
    "*?[a-z]{1,2}~",
    "!!",
    "!$",
    "%s%d%%",
    "\x1b[31mred\x1b[0m",
    "\x01\x02\x7f",
    "bad utf-8 \udce8\udcff end",  # bytes 0xe8 0xff via surrogateescape
    "\udcc3",  # a lone UTF-8 lead byte
    " leading and trailing spaces ",
    "a\\x41 not an escape",
    "\\'",
    "#not a comment",
    "日本語 パス",
]


def as_bytes(value):
    return value.encode("utf-8", "surrogateescape")


def printed_by(command, values):
    """Each value quoted, printed back by the shell, NUL-separated."""
    script = "printf '%s\\0' " + " ".join(ansi_c_quote(v) for v in values)
    result = subprocess.run(command + [script], capture_output=True, check=True,
                            env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"})
    assert result.stderr == b""
    return result.stdout.split(b"\0")[:-1]


@pytest.mark.parametrize("command", [["bash", "--norc", "-c"], ["zsh", "-fc"]], ids=["bash", "zsh"])
@pytest.mark.parametrize("locale", ["C.UTF-8", "C"])
def test_round_trip_through_real_shell(command, locale):
    require_shell(command[0])
    script = "printf '%s\\0' " + " ".join(ansi_c_quote(v) for v in HOSTILE)
    result = subprocess.run(command + [script], capture_output=True,
                            env={"PATH": "/usr/bin:/bin", "LC_ALL": locale})
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    assert result.stdout.split(b"\0")[:-1] == [as_bytes(v) for v in HOSTILE]


@pytest.mark.parametrize("command", [["bash", "--norc", "-c"], ["zsh", "-fc"]], ids=["bash", "zsh"])
def test_every_byte_round_trips(command):
    require_shell(command[0])
    every_byte = bytes(range(1, 256))
    assert printed_by(command, [every_byte]) == [every_byte]


@pytest.mark.parametrize("command", [["bash", "--norc", "-c"], ["zsh", "-fc"]], ids=["bash", "zsh"])
def test_quoted_value_executes_nothing_when_evaluated(command, tmp_path):
    """The way the snippets use it: the helper's output text goes through ``eval``."""
    require_shell(command[0])
    values = ["$(touch pwned1)", "`touch pwned2`", "x; touch pwned3", "x && touch pwned4",
              "$(touch pwned5)\n`touch pwned6`", "x' ; touch pwned7 ; '"]
    code = "\n".join("v%d=%s; export e%d=%s;" % (i, ansi_c_quote(v), i, ansi_c_quote(v))
                     for i, v in enumerate(values))
    show = "".join(' "$v%d" "$e%d"' % (i, i) for i in range(len(values)))
    result = subprocess.run(command + ['eval "$1"; printf \'%s\\0\'' + show, "sh", code],
                            cwd=tmp_path, capture_output=True, check=True)
    assert list(tmp_path.iterdir()) == []
    expected = [as_bytes(v) for v in values for _ in (0, 1)]
    assert result.stdout.split(b"\0")[:-1] == expected


def test_output_is_one_line_of_printable_ascii():
    for value in HOSTILE:
        quoted = ansi_c_quote(value)
        assert quoted.startswith("$'") and quoted.endswith("'")
        assert all(32 <= ord(c) < 127 for c in quoted), quoted


def test_bytes_and_str_agree():
    for value in HOSTILE:
        assert ansi_c_quote(as_bytes(value)) == ansi_c_quote(value)
