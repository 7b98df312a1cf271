"""The C interface (magevault.h) through ctypes: the library is found beside this file
(as a wheel installs it), or at $MAGE_VAULT_LIB; every function is declared with its
argument and result types, the ABI version is checked once, and `check` turns -1 into a
`VaultError` that carries the library's message (never a value).

$MAGE_VAULT_LIB is trusted configuration, as LD_LIBRARY_PATH and LD_PRELOAD are: the file
it names is loaded into this process, and loading a shared object runs its constructors
before any check can look at it. Whoever can set this process's environment already runs
code as its user, so the variable gives them nothing new; never set it from input you do
not trust. The ABI handshake (`mgv_abi_version`) is a guard against mistakes, not a
security boundary: it turns a wrong file (another library, an older MageVault) into a
`VaultError` of class 6 instead of a crash on the first call.

Every string that crosses as a NUL-terminated `char *` (a name, a project or pipeline
uuid, a data dir) goes through `c_string`, which refuses a NUL byte (C would read the
string cut short there: `"db\\0evil"` would be `db`) before anything is opened.
"""

from __future__ import annotations

import ctypes
import os
import _thread

ABI_VERSION = 1

_lib = None
_lock = _thread.allocate_lock()
# mgv_get_into with no argtypes, set by `load`: ctypes converts declared arguments on every
# call, which was most of a warm read's time. Callers pass exactly the C types: the handle's
# c_void_p, the name's bytes, a c_uint8 array, a c_size_t capacity, byref(c_size_t).
get_into = None


class VaultError(Exception):
    """A failure of the vault, with the tool's message and exit-code class in `code`:
    1 not found, 2 bad input, 3 wrong key, 4 damaged vault, 5 permission, 6 other I/O."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def c_string(text: str, argument: str) -> bytes:
    """`text` as the UTF-8 of a C string, or VaultError (class 2) naming `argument` when
    C cannot carry it whole. The message never repeats the text."""
    try:
        if "\0" not in text:
            return text.encode("utf-8")
    except UnicodeEncodeError:
        raise VaultError(f"{argument} is not valid Unicode text (it holds a lone surrogate); nothing was done", 2) from None
    except (TypeError, AttributeError):
        raise VaultError(f"{argument} must be a str, not {type(text).__name__}", 2) from None
    raise VaultError(f"{argument} holds a NUL byte, which the vault cannot take (C would cut it short there); nothing was done", 2)


def value_bytes(text: str) -> bytes:
    """A secret value as UTF-8 (a NUL is kept: values cross with a length), or VaultError
    (class 2) that never repeats the value."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise VaultError("the value is not valid Unicode text (it holds a lone surrogate); nothing was done", 2) from None
    except AttributeError:
        raise VaultError(f"the value must be a str, not {type(text).__name__}", 2) from None


# `os.environ`'s own table of the variables as bytes, which its setters keep in step: a
# look-up there costs a tenth of `os.environ.get`, which decodes, and for a variable that
# is not set raises and catches a KeyError (2 µs, a warm read's whole budget).
_environ_table = getattr(os.environ, "_data", None)
if not (isinstance(_environ_table, dict) and os.environ.encodekey("PATH") == b"PATH"):
    _environ_table = None


def environ_bytes(name: bytes) -> bytes | None:
    """The variable `name` as `os.environ` holds it now, as bytes (None when unset)."""
    if _environ_table is not None:
        return _environ_table.get(name)
    value = os.environ.get(os.fsdecode(name))
    return None if value is None else os.fsencode(value)


def _library_path() -> str:
    explicit = os.environ.get("MAGE_VAULT_LIB")
    if explicit:
        return explicit
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "libmagevault.so")


def load() -> ctypes.CDLL:
    """The loaded library, declared and version-checked (once per process)."""
    global _lib, get_into
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is not None:
            return _lib
        path = _library_path()
        try:
            lib = ctypes.CDLL(path)
        except OSError as error:
            raise VaultError(f"cannot load the MageVault library {path}: {error}", 6) from None
        # The handshake first: a file that is not MageVault, or speaks another ABI, may lack
        # the other functions, and the message must say which mistake it is.
        try:
            abi_version = lib.mgv_abi_version
        except AttributeError:
            raise VaultError(
                f"{path} is not a MageVault library (it has no mgv_abi_version); "
                "set MAGE_VAULT_LIB to a libmagevault.so, or unset it to use the one installed with this package", 6) from None
        abi_version.argtypes, abi_version.restype = [], ctypes.c_int32
        version = abi_version()
        if version != ABI_VERSION:
            raise VaultError(f"{path} speaks ABI {version}; this mage_vault package needs {ABI_VERSION}", 6)
        try:
            _declare(lib)
        except AttributeError as error:
            raise VaultError(f"{path} says ABI {version} but lacks one of its functions ({error}); it is not a usable MageVault library", 6) from None
        get_into = lib["mgv_get_into"]  # a function object of its own, undeclared
        get_into.restype = ctypes.c_int
        _lib = lib
        return lib


def _declare(lib: ctypes.CDLL) -> None:
    c_char_p, c_uint32, c_int, c_size_t = ctypes.c_char_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_size_t
    bytes_p = ctypes.POINTER(ctypes.c_uint8)
    lib.mgv_open_create.argtypes, lib.mgv_open_create.restype = [], c_uint32
    lib.mgv_open_exact_scope.argtypes, lib.mgv_open_exact_scope.restype = [], c_uint32
    lib.mgv_last_error.argtypes, lib.mgv_last_error.restype = [], c_char_p
    lib.mgv_last_error_code.argtypes, lib.mgv_last_error_code.restype = [], ctypes.c_int32
    lib.mgv_open.argtypes = [c_char_p, c_char_p, c_char_p, c_char_p, c_char_p, c_uint32, ctypes.POINTER(ctypes.c_void_p)]
    lib.mgv_open.restype = c_int
    lib.mgv_get.argtypes = [ctypes.c_void_p, c_char_p, ctypes.POINTER(bytes_p), ctypes.POINTER(c_size_t)]
    lib.mgv_get.restype = c_int
    lib.mgv_get_into.argtypes = [ctypes.c_void_p, c_char_p, bytes_p, c_size_t, ctypes.POINTER(c_size_t)]
    lib.mgv_get_into.restype = c_int
    lib.mgv_set.argtypes = [ctypes.c_void_p, c_char_p, c_char_p, c_size_t]
    lib.mgv_set.restype = c_int
    lib.mgv_delete.argtypes, lib.mgv_delete.restype = [ctypes.c_void_p, c_char_p], c_int
    lib.mgv_list.argtypes = [ctypes.c_void_p, ctypes.POINTER(bytes_p), ctypes.POINTER(c_size_t)]
    lib.mgv_list.restype = c_int
    lib.mgv_free.argtypes, lib.mgv_free.restype = [bytes_p, c_size_t], None
    lib.mgv_close.argtypes, lib.mgv_close.restype = [ctypes.c_void_p], None
    # mgv_import (one all-or-nothing commit of many secrets, for migrate) is newer than ABI
    # 1's first builds: declared when the library has it; `has_import` says whether it does.
    try:
        mgv_import = lib.mgv_import
    except AttributeError:
        return
    mgv_import.argtypes = [ctypes.c_void_p, c_size_t, ctypes.POINTER(c_char_p), ctypes.POINTER(bytes_p),
                           ctypes.POINTER(c_size_t)]
    mgv_import.restype = c_int


def has_import(lib: ctypes.CDLL) -> bool:
    """Whether the loaded library has `mgv_import` (declared by `load`)."""
    try:
        lib.mgv_import
    except AttributeError:
        return False
    return True


def check(result: int) -> int:
    """`result`, or the library's last error raised as a VaultError when it is -1."""
    if result == -1:
        lib = load()
        message = (lib.mgv_last_error() or b"").decode("utf-8", "replace")
        raise VaultError(message, lib.mgv_last_error_code())
    return result


def _reset_after_fork() -> None:
    """In a forked child: a fresh load lock (a thread of the parent may have held it at the
    fork, and it does not exist here to release it). The loaded library stays loaded."""
    global _lock
    _lock = _thread.allocate_lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
