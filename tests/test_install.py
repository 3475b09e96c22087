"""install.sh for real: a throw-away HOME, the real pip, the real rc files."""

import os
import subprocess
import sys

import pytest

from conftest import require_shell
from realshell import REPO, InteractiveShell, make_venv, shell_available

INSTALL = os.path.join(REPO, "install.sh")
TAG = "# autoenv: added by install.sh"


def run_install(home, *args, path=None):
    environ = {
        "HOME": home,
        "PATH": path or "%s:/usr/local/bin:/usr/bin:/bin" % os.path.dirname(sys.executable),
        "AUTOENV_PYTHON": sys.executable,
        "LANG": "C.UTF-8",
    }
    # pip needs to find hatchling the way this machine is set up to.
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CONFIG_FILE"):
        if name in os.environ:
            environ[name] = os.environ[name]
    return subprocess.run(["sh", INSTALL, *args], env=environ, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=600)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """One real install into a fresh HOME with bashrc, zshrc and a fish config dir."""
    home = str(tmp_path_factory.mktemp("install-home"))
    with open(os.path.join(home, ".bashrc"), "w") as rc:
        rc.write("# the user's own line\nalias ll='ls -l'")  # no trailing newline on purpose
    with open(os.path.join(home, ".zshrc"), "w") as rc:
        rc.write("export FOO=1\n")
    result = run_install(home)
    assert result.returncode == 0, result.stdout + result.stderr
    return home


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def test_help_lists_options(tmp_path):
    result = run_install(str(tmp_path), "--help")
    assert result.returncode == 0
    for option in ("--no-modify-rc", "--uninstall", "--help"):
        assert option in result.stdout


def test_unknown_option_fails(tmp_path):
    result = run_install(str(tmp_path), "--bogus")
    assert result.returncode != 0
    assert "unknown option: --bogus" in result.stderr


def test_install_links_command_into_local_bin(installed):
    link = os.path.join(installed, ".local", "bin", "autoenv")
    assert os.path.islink(link)
    target = os.readlink(link)
    assert target == os.path.join(installed, ".local", "share", "autoenv", "venv", "bin", "autoenv")
    version = subprocess.run([link, "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and "autoenv" in version.stdout


def test_install_ships_snippets_in_the_wheel(installed):
    link = os.path.join(installed, ".local", "bin", "autoenv")
    for shell in ("bash", "zsh", "fish", "pwsh"):
        result = subprocess.run([link, "init", shell], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert "__autoenv" in result.stdout, (shell, result.stdout)
        # The installed copy renders from the wheel, not from this checkout.
        assert REPO not in result.stdout
        assert "@HELPER@" not in result.stdout


@pytest.mark.parametrize("kind, rc, users_own", [
    ("bash", ".bashrc", "# the user's own line\nalias ll='ls -l'\n"),
    ("zsh", ".zshrc", "export FOO=1\n"),
    ("fish", ".config/fish/conf.d/autoenv.fish", ""),
])
def test_rc_lines_added_once_and_user_lines_kept(installed, kind, rc, users_own):
    require_shell(kind)  # install.sh hooks only the shells it finds
    text = read(os.path.join(installed, rc))
    assert text.startswith(users_own) and text.count(TAG) == 1, text


def test_second_run_changes_nothing(installed):
    rc_files = [os.path.join(installed, ".bashrc"), os.path.join(installed, ".zshrc"),
                os.path.join(installed, ".config", "fish", "conf.d", "autoenv.fish")]
    before = {path: read(path) for path in rc_files if os.path.exists(path)}
    result = run_install(installed)
    assert result.returncode == 0, result.stderr
    after = {path: read(path) for path in rc_files if os.path.exists(path)}
    assert after == before
    assert "already hooked" in result.stdout


@pytest.mark.parametrize("kind", ["bash", "zsh", "fish"])
def test_rc_line_activates_in_a_real_shell(installed, kind, tmp_path):
    require_shell(kind)
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text("[project]\nname='p'\n")
    make_venv(str(project / ".venv"))
    shell = InteractiveShell(kind, installed, init=False)
    try:
        rc = {"bash": "~/.bashrc", "zsh": "~/.zshrc", "fish": "~/.config/fish/conf.d/autoenv.fish"}[kind]
        assert shell.run("source %s" % rc).strip() == ""
        shell.cd(str(project))
        state = shell.state()
        assert state["VIRTUAL_ENV"] == str(project / ".venv")
        assert state["prefix"] == str(project / ".venv")
    finally:
        shell.close()


def test_no_modify_rc_prints_lines_and_touches_nothing(tmp_path):
    home = str(tmp_path)
    result = run_install(home, "--no-modify-rc")
    assert result.returncode == 0, result.stderr
    assert not os.path.exists(os.path.join(home, ".bashrc"))
    assert 'init bash)"' in result.stdout and TAG in result.stdout


def test_uninstall_removes_exactly_what_install_added(tmp_path):
    home = str(tmp_path)
    original = "# mine\nexport A=1\n"
    with open(os.path.join(home, ".bashrc"), "w") as rc:
        rc.write(original)
    assert run_install(home).returncode == 0
    assert TAG in read(os.path.join(home, ".bashrc"))
    fish_conf = os.path.join(home, ".config", "fish", "conf.d", "autoenv.fish")
    assert os.path.exists(fish_conf) == shell_available("fish")  # so its removal below means something
    result = run_install(home, "--uninstall")
    assert result.returncode == 0, result.stderr
    assert read(os.path.join(home, ".bashrc")) == original
    assert not os.path.lexists(os.path.join(home, ".local", "bin", "autoenv"))
    assert not os.path.exists(os.path.join(home, ".local", "share", "autoenv", "venv"))
    # fish's conf.d file held only our line, so it is gone; the directory the user may use stays.
    assert not os.path.exists(os.path.join(home, ".config", "fish", "conf.d", "autoenv.fish"))
    # A second uninstall finds nothing to do and still succeeds.
    assert run_install(home, "--uninstall").returncode == 0


def test_hook_survives_uninstall(tmp_path):
    """A shell hooked before uninstalling keeps working and says so once."""
    require_shell("bash")
    home = str(tmp_path / "h")
    os.makedirs(home)
    assert run_install(home).returncode == 0
    project = tmp_path / "proj"
    project.mkdir()
    (project / "setup.py").write_text("")
    make_venv(str(project / ".venv"))
    shell = InteractiveShell("bash", home, init=False)
    try:
        shell.run("source ~/.bashrc")
        assert run_install(home, "--uninstall").returncode == 0
        first = shell.cd(str(project))
        assert first.count("autoenv:") == 1, first
        second = shell.cd("/")
        third = shell.cd(str(project))
        assert "autoenv:" not in second + third
        assert shell.run("echo still-alive").strip() == "still-alive"
    finally:
        shell.close()
