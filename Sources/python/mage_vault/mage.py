"""The vault as Mage's own secrets backend: Mage's `get_secret_value`, `create_secret`,
`delete_secret`, its secret listing and its `/api/secrets` handler read and write the
vault, with no edit to Mage or to the user's code.

How it gets in (docs/mage.md, "Using it from Mage", says it at length):

- The wheel installs `mage_vault_mage.pth` and `_mage_vault_hook.py` into site-packages.
  The `.pth` line imports `_mage_vault_hook` at every Python start, which puts a finder
  first on `sys.meta_path` and does nothing else (no file, no variable, no other module):
  the finder answers None at once for every name but Mage's two secrets modules.
- When `mage_ai.data_preparation.shared.secrets` or `mage_ai.api.resources.SecretResource`
  is imported, the finder lets the normal loader execute it, then decides the backend
  (once per process) and, for the vault, imports this module and `patch`es the module
  before the import returns (ddtrace's `ModuleWatchdog` pattern). A dozen Mage modules
  `from ... import get_secret_value`: all of them run after the patch, so every one binds
  the vault's function. `install()` called after Mage is loaded patches the modules in
  place and rebinds every module global that still holds an original.
- Which backend: `MAGE_SECRETS_BACKEND=mage-vault` is the vault, `MAGE_SECRETS_BACKEND=mage`
  is Mage's database; unset or empty, a data dir whose `secrets/` holds `vault.log` or
  `vault.key` uses the vault, any other Mage's database. The value is matched exactly:
  anything else (`Mage-Vault`, ` mage-vault `) gets one line on stderr and the data dir
  decides. `_mage_vault_hook`'s docstring has the details.
- The API's `SecretResource` works on `Secret` rows: its listing calls
  `get_valid_secrets_for_repo`, and `member`, `update` and `delete` query and change rows.
  Here they return and act on `Secret` objects that are never added to Mage's session:
  they carry a name (and an id derived from it) and never a value. `member` finds a name in
  any scope, as Mage's finds its row, and the delete acts in that scope; every route and
  argument of `/api/secrets` answers as Mage 0.9.80's does (see "SecretResource" below).

Behaviour kept from Mage: a lookup reads its own scope only; a missing secret (or a name
the vault can never hold, or a scope the vault never wrote) is `None` after Mage's warning
line on standard output (`suppress_warning=True` silences it).

Never a silent None: when the vault has no value for a name, Mage's own lookup (its
original `get_secret_value`, with its key and uuid files of the scope, its `Secret` rows
of that uuid and the global scope's legacy rows) is asked too. If Mage's database would
have answered, `NotMigratedError` is raised naming `mage-vault migrate`, so a pipeline
never goes on without its password because the secrets were not moved yet. A scope
without Mage's own `key` file (all of them, in a data dir that never held Mage's secrets)
ends that look-up before the database (Mage reads nothing there either). Should Mage's lookup fail (no database session, a database that does not
answer), that raises `VaultError` (class 6) too, as Mage's own function would: it is no
proof of absence. A delete removes the name from Mage's database too when it still holds
it there, so a secret deleted through Mage neither raises nor comes back with the next
migration.

Stricter than Mage, on purpose: a damaged vault or a wrong key raises `VaultError`
instead of reading as `None` (a pipeline must not run on with a missing password because
the file was tampered with); names with control characters, empty names, names over 255
bytes of UTF-8, and values over 1 MiB are refused by `create_secret` (`VaultError`, a 400
from the API), as every other way into the vault refuses them. Names with `/` or spaces
and empty values are held, as Mage holds them.
"""

from __future__ import annotations

import _thread
import os
import sys

import _mage_vault_hook as _hook

from . import _delete, _get, _list, _scope, _set
from ._native import VaultError, environ_bytes

__all__ = ["SWITCH", "ENABLED_VALUE", "DISABLED_VALUE", "NotMigratedError", "SecretExistsError", "enabled", "install",
           "installed", "patch", "get_secret_value", "create_secret", "delete_secret", "get_valid_secrets_for_repo"]

#: The environment variable that chooses the backend, and its two values (matched exactly).
SWITCH = _hook.SWITCH
ENABLED_VALUE = _hook.VAULT
DISABLED_VALUE = _hook.MAGE

SECRETS_MODULE = _hook.SECRETS_MODULE
RESOURCE_MODULE = _hook.RESOURCE_MODULE

# The vault's exit-code class for input it refuses (a name it can never hold, a value over 1 MiB).
_BAD_INPUT = 2
# ... and for "not there": the scope has no key file (Mage's uuid from before the switch, or
# a key not copied in), which Mage, missing its own key file, reads as no secrets too.
_NOT_FOUND = 1

_install_lock = _thread.allocate_lock()
_installed = False


class NotMigratedError(VaultError):
    """The vault has no such secret, but Mage's database holds one for that scope: its
    secrets have not been moved into the vault (class 1, not found, in `.code`)."""

    def __init__(self, name: str, project: str | None, pipeline: str | None):
        scope = ("the global scope" if project is None else f"project {project!r}" if pipeline is None
                 else f"pipeline {pipeline!r} of project {project!r}")
        super().__init__(
            f"the secret {name!r} is not in the vault, but Mage's database holds it for {scope}: run "
            "`mage-vault migrate` to move Mage's secrets into the vault (or set MAGE_SECRETS_BACKEND=mage to keep "
            "reading Mage's database). If it was deleted from the vault on purpose, delete it from Mage's "
            "database too (Mage's delete_secret, with MAGE_SECRETS_BACKEND=mage)", _NOT_FOUND)


def enabled() -> bool:
    """True when this process uses the vault for Mage's secrets (decided once, when Mage's
    secrets module is first imported; asking first imports it)."""
    return _hook.backend() == _hook.VAULT


def installed() -> bool:
    """True once Mage's secrets module or its API handler has been switched to the vault
    in this process."""
    return _installed


def _mage_secrets():
    """Mage's secrets module, or None when Mage is not importable here."""
    module = sys.modules.get(SECRETS_MODULE)
    if module is None:
        try:
            __import__(SECRETS_MODULE)
        except Exception:
            return None
        module = sys.modules[SECRETS_MODULE]
    return module


# Mage's data dir, kept for the cases where Mage's get_secrets_dir depends on nothing that can
# change under a running process: an absolute $MAGE_DATA_DIR (by its bytes), and an unset one
# (by $HOME) while no folder `~/.mage_data/secrets` exists, literally, under the current
# directory (Mage would use that one: it expands `~` only for a path that does not exist).
_data_dirs: dict = {}
_literal_default: list = []  # Mage's unexpanded default secrets folder, once known


def _data_dir() -> str | None:
    """Mage's data dir, resolved as Mage resolves it for its secrets folder."""
    value = environ_bytes(b"MAGE_DATA_DIR")
    if value:
        key = value if os.path.isabs(value) else None
    elif _literal_default and not os.access(_literal_default[0], os.F_OK):
        key = (environ_bytes(b"HOME"),)
    else:
        key = None
    if key is not None:
        known = _data_dirs.get(key)
        if known is not None:
            return known
    secrets = _mage_secrets()
    if secrets is None:  # Mage not importable here: the package's own default
        return None
    data_dir = os.path.dirname(secrets.get_secrets_dir(secrets.Entity.GLOBAL))
    if not value and not _literal_default:
        _literal_default.append(os.path.join(secrets.get_data_dir(), secrets.DEFAULT_MAGE_SECRETS_DIR))
    if key is not None:
        _data_dirs[key] = data_dir
    return data_dir


def _warn_missing(name: str, kwargs: dict) -> None:
    if not kwargs.get("suppress_warning", False):
        print(f"WARNING: Could not find secret value for secret {name}.")


def _original(function_name: str):
    """Mage's own function of that name (kept by the patch), or None without Mage."""
    secrets = _mage_secrets()
    if secrets is None:
        return None
    originals = getattr(secrets, "__mage_vault_originals__", {})
    if function_name in originals:
        return originals[function_name]
    function = getattr(secrets, function_name, None)
    return None if function is _SECRETS_FUNCTIONS[function_name] else function


def _mage_entity(project: str | None, pipeline: str | None):
    entity = sys.modules[SECRETS_MODULE].Entity
    return entity.GLOBAL if project is None else entity.PROJECT if pipeline is None else entity.PIPELINE


def _in_mages_database(name: str, project: str | None, pipeline: str | None, repo_name: str | None) -> bool:
    """Whether Mage's own lookup finds a value for `name` in this scope (its key and uuid
    files, its rows, its decryption; the value is dropped at once). Raises `VaultError`
    (class 6) when Mage's lookup fails (no database session, a database that does not
    answer): that is not a "no"."""
    original = _original("get_secret_value")
    if original is None:
        return False
    try:
        found = original(name, _mage_entity(project, pipeline), pipeline_uuid=pipeline, project_uuid=project,
                         repo_name=repo_name, suppress_warning=True)
    except Exception as error:
        raise VaultError(
            f"the secret {name!r} is not in the vault, and whether Mage's database still holds it for this scope "
            f"could not be checked ({type(error).__name__}: Mage's own lookup failed; is its database session "
            "started?); raised rather than read as None, as Mage's own function raises here", 6) from None
    return found is not None


# --- Mage's functions, over the vault (same names, arguments and defaults as 0.9.80) -------

def get_secret_value(
    name: str,
    entity=None,
    pipeline_uuid: str | None = None,
    project_uuid: str | None = None,
    repo_name: str | None = None,
    **kwargs,
) -> str | None:
    """Mage's `get_secret_value` over the vault: the value of `name` in exactly the scope
    `entity` names; `NotMigratedError` when the vault has none but Mage's database does;
    else None after Mage's warning. `repo_name` serves only that check of Mage's rows."""
    project, pipeline = _scope(entity, project_uuid, pipeline_uuid)
    try:
        value = _get(name, project, pipeline, _data_dir())
    except VaultError as error:
        if error.code not in (_BAD_INPUT, _NOT_FOUND):
            raise
        value = None  # a name the vault cannot hold, or a scope never written: no row here
    if value is None:
        if _in_mages_database(name, project, pipeline, repo_name):
            raise NotMigratedError(name, project, pipeline)
        _warn_missing(name, kwargs)
    return value


def create_secret(
    name: str,
    value: str,
    entity=None,
    project_uuid: str | None = None,
    pipeline_uuid: str | None = None,
    repo_name: str | None = None,
):
    """Mage's `create_secret` over the vault: stores `value` under `name` in the scope
    (creating its uuid and key files when missing), on disk before it returns. Returns a
    `Secret` object for Mage's API to present (name and id, no value), never saved."""
    project, pipeline = _scope(entity, project_uuid, pipeline_uuid)
    _set(name, value, project, pipeline, _data_dir())
    return _row(name, repo_name)


def delete_secret(
    name: str,
    entity=None,
    pipeline_uuid: str | None = None,
    project_uuid: str | None = None,
    repo_name: str | None = None,
    **kwargs,
) -> None:
    """Mage's `delete_secret` over the vault (a tombstone in the log), and of the row Mage's
    database still holds for the scope, if any; warns, as Mage does, when neither had it."""
    project, pipeline = _scope(entity, project_uuid, pipeline_uuid)
    try:
        deleted = _delete(name, project, pipeline, _data_dir())
    except VaultError as error:
        if error.code not in (_BAD_INPUT, _NOT_FOUND):
            raise
        deleted = False
    try:
        if _in_mages_database(name, project, pipeline, repo_name):
            _original("delete_secret")(name, _mage_entity(project, pipeline), pipeline_uuid=pipeline,
                                       project_uuid=project, repo_name=repo_name, suppress_warning=True)
            deleted = True
    except Exception as error:  # the vault's delete stands; a read of the name will say the rest
        print(f"mage_vault: {name!r} was not deleted from Mage's database, which may still hold it "
              f"({type(error).__name__})", file=sys.stderr)
    if not deleted and not kwargs.get("suppress_warning", False):
        print(f"WARNING: Could not find secret {name}")


def get_valid_secrets_for_repo(repo_names: list | None = None) -> list:
    """Mage's listing (the Secrets page, `GET /api/secrets`): the global scope's secrets as
    `Secret` objects carrying names only, sorted by name."""
    try:
        names = _list(None, None, _data_dir())
    except VaultError as error:
        if error.code != _NOT_FOUND:
            raise
        names = []  # no environment yet: Mage, without a key file, lists nothing too
    return [_row(name) for name in names]


def _row(name: str, repo_name: str | None = None):
    """A `Secret` model object that is never added to Mage's session: what Mage's API
    presents (`id`, `name`). The id is derived from the name, so it is the same in every
    listing and after a create."""
    import hashlib
    from mage_ai.orchestration.db.models.secrets import Secret
    row = Secret(name=name, repo_name=repo_name)
    row.id = int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=4).digest(), "big") & 0x7FFFFFFF
    return row


# --- SecretResource: the API's handler works on rows; these act on the vault instead --------
#
# What Mage 0.9.80's `/api/secrets` does, and so what these do (its SecretResource, SecretPolicy
# and the frontend's calls; Tests/mage/test_mage_api.py runs every route through a real server):
# - list: the global scope's secrets (Mage lists the rows its global key decrypts); `entity`,
#   `pipeline_uuid` and `project_uuid` in the query change nothing. The collection itself is
#   Mage's (git secrets filtered, `_limit`/`_offset`), over `get_valid_secrets_for_repo`.
# - create: `name`, `value`, `entity`, `pipeline_uuid` from the body, the project always the
#   server's own (`project_uuid` in the body is ignored). `entity` is exactly "project" or
#   "pipeline", else the global scope (Mage's `get_secrets_dir`: "PIPELINE" or "bogus" is
#   global). A pipeline without `pipeline_uuid` is Mage's "Missing values" error, and a name the
#   scope already holds is refused (Mage's unique row): both a 500, as Mage answers them.
# - detail (GET) and update (PUT) of a name: 403, the actions are disabled, once `member`
#   found the name; 404 when it did not.
# - delete: `member` is the first row of that name in the repository, whatever its scope (the
#   query's scope arguments never reach it), and the delete removes that one. Here: the first
#   scope holding the name, global, then the server's project and its pipelines, then other
#   projects (Mage takes the oldest row; a name held in one scope, the usual case, is the same
#   secret either way). A name only Mage's database holds is found and deleted there, as Mage does.

_ENTITY_KINDS = ("project", "pipeline")


class SecretExistsError(VaultError):
    """`POST /api/secrets` of a name its scope already holds: Mage's API refuses it (its
    unique row), so this refuses it too instead of overwriting the value (class 2)."""

    def __init__(self, name: str):
        super().__init__(f"a secret named {name!r} already exists in this scope; Mage's API does not replace "
                         "it: delete it first (DELETE /api/secrets/NAME)", _BAD_INPUT)


def _api_invalid(error: VaultError):
    from mage_ai.api.errors import ApiError
    return ApiError({**ApiError.RESOURCE_INVALID, "message": str(error)})


def _entity_name(project: str | None, pipeline: str | None) -> str:
    return "global" if project is None else "project" if pipeline is None else "pipeline"


def _api_scope(entity, project_uuid, pipeline_uuid) -> tuple[str | None, str | None]:
    """The scope Mage's own create_secret writes for these payload values (its missing-values
    check, then `get_secrets_dir`: "project" and "pipeline" exactly, anything else global)."""
    kind = entity if entity in _ENTITY_KINDS else None  # Entity is a str enum: Entity.PIPELINE == "pipeline"
    missing = []
    if kind is not None and not project_uuid:
        missing.append("project_uuid")
    if kind == "pipeline" and not pipeline_uuid:
        missing.append("pipeline_uuid")
    if missing:  # Mage's own exception and message (a 500 from the API, as Mage's is)
        raise Exception("Missing values for creating secret: {}.".format(", ".join(missing)))
    if kind is None:
        return None, None
    return (project_uuid, None) if kind == "project" else (project_uuid, pipeline_uuid)


def _holds(name: str, project: str | None, pipeline: str | None, data_dir: str | None) -> bool:
    try:
        return _get(name, project, pipeline, data_dir) is not None
    except VaultError as error:
        if error.code not in (_BAD_INPUT, _NOT_FOUND):
            raise
        return False


def _subfolders(path: str) -> list:
    try:
        return sorted(entry.name for entry in os.scandir(path) if entry.is_dir())
    except OSError:
        return []


def _scopes(data_dir: str, current_project: str | None):
    """Every scope of the data dir, in the order `member` looks: global, the server's project
    and its pipelines, then the other projects' (their folders under `secrets/projects/`)."""
    yield None, None
    projects = os.path.join(data_dir, "secrets", "projects")
    names = _subfolders(projects)
    if current_project:
        names = [current_project] + [name for name in names if name != current_project]
    for project in names:
        yield project, None
        for pipeline in _subfolders(os.path.join(projects, project, "pipelines")):
            yield project, pipeline


def _find(name: str) -> tuple[str | None, str | None] | None:
    """The first scope (see `_scopes`) whose vault holds `name`, or None."""
    from mage_ai.data_preparation.repo_manager import get_project_uuid
    data_dir = _data_dir()
    for project, pipeline in _scopes(data_dir, get_project_uuid()):
        if _holds(name, project, pipeline, data_dir):
            return project, pipeline
    return None


def _resource_create(cls, payload, user, **kwargs):
    from mage_ai.data_preparation.repo_manager import get_project_uuid
    name, value = payload.get("name"), payload.get("value")
    project, pipeline = _api_scope(payload.get("entity"), get_project_uuid(), payload.get("pipeline_uuid"))
    try:
        if name is None or value is None:  # Mage fails on its row or its encryption: a 500 too
            raise TypeError(f"a secret needs a {'name' if name is None else 'value'}")
        if _holds(name, project, pipeline, _data_dir()):
            raise SecretExistsError(name)
        row = create_secret(name, value, _entity_name(project, pipeline), project_uuid=project, pipeline_uuid=pipeline)
    except SecretExistsError:
        raise
    except VaultError as error:
        if error.code == _BAD_INPUT:
            raise _api_invalid(error) from None
        raise
    return cls(row, user, **kwargs)


def _resource_member(cls, pk, user, **kwargs):
    from mage_ai.api.errors import ApiError
    scope = _find(pk)
    if scope is not None:
        row = _row(pk)
        row.mage_vault_scope = scope  # a plain attribute, not a column: update and delete act there
        return cls(row, user, **kwargs)
    # Not in the vault: Mage's own lookup, for a name only its database still holds.
    from mage_ai.settings.repo import get_repo_path
    from mage_ai.orchestration.db.models.secrets import Secret
    model = Secret.query.filter(Secret.repo_name == get_repo_path(user=user), Secret.name == pk).first()
    if not model:
        raise ApiError(ApiError.RESOURCE_NOT_FOUND)
    return cls(model, user, **kwargs)


def _resource_update(self, payload, **kwargs):
    # Mage writes the new value into the row in clear text; here it is sealed in the vault.
    # (Mage's policy disables the update action: only code in Mage's process gets here.)
    scope = getattr(self.model, "mage_vault_scope", None)
    if scope is None:
        raise VaultError(f"the secret {self.model.name!r} is in Mage's database, not in the vault: run "
                         "`mage-vault migrate` before updating it", _NOT_FOUND)
    if "value" in payload:
        project, pipeline = scope
        try:
            create_secret(self.model.name, payload["value"], _entity_name(project, pipeline),
                          project_uuid=project, pipeline_uuid=pipeline)
        except VaultError as error:
            if error.code == _BAD_INPUT:
                raise _api_invalid(error) from None
            raise
    return self


def _resource_delete(self, **kwargs):
    scope = getattr(self.model, "mage_vault_scope", None)
    if scope is None:  # a row only Mage's database holds: Mage's own delete of it
        return self.model.delete()
    project, pipeline = scope
    delete_secret(self.model.name, _entity_name(project, pipeline), pipeline_uuid=pipeline, project_uuid=project,
                  suppress_warning=True)


# --- the patches ----------------------------------------------------------------------------

_SECRETS_FUNCTIONS = {
    "get_secret_value": get_secret_value,
    "create_secret": create_secret,
    "delete_secret": delete_secret,
    "get_valid_secrets_for_repo": get_valid_secrets_for_repo,
}


def _patch_secrets(module, rebind: bool) -> None:
    # Mage's own functions still in place (all of them at first, again after a reload).
    originals = {name: getattr(module, name) for name, function in _SECRETS_FUNCTIONS.items()
                 if getattr(module, name, function) is not function}
    if not originals:
        return
    for name, function in _SECRETS_FUNCTIONS.items():
        setattr(module, name, function)
    module.__mage_vault_originals__ = {**getattr(module, "__mage_vault_originals__", {}), **originals}
    if rebind:  # anyone who copied a name before this patch (only when install() runs late)
        _rebind(originals)


def _patch_resource(module, rebind: bool) -> None:
    resource = getattr(module, "SecretResource", None)
    if resource is None or getattr(resource, "__mage_vault__", False):
        return
    resource.create = classmethod(_resource_create)
    resource.member = classmethod(_resource_member)
    resource.update = _resource_update
    resource.delete = _resource_delete
    resource.__mage_vault__ = True
    secrets = sys.modules.get(SECRETS_MODULE)
    if rebind and secrets is not None:  # its own copies of the names, if it was imported before the patch
        _rebind(getattr(secrets, "__mage_vault_originals__", {}))


def _rebind(originals: dict) -> None:
    by_identity = {id(function): _SECRETS_FUNCTIONS[name] for name, function in originals.items()}
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if not namespace or getattr(module, "__name__", "") == __name__:
            continue
        for key, value in list(namespace.items()):
            replacement = by_identity.get(id(value))  # the originals are alive: ids are theirs
            if replacement is not None:
                namespace[key] = replacement


_PATCHES = {SECRETS_MODULE: _patch_secrets, RESOURCE_MODULE: _patch_resource}


def patch(module) -> None:
    """Switches one of Mage's two secrets modules, just executed, to the vault (the start-up
    hook's call). No other module can have copied its names yet: nothing is rebound."""
    global _installed
    _PATCHES[module.__name__](module, False)
    _installed = True


def install() -> None:
    """Makes Mage's secret functions and its secrets API use the vault in this process,
    whatever `MAGE_SECRETS_BACKEND` or the data dir says. Idempotent. Before Mage is
    imported it only makes the start-up hook choose the vault; after, it also patches the
    loaded modules in place and rebinds the names other modules copied from them."""
    global _installed
    with _install_lock:
        if _installed:
            return
        _hook.use_vault()
        _hook.install()
        for name, patch_module in _PATCHES.items():
            module = sys.modules.get(name)
            if module is not None:
                patch_module(module, True)
        _installed = True
