"""A Mage install for test_migrate.py, made with mage-ai 0.9.80's own code in Mage's Python.

    python migrate_fixture.py install EXPECTED.json   # the install the tests migrate
    python migrate_fixture.py bulk EXPECTED.json N    # N rows, for the planning-time test
    python migrate_fixture.py add EXPECTED.json NAME  # one more global secret, through Mage
    python migrate_fixture.py dump EXPECTED.json      # the secret table and the tables list

The environment says where (MAGE_DATA_DIR, MAGE_REPO_PATH, MAGE_DATABASE_CONNECTION_URL:
SQLite, PostgreSQL or MySQL). Creating the `secret` table is fixture setup (Mage's own
`Base.metadata.create_all`, as `mage start` makes it), never the migration's work. Secrets
go in through Mage's `create_secret`, `delete_secrets_dir` and `Secret` model, so the rows,
tokens, key and uuid files are Mage's bytes. EXPECTED.json receives what Mage's own
`get_secret_value` returns for every name in every scope, and why each row it cannot read
is unreadable. Every value is made up; nothing here prints one.
"""
import json
import os
import shutil
import sys
import uuid

command, output = sys.argv[1], sys.argv[2]

from cryptography.fernet import Fernet  # noqa: E402

from mage_ai.data_preparation.shared.secrets import (  # noqa: E402
    _get_encryption_key,
    create_secret,
    delete_secrets_dir,
    get_secret_value,
    get_secrets_dir,
)
from mage_ai.orchestration.constants import Entity  # noqa: E402
from mage_ai.orchestration.db import db_connection  # noqa: E402
from mage_ai.orchestration.db.models.base import Base  # noqa: E402
from mage_ai.orchestration.db.models.secrets import Secret  # noqa: E402

db_connection.start_session()
REPO = os.environ["MAGE_REPO_PATH"]
DATA = os.environ["MAGE_DATA_DIR"]

# The scopes the tests read back: (label, project, pipeline).
SCOPES = [("global", None, None), ("project sales", "sales", None), ("pipeline sales/daily", "sales", "daily"),
          ("project k8s", "k8s", None), ("project linked", "linked", None), ("project handmade", "handmade", None)]
ESCAPE_NAME = "red \x1b[31malert\x1b[0m"  # a terminal escape sequence in a row's name
ESCAPE_PROJECT = "evil\x1b]0;pwned\x07"  # ... and in a project folder's name


def entity(project, pipeline):
    return Entity.PIPELINE if pipeline else Entity.PROJECT if project else Entity.GLOBAL


def scoped(name, value, project=None, pipeline=None):
    return create_secret(name, value, entity=entity(project, pipeline), project_uuid=project, pipeline_uuid=pipeline)


def expectations(refusals):
    """What Mage's get_secret_value returns for every name of every scope (None: nothing,
    or Mage raised), and the row ids by name."""
    rows = Secret.query.order_by(Secret.id).all()
    names = sorted({row.name for row in rows})
    scopes = []
    for label, project, pipeline in SCOPES + [("project escape", ESCAPE_PROJECT, None)]:
        values, raised = {}, []
        for name in names:
            try:
                values[name] = get_secret_value(name, entity(project, pipeline), pipeline_uuid=pipeline,
                                                project_uuid=project, suppress_warning=True)
            except Exception:
                values[name] = None
                raised.append(name)
        scopes.append({"label": label, "project": project, "pipeline": pipeline, "values": values, "raised": raised})
    return {"repo": REPO, "scopes": scopes, "refusals": {str(k): v for k, v in sorted(refusals.items())},
            "rows": {str(row.id): row.name for row in rows}, "escape_name": ESCAPE_NAME, "escape_project": ESCAPE_PROJECT}


def install():
    refusals = {}  # row id -> a word the migrate's reason for it must contain
    # The global scope: the names of ARCHITECTURE.md's scenario and Mage's odd cases.
    scoped("secret1", "sooper dooper secret string")
    scoped("secret2", "xXxSecreTxXx")
    scoped("db password", "made-up pass")  # a space
    scoped("team/api_key", "made-up-slash-value")  # a '/'
    scoped("ünïcødé 名前", "line one\nzweite Zeile ✓\r\n第三行 🚀\n")
    scoped("empty", "")  # Mage stores empty values
    scoped("big", "".join("made-up-%05d;" % i for i in range(800)))  # ~11 KB
    scoped("tab\tname", "made-up-tab")  # the vault needs --rename for it
    refusals[scoped("é" * 200, "made-up-long").id] = "at most 255 bytes"
    refusals[scoped(ESCAPE_NAME, "made-up-escape").id] = "control characters"
    plain = scoped("plain", "made-up before put")
    plain.update(value="made-up plain text")  # Mage's PUT with authentication off: no encryption
    refusals[plain.id] = "plain text"
    key, key_uuid = _get_encryption_key(Entity.GLOBAL)
    # A token sealed under another key (a wrong-key row), under this environment's uuid.
    forged = Secret(name="forged", value=Fernet(Fernet.generate_key()).encrypt(b"made-up forged").decode(),
                    key_uuid=key_uuid, repo_name=REPO)
    forged.save()
    refusals[forged.id] = "HMAC"
    null = Secret(name="null_value", value=None, key_uuid=key_uuid, repo_name=REPO)
    null.save()
    refusals[null.id] = "NULL"
    # Legacy rows (no key_uuid), as Mage wrote them before mid-2023.
    fernet = Fernet(key)
    for name, value, repo, reason in [("legacy_only", "made-up legacy value", REPO, None),
                                      ("secret2", "made-up shadowed legacy", REPO, "legacy duplicate"),
                                      ("legacy_other_repo", "made-up other repo", "/made/up/other_repo", "another project")]:
        row = Secret(name=name, value=fernet.encrypt(value.encode()).decode(), key_uuid=None, repo_name=repo)
        row.save()
        if reason:
            refusals[row.id] = reason
    # A project and its pipeline.
    scoped("warehouse_password", "made-up warehouse", "sales")
    scoped("secret1", "made-up project secret1", "sales")
    scoped("db password", "made-up daily", "sales", "daily")
    scoped("gcp_service_account", json.dumps({"project_id": "made-up-daily-project"}), "sales", "daily")
    # A project whose uuid file ends with a newline, as a mounted Kubernetes Secret leaves it.
    k8s = get_secrets_dir(Entity.PROJECT, project_uuid="k8s")
    os.makedirs(k8s)
    with open(os.path.join(k8s, "uuid"), "w") as uuid_file:
        uuid_file.write(uuid.uuid4().hex + "\n")
    scoped("k8s_token", "made-up k8s token", "k8s")
    # Mage matches key_uuid with the uuid as read and stripped: a row under the stripped uuid
    # is the scope's too; a name under both is two rows answering one lookup (Mage raises).
    k8s_key, k8s_uuid = _get_encryption_key(Entity.PROJECT, project_uuid="k8s")
    Secret(name="k8s_stripped", value=Fernet(k8s_key).encrypt("made-up stripped uuid".encode()).decode(),
           key_uuid=k8s_uuid.strip(), repo_name=REPO).save()
    twice = [scoped("k8s_twice", "made-up twice one", "k8s"),
             Secret(name="k8s_twice", value=Fernet(k8s_key).encrypt("made-up twice two".encode()).decode(),
                    key_uuid=k8s_uuid.strip(), repo_name=REPO)]
    twice[1].save()
    for row in twice:
        refusals[row.id] = "all answer this name"
    # A project whose uuid file a person wrote: Mage takes any text, the vault only Mage's spelling.
    handmade = get_secrets_dir(Entity.PROJECT, project_uuid="handmade")
    os.makedirs(handmade)
    with open(os.path.join(handmade, "uuid"), "w") as uuid_file:
        uuid_file.write("hand-written uuid 1")
    refusals[scoped("handmade_secret", "made-up handmade value", "handmade").id] = "cannot adopt it"
    # A deleted pipeline: Mage removes its folder, its rows stay behind (an orphan key_uuid).
    orphan = scoped("orphan", "made-up orphan", "sales", "gone")
    delete_secrets_dir(Entity.PIPELINE, project_uuid="sales", pipeline_uuid="gone")
    refusals[orphan.id] = "no scope's"
    # A project folder replaced by a link to a folder outside the data dir: skipped.
    refusals[scoped("linked_secret", "made-up linked", "linked").id] = "symbolic link"
    linked = get_secrets_dir(Entity.PROJECT, project_uuid="linked")
    outside = os.path.join(os.path.dirname(DATA), "outside-linked")
    shutil.move(linked, outside)
    os.symlink(outside, linked)
    # A project folder whose name holds a terminal escape sequence: the vault cannot name it.
    refusals[scoped("escape_scoped", "made-up escape scoped", ESCAPE_PROJECT).id] = "cannot name a project"
    return expectations(refusals)


def bulk(count):
    """`count` rows: most under the global uuid, some legacy, some of another environment, a
    few in a project; tokens made with Mage's key files and Fernet, inserted through Mage's
    `Secret` table in batches (create_secret commits once per row: hours for 100,000)."""
    scoped("seed", "made-up seed")
    scoped("project_seed", "made-up project seed", "sales")
    key, key_uuid = _get_encryption_key(Entity.GLOBAL)
    fernet = Fernet(key)
    other_uuid = uuid.uuid4().hex
    batch = []
    for number in range(count - 2):
        kind = number % 20
        key_column = None if kind == 0 else other_uuid if kind == 1 else key_uuid
        batch.append({"name": f"bulk_{number:06d}", "value": fernet.encrypt(b"made-up bulk %06d" % number).decode(),
                      "key_uuid": key_column, "repo_name": REPO})
        if len(batch) == 5000:
            db_connection.session.execute(Secret.__table__.insert(), batch)
            batch = []
    if batch:
        db_connection.session.execute(Secret.__table__.insert(), batch)
    db_connection.session.commit()
    return {"rows": Secret.query.count()}


def dump():
    """The secret table, row by row, and the database's tables: what must not change."""
    from sqlalchemy import inspect

    rows = db_connection.session.query(Secret.id, Secret.name, Secret.value, Secret.repo_name, Secret.key_uuid,
                                       Secret.created_at, Secret.updated_at).order_by(Secret.id).all()
    tables = sorted(inspect(db_connection.session.get_bind()).get_table_names())
    return {"rows": [[str(column) for column in row] for row in rows], "tables": tables}


if command == "install":
    Base.metadata.create_all(db_connection.session.get_bind(), tables=[Secret.__table__])
    result = install()
elif command == "bulk":
    Base.metadata.create_all(db_connection.session.get_bind(), tables=[Secret.__table__])
    result = bulk(int(sys.argv[3]))
elif command == "add":
    scoped(sys.argv[3], "made-up added later")
    result = {}
elif command == "dump":
    result = dump()
else:
    raise SystemExit(f"unknown command {command}")
with open(output, "w", encoding="utf-8") as out:
    json.dump(result, out, ensure_ascii=False)
