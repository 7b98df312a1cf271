"""Which library the package loads (issue 23). $MAGE_VAULT_LIB is trusted configuration
(the README says why); the ABI handshake turns a wrong file (another library, another ABI
version, not a library at all) into a clear VaultError of class 6 instead of a crash. Each
case runs in a fresh interpreter, as the library is loaded once per process."""

import ctypes
import ctypes.util
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SOURCES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Sources", "python")


class LibraryHandshakeTests(unittest.TestCase):
    def attempt(self, library):
        script = (
            "import sys\n"
            f"sys.path.insert(0, {SOURCES!r})\n"
            "import mage_vault\n"
            "try:\n"
            "    mage_vault.get_secret_value('db', suppress_warning=True)\n"
            "except mage_vault.VaultError as error:\n"
            "    print(error.code)\n"
            "    print(error)\n"
            "    sys.exit(0)\n"
            "sys.exit('loaded')\n")
        directory = tempfile.mkdtemp(prefix="mage-vault-python-lib-")
        self.addCleanup(shutil.rmtree, directory, True)
        environment = dict(os.environ, MAGE_VAULT_LIB=library, MAGE_DATA_DIR=os.path.join(directory, "data"))
        run = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 0, run.stderr[-2000:])
        code, message = run.stdout.split("\n", 1)
        return int(code), message.strip()

    def test_a_library_that_is_not_magevault_is_refused_with_class_6(self):
        name = ctypes.util.find_library("m")
        if name is None:
            self.skipTest("no libm to load")
        ctypes.CDLL(name)  # find_library gives a soname: the loader's maps say where it resolved
        with open("/proc/self/maps") as maps:
            paths = [line.split()[-1] for line in maps if line.split()[-1].endswith("/" + name)]
        library = os.path.realpath(paths[0]) if paths else name
        code, message = self.attempt(library)
        self.assertEqual(code, 6, message)
        self.assertIn(library, message)
        self.assertIn("not a MageVault library", message)
        self.assertIn("MAGE_VAULT_LIB", message)

    def test_a_library_of_another_abi_is_refused_with_class_6(self):
        compiler = shutil.which("cc") or shutil.which("gcc")
        if compiler is None:
            self.skipTest("no C compiler to build a stand-in library")
        directory = tempfile.mkdtemp(prefix="mage-vault-python-abi-")
        self.addCleanup(shutil.rmtree, directory, True)
        source = os.path.join(directory, "other.c")
        with open(source, "w") as handle:
            handle.write("int mgv_abi_version(void) { return 99; }\n")
        library = os.path.join(directory, "libother.so")
        subprocess.run([compiler, "-shared", "-fPIC", "-o", library, source], check=True, capture_output=True)
        code, message = self.attempt(library)
        self.assertEqual(code, 6, message)
        self.assertIn("ABI 99", message)
        self.assertIn(library, message)

    def test_a_file_that_is_not_a_library_is_refused_with_class_6(self):
        directory = tempfile.mkdtemp(prefix="mage-vault-python-notlib-")
        self.addCleanup(shutil.rmtree, directory, True)
        library = os.path.join(directory, "libmagevault.so")
        with open(library, "w") as handle:
            handle.write("not a shared object\n")
        code, message = self.attempt(library)
        self.assertEqual(code, 6, message)
        self.assertIn(library, message)


if __name__ == "__main__":
    unittest.main()
