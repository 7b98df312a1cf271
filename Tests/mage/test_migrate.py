"""`python -m mage_vault.migrate` against real Mage (mage-ai 0.9.80): SQLite, PostgreSQL and,
when it is installed, MariaDB.

Run with MAGE_PYTHON (a Python with mage-ai 0.9.80; psycopg2 for PostgreSQL,
mysql-connector-python for MariaDB) and MAGE_VAULT_LIB (libmagevault.so), as `make
mage-test` sets them; the package is taken from this checkout's Sources/python. Every Mage
install is made by migrate_fixture.py with Mage's own functions, in a temporary folder. The
migration runs as a user runs it, `python -m mage_vault.migrate`, in Mage's Python; the
values it wrote are read back here through the C interface (`mage_vault._get`, exact
scope) and compared with what Mage's own `get_secret_value` returned. Values are made up;
no assertion message shows one.

PostgreSQL: the test starts its own cluster (initdb and pg_ctl, as the `postgres` user) on a
Unix socket in a temporary folder and stops it afterwards; it is skipped, loudly, only when
initdb is not installed. MariaDB likewise (mariadb-install-db, mariadbd), when installed.
"""
import fcntl
import json
import os
import queue
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = os.path.abspath(os.path.join(HERE, "..", "..", "Sources", "python"))
MAGE_PYTHON = os.environ.get("MAGE_PYTHON", "")
LIBRARY = os.environ.get("MAGE_VAULT_LIB", "")
FIXTURE = os.path.join(HERE, "migrate_fixture.py")
TIMEOUT = 300  # seconds for one Mage or migrate process; each takes a few

sys.path.insert(0, SOURCES)

RENAME_TAB = "tab\tname=tab name"
SKIPPED_SCOPES = ("project linked", "project escape", "project handmade")


class Run:
    """A finished `python -m mage_vault.migrate`."""

    def __init__(self, code, stdout, stderr, seconds):
        self.code, self.stdout, self.stderr, self.seconds = code, stdout, stderr, seconds

    @property
    def output(self):
        return self.stdout + self.stderr


class MageInstall:
    """A Mage data dir, repository and database (SQLite unless `url` names another), in one
    temporary folder."""

    def __init__(self, url=None):
        self.root = tempfile.mkdtemp(prefix="mage-migrate-")
        self.data_dir = os.path.join(self.root, "data")
        self.repo = os.path.join(self.root, "repo")
        self.database = os.path.join(self.root, "mage-ai.db")
        os.makedirs(self.data_dir)
        os.makedirs(self.repo)
        self.url = url or "sqlite:///" + self.database
        self.expected = None

    def env(self, **changes):
        # MAGE_SECRETS_BACKEND=mage: Mage's own database for the fixture's Mage, also once the
        # data dir has a vault (which the Mage backend's start-up hook would otherwise choose).
        env = {"PATH": "/usr/bin:/bin", "HOME": self.root, "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
               "MAGE_SECRETS_BACKEND": "mage", "MAGE_DATA_DIR": self.data_dir,
               "MAGE_REPO_PATH": self.repo, "MAGE_DATABASE_CONNECTION_URL": self.url, "MAGE_VAULT_LIB": LIBRARY,
               "PYTHONPATH": SOURCES}
        for key, value in changes.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def mage(self, command, *arguments):
        """Runs migrate_fixture.py COMMAND (Mage's own code) and returns its JSON."""
        output = os.path.join(self.root, f"fixture-{command}.json")
        result = subprocess.run([MAGE_PYTHON, FIXTURE, command, output, *map(str, arguments)], capture_output=True,
                                env=self.env(), cwd=self.root, timeout=TIMEOUT)
        if result.returncode != 0:
            raise AssertionError(f"migrate_fixture.py {command} failed (exit {result.returncode}):\n"
                                 + result.stderr.decode("utf-8", "replace")[-3000:])
        with open(output, encoding="utf-8") as file:
            answer = json.load(file)
        os.unlink(output)
        if command == "install":
            self.expected = answer
        return answer

    def migrate(self, *arguments, timeout=TIMEOUT, file_size_limit=None, **env):
        """Runs the migration; `file_size_limit` caps the size of any file it writes
        (RLIMIT_FSIZE: a write past it fails with EFBIG, as on a full quota)."""
        def limit():
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

        started = time.monotonic()
        result = subprocess.run([MAGE_PYTHON, "-m", "mage_vault.migrate", *arguments], capture_output=True,
                                env=self.env(**env), cwd=self.root, timeout=timeout,
                                preexec_fn=limit if file_size_limit is not None else None)
        return Run(result.returncode, result.stdout.decode("utf-8", "replace"), result.stderr.decode("utf-8", "replace"),
                   time.monotonic() - started)

    def start_migrate(self, *arguments):
        return subprocess.Popen([MAGE_PYTHON, "-m", "mage_vault.migrate", *arguments], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=self.env(), cwd=self.root)

    def snapshot(self, below=None):
        """Every file and link below the temporary folder (or `below`): path -> bytes or link target."""
        top = below or self.root
        files = {}
        for folder, directories, names in os.walk(top):
            for name in names + [d for d in directories if os.path.islink(os.path.join(folder, d))]:
                path = os.path.join(folder, name)
                relative = os.path.relpath(path, top)
                if os.path.islink(path):
                    files[relative] = "link:" + os.readlink(path)
                else:
                    with open(path, "rb") as file:
                        files[relative] = file.read()
        return files

    def vault_value(self, project, pipeline, name):
        """The value the vault holds in exactly this scope, or None."""
        import mage_vault
        from mage_vault import VaultError

        try:
            return mage_vault._get(name, project, pipeline, data_dir=self.data_dir)
        except VaultError as error:
            if error.code == 1:
                return None
            raise

    def made_up_values(self):
        """Every value of the install long enough to be recognised in a text."""
        values = {value for scope in self.expected["scopes"] for value in scope["values"].values() if value}
        return [value for value in values if len(value) >= 6] + ["made-up plain text", "made-up forged", "made-up-long",
                                                                   "made-up-escape", "made-up other repo"]

    def remove(self):
        import mage_vault

        mage_vault.close()
        shutil.rmtree(self.root, ignore_errors=True)


class MigrationChecks:
    """Assertions shared by every database."""

    def assertNoValueIn(self, install, text, what):
        for value in install.made_up_values():
            self.assertNotIn(value, text, f"a value leaked into {what}")

    def assertVaultHoldsWhatMageReturns(self, install, renames=None):
        """Every value Mage's get_secret_value returned, in every scope migrate carries, is in
        the vault's same scope byte for byte; a name Mage returns nothing for is not there."""
        from mage_vault.migrate import name_refusal

        renames = renames or {}
        compared = 0
        for scope in install.expected["scopes"]:
            if scope["label"] in SKIPPED_SCOPES:
                continue
            for name, value in scope["values"].items():
                vault_name = renames.get(name, name)
                if name_refusal(vault_name):
                    continue
                held = install.vault_value(scope["project"], scope["pipeline"], vault_name)
                self.assertTrue(held == value, f"{scope['label']} {name!r}: the vault's value is not Mage's (values hidden)")
                compared += value is not None
        self.assertGreaterEqual(compared, 13)


@unittest.skipUnless(MAGE_PYTHON and LIBRARY, "run by `make mage-test` (MAGE_PYTHON, MAGE_VAULT_LIB)")
class SQLiteMigrationTests(unittest.TestCase, MigrationChecks):
    """A Mage install on SQLite, made afresh for each test."""

    def setUp(self):
        self.install = MageInstall()
        self.install.mage("install")

    def tearDown(self):
        self.install.remove()

    def test_every_value_equals_what_mage_returns(self):
        run = self.install.migrate("--rename", RENAME_TAB)
        self.assertEqual(run.code, 0, run.stderr)
        self.assertIn("migrated ", run.stdout)
        self.assertVaultHoldsWhatMageReturns(self.install, {"tab\tname": "tab name"})
        self.assertNoValueIn(self.install, run.output, "the report")
        # The odd values arrived exactly.
        self.assertEqual(self.install.vault_value(None, None, "empty"), "")
        self.assertEqual(len(self.install.vault_value(None, None, "big")), 11_200)
        self.assertEqual(self.install.vault_value(None, None, "tab name"), "made-up-tab")
        self.assertEqual(self.install.vault_value("k8s", None, "k8s_token"), "made-up k8s token")
        # The uuid file that ends with a newline is the scope's uuid for the vault too.
        with open(os.path.join(self.install.data_dir, "secrets", "projects", "k8s", "uuid")) as uuid_file:
            self.assertTrue(uuid_file.read().endswith("\n"))

    @unittest.skipUnless(os.environ.get("MAGE_VAULT_BIN"), "needs the mage-vault command (MAGE_VAULT_BIN)")
    def test_the_mage_vault_command_hands_over_to_mages_python(self):
        # `mage-vault migrate` runs this module in the Python MAGE_VAULT_PYTHON names (else
        # the python3 beside the binary, as in the wheel's virtualenv): the same report.
        command = [os.environ["MAGE_VAULT_BIN"], "migrate", "--dry-run"]
        handed = subprocess.run(command, capture_output=True, env=self.install.env(MAGE_VAULT_PYTHON=MAGE_PYTHON),
                                cwd=self.install.root, timeout=TIMEOUT)
        direct = self.install.migrate("--dry-run")
        self.assertEqual(handed.returncode, 0, handed.stderr)
        self.assertEqual(handed.stdout.decode(), direct.stdout)
        # A Python without the package says what to do, with the I/O class, and writes nothing.
        before = self.install.snapshot()
        bare = subprocess.run(command, capture_output=True, cwd=self.install.root, timeout=TIMEOUT,
                              env=self.install.env(MAGE_VAULT_PYTHON="/usr/bin/python3", PYTHONPATH=None))
        self.assertEqual(bare.returncode, 6, bare.stderr)
        self.assertIn("MAGE_VAULT_PYTHON", bare.stderr.decode())
        self.assertEqual(self.install.snapshot(), before)

    def test_every_row_left_behind_is_reported_with_its_reason(self):
        run = self.install.migrate("--dry-run")
        self.assertEqual(run.code, 0, run.stderr)
        lines = run.stdout.splitlines()
        refusals = dict(self.install.expected["refusals"])
        tab_row = next(row for row, name in self.install.expected["rows"].items() if name == "tab\tname")
        refusals[tab_row] = "--rename"
        for row, word in refusals.items():
            line = next((line for line in lines if line.startswith(f"  row {row} ")), None)
            self.assertIsNotNone(line, f"row {row} is not reported")
            self.assertIn(word, line, f"row {row}'s reason")
        # Every row is accounted for: carried or reported, never silently dropped.
        reported = sum(line.startswith("  row ") for line in lines)
        carried = sum(line.startswith("  would add ") for line in lines)
        self.assertEqual(reported + carried, len(self.install.expected["rows"]))
        self.assertNoValueIn(self.install, run.output, "the dry run")

    def test_dry_run_writes_nothing(self):
        before = self.install.snapshot()
        run = self.install.migrate("--dry-run")
        self.assertEqual(run.code, 0, run.stderr)
        self.assertIn("would add     'secret1'  27 bytes", run.stdout)
        self.assertIn("dry run: ", run.stdout)
        self.assertIn("nothing was written", run.stdout)
        self.assertEqual(self.install.snapshot(), before, "the dry run changed a file")

    def test_dry_run_writes_nothing_when_a_vault_exists(self):
        self.assertEqual(self.install.migrate().code, 0)
        self.install.mage("add", "added_later")
        import mage_vault

        mage_vault._set("secret2", "made-up edited in the vault", None, None, data_dir=self.install.data_dir)
        mage_vault.close()
        before = self.install.snapshot()
        run = self.install.migrate("--dry-run")
        self.assertEqual(run.code, 0, run.stderr)
        self.assertEqual(self.install.snapshot(), before, "the dry run changed a file of an existing vault")
        self.assertIn("would add     'added_later'", run.stdout)
        self.assertIn("would replace 'secret2'", run.stdout)
        self.assertIn("unchanged     'secret1'", run.stdout)
        self.assertIn("dry run: 2 secrets would be written", run.stdout)

    def test_second_run_changes_nothing(self):
        first = self.install.migrate()
        self.assertEqual(first.code, 0, first.stderr)
        before = self.install.snapshot()
        second = self.install.migrate()
        self.assertEqual(second.code, 0, second.stderr)
        self.assertIn("nothing to do: the vault already holds every value Mage returns", second.stdout)
        self.assertEqual(self.install.snapshot(), before, "the second run changed a file")

    def test_a_value_changed_in_mage_is_replaced_and_vault_only_secrets_are_left(self):
        self.assertEqual(self.install.migrate().code, 0)
        import mage_vault

        mage_vault._set("secret1", "made-up edited in the vault", None, None, data_dir=self.install.data_dir)
        mage_vault._set("only_in_vault", "made-up vault-only", None, None, data_dir=self.install.data_dir)
        run = self.install.migrate()
        self.assertEqual(run.code, 0, run.stderr)
        self.assertIn("replaced      'secret1'", run.stdout)
        self.assertIn("migrated 1 secret in 1 scope(s)", run.stdout)
        self.assertEqual(self.install.vault_value(None, None, "secret1"), "sooper dooper secret string")
        self.assertEqual(self.install.vault_value(None, None, "only_in_vault"), "made-up vault-only")

    def test_mages_files_and_rows_are_untouched(self):
        before = self.install.snapshot()
        run = self.install.migrate("--rename", RENAME_TAB)
        self.assertEqual(run.code, 0, run.stderr)
        after = self.install.snapshot()
        for path, content in before.items():
            self.assertTrue(after.get(path) == content, f"{path} changed")
        added = set(after) - set(before)
        self.assertTrue(all(os.path.basename(path) in ("vault.key", "vault.log", "vault.log.lock") for path in added), sorted(added))
        self.assertIn(os.path.join("data", "secrets", "projects", "sales", "pipelines", "daily", "vault.key"), added)
        self.assertIn(os.path.join("data", "secrets", "vault.log"), added)

    def test_renames_that_name_no_row_or_make_two_secrets_one_write_nothing(self):
        before = self.install.snapshot()
        unused = self.install.migrate("--rename", "no such name=x")
        self.assertEqual(unused.code, 2)
        self.assertIn("no secret Mage returns has that name", unused.stderr)
        clash = self.install.migrate("--rename", "tab\tname=secret1")
        self.assertEqual(clash.code, 2)
        self.assertIn("one secret 'secret1'", clash.stderr)
        malformed = self.install.migrate("--rename", "no-equals-sign")
        self.assertEqual(malformed.code, 2)
        self.assertEqual(self.install.snapshot(), before, "a refused rename wrote something")

    # --- issue 23, item 9 ------------------------------------------------------------------

    def test_1_a_failure_in_a_later_scope_says_which_scopes_were_written(self):
        # Each scope's commit rewrites the log, the last one (pipeline 'daily' of project
        # 'sales') to its final size: a file size limit just under that lets every scope but
        # the last be written, as a quota running out half-way would.
        self.assertEqual(self.install.migrate().code, 0)
        secrets = os.path.join(self.install.data_dir, "secrets")
        final_size = os.path.getsize(os.path.join(secrets, "vault.log"))
        for folder, _, names in os.walk(secrets):
            for name in names:
                if name.startswith("vault."):
                    os.unlink(os.path.join(folder, name))
        run = self.install.migrate(file_size_limit=final_size - 1)
        self.assertEqual(run.code, 6, run.stderr)
        self.assertIn("writing pipeline 'daily' of project 'sales' to the vault failed", run.stderr)
        self.assertIn("already written, each in one all-or-nothing commit: global, project 'k8s', project 'sales'", run.stderr)
        self.assertIn("Run migrate again to finish", run.stderr)
        self.assertEqual(self.install.vault_value("sales", None, "secret1"), "made-up project secret1")
        self.assertIsNone(self.install.vault_value("sales", "daily", "db password"))
        # Running again finishes, writing only what is missing.
        again = self.install.migrate()
        self.assertEqual(again.code, 0, again.stderr)
        self.assertIn("migrated 2 secrets in 1 scope(s)", again.stdout)
        self.assertVaultHoldsWhatMageReturns(self.install)

    def test_2_the_database_url_is_honoured_not_a_stale_default_file(self):
        # Mage's default for this project, <data dir>/<repo name>/mage-ai.db: a stale copy.
        default = os.path.join(self.install.data_dir, "repo", "mage-ai.db")
        os.makedirs(os.path.dirname(default))
        shutil.copyfile(self.install.database, default)
        with open(default, "rb") as stale:
            stale_bytes = stale.read()
        self.install.mage("add", "only_in_the_url_database")
        # Without the variable, Mage (and so migrate) reads its default file...
        before = self.install.snapshot()
        without = self.install.migrate("--dry-run", MAGE_DATABASE_CONNECTION_URL=None)
        self.assertEqual(without.code, 0, without.stderr)
        self.assertEqual(self.install.snapshot(), before, "reading the default database changed a file")
        self.assertIn(f"database '{default}'", without.stdout)
        self.assertNotIn("only_in_the_url_database", without.stdout)
        # ... with it, the database it names.
        run = self.install.migrate()
        self.assertEqual(run.code, 0, run.stderr)
        self.assertIn(f"database '{self.install.database}'", run.stdout)
        self.assertEqual(self.install.vault_value(None, None, "only_in_the_url_database"), "made-up added later")
        with open(default, "rb") as stale:
            self.assertTrue(stale.read() == stale_bytes, "the stale database changed")

    def test_without_a_database_nothing_is_created(self):
        # Neither the variable nor Mage's default file: Mage would create the file (and its
        # folder) when its database module is imported; migrate says so and creates nothing.
        before = self.install.snapshot()
        run = self.install.migrate("--dry-run", MAGE_DATABASE_CONNECTION_URL=None)
        self.assertEqual(run.code, 1, run.stderr)
        self.assertIn("no Mage database at", run.stderr)
        self.assertEqual(self.install.snapshot(), before, "a file or folder was created")
        self.assertFalse(os.path.exists(os.path.join(self.install.data_dir, "repo")))

    def test_3_names_and_folders_are_printed_escaped(self):
        run = self.install.migrate("--dry-run")
        self.assertEqual(run.code, 0, run.stderr)
        for control in ("\x1b", "\x07", "\t"):
            self.assertNotIn(control, run.output, f"a raw {control!r} reached the terminal")
        self.assertIn("'red \\x1b[31malert\\x1b[0m'", run.stdout)
        self.assertIn("project 'evil\\x1b]0;pwned\\x07'", run.stdout)
        self.assertIn("'tab\\tname'", run.stdout)

    def test_4_a_symlinked_scope_folder_is_skipped_and_nothing_is_written_through_it(self):
        outside = os.path.join(self.install.root, "outside-linked")
        before = self.install.snapshot(outside)
        run = self.install.migrate()
        self.assertEqual(run.code, 0, run.stderr)
        self.assertIn("project 'linked': the folder", run.stdout)
        self.assertIn("is a symbolic link", run.stdout)
        self.assertEqual(self.install.snapshot(outside), before, "something was written through the link")
        self.assertFalse(os.path.exists(os.path.join(outside, "vault.key")))
        row = next(row for row, name in self.install.expected["rows"].items() if name == "linked_secret")
        self.assertIn(f"  row {row} 'linked_secret' (project 'linked'): the folder", run.stdout)

    def test_6_a_fifo_or_a_folder_as_database_is_refused_not_hung_on(self):
        fifo = os.path.join(self.install.root, "fifo.db")
        os.mkfifo(fifo)
        for arguments, env in ((["--database", fifo], {}), ([], {"MAGE_DATABASE_CONNECTION_URL": "sqlite:///" + fifo}),
                               (["--database", self.install.data_dir], {})):
            run = self.install.migrate("--dry-run", *arguments, timeout=60, **env)
            self.assertEqual(run.code, 2, run.stderr)
            self.assertIn("not a SQLite database file", run.stderr)
        self.assertIn("is a FIFO", self.install.migrate("--database", fifo, timeout=60).stderr)

    def test_7_a_held_vault_lock_is_announced_on_stderr(self):
        lock_path = os.path.join(self.install.data_dir, "secrets", "vault.log.lock")
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        lines = queue.Queue()
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            process = self.install.start_migrate()
            threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()
            deadline = time.monotonic() + TIMEOUT
            line = b""
            while b"waiting for the vault's lock" not in line and time.monotonic() < deadline:
                line = lines.get(timeout=TIMEOUT)
            self.assertIn(b"waiting for the vault's lock", line)
            time.sleep(1)
            self.assertIsNone(process.poll(), "migrate did not wait for the lock")
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
            os.close(descriptor)
        self.assertEqual(process.wait(timeout=TIMEOUT), 0)
        with process.stdout, process.stderr:
            self.assertIn(b"migrated ", process.stdout.read())
        self.assertEqual(self.install.vault_value(None, None, "secret1"), "sooper dooper secret string")

    def test_8_a_locked_database_is_an_io_failure_not_a_damaged_vault(self):
        holder = sqlite3.connect(self.install.database, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            run = self.install.migrate(timeout=120)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        self.assertEqual(run.code, 6, run.stderr)
        self.assertIn("database is locked", run.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.install.data_dir, "secrets", "vault.log")))

    # --- the other exit-code classes -------------------------------------------------------

    def test_exit_codes_name_the_class_of_failure(self):
        missing = self.install.migrate("--database", os.path.join(self.install.root, "no-such.db"))
        self.assertEqual(missing.code, 1, missing.stderr)
        other = os.path.join(self.install.root, "other.db")
        sqlite3.connect(other).execute("CREATE TABLE unrelated (id INTEGER)").connection.close()
        not_mage = self.install.migrate("--database", other)
        self.assertEqual(not_mage.code, 2, not_mage.stderr)
        self.assertIn("is not a Mage database", not_mage.stderr)
        no_secrets = self.install.migrate(MAGE_DATA_DIR=os.path.join(self.install.root, "empty-data"))
        self.assertEqual(no_secrets.code, 1, no_secrets.stderr)
        refused = self.install.migrate(MAGE_DATABASE_CONNECTION_URL="postgresql://made-up:made-up-password@/mage?host="
                                       + os.path.join(self.install.root, "no-server"))
        self.assertEqual(refused.code, 6, refused.stderr)
        self.assertNotIn("made-up-password", refused.output)
        no_driver = self.install.migrate(MAGE_DATABASE_CONNECTION_URL="postgresql+nosuchdriver://mage@/mage")
        self.assertEqual(no_driver.code, 2, no_driver.stderr)
        self.assertIn("install the database driver", no_driver.stderr)
        # A vault log that is not a vault: the damaged-vault class, and nothing written.
        self.assertEqual(self.install.migrate().code, 0)
        self.install.mage("add", "added_later")
        log = os.path.join(self.install.data_dir, "secrets", "vault.log")
        with open(log, "wb") as file:
            file.write(b"not a vault at all\n")
        damaged = self.install.migrate()
        self.assertEqual(damaged.code, 4, damaged.stderr)
        with open(log, "rb") as file:
            self.assertEqual(file.read(), b"not a vault at all\n")


@unittest.skipUnless(MAGE_PYTHON and LIBRARY, "run by `make mage-test` (MAGE_PYTHON, MAGE_VAULT_LIB)")
class PlanningTimeTests(unittest.TestCase):
    """Issue 23, item 9.5: planning is linear in the rows."""

    ROWS = 100_000

    def test_5_a_hundred_thousand_rows_plan_in_seconds(self):
        install = MageInstall()
        try:
            install.mage("bulk", self.ROWS)
            run = install.migrate("--dry-run")
            self.assertEqual(run.code, 0, run.stderr)
            self.assertIn("dry run: 95000 secrets would be written", run.stdout)
            print(f"\n  {self.ROWS} rows: dry run (Mage's imports, one SELECT, Fernet for each row, the report) "
                  f"in {run.seconds:.1f} s", file=sys.stderr)
            # Linear takes about ten seconds here (2 cores, Fernet most of it); a plan that
            # compared every name with every row would take hours.
            self.assertLess(run.seconds, 90)
        finally:
            install.remove()


# --- PostgreSQL and MariaDB ------------------------------------------------------------------

INITDB = shutil.which("initdb", path="/usr/local/bin:/usr/lib/postgresql/15/bin:" + os.environ.get("PATH", ""))
PG_CTL = shutil.which("pg_ctl", path="/usr/local/bin:/usr/lib/postgresql/15/bin:" + os.environ.get("PATH", ""))
MARIADBD = shutil.which("mariadbd", path="/usr/sbin:/usr/bin")
MARIADB_INSTALL_DB = shutil.which("mariadb-install-db", path="/usr/bin:/usr/sbin")


def _require_driver(module, install):
    """Fails loudly (not a skip) when Mage's Python lacks the database driver `module`."""
    found = subprocess.run([MAGE_PYTHON, "-c", f"import {module}"], capture_output=True, timeout=TIMEOUT)
    if found.returncode != 0:
        raise AssertionError(f"MAGE_PYTHON has no {module}, which Mage needs for this database: {install}")


def _as_postgres(*command):
    """Runs `command` as the `postgres` user (initdb and postgres refuse root)."""
    prefix = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
    subprocess.run(prefix + list(command), check=True, capture_output=True, timeout=TIMEOUT)


class ServerMigrationChecks(MigrationChecks):
    """One walk through a migration against a database server: a dry run writes nothing, the
    migration carries every value, a second run changes nothing, and the server's rows and
    tables are as they were (no table created, no migration run)."""

    url = None

    def walk_through(self):
        install = MageInstall(self.url)
        try:
            install.mage("install")
            dump = install.mage("dump")
            before = install.snapshot()
            dry = install.migrate("--dry-run")
            self.assertEqual(dry.code, 0, dry.stderr)
            self.assertEqual(install.snapshot(), before, "the dry run changed a file")
            run = install.migrate("--rename", RENAME_TAB)
            self.assertEqual(run.code, 0, run.stderr)
            self.assertIn("migrated ", run.stdout)
            self.assertVaultHoldsWhatMageReturns(install, {"tab\tname": "tab name"})
            for text in (dry.output, run.output):
                self.assertNoValueIn(install, text, "the report")
            self.assertNotIn("made-up-password", dry.output + run.output)
            log = install.snapshot()
            again = install.migrate("--rename", RENAME_TAB)
            self.assertIn("nothing to do", again.stdout)
            self.assertEqual(install.snapshot(), log, "the second run changed a file")
            self.assertEqual(install.mage("dump"), dump, "the database's rows or tables changed")
            for row, word in install.expected["refusals"].items():
                self.assertTrue(any(line.startswith(f"  row {row} ") and word in line for line in run.stdout.splitlines()),
                                f"row {row} is not reported with its reason")
        finally:
            install.remove()


@unittest.skipUnless(MAGE_PYTHON and LIBRARY, "run by `make mage-test` (MAGE_PYTHON, MAGE_VAULT_LIB)")
class PostgresMigrationTests(unittest.TestCase, ServerMigrationChecks):
    """A PostgreSQL cluster of the test's own, on a Unix socket in a temporary folder."""

    @classmethod
    def setUpClass(cls):
        if not (INITDB and PG_CTL):
            print("\n\n*** PostgreSQL NOT TESTED: initdb/pg_ctl are not installed (apt-get install postgresql) ***\n",
                  file=sys.stderr)
            raise unittest.SkipTest("initdb is not installed: PostgreSQL is NOT tested (apt-get install postgresql)")
        _require_driver("psycopg2", "pip install psycopg2-binary==2.9.5 (mage-ai[postgres] pins 2.9.3, which has no "
                                    "wheel for Python 3.11)")
        cls.folder = tempfile.mkdtemp(prefix="mage-migrate-pg-")
        os.chmod(cls.folder, 0o755)
        if os.geteuid() == 0:
            shutil.chown(cls.folder, "postgres", "postgres")
        cls.cluster = os.path.join(cls.folder, "cluster")
        try:
            _as_postgres(INITDB, "-D", cls.cluster, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
            _as_postgres(PG_CTL, "-D", cls.cluster, "-l", os.path.join(cls.folder, "server.log"), "-w", "-t", "120",
                         "-o", f"-k {cls.folder} -c listen_addresses='' -c fsync=off", "start")
        except BaseException:
            shutil.rmtree(cls.folder, ignore_errors=True)
            raise
        cls.url = f"postgresql://postgres@/postgres?host={cls.folder}"

    @classmethod
    def tearDownClass(cls):
        try:
            _as_postgres(PG_CTL, "-D", cls.cluster, "-w", "-m", "fast", "stop")
        finally:
            shutil.rmtree(cls.folder, ignore_errors=True)

    def test_postgres_every_value_equals_what_mage_returns_and_the_database_is_only_read(self):
        self.walk_through()


@unittest.skipUnless(MAGE_PYTHON and LIBRARY, "run by `make mage-test` (MAGE_PYTHON, MAGE_VAULT_LIB)")
class MariaDBMigrationTests(unittest.TestCase, ServerMigrationChecks):
    """A MariaDB server of the test's own (mysql:// as Mage's MySQL users have it), on a Unix
    socket in a temporary folder; skipped when mariadb-server is not installed."""

    @classmethod
    def setUpClass(cls):
        if not (MARIADBD and MARIADB_INSTALL_DB):
            print("\n\n*** MySQL/MariaDB NOT TESTED: mariadb-server is not installed ***\n", file=sys.stderr)
            raise unittest.SkipTest("mariadb-server is not installed: MySQL is NOT tested")
        _require_driver("mysql.connector", "pip install mysql-connector-python==9.0.0 (mage-ai[mysql])")
        cls.folder = tempfile.mkdtemp(prefix="mage-migrate-my-")
        datadir, cls.socket = os.path.join(cls.folder, "data"), os.path.join(cls.folder, "mysqld.sock")
        subprocess.run([MARIADB_INSTALL_DB, "--no-defaults", f"--datadir={datadir}", "--user=root",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, capture_output=True, timeout=TIMEOUT)
        cls.server = subprocess.Popen([MARIADBD, "--no-defaults", f"--datadir={datadir}", f"--socket={cls.socket}",
                                       "--skip-networking", "--user=root", f"--pid-file={cls.folder}/mysqld.pid",
                                       f"--log-error={cls.folder}/server.log"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            while not os.path.exists(cls.socket) and time.monotonic() < deadline and cls.server.poll() is None:
                time.sleep(0.2)
            if not os.path.exists(cls.socket):
                raise AssertionError("mariadbd did not start (see its server.log)")
            script = ("import mysql.connector, sys; c = mysql.connector.connect(unix_socket=sys.argv[1], user='root'); "
                      "c.cursor().execute('CREATE DATABASE mage CHARACTER SET utf8mb4')")
            subprocess.run([MAGE_PYTHON, "-c", script, cls.socket], check=True, capture_output=True, timeout=TIMEOUT)
        except BaseException:
            cls.tearDownClass()
            raise
        cls.url = f"mysql+mysqlconnector://root@localhost/mage?unix_socket={cls.socket}"

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        try:
            cls.server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            cls.server.kill()
            cls.server.wait()
        shutil.rmtree(cls.folder, ignore_errors=True)

    def test_mariadb_every_value_equals_what_mage_returns_and_the_database_is_only_read(self):
        self.walk_through()


if __name__ == "__main__":
    unittest.main(verbosity=2)


@unittest.skipUnless(MAGE_PYTHON and LIBRARY and os.environ.get("MAGE_VAULT_BIN"),
                     "run by `make mage-test` (MAGE_PYTHON, MAGE_VAULT_LIB, MAGE_VAULT_BIN)")
class RenderAfterMigrationTests(unittest.TestCase):
    """The fixtures Tests/fixtures/mage/make_fixtures.py made with mage-ai's own code: after
    migrate, `mage-vault render` gives exactly what Mage's Jinja rendering gave."""

    def test_render_gives_what_mage_rendered(self):
        fixtures = os.path.join(HERE, "..", "fixtures", "mage")
        with open(os.path.join(fixtures, "expected.json"), encoding="utf-8") as file:
            expected = json.load(file)
        root = tempfile.mkdtemp(prefix="mage-render-")
        self.addCleanup(shutil.rmtree, root, True)
        data = os.path.join(root, "dev")
        shutil.copytree(os.path.join(fixtures, "dev"), data, symlinks=True)
        env = {"PATH": "/usr/bin:/bin", "HOME": root, "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
               "MAGE_SECRETS_BACKEND": "mage", "MAGE_DATA_DIR": data, "MAGE_VAULT_LIB": LIBRARY, "PYTHONPATH": SOURCES,
               "MAGE_REPO_PATH": os.path.join(root, "repos", os.path.basename(expected["repo_name"]))}
        migrated = subprocess.run([MAGE_PYTHON, "-m", "mage_vault.migrate", "--repo", expected["repo_name"], "--rename", RENAME_TAB],
                                  capture_output=True, env=env, cwd=root, timeout=TIMEOUT)
        self.assertEqual(migrated.returncode, 0, migrated.stderr.decode())
        rendered = subprocess.run([os.environ["MAGE_VAULT_BIN"], "render", os.path.join(fixtures, "template.yaml"), "--missing", "none",
                                   "--data-dir", data], capture_output=True, env={**env, "MAGE_FIXTURE_SET": "made-up env value"},
                                  timeout=TIMEOUT)
        self.assertEqual(rendered.returncode, 0, rendered.stderr.decode())
        # Jinja drops the file's last newline (keep_trailing_newline is off in Mage); render
        # keeps every byte that is not an expression, that newline included.
        self.assertEqual(rendered.stdout.decode(), expected["template_rendered_by_mage"] + "\n")
        self.assertIn("rendered as None", rendered.stderr.decode())
        # The strict default refuses a missing secret, naming it, and writes nothing.
        output = os.path.join(root, "out.yaml")
        strict = subprocess.run([os.environ["MAGE_VAULT_BIN"], "render", os.path.join(fixtures, "template.yaml"), "-o", output,
                                 "--data-dir", data], capture_output=True, env={**env, "MAGE_FIXTURE_SET": "made-up env value"},
                                timeout=TIMEOUT)
        self.assertEqual(strict.returncode, 1)
        self.assertIn("secret3", strict.stderr.decode())
        self.assertFalse(os.path.exists(output))
