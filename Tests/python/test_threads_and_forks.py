"""The package under threads and forks (issue 23): `close()` while other threads are inside
calls, a fork while another thread holds the package's locks or is inside the library, and
forked writers appending to one vault at once. Mage's server, scheduler and block runs are
threads and forked processes of one another. Run as test_mage_vault.py is (MAGE_VAULT_LIB,
MAGE_VAULT_BIN). A child that hangs is killed after a timeout and fails its test."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import unittest
import warnings

SOURCES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Sources", "python")
sys.path.insert(0, SOURCES)

import mage_vault  # noqa: E402
from vault_case import DataDirCase  # noqa: E402
from mage_vault import _native  # noqa: E402

TOOL = os.environ.get("MAGE_VAULT_BIN", "mage-vault")


def wait_for(pids, timeout):
    """{pid: exit code, or "hung" for a child still running after `timeout` s (then killed)}."""
    deadline = time.monotonic() + timeout
    pending, statuses = set(pids), {}
    while pending and time.monotonic() < deadline:
        for pid in list(pending):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                statuses[pid] = os.waitstatus_to_exitcode(status)
                pending.discard(pid)
        if pending:
            time.sleep(0.005)
    for pid in pending:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        statuses[pid] = "hung"
    return statuses


def fork(child):
    """Forks; the child runs `child()` and leaves with its result (an exit code), 70 when it
    raised, never returning into the test runner."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12 warns of fork with threads
        pid = os.fork()
    if pid:
        return pid
    code = 70
    try:
        code = child()
    finally:
        os._exit(code)


class ThreadsAndForksTests(DataDirCase):
    prefix = "mage-vault-python-forks-"

    def tool(self, *arguments):
        return subprocess.run([TOOL, *arguments, "--data-dir", self.data], capture_output=True, check=False, timeout=120)

    def assertVaultHolds(self, expected):
        """`mage-vault verify` passes and the tool reads exactly `expected` (name -> value);
        failures name secrets and counts, never values."""
        verify = self.tool("verify")
        self.assertEqual(verify.returncode, 0, verify.stderr.decode(errors="replace")[-2000:])
        export = self.tool("export", "--format", "json", "--plaintext")
        self.assertEqual(export.returncode, 0, export.stderr.decode(errors="replace")[-2000:])
        found = json.loads(export.stdout)
        if isinstance(found, list):  # a list of {name, value} objects rather than one object
            found = {entry["name"]: entry["value"] for entry in found}
        self.assertEqual(len(found), len(expected), "the tool lists another number of secrets than were acknowledged")
        self.assertEqual(sorted(set(expected) - set(found)), [], "acknowledged secrets the tool does not have")
        wrong = sorted(name for name in expected if found.get(name) != expected[name])
        self.assertEqual(wrong, [], "secrets the tool reads with another value")

    def test_close_while_other_threads_are_inside_calls(self):
        script = r'''
import os, sys, threading, time
sys.path.insert(0, sys.argv[1])
import mage_vault

mage_vault.create_secret("shared", "made-up-shared")
errors, counts, stop = [], {}, threading.Event()

def writer(number):
    name, step = f"writer{number}", 0
    try:
        while not stop.is_set():
            mage_vault.create_secret(name, f"made-up-{number}-{step}")
            if mage_vault.get_secret_value(name) != f"made-up-{number}-{step}":
                errors.append(f"{name} read back another value at step {step}")
                return
            if name not in mage_vault.list_secrets():
                errors.append(f"{name} is not listed at step {step}")
                return
            step += 1
    except Exception as error:
        errors.append(f"{name}: {type(error).__name__}: {error}")
    counts[name] = step

def reader(number):
    name, step = f"reader{number}", 0
    try:
        while not stop.is_set():
            if mage_vault.get_secret_value("shared") != "made-up-shared":
                errors.append(f"{name} read another value of shared at step {step}")
                return
            if "shared" not in mage_vault.list_secrets():
                errors.append(f"{name} does not list shared at step {step}")
                return
            step += 1
    except Exception as error:
        errors.append(f"{name}: {type(error).__name__}: {error}")
    counts[name] = step

threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
threads += [threading.Thread(target=reader, args=(n,)) for n in range(3)]
for thread in threads:
    thread.start()
closes, deadline = 0, time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline and not errors:
    mage_vault.close()
    closes += 1
    time.sleep(0.0002 * (closes % 7))
stop.set()
for thread in threads:
    thread.join()
mage_vault.close()
if errors:
    print("\n".join(errors))
    sys.exit(1)
print(closes, len(counts), min(counts.values()))
'''
        run = subprocess.run([sys.executable, "-c", script, SOURCES, "3"], capture_output=True, text=True, timeout=300)
        self.assertEqual(run.returncode, 0, f"exit {run.returncode}: {run.stdout[-2000:]} {run.stderr[-2000:]}")
        closes, threads, fewest = (int(word) for word in run.stdout.split())
        self.assertEqual(threads, 5)
        self.assertGreater(closes, 100)
        self.assertGreater(fewest, 0, "a thread made no call")
        self.assertEqual(mage_vault.get_secret_value("shared"), "made-up-shared")
        self.assertEqual(mage_vault.list_secrets(), ["shared", "writer0", "writer1"])

    def test_a_lock_held_by_another_thread_at_the_fork_does_not_hang_the_child(self):
        mage_vault.create_secret("warm", "made-up-warm")
        holding, release = threading.Event(), threading.Event()

        def hold():  # as a thread inside the package at the moment of the fork holds them
            with mage_vault._handles_lock, _native._lock:
                holding.set()
                release.wait(60)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            self.assertTrue(holding.wait(10))

            def child():
                if mage_vault.get_secret_value("warm") != "made-up-warm":
                    return 3
                mage_vault.create_secret("from_child", "made-up-child")
                mage_vault.close()
                return 0 if mage_vault.get_secret_value("from_child") == "made-up-child" else 4

            status = wait_for([fork(child)], timeout=20)
        finally:
            release.set()
            holder.join()
        self.assertEqual(list(status.values()), [0])
        self.assertEqual(mage_vault.get_secret_value("from_child"), "made-up-child")

    def test_forks_while_another_thread_is_inside_calls(self):
        mage_vault.create_secret("busy", "made-up-0")
        stop, errors = threading.Event(), []

        def loop():
            step = 0
            try:
                while not stop.is_set():
                    step += 1
                    mage_vault.create_secret("busy", f"made-up-{step}")
                    if mage_vault.get_secret_value("busy") != f"made-up-{step}":
                        errors.append(f"busy read back another value at step {step}")
                    mage_vault.list_secrets()
            except Exception as error:
                errors.append(f"{type(error).__name__}: {error}")

        def reads():
            try:
                while not stop.is_set():
                    mage_vault.get_secret_value("busy")
            except Exception as error:
                errors.append(f"{type(error).__name__}: {error}")

        threads = [threading.Thread(target=loop), threading.Thread(target=reads)]
        for thread in threads:
            thread.start()
        statuses = []
        try:
            for number in range(20):
                time.sleep(0.002 * (number % 5))

                def child(number=number):
                    value = mage_vault.get_secret_value("busy")
                    if value is None or not value.startswith("made-up-"):
                        return 3
                    mage_vault.create_secret(f"child{number}", f"made-up-child-{number}")
                    return 0

                statuses.append(wait_for([fork(child)], timeout=20).popitem()[1])
                if statuses[-1] != 0:
                    break
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        self.assertEqual(statuses, [0] * 20, "exit codes of the children (70: raised, hung: killed after 20 s)")
        self.assertEqual(errors, [])
        mage_vault.close()
        expected = {f"child{number}": f"made-up-child-{number}" for number in range(20)}
        for name, value in expected.items():
            self.assertEqual(mage_vault.get_secret_value(name, suppress_warning=True), value, name)
        expected["busy"] = mage_vault.get_secret_value("busy")
        self.assertVaultHolds(expected)

    def test_forked_writers_lose_no_acknowledged_write(self):
        writers, names_each = 4, 30
        mage_vault.create_secret("before_fork", "made-up-parent")  # the children inherit a warm vault
        go_read, go_write = os.pipe()
        pids, reports = [], {}
        for writer in range(writers):
            report_read, report_write = os.pipe()

            def child(writer=writer, report_write=report_write):
                os.close(go_write)
                os.read(go_read, 1)  # all at once
                with os.fdopen(report_write, "w") as report:
                    for number in range(names_each):
                        name = f"w{writer}_n{number}"
                        try:
                            mage_vault.create_secret(name, f"made-up-{writer}-{number}")
                        except mage_vault.VaultError as error:
                            report.write(f"! {name} class {error.code}\n")
                            return 1
                        report.write(name + "\n")
                        report.flush()
                return 0

            pids.append(fork(child))
            os.close(report_write)
            reports[pids[-1]] = report_read
        os.close(go_read)
        os.write(go_write, b"x" * writers)
        os.close(go_write)
        statuses = wait_for(pids, timeout=120)
        acknowledged, failures = {"before_fork": "made-up-parent"}, []
        for pid in pids:
            with os.fdopen(reports[pid]) as report:
                for line in report.read().splitlines():
                    if line.startswith("!"):
                        failures.append(line)
                    else:
                        writer, number = (int(part[1:]) for part in line.split("_"))
                        acknowledged[line] = f"made-up-{writer}-{number}"
        self.assertEqual(failures, [])
        self.assertEqual(sorted(statuses.values()), [0] * writers)
        self.assertEqual(len(acknowledged), 1 + writers * names_each)
        self.assertVaultHolds(acknowledged)
        mage_vault.close()
        self.assertEqual(len(mage_vault.list_secrets()), 1 + writers * names_each)


if __name__ == "__main__":
    unittest.main()
