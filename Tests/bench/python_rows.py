"""`make bench`'s Python rows: Mage 0.9.80's own get_secret_value against mage_vault's,
warm (many calls in one process) and cold (a whole new `python -c`), on the same 10,000
secrets, in the same run; Mage's own get_secret_value with the vault as its backend; and
what the wheel's start-up hook costs every Python process (`python -c pass` with and
without it, the variable unset and set) and `import mage_vault`. Writes a section of
BENCHMARKS.md.

The start-up rows use two virtualenvs made from Mage's Python, both seeing Mage's
site-packages: one bare, one holding what the wheel installs (`mage_vault`,
`_mage_vault_hook.py`, `mage_vault_mage.pth`), compiled to .pyc as pip does.

    python_rows.py --mage-python VENV/bin/python --library libmagevault.so --tool mage-vault \
        --secrets 10000 --output BENCHMARKS.md
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
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

# The median of five rounds of `calls` warm reads, in microseconds per read: the end of the
# two programs below, which import their get_secret_value first.
TIMED_LOOP = """
rounds = []
for _ in range(5):
    start = time.perf_counter()
    for _ in range(calls):
        get_secret_value('name_05000')
    rounds.append((time.perf_counter() - start) / calls * 1e6)
rounds.sort()
print(rounds[len(rounds) // 2])
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
""" + TIMED_LOOP

COLD_MAGE = (
    "from mage_ai.orchestration.db import db_connection; db_connection.start_session(); "
    "from mage_ai.data_preparation.shared.secrets import get_secret_value; print(get_secret_value('name_05000'))"
)
COLD_VAULT = "import mage_vault; print(mage_vault.get_secret_value('name_05000'))"

# Mage's own get_secret_value, through the start-up hook, with the vault as its backend.
WARM_HOOKED = """
import sys, time
calls = int(sys.argv[1])
from mage_ai.data_preparation.shared.secrets import get_secret_value
assert get_secret_value.__module__ == 'mage_vault.mage', get_secret_value.__module__
assert get_secret_value('name_05000') == 'made-up-value-05000'
""" + TIMED_LOOP


def median_ms(command, environment, rounds=9):
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        result = subprocess.run(command, env=environment, capture_output=True, check=True)
        times.append((time.perf_counter() - start) * 1e3)
        assert result.stdout.strip() == b"made-up-value-05000", result.stdout
    return statistics.median(times)


def virtualenv(mage_python, folder, hooked):
    """A virtualenv of Mage's Python that sees Mage's site-packages; `hooked`: with what the
    wheel puts in site-packages, compiled. Returns its python."""
    subprocess.run([mage_python, "-m", "venv", "--without-pip", folder], check=True, capture_output=True)
    python = os.path.join(folder, "bin", "python")
    where = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = subprocess.run([python, "-c", where], check=True, capture_output=True, text=True).stdout.strip()
    mage_site = subprocess.run([mage_python, "-c", where], check=True, capture_output=True, text=True).stdout.strip()
    with open(os.path.join(site, "00-mage-venv.pth"), "w") as out:
        out.write(f"import site; site.addsitedir({mage_site!r})\n")
    if hooked:
        shutil.copytree(os.path.join(PACKAGE, "mage_vault"), os.path.join(site, "mage_vault"),
                        ignore=shutil.ignore_patterns("__pycache__", "*.so"))
        for name in ("_mage_vault_hook.py", "mage_vault_mage.pth"):
            shutil.copy(os.path.join(PACKAGE, name), site)
        compiling = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run([python, "-m", "compileall", "-q", site], env=compiling, check=True, capture_output=True)
    return python


def startup_ms(commands, rounds=61):
    """Wall times (ms) of each (command, environment), `rounds` of each, the commands
    interleaved round by round so that a change in the machine's load falls on all alike."""
    times = {label: [] for label in commands}
    for _ in range(rounds):
        for label, (command, environment) in commands.items():
            start = time.perf_counter()
            subprocess.run(command, env=environment, check=True, capture_output=True)
            times[label].append((time.perf_counter() - start) * 1e3)
    return times


def cost_ms(times, label, against):
    """The median of the round-by-round differences: what `label` costs over `against`."""
    return statistics.median(a - b for a, b in zip(times[label], times[against]))


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
        bare = virtualenv(arguments.mage_python, os.path.join(work, "bare-venv"), hooked=False)
        hooked = virtualenv(arguments.mage_python, os.path.join(work, "hooked-venv"), hooked=True)
        plain = dict(base, HOME=work, MAGE_DATA_DIR=vault["MAGE_DATA_DIR"], MAGE_VAULT_LIB=vault["MAGE_VAULT_LIB"])
        switched = dict(plain, MAGE_SECRETS_BACKEND="mage-vault")
        hooked_warm = float(subprocess.run([hooked, "-c", WARM_HOOKED, "20000"], env=switched, check=True,
                                           capture_output=True).stdout.split()[-1])
        start = startup_ms({
            "bare": ([bare, "-c", "pass"], plain),
            "off": ([hooked, "-c", "pass"], plain),
            "on": ([hooked, "-c", "pass"], switched),
            "import": ([hooked, "-c", "import mage_vault"], plain),
        })
    finally:
        shutil.rmtree(work, ignore_errors=True)
    def median(label):
        return statistics.median(start[label])

    rows = [
        SECTION,
        "",
        f"{arguments.secrets:,} secrets, the same names and values in Mage's SQLite database and in the vault; "
        "Mage's Python (its virtualenv) runs both; medians (warm: of 5 rounds of many calls; cold: of 9 new processes).",
        "",
        "| workload | Mage 0.9.80 | mage_vault | ratio | target |",
        "|---|---|---|---|---|",
        f"| warm `get_secret_value`, per call | {mage_warm:.0f} µs | {vault_warm:.1f} µs | {mage_warm / vault_warm:.0f}× faster | ≤ 5 µs |",
        f"| cold `python -c 'import …; get_secret_value(…)'` | {mage_cold:.0f} ms | {vault_cold:.0f} ms | {vault_cold / mage_cold:.2f}× | ≤ 0.33× |",
        f"| warm Mage's own `get_secret_value`, the vault as its backend, per call | {mage_warm:.0f} µs | {hooked_warm:.1f} µs "
        f"| {mage_warm / hooked_warm:.0f}× faster | ≤ 10 µs |",
        "",
        "What the wheel costs a Python process that never uses it: `python -c pass` in a virtualenv with the wheel's "
        "start-up hook against one without (both see Mage's site-packages), and `import mage_vault`; 61 runs of "
        "each, interleaved; times are medians, the cost the median of the round-by-round differences.",
        "",
        "| start-up | without the wheel | with it | cost | target |",
        "|---|---|---|---|---|",
        f"| `python -c pass`, MAGE_SECRETS_BACKEND unset | {median('bare'):.1f} ms | {median('off'):.1f} ms "
        f"| {cost_ms(start, 'off', 'bare'):+.1f} ms | ≤ 2 ms |",
        f"| `python -c pass`, MAGE_SECRETS_BACKEND=mage-vault | {median('bare'):.1f} ms | {median('on'):.1f} ms "
        f"| {cost_ms(start, 'on', 'bare'):+.1f} ms | ≤ 2 ms |",
        f"| `python -c 'import mage_vault'` (against `-c pass`) | {median('off'):.1f} ms | {median('import'):.1f} ms "
        f"| {cost_ms(start, 'import', 'off'):+.1f} ms | ≤ 10 ms |",
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
