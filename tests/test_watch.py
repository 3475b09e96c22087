"""The server's inotify check of a long chain (autoenv/watch.py), and the token
files through which a shell may skip asking (serve.Checker), without a shell.
tests/test_watch_realshell.py drives the same through real bash and zsh."""

import errno
import os
import pathlib
import sys
import time

import pytest

from autoenv import serve, trust, watch

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")

HOSTILE = "'\";&&e-$ èрт🚒 $(x)\nz"


def stamp_at(path, ns):
    if not os.path.exists(path):
        open(path, "w").close()
    os.utime(path, ns=(ns, ns))
    return path


def later():
    """A stamp time after everything made so far (mtimes are coarse)."""
    return time.time_ns() + 1_000_000_000


@pytest.fixture
def watcher():
    made = watch.Watcher()
    yield made
    made.close()


@pytest.fixture
def tree(tmp_path):
    deep = tmp_path.joinpath(*("d%02d" % i for i in range(25)), HOSTILE)
    deep.mkdir(parents=True)
    return deep


def test_shell_chain_is_the_snippets_walk():
    assert watch.shell_chain("/a/b/c") == ["/a/b/c", "/a/b", "/a", "/"]
    assert watch.shell_chain("/") == ["/"]
    # Odd spellings the helper's walk (os.path.dirname) takes elsewhere: both are checked.
    assert set(watch.checked_paths("//a", [])) >= {"//a", "/", "//"}


def test_checked_paths_are_the_chain_and_the_extras(tree):
    extra = "/nowhere/virtualenvs"
    paths = watch.checked_paths(str(tree), [extra])
    assert paths[0] == str(tree) and paths[-1] == extra
    assert set(paths) == set(watch.shell_chain(str(tree))) | {extra}
    assert len(paths) == len(set(paths))


def test_dirs_newer_than_the_stamp_are_dirty_then_clean_for_a_new_stamp(watcher, tree, tmp_path):
    paths = watch.checked_paths(str(tree), [])
    stamp = stamp_at(str(tmp_path.parent / "old.stamp"), time.time_ns() - 10**10)
    assert watcher.clean_since(stamp, paths) is False  # made after that stamp
    stamp_at(stamp, later())
    assert watcher.clean_since(stamp, paths) is True
    assert watcher.clean_since(stamp, paths) is True


def test_a_path_newer_than_the_stamp_stays_dirty_while_the_stamp_does(watcher, tree, tmp_path):
    """A shell asks twice with one stamp on its way to a new answer (its
    prompt's check, then the update's): both times it hears "changed"."""
    paths = watch.checked_paths(str(tree), [])
    stamp = stamp_at(str(tmp_path.parent / "twice.stamp"), 0)
    assert watcher.clean_since(stamp, paths) is False
    assert watcher.clean_since(stamp, paths) is False


@pytest.mark.parametrize("level", [0, 12, 26])
@pytest.mark.parametrize("change", ["create", "remove", "rename", "mkdir"])
def test_any_entry_change_anywhere_on_the_chain_is_dirty(watcher, tree, tmp_path, level, change):
    chain = watch.shell_chain(str(tree))
    where = chain[level]
    os.makedirs(os.path.join(where, "victim-dir"), exist_ok=True)
    with open(os.path.join(where, "victim"), "w"):
        pass
    stamp = stamp_at(str(tmp_path.parent / ("%s-%d.stamp" % (change, level))), later())
    paths = watch.checked_paths(str(tree), [])
    assert watcher.clean_since(stamp, paths) is True
    if change == "create":
        open(os.path.join(where, ".autoenv-disable"), "w").close()
    elif change == "remove":
        os.unlink(os.path.join(where, "victim"))
    elif change == "rename":
        os.rename(os.path.join(where, "victim"), os.path.join(where, "pyproject.toml"))
    else:
        os.mkdir(os.path.join(where, ".venv"))
    assert watcher.clean_since(stamp, paths) is False
    # And stays so until a new answer (a new stamp).
    assert watcher.clean_since(stamp, paths) is False
    stamp_at(stamp, later())
    assert watcher.clean_since(stamp, paths) is True


def test_a_file_written_below_a_chain_directory_is_not_a_change(watcher, tree, tmp_path):
    """Only entries count, as with the directory mtimes the shells compare."""
    existing = tree / "module.py"
    existing.write_text("x = 1\n")
    stamp = stamp_at(str(tmp_path.parent / "w.stamp"), later())
    paths = watch.checked_paths(str(tree), [])
    assert watcher.clean_since(stamp, paths) is True
    existing.write_text("x = 2\n")
    os.chmod(str(existing), 0o600)
    assert watcher.clean_since(stamp, paths) is True


def test_a_missing_extra_path_is_watched_for_from_above(watcher, tree, tmp_path):
    elsewhere = tmp_path / "cache"
    elsewhere.mkdir()
    wanted = str(elsewhere / "pypoetry" / "virtualenvs")
    stamp = stamp_at(str(tmp_path.parent / "m.stamp"), later())
    paths = watch.checked_paths(str(tree), [wanted])
    assert watcher.clean_since(stamp, paths) is True
    # Beside the way down: not a change of anything checked.
    (elsewhere / "browser").mkdir()
    assert watcher.clean_since(stamp, paths) is True
    # On the way down, then the path itself.
    (elsewhere / "pypoetry").mkdir()
    assert watcher.clean_since(stamp, paths) is False
    stamp_at(stamp, later())
    assert watcher.clean_since(stamp, paths) is True
    os.mkdir(wanted)
    assert watcher.clean_since(stamp, paths) is False


def test_an_extra_file_written_is_a_change(watcher, tree, tmp_path):
    read = tmp_path / "environment.yml"
    read.write_text("name: a\n")
    stamp = stamp_at(str(tmp_path.parent / "f.stamp"), later())
    paths = watch.checked_paths(str(tree), [str(read)])
    assert watcher.clean_since(stamp, paths) is True
    with open(str(read), "a") as handle:
        handle.write("dependencies: []\n")
    assert watcher.clean_since(stamp, paths) is False


def test_a_removed_chain_directory_is_a_change_and_is_watched_again(watcher, tmp_path):
    top = tmp_path / "top"
    (top / "gone" / "deeper").mkdir(parents=True)
    here = str(top / "gone" / "deeper")
    stamp = stamp_at(str(tmp_path.parent / "r.stamp"), later())
    paths = watch.checked_paths(here, [])
    assert watcher.clean_since(stamp, paths) is True
    os.rmdir(here)
    os.rmdir(str(top / "gone"))
    assert watcher.clean_since(stamp, paths) is False
    (top / "gone" / "deeper").mkdir(parents=True)
    stamp_at(stamp, later())
    assert watcher.clean_since(stamp, paths) is True
    open(os.path.join(here, "setup.py"), "w").close()
    assert watcher.clean_since(stamp, paths) is False


def test_lost_events_mean_every_path_is_compared_again(watcher, tree, tmp_path):
    stamp = stamp_at(str(tmp_path.parent / "o.stamp"), later())
    paths = watch.checked_paths(str(tree), [])
    assert watcher.clean_since(stamp, paths) is True
    assert watcher._event(-1, watch.IN_Q_OVERFLOW, "") is True
    assert watcher.trusted == set()
    assert watcher.clean_since(stamp, paths) is True
    assert watcher.trusted >= set(paths)


def test_past_its_limit_it_starts_again_from_no_watches(watcher, tmp_path, monkeypatch):
    monkeypatch.setattr(watch, "MAX_WATCHES", 40)
    stamp = stamp_at(str(tmp_path.parent / "l.stamp"), later())
    for name in ("a", "b", "c"):
        here = tmp_path.joinpath(name, *("x%02d" % i for i in range(12)))
        here.mkdir(parents=True)
        stamp_at(stamp, later())
        assert watcher.clean_since(stamp, watch.checked_paths(str(here), [])) is True
        assert len(watcher.wd_of) <= 40
        open(str(here / "pyproject.toml"), "w").close()
        assert watcher.clean_since(stamp, watch.checked_paths(str(here), [])) is False


def test_remote_file_systems_are_found_in_mountinfo(tmp_path):
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
        "30 27 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
        "41 30 0:45 / /home rw,relatime shared:7 - nfs4 server:/home rw,vers=4.2\n"
        "42 30 0:46 / /mnt/box rw,nosuid - fuse.sshfs me@box: rw,user_id=0\n"
        "43 30 0:47 / /mnt/win rw - cifs //host/share rw\n"
        "broken line\n")
    assert watch.remote_devices(str(mountinfo)) == {os.makedev(0, 45), os.makedev(0, 46), os.makedev(0, 47)}
    assert watch.remote_devices(str(tmp_path / "none")) == set()


def test_a_chain_on_a_remote_file_system_is_left_to_the_shell(watcher, tree, tmp_path, monkeypatch):
    """A change made on another machine never reaches inotify: no word given."""
    here = os.stat(str(tree)).st_dev
    monkeypatch.setattr(watch, "remote_devices", lambda: {here})
    stamp = stamp_at(str(tmp_path.parent / "nfs.stamp"), later())
    assert watcher.clean_since(stamp, watch.checked_paths(str(tree), [])) is None
    # Not even for a path that does not exist yet, watched for from there.
    assert watcher.clean_since(stamp, [str(tree / "virtualenvs" / "x")]) is None


def test_what_it_cannot_tell_is_left_to_the_shell(watcher, tree, tmp_path, monkeypatch):
    assert watcher.clean_since(str(tmp_path / "no-stamp"), ["/"]) is None
    stamp = stamp_at(str(tmp_path.parent / "u.stamp"), later())
    # A path below a file can never exist: unchanged, as -nt has it.
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert watcher.clean_since(stamp, [str(blocker / "x" / "y")]) is True
    # A directory it may not watch (no read permission; root reads them all).
    monkeypatch.setattr(watcher, "_add_watch", lambda path, mask: (None, errno.EACCES))
    assert watcher.clean_since(stamp, watch.checked_paths(str(tree), [])) is None


# ------------------------------------------------------------ tokens and busy

@pytest.fixture
def checker(tmp_path):
    channel = tmp_path / ("serve-1-" + "ab12" * 3)
    channel.mkdir()
    os.mkdir(serve.tokens_dir(str(channel)))
    made = serve.Checker(str(channel))
    yield made, pathlib.Path(serve.tokens_dir(str(channel)))
    if made.watcher:
        made.watcher.close()


def ask(made, serial, pwd, stamp):
    made.begin()
    try:
        return made.status(serial, str(pwd), serve.Sync(stamp, []))
    finally:
        made.end()


def test_tokens_go_in_a_directory_named_after_the_channel():
    """A shell looks for them through /proc/PID/cwd: should PID go to another
    process, whose cwd is some other channel, it must find none there."""
    assert serve.tokens_dir("/run/user/1/autoenv/serve-42-0a1b2c3d4e5f") == \
        "/run/user/1/autoenv/serve-42-0a1b2c3d4e5f/tokens-0a1b2c3d4e5f"


def test_a_clean_reply_leaves_a_token_until_a_path_it_vouched_for_changes(checker, tree, tmp_path):
    made, tokens = checker
    stamp = stamp_at(str(tmp_path.parent / "c.stamp"), later())
    assert ask(made, "1", tree, stamp) == "c"
    assert (tokens / "1").exists()
    # An event on a path it vouched for takes it away at once (the server's loop).
    open(str(tree.parent / ".autoenv-disable"), "w").close()
    made.events()
    assert not (tokens / "1").exists()
    assert ask(made, "2", tree, stamp) == "d"
    assert not (tokens / "2").exists()


def test_a_stamp_dated_back_takes_every_token_away(checker, tree, tmp_path):
    """`autoenv allow` and `deny` date every shell's stamp back to 1970
    (trust.expire_stamps), which changes no path on any chain: the server
    watches the stamp itself."""
    made, tokens = checker
    runtime = tmp_path.parent / "runtime"
    (runtime / "autoenv").mkdir(parents=True)
    stamp = stamp_at(str(runtime / "autoenv" / "1.stamp"), later())
    assert ask(made, "1", tree, stamp) == "c"
    assert trust.expire_stamps({"XDG_RUNTIME_DIR": str(runtime), "XDG_CACHE_HOME": str(runtime / "cache"),
                                "TMPDIR": str(runtime), "HOME": str(runtime)}) >= 1
    made.events()
    assert not (tokens / "1").exists()
    assert ask(made, "2", tree, stamp) == "d"
    assert ask(made, "3", tree, stamp) == "d"
    assert not (tokens / "3").exists()


def test_a_stamp_that_moved_is_watched_where_it_is_now(watcher, tree, tmp_path):
    """A shell whose stamp could no longer be written where it was gets one
    elsewhere (hook.place_stamp): that one's changes count."""
    paths = watch.checked_paths(str(tree), [])
    first = stamp_at(str(tmp_path.parent / "first.stamp"), later())
    assert watcher.clean_since(first, paths) is True
    second = stamp_at(str(tmp_path.parent / "second.stamp"), later())
    assert watcher.clean_since(second, paths) is True
    generation = watcher.generation
    stamp_at(second, 0)
    watcher.drain()
    assert watcher.generation > generation
    assert watcher.clean_since(second, paths) is False


def test_tokens_for_other_directories_stay_while_theirs_are_unchanged(checker, tree, tmp_path):
    made, tokens = checker
    other = tmp_path / "other" / "deep"
    other.mkdir(parents=True)
    stamp = stamp_at(str(tmp_path.parent / "e.stamp"), later())
    assert ask(made, "1", other, stamp) == "c"
    assert ask(made, "2", tree, stamp) == "c"
    assert sorted(os.listdir(str(tokens))) == ["1", "2"]
    # A change on other's chain alone: every token goes (one vouched-for path changed).
    open(str(other / "pyproject.toml"), "w").close()
    made.events()
    assert os.listdir(str(tokens)) == []
    # A new answer (stamp): tokens from before it would be stale.
    assert ask(made, "3", tree, stamp) == "c"
    stamp_at(stamp, later())
    assert ask(made, "4", tree, stamp) == "c"
    assert os.listdir(str(tokens)) == ["4"]


def test_no_token_can_be_found_while_a_request_is_worked_on(checker, tree, tmp_path):
    made, tokens = checker
    stamp = stamp_at(str(tmp_path.parent / "w.stamp"), later())
    assert ask(made, "1", tree, stamp) == "c"
    made.begin()
    assert not (tokens / "1").exists() and not tokens.exists()
    made.end()
    assert (tokens / "1").exists()


def test_a_change_while_busy_is_taken_in_before_the_tokens_are_back(checker, tree, tmp_path):
    """A shell may have seen the server asleep mid-request (in a stat, say):
    once the tokens are back, a token the change withdraws must be gone, not
    wait for the server's next turn of its loop."""
    made, tokens = checker
    stamp = stamp_at(str(tmp_path.parent / "b.stamp"), later())
    assert ask(made, "1", tree, stamp) == "c"
    made.begin()
    open(str(tree / ".autoenv-disable"), "w").close()
    made.end()
    assert tokens.exists()
    assert not (tokens / "1").exists()


def test_a_removed_channel_takes_its_tokens_along(tmp_path):
    channel = tmp_path / ("serve-1-" + "cd34" * 3)
    channel.mkdir()
    os.mkdir(serve.tokens_dir(str(channel)))
    made = serve.Checker(str(channel))
    made.begin()
    open(os.path.join(made.dir, "1"), "w").close()
    serve.remove_channel(str(channel))
    assert not channel.exists()


def test_sync_requests_parse_with_their_extras():
    raw = b"".join(os.fsencode(f) + b"\0" for f in ("7", "/p/" + HOSTILE, ":sync", "/s/1.stamp", "/x/y", "."))
    (serial, pwd, body), = serve.parse_requests(raw)[0]
    assert (serial, pwd) == ("7", "/p/" + HOSTILE)
    assert body == serve.Sync("/s/1.stamp", ["/x/y"])
    # The same, with no reply wanted.
    raw = raw.replace(b":sync", b":watch")
    (_, _, body), = serve.parse_requests(raw)[0]
    assert body == serve.Sync("/s/1.stamp", ["/x/y"], reply=False)
    # An answer request whose variables happen to look alike stays one.
    (_, _, pairs), = serve.parse_requests(b"8\0/p\0:sync=1\0.\0")[0]
    assert pairs == {":sync": "1"}
