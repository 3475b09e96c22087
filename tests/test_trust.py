"""Trust: which envs autoenv activates on its own, and allow/deny.

Unit tests call the functions with an explicit environment; ownership is set
with os.chown to a uid that is not ours (the tests run as root, where access
checks pass but owner comparisons still mean something).  Git answers are
compared with `git ls-files`.
"""

import io
import os
import stat
import subprocess

import pytest

from autoenv import detect, hook, trust

OTHER_UID = 65534  # nobody
OTHER_GID = 65534


def git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd)})


@pytest.fixture
def environ(tmp_path):
    base = tmp_path / "xdg"
    env = {
        "HOME": str(base),
        "PATH": "/usr/bin:/bin",
        "XDG_STATE_HOME": str(base / "state"),
        "XDG_CACHE_HOME": str(base / "cache"),
        "XDG_RUNTIME_DIR": str(base / "run"),
        # The stamps' first place (a private dir in the temp dir) stays in here too.
        "TMPDIR": str(base / "tmp"),
    }
    (base / "run").mkdir(parents=True)
    return env


def fake_env(path):
    os.makedirs(os.path.join(path, "bin"), exist_ok=True)
    with open(os.path.join(path, "pyvenv.cfg"), "w") as handle:
        handle.write("home = /usr/bin\n")
    os.chmod(path, 0o755)
    os.chmod(os.path.join(path, "bin"), 0o755)
    return path


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'proj'\n")
    fake_env(str(root / ".venv"))
    return root


def reason_for(directory, environ):
    finding = detect.scan(str(directory))
    detect.find_env(finding)
    assert finding.env, "test setup: no env found in %s" % directory
    return trust.check(finding, environ)


def run_helper(directory, environ):
    out, err = io.StringIO(), io.StringIO()
    assert hook.run(["bash", "4242", str(directory)], environ=environ, out=out, err=err) == 0
    return out.getvalue(), err.getvalue()


# ---------------------------------------------------------------- ownership and modes

def test_own_private_untracked_env_is_trusted(project, environ):
    assert reason_for(project, environ) is None


@pytest.mark.parametrize("part", ["", "bin"])
def test_env_owned_by_someone_else_is_refused(project, environ, part):
    os.chown(os.path.join(str(project), ".venv", part), OTHER_UID, -1)
    reason = reason_for(project, environ)
    assert reason and "not owned by you" not in reason and "owned by nobody" in reason
    assert reason.startswith("autoenv: not activating ") and "autoenv allow" in reason
    assert "\n" not in reason


@pytest.mark.parametrize("part", ["", "bin"])
@pytest.mark.parametrize("mode", [0o775, 0o757, 0o777])
def test_env_writable_by_group_or_others_is_refused(project, environ, part, mode):
    path = os.path.join(str(project), ".venv", part)
    os.chown(path, -1, OTHER_GID)  # a shared group, not the user's own
    os.chmod(path, mode)
    reason = reason_for(project, environ)
    assert reason and "is writable by" in reason


def test_group_writable_is_fine_for_a_user_private_group(project, environ):
    import grp
    import pwd

    me = pwd.getpwuid(os.geteuid())
    group = grp.getgrgid(me.pw_gid)
    if group.gr_name != me.pw_name or any(m != me.pw_name for m in group.gr_mem):
        pytest.skip("the current user has no private group here")
    env = os.path.join(str(project), ".venv")
    os.chown(env, -1, me.pw_gid)
    os.chmod(env, 0o775)
    assert reason_for(project, environ) is None
    os.chmod(env, 0o777)  # others-writable stays refused
    assert "is writable by group and others" in reason_for(project, environ)


def test_a_symlinked_bin_pointing_at_a_strangers_dir_is_refused(project, environ, tmp_path):
    strange = tmp_path / "strange"
    strange.mkdir()
    os.chown(str(strange), OTHER_UID, OTHER_GID)
    venv_bin = project / ".venv" / "bin"
    venv_bin.rmdir()
    venv_bin.symlink_to(strange)
    assert "owned by nobody" in reason_for(project, environ)


# ---------------------------------------------------------------- git

def test_env_tracked_by_the_enclosing_repo_is_refused(project, environ):
    git("init", "-q", cwd=project)
    git("add", ".venv/pyvenv.cfg", cwd=project)
    reason = reason_for(project, environ)
    assert reason and "tracked by the git repository %s" % project in reason
    git("rm", "-q", "--cached", ".venv/pyvenv.cfg", cwd=project)
    assert reason_for(project, environ) is None


def test_ignored_env_in_a_repo_is_trusted(project, environ):
    git("init", "-q", cwd=project)
    (project / ".gitignore").write_text(".venv/\n")
    git("add", ".", cwd=project)
    assert reason_for(project, environ) is None


def test_tracked_symlink_to_an_env_is_refused(tmp_path, environ):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "pyproject.toml").write_text("")
    target = fake_env(str(tmp_path / "elsewhere-env"))
    (root / ".venv").symlink_to(target)
    git("init", "-q", cwd=root)
    git("add", ".venv", cwd=root)
    assert "tracked by the git repository" in reason_for(root, environ)


def test_env_in_a_subproject_tracked_by_the_outer_repo(tmp_path, environ):
    outer = tmp_path / "outer"
    inner = outer / "pkg" / "sub"
    inner.mkdir(parents=True)
    (inner / "setup.py").write_text("")
    fake_env(str(inner / "venv"))
    git("init", "-q", cwd=outer)
    git("add", "pkg/sub/venv/bin", "pkg/sub/venv/pyvenv.cfg", cwd=outer)
    assert "tracked by the git repository %s" % outer in reason_for(inner, environ)


def test_worktree_with_a_gitdir_file(tmp_path, environ, project):
    git("init", "-q", cwd=project)
    git("add", ".venv/pyvenv.cfg", cwd=project)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x", cwd=project)
    worktree = tmp_path / "wt"
    git("worktree", "add", "-q", str(worktree), cwd=project)
    assert (worktree / ".git").is_file()
    os.chmod(str(worktree / ".venv"), 0o755)
    os.chmod(str(worktree / ".venv" / "bin"), 0o755) if (worktree / ".venv" / "bin").exists() else \
        (worktree / ".venv" / "bin").mkdir(mode=0o755)
    assert "tracked by the git repository %s" % worktree in reason_for(worktree, environ)


@pytest.mark.parametrize("version", ["2", "3", "4"])
def test_index_reader_agrees_with_git_ls_files(tmp_path, version):
    repo = tmp_path / "r"
    (repo / "d" / "deeper").mkdir(parents=True)
    names = ["a", "d/b", "d/deeper/c", "name with space", "new\nline", "ü-ñ", "x" * 200 + "/" + "y" * 200]
    for name in names:
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("content")
    git("init", "-q", cwd=repo)
    git("config", "index.version", version, cwd=repo)
    git("add", ".", cwd=repo)
    (repo / "intent").write_text("")
    git("add", "-N", "intent", cwd=repo)  # an extended-flag entry (version 3)
    expected = subprocess.run(["git", "ls-files", "-z"], cwd=repo, capture_output=True, check=True).stdout
    with open(str(repo / ".git" / "index"), "rb") as handle:
        paths, shared = trust.index_paths(handle.read())
    assert paths == [p for p in expected.split(b"\0") if p]
    assert shared is None


def test_index_reader_sha256_and_split_index(tmp_path):
    repo = tmp_path / "r"
    (repo / ".venv").mkdir(parents=True)
    (repo / ".venv" / "pyvenv.cfg").write_text("")
    git("init", "-q", "--object-format=sha256", cwd=repo)
    git("add", ".", cwd=repo)
    git_dir = str(repo / ".git")
    assert trust._index_tracks(git_dir, [".venv"])
    assert not trust._index_tracks(git_dir, [".ven"])
    split = tmp_path / "s"
    split.mkdir()
    (split / "one").write_text("1")
    git("init", "-q", cwd=split)
    git("add", "one", cwd=split)
    git("update-index", "--split-index", cwd=split)
    (split / "two").write_text("2")
    git("add", "two", cwd=split)
    assert trust._index_tracks(str(split / ".git"), ["one"])
    assert trust._index_tracks(str(split / ".git"), ["two"])


def test_unreadable_index_counts_as_tracked(project, environ):
    git("init", "-q", cwd=project)
    (project / ".git" / "index").write_bytes(b"DIRC\0\0\0\x09garbage")
    assert "tracked by the git repository" in reason_for(project, environ)


def test_git_answer_is_cached_until_the_index_changes(project, environ, monkeypatch):
    git("init", "-q", cwd=project)
    (project / "README").write_text("")
    git("add", "README", cwd=project)
    assert reason_for(project, environ) is None
    parses = []
    real_parse = trust._index_tracks
    monkeypatch.setattr(trust, "_index_tracks", lambda *a: parses.append(a) or real_parse(*a))
    for _ in range(3):
        assert reason_for(project, environ) is None
    assert parses == [], "an unchanged index was parsed again"
    git("add", ".venv/pyvenv.cfg", cwd=project)
    assert "tracked" in reason_for(project, environ)
    assert len(parses) == 1


def test_the_hot_path_never_starts_git(project, environ, tmp_path):
    """A `git` on PATH that leaves a mark: the helper must not run it."""
    fake_bin = tmp_path / "fakebin"
    fake_bin.mkdir()
    mark = tmp_path / "git-ran"
    (fake_bin / "git").write_text("#!/bin/sh\ntouch %s\nexec /usr/bin/git \"$@\"\n" % mark)
    os.chmod(str(fake_bin / "git"), 0o755)
    git("init", "-q", cwd=project)
    git("add", ".venv/pyvenv.cfg", cwd=project)
    environ["PATH"] = "%s:/usr/bin:/bin" % fake_bin
    import sys

    helper = os.path.join(os.path.dirname(trust.__file__), "_run_hook.py")
    result = subprocess.run([sys.executable, "-I", "-S", helper, "bash", "1", str(project)],
                            env=environ, capture_output=True, text=True)
    assert result.returncode == 0
    assert "tracked by the git repository" in result.stderr
    assert not mark.exists()


# ---------------------------------------------------------------- decisions

def test_allow_then_replace_then_deny(project, environ):
    git("init", "-q", cwd=project)
    git("add", ".venv", cwd=project)
    env = str(project / ".venv")
    assert "tracked" in reason_for(project, environ)
    trust.record(env, trust.ALLOW, environ)
    assert reason_for(project, environ) is None
    # Replaced (a new clone, a re-created env): asked again.
    os.remove(os.path.join(env, "pyvenv.cfg"))
    fake_env(env)
    reason = reason_for(project, environ)
    assert "tracked" in reason and "changed since you last decided" in reason
    trust.record(env, trust.DENY, environ)
    assert "you denied it" in reason_for(project, environ)


def test_deny_wins_over_ownership(project, environ):
    trust.record(str(project / ".venv"), trust.DENY, environ)
    assert "you denied it" in reason_for(project, environ)


def test_created_envs_are_trusted_even_when_tracked(project, environ):
    git("init", "-q", cwd=project)
    git("add", ".venv", cwd=project)
    trust.record_created(str(project / ".venv"), environ)
    assert reason_for(project, environ) is None


def test_decisions_are_keyed_by_the_real_path(tmp_path, project, environ):
    link = tmp_path / "link-to-proj"
    link.symlink_to(project)
    trust.record(str(link / ".venv"), trust.DENY, environ)
    assert "you denied it" in reason_for(project, environ)
    records = trust.read_store(environ)
    assert list(records) == [str(project / ".venv")]


def test_store_survives_hostile_paths_and_damage(tmp_path, environ):
    env = fake_env(str(tmp_path / "a\nb c'\"$(x)\\ ü"))
    trust.record(env, trust.ALLOW, environ)
    with open(trust.store_path(environ), "a") as handle:
        handle.write("garbage line\nallow 1:2:3 zz-not-hex\n\0\0\n")
    assert trust.stored_decision(env, environ) == (trust.ALLOW, True)
    assert stat.S_IMODE(os.stat(trust.store_path(environ)).st_mode) == 0o600


def test_expire_stamps_dates_every_stamp_to_1970(environ):
    """In each place a stamp may be, and under the name earlier versions gave it."""
    stamps = [os.path.join(directory, name) for directory in hook.stamp_dirs(environ)
              for name in ("11", "12.stamp")]
    for stamp in stamps:
        hook.write_stamp(stamp, 10 ** 18)
    others = [stamp + ".said" for stamp in stamps[:1]]
    for other in others:
        hook.write_stamp(other, 10 ** 18)
    assert trust.expire_stamps(environ) == len(stamps) == 6
    assert [os.stat(s).st_mtime_ns for s in stamps] == [0] * 6
    assert [os.stat(s).st_mtime_ns for s in others] == [10 ** 18]


def test_expire_stamps_follows_no_link_and_skips_a_temp_dir_not_ours(tmp_path, environ):
    """The temp dir is shared: a name there is not proof that the files are ours."""
    victim = tmp_path / "victim"
    victim.write_text("")
    os.utime(str(victim), ns=(10 ** 18, 10 ** 18))
    temp = hook.shared_temp_stamp_dir(environ)
    os.makedirs(temp, mode=0o700)
    os.symlink(str(victim), os.path.join(temp, "13"))
    assert trust.expire_stamps(environ) == 1  # the link's own times
    assert os.stat(str(victim)).st_mtime_ns == 10 ** 18
    os.unlink(os.path.join(temp, "13"))
    hook.write_stamp(os.path.join(temp, "14"), 10 ** 18)
    os.chown(temp, OTHER_UID, -1)
    assert trust.expire_stamps(environ) == 0
    assert os.stat(os.path.join(temp, "14")).st_mtime_ns == 10 ** 18


def test_helper_refuses_with_one_line_and_no_activation(project, environ):
    os.chown(str(project / ".venv"), OTHER_UID, -1)
    out, err = run_helper(project, environ)
    assert "VIRTUAL_ENV" not in out and "PATH" not in out
    assert err.count("\n") == 1 and "autoenv allow" in err


def test_messages_escape_control_bytes(tmp_path, environ):
    root = tmp_path / "evil\x1b]0;pwned\x07\nname"
    root.mkdir()
    (root / "pyproject.toml").write_text("")
    fake_env(str(root / ".venv"))
    os.chown(str(root / ".venv"), OTHER_UID, -1)
    reason = reason_for(root, environ)
    assert "\x1b" not in reason and "\x07" not in reason and "\n" not in reason
    assert "\\x1b]0;pwned\\x07\\nname" in reason


def test_printable():
    assert trust.printable("plain/ü 🚒") == "plain/ü 🚒"
    assert trust.printable("a\tb\\c\x00\x9b\u202e") == "a\\tb\\\\c\\x00\\x9b\\u202e"
    assert trust.printable(os.fsdecode(b"bad\xff")) == "bad\\xff"
