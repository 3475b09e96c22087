"""Script the shell snippets start on a directory change.

Run as a file with ``python -I -S`` (no site, no user paths), so it puts the
directory holding the ``autoenv`` package on sys.path itself.
"""

import os
import sys

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from autoenv.hook import run

    try:
        sys.exit(run(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
