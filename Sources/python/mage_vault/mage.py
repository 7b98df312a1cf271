"""The vault as Mage's own secrets backend: with `MAGE_SECRETS_BACKEND=mage-vault` in the
environment, Mage's `get_secret_value`, `create_secret`, `delete_secret`, its secret
listing and its `/api/secrets` handler read and write the vault, with no edit to Mage or
to the user's code.

How it gets in (the README's "Use it from Mage" says it at length):

- The wheel installs `mage_vault_mage.pth` into site-packages. Its one line is a guarded
  import, as coverage's start-up hook is: nothing happens unless the variable says
  `mage-vault`, and then it calls `_start()`, which installs once and never raises.
- `install()` puts a meta-path finder first on `sys.meta_path` (ddtrace's
  `ModuleWatchdog` pattern): when `mage_ai.data_preparation.shared.secrets` or
  `mage_ai.api.resources.SecretResource` is imported, the finder lets the normal loader
  execute it, then patches it before the import returns. A dozen Mage modules
  `from ... import get_secret_value`: all of them run after the patch, so every one binds
  the vault's function. `install()` called after Mage is loaded patches the modules in
  place and rebinds every module global that still holds an original.
- The API's `SecretResource` works on `Secret` rows: its listing calls
  `get_valid_secrets_for_repo`, and `member`, `update` and `delete` query and change rows.
  Here they return and act on `Secret` objects that are never added to Mage's session:
  they carry a name (and an id derived from it) and never a value.

Behaviour kept from Mage: a lookup reads its own scope only; a missing secret (or a name
the vault can never hold, or an environment that has no vault yet) is `None` after Mage's
warning line; so is a secret of a scope without a key file, as Mage reads a scope
without its `key` file. Stricter, on purpose: a damaged vault or a wrong key raises `VaultError`
instead of reading as `None` (a pipeline must not run on with a missing password because
the file was tampered with); names with `/` or control characters, names over 255 bytes,
empty values and values over 1 MiB are refused (`VaultError`, a 400 from the API), as
every other way into the vault refuses them.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import os
import sys
import threading
from typing import Any, Callable, Dict, List, Optional

from . import _delete, _get, _list, _scope, _set
from ._native import VaultError

__all__ = ["SWITCH", "ENABLED_VALUE", "enabled", "install", "installed",
           "get_secret_value", "create_secret", "delete_secret", "get_valid_secrets_for_repo"]

#: The environment variable that turns the backend on, and the value that does.
SWITCH = "MAGE_SECRETS_BACKEND"
ENABLED_VALUE = "mage-vault"

SECRETS_MODULE = "mage_ai.data_preparation.shared.secrets"
RESOURCE_MODULE = "mage_ai.api.resources.SecretResource"

# The vault's exit-code class for input it refuses (a name it can never hold, an empty value).
_BAD_INPUT = 2
# ... and for "not there": the scope has no key file (Mage's uuid from before the switch, or
# a key not copied in), which Mage, missing its own key file, reads as no secrets too.
_NOT_FOUND = 1

_install_lock = threading.Lock()
_installed = False


def enabled() -> bool:
    """True when the environment asks for the vault backend (`MAGE_SECRETS_BACKEND=mage-vault`)."""
    return os.environ.get(SWITCH, "").strip().lower() == ENABLED_VALUE


def installed() -> bool:
    """True once `install()` has run in this process."""
    return _installed


def _data_dir() -> Optional[str]:
    """Mage's data dir, resolved as Mage resolves it for its secrets folder."""
    try:
        from mage_ai.data_preparation.shared.secrets import get_secrets_dir
        from mage_ai.orchestration.constants import Entity
        return os.path.dirname(get_secrets_dir(Entity.GLOBAL))
    except Exception:  # Mage not importable here: the package's own default
        return None


def _warn_missing(name: str, kwargs: Dict[str, Any]) -> None:
    if not kwargs.get("suppress_warning", False):
        print(f"WARNING: Could not find secret value for secret {name}.")


# --- Mage's functions, over the vault (same names, arguments and defaults as 0.9.80) -------

def get_secret_value(
    name: str,
    entity: Any = None,
    pipeline_uuid: Optional[str] = None,
    project_uuid: Optional[str] = None,
    repo_name: Optional[str] = None,
    **kwargs,
) -> Optional[str]:
    """Mage's `get_secret_value` over the vault: the value of `name` in exactly the scope
    `entity` names, or None (after Mage's warning) when it has none. `repo_name` only
    served Mage's legacy rows, which the vault does not have."""
    project, pipeline = _scope(entity, project_uuid, pipeline_uuid)
    try:
        value = _get(name, project, pipeline, _data_dir())
    except VaultError as error:
        if error.code not in (_BAD_INPUT, _NOT_FOUND):
            raise
        value = None  # a name the vault cannot hold, or a scope never written: Mage finds no row
    if value is None:
        _warn_missing(name, kwargs)
    return value


def create_secret(
    name: str,
    value: str,
    entity: Any = None,
    project_uuid: Optional[str] = None,
    pipeline_uuid: Optional[str] = None,
    repo_name: Optional[str] = None,
):
    """Mage's `create_secret` over the vault: stores `value` under `name` in the scope
    (creating its uuid and key files when missing), on disk before it returns. Returns a
    `Secret` object for Mage's API to present (name and id, no value), never saved."""
    project, pipeline = _scope(entity, project_uuid, pipeline_uuid)
    _set(name, value, project, pipeline, _data_dir())
    return _row(name, repo_name)


def delete_secret(
    name: str,
    entity: Any = None,
    pipeline_uuid: Optional[str] = None,
    project_uuid: Optional[str] = None,
    repo_name: Optional[str] = None,
    **kwargs,
) -> None:
    """Mage's `delete_secret` over the vault (a tombstone in the log); warns, as Mage
    does, when the scope has no such secret."""
    project, pipeline = _scope(entity, project_uuid, pipeline_uuid)
    try:
        deleted = _delete(name, project, pipeline, _data_dir())
    except VaultError as error:
        if error.code not in (_BAD_INPUT, _NOT_FOUND):
            raise
        deleted = False
    if not deleted and not kwargs.get("suppress_warning", False):
        print(f"WARNING: Could not find secret {name}")


def get_valid_secrets_for_repo(repo_names: Optional[List[str]] = None) -> List:
    """Mage's listing (the Secrets page, `GET /api/secrets`): the global scope's secrets as
    `Secret` objects carrying names only, sorted by name."""
    try:
        names = _list(None, None, _data_dir())
    except VaultError as error:
        if error.code != _NOT_FOUND:
            raise
        names = []  # no environment yet: Mage, without a key file, lists nothing too
    return [_row(name) for name in names]


def _row(name: str, repo_name: Optional[str] = None):
    """A `Secret` model object that is never added to Mage's session: what Mage's API
    presents (`id`, `name`). The id is derived from the name, so it is the same in every
    listing and after a create."""
    from mage_ai.orchestration.db.models.secrets import Secret
    row = Secret(name=name, repo_name=repo_name)
    row.id = int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=4).digest(), "big") & 0x7FFFFFFF
    return row


def _global_has(name: str) -> bool:
    try:
        return name in _list(None, None, _data_dir())
    except VaultError as error:
        if error.code != _NOT_FOUND:
            raise
        return False


# --- SecretResource: the API's handler works on rows; these act on the vault instead --------

def _api_invalid(error: VaultError):
    from mage_ai.api.errors import ApiError
    return ApiError({**ApiError.RESOURCE_INVALID, "message": str(error)})


def _resource_create(cls, payload, user, **kwargs):
    from mage_ai.data_preparation.repo_manager import get_project_uuid
    fields = {key: payload[key] for key in ("name", "value", "entity", "pipeline_uuid") if key in payload}
    try:
        row = create_secret(**fields, project_uuid=get_project_uuid())
    except VaultError as error:
        if error.code == _BAD_INPUT:
            raise _api_invalid(error) from None
        raise
    return cls(row, user, **kwargs)


def _resource_member(cls, pk, user, **kwargs):
    from mage_ai.api.errors import ApiError
    if not _global_has(pk):
        raise ApiError(ApiError.RESOURCE_NOT_FOUND)
    return cls(_row(pk), user, **kwargs)


def _resource_update(self, payload, **kwargs):
    # Mage writes the new value into the row in clear text; here it is sealed in the vault.
    if "value" in payload:
        try:
            create_secret(self.model.name, payload["value"])
        except VaultError as error:
            if error.code == _BAD_INPUT:
                raise _api_invalid(error) from None
            raise
    return self


def _resource_delete(self, **kwargs):
    delete_secret(self.model.name, suppress_warning=True)


# --- the patches and the import hook -------------------------------------------------------

_SECRETS_FUNCTIONS: Dict[str, Callable] = {
    "get_secret_value": get_secret_value,
    "create_secret": create_secret,
    "delete_secret": delete_secret,
    "get_valid_secrets_for_repo": get_valid_secrets_for_repo,
}


def _patch_secrets(module) -> None:
    # Mage's own functions still in place (all of them at first, again after a reload).
    originals = {name: getattr(module, name) for name, function in _SECRETS_FUNCTIONS.items()
                 if getattr(module, name, function) is not function}
    if not originals:
        return
    for name, function in _SECRETS_FUNCTIONS.items():
        setattr(module, name, function)
    module.__mage_vault_originals__ = {**getattr(module, "__mage_vault_originals__", {}), **originals}
    # Anyone who copied a name before this patch (only possible when install() runs late).
    _rebind(originals)


def _patch_resource(module) -> None:
    resource = getattr(module, "SecretResource", None)
    if resource is None or getattr(resource, "__mage_vault__", False):
        return
    resource.create = classmethod(_resource_create)
    resource.member = classmethod(_resource_member)
    resource.update = _resource_update
    resource.delete = _resource_delete
    resource.__mage_vault__ = True
    secrets = sys.modules.get(SECRETS_MODULE)
    if secrets is not None:  # its own copies of the names, if it was imported before the patch
        _rebind(getattr(secrets, "__mage_vault_originals__", {}))


def _rebind(originals: Dict[str, Callable]) -> None:
    by_identity = {id(function): _SECRETS_FUNCTIONS[name] for name, function in originals.items()}
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if not namespace or getattr(module, "__name__", "") == __name__:
            continue
        for key, value in list(namespace.items()):
            replacement = by_identity.get(id(value))  # the originals are alive: ids are theirs
            if replacement is not None:
                namespace[key] = replacement


_PATCHES: Dict[str, Callable] = {SECRETS_MODULE: _patch_secrets, RESOURCE_MODULE: _patch_resource}


class _PatchingLoader(importlib.abc.Loader):
    """Runs the real loader, then the patch, before the import statement returns."""

    def __init__(self, loader, patch: Callable):
        self._loader = loader
        self._patch = patch

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        try:
            self._patch(module)
        except Exception as error:  # the host must still start; say so on stderr
            print(f"mage_vault: could not patch {module.__name__}: {error}", file=sys.stderr)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _MageWatcher(importlib.abc.MetaPathFinder):
    """First on `sys.meta_path`: finds the two watched modules with the finders after it
    and hands back their spec with a patching loader."""

    def find_spec(self, fullname, path, target=None):
        patch = _PATCHES.get(fullname)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _PatchingLoader(spec.loader, patch)
        return spec


def install() -> None:
    """Makes Mage's secret functions and its secrets API use the vault in this process.
    Idempotent. Before Mage is imported (as the `.pth` hook does) it only installs the
    import hook; after, it also patches the loaded modules in place."""
    global _installed
    with _install_lock:
        if _installed:
            return
        if not any(isinstance(finder, _MageWatcher) for finder in sys.meta_path):
            sys.meta_path.insert(0, _MageWatcher())
        for name, patch in _PATCHES.items():
            module = sys.modules.get(name)
            if module is not None:
                patch(module)
        _installed = True


def _start() -> None:
    """The `.pth` hook's entry: installs when the switch is on, never raises."""
    try:
        if enabled():
            install()
    except Exception as error:
        print(f"mage_vault: the Mage backend is not installed: {error}", file=sys.stderr)
