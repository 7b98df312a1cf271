"""Mage's secret functions over a MageVault vault.

    >>> import mage_vault
    >>> mage_vault.create_secret("db_password", "made-up")
    >>> mage_vault.get_secret_value("db_password")
    'made-up'
    >>> mage_vault.get_secret_value("nonexistent") is None
    True

The names, arguments and their order are Mage 0.9.80's
(`mage_ai.data_preparation.shared.secrets`; mind that `get_secret_value` and
`delete_secret` take `pipeline_uuid` before `project_uuid`, `create_secret` the other way
round): `entity` is 'global' (the default), 'project' or 'pipeline', or Mage's `Entity`
enum, with `project_uuid` and `pipeline_uuid` naming the scope. As in Mage, a lookup reads
its own scope only (no fallback to a parent scope), and a missing secret is `None` after
Mage's warning line on standard output (`suppress_warning=True` silences it).

The data directory is `$MAGE_DATA_DIR`, else `~/.mage_data`, as for Mage and the
`mage-vault` command; its key comes from the scope's key file (or `$MAGE_VAULT_KEY`,
`$MAGE_VAULT_KEY_FILE`). Each scope's vault is opened once per process and kept warm: the
library keeps the values it opened until the log changes, so a repeated read costs one
`fstat` and a look-up in memory, and still sees what other processes wrote.

Errors are `VaultError` (with the tool's message, never a value, and its exit-code class
in `.code`). A name, `project_uuid`, `pipeline_uuid` or data dir holding a NUL byte is
refused (class 2) before anything is opened or created: C would read it cut short, and
`"db\\0evil"` would be `db`. A value may hold NUL (it crosses with its length).

Threads and forks: the functions may be called from any thread. `close()` may be called
while other threads are inside calls: a vault in use is closed by the last call that uses
it, never under it. A forked child (multiprocessing, Mage's scheduler) gets fresh locks,
so a lock another thread held at the fork does not hang it, and keeps the warm vaults.
"""

from __future__ import annotations

import _thread  # threading's Lock is this one; `import threading` costs ~5 ms of start-up
import ctypes
import os

from . import _native
from ._native import VaultError, c_string, check, environ_bytes, load, value_bytes

__all__ = ["VaultError", "get_secret_value", "create_secret", "delete_secret", "list_secrets", "close"]
__version__ = "0.1.0"

_ENTITIES = ("global", "project", "pipeline")


class _Open:
    """A cached `mgv_vault` and how many calls are using it now. `close()` takes it out of
    the cache and marks it closed; `mgv_close` runs once no call uses it (by `close()`
    when it is idle, else by the last call to finish), so no thread's call runs on a
    freed handle. Both counts change under `_handles_lock` only."""

    __slots__ = ("pointer", "users", "closed")

    def __init__(self, pointer: ctypes.c_void_p):
        self.pointer = pointer
        self.users = 0
        self.closed = False


# One open vault per (data dir, scope, writable), kept until `close()`.
_handles: dict[tuple[str | None, str | None, str | None, bool], _Open] = {}
_handles_lock = _thread.allocate_lock()


def _scope(entity, project_uuid: str | None, pipeline_uuid: str | None) -> tuple[str | None, str | None]:
    """(project, pipeline) of Mage's entity arguments; refuses what Mage would not read."""
    kind = getattr(entity, "value", entity)
    kind = "global" if kind is None else str(kind).lower()
    if kind not in _ENTITIES:
        raise VaultError(f"entity must be one of {', '.join(_ENTITIES)}, not {kind!r}", 2)
    if kind == "global":
        return None, None
    if not project_uuid:
        raise VaultError(f"a {kind} secret needs project_uuid", 2)
    if kind == "project":
        return project_uuid, None
    if not pipeline_uuid:
        raise VaultError("a pipeline secret needs pipeline_uuid", 2)
    return project_uuid, pipeline_uuid


def _encode(text: str | None, argument: str) -> bytes | None:
    return None if text is None else c_string(text, argument)


def _use(project: str | None, pipeline: str | None, write: bool, data_dir: str | None = None) -> _Open:
    """The open vault of a scope, counted as used until `_done` (call it in a `finally`);
    `data_dir` None means `$MAGE_DATA_DIR`, else the library's default."""
    if not data_dir:
        data_dir = environ_bytes(b"MAGE_DATA_DIR") or None  # the bytes as they are: no decoding per call
    key = (data_dir, project, pipeline, write)
    _handles_lock.acquire()
    try:
        entry = _handles.get(key)
        if entry is None:
            # Checked here only: a key with a NUL is never cached, so warm calls skip it.
            path = data_dir if isinstance(data_dir, bytes) else _encode(data_dir, "the data dir")  # a variable holds no NUL
            arguments = (path, _encode(project, "project_uuid"), _encode(pipeline, "pipeline_uuid"))
            lib = load()
            flags = lib.mgv_open_exact_scope() | (lib.mgv_open_create() if write else 0)
            pointer = ctypes.c_void_p()
            check(lib.mgv_open(arguments[0], None, arguments[1], arguments[2], None, flags, ctypes.byref(pointer)))
            entry = _handles[key] = _Open(pointer)
        entry.users += 1
        return entry
    finally:
        _handles_lock.release()


def _done(entry: _Open) -> None:
    """Ends a use of `entry`; the last use of a vault `close()` took away closes it."""
    _handles_lock.acquire()
    try:
        entry.users -= 1
        if entry.users or not entry.closed:
            return
        pointer, entry.pointer = entry.pointer, None
    finally:
        _handles_lock.release()
    load().mgv_close(pointer)


def get_secret_value(
    name: str,
    entity: str | object | None = None,
    pipeline_uuid: str | None = None,
    project_uuid: str | None = None,
    repo_name: str | None = None,
    **kwargs,
) -> str | None:
    """The value of the secret `name` in the scope named by `entity` (Mage's
    `get_secret_value`), or None when that scope has no such secret. `repo_name` is
    accepted for Mage's signature; the vault has no legacy rows to look it up in."""
    if entity is None and project_uuid is None and pipeline_uuid is None:
        project = pipeline = None  # Mage's everyday call: the global scope
    else:
        project, pipeline = _scope(entity, project_uuid, pipeline_uuid)
    value = _get(name, project, pipeline)
    if value is None and not kwargs.get("suppress_warning", False):
        print(f"WARNING: Could not find secret value for secret {name}.")
    return value


class _ReadBuffer:
    """A thread's buffer for `mgv_get_into`, reused by its reads and wiped after each: no
    allocation and no `mgv_free` per read. The arguments are ready-made ctypes objects, as
    `get_into` (see `_native`) converts none."""

    __slots__ = ("array", "view", "zeros", "capacity", "length", "length_pointer")

    def __init__(self, capacity: int):
        self.array = (ctypes.c_uint8 * capacity)()
        self.view = memoryview(self.array).cast("B")
        self.zeros = memoryview(bytes(capacity))  # what a used part is wiped with
        self.capacity = ctypes.c_size_t(capacity)
        self.length = ctypes.c_size_t()
        self.length_pointer = ctypes.byref(self.length)


_reads = _thread._local()


def _get(name: str, project: str | None, pipeline: str | None, data_dir: str | None = None) -> str | None:
    encoded = c_string(name, "the secret name")
    load()
    get_into = _native.get_into
    buffer = getattr(_reads, "buffer", None) or _read_buffer(256)
    entry = _use(project, pipeline, False, data_dir)
    try:
        found = get_into(entry.pointer, encoded, buffer.array, buffer.capacity, buffer.length_pointer)
        while found == 1 and buffer.length.value > buffer.capacity.value:  # a longer value: a buffer its size
            buffer = _read_buffer(buffer.length.value)
            found = get_into(entry.pointer, encoded, buffer.array, buffer.capacity, buffer.length_pointer)
    finally:
        _done(entry)
    if found != 1:
        check(found)
        return None
    length = buffer.length.value
    view = buffer.view
    try:
        return view[:length].tobytes().decode("utf-8")
    finally:
        view[:length] = buffer.zeros[:length]


def _read_buffer(capacity: int) -> _ReadBuffer:
    buffer = _reads.buffer = _ReadBuffer(capacity)
    return buffer


def create_secret(
    name: str,
    value: str,
    entity: str | object | None = None,
    project_uuid: str | None = None,
    pipeline_uuid: str | None = None,
    repo_name: str | None = None,
) -> None:
    """Sets the secret `name` to `value` in the scope named by `entity` (creating the
    scope's uuid and key files when missing); returns once it is on disk."""
    project, pipeline = _scope(entity, project_uuid, pipeline_uuid)
    _set(name, value, project, pipeline)


def _set(name: str, value: str, project: str | None, pipeline: str | None, data_dir: str | None = None) -> None:
    encoded = c_string(name, "the secret name")
    data = value_bytes(value)
    lib = load()
    entry = _use(project, pipeline, True, data_dir)
    try:
        check(lib.mgv_set(entry.pointer, encoded, data, len(data)))
    finally:
        _done(entry)


def delete_secret(
    name: str,
    entity: str | object | None = None,
    pipeline_uuid: str | None = None,
    project_uuid: str | None = None,
    repo_name: str | None = None,
    **kwargs,
) -> bool:
    """Deletes the secret `name` from the scope named by `entity`; False when there was none."""
    project, pipeline = _scope(entity, project_uuid, pipeline_uuid)
    return _delete(name, project, pipeline)


def _delete(name: str, project: str | None, pipeline: str | None, data_dir: str | None = None) -> bool:
    encoded = c_string(name, "the secret name")
    lib = load()
    entry = _use(project, pipeline, False, data_dir)
    try:
        return check(lib.mgv_delete(entry.pointer, encoded)) == 1
    finally:
        _done(entry)


def list_secrets(
    entity: str | object | None = None,
    project_uuid: str | None = None,
    pipeline_uuid: str | None = None,
) -> list[str]:
    """The names of the scope's secrets, sorted by their UTF-8 bytes (never values)."""
    project, pipeline = _scope(entity, project_uuid, pipeline_uuid)
    return _list(project, pipeline)


def _list(project: str | None, pipeline: str | None, data_dir: str | None = None) -> list[str]:
    lib = load()
    names = ctypes.POINTER(ctypes.c_uint8)()
    length = ctypes.c_size_t()
    entry = _use(project, pipeline, False, data_dir)
    try:
        check(lib.mgv_list(entry.pointer, ctypes.byref(names), ctypes.byref(length)))
    finally:
        _done(entry)
    try:
        raw = ctypes.string_at(names, length.value) if length.value else b""
    finally:
        lib.mgv_free(names, length)
    return [part.decode("utf-8") for part in raw.split(b"\0")[:-1]]


def close() -> None:
    """Closes every vault this process opened (they are reopened on the next call). Safe
    while other threads are inside calls: a vault in use is closed when its last call ends."""
    with _handles_lock:
        entries = list(_handles.values())
        _handles.clear()
        idle = []
        for entry in entries:
            entry.closed = True
            if not entry.users:
                idle.append(entry.pointer)
                entry.pointer = None
    if idle:
        lib = load()
        for pointer in idle:
            lib.mgv_close(pointer)


def _reset_after_fork() -> None:
    """In a forked child, only the forking thread exists: no call is in flight, and a lock
    another thread held at the fork would never be released. So: a fresh lock, and no
    users. A vault `close()` took away while in use in the parent is left open here (its
    last user is not in this process); the cached ones stay warm."""
    global _handles_lock
    _handles_lock = _thread.allocate_lock()
    for entry in _handles.values():
        entry.users = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
