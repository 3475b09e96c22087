"""Script the shell snippets start on a directory change (and, with
``--serve``, the server that answers a shell's later changes: ``serve``).

Run as a file with ``python -I -S`` (no site, no user paths), so it puts the
directory holding the ``autoenv`` package on sys.path itself.
"""

import os
import sys

# Exit status for a bug in autoenv itself (EX_SOFTWARE).
INTERNAL_ERROR = 70


def one_line(exc):
    text = "%s: %s" % (type(exc).__name__, exc) if str(exc) else type(exc).__name__
    text = text.encode("ascii", "backslashreplace").decode("ascii")
    text = "".join(c if " " <= c < "\x7f" else "\\x%02x" % ord(c) for c in text)
    return text if len(text) <= 300 else text[:297] + "..."


def main():
    try:
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        if sys.argv[1:2] == ["--serve"]:
            from autoenv import serve

            return serve.main(sys.argv[2:])
        from autoenv.hook import run

        return run(sys.argv[1:])
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # Never a traceback at a prompt: one line, and the shell stays as it was
        # (nothing was printed on stdout).  AUTOENV_DEBUG=1 shows the traceback.
        if os.environ.get("AUTOENV_DEBUG"):
            raise
        sys.stderr.write("autoenv: internal error: %s\n" % one_line(exc))
        return INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
