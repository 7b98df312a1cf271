"""Mage's `/api/secrets` through a real `mage start` server, with the vault and without.

Every route and scope argument of `/api/secrets` that Mage 0.9.80's frontend and API clients
use (list with and without `entity`/`pipeline_uuid`/`project_uuid` and `_limit`/`_offset`;
create with `entity`, `pipeline_uuid`, `project_uuid` in the body; detail; update; delete
with and without scope arguments) runs, in the same order, against two servers started with
`mage start` from the full mage-ai 0.9.80: one on a data dir that uses the vault (`mage-vault
init` made `secrets/vault.log` before the start) and one stock (no vault). User
authentication is on (Mage's default): the client logs in as Mage's default owner the way
Mage's frontend does (POST /api/sessions with the email and password; then the frontend's
`api_key` in the query and the body, the token as `Authorization: Bearer`, the encoded
session token as the `oauth_token` cookie).

Both servers must answer the same: HTTP status, Mage's error code and type in the body, the
keys of every answer, the names listed, the name presented. The ids differ (Mage's row ids,
the vault's ids derived from the name): both are integers. At the end, the stock server's
rows and the vault's names are the same in every scope, the vault holds the values created
(read back with `mage-vault get`), and with the vault Mage's database holds no secret row.

Environment: MAGE_FULL_PYTHON (the Python of a virtualenv with the full mage-ai 0.9.80;
the test derives one from it holding this checkout's mage_vault and start-up hook, as
`make mage-test` does, unless that Python already has the hook), MAGE_VAULT_BIN,
MAGE_VAULT_LIB. Without MAGE_FULL_PYTHON the test is skipped, loudly. Values are made up;
assertion messages never show one.
"""
import base64
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = os.path.join(os.path.dirname(os.path.dirname(HERE)), "Sources", "python")
FULL_PYTHON = os.environ.get("MAGE_FULL_PYTHON", "")
TOOL = os.environ.get("MAGE_VAULT_BIN", "")
LIBRARY = os.environ.get("MAGE_VAULT_LIB", "")
START_TIMEOUT = 240  # seconds for `mage start` to answer; it takes about 20

# Mage 0.9.80's frontend OAuth application (mage_ai/settings/server.py) and default owner.
API_KEY = "zkWlN0PkIKSN0C11CfUHUj84OT5XOJ6tDZ6bDRO2"
OWNER_EMAIL, OWNER_PASSWORD = "admin@admin.com", "admin"
PROJECT = "made_up_project"
PROJECT_UUID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"  # fixed, so both servers' scopes have the same folders
PIPELINE = "daily_made_up"

VALUES = {
    "alpha_global": "made-up alpha välue ✓",
    "beta_global": "made-up beta value",
    "gamma_project": "made-up gamma value",
    "delta_project": "made-up delta value",
    "epsilon_pipeline": "made-up epsilon\nmulti-line value\n",
    "kappa_upper": "made-up kappa value",
    "lambda_bogus": "made-up lambda value",
    "mu_shared": "made-up mu global value",
    "mu_shared@pipeline": "made-up mu pipeline value",
    "mage_git_access_token_made_up": "made-up git token",
    "alpha_global@again": "made-up alpha replacement",
}


def secret(name, value_key=None, **fields):
    """A create body, as Mage's frontend sends it: {"secret": {...}} (the client adds api_key)."""
    body = {"name": name, "value": VALUES[value_key or name]} if name is not None else {"value": "made-up"}
    body.update(fields)
    return {"secret": body}


# The scenario: (label, method, path, query, body, expected code). The code is what stock Mage
# 0.9.80 answers (Mage's error code in the body; it sends HTTP 200 either way), checked on the
# stock server; the vault's server must answer exactly as the stock one did.
STEPS = [
    ("list before login", "GET", "/api/secrets", {}, None, 403),
    ("login", "POST", "/api/sessions", {}, None, 200),
    ("list, empty", "GET", "/api/secrets", {}, None, 200),
    ("create global", "POST", "/api/secrets", {}, secret("alpha_global"), 200),
    ("create global, entity given", "POST", "/api/secrets", {}, secret("beta_global", entity="global"), 200),
    ("create project", "POST", "/api/secrets", {}, secret("gamma_project", entity="project"), 200),
    ("create project, project_uuid in the body (ignored)", "POST", "/api/secrets", {},
     secret("delta_project", entity="project", project_uuid="made_up_other_project"), 200),
    ("create pipeline", "POST", "/api/secrets", {},
     secret("epsilon_pipeline", entity="pipeline", pipeline_uuid=PIPELINE), 200),
    ("create pipeline without pipeline_uuid", "POST", "/api/secrets", {},
     secret("zeta_no_uuid", "beta_global", entity="pipeline"), 500),
    ("create entity PIPELINE (not Mage's value: global)", "POST", "/api/secrets", {},
     secret("kappa_upper", entity="PIPELINE", pipeline_uuid=PIPELINE), 200),
    ("create entity bogus (global)", "POST", "/api/secrets", {}, secret("lambda_bogus", entity="bogus"), 200),
    ("create a name its scope holds", "POST", "/api/secrets", {}, secret("alpha_global", "alpha_global@again"), 500),
    ("create global mu_shared", "POST", "/api/secrets", {}, secret("mu_shared"), 200),
    ("create pipeline mu_shared (same name)", "POST", "/api/secrets", {},
     secret("mu_shared", "mu_shared@pipeline", entity="pipeline", pipeline_uuid=PIPELINE), 200),
    ("create a git secret (hidden from the list)", "POST", "/api/secrets", {}, secret("mage_git_access_token_made_up"), 200),
    ("create without a value", "POST", "/api/secrets", {}, {"secret": {"name": "no_value"}}, 500),
    ("create without a name", "POST", "/api/secrets", {}, secret(None), 500),
    ("list", "GET", "/api/secrets", {}, None, 200),
    ("list entity=pipeline pipeline_uuid", "GET", "/api/secrets", {"entity": "pipeline", "pipeline_uuid": PIPELINE}, None, 200),
    ("list entity=project project_uuid", "GET", "/api/secrets", {"entity": "project", "project_uuid": PROJECT_UUID}, None, 200),
    ("list entity=global", "GET", "/api/secrets", {"entity": "global"}, None, 200),
    ("list _limit=2 _offset=1", "GET", "/api/secrets", {"_limit": "2", "_offset": "1"}, None, 200),
    ("detail of a global secret", "GET", "/api/secrets/alpha_global", {}, None, 403),
    ("detail of a project secret", "GET", "/api/secrets/gamma_project", {}, None, 403),
    ("detail of a pipeline secret", "GET", "/api/secrets/epsilon_pipeline", {}, None, 403),
    ("detail of a missing name", "GET", "/api/secrets/no_such_secret", {}, None, 404),
    ("update of a pipeline secret", "PUT", "/api/secrets/epsilon_pipeline", {}, {"secret": {"value": "made-up"}}, 403),
    ("update of a missing name", "PUT", "/api/secrets/no_such_secret", {}, {"secret": {"value": "made-up"}}, 404),
    ("delete a project secret", "DELETE", "/api/secrets/gamma_project", {}, None, 200),
    ("delete a pipeline secret, scope in the query", "DELETE", "/api/secrets/epsilon_pipeline",
     {"entity": "pipeline", "pipeline_uuid": PIPELINE}, None, 200),
    ("delete a project secret, scope in the query", "DELETE", "/api/secrets/delta_project",
     {"entity": "project", "project_uuid": PROJECT_UUID}, None, 200),
    ("delete mu_shared (the global one)", "DELETE", "/api/secrets/mu_shared", {}, None, 200),
    ("delete mu_shared (the pipeline one)", "DELETE", "/api/secrets/mu_shared", {}, None, 200),
    ("delete mu_shared (none left)", "DELETE", "/api/secrets/mu_shared", {}, None, 404),
    ("delete a missing name", "DELETE", "/api/secrets/no_such_secret", {}, None, 404),
    ("delete a global secret", "DELETE", "/api/secrets/beta_global", {}, None, 200),
    ("list at the end", "GET", "/api/secrets", {}, None, 200),
]

# What every scope holds at the end, and the value each name holds there.
FINAL = {
    "global": {"alpha_global": "alpha_global", "kappa_upper": "kappa_upper", "lambda_bogus": "lambda_bogus",
               "mage_git_access_token_made_up": "mage_git_access_token_made_up"},
}
LISTED_AT_END = ["alpha_global", "kappa_upper", "lambda_bogus"]  # Mage hides the git secret


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def derive_python(root):
    """FULL_PYTHON itself when it has the start-up hook; else a virtualenv derived from it
    whose site-packages sees the full one's (a .pth) and holds this checkout's mage_vault,
    `_mage_vault_hook` and `mage_vault_mage.pth`, as the wheel installs them (what `make
    mage-test` does for the thin Mage virtualenv): the full virtualenv is never changed."""
    has_hook = subprocess.run([FULL_PYTHON, "-c", "import _mage_vault_hook"], capture_output=True).returncode == 0
    if has_hook:
        return FULL_PYTHON
    venv = os.path.join(root, "venv")
    subprocess.run([FULL_PYTHON, "-m", "venv", "--without-pip", venv], check=True)
    python = os.path.join(venv, "bin", "python")
    purelib = 'import sysconfig; print(sysconfig.get_path("purelib"))'
    site = subprocess.run([python, "-c", purelib], capture_output=True, text=True, check=True).stdout.strip()
    mage_site = subprocess.run([FULL_PYTHON, "-c", purelib], capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(site, "00-mage-venv.pth"), "w") as out:
        out.write(f"import site; site.addsitedir({mage_site!r})\n")
    os.symlink(os.path.join(SOURCES, "mage_vault"), os.path.join(site, "mage_vault"))
    os.symlink(os.path.join(SOURCES, "_mage_vault_hook.py"), os.path.join(site, "_mage_vault_hook.py"))
    with open(os.path.join(SOURCES, "mage_vault_mage.pth")) as source, \
            open(os.path.join(site, "mage_vault_mage.pth"), "w") as out:
        out.write(source.read())
    return python


def mage_command(python):
    """The `mage` command of that Python's environment (the console script pip writes)."""
    mage = os.path.join(os.path.dirname(python), "mage")
    if not os.path.exists(mage):
        with open(mage, "w") as out:
            out.write(f"#!{python}\nimport sys\nfrom mage_ai.cli.main import app\nsys.exit(app())\n")
        os.chmod(mage, 0o755)
    return mage


class Client:
    """Mage's frontend's way of calling the API (mage_ai/server/frontend_dist: its api
    module): api_key in the query string and in a JSON body, `Authorization: Bearer TOKEN`
    once logged in, and the session's encoded token as the `oauth_token` cookie."""

    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.token = self.cookie = None

    def call(self, method, path, query=None, body=None):
        url = f"{self.base}{path}?{urllib.parse.urlencode({**(query or {}), 'api_key': API_KEY})}"
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
            headers["Cookie"] = f"oauth_token={self.cookie}"
        data = json.dumps({**body, "api_key": API_KEY}).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with self.opener.open(request, timeout=60) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw or b"null")
        except ValueError:
            return status, {"unparsed": raw.decode("utf-8", "replace")[:200]}

    def login(self):
        status, body = self.call("POST", "/api/sessions",
                                 body={"session": {"email": OWNER_EMAIL, "password": OWNER_PASSWORD}})
        encoded = (body.get("session") or {}).get("token")
        if encoded:  # a JWT whose payload's "token" is the OAuth access token (the frontend decodes it)
            payload = encoded.split(".")[1]
            self.token = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["token"]
            self.cookie = encoded
        return status, body


class MageServer:
    """`mage init` then `mage start` of a project in its own folder, data dir and database."""

    def __init__(self, python, root, vault):
        self.root, self.vault = root, vault
        self.data_dir = os.path.join(root, "data")
        self.database = os.path.join(self.data_dir, PROJECT, "mage-ai.db")
        self.log_path = os.path.join(root, "mage-start.log")
        self.port = free_port()
        self.process = None
        os.makedirs(self.data_dir)
        self.env = {
            "PATH": f"{os.path.dirname(python)}:/usr/bin:/bin",
            "HOME": root,
            "LANG": "C.UTF-8",
            "MAGE_DATA_DIR": self.data_dir,
            "MAGE_VAULT_LIB": LIBRARY,
        }
        self.mage = mage_command(python)

    def tool(self, *arguments):
        return subprocess.run([TOOL, *arguments, "--data-dir", self.data_dir], capture_output=True,
                              env={k: v for k, v in self.env.items() if k != "MAGE_DATA_DIR"}, timeout=60)

    def start(self):
        if self.vault:
            made = self.tool("init")
            assert made.returncode == 0, made.stderr.decode()
            assert os.path.exists(os.path.join(self.data_dir, "secrets", "vault.log"))
        subprocess.run([self.mage, "init", PROJECT, "--project-uuid", PROJECT_UUID], cwd=self.root, env=self.env,
                       capture_output=True, check=True, timeout=120)
        metadata = os.path.join(self.root, PROJECT, "metadata.yaml")
        with open(metadata) as source:
            text = source.read()
        with open(metadata, "w") as out:  # no usage statistics posted to mage.ai (Mage sends one per error)
            out.write(text.replace("help_improve_mage: true", "help_improve_mage: false"))
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen([self.mage, "start", PROJECT, "--port", str(self.port)], cwd=self.root,
                                        env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def wait(self):
        client = Client(self.port)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"mage start exited {self.process.returncode}: {self.tail()}")
            try:
                if client.call("GET", "/api/status")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"mage start did not answer in {START_TIMEOUT} s: {self.tail()}")

    def tail(self):
        try:
            with open(self.log_path, "rb") as log:
                return log.read()[-3000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)  # the server, its scheduler and kernels
            self.process.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)
        try:  # whatever is left in the group (children outlive a server that exited first)
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process = None
        self.log.close()

    def rows(self):
        """(name, key_uuid) of every row of Mage's secret table."""
        with sqlite3.connect(self.database) as connection:
            return sorted(connection.execute("SELECT name, key_uuid FROM secret").fetchall())

    def scope_of_uuid(self):
        """Mage's key uuid of each scope folder -> the scope's label."""
        secrets = os.path.join(self.data_dir, "secrets")
        found = {}
        for folder, _, files in os.walk(secrets):
            if "uuid" not in files:
                continue
            with open(os.path.join(folder, "uuid")) as source:
                found[source.read().strip()] = self.label(os.path.relpath(folder, secrets))
        return found

    @staticmethod
    def label(relative):
        parts = [] if relative == "." else relative.split(os.sep)
        if not parts:
            return "global"
        if len(parts) == 2:
            return f"project {parts[1]}"
        return f"pipeline {parts[1]}/{parts[3]}"


def answer_shape(label, status, body):
    """What must be equal between the two servers: HTTP status, Mage's error code and type,
    the keys of the answer and of each secret, the names. Ids are checked to be integers."""
    shape = {"step": label, "http": status, "keys": sorted(body) if isinstance(body, dict) else repr(body)}
    if not isinstance(body, dict):
        return shape
    error = body.get("error")
    if error:
        shape["code"] = error.get("code")
        shape["type"] = error.get("type")
        shape["error_keys"] = sorted(error)
        return shape
    shape["code"] = 200
    if "secret" in body:
        shape["secret_keys"] = sorted(body["secret"])
        shape["name"] = body["secret"].get("name")
        shape["id_is_int"] = isinstance(body["secret"].get("id"), int)
    if "secrets" in body:
        shape["names"] = [row.get("name") for row in body["secrets"]]
        shape["secret_keys"] = sorted({key for row in body["secrets"] for key in row})
        shape["ids_are_int"] = all(isinstance(row.get("id"), int) for row in body["secrets"])
        shape["metadata"] = body.get("metadata")
    if "session" in body:
        shape["session_keys"] = sorted(body["session"])
    return shape


def run_scenario(server):
    client = Client(server.port)
    shapes = []
    for label, method, path, query, body, _ in STEPS:
        if label == "login":
            status, answer = client.login()
        else:
            status, answer = client.call(method, path, query, body)
        shapes.append(answer_shape(label, status, answer))
    return shapes


class MageApiTest(unittest.TestCase):
    """One stock server and one on the vault, each started once; the scenario runs on both."""

    @classmethod
    def setUpClass(cls):
        if not FULL_PYTHON:
            message = ("MAGE_FULL_PYTHON is not set: Mage's /api/secrets through a real `mage start` server is NOT "
                       "tested. Set it to the Python of a virtualenv with the full mage-ai 0.9.80 "
                       "(pip install mage-ai==0.9.80 -c /work/shared/mage-0.9.80-full-constraints.txt)")
            print(f"\n*** SKIPPED: {message}\n", file=sys.stderr, flush=True)
            raise unittest.SkipTest(message)
        if not TOOL or not LIBRARY:
            raise AssertionError("MAGE_VAULT_BIN and MAGE_VAULT_LIB must name the mage-vault command and libmagevault.so")
        started = time.monotonic()
        cls.root = tempfile.mkdtemp(prefix="mage-api-")
        python = derive_python(cls.root)
        cls.servers = {name: MageServer(python, os.path.join(cls.root, name), vault)
                       for name, vault in (("stock", False), ("vault", True))}
        for server in cls.servers.values():
            os.makedirs(server.root, exist_ok=True)
            cls.addClassCleanup(server.stop)
        # Both start at once: `mage start` is mostly waiting on imports and migrations.
        errors = []

        def start(server):
            try:
                server.start()
                server.wait()
            except BaseException as error:  # reported below, on the test's thread
                errors.append(error)

        threads = [threading.Thread(target=start, args=(server,)) for server in cls.servers.values()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        cls.start_seconds = time.monotonic() - started
        cls.shapes = {name: run_scenario(server) for name, server in cls.servers.items()}
        print(f"\n(test_mage_api: both servers up in {cls.start_seconds:.1f} s)", file=sys.stderr, flush=True)

    @classmethod
    def tearDownClass(cls):
        for server in cls.servers.values():
            server.stop()
        if not os.environ.get("MAGE_API_TEST_KEEP"):
            subprocess.run(["rm", "-rf", cls.root])

    def test_stock_mage_answers_as_recorded(self):
        """The stock server answers every step with Mage 0.9.80's code (the reference is right)."""
        for shape, step in zip(self.shapes["stock"], STEPS):
            with self.subTest(step=step[0]):
                self.assertEqual(shape["http"], 200, "Mage answers HTTP 200 and puts the code in the body")
                self.assertEqual(shape["code"], step[5])

    def test_the_vault_answers_every_step_as_stock_mage(self):
        for stock, vault in zip(self.shapes["stock"], self.shapes["vault"]):
            with self.subTest(step=stock["step"]):
                self.assertEqual(vault, stock)

    def test_answers_present_id_and_name_only(self):
        for backend, shapes in self.shapes.items():
            for shape in shapes:
                if "secret_keys" in shape and shape["secret_keys"]:
                    with self.subTest(backend=backend, step=shape["step"]):
                        self.assertEqual(shape["secret_keys"], ["id", "name"])
                        self.assertTrue(shape.get("id_is_int", shape.get("ids_are_int")))

    def test_lists_name_the_global_secrets(self):
        for backend, shapes in self.shapes.items():
            by_step = {shape["step"]: shape for shape in shapes}
            with self.subTest(backend=backend):
                self.assertEqual(by_step["list at the end"]["names"], LISTED_AT_END)
                self.assertEqual(by_step["list"]["names"], ["alpha_global", "beta_global", "kappa_upper",
                                                             "lambda_bogus", "mu_shared"])
                self.assertEqual(by_step["list _limit=2 _offset=1"]["names"], ["beta_global", "kappa_upper"])
                self.assertEqual(by_step["list _limit=2 _offset=1"]["metadata"], {"count": 5, "next": True})

    def test_every_scope_holds_the_same_names(self):
        stock = self.servers["stock"]
        by_uuid = stock.scope_of_uuid()
        stock_scopes = {}
        for name, key_uuid in stock.rows():
            stock_scopes.setdefault(by_uuid.get((key_uuid or "").strip(), f"unknown {key_uuid}"), []).append(name)
        vault_scopes = self.vault_scopes()
        self.assertEqual({scope: sorted(names) for scope, names in stock_scopes.items()},
                         {scope: sorted(names) for scope, names in vault_scopes.items()})
        self.assertEqual(vault_scopes, {scope: sorted(names) for scope, names in FINAL.items()})

    def test_with_the_vault_mages_database_holds_no_secret_row(self):
        self.assertEqual(self.servers["vault"].rows(), [])
        self.assertNotEqual(self.servers["stock"].rows(), [], "the stock server's database holds its secrets")

    def test_the_vault_holds_the_values_created(self):
        server = self.servers["vault"]
        for scope, names in FINAL.items():
            for name, value_key in names.items():
                result = server.tool("get", name, *self.scope_arguments(scope))
                with self.subTest(scope=scope, name=name):
                    self.assertEqual(result.returncode, 0, result.stderr.decode())
                    # `get` prints the value exactly (no newline into a pipe); a create through the
                    # API that met an existing name left the first value
                    self.assertTrue(result.stdout.decode() == VALUES[value_key],
                                    f"the vault's value of {name} is not the one created")
        for name, scope in (("gamma_project", f"project {PROJECT_UUID}"), ("delta_project", f"project {PROJECT_UUID}"),
                            ("epsilon_pipeline", f"pipeline {PROJECT_UUID}/{PIPELINE}"),
                            ("mu_shared", "global"), ("mu_shared", f"pipeline {PROJECT_UUID}/{PIPELINE}"),
                            ("beta_global", "global")):
            with self.subTest(deleted=name, scope=scope):
                self.assertEqual(server.tool("get", name, *self.scope_arguments(scope)).returncode, 1,
                                 "a secret deleted through the API is still in the vault")

    @staticmethod
    def scope_arguments(scope):
        if scope == "global":
            return []
        kind, path = scope.split(" ")
        if kind == "project":
            return ["--project", path]
        project, pipeline = path.split("/")
        return ["--project", project, "--pipeline", pipeline]

    def vault_scopes(self):
        """Scope label -> the names the vault holds in exactly that scope."""
        server = self.servers["vault"]
        found = {}
        secrets = os.path.join(server.data_dir, "secrets")
        scopes = ["global"]
        for project in sorted(os.listdir(os.path.join(secrets, "projects"))):
            scopes.append(f"project {project}")
            pipelines = os.path.join(secrets, "projects", project, "pipelines")
            if os.path.isdir(pipelines):
                scopes += [f"pipeline {project}/{pipeline}" for pipeline in sorted(os.listdir(pipelines))]
        for scope in scopes:
            result = server.tool("list", "--json", *self.scope_arguments(scope))
            self.assertEqual(result.returncode, 0, result.stderr.decode())
            names = sorted(row["name"] for row in json.loads(result.stdout) if row["scope"] == scope)
            if names:
                found[scope] = names
        return found


if __name__ == "__main__":
    unittest.main()
