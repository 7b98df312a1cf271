"""`make bench`'s Python rows: Mage 0.9.80's own get_secret_value against mage_vault's,
warm (many calls in one process) and cold (a whole new `python -c`), on the same 10,000
secrets, in the same run. Writes a section of BENCHMARKS.md.

    python_rows.py --mage-python VENV/bin/python --library libmagevault.so --tool mage-vault \
        --secrets 10000 --output BENCHMARKS.md
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PACKAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Sources", "python")
SECTION = "## Python: Mage's get_secret_value and mage_vault's"

MAGE_SETUP = """
import os, sys, time
from mage_ai.orchestration.db import db_connection
from mage_ai.orchestration.db.models.base import Base
from mage_ai.orchestration.db.models.secrets import Secret
from mage_ai.data_preparation.shared.secrets import create_secret
db_connection.start_session()
Base.metadata.create_all(db_connection.session.get_bind(), tables=[Secret.__table__])
for i in range(int(sys.argv[1])):
    create_secret('name_%05d' % i, 'made-up-value-%05d' % i)
"""

WARM = """
import sys, time
calls = int(sys.argv[2])
if sys.argv[1] == 'mage':
    from mage_ai.orchestration.db import db_connection
    db_connection.start_session()
    from mage_ai.data_preparation.shared.secrets import get_secret_value
else:
    sys.path.insert(0, sys.argv[3])
    from mage_vault import get_secret_value
assert get_secret_value('name_05000') == 'made-up-value-05000'
rounds = []
for _ in range(5):
    start = time.perf_counter()
    for _ in range(calls):
        get_secret_value('name_05000')
    rounds.append((time.perf_counter() - start) / calls * 1e6)
rounds.sort()
print(rounds[len(rounds) // 2])
"""

COLD_MAGE = (
    "from mage_ai.orchestration.db import db_connection; db_connection.start_session(); "
    "from mage_ai.data_preparation.shared.secrets import get_secret_value; print(get_secret_value('name_05000'))"
)
COLD_VAULT = "import mage_vault; print(mage_vault.get_secret_value('name_05000'))"


def median_ms(command, environment, rounds=9):
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        result = subprocess.run(command, env=environment, capture_output=True, check=True)
        times.append((time.perf_counter() - start) * 1e3)
        assert result.stdout.strip() == b"made-up-value-05000", result.stdout
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mage-python", required=True)
    parser.add_argument("--library", required=True)
    parser.add_argument("--tool", required=True)
    parser.add_argument("--secrets", type=int, default=10000)
    parser.add_argument("--output", required=True)
    arguments = parser.parse_args()
    work = tempfile.mkdtemp(prefix="mage-vault-pybench-")
    try:
        base = {k: v for k, v in os.environ.items() if not k.startswith("MAGE_")}
        mage = dict(base, MAGE_DATA_DIR=os.path.join(work, "mage"), MAGE_REPO_PATH=os.path.join(work, "repo"),
                    MAGE_DATABASE_CONNECTION_URL="sqlite:///" + os.path.join(work, "mage.db"))
        os.makedirs(mage["MAGE_REPO_PATH"])
        subprocess.run([arguments.mage_python, "-c", MAGE_SETUP, str(arguments.secrets)], env=mage, check=True, capture_output=True)
        vault = dict(base, MAGE_DATA_DIR=os.path.join(work, "vault"), MAGE_VAULT_LIB=os.path.abspath(arguments.library),
                     PYTHONPATH=PACKAGE)
        secrets = {"name_%05d" % i: "made-up-value-%05d" % i for i in range(arguments.secrets)}
        path = os.path.join(work, "secrets.json")
        with open(path, "w") as handle:
            json.dump(secrets, handle)
        subprocess.run([arguments.tool, "import", path, "--data-dir", vault["MAGE_DATA_DIR"]], env=vault, check=True,
                       capture_output=True)
        mage_warm = float(subprocess.run([arguments.mage_python, "-c", WARM, "mage", "200"], env=mage, check=True,
                                         capture_output=True).stdout.split()[-1])
        vault_warm = float(subprocess.run([arguments.mage_python, "-c", WARM, "vault", "20000", PACKAGE], env=vault,
                                          check=True, capture_output=True).stdout.split()[-1])
        mage_cold = median_ms([arguments.mage_python, "-c", COLD_MAGE], mage)
        vault_cold = median_ms([arguments.mage_python, "-c", COLD_VAULT], vault)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = [
        SECTION,
        "",
        f"{arguments.secrets:,} secrets, the same names and values in Mage's SQLite database and in the vault; "
        "Mage's Python (its virtualenv) runs both; medians (warm: of 5 rounds of many calls; cold: of 9 new processes).",
        "",
        "| workload | Mage 0.9.80 | mage_vault | ratio | target |",
        "|---|---|---|---|---|",
        f"| warm `get_secret_value`, per call | {mage_warm:.0f} µs | {vault_warm:.1f} µs | {mage_warm / vault_warm:.0f}× faster | ≤ 20 µs, ≥ 19× |",
        f"| cold `python -c 'import …; get_secret_value(…)'` | {mage_cold:.0f} ms | {vault_cold:.0f} ms | {vault_cold / mage_cold:.2f}× | ≤ 0.33× |",
        "",
    ]
    text = open(arguments.output, encoding="utf-8").read() if os.path.exists(arguments.output) else ""
    if SECTION in text:
        start = text.index(SECTION)
        end = text.find("\n## ", start + 1)
        text = text[:start] + text[end + 1:] if end >= 0 else text[:start]
    text = text.rstrip("\n") + "\n\n" + "\n".join(rows)
    with open(arguments.output, "w", encoding="utf-8") as handle:
        handle.write(text)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
