/* The C interface exactly as magevault.h declares it: open, set, get, list, delete,
 * absent names, errors with their class, close. Run by `make test` with a temporary
 * data directory as its argument. Made-up values only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "magevault.h"

static int failures = 0;

#define EXPECT(condition)                                                                  \
    do {                                                                                   \
        if (!(condition)) {                                                                \
            fprintf(stderr, "magevault_test.c:%d: expected %s (last error: %s)\n", __LINE__, \
                    #condition, mgv_last_error());                                         \
            failures++;                                                                    \
        }                                                                                  \
    } while (0)

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: magevault_test DATA_DIR\n");
        return 2;
    }
    const char *data = argv[1];
    EXPECT(mgv_abi_version() == MGV_ABI_VERSION);
    EXPECT(mgv_open_create() == MGV_OPEN_CREATE && mgv_open_exact_scope() == MGV_OPEN_EXACT_SCOPE);

    mgv_vault vault = NULL;
    EXPECT(mgv_open(data, NULL, NULL, NULL, NULL, MGV_OPEN_CREATE, &vault) == 0);
    const char *value = "made-up value";
    EXPECT(mgv_set(vault, "secret1", (const uint8_t *)value, strlen(value)) == 0);

    uint8_t *found = NULL;
    size_t length = 0;
    EXPECT(mgv_get(vault, "secret1", &found, &length) == 1);
    EXPECT(length == strlen(value) && found != NULL && memcmp(found, value, length) == 0);
    mgv_free(found, length);

    EXPECT(mgv_get(vault, "absent", &found, &length) == 0);
    EXPECT(found == NULL && length == 0);

    /* mgv_get_into: the value copied when it fits, only its length when it does not. */
    uint8_t buffer[64];
    memset(buffer, '#', sizeof buffer);
    EXPECT(mgv_get_into(vault, "secret1", buffer, 4, &length) == 1);
    EXPECT(length == strlen(value) && buffer[0] == '#');
    EXPECT(mgv_get_into(vault, "secret1", buffer, length, &length) == 1);
    EXPECT(length == strlen(value) && memcmp(buffer, value, length) == 0 && buffer[length] == '#');
    EXPECT(mgv_get_into(vault, "absent", buffer, sizeof buffer, &length) == 0 && length == 0);
    EXPECT(mgv_get_into(vault, "secret1", NULL, 8, &length) == -1 && mgv_last_error_code() == 2);

    /* A handle keeps what it read until the log changes: a write through another handle
     * (another open file, as another process would have) is read at once. */
    mgv_vault other = NULL;
    EXPECT(mgv_open(data, NULL, NULL, NULL, NULL, MGV_OPEN_CREATE, &other) == 0);
    const char *newer = "made-up newer value";
    EXPECT(mgv_set(other, "secret1", (const uint8_t *)newer, strlen(newer)) == 0);
    EXPECT(mgv_get_into(vault, "secret1", buffer, sizeof buffer, &length) == 1);
    EXPECT(length == strlen(newer) && memcmp(buffer, newer, length) == 0);
    EXPECT(mgv_set(other, "absent", (const uint8_t *)newer, strlen(newer)) == 0);
    EXPECT(mgv_get_into(vault, "absent", buffer, sizeof buffer, &length) == 1 && length == strlen(newer));
    EXPECT(mgv_delete(other, "absent") == 1);
    EXPECT(mgv_get_into(vault, "absent", buffer, sizeof buffer, &length) == 0);
    EXPECT(mgv_set(other, "secret1", (const uint8_t *)value, strlen(value)) == 0);
    mgv_close(other);
    EXPECT(mgv_get(vault, "secret1", &found, &length) == 1);
    EXPECT(length == strlen(value) && memcmp(found, value, length) == 0);
    mgv_free(found, length);

    uint8_t *names = NULL;
    EXPECT(mgv_list(vault, &names, &length) == 1);
    EXPECT(length == strlen("secret1") + 1 && memcmp(names, "secret1", length) == 0);
    mgv_free(names, length);

    /* A refused name: -1, class 2, a message that names the problem. */
    EXPECT(mgv_set(vault, "bad\tname", (const uint8_t *)value, strlen(value)) == -1);
    EXPECT(mgv_last_error_code() == 2);
    EXPECT(strstr(mgv_last_error(), "control characters") != NULL);
    EXPECT(strstr(mgv_last_error(), value) == NULL);

    EXPECT(mgv_delete(vault, "secret1") == 1);
    EXPECT(mgv_delete(vault, "secret1") == 0);
    EXPECT(mgv_get(vault, "secret1", &found, &length) == 0);
    EXPECT(mgv_last_error_code() == 0 && strcmp(mgv_last_error(), "") == 0);
    mgv_close(vault);
    mgv_close(NULL);
    mgv_free(NULL, 0);

    /* A scope that does not exist, read exactly: opens, has nothing, writes refused. */
    EXPECT(mgv_open(data, NULL, "nowhere", NULL, NULL, MGV_OPEN_EXACT_SCOPE, &vault) == 0);
    EXPECT(mgv_get(vault, "secret1", &found, &length) == 0);
    EXPECT(mgv_set(vault, "x", (const uint8_t *)"y", 1) == -1 && mgv_last_error_code() == 1);
    mgv_close(vault);

    /* mgv_import: all entries in one commit, or none; a refused entry creates nothing. */
    char scope_folder[4096];
    snprintf(scope_folder, sizeof scope_folder, "%s/secrets/projects/batch", data);
    EXPECT(mgv_open(data, NULL, "batch", NULL, NULL, MGV_OPEN_CREATE | MGV_OPEN_EXACT_SCOPE, &vault) == 0);
    const char *bad_names[] = {"first", "bad\tname"};
    const uint8_t *values[] = {(const uint8_t *)"made-up-1", (const uint8_t *)"made-up-2"};
    const size_t lengths[] = {9, 9};
    EXPECT(mgv_import(vault, 2, bad_names, values, lengths) == -1 && mgv_last_error_code() == 2);
    EXPECT(strstr(mgv_last_error(), "entry 2") != NULL && strstr(mgv_last_error(), "made-up") == NULL);
    FILE *created = fopen(scope_folder, "r");
    EXPECT(created == NULL);
    if (created) fclose(created);
    const char *good_names[] = {"first", "second"};
    EXPECT(mgv_import(vault, 2, good_names, values, lengths) == 2);
    EXPECT(mgv_get(vault, "second", &found, &length) == 1);
    EXPECT(length == 9 && memcmp(found, "made-up-2", 9) == 0);
    mgv_free(found, length);
    EXPECT(mgv_import(vault, 0, NULL, NULL, NULL) == 0);
    EXPECT(mgv_import(vault, 1, NULL, values, lengths) == -1 && mgv_last_error_code() == 2);
    mgv_close(vault);

    /* A scope with Mage's uuid file and no vault key yet (Mage's state before migrate): a
     * writer's handle opens, reads nothing, and its first write creates the key. */
    char folder[4096], uuid_path[4200];
    snprintf(folder, sizeof folder, "%s/secrets/projects/mage", data);
    EXPECT(mkdir(folder, 0700) == 0);
    snprintf(uuid_path, sizeof uuid_path, "%s/uuid", folder);
    FILE *uuid = fopen(uuid_path, "w");
    EXPECT(uuid != NULL);
    if (uuid) {
        fputs("0123456789abcdef0123456789abcdef", uuid);
        fclose(uuid);
    }
    EXPECT(mgv_open(data, NULL, "mage", NULL, NULL, MGV_OPEN_CREATE | MGV_OPEN_EXACT_SCOPE, &vault) == 0);
    EXPECT(mgv_get(vault, "first", &found, &length) == 0 && found == NULL);
    EXPECT(mgv_list(vault, &names, &length) == 0);
    mgv_free(names, length);
    EXPECT(mgv_import(vault, 2, good_names, values, lengths) == 2);
    EXPECT(mgv_get(vault, "first", &found, &length) == 1);
    mgv_free(found, length);
    mgv_close(vault);

    /* A data directory with no environment: not found (1). */
    char missing[4096];
    snprintf(missing, sizeof missing, "%s/none", data);
    EXPECT(mgv_open(missing, NULL, NULL, NULL, NULL, 0, &vault) == -1);
    EXPECT(mgv_last_error_code() == 1 && vault == NULL);
    EXPECT(mgv_open(data, NULL, NULL, NULL, NULL, 0, NULL) == -1 && mgv_last_error_code() == 2);

    if (failures == 0) printf("magevault C interface: all checks passed\n");
    return failures == 0 ? 0 : 1;
}
