"""Whether an env may be activated without asking.

Activating an env puts its ``bin/`` in front of every command, so only envs
the user made themselves go there on their own: envs autoenv created, or envs
owned by the current user, writable by nobody else, and not tracked by the
enclosing git repository (an env that came with a clone is a stranger's).
Anything else needs ``autoenv allow``.  Decisions live in the XDG state dir,
keyed by the env's real path and the identity of its ``pyvenv.cfg``, so an env
replaced after the decision is asked about again.

On the hot path: standard library only, a few ``stat`` calls and two small
files; the git index is parsed only when it changed since the last look.
"""

import os

ALLOW = "allow"
DENY = "deny"
CREATED = "created"
_DECISIONS = (ALLOW, DENY, CREATED)

STORE_NAME = "trust"
GIT_CACHE_NAME = "git-tracked"
# The git cache remembers this many (index, env) answers; older ones are dropped.
GIT_CACHE_LIMIT = 256


# ---------------------------------------------------------------- locations

def _xdg(environ, name, fallback):
    value = environ.get(name)
    if value and os.path.isabs(value):
        return value
    home = environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, *fallback)


def state_dir(environ):
    return os.path.join(_xdg(environ, "XDG_STATE_HOME", (".local", "state")), "autoenv")


def cache_dir(environ):
    return os.path.join(_xdg(environ, "XDG_CACHE_HOME", (".cache",)), "autoenv")


def store_path(environ):
    return os.path.join(state_dir(environ), STORE_NAME)


# ---------------------------------------------------------------- display

def printable(text, backslashes=True):
    """``text`` safe to print on one terminal line: control bytes spelled out.

    A directory name can hold a newline or an escape sequence that rewrites
    the terminal; messages show such bytes as ``\\n`` / ``\\x1b`` instead.
    ``backslashes=False`` leaves ``\\`` as it is (for the prompt, where the
    text is shown, not read back).
    """
    out = []
    for char in text:
        code = ord(char)
        if char == "\\" and backslashes:
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0:
            out.append("\\x%02x" % code)
        elif 0xDC80 <= code <= 0xDCFF:  # an undecodable byte (surrogateescape)
            out.append("\\x%02x" % (code - 0xDC00))
        elif code in (0x2028, 0x2029, 0x202E, 0x200F, 0x200E, 0x2066, 0x2067, 0x2068, 0x2069, 0x202A,
                      0x202B, 0x202C, 0x202D):
            out.append("\\u%04x" % code)
        else:
            out.append(char)
    return "".join(out)


# ---------------------------------------------------------------- real paths

# Linux names the file an open descriptor refers to in /proc/self/fd.
_BY_PROC_FD = hasattr(os, "O_PATH") and os.path.isdir("/proc/self/fd")


def real_path(path):
    """``os.path.realpath(path)``, asked of the kernel when ``path`` exists.

    realpath costs an ``lstat`` per component (45 for an env 40 directories
    deep); opening the path and reading back the name the kernel gives the
    descriptor costs four calls.  That name is used only when it is absolute
    and names the very same file; otherwise realpath answers.
    """
    if _BY_PROC_FD:
        try:
            handle = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except (OSError, ValueError):
            handle = None
        if handle is not None:
            try:
                resolved = os.readlink("/proc/self/fd/%d" % handle)
                held = os.fstat(handle)
                named = os.stat(resolved) if resolved.startswith("/") else None
            except (OSError, ValueError):
                named = None
            finally:
                os.close(handle)
            if named is not None and (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino):
                return resolved
    return os.path.realpath(path)


# ---------------------------------------------------------------- identity

def identity(env):
    """What changes when the env is replaced: device, inode and ctime of its pyvenv.cfg."""
    try:
        info = os.stat(os.path.join(env, "pyvenv.cfg"))
    except (OSError, ValueError):
        return None
    return "%d:%d:%d" % (info.st_dev, info.st_ino, info.st_ctime_ns)


def _encode(path):
    return os.fsencode(path).hex()


def _decode(text):
    return os.fsdecode(bytes.fromhex(text))


# ---------------------------------------------------------------- the store

def read_store(environ):
    """{real env path: (decision, identity)}; a missing or damaged store is empty."""
    records = {}
    try:
        with open(store_path(environ), "rb") as handle:
            data = handle.read(4 * 1024 * 1024)
    except (OSError, ValueError):
        return records
    for line in data.decode("ascii", "replace").splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] not in _DECISIONS:
            continue
        try:
            records[_decode(parts[2])] = (parts[0], parts[1])
        except ValueError:
            continue
    return records


def _write_lines(path, lines):
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    temporary = "%s.%d.tmp" % (path, os.getpid())
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write("".join(line + "\n" for line in lines))
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def write_store(environ, records):
    header = "# autoenv trust decisions: DECISION DEV:INODE:CTIME(pyvenv.cfg) HEX(real env path)"
    lines = [header] + ["%s %s %s" % (decision, ident, _encode(env))
                        for env, (decision, ident) in sorted(records.items())]
    _write_lines(store_path(environ), lines)


def record(env, decision, environ=None):
    """Store ``decision`` (allow, deny, created) for ``env``; returns its real path."""
    environ = os.environ if environ is None else environ
    if decision not in _DECISIONS:
        raise ValueError("unknown trust decision %r" % decision)
    real = real_path(env)
    ident = identity(real)
    if ident is None:
        raise FileNotFoundError("%s is not a virtual environment (no pyvenv.cfg)" % env)
    records = read_store(environ)
    records[real] = (decision, ident)
    write_store(environ, records)
    return real


def record_created(env, environ=None):
    """Called by the creator once an env it made is complete and in its final place.

    The record lives outside the env (a marker inside could be shipped by
    anyone) and names the pyvenv.cfg that was written, so it covers exactly
    the env autoenv made.
    """
    return record(env, CREATED, environ)


def forget(env, environ=None):
    environ = os.environ if environ is None else environ
    real = real_path(env)
    records = read_store(environ)
    if records.pop(real, None) is None:
        return False
    write_store(environ, records)
    return True


def stored_decision(env, environ, real=None):
    """(decision, still valid) for ``env``, or (None, False) when none is stored.

    ``real`` is ``env``'s real path when the caller has it already.
    """
    real = real or real_path(env)
    found = read_store(environ).get(real)
    if found is None:
        return None, False
    decision, ident = found
    return decision, ident == identity(real)


# ---------------------------------------------------------------- ownership

def ownership_problem(env):
    """Why ``env`` (or its bin dir) could have been written by someone else, or None."""
    geteuid = getattr(os, "geteuid", None)
    if geteuid is None:  # Windows: no owner bits to compare.
        return None
    me = geteuid()
    for path in (env, os.path.join(env, "Scripts" if os.name == "nt" else "bin")):
        try:
            info = os.stat(path)
        except (OSError, ValueError) as exc:
            return "cannot check %s (%s)" % (printable(path), exc.strerror or exc)
        if info.st_uid != me:
            return "%s is owned by %s, not by you" % (printable(path), _user_name(info.st_uid))
        if _writable_by_others(info, me):
            who = "group and others" if info.st_mode & 0o022 == 0o022 else (
                "its group" if info.st_mode & 0o020 else "others")
            return "%s is writable by %s" % (printable(path), who)
    return None


def replaceable_by_others(directory):
    """Why someone else could swap ``directory`` or a file in it, or None.

    It must be ours and writable by us alone; every directory above it (the
    real path) must be ours or root's and, where others may write to it,
    sticky (as /tmp is), so that nobody can rename our entries away.
    """
    geteuid = getattr(os, "geteuid", None)
    if geteuid is None:
        return "no owners to check"
    me = geteuid()
    path = os.path.realpath(directory)
    info = os.lstat(path)
    if info.st_uid != me or _writable_by_others(info, me):
        return "%s is not private to you" % printable(path)
    while True:
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent
        info = os.lstat(path)
        if info.st_uid not in (me, 0) or (_writable_by_others(info, me) and not info.st_mode & 0o1000):
            return "%s could be changed by someone else" % printable(path)


def _writable_by_others(info, me):
    return bool(info.st_mode & 0o002 or (info.st_mode & 0o020 and not _private_group(info.st_gid, me)))


def _private_group(gid, uid):
    """True for a user-private group (umask 002 systems): the user's own group, no one else in it."""
    try:
        import grp
        import pwd

        user = pwd.getpwuid(uid)
        group = grp.getgrgid(gid)
    except (ImportError, KeyError):
        return False
    return (user.pw_gid == gid and group.gr_name == user.pw_name
            and all(member == user.pw_name for member in group.gr_mem))


def _user_name(uid):
    try:
        import pwd

        return "%s (uid %d)" % (pwd.getpwuid(uid).pw_name, uid)
    except (ImportError, KeyError):
        return "uid %d" % uid


# ---------------------------------------------------------------- git

def find_repository(path):
    """(work tree, git dir) of the repository holding ``path``, or None.

    Walks up with one ``access`` per directory (no exception raised for the
    usual miss, unlike ``stat``); ``.git`` may be a directory or a file naming
    the git dir (worktrees, submodules).
    """
    directory = path
    while True:
        dot_git = os.path.join(directory, ".git")
        try:
            present = os.access(dot_git, os.F_OK)
        except ValueError:  # a NUL byte: no such file, as isdir says
            present = False
        is_dir = present and os.path.isdir(dot_git)
        is_file = present and not is_dir and os.path.isfile(dot_git)
        if is_dir:
            return directory, dot_git
        if is_file:
            git_dir = _read_gitdir_file(dot_git, directory)
            if git_dir:
                return directory, git_dir
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _read_gitdir_file(dot_git, work_tree):
    try:
        with open(dot_git, "rb") as handle:
            text = handle.read(4096).decode("utf-8", "surrogateescape")
    except (OSError, ValueError):
        return None
    for line in text.splitlines():
        if line.startswith("gitdir:"):
            target = line[len("gitdir:"):].strip()
            return target if os.path.isabs(target) else os.path.join(work_tree, target)
    return None


class UnreadableIndex(ValueError):
    """The index is not in a format this reader knows."""


def _hash_size(git_dir):
    """20 bytes (SHA-1) unless the repository says it uses SHA-256."""
    for config_dir in (git_dir, _common_dir(git_dir)):
        try:
            with open(os.path.join(config_dir, "config"), "rb") as handle:
                text = handle.read(256 * 1024).decode("utf-8", "replace").lower()
        except OSError:
            continue
        compact = text.replace(" ", "").replace("\t", "")
        return 32 if "objectformat=sha256" in compact else 20
    return 20


def _common_dir(git_dir):
    try:
        with open(os.path.join(git_dir, "commondir"), "rb") as handle:
            target = handle.read(4096).decode("utf-8", "surrogateescape").strip()
    except OSError:
        return git_dir
    return target if os.path.isabs(target) else os.path.join(git_dir, target)


def index_paths(data, hash_size=20):
    """Every path recorded in a git index file (bytes), plus the shared index it links to.

    Returns (paths, linked shared-index hash or None).  Versions 2, 3 and 4.
    """
    if len(data) < 12 or data[:4] != b"DIRC":
        raise UnreadableIndex("not a git index")
    # int.from_bytes, not struct: importing struct loads a shared library, on every switch.
    version, count = int.from_bytes(data[4:8], "big"), int.from_bytes(data[8:12], "big")
    if version not in (2, 3, 4):
        raise UnreadableIndex("git index version %d" % version)
    paths = []
    offset = 12
    previous = b""
    fixed = 40 + hash_size  # stat data, then the object name
    for _ in range(count):
        start = offset
        offset += fixed
        if offset + 2 > len(data):
            raise UnreadableIndex("truncated git index")
        flags = int.from_bytes(data[offset:offset + 2], "big")
        offset += 2
        if flags & 0x4000:
            offset += 2
        if version == 4:
            strip, offset = _varint(data, offset)
            end = data.find(b"\0", offset)
            if end < 0 or strip > len(previous):
                raise UnreadableIndex("corrupt git index entry")
            path = previous[:len(previous) - strip] + data[offset:end]
            offset = end + 1
        else:
            end = data.find(b"\0", offset)
            if end < 0:
                raise UnreadableIndex("corrupt git index entry")
            path = data[offset:end]
            # Entries are padded with 1 to 8 NULs to a multiple of 8 bytes.
            offset = start + ((end - start) // 8 + 1) * 8
        paths.append(path)
        previous = path
    shared = None
    trailer = len(data) - hash_size
    while offset + 8 <= trailer:
        signature = data[offset:offset + 4]
        size = int.from_bytes(data[offset + 4:offset + 8], "big")
        if signature == b"link" and size >= hash_size:
            shared = data[offset + 8:offset + 8 + hash_size].hex()
        offset += 8 + size
    return paths, shared


def _varint(data, offset):
    if offset >= len(data):
        raise UnreadableIndex("truncated git index")
    byte = data[offset]
    offset += 1
    value = byte & 0x7F
    while byte & 0x80:
        if offset >= len(data):
            raise UnreadableIndex("truncated git index")
        byte = data[offset]
        offset += 1
        value = ((value + 1) << 7) | (byte & 0x7F)
    return value, offset


def _index_tracks(git_dir, relative_paths):
    """True when the index holds any of ``relative_paths`` or anything below them."""
    with open(os.path.join(git_dir, "index"), "rb") as handle:
        data = handle.read()
    hash_size = _hash_size(git_dir)
    paths, shared = index_paths(data, hash_size)
    if shared and shared.strip("0"):
        try:
            with open(os.path.join(git_dir, "sharedindex." + shared), "rb") as handle:
                paths += index_paths(handle.read(), hash_size)[0]
        except OSError:
            pass
    wanted = [os.fsencode(path) for path in relative_paths]
    prefixes = tuple(path + b"/" for path in wanted)
    wanted = set(wanted)
    return any(path in wanted or path.startswith(prefixes) for path in paths)


def _index_signature(git_dir):
    try:
        info = os.stat(os.path.join(git_dir, "index"))
    except (OSError, ValueError):
        return None
    return "%d:%d:%d:%d" % (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def tracked_by_git(env, environ, real=None):
    """The work tree of the git repository that tracks ``env`` (its files or the link), or None.

    The answer is cached per (index, env) under the XDG cache dir and reused
    while the index file is unchanged (same inode, size and mtime), so a `cd`
    costs a ``stat`` of the index, not a git process or a parse.
    """
    candidates = {}
    real = real or real_path(env)
    for path in dict.fromkeys((os.path.abspath(env), real)):
        found = find_repository(os.path.dirname(path))
        if found:
            work_tree, git_dir = found
            relative = os.path.relpath(path, work_tree).replace(os.sep, "/")
            relatives = candidates.setdefault((work_tree, git_dir), [])
            if relative not in relatives:
                relatives.append(relative)
    for (work_tree, git_dir), relatives in candidates.items():
        if _cached_tracked(git_dir, relatives, environ):
            return work_tree
    return None


def _cached_tracked(git_dir, relatives, environ):
    signature = _index_signature(git_dir)
    if signature is None:
        return False  # no index yet: nothing is tracked
    key = _encode(git_dir) + "/" + _encode("\0".join(sorted(relatives)))
    cache_file = os.path.join(cache_dir(environ), GIT_CACHE_NAME)
    lines = []
    try:
        with open(cache_file, "rb") as handle:
            lines = handle.read(1024 * 1024).decode("ascii", "replace").splitlines()
    except (OSError, ValueError):
        pass
    for line in lines:
        parts = line.split(" ")
        if len(parts) == 3 and parts[2] == key and parts[0] == signature:
            return parts[1] == "1"
    try:
        tracked = _index_tracks(git_dir, relatives)
    except (OSError, UnreadableIndex):
        # An index this reader cannot read: say tracked, the cautious answer;
        # `autoenv allow` still activates it.
        tracked = True
    kept = [line for line in lines if line.split(" ")[-1:] != [key]][-(GIT_CACHE_LIMIT - 1):]
    kept.append("%s %d %s" % (signature, tracked, key))
    try:
        _write_lines(cache_file, kept)
    except OSError:
        pass  # no cache: the next cd parses again, still correct
    return tracked


# ---------------------------------------------------------------- the decision

def untrusted_reason(env, environ, real=None):
    """Why ``env`` is not trusted on its own (ignoring stored decisions), or None."""
    # Resolved once, by the caller when it can.
    real = real or real_path(env)
    problem = ownership_problem(real)
    if problem:
        return problem
    work_tree = tracked_by_git(env, environ, real)
    if work_tree:
        return "it is tracked by the git repository %s (an env that came with a clone can run anything)" % (
            printable(work_tree))
    return None


def check(finding, environ):
    """Return None when ``finding.env`` may be activated, else a one-line reason."""
    env = finding.env
    real = real_path(env)
    decision, valid = stored_decision(env, environ, real)
    if decision is not None and valid:
        if decision == DENY:
            return "autoenv: not activating %s: you denied it; to undo: autoenv allow" % printable(env)
        return None
    reason = untrusted_reason(env, environ, real)
    if reason is None:
        return None
    if decision is not None:
        reason += "; it changed since you last decided"
    return "autoenv: not activating %s: %s. If you trust it, run: autoenv allow" % (printable(env), reason)


# ---------------------------------------------------------------- telling the shells

def stamp_dirs(environ):
    """Where the hook keeps its per-shell stamp files (every candidate)."""
    from autoenv import hook

    dirs = hook.stamp_dirs(environ)
    fallback = os.path.join(cache_dir(environ), "stamps")
    if fallback not in dirs:
        dirs.append(fallback)
    return dirs


def expire_stamps(environ=None):
    """Make every hooked shell run the helper at its next prompt.

    Each shell skips the helper while no watched dir is newer than its stamp;
    a stamp dated 1970 is older than every dir.
    """
    from autoenv import hook

    environ = os.environ if environ is None else environ
    count = 0
    shared = hook.shared_temp_stamp_dir(environ)
    for directory in stamp_dirs(environ):
        try:
            if directory == shared:
                # Someone else's dir by that name holds none of ours.
                hook.check_private_dir(directory)
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            if hook.is_stamp_name(name):
                try:
                    os.utime(os.path.join(directory, name), ns=(0, 0), follow_symlinks=False)
                    count += 1
                except OSError:
                    pass
    return count
