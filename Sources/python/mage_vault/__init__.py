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
`$MAGE_VAULT_KEY_FILE`). Each scope's vault is opened once per process and kept warm: a
call costs one look-up in memory and one decryption, and sees what other processes wrote.

Errors are `VaultError` (with the tool's message, never a value, and its exit-code class
in `.code`). A name, `project_uuid`, `pipeline_uuid` or data dir holding a NUL byte is
refused (class 2) before anything is opened or created: C would read it cut short, and
`"db\\0evil"` would be `db`. A value may hold NUL (it crosses with its length).
"""

from __future__ import annotations

import ctypes
import os
import threading
from typing import Dict, List, Optional, Tuple, Union

from ._native import VaultError, c_string, check, load, value_bytes

__all__ = ["VaultError", "get_secret_value", "create_secret", "delete_secret", "list_secrets", "close"]
__version__ = "0.1.0"

_ENTITIES = ("global", "project", "pipeline")

# One open vault per (data dir, scope, writable), kept for the life of the process.
_handles: Dict[Tuple[Optional[str], Optional[str], Optional[str], bool], ctypes.c_void_p] = {}
_handles_lock = threading.Lock()


def _scope(entity, project_uuid: Optional[str], pipeline_uuid: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
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


def _encode(text: Optional[str], argument: str) -> Optional[bytes]:
    return None if text is None else c_string(text, argument)


def _handle(project: Optional[str], pipeline: Optional[str], write: bool, data_dir: Optional[str] = None) -> ctypes.c_void_p:
    """The open vault of a scope; `data_dir` None means `$MAGE_DATA_DIR`, else the library's default."""
    data_dir = data_dir or os.environ.get("MAGE_DATA_DIR") or None
    key = (data_dir, project, pipeline, write)
    with _handles_lock:
        handle = _handles.get(key)
        if handle is None:
            # Checked here only: a key with a NUL is never cached, so warm calls skip it.
            arguments = (_encode(data_dir, "the data dir"), _encode(project, "project_uuid"), _encode(pipeline, "pipeline_uuid"))
            lib = load()
            flags = lib.mgv_open_exact_scope() | (lib.mgv_open_create() if write else 0)
            handle = ctypes.c_void_p()
            check(lib.mgv_open(arguments[0], None, arguments[1], arguments[2], None, flags, ctypes.byref(handle)))
            _handles[key] = handle
        return handle


def get_secret_value(
    name: str,
    entity: Union[str, object, None] = None,
    pipeline_uuid: Optional[str] = None,
    project_uuid: Optional[str] = None,
    repo_name: Optional[str] = None,
    **kwargs,
) -> Optional[str]:
    """The value of the secret `name` in the scope named by `entity` (Mage's
    `get_secret_value`), or None when that scope has no such secret. `repo_name` is
    accepted for Mage's signature; the vault has no legacy rows to look it up in."""
    project, pipeline = _scope(entity, project_uuid, pipeline_uuid)
    value = _get(name, project, pipeline)
    if value is None and not kwargs.get("suppress_warning", False):
        print(f"WARNING: Could not find secret value for secret {name}.")
    return value


def _get(name: str, project: Optional[str], pipeline: Optional[str], data_dir: Optional[str] = None) -> Optional[str]:
    encoded = c_string(name, "the secret name")
    lib = load()
    value = ctypes.POINTER(ctypes.c_uint8)()
    length = ctypes.c_size_t()
    found = check(lib.mgv_get(_handle(project, pipeline, False, data_dir), encoded, ctypes.byref(value), ctypes.byref(length)))
    if not found:
        return None
    try:
        return ctypes.string_at(value, length.value).decode("utf-8")
    finally:
        lib.mgv_free(value, length)


def create_secret(
    name: str,
    value: str,
    entity: Union[str, object, None] = None,
    project_uuid: Optional[str] = None,
    pipeline_uuid: Optional[str] = None,
    repo_name: Optional[str] = None,
) -> None:
    """Sets the secret `name` to `value` in the scope named by `entity` (creating the
    scope's uuid and key files when missing); returns once it is on disk."""
    project, pipeline = _scope(entity, project_uuid, pipeline_uuid)
    _set(name, value, project, pipeline)


def _set(name: str, value: str, project: Optional[str], pipeline: Optional[str], data_dir: Optional[str] = None) -> None:
    encoded = c_string(name, "the secret name")
    data = value_bytes(value)
    check(load().mgv_set(_handle(project, pipeline, True, data_dir), encoded, data, len(data)))


def delete_secret(
    name: str,
    entity: Union[str, object, None] = None,
    pipeline_uuid: Optional[str] = None,
    project_uuid: Optional[str] = None,
    repo_name: Optional[str] = None,
    **kwargs,
) -> bool:
    """Deletes the secret `name` from the scope named by `entity`; False when there was none."""
    project, pipeline = _scope(entity, project_uuid, pipeline_uuid)
    return _delete(name, project, pipeline)


def _delete(name: str, project: Optional[str], pipeline: Optional[str], data_dir: Optional[str] = None) -> bool:
    encoded = c_string(name, "the secret name")
    return check(load().mgv_delete(_handle(project, pipeline, False, data_dir), encoded)) == 1


def list_secrets(
    entity: Union[str, object, None] = None,
    project_uuid: Optional[str] = None,
    pipeline_uuid: Optional[str] = None,
) -> List[str]:
    """The names of the scope's secrets, sorted by their UTF-8 bytes (never values)."""
    project, pipeline = _scope(entity, project_uuid, pipeline_uuid)
    return _list(project, pipeline)


def _list(project: Optional[str], pipeline: Optional[str], data_dir: Optional[str] = None) -> List[str]:
    lib = load()
    names = ctypes.POINTER(ctypes.c_uint8)()
    length = ctypes.c_size_t()
    check(lib.mgv_list(_handle(project, pipeline, False, data_dir), ctypes.byref(names), ctypes.byref(length)))
    try:
        raw = ctypes.string_at(names, length.value) if length.value else b""
    finally:
        lib.mgv_free(names, length)
    return [part.decode("utf-8") for part in raw.split(b"\0")[:-1]]


def close() -> None:
    """Closes every vault this process opened (they are reopened on the next call)."""
    with _handles_lock:
        lib = load() if _handles else None
        for handle in _handles.values():
            lib.mgv_close(handle)
        _handles.clear()
