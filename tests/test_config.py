"""Settings for creating envs: user config, [tool.autoenv], AUTOENV_CREATE, bad files."""

import json
import os
import subprocess
import sys

import pytest

from autoenv import config


@pytest.fixture
def places(tmp_path):
    home = tmp_path / "home"
    (home / ".config" / "autoenv").mkdir(parents=True)
    root = tmp_path / "proj"
    root.mkdir()
    environ = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    return environ, home / ".config" / "autoenv" / "config.toml", root


def load(environ, root):
    return config.load(str(root), environ)


def test_defaults_without_files(places):
    environ, _, root = places
    settings = load(environ, root)
    assert (settings.create, settings.install, settings.problems) == (True, False, [])


def test_user_config(places):
    environ, user, root = places
    user.write_text("create = false\ninstall = true\n")
    settings = load(environ, root)
    assert (settings.create, settings.install, settings.problems) == (False, True, [])


def test_xdg_config_home_is_honoured(places, tmp_path):
    environ, user, root = places
    other = tmp_path / "elsewhere" / "autoenv"
    other.mkdir(parents=True)
    (other / "config.toml").write_text("create = false\n")
    user.write_text("create = true\n")
    environ["XDG_CONFIG_HOME"] = str(tmp_path / "elsewhere")
    assert load(environ, root).create is False


def test_project_may_turn_creation_off(places):
    environ, _, root = places
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n[tool.autoenv]\ncreate = false\n")
    settings = load(environ, root)
    assert settings.create is False and settings.problems == []


def test_project_may_not_turn_on_what_the_user_turned_off(places):
    environ, user, root = places
    user.write_text("create = false\n")
    (root / "pyproject.toml").write_text("[tool.autoenv]\ncreate = true\ninstall = true\n")
    settings = load(environ, root)
    assert settings.create is False and settings.install is False
    assert len(settings.problems) == 2
    assert all(str(root / "pyproject.toml") in line and "ignored" in line for line in settings.problems)


def test_bad_toml_one_line_naming_the_file_defaults_used(places):
    environ, user, root = places
    user.write_text("create = \n[[[\n")
    settings = load(environ, root)
    assert (settings.create, settings.install) == (True, False)
    assert len(settings.problems) == 1
    line = settings.problems[0]
    assert str(user) in line and "invalid TOML" in line and "\n" not in line


def test_wrong_type_and_unknown_key(places):
    environ, user, root = places
    user.write_text('create = "no"\ninstal = true\n')
    settings = load(environ, root)
    assert settings.create is True
    assert len(settings.problems) == 2
    assert "create must be true or false" in settings.problems[0]
    assert "unknown setting 'instal'" in settings.problems[1]


def test_unreadable_bytes(places):
    environ, user, root = places
    user.write_bytes(b"create = false\n\xff\xfe")
    settings = load(environ, root)
    assert settings.create is True and "not UTF-8" in settings.problems[0]


@pytest.mark.parametrize("value, create", [("0", False), ("false", False), ("no", False), ("1", True), ("", True)])
def test_environment_switch(places, value, create):
    environ, _, root = places
    environ["AUTOENV_CREATE"] = value
    assert load(environ, root).create is create
    assert config.create_switched_off(environ) is (not create)


def test_environment_switch_garbage(places):
    environ, _, root = places
    environ["AUTOENV_CREATE"] = "maybe"
    settings = load(environ, root)
    assert settings.create is True and "AUTOENV_CREATE" in settings.problems[0]


def test_no_toml_parser_imported_without_files(places):
    """The hook runs with -I -S; without a config file nothing but os is needed."""
    environ, _, root = places
    code = (
        "import sys, json; sys.path.insert(0, %r)\n"
        "from autoenv import config\n"
        "config.load(%r, %r)\n"
        "print(json.dumps(sorted(m for m in ('tomllib', 'tomli') if m in sys.modules)))\n"
    ) % (os.path.dirname(os.path.dirname(config.__file__)), str(root), environ)
    out = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
