/*
 * magevault.h: the C interface to MageVault, a file-backed encrypted vault for Mage's
 * secrets. Shipped with the library (libmagevault.so); ABI version 1.
 *
 * Conventions (XGBoost's c_api.h and SQLite's errmsg are the models):
 *  - Every call returns 0 (or a documented non-negative answer) on success and -1 on
 *    failure. After a failure, mgv_last_error() is a message for the user (what happened,
 *    which file, what to do; never a secret value) and mgv_last_error_code() its class,
 *    the exit status of the `mage-vault` tool: 1 not found, 2 bad input, 3 wrong key,
 *    4 damaged vault, 5 permission, 6 other I/O. Both are per thread and stay valid until
 *    the thread's next call into the library: copy them at once.
 *  - Names are NUL-terminated UTF-8, so a name cannot hold a NUL: a binding whose strings
 *    may (Python's) must refuse those before calling. Values cross as bytes with a length.
 *  - What the library hands out (a value, a list of names) is released with mgv_free,
 *    which wipes it first. A handle is released with mgv_close, once no other thread is
 *    inside a call on it (as sqlite3_close: the caller keeps count of its users).
 *  - A handle may be used from several threads; calls on one handle are serialised.
 *    It keeps its index warm between calls and sees what other processes wrote on each.
 *  - A process may fork after using the library: a fork waits for calls in flight to
 *    finish (pthread_atfork), so no handle's lock is held in the child, and the child
 *    takes the vault's file lock through a descriptor of its own, so parent and children
 *    writing at once exclude each other and lose nothing.
 *  - A refused write changes nothing: MGV_OPEN_CREATE makes a scope's uuid and key files on
 *    its first mgv_set that passes validation, not at mgv_open.
 */
#ifndef MAGEVAULT_H
#define MAGEVAULT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this header describes; compare with mgv_abi_version() at load time. */
#define MGV_ABI_VERSION 1

/* mgv_open flags. */
#define MGV_OPEN_CREATE 1u      /* create the scope's uuid and key files when missing, on the first valid write */
#define MGV_OPEN_EXACT_SCOPE 2u /* read the scope itself only, as Mage does (no fallback to parents) */

/* An open vault. */
typedef void *mgv_vault;

/* The ABI version of the loaded library (MGV_ABI_VERSION of the header it was built with). */
int32_t mgv_abi_version(void);

/* The flags above, as functions (ctypes cannot read a #define). */
uint32_t mgv_open_create(void);
uint32_t mgv_open_exact_scope(void);

/* The message and class of this thread's last failure ("" and 0 when there was none). */
const char *mgv_last_error(void);
int32_t mgv_last_error_code(void);

/*
 * Opens the vault of one scope. Every argument but `out` may be NULL, which means what the
 * tool's default means: data_dir $MAGE_DATA_DIR else ~/.mage_data; vault_file
 * $MAGE_VAULT_FILE else <data dir>/secrets/vault.log; project and pipeline NULL for the
 * global scope (a pipeline needs its project); key_file $MAGE_VAULT_KEY_FILE, else the
 * scope's own key file ($MAGE_VAULT_KEY, when set, comes first). Without
 * MGV_OPEN_EXACT_SCOPE, reads resolve pipeline -> project -> global, as the tool's do.
 */
int mgv_open(const char *data_dir, const char *vault_file, const char *project, const char *pipeline,
             const char *key_file, uint32_t flags, mgv_vault *out);

/*
 * The value of `name`: 1 and *value / *length set (release with mgv_free) when found;
 * 0 when absent (*value NULL); -1 on failure.
 */
int mgv_get(mgv_vault vault, const char *name, uint8_t **value, size_t *length);

/*
 * mgv_get into the caller's `buffer` of `capacity` bytes, for callers that read often (no
 * allocation, no mgv_free): 1 and *length set when found, the value copied only when
 * *length <= capacity (else call again with a buffer of *length bytes); 0 when absent;
 * -1 on failure. The caller wipes the buffer when done with the value.
 * A handle keeps the values it has read (in locked memory, wiped when dropped) until the
 * log changes, so a warm read is one fstat and a lookup.
 */
int mgv_get_into(mgv_vault vault, const char *name, uint8_t *buffer, size_t capacity, size_t *length);

/* Sets `name` to the `length` bytes at `value` (UTF-8); returns after they are on disk. */
int mgv_set(mgv_vault vault, const char *name, const uint8_t *value, size_t length);

/*
 * Sets `count` secrets in one all-or-nothing commit: names[i] to the lengths[i] bytes at
 * values[i] (UTF-8). Every entry is checked before anything is created or written; a
 * refused entry (its position is in the error) or a crash leaves the vault as it was.
 * Returns how many were set (0 or more), or -1.
 */
int mgv_import(mgv_vault vault, size_t count, const char *const *names, const uint8_t *const *values,
               const size_t *lengths);

/* Deletes `name`: 1 when deleted, 0 when there was no such secret, -1 on failure. */
int mgv_delete(mgv_vault vault, const char *name);

/*
 * Every visible name, sorted by bytes, each followed by a NUL, in one buffer (*names,
 * *length; release with mgv_free). Returns how many names (0 or more), or -1.
 */
int mgv_list(mgv_vault vault, uint8_t **names, size_t *length);

/* Wipes and frees what mgv_get or mgv_list handed out. NULL is ignored. */
void mgv_free(uint8_t *bytes, size_t length);

/* Closes a vault. NULL is ignored. */
void mgv_close(mgv_vault vault);

#ifdef __cplusplus
}
#endif

#endif /* MAGEVAULT_H */
