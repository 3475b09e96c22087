"""Make a venv with pip, run by the Python the env is for (3.6 and newer).

    python -I _make_venv.py BUILD_DIR FINAL_DIR PROMPT SEED_CACHE

Builds in BUILD_DIR with every path written for FINAL_DIR (the caller renames
it there when this succeeds).  pip comes from the wheels the interpreter
bundles for ``ensurepip`` (setuptools too on Pythons whose ``python -m venv``
installs it): unpacked and byte-compiled once per interpreter version into
SEED_CACHE, then hard-linked (copied across file systems) into each new env.
That gives the same env ``python -m venv`` makes without running pip, which is
where its seconds go.

Runs on old Pythons: no f-strings, no walrus, standard library only.
"""

import glob
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import venv
import zipfile

# Directory names that shells expand inside the double quotes older activate
# scripts put them in (CPython fixed the quoting in these releases: CVE-2024-9287).
SHELL_SPECIAL = re.compile(r'[$`"\\!\n\r\x00-\x1f\x7f]')
QUOTING_FIXED = {(3, 9): 21, (3, 10): 16, (3, 11): 11, (3, 12): 8, (3, 13): 1}
SIMPLE_PATH = re.compile(r"^[A-Za-z0-9_./@%+=:,~-]+$")
BIN = "Scripts" if os.name == "nt" else "bin"


class Builder(venv.EnvBuilder):
    """EnvBuilder that writes FINAL_DIR into the activate scripts while building elsewhere."""

    def __init__(self, final_dir, **kwargs):
        venv.EnvBuilder.__init__(self, **kwargs)
        self.final_dir = final_dir

    def replace_variables(self, text, context):
        saved = context.env_dir, context.env_name, context.env_exe
        context.env_dir = self.final_dir
        context.env_name = os.path.basename(self.final_dir)
        context.env_exe = os.path.join(self.final_dir, BIN, os.path.basename(saved[2]))
        try:
            return venv.EnvBuilder.replace_variables(self, text, context)
        finally:
            context.env_dir, context.env_name, context.env_exe = saved


def bundled_wheels():
    """The newest bundled wheel of each project (pip, and setuptools where bundled)."""
    places = []
    try:
        import ensurepip
        places.append(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled"))
    except ImportError:
        pass
    places.append("/usr/share/python-wheels")  # Debian and Ubuntu keep them here
    newest = {}
    for place in places:
        for path in glob.glob(os.path.join(place, "*.whl")):
            name, version = os.path.basename(path).split("-")[:2]
            if name not in ("pip", "setuptools"):
                continue
            key = tuple(int(part) if part.isdigit() else 0 for part in version.split("."))
            if name not in newest or key > newest[name][0]:
                newest[name] = (key, path)
        if "pip" in newest:
            break
    return sorted(path for _, path in newest.values())


def seed_dir(cache, wheels):
    """site-packages content for these wheels, unpacked and compiled for this Python."""
    names = "+".join(os.path.basename(wheel)[:-len(".whl")] for wheel in wheels)
    tag = "%s-%s" % (sys.implementation.cache_tag, importlib.util.MAGIC_NUMBER.hex())
    target = os.path.join(cache, tag, names)
    if os.path.isdir(target):
        return target
    building = "%s.building-%d" % (target, os.getpid())
    try:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as archive:
                archive.extractall(building)
        try:
            os.rename(building, target)
        except OSError:
            if not os.path.isdir(target):
                raise
            return target
    finally:
        shutil.rmtree(building, ignore_errors=True)
    compile_in_background(target)
    return target


def compile_in_background(directory):
    """Byte-compile the seed cache after this env is done, not before.

    Compiling pip takes seconds, ten times the rest of a first creation; envs
    made later link the compiled files, and the first env compiles what it
    imports on first use, as any Python does.  The compiler writes each file
    atomically, so an env linked meanwhile never sees half a file.
    """
    try:
        subprocess.Popen(
            [sys.executable, "-I", "-m", "compileall", "-q", "-j", "0", directory],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True,
        )
    except OSError:
        pass


def link_tree(source, destination):
    """Hard links where possible (same file system), copies elsewhere.

    RECORD files are always copied: this script appends the scripts it writes.
    """
    if not os.path.isdir(destination):
        os.makedirs(destination)
    for entry in os.scandir(source):
        target = os.path.join(destination, entry.name)
        if entry.is_dir(follow_symlinks=False):
            link_tree(entry.path, target)
            continue
        if entry.name != "RECORD":
            try:
                os.link(entry.path, target)
                continue
            except OSError:
                pass
        shutil.copy2(entry.path, target)


def script_header(python):
    """First lines of a console script that runs ``python``, whatever its path holds."""
    shebang = "#!" + python
    if SIMPLE_PATH.match(python) and len(shebang) <= 127:
        return shebang + "\n"
    # The kernel cannot take such a path: sh finds the python next to the script.
    # Python reads the second and third line as one string, sh as an exec.
    return ("#!/bin/sh\n"
            "'''exec' \"$(dirname -- \"$(realpath -- \"$0\")\")\"/'%s' \"$0\" \"$@\"\n"
            "' '''\n" % os.path.basename(python))


def write_pip_scripts(site, final_dir, build_dir):
    record = glob.glob(os.path.join(site, "pip-*.dist-info", "RECORD"))
    entry = "pip._internal.cli.main:main"
    points = glob.glob(os.path.join(site, "pip-*.dist-info", "entry_points.txt"))
    if points:
        with open(points[0], encoding="utf-8") as handle:
            for line in handle:
                name, sep, value = line.partition("=")
                if sep and name.strip() == "pip":
                    entry = value.strip()
                    break
    module, _, function = entry.partition(":")
    header = script_header(os.path.join(final_dir, BIN, "python"))
    body = ("# -*- coding: utf-8 -*-\n"
            "import re\n"
            "import sys\n"
            "from %s import %s\n"
            "if __name__ == '__main__':\n"
            "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
            "    sys.exit(%s())\n" % (module, function, function))
    names = ["pip", "pip%d" % sys.version_info[0], "pip%d.%d" % sys.version_info[:2]]
    lines = []
    for name in names:
        path = os.path.join(build_dir, BIN, name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(header + body)
        os.chmod(path, 0o755)
        lines.append("%s,," % os.path.relpath(os.path.join(final_dir, BIN, name),
                                              os.path.join(final_dir, os.path.relpath(site, build_dir))))
    if record:
        with open(record[0], "a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")


def fix_configuration(build_dir, final_dir):
    # pyvenv.cfg's "command" line (3.11+) names the directory it was built in.
    path = os.path.join(build_dir, "pyvenv.cfg")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text.replace(build_dir, final_dir))


def quoting_fixed():
    fixed = QUOTING_FIXED.get(sys.version_info[:2])
    if sys.version_info[:2] > (3, 13):
        return True
    return fixed is not None and sys.version_info[2] >= fixed


def defuse_activate_scripts(build_dir, final_dir, prompt):
    """Replace activate scripts that would run parts of the directory name when sourced."""
    if quoting_fixed() or not (SHELL_SPECIAL.search(final_dir) or SHELL_SPECIAL.search(prompt or "")):
        return
    message = ("echo 'autoenv: this Python writes the env path unquoted into activate scripts "
               "(CVE-2024-9287) and the path holds shell characters, so this script was disabled; "
               "autoenv activates the env when you cd into the project'\n")
    for name in ("activate", "activate.csh", "activate.fish"):
        path = os.path.join(build_dir, BIN, name)
        if os.path.exists(path):
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(message)


def main(argv):
    build_dir, final_dir, prompt, cache = argv
    wheels = bundled_wheels()
    if not wheels:
        sys.stderr.write("this Python bundles no pip wheel for ensurepip "
                         "(Debian/Ubuntu: install python3-venv)\n")
        return 3
    Builder(final_dir, symlinks=os.name != "nt", with_pip=False, prompt=prompt or None).create(build_dir)
    site = glob.glob(os.path.join(build_dir, "lib", "*", "site-packages")) or \
        glob.glob(os.path.join(build_dir, "Lib", "site-packages"))
    if not site:
        sys.stderr.write("the new env has no site-packages directory\n")
        return 3
    link_tree(seed_dir(cache, wheels), site[0])
    write_pip_scripts(site[0], final_dir, build_dir)
    fix_configuration(build_dir, final_dir)
    defuse_activate_scripts(build_dir, final_dir, prompt)
    sys.stdout.write("%d.%d.%d\n" % sys.version_info[:3])
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
