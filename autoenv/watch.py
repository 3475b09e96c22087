"""Whether any path a shell checks at its prompt changed since its stamp,
answered by the shell's server from inotify rather than by a stat of each path.

A shell 40 directories deep re-checks about 45 paths at every prompt, two
stat calls each (``DIR -nt STAMP``); that is several times the prompt budget.
The server (``serve``) holds an inotify watch on each of them instead: the
shell asks it once (a ``Sync`` request), and after that trusts the token the
server leaves for a clean reply while the server sleeps (``serve.Checker``).

Why no change is missed: the kernel queues an event inside the very call that
changes a directory, so the queue the server drains after the shell asked
holds every change made before the shell asked.  A path is trusted only once
its watch is in place and a stat taken after that shows it no newer than the
stamp; a change before the watch shows in that stat, one after it in the
queue.  A new stamp (a new answer) starts the stat checks over.

Paths that do not exist (the dir another tool would put an env in) count as
unchanged, as ``-nt`` has them; the nearest directory above that exists is
watched for the one name on the way down to them.

inotify sees only changes made through this machine's kernel: on NFS, SMB,
FUSE and the like a change made elsewhere never shows.  A chain that reaches
into such a file system is left to the shell's own mtime tests.
"""

import ctypes
import errno
import os
import struct

IN_MODIFY = 0x2
IN_ATTRIB = 0x4
IN_CLOSE_WRITE = 0x8
IN_MOVED_FROM = 0x40
IN_MOVED_TO = 0x80
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_UNMOUNT = 0x2000
IN_Q_OVERFLOW = 0x4000
IN_IGNORED = 0x8000
IN_ONLYDIR = 0x1000000

# What changes a directory's mtime (its entries), or a file's.
DIR_EVENTS = IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF
FILE_EVENTS = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF
# Events about the watched path itself, whatever its interest.
SELF_EVENTS = IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED

_HEADER = struct.Struct("iIII")

# File systems whose changes can come from elsewhere (another machine, a FUSE
# daemon's backend), which inotify never reports; "fuse*" too.
REMOTE_TYPES = frozenset((
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "9p", "ceph", "glusterfs", "lustre", "afs",
    "gfs2", "ocfs2", "virtiofs", "vboxsf", "vmhgfs", "davfs", "coda",
))

# Past this many watches the server starts again from none: a shell that
# wandered through thousands of directories should not hold a watch on each.
MAX_WATCHES = 1024


def shell_chain(pwd):
    """The directories a shell snippet walks from ``pwd``: ``${dir%/*}`` until /."""
    chain = []
    directory = pwd
    while True:
        chain.append(directory)
        if directory in ("/", ""):
            return chain
        directory = directory.rpartition("/")[0] or "/"


_checked = {}


def checked_paths(pwd, extras):
    """Every path a shell in ``pwd`` compares with its stamp: its chain as the
    snippet and as the helper walk it (the same but for odd names like //),
    and ``extras``, the paths outside the chain the answer depends on."""
    key = (pwd,) + tuple(extras)
    paths = _checked.get(key)
    if paths is None:
        from autoenv import detect

        found = dict.fromkeys(shell_chain(pwd))
        found.update(dict.fromkeys(detect.ancestors(pwd)))
        found.update(dict.fromkeys(extras))
        paths = list(found)
        if len(_checked) >= 256:
            _checked.clear()
        _checked[key] = paths
    return paths


def remote_devices(mountinfo="/proc/self/mountinfo"):
    """The st_dev of every mounted file system in REMOTE_TYPES (or FUSE)."""
    devices = set()
    try:
        with open(mountinfo, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return devices
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, kind = left.split(), right.split()[:1]
        if len(fields) < 3 or not kind:
            continue
        if kind[0] in REMOTE_TYPES or kind[0].startswith("fuse"):
            major, _, minor = fields[2].partition(":")
            try:
                devices.add(os.makedev(int(major), int(minor)))
            except ValueError:
                continue
    return devices


class Unavailable(OSError):
    """No inotify here (not Linux, or the user's limit on instances reached)."""


def inotify_calls():
    """libc's inotify_init1 and inotify_add_watch, or Unavailable."""
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        init, add = libc.inotify_init1, libc.inotify_add_watch
    except AttributeError:
        raise Unavailable(0, "no inotify here")
    add.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32)
    return init, add


def inotify_open(init):
    """A new non-blocking inotify descriptor, or Unavailable."""
    fd = init(os.O_NONBLOCK | os.O_CLOEXEC)
    if fd < 0:
        raise Unavailable(ctypes.get_errno(), "inotify_init1 failed")
    return fd


def watch_directory(path, mask):
    """A new inotify descriptor watching the directory ``path`` for ``mask``;
    OSError (Unavailable when there is no inotify) when it cannot."""
    init, add = inotify_calls()
    fd = inotify_open(init)
    if add(fd, os.fsencode(path), mask | IN_ONLYDIR) < 0:
        error = ctypes.get_errno()
        os.close(fd)
        raise OSError(error, os.strerror(error), path)
    return fd


def queued_events(fd):
    """The events queued on the non-blocking inotify descriptor ``fd``, as
    (watch descriptor, mask, name) with "" for the watched path itself."""
    while True:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        offset = 0
        while offset < len(data):
            wd, mask, _cookie, size = _HEADER.unpack_from(data, offset)
            offset += _HEADER.size
            name = data[offset:offset + size].rstrip(b"\0")
            offset += size
            yield wd, mask, os.fsdecode(name)


class Watcher:
    """One inotify instance, and which of the paths it watches are trusted
    (found no newer than the stamp with their watch in place) or changed."""

    def __init__(self):
        self._init, self._add = inotify_calls()
        self.fd = -1
        self.changed = set()  # paths with an event since the stamp
        self.trusted = set()  # paths found no newer than the stamp, with a watch in place
        self.stamp_ns = None
        self.remote = set()  # st_dev of file systems inotify cannot vouch for
        # Counts the times trust in paths was withdrawn (an event on a trusted
        # path, lost events, a new stamp): what was vouched for before is not now.
        self.generation = 0
        self._open()

    def _open(self):
        self.fd = inotify_open(self._init)
        self.stamp_wd = None  # the watch on the stamp itself (see _watch_stamp)
        self.stamp_path = None
        self.wd_of = {}  # path -> the descriptor of its own watch
        self.paths_of = {}  # descriptor -> paths it watches (any change to them counts)
        # descriptor -> {name: missing paths below that name}: the watch on
        # the nearest directory above paths that do not exist
        self.waiting = {}

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def clean_since(self, stamp, paths):
        """True when no path in ``paths`` changed since the stamp file's mtime;
        False when one did; None when this watcher cannot tell (the shell then
        checks for itself)."""
        try:
            stamp_ns = os.stat(stamp).st_mtime_ns
        except OSError:
            return None
        self.drain()
        if len(self.wd_of) + len(paths) > MAX_WATCHES:
            # Events drained first: with the new watches every path is
            # compared with the stamp again, so nothing falls in between.
            self.close()
            self._open()
            self.trusted.clear()
            self.generation += 1
        if stamp_ns != self.stamp_ns:
            # A new answer: what changed before it is in it.
            self.changed.clear()
            self.trusted.clear()
            self.waiting.clear()
            self.stamp_ns = stamp_ns
            self.generation += 1
            self.remote = remote_devices()  # mounts come and go
        if (self.stamp_wd is None or stamp != self.stamp_path) and not self._watch_stamp(stamp, stamp_ns):
            return None
        clean = True
        for path in paths:
            if path in self.changed:
                clean = False
            elif path not in self.trusted:
                newer = self._watch_and_compare(path, stamp_ns)
                if newer is None:
                    return None
                if newer:
                    # Dirty until a new stamp, as after an event: asked again
                    # with this stamp (the shell checks twice on its way to
                    # a new answer), the answer is the same.
                    self.changed.add(path)
                    clean = False
                else:
                    self.trusted.add(path)
        return clean

    def _watch_stamp(self, stamp, stamp_ns):
        """Watch the stamp file itself: a new answer dates it anew, and
        `autoenv allow` / `deny` date every shell's stamp back to 1970
        (trust.expire_stamps), which no checked path shows.  Either way the
        shell's paths are to be compared with a new time, and nothing is
        trusted until it asks again (_event).  False when the stamp changed
        before its watch was in place (the stat after shows it)."""
        wd, _ = self._add_watch(stamp, FILE_EVENTS)
        try:
            same = wd is not None and os.stat(stamp).st_mtime_ns == stamp_ns
        except OSError:
            same = False
        self.stamp_wd = wd if same else None
        self.stamp_path = stamp
        return same

    def _watch_and_compare(self, path, stamp_ns):
        """Put a watch on ``path`` (or on the way down to it), then whether it
        is newer than the stamp; None when it cannot be watched."""
        if path not in self.wd_of and not self._watch(path):
            return None
        try:
            info = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return False  # as -nt has it; its creation is watched for
        except OSError:
            return None
        if info.st_dev in self.remote:
            return None
        return info.st_mtime_ns > stamp_ns

    def _watch(self, path):
        wd, error = self._add_watch(path, DIR_EVENTS | IN_ONLYDIR)
        if error == errno.ENOTDIR:
            wd, error = self._add_watch(path, FILE_EVENTS)
        if wd is not None:
            self.wd_of[path] = wd
            self.paths_of.setdefault(wd, set()).add(path)
            return True
        child = path
        while error in (errno.ENOENT, errno.ENOTDIR):
            parent = os.path.dirname(child)
            if parent == child:
                break
            wd, error = self._add_watch(parent, DIR_EVENTS | IN_ONLYDIR)
            if wd is not None:
                try:
                    if os.stat(parent).st_dev in self.remote:
                        return False
                except OSError:
                    return False
                names = self.waiting.setdefault(wd, {})
                names.setdefault(os.path.basename(child), set()).add(path)
                return True
            child = parent
        return False

    def _add_watch(self, path, mask):
        wd = self._add(self.fd, os.fsencode(path), mask)
        return (wd, None) if wd >= 0 else (None, ctypes.get_errno())

    def drain(self):
        """Take in the events queued so far."""
        for wd, mask, name in queued_events(self.fd):
            if self._event(wd, mask, name):
                self.generation += 1

    def _event(self, wd, mask, name):
        """Note one event; True when it concerns a trusted path."""
        if mask & IN_Q_OVERFLOW:
            # Events were lost: every path is compared with the stamp again.
            self.trusted.clear()
            return True
        if wd == self.stamp_wd:
            # The stamp changed (see _watch_stamp): nothing is trusted, and
            # the next question starts over from the stamp as it is then.
            self.trusted.clear()
            self.stamp_ns = None
            if mask & IN_IGNORED:
                self.stamp_wd = None
            return True
        if mask & IN_ATTRIB and name:
            return False  # an entry's own attributes: the directory is unchanged
        waiting = self.waiting.get(wd, {})
        if mask & SELF_EVENTS or not name:
            hit = set(self.paths_of.get(wd, ()))
            for paths in waiting.values():
                hit.update(paths)
        else:
            hit = set(self.paths_of.get(wd, ()))
            hit.update(waiting.get(name, ()))
        self.changed.update(hit)
        if mask & IN_IGNORED:
            # The watch is gone with its directory: watched anew when needed.
            for path in self.paths_of.pop(wd, ()):
                self.wd_of.pop(path, None)
            self.waiting.pop(wd, None)
        return not hit.isdisjoint(self.trusted)
