"""The ``autoenv`` command.  Not on the hot path: the shells run ``_run_hook.py``.

Each command imports what it needs when it runs, so ``autoenv init`` at shell
start-up pays only for click.
"""

import os
import sys

import click

from autoenv import __version__
from autoenv.render import SHELLS

SHELL_CHOICE = click.Choice(SHELLS)


def detect_shell():
    """The shell this command was started from, by walking up the process tree."""
    import psutil

    aliases = {"bash": "bash", "zsh": "zsh", "fish": "fish", "pwsh": "pwsh", "pwsh-preview": "pwsh"}
    try:
        process = psutil.Process().parent()
        while process is not None:
            name = os.path.basename(process.name()).lstrip("-")
            if name.endswith(".exe"):
                name = name[:-4]
            if name in aliases:
                return aliases[name], process.pid
            process = process.parent()
    except psutil.Error:
        pass
    return None, None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="autoenv")
def main():
    """cd into a Python project and its virtual environment is active."""


@main.command()
@click.argument("shell", type=SHELL_CHOICE, required=False)
def init(shell):
    """Print the hook for SHELL (detected from the parent process when omitted).

    \b
      bash:  eval "$(autoenv init bash)"      in ~/.bashrc
      zsh:   eval "$(autoenv init zsh)"       in ~/.zshrc
      fish:  autoenv init fish | source       in ~/.config/fish/conf.d/autoenv.fish
      pwsh:  autoenv init pwsh | Out-String | Invoke-Expression   in $PROFILE
    """
    from autoenv.init import render_init

    if shell is None:
        shell, pid = detect_shell()
        if shell is None:
            raise click.UsageError("cannot tell which shell started autoenv; name it: autoenv init bash")
        click.echo("autoenv: detected %s (process %d); name it to skip detection: autoenv init %s"
                   % (shell, pid, shell), err=True)
    click.echo(render_init(shell), nl=False)


def _directory(path):
    return os.path.abspath(path) if path else os.environ.get("PWD") or os.getcwd()


@main.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def status(directory):
    """Say what autoenv sees in DIRECTORY (default: here) and why."""
    from autoenv import status as status_module

    click.echo(status_module.describe(_directory(directory), os.environ))


@main.command()
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False))
def disable(directory):
    """Turn autoenv off in DIRECTORY and everything below it."""
    from autoenv import detect

    marker = os.path.join(_directory(directory), detect.DISABLE_MARKER)
    if os.path.exists(marker):
        click.echo("autoenv: already disabled by %s" % marker)
        return
    with open(marker, "w", encoding="utf-8") as handle:
        handle.write("# autoenv stays off in this directory and below; `autoenv enable` removes this file.\n")
    click.echo("autoenv: disabled in %s (wrote %s)" % (os.path.dirname(marker), marker))


@main.command()
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False))
def enable(directory):
    """Remove the marker that turns autoenv off in DIRECTORY."""
    from autoenv import detect

    target = _directory(directory)
    marker = os.path.join(target, detect.DISABLE_MARKER)
    removed = os.path.exists(marker)
    if removed:
        os.remove(marker)
    remaining = detect.scan(target).disabled_by
    if remaining:
        click.echo("autoenv: still disabled here by %s; run: autoenv enable %s"
                   % (remaining, os.path.dirname(remaining)), err=True)
        sys.exit(1)
    click.echo("autoenv: enabled in %s%s" % (target, " (removed %s)" % marker if removed else ""))


def _env_for(directory):
    """The env `autoenv allow/deny DIR` is about: DIR itself if it is an env, else DIR's project env."""
    from autoenv import detect

    target = _directory(directory)
    if detect.is_env(target):
        return target
    finding = detect.scan(target)
    detect.find_env(finding)
    if not finding.env:
        from autoenv.trust import printable

        raise click.ClickException("no env found for %s (nothing to allow or deny)" % printable(target))
    return finding.env


def _decide(directory, decision, done):
    from autoenv import trust

    env = _env_for(directory)
    try:
        real = trust.record(env, decision)
    except OSError as exc:
        raise click.ClickException("cannot record the decision: %s" % exc)
    trust.expire_stamps()
    click.echo("autoenv: %s %s; open shells pick it up at their next prompt" % (done, trust.printable(real)))


@main.command()
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False))
def allow(directory):
    """Trust the env of DIRECTORY (default: here), or DIRECTORY itself if it is an env.

    Remembered until the env is replaced (a new pyvenv.cfg asks again).
    """
    _decide(directory, "allow", "allowed")


@main.command()
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False))
def deny(directory):
    """Never activate the env of DIRECTORY (default: here); `autoenv allow` undoes it."""
    _decide(directory, "deny", "denied")


@main.command()
def doctor():
    """Check the installation end to end: rc lines, hook, helper, interpreters, trust store."""
    from autoenv import doctor as doctor_module

    shell, pid = detect_shell()
    report = doctor_module.diagnose(os.environ, shell, pid)
    click.echo(report.text())
    sys.exit(1 if report.failed else 0)


def _project_root(directory):
    """DIRECTORY as given, else the project root above here, else here."""
    from autoenv import detect

    if directory:
        return os.path.abspath(directory)
    here = _directory(None)
    return detect.scan(here).root or here


@main.command()
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--python", "request", metavar="VERSION",
              help="interpreter to use, as in .python-version (3.12, 3.12.1, pypy3.10, system, a path)")
def create(directory, request):
    """Create DIRECTORY/.venv (default: the project here), even where autoenv would not on its own.

    The interpreter comes from --python, .python-version, requires-python or
    the Python autoenv runs on, in that order.
    """
    from autoenv import create as create_module
    from autoenv import detect

    root = _project_root(directory)
    for name in detect.ENV_DIR_NAMES:
        if os.path.lexists(os.path.join(root, name)):
            click.echo("autoenv: %s already exists; `autoenv recreate %s` rebuilds it"
                       % (os.path.join(root, name), root), err=True)
            sys.exit(1)
    try:
        create_module.create(root, os.environ, sys.stderr, request=request)
    except create_module.CreationError as exc:
        click.echo("autoenv: not creating %s: %s" % (os.path.join(root, create_module.ENV_NAME), exc), err=True)
        sys.exit(1)


@main.command()
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--python", "request", metavar="VERSION",
              help="interpreter to use instead of the version the env had")
def recreate(directory, request):
    """Rebuild the env of DIRECTORY (default: the project here) with the Python version it had.

    For an env whose Python was upgraded or removed.  The new env is built
    beside the old one and swapped in when complete; installed packages are
    not carried over.
    """
    from autoenv import create as create_module
    from autoenv import detect

    root = _project_root(directory)
    env = next((os.path.join(root, name) for name in detect.ENV_DIR_NAMES
                if detect.is_env(os.path.join(root, name))), None)
    if env is None:
        click.echo("autoenv: no env in %s to recreate; `autoenv create %s` makes one" % (root, root), err=True)
        sys.exit(1)
    try:
        create_module.recreate(root, env, os.environ, sys.stderr, request=request)
    except create_module.CreationError as exc:
        click.echo("autoenv: not recreating %s: %s" % (env, exc), err=True)
        sys.exit(1)
