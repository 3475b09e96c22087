"""Write what a shell's environment looks like to a JSON file (used by realshell.py).

argv: OUT_FILE [PYTHON_FOUND_ON_PATH]
"""
import json
import os
import subprocess
import sys

out_file = sys.argv[1]
python = sys.argv[2] if len(sys.argv) > 2 else ""
state = {
    name: os.environ.get(name)
    for name in ("VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT", "PATH", "PYTHONHOME", "_AUTOENV_ENV", "PS1")
}
try:
    state["cwd"] = os.getcwd()
except OSError:  # the directory was deleted under the shell
    state["cwd"] = None
state["python"] = python or None
state["prefix"] = None
if python:
    state["prefix"] = subprocess.run(
        [python, "-c", "import sys; sys.stdout.write(sys.prefix)"],
        capture_output=True, text=True, errors="surrogateescape",
    ).stdout
with open(out_file, "w", encoding="utf-8", errors="surrogateescape") as handle:
    json.dump(state, handle)
