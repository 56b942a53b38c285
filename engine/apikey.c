/* apikey.c - hashed API keys in an atomically replaced file (formats/api-keys.md). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>
#include <sodium.h>

#include "apikey.h"
#include "canon.h"
#include "record.h"

#define KEY_BYTES 32
#define KEY_PREFIX "rk_"

static const char *const role_names[] = { NULL, "operator", "finance", "auditor", "admin" };

const char *rk_role_name(rk_role r)
{
    if ((int)r < RK_ROLE_OPERATOR || r > RK_ROLE_ADMIN)
        return "unknown";
    return role_names[r];
}

rk_err rk_role_parse(const char *name, rk_role *out)
{
    int i;

    for (i = RK_ROLE_OPERATOR; i <= RK_ROLE_ADMIN; i++)
        if (name != NULL && strcmp(name, role_names[i]) == 0) {
            *out = (rk_role)i;
            return RK_OK;
        }
    return RK_ERR_INVALID;
}

static int name_ok(const char *s)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > RK_APIKEY_NAME_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return 0;
    return 1;
}

static int id_ok(const char *s)
{
    size_t i;

    if (strlen(s) != RK_APIKEY_ID_SIZE - 1)
        return 0;
    for (i = 0; s[i] != '\0'; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

rk_apikeys *rk_apikeys_new(void)
{
    return calloc(1, sizeof(rk_apikeys));
}

void rk_apikeys_free(rk_apikeys *ks)
{
    if (ks == NULL)
        return;
    free(ks->keys);
    free(ks);
}

static rk_err grow(rk_apikeys *ks)
{
    rk_apikey *k = realloc(ks->keys, (ks->n + 1) * sizeof *k);

    if (k == NULL)
        return RK_ERR_NOMEM;
    ks->keys = k;
    return RK_OK;
}

/* Read a time member (RFC 3339). */
static rk_err get_time(const cJSON *o, const char *key, int64_t *out)
{
    const char *s;

    if (rk_json_get_string(o, key, &s, NULL) != RK_OK || rk_time_parse(s, out) != RK_OK)
        return RK_ERR_CORRUPT;
    return RK_OK;
}

static rk_err parse_key(const cJSON *o, rk_apikey *k, size_t i, char *err)
{
    const char *id, *name, *role, *hash;
    const cJSON *m;
    int n = 0;

    memset(k, 0, sizeof *k);
    if (!cJSON_IsObject(o))
        goto bad;
    for (m = o->child; m != NULL; m = m->next)
        n++;
    if (rk_json_get_string(o, "id", &id, NULL) != RK_OK || !id_ok(id) ||
        rk_json_get_string(o, "name", &name, NULL) != RK_OK || !name_ok(name) ||
        rk_json_get_string(o, "role", &role, NULL) != RK_OK ||
        rk_role_parse(role, &k->role) != RK_OK ||
        rk_json_get_string(o, "sha256", &hash, NULL) != RK_OK ||
        rk_hex_decode(k->sha256, RK_HASH_SIZE, hash, strlen(hash)) != RK_OK ||
        get_time(o, "created", &k->created) != RK_OK)
        goto bad;
    if (cJSON_GetObjectItemCaseSensitive(o, "revoked") != NULL) {
        if (get_time(o, "revoked", &k->revoked) != RK_OK)
            goto bad;
        k->is_revoked = 1;
    }
    if (n != 5 + k->is_revoked)
        goto bad;
    memcpy(k->id, id, RK_APIKEY_ID_SIZE);
    snprintf(k->name, sizeof k->name, "%s", name);
    return RK_OK;
bad:
    return rk_seterr(err, RK_ERR_CORRUPT, "keys[%zu]: not a valid key entry", i);
}

static rk_err parse_file(const char *text, size_t len, rk_apikeys *ks, char *err)
{
    cJSON *root = NULL;
    const cJSON *keys, *k;
    uint64_t v;
    size_t j;
    rk_err rc;

    rc = rk_json_parse(text, len, &root, err);
    if (rc != RK_OK) {
        rc = rk_preferr(err, RK_ERR_CORRUPT, "not a keys file");
        goto out;
    }
    rc = RK_ERR_CORRUPT;
    if (!cJSON_IsObject(root) || rk_json_get_u64(root, "v", &v, NULL) != RK_OK) {
        rk_seterr(err, rc, "not a keys file: no version");
        goto out;
    }
    if (v != 1) {
        rc = rk_seterr(err, RK_ERR_VERSION, "keys file version %llu is not supported",
                       (unsigned long long)v);
        goto out;
    }
    keys = cJSON_GetObjectItemCaseSensitive(root, "keys");
    if (!cJSON_IsArray(keys) || cJSON_GetArraySize(root) != 2) {
        rk_seterr(err, rc, "not a keys file: members must be \"keys\" and \"v\"");
        goto out;
    }
    if (cJSON_GetArraySize(keys) > RK_APIKEY_MAX_KEYS) {
        rk_seterr(err, rc, "more than %d keys", RK_APIKEY_MAX_KEYS);
        goto out;
    }
    for (k = keys->child; k != NULL; k = k->next) {
        if (grow(ks) != RK_OK) {
            rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
            goto out;
        }
        rc = parse_key(k, &ks->keys[ks->n], ks->n, err);
        if (rc != RK_OK)
            goto out;
        for (j = 0; j < ks->n; j++)
            if (strcmp(ks->keys[j].id, ks->keys[ks->n].id) == 0) {
                rc = rk_seterr(err, RK_ERR_CORRUPT, "keys[%zu]: duplicate id '%s'", ks->n,
                               ks->keys[j].id);
                goto out;
            }
        ks->n++;
    }
    rc = RK_OK;
out:
    cJSON_Delete(root);
    return rc;
}

rk_err rk_apikeys_load(const char *path, rk_apikeys **out, char *err)
{
    rk_apikeys *ks = NULL;
    rk_buf b = RK_BUF_INIT;
    struct stat st;
    rk_err rc;

    *out = NULL;
    if (stat(path, &st) != 0)
        return rk_seterr(err, errno == ENOENT ? RK_ERR_NOTFOUND : RK_ERR_IO,
                         "cannot open '%s': %s", path, strerror(errno));
    if ((st.st_mode & 077) != 0)
        return rk_seterr(err, RK_ERR_PERMISSION,
                         "keys file '%s' is accessible by others (mode %03o): chmod 600 it",
                         path, (unsigned)(st.st_mode & 0777));
    rc = rk_buf_read_file(&b, path, RK_APIKEY_MAX_FILE, err);
    if (rc != RK_OK)
        goto out;
    ks = rk_apikeys_new();
    if (ks == NULL) {
        rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = parse_file((const char *)b.data, b.len, ks, err);
    if (rc != RK_OK) {
        rk_preferr(err, rc, "keys file '%s'", path);
        goto out;
    }
    *out = ks;
    ks = NULL;
out:
    rk_apikeys_free(ks);
    rk_buf_free(&b);
    return rc;
}

static rk_err serialize(const rk_apikeys *ks, rk_buf *out, char *err)
{
    cJSON *root = cJSON_CreateObject(), *arr = cJSON_CreateArray(), *o;
    char hex[2 * RK_HASH_SIZE + 1], when[RK_TIME_STR_MAX];
    size_t i;
    rk_err rc;

    if (root == NULL || arr == NULL) {
        cJSON_Delete(arr);
        rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        goto out;
    }
    cJSON_AddItemToObject(root, "keys", arr);
    cJSON_AddNumberToObject(root, "v", 1);
    for (i = 0; i < ks->n; i++) {
        const rk_apikey *k = &ks->keys[i];
        o = cJSON_CreateObject();
        if (o == NULL) {
            rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
            goto out;
        }
        cJSON_AddItemToArray(arr, o);
        rk_time_format(k->created, when);
        cJSON_AddStringToObject(o, "created", when);
        cJSON_AddStringToObject(o, "id", k->id);
        cJSON_AddStringToObject(o, "name", k->name);
        if (k->is_revoked) {
            rk_time_format(k->revoked, when);
            cJSON_AddStringToObject(o, "revoked", when);
        }
        cJSON_AddStringToObject(o, "role", rk_role_name(k->role));
        rk_hex_encode(hex, k->sha256, RK_HASH_SIZE);
        cJSON_AddStringToObject(o, "sha256", hex);
    }
    rc = rk_canon_write(root, 0, out, err);
    if (rc == RK_OK)
        rc = rk_buf_putc(out, '\n');
out:
    cJSON_Delete(root);
    return rc;
}

static rk_err write_all(int fd, const uint8_t *p, size_t n)
{
    ssize_t w;

    while (n > 0) {
        w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return RK_ERR_IO;
        p += w;
        n -= (size_t)w;
    }
    return RK_OK;
}

rk_err rk_apikeys_save(const rk_apikeys *ks, const char *path, char *err)
{
    rk_buf text = RK_BUF_INIT;
    char *tmp = NULL, *dir = NULL, *slash;
    int fd = -1, dfd;
    size_t n = strlen(path) + 16;
    rk_err rc;

    rc = serialize(ks, &text, err);
    if (rc != RK_OK)
        goto out;
    tmp = malloc(n);
    dir = strdup(path);
    if (tmp == NULL || dir == NULL) {
        rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        goto out;
    }
    snprintf(tmp, n, "%s.tmp.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        rc = rk_seterr(err, RK_ERR_IO, "cannot create a temporary file beside '%s': %s",
                       path, strerror(errno));
        goto out;
    }
    if (fchmod(fd, 0600) != 0 || write_all(fd, text.data, text.len) != RK_OK ||
        fsync(fd) != 0) {
        rc = rk_seterr(err, RK_ERR_IO, "cannot write '%s': %s", tmp, strerror(errno));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = rk_seterr(err, RK_ERR_IO, "cannot write '%s': %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        rc = rk_seterr(err, RK_ERR_IO, "cannot rename '%s' to '%s': %s", tmp, path,
                       strerror(errno));
        goto out;
    }
    free(tmp);
    tmp = NULL;
    /* the rename is durable only once the directory is synced */
    slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, strlen(dir) + 1, ".");
    else if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd < 0 || fsync(dfd) != 0)
        rc = rk_seterr(err, RK_ERR_IO, "cannot sync directory '%s': %s", dir,
                       strerror(errno));
    if (dfd >= 0)
        close(dfd);
out:
    if (fd >= 0)
        close(fd);
    if (tmp != NULL)
        unlink(tmp);
    free(tmp);
    free(dir);
    rk_buf_free(&text);
    return rc;
}

rk_err rk_apikeys_add(rk_apikeys *ks, const char *name, rk_role role, int64_t now_ns,
                      char key_text[RK_APIKEY_TEXT_SIZE], const rk_apikey **added,
                      char *err)
{
    uint8_t key[KEY_BYTES], idb[(RK_APIKEY_ID_SIZE - 1) / 2];
    rk_apikey *k;
    size_t i;

    if (name == NULL || !name_ok(name))
        return rk_seterr(err, RK_ERR_INVALID,
                         "key name must be 1 to %d printable ASCII characters",
                         RK_APIKEY_NAME_MAX);
    if ((int)role < RK_ROLE_OPERATOR || role > RK_ROLE_ADMIN)
        return rk_seterr(err, RK_ERR_INVALID, "not a role");
    if (ks->n >= RK_APIKEY_MAX_KEYS)
        return rk_seterr(err, RK_ERR_TOOBIG, "a keys file holds at most %d keys",
                         RK_APIKEY_MAX_KEYS);
    if (sodium_init() < 0 || grow(ks) != RK_OK)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    k = &ks->keys[ks->n];
    memset(k, 0, sizeof *k);
    /* ids are random, so a collision is astronomically unlikely; retry anyway */
    do {
        randombytes_buf(idb, sizeof idb);
        rk_hex_encode(k->id, idb, sizeof idb);
        for (i = 0; i < ks->n; i++)
            if (strcmp(ks->keys[i].id, k->id) == 0)
                break;
    } while (i < ks->n);
    snprintf(k->name, sizeof k->name, "%s", name);
    k->role = role;
    k->created = now_ns;
    randombytes_buf(key, sizeof key);
    rk_sha256(k->sha256, key, sizeof key);
    memcpy(key_text, KEY_PREFIX, 3);
    rk_hex_encode(key_text + 3, key, sizeof key);
    sodium_memzero(key, sizeof key);
    ks->n++;
    if (added != NULL)
        *added = k;
    return RK_OK;
}

rk_err rk_apikeys_revoke(rk_apikeys *ks, const char *id, int64_t now_ns, char *err)
{
    size_t i;

    for (i = 0; i < ks->n; i++) {
        if (strcmp(ks->keys[i].id, id) != 0)
            continue;
        if (ks->keys[i].is_revoked)
            return rk_seterr(err, RK_ERR_EXISTS, "key '%s' is revoked already", id);
        ks->keys[i].is_revoked = 1;
        ks->keys[i].revoked = now_ns;
        return RK_OK;
    }
    return rk_seterr(err, RK_ERR_NOTFOUND, "no key with id '%s'", id);
}

rk_err rk_apikeys_verify(const rk_apikeys *ks, const char *text, size_t len,
                         const rk_apikey **out)
{
    uint8_t key[KEY_BYTES], h[RK_HASH_SIZE];
    const rk_apikey *found = NULL;
    size_t i;

    *out = NULL;
    if (len != RK_APIKEY_TEXT_SIZE - 1 || memcmp(text, KEY_PREFIX, 3) != 0 ||
        rk_hex_decode(key, sizeof key, text + 3, len - 3) != RK_OK)
        return RK_ERR_NOTFOUND;
    rk_sha256(h, key, sizeof key);
    sodium_memzero(key, sizeof key);
    /* compare with every entry, so the time does not say which matched */
    for (i = 0; i < ks->n; i++)
        if (sodium_memcmp(h, ks->keys[i].sha256, RK_HASH_SIZE) == 0 && found == NULL)
            found = &ks->keys[i];
    sodium_memzero(h, sizeof h);
    if (found == NULL || found->is_revoked)
        return RK_ERR_NOTFOUND;
    *out = found;
    return RK_OK;
}
