"""`python -m mage_vault.migrate`: every secret of a Mage install into the vault, read with
Mage's own code, in Mage's own Python.

    python -m mage_vault.migrate --dry-run        # what would move: scope, name, size
    python -m mage_vault.migrate                  # move it
    python -m mage_vault.migrate --rename $'tab\\tname=tab name'

Run it where Mage runs (its virtualenv or Docker image, the same MAGE_DATA_DIR,
MAGE_REPO_PATH and MAGE_DATABASE_CONNECTION_URL): what is Mage-specific is Mage's own code.

- **The database** is the one `mage_ai.orchestration.db` connects to: the
  MAGE_DATABASE_CONNECTION_URL (sqlite:///, postgresql://, mysql://, or `--database`), else
  Mage's DB_USER/… Postgres settings, else Mage's default SQLite file for the project
  (`<data dir>/<repo name>/mage-ai.db`). It is only read, with one SELECT of the `secret`
  table through Mage's `Secret` model and session: a SQLite file is opened through a
  read-only URI (`file:…?mode=ro`), Postgres and MySQL in a READ ONLY transaction, and no
  table is created, no migration run, nothing committed. A SQLite path must be a regular
  file (a FIFO would hang the open; it is refused first).
- **The scopes and keys** are Mage's: `get_secrets_dir` for each folder (global, each
  `projects/P`, each `projects/P/pipelines/Q`) and `_get_encryption_key` for its `key`
  (stripped) and `uuid` (as read). A row belongs to a scope when its `key_uuid` equals the
  uuid as read or stripped, as `Secret.get_secret` compares them; its value is what
  `Fernet(key).decrypt(value.encode()).decode()` gives, as in `get_secret_value`, with the
  global scope's fallback to legacy rows (no key_uuid) of Mage's repo path. A scope folder
  that is a symbolic link (or under one) is skipped: the vault would write its key where
  the link points, outside the data dir.
- **The vault** is written through the C interface (`mgv_open` with the exact-scope flag,
  one `mgv_import` per scope: all or nothing). Values the vault already holds are not
  written again, so a second run writes nothing; a dry run opens nothing for writing.
  Values cross only in memory: never in argv, the environment, a file or the output.
  Each scope's vault key is its own `vault.key` beside Mage's `key` ($MAGE_VAULT_KEY and
  $MAGE_VAULT_KEY_FILE do not apply), under Mage's uuid, which the vault adopts when it is
  Mage's spelling (32 lowercase hex digits, a trailing newline allowed; another scope is
  skipped with its reason). While another process holds the vault's lock, a line on
  standard error says that migrate waits for it. In this process Mage's secrets module
  stays Mage's own (MAGE_SECRETS_BACKEND=mage), whatever the Mage backend's hook would pick.

Every row that is not carried over is listed with its reason. Output escapes what it
prints from Mage (names, folders, uuids, paths) as Python's repr does, so a name holding
a terminal escape sequence shows as `'\\x1b[31m'`, never as colour.

Exit codes are `mage-vault`'s: 0 done (rows left behind are listed, not failures); 1 no
Mage database or secrets folder; 2 bad arguments or input (not a Mage database, a FIFO,
a bad --rename), nothing written; 3 wrong vault key; 4 damaged vault (the vault only,
never Mage's database); 5 permission; 6 other I/O, including a database that is locked or
does not answer.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import ctypes
import fcntl
import os
import stat
import sys
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ._native import VaultError, c_string, has_import, load

# mage-vault's exit-code classes (3 wrong key and 4 damaged vault come from the library's errors).
EXIT_NOT_FOUND, EXIT_USAGE, EXIT_PERMISSION, EXIT_IO = 1, 2, 5, 6

#: The vault's limits (SecretName and SecretValue in the Swift library).
NAME_MAXIMUM_BYTES = 255
VALUE_MAXIMUM_BYTES = 1 << 20

DATABASE_URL_VARIABLE = "MAGE_DATABASE_CONNECTION_URL"


class MigrationFailure(Exception):
    """Why the migration stopped, with the exit code of its class. The message names files
    and says what to do next; it never holds a value."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


# --- Text a terminal can show -------------------------------------------------------------

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\", "'": "\\'"}


def quoted(text: str) -> str:
    """`text` in single quotes with what a terminal would act on escaped as Python's repr
    escapes it (control characters, DEL, C1, bidirectional overrides, lone surrogates:
    everything `str.isprintable` refuses but the space), and quotes and backslashes too."""
    out = ["'"]
    for character in text:
        if character in _ESCAPES:
            out.append(_ESCAPES[character])
        elif character == " " or character.isprintable():
            out.append(character)
        else:
            code = ord(character)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    out.append("'")
    return "".join(out)


def printable(text: str) -> str:
    """`text` with what a terminal would act on escaped as `quoted` escapes it, and nothing
    else (no quotes added): for messages of the library and the database driver, which may
    carry a path or a name as they got it."""
    return "".join(character if character == " " or character.isprintable() else quoted(character)[1:-1]
                   for character in text)


# --- What the vault can hold ---------------------------------------------------------------

def name_refusal(name: str) -> Optional[str]:
    """Why the vault cannot hold the secret name `name` (SecretName's rules: 1 to 255 bytes
    of UTF-8, no C0, DEL or C1 control character), or None when it can."""
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        return "a secret name must be valid Unicode text"
    if size == 0:
        return "a secret name cannot be empty"
    if size > NAME_MAXIMUM_BYTES:
        return f"a secret name is at most {NAME_MAXIMUM_BYTES} bytes of UTF-8; this one is {size}"
    for position, character in enumerate(name, 1):
        code = ord(character)
        if code < 0x20 or 0x7F <= code <= 0x9F:
            return f"a secret name cannot contain control characters; character {position} is U+{code:04X}"
    return None


def folder_refusal(name: str) -> Optional[str]:
    """Why the vault cannot name a project or pipeline `name` (Scope.validated: a folder
    name of 1 to 255 bytes of UTF-8, no '/', not '.' or '..', no control character)."""
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        return "the folder name is not UTF-8, which the vault cannot name a scope with"
    if size == 0 or size > 255 or name in (".", "..") or "/" in name or any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return "the vault cannot name a project or pipeline so (a folder name: no '/', not '.' or '..', no control characters)"
    return None


# --- Scopes --------------------------------------------------------------------------------

class Scope:
    """Global, a project or a pipeline of a project, as Mage's `Entity` and the vault's
    `mgv_open` (project, pipeline) name them."""

    __slots__ = ("project", "pipeline")

    def __init__(self, project: Optional[str] = None, pipeline: Optional[str] = None):
        self.project = project
        self.pipeline = pipeline

    def __eq__(self, other) -> bool:
        return isinstance(other, Scope) and (self.project, self.pipeline) == (other.project, other.pipeline)

    def __hash__(self) -> int:
        return hash((self.project, self.pipeline))

    @property
    def relative(self) -> Tuple[str, ...]:
        """The folders below `secrets/`."""
        if self.project is None:
            return ()
        if self.pipeline is None:
            return ("projects", self.project)
        return ("projects", self.project, "pipelines", self.pipeline)

    def __str__(self) -> str:
        if self.project is None:
            return "global"
        if self.pipeline is None:
            return f"project {quoted(self.project)}"
        return f"pipeline {quoted(self.pipeline)} of project {quoted(self.project)}"


class MageScope:
    """One scope folder of the data dir as Mage reads it: `key` (stripped) and `uuid` (as
    read, universal newlines), and the Fernet Mage would build from the key; `problem` says
    why the scope cannot be read or written (then every row of it is left behind)."""

    def __init__(self, scope: Scope, directory: str, key: Optional[str], uuid: Optional[str], fernet=None,
                 problem: Optional[str] = None):
        self.scope = scope
        self.directory = directory
        self.key = key
        self.uuid = uuid
        self.fernet = fernet
        self.problem = problem

    def uuids(self) -> List[str]:
        """The key_uuid values `Secret.get_secret` matches: the uuid as read and stripped.
        None when Mage makes no uuid lookup here (no uuid file, or an empty one)."""
        if not self.uuid:
            return []
        stripped = self.uuid.strip()
        return [self.uuid] if stripped == self.uuid else [self.uuid, stripped]


def _regular_file_problem(path: str) -> Optional[str]:
    """Why `path` is not a file Mage's `open(path).read()` can read without hanging (a FIFO,
    a device), or None when it is a regular file or absent."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"{quoted(path)} cannot be examined: {error.strerror}"
    if not stat.S_ISREG(mode):
        return f"{quoted(path)} is not a regular file"
    return None


def _uuid_problem(path: str) -> Optional[str]:
    """Why the vault cannot adopt the uuid file at `path` as the scope's uuid, or None: it
    takes Mage's spelling, 32 lowercase hex digits with at most one newline after (Mage
    itself compares any text, stripped or not)."""
    try:
        with open(path, "rb") as file:
            raw = file.read(128)
    except OSError:
        return None
    digits = raw[:-1] if raw.endswith(b"\n") else raw
    if len(digits) == 32 and all(byte in b"0123456789abcdef" for byte in digits):
        return None
    return (f"{quoted(path)} holds {quoted(raw.decode('utf-8', 'replace'))}, not a uuid as Mage writes it (32 lowercase "
            "hex digits, at most one newline after): the vault cannot adopt it; migrate skips the scope")


def read_scopes(secrets_directory: str, data_directory: str) -> List[MageScope]:
    """Every scope folder of the data dir that has a key or a uuid file, global first, then
    projects and their pipelines in name order, each read with Mage's `_get_encryption_key`.
    Only reads."""
    from cryptography.fernet import Fernet

    from mage_ai.data_preparation.shared.secrets import _get_encryption_key, get_secrets_dir
    from mage_ai.orchestration.constants import Entity

    real_secrets = os.path.join(os.path.realpath(data_directory), "secrets")
    found: List[MageScope] = []

    def add(scope: Scope) -> None:
        if scope.pipeline is not None:
            entity = Entity.PIPELINE
        elif scope.project is not None:
            entity = Entity.PROJECT
        else:
            entity = Entity.GLOBAL
        directory = get_secrets_dir(entity, project_uuid=scope.project, pipeline_uuid=scope.pipeline)
        key_file, uuid_file = os.path.join(directory, "key"), os.path.join(directory, "uuid")
        if not (os.path.lexists(key_file) or os.path.lexists(uuid_file)):
            return
        # The vault writes its key beside Mage's: a folder reached through a link would put it
        # outside the data dir. Its rows are still attributed to it (the uuid is only read).
        real = os.path.realpath(directory)
        expected = os.path.join(real_secrets, *scope.relative)
        problem = None
        if real != expected:
            problem = (f"the folder {quoted(directory)} is a symbolic link (or lies under one) to {quoted(real)}: the vault "
                       "would write its key there, outside the data dir; migrate skips it (replace the link by the folder, "
                       "or run migrate for the data dir it points into)")
        for part in (scope.project, scope.pipeline):
            if problem is None and part is not None:
                refusal = folder_refusal(part)
                if refusal:
                    problem = refusal
        for path in (key_file, uuid_file):
            unreadable = _regular_file_problem(path)
            if unreadable:
                found.append(MageScope(scope, directory, None, None, problem=unreadable + ": Mage cannot read it either"))
                return
        key, uuid = _get_encryption_key(entity, project_uuid=scope.project, pipeline_uuid=scope.pipeline)
        fernet = None
        if problem is None and uuid is not None:
            problem = _uuid_problem(uuid_file)
        if problem is None:
            if os.path.lexists(key_file) and key is None:
                problem = f"{quoted(key_file)} cannot be read (permission or encoding), so Mage reads nothing here"
            elif not key:
                problem = "the folder has a uuid file but no key file (or an empty one): Mage cannot read it either"
            else:
                try:
                    fernet = Fernet(key)
                except (ValueError, TypeError, binascii.Error):
                    problem = (f"{quoted(key_file)} is not a Fernet key (the URL-safe base64 of 32 bytes): "
                               "Mage raises an error on every secret of this scope")
        found.append(MageScope(scope, directory, key, uuid, fernet, problem))

    def folders(path: str) -> List[str]:
        try:
            names = os.listdir(path)
        except OSError:
            return []
        return sorted(name for name in names if os.path.isdir(os.path.join(path, name)))

    add(Scope())
    projects = os.path.join(secrets_directory, "projects")
    for project in folders(projects):
        add(Scope(project))
        for pipeline in folders(os.path.join(projects, project, "pipelines")):
            add(Scope(project, pipeline))
    return found


# --- The plan ------------------------------------------------------------------------------

class Row:
    """One row of Mage's `secret` table as stored (value: the Fernet token, or None)."""

    __slots__ = ("id", "name", "value", "repo_name", "key_uuid")

    def __init__(self, id: int, name: str, value: Optional[str], repo_name: Optional[str], key_uuid: Optional[str]):
        self.id, self.name, self.value, self.repo_name, self.key_uuid = id, name, value, repo_name, key_uuid


class Planned:
    """A value Mage returns, on its way into the vault; `change` is filled in against the
    vault: 'new', 'changed' or 'unchanged'. Its str never shows the value."""

    __slots__ = ("scope", "name", "mage_name", "row", "value", "change")

    def __init__(self, scope: Scope, name: str, mage_name: str, row: int, value: bytes):
        self.scope, self.name, self.mage_name, self.row, self.value = scope, name, mage_name, row, value
        self.change = "new"

    def __repr__(self) -> str:
        return f"<{self.scope}: {quoted(self.name)} ({len(self.value)} bytes, row {self.row})>"


class Refused:
    """A row left behind, and why."""

    __slots__ = ("row", "name", "scope", "reason")

    def __init__(self, row: int, name: str, scope: Optional[Scope], reason: str):
        self.row, self.name, self.scope, self.reason = row, name, scope, reason

    def __str__(self) -> str:
        where = f" ({self.scope})" if self.scope is not None else ""
        return f"row {self.row} {quoted(self.name)}{where}: {self.reason}"


class Plan:
    """What migrate would do: the values to carry per scope (scopes in write order), every
    row left behind, and every scope folder skipped."""

    def __init__(self):
        self.secrets: Dict[Scope, List[Planned]] = {}
        self.refused: List[Refused] = []
        self.skipped: List[Tuple[Scope, str]] = []
        self.repository: Optional[str] = None


_NOT_A_TOKEN = "not a Fernet token: stored in plain text (Mage's PUT with authentication off); Mage cannot read it"
_HMAC_FAILS = "the token's HMAC does not verify under the scope's key (another key's, or altered); Mage skips it"
_BAD_PADDING = "the token's padding is wrong after its HMAC verified; Mage skips it"
_NULL = "the value is NULL: Mage's lookup raises an error on it"
_NOT_UTF8 = "the value is not UTF-8: Mage's lookup raises an error on it"


def _why_invalid(token: str, key: str) -> str:
    """Which of Fernet's refusals `token` met (cryptography says only InvalidToken)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, hmac

    try:
        data = base64.urlsafe_b64decode(token.encode("utf-8"))
    except (binascii.Error, ValueError):
        return _NOT_A_TOKEN
    if len(data) < 1 + 8 + 16 + 32 or data[0] != 0x80:
        return _NOT_A_TOKEN
    signer = hmac.HMAC(base64.urlsafe_b64decode(key)[:16], hashes.SHA256())
    signer.update(data[:-32])
    try:
        signer.verify(data[-32:])
    except InvalidSignature:
        return _HMAC_FAILS
    return _BAD_PADDING


def open_row(row: Row, mage: MageScope) -> Tuple[Optional[str], Optional[str], bool]:
    """(value, None, _) as Mage's `fernet.decrypt(value.encode('utf-8')).decode('utf-8')`
    gives it, or (None, reason, raises): `raises` when Mage's lookup raises an error there
    instead of going on to the legacy rows."""
    from cryptography.fernet import InvalidToken

    if row.value is None:
        return None, _NULL, True
    try:
        plaintext = mage.fernet.decrypt(row.value.encode("utf-8"))
    except InvalidToken:
        return None, _why_invalid(row.value, mage.key), False
    except UnicodeEncodeError:
        return None, _NOT_A_TOKEN, False
    try:
        return plaintext.decode("utf-8"), None, False
    except UnicodeDecodeError:
        return None, _NOT_UTF8, True


def _by_name(rows: Iterable[Row]) -> Dict[str, List[Row]]:
    grouped: Dict[str, List[Row]] = {}
    for row in rows:
        grouped.setdefault(row.name, []).append(row)
    return grouped


def make_plan(scopes: Sequence[MageScope], rows: Sequence[Row], repository: Optional[str],
              renames: Dict[str, str]) -> Plan:
    """Works out, without writing anything, what Mage's `get_secret_value(name, entity,
    project_uuid, pipeline_uuid)` returns for every name of every scope, and why every other
    row is unreadable. Linear in the rows: they are grouped by key_uuid and name once.
    `repository` is the repo_name whose legacy rows the global scope falls back to."""
    plan = Plan()
    plan.repository = repository
    by_uuid: Dict[str, List[Row]] = {}
    legacy_by_repository: Dict[Optional[str], List[Row]] = {}
    for row in rows:
        if row.key_uuid is None:
            legacy_by_repository.setdefault(row.repo_name, []).append(row)
        else:
            by_uuid.setdefault(row.key_uuid, []).append(row)
    refused: Dict[int, Refused] = {}
    used = set()
    renames_used = set()

    def refuse(row: Row, scope: Optional[Scope], reason: str) -> None:
        if row.id not in refused:
            refused[row.id] = Refused(row.id, row.name, scope, reason)

    global_readable = False
    for mage in scopes:
        own_rows: List[Row] = []
        for uuid in mage.uuids():
            own_rows.extend(by_uuid.get(uuid, ()))
        if mage.problem is not None:
            plan.skipped.append((mage.scope, mage.problem))
            for row in own_rows:
                refuse(row, mage.scope, mage.problem)
            continue
        if mage.scope.project is None:
            global_readable = True
        own = _by_name(sorted(own_rows, key=lambda row: row.id))
        legacy = _by_name(legacy_by_repository.get(repository, ())) if mage.scope.project is None and repository is not None else {}
        first_row = {name: matches[0].id for name, matches in own.items()}
        for name, matches in legacy.items():
            first_row.setdefault(name, matches[0].id)
        vault_names: Dict[str, int] = {}
        planned: List[Planned] = []
        for name in sorted(first_row, key=first_row.get):
            matches, legacy_matches = own.get(name, []), legacy.get(name, [])
            if len(matches) > 1:
                ids = ", ".join(str(row.id) for row in matches)
                for row in matches + legacy_matches:
                    refuse(row, mage.scope, f"rows {ids} all answer this name, so Mage's lookup raises an error instead of returning a value")
                continue
            found: Optional[Tuple[Row, str]] = None
            raised_on: Optional[Row] = None
            if matches:
                value, reason, raises = open_row(matches[0], mage)
                if reason is None:
                    found = (matches[0], value)
                else:
                    refuse(matches[0], mage.scope, reason)
                    if raises:
                        raised_on = matches[0]
            if raised_on is not None:
                for row in legacy_matches:
                    refuse(row, mage.scope, f"legacy row: Mage's lookup raises on row {raised_on.id} of the same name before reaching it")
                continue
            if found is None and legacy_matches:
                if len(legacy_matches) > 1:
                    ids = ", ".join(str(row.id) for row in legacy_matches)
                    for row in legacy_matches:
                        refuse(row, mage.scope, f"legacy rows {ids} all answer this name, so Mage's lookup raises an error instead of returning a value")
                else:
                    value, reason, _ = open_row(legacy_matches[0], mage)
                    if reason is None:
                        found = (legacy_matches[0], value)
                    else:
                        refuse(legacy_matches[0], mage.scope, reason)
            elif found is not None:
                for row in legacy_matches:
                    refuse(row, mage.scope, f"legacy duplicate: Mage returns row {found[0].id} of the same name instead")
            if found is None:
                continue
            row, value = found
            vault_name = renames.get(row.name, row.name)
            if row.name in renames:
                renames_used.add(row.name)
            refusal = name_refusal(vault_name)
            if refusal:
                refuse(row, mage.scope, refusal + "; carry it over with --rename 'OLD=NEW'")
                continue
            data = value.encode("utf-8")
            if len(data) > VALUE_MAXIMUM_BYTES:
                refuse(row, mage.scope, f"the value is {len(data)} bytes; a secret value is at most {VALUE_MAXIMUM_BYTES} bytes (1 MiB)")
                continue
            if vault_name in vault_names:
                raise MigrationFailure(f"--rename makes rows {vault_names[vault_name]} and {row.id} one secret {quoted(vault_name)} "
                                       f"in {mage.scope}; nothing was written", EXIT_USAGE)
            vault_names[vault_name] = row.id
            used.add(row.id)
            planned.append(Planned(mage.scope, vault_name, row.name, row.id, data))
        plan.secrets[mage.scope] = planned
    unused = sorted(set(renames) - renames_used)
    if unused:
        raise MigrationFailure(f"--rename {quoted(unused[0])}: no secret Mage returns has that name; nothing was written", EXIT_USAGE)
    several_repositories = len(legacy_by_repository) > 1
    for row in rows:
        if row.id in used or row.id in refused:
            continue
        if row.key_uuid is not None:
            refuse(row, None, f"key_uuid {quoted(row.key_uuid)} is no scope's of this data dir: another environment's (its own "
                              "migrate carries it) or a scope whose folder is gone (Mage cannot read it either)")
        elif not global_readable:
            refuse(row, Scope(), "legacy row (no key_uuid), and the global scope has no readable key: Mage cannot read it either")
        elif repository is None:
            refuse(row, None, "legacy row (no key_uuid), and no repo_name was chosen: pass --repo REPO_PATH")
        else:
            hint = "; --repo picks the project" if several_repositories else ""
            refuse(row, None, f"legacy row (no key_uuid) of another project, repo_name "
                              f"{quoted(row.repo_name) if row.repo_name is not None else 'NULL'}{hint}")
    plan.refused = sorted(refused.values(), key=lambda refusal: refusal.row)
    return plan


# --- Mage's database -----------------------------------------------------------------------

def _sqlite_database_path(url) -> Optional[str]:
    """The file a sqlite URL names (None for an in-memory database)."""
    from urllib.parse import unquote, urlsplit

    database = url.database
    if not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return unquote(urlsplit(database).path)
    return database


def _mage_postgres_url() -> Optional[str]:
    """Mage's `get_postgres_connection_url` (its DB_USER, DB_PASS… settings), loaded from its
    file alone: importing `mage_ai.orchestration.db.setup` the usual way would first run the
    package's `__init__`, which connects at import time, before the read-only URL is set
    (and, for SQLite, creates the database file when it is missing)."""
    import importlib.util

    import mage_ai.orchestration

    path = os.path.join(os.path.dirname(mage_ai.orchestration.__file__), "db", "setup.py")
    specification = importlib.util.spec_from_file_location("_mage_vault_mage_db_setup", path)
    module = importlib.util.module_from_spec(specification)
    specification.loader.exec_module(module)
    return module.get_postgres_connection_url()


def resolve_database_url(explicit: Optional[str]) -> str:
    """The URL Mage's `mage_ai.orchestration.db` connects with, decided as that module
    decides it (`--database` stands in for MAGE_DATABASE_CONNECTION_URL), without creating
    anything: Mage's `get_variables_dir` makes its folder when missing, which a read-only
    migration must not, so `os.makedirs` is a no-op while it runs."""
    if explicit:
        return explicit if "://" in explicit else "sqlite:///" + os.path.abspath(explicit)
    url = os.environ.get(DATABASE_URL_VARIABLE)
    if url:
        return url
    url = _mage_postgres_url()
    if url:
        return url
    if os.path.exists(os.path.join("mage_ai", "orchestration", "db")):
        return "sqlite:///mage_ai/orchestration/db/mage-ai.db"
    from mage_ai.settings import repo

    makedirs = os.makedirs
    os.makedirs = lambda *arguments, **options: None
    try:
        variables_dir = repo.get_variables_dir()
    finally:
        os.makedirs = makedirs
    return f"sqlite:///{variables_dir}/mage-ai.db"


def read_only_url(url_text: str) -> Tuple[str, str, Optional[str]]:
    """(the URL to hand Mage's module, how to show it, the SQLite file or None). A SQLite
    file must exist and be a regular file we may read; it is opened through a read-only
    URI. Other URLs are shown without their password."""
    from urllib.parse import quote

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(url_text)
    except (ArgumentError, ValueError):
        raise MigrationFailure(f"{DATABASE_URL_VARIABLE} (or --database) is not a database URL SQLAlchemy reads", EXIT_USAGE) from None
    shown = url.render_as_string(hide_password=True)
    try:  # Mage's module would fail on an unknown dialect or a missing driver in its own way
        dialect = url.get_dialect()
        (getattr(dialect, "import_dbapi", None) or dialect.dbapi)()
    except (ArgumentError, ImportError) as error:
        raise MigrationFailure(f"Mage cannot connect to {quoted(shown)}: {printable(str(error))}; install the database driver "
                               "Mage uses for it in this Python (as Mage's image has it: psycopg2 for PostgreSQL, "
                               "mysql-connector-python for MySQL); nothing was written", EXIT_USAGE) from None
    if url.get_backend_name() != "sqlite":
        return url_text, shown, None
    path = _sqlite_database_path(url)
    if path is None:
        raise MigrationFailure(f"{quoted(shown)} is an in-memory SQLite database: it holds no Mage secrets", EXIT_USAGE)
    path = os.path.abspath(path)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise MigrationFailure(f"no Mage database at {quoted(path)}: set {DATABASE_URL_VARIABLE} as Mage has it, "
                               "or pass --database FILE_OR_URL", EXIT_NOT_FOUND) from None
    except PermissionError:
        raise MigrationFailure(f"{quoted(path)}: permission denied; nothing was written", EXIT_PERMISSION) from None
    except OSError as error:
        raise MigrationFailure(f"{quoted(path)}: {error.strerror}; nothing was written", EXIT_IO) from None
    try:
        mode = os.fstat(descriptor).st_mode
    finally:
        os.close(descriptor)
    if not stat.S_ISREG(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise MigrationFailure(f"{quoted(path)} is {kind}, not a SQLite database file; nothing was read or written", EXIT_USAGE)
    query = dict(url.query)
    query.update(mode="ro", uri="true")
    read_only = url.set(database="file:" + quote(path), query=query)
    return read_only.render_as_string(hide_password=False), path, path


def _database_failure(error: Exception, shown: str) -> MigrationFailure:
    """A database error as a MigrationFailure: a database that is not Mage's is bad input
    (2); a locked database, a refused connection or any other failure is I/O (6), never
    'damaged' (4 is the vault's)."""
    from sqlalchemy import exc

    original = getattr(error, "orig", None) or error
    message = printable(" ".join(str(original).split())) or type(original).__name__
    password = None
    try:
        from sqlalchemy.engine import make_url

        password = make_url(os.environ.get(DATABASE_URL_VARIABLE, "")).password
    except Exception:
        pass
    if password:
        message = message.replace(str(password), "…")
    lowered = message.lower()
    if isinstance(error, exc.ProgrammingError) or "no such table" in lowered or "file is not a database" in lowered:
        return MigrationFailure(f"{quoted(shown)} is not a Mage database ({message}); point {DATABASE_URL_VARIABLE} "
                                "or --database at the one Mage uses; nothing was written", EXIT_USAGE)
    if "locked" in lowered or "busy" in lowered:
        return MigrationFailure(f"{quoted(shown)}: {message} (another process is writing to it); nothing was written: "
                                "run migrate again once it is done", EXIT_IO)
    return MigrationFailure(f"{quoted(shown)}: {message}; nothing was written", EXIT_IO)


def read_rows(shown: str) -> List[Row]:
    """Every row of Mage's `secret` table in id order: one SELECT through Mage's `Secret`
    model and session, in a read-only transaction that is rolled back, never committed."""
    from sqlalchemy import exc, text

    from mage_ai.orchestration.db import db_connection
    from mage_ai.orchestration.db.models.secrets import Secret

    try:
        db_connection.start_session()
        session = db_connection.session
        backend = session.get_bind().dialect.name
        if backend in ("postgresql", "mysql", "mariadb"):
            session.execute(text("SET TRANSACTION READ ONLY"))
        query = session.query(Secret.id, Secret.name, Secret.value, Secret.repo_name, Secret.key_uuid).order_by(Secret.id)
        rows = [Row(*columns) for columns in query]
        session.rollback()
        return rows
    except exc.SQLAlchemyError as error:
        raise _database_failure(error, shown) from None


# --- The vault -----------------------------------------------------------------------------

def _lock_path(data_directory: str, vault_file: Optional[str]) -> str:
    """The vault's lock file: `<log, links resolved>.lock`, as the library names it."""
    log = vault_file or os.environ.get("MAGE_VAULT_FILE") or os.path.join(data_directory, "secrets", "vault.log")
    return os.path.realpath(log) + ".lock"


def lock_is_held(lock_path: str, exclusive: bool) -> bool:
    """Whether another process holds the vault's lock so that we would wait for it now (an
    exclusive holder for a reader, any holder for a writer). Opens the lock file without
    creating it and lets go at once."""
    try:
        descriptor = os.open(lock_path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    else:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        return False
    finally:
        os.close(descriptor)


def _vault_failure(error: VaultError, what: str) -> MigrationFailure:
    return MigrationFailure(f"{what}: {printable(str(error))}", error.code or EXIT_IO)


class ScopeVault:
    """One scope of the vault opened through the C interface with the exact-scope flag
    (Mage reads a scope's own values only), and with the create flag unless `read_only`:
    the scope's vault key is made by its first write, not by opening."""

    def __init__(self, data_directory: str, vault_file: Optional[str], scope: Scope, read_only: bool):
        self.lib = load()
        self.new_scope = False  # the vault has no key for this scope yet (a Mage scope never written): nothing to read
        flags = self.lib.mgv_open_exact_scope() | (0 if read_only else self.lib.mgv_open_create())
        self.pointer = ctypes.c_void_p()
        arguments = (c_string(data_directory, "the data dir"), c_string(vault_file, "the vault file") if vault_file else None,
                     c_string(scope.project, "the project") if scope.project is not None else None,
                     c_string(scope.pipeline, "the pipeline") if scope.pipeline is not None else None)
        if self.lib.mgv_open(*arguments, None, flags, ctypes.byref(self.pointer)) != 0:
            error = self._error()
            if read_only and error.code == EXIT_NOT_FOUND:
                self.pointer, self.new_scope = None, True
                return
            raise error

    def _error(self) -> VaultError:
        message = (self.lib.mgv_last_error() or b"").decode("utf-8", "replace")
        return VaultError(message, self.lib.mgv_last_error_code() or EXIT_IO)

    def value(self, name: str) -> Optional[bytes]:
        """The scope's own value of `name` as bytes, or None."""
        if self.new_scope:
            return None
        value = ctypes.POINTER(ctypes.c_uint8)()
        length = ctypes.c_size_t()
        found = self.lib.mgv_get(self.pointer, c_string(name, "the secret name"), ctypes.byref(value), ctypes.byref(length))
        if found < 0:
            error = self._error()
            if error.code == EXIT_NOT_FOUND:  # a writer's handle on a scope that has no vault key yet
                self.new_scope = True
                return None
            raise error
        if not found:
            return None
        try:
            return ctypes.string_at(value, length.value)
        finally:
            self.lib.mgv_free(value, length)

    def write(self, secrets: Sequence[Planned]) -> None:
        """Writes every one of `secrets` in one all-or-nothing commit (`mgv_import`)."""
        count = len(secrets)
        names = (ctypes.c_char_p * count)(*(c_string(secret.name, "the secret name") for secret in secrets))
        buffers = [ctypes.create_string_buffer(secret.value, len(secret.value)) for secret in secrets]
        values = (ctypes.POINTER(ctypes.c_uint8) * count)(*(ctypes.cast(buffer, ctypes.POINTER(ctypes.c_uint8)) for buffer in buffers))
        lengths = (ctypes.c_size_t * count)(*(len(secret.value) for secret in secrets))
        try:
            if self.lib.mgv_import(self.pointer, count, names, values, lengths) < 0:  # else: how many were set
                raise self._error()
        finally:
            for buffer in buffers:  # our copies of the values; Mage's strings are Python's to free
                ctypes.memset(buffer, 0, len(buffer))

    def close(self) -> None:
        if self.pointer is not None and self.pointer.value:
            self.lib.mgv_close(self.pointer)
            self.pointer = ctypes.c_void_p()


def compare_with_vault(plan: Plan, data_directory: str, vault_file: Optional[str], lock_path: str,
                       read_only: bool) -> Dict[Scope, ScopeVault]:
    """Marks each planned secret new, changed or unchanged against the scope's own values
    in the vault (compared as bytes), and returns the opened scopes (for the write)."""
    opened: Dict[Scope, ScopeVault] = {}
    announced = False
    for scope, secrets in plan.secrets.items():
        if not secrets:
            continue
        if not announced and lock_is_held(lock_path, exclusive=False):
            announce_wait(lock_path)
            announced = True
        try:
            vault = opened[scope] = ScopeVault(data_directory, vault_file, scope, read_only)
            for secret in secrets:
                current = vault.value(secret.name)
                secret.change = "new" if current is None else "unchanged" if current == secret.value else "changed"
        except VaultError as error:
            for vault in opened.values():
                vault.close()
            raise _vault_failure(error, f"reading {scope} of the vault failed; nothing was written") from None
    return opened


def announce_wait(lock_path: str) -> None:
    """Says on standard error that the vault's lock is held and that we wait for it."""
    print(f"mage-vault migrate: waiting for the vault's lock {quoted(lock_path)}: another process is using the vault; "
          "going on as soon as it lets go", file=sys.stderr, flush=True)


def write_plan(plan: Plan, opened: Dict[Scope, ScopeVault], lock_path: str) -> List[Scope]:
    """Writes each scope's new and changed values in one commit per scope, in plan order.
    A failure says which scopes were already written and that running again finishes."""
    written: List[Scope] = []
    lib = load()
    if not has_import(lib):
        raise MigrationFailure("this libmagevault has no mgv_import (an older build): migrate needs it to write each scope "
                               "all or nothing; nothing was written", EXIT_IO)
    for scope, secrets in plan.secrets.items():
        changed = [secret for secret in secrets if secret.change != "unchanged"]
        if not changed:
            continue
        if lock_is_held(lock_path, exclusive=True):
            announce_wait(lock_path)
        try:
            opened[scope].write(changed)
        except VaultError as error:
            if written:
                done = ", ".join(str(scope) for scope in written)
                summary = (f"already written, each in one all-or-nothing commit: {done}; nothing of {scope} or of a later "
                           "scope was written. Run migrate again to finish: what the vault already holds is not written twice")
            else:
                summary = "nothing was written"
            raise _vault_failure(error, f"writing {scope} to the vault failed ({summary})") from None
        written.append(scope)
    return written


# --- The report ----------------------------------------------------------------------------

def report(plan: Plan, database: str, repository_note: str, dry_run: bool) -> str:
    """What moved (or would) per scope, names and sizes only, then every scope skipped and
    every row left behind with its reason."""
    lines = [f"database {quoted(database)}"]
    if plan.repository is not None:
        lines.append(f"legacy rows of repo_name {quoted(plan.repository)}{repository_note}")
    verbs = {"new": "would add" if dry_run else "added", "changed": "would replace" if dry_run else "replaced",
             "unchanged": "unchanged"}
    total = scopes_written = 0
    for scope, secrets in plan.secrets.items():
        if not secrets:
            continue
        count = sum(secret.change != "unchanged" for secret in secrets)
        total += count
        scopes_written += count > 0
        lines.append("")
        lines.append(f"{scope}: {len(secrets)} secret{'s' if len(secrets) != 1 else ''}, {count} {'to write' if dry_run else 'written'}")
        for secret in secrets:
            renamed = f" (Mage's {quoted(secret.mage_name)})" if secret.name != secret.mage_name else ""
            lines.append(f"  {verbs[secret.change]:<13} {quoted(secret.name)}{renamed}  {len(secret.value)} bytes")
    if plan.skipped:
        lines.append("")
        lines.append(f"scope folders skipped: {len(plan.skipped)}")
        lines.extend(f"  {scope}: {reason}" for scope, reason in plan.skipped)
    if plan.refused:
        lines.append("")
        lines.append(f"not carried over: {len(plan.refused)} row{'s' if len(plan.refused) != 1 else ''}")
        lines.extend(f"  {refusal}" for refusal in plan.refused)
    lines.append("")
    if dry_run:
        lines.append(f"dry run: {total} secret{'s' if total != 1 else ''} would be written; nothing was written")
    elif total == 0:
        lines.append("nothing to do: the vault already holds every value Mage returns")
    else:
        lines.append(f"migrated {total} secret{'s' if total != 1 else ''} in {scopes_written} scope(s); Mage's files and rows were only read")
    return "\n".join(lines) + "\n"


# --- The command ---------------------------------------------------------------------------

def parse_arguments(arguments: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m mage_vault.migrate",
        description="Carry every secret Mage returns, in every scope of the data dir, into the vault: read with Mage's "
                    "own code (its database connection, scopes and Fernet keys), written one all-or-nothing commit per "
                    "scope. Mage's database and files are only read. Every row left behind is listed with its reason; "
                    "no value is ever printed.")
    parser.add_argument("--data-dir", help="Mage's data dir (default: $MAGE_DATA_DIR, else ~/.mage_data, as Mage)")
    parser.add_argument("--database", metavar="FILE_OR_URL",
                        help=f"Mage's database: a SQLite file or a URL (default: ${DATABASE_URL_VARIABLE}, else Mage's default)")
    parser.add_argument("--vault", metavar="FILE", help="the vault's log (default: $MAGE_VAULT_FILE, else <data dir>/secrets/vault.log)")
    parser.add_argument("--repo", metavar="REPO_PATH",
                        help="the repo_name whose legacy rows (no key_uuid) the global scope reads (default: Mage's, "
                             "from $MAGE_REPO_PATH or the current folder)")
    parser.add_argument("--rename", metavar="OLD=NEW", action="append", default=[],
                        help="carry Mage's secret OLD as NEW (for a name the vault cannot hold); repeatable")
    parser.add_argument("--dry-run", action="store_true", help="list what would move (scope, name, size) and write nothing")
    return parser.parse_args(arguments)


def migrate(options: argparse.Namespace) -> str:
    """Runs the migration `options` describe and returns its report."""
    renames: Dict[str, str] = {}
    for pair in options.rename:
        old, equals, new = pair.partition("=")
        if not equals or not old:
            raise MigrationFailure(f"--rename takes OLD=NEW, not {quoted(pair)}", EXIT_USAGE)
        renames[old] = new
    if options.data_dir:
        os.environ["MAGE_DATA_DIR"] = options.data_dir
    # The vault keys are the scopes' own (`vault.key` beside Mage's `key`), as for Mage.
    os.environ.pop("MAGE_VAULT_KEY", None)
    os.environ.pop("MAGE_VAULT_KEY_FILE", None)
    # What is read is Mage's own: its secrets module stays Mage's in this process, whatever
    # the start-up hook of the Mage backend would choose (a data dir with a vault uses it).
    os.environ["MAGE_SECRETS_BACKEND"] = "mage"

    from mage_ai.shared.environments import is_test_mage

    if is_test_mage():
        raise MigrationFailure("Mage is in its own test mode (ENV=test_mage, or 'unittest' in the command line), where it "
                               "reads a test.db of its own: run migrate as Mage runs", EXIT_USAGE)
    url, shown, _ = read_only_url(resolve_database_url(options.database))
    # Mage's module reads the variable when it is imported, and connects with it.
    os.environ[DATABASE_URL_VARIABLE] = url
    from mage_ai.data_preparation.models.project import Project
    from mage_ai.data_preparation.shared.secrets import get_secrets_dir
    from mage_ai.orchestration.constants import Entity

    secrets_directory = get_secrets_dir(Entity.GLOBAL)
    data_directory = os.path.dirname(secrets_directory)
    if not os.path.isdir(secrets_directory):
        raise MigrationFailure(f"{quoted(secrets_directory)} does not exist: this data dir has no Mage secrets (its key and "
                               "uuid files); pass --data-dir or set MAGE_DATA_DIR as Mage has it", EXIT_NOT_FOUND)
    rows = read_rows(shown)
    scopes = read_scopes(secrets_directory, data_directory)
    if options.repo:
        repository, note = options.repo, " (--repo)"
    else:
        repository, note = Project().repo_path_for_database_query("secrets")[0], " (Mage's repo path)"
    plan = make_plan(scopes, rows, repository, renames)

    lock_path = _lock_path(data_directory, options.vault)
    opened = compare_with_vault(plan, data_directory, options.vault, lock_path, read_only=options.dry_run)
    try:
        if not options.dry_run:
            write_plan(plan, opened, lock_path)
    finally:
        for vault in opened.values():
            vault.close()
    return report(plan, shown, note, options.dry_run)


def main(arguments: Optional[Sequence[str]] = None) -> int:
    """The command: prints the report, or the failure on standard error; returns the exit code."""
    options = parse_arguments(arguments)
    try:
        text = migrate(options)
    except MigrationFailure as failure:
        print(f"mage-vault migrate: {failure}", file=sys.stderr)
        return failure.code
    except VaultError as error:
        print(f"mage-vault migrate: {printable(str(error))}", file=sys.stderr)
        return error.code or EXIT_IO
    except OSError as error:  # a Mage file or folder that could not be read
        print(f"mage-vault migrate: {printable(str(error))}; nothing was written", file=sys.stderr)
        return EXIT_PERMISSION if isinstance(error, PermissionError) else EXIT_IO
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
