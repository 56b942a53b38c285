/*
 * apikey.h - API keys for the HTTP API (formats/api-keys.md).
 *
 * A key is 32 random bytes, shown to its owner once as "rk_" followed by 64
 * lowercase hex digits.  The server keeps only SHA-256 of the 32 bytes, with
 * an id, a name, a role and the times it was created and revoked, in a keys
 * file (canonical JSON, mode 0600, replaced atomically: temporary file,
 * fsync, rename, fsync of the directory).  Checking a presented key hashes
 * it and compares with every stored hash in constant time.
 *
 * The engine never reads the clock: callers pass creation and revocation
 * times.  Key bytes are wiped (sodium_memzero) wherever the engine held
 * them.
 *
 * Thread safety: an rk_apikeys is not locked; share it read-only, or lock
 * around changes.
 */
#ifndef RK_APIKEY_H
#define RK_APIKEY_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "error.h"

#define RK_APIKEY_TEXT_SIZE 68    /* "rk_" + 64 hex + NUL */
#define RK_APIKEY_ID_SIZE 17      /* 16 hex digits + NUL */
#define RK_APIKEY_NAME_MAX 64     /* bytes of a name */
#define RK_APIKEY_MAX_KEYS 10000  /* keys in one file */
#define RK_APIKEY_MAX_FILE (4 * 1024 * 1024)

/* Roles.  Values are stable. */
typedef enum rk_role {
    RK_ROLE_OPERATOR = 1, /* writes notes, works exceptions */
    RK_ROLE_FINANCE = 2,  /* approves resolutions, closes periods */
    RK_ROLE_AUDITOR = 3,  /* reads */
    RK_ROLE_ADMIN = 4,    /* everything */
} rk_role;

/* "operator", "finance", "auditor", "admin" (or "unknown"). */
const char *rk_role_name(rk_role r);
/* Parse a role name (exact, lowercase); RK_ERR_INVALID otherwise. */
rk_err rk_role_parse(const char *name, rk_role *out)
    __attribute__((warn_unused_result));

typedef struct rk_apikey {
    char id[RK_APIKEY_ID_SIZE];           /* 16 lowercase hex digits */
    char name[RK_APIKEY_NAME_MAX + 1];    /* printable ASCII, 1..64 bytes */
    rk_role role;
    int64_t created;                      /* UTC ns */
    int64_t revoked;                      /* UTC ns, when is_revoked */
    int is_revoked;
    uint8_t sha256[RK_HASH_SIZE];         /* SHA-256 of the 32 key bytes */
} rk_apikey;

/* A keys file in memory: keys[0..n) in the file's order (creation order). */
typedef struct rk_apikeys {
    rk_apikey *keys;
    size_t n;
} rk_apikeys;

/* An empty set (for a file that does not exist yet); NULL when out of memory. */
rk_apikeys *rk_apikeys_new(void);

/*
 * Load the keys file at path.
 *   RK_ERR_NOTFOUND    no such file
 *   RK_ERR_IO          cannot read it
 *   RK_ERR_PERMISSION  group or other may access it (chmod 600 it)
 *   RK_ERR_TOOBIG      larger than RK_APIKEY_MAX_FILE
 *   RK_ERR_VERSION     a keys file of another version
 *   RK_ERR_CORRUPT     not a keys file: bad JSON, a missing or malformed
 *                      member, a duplicate id (the message says which)
 *   RK_ERR_NOMEM       out of memory
 */
rk_err rk_apikeys_load(const char *path, rk_apikeys **out, char *err)
    __attribute__((warn_unused_result));

/*
 * Write ks to path atomically with mode 0600.  RK_ERR_IO names the step
 * that failed; the old file is then unchanged.
 */
rk_err rk_apikeys_save(const rk_apikeys *ks, const char *path, char *err)
    __attribute__((warn_unused_result));

/*
 * Make a new key: random id and key bytes, created = now_ns.  key_text
 * receives the key to show once; *added (may be NULL) points at the new
 * entry (valid until the next change to ks).
 *   RK_ERR_INVALID  name is not 1..RK_APIKEY_NAME_MAX printable ASCII
 *                   characters, or role is not a role
 *   RK_ERR_TOOBIG   ks already holds RK_APIKEY_MAX_KEYS keys
 *   RK_ERR_NOMEM    out of memory
 */
rk_err rk_apikeys_add(rk_apikeys *ks, const char *name, rk_role role, int64_t now_ns,
                      char key_text[RK_APIKEY_TEXT_SIZE], const rk_apikey **added,
                      char *err);

/*
 * Revoke key id at now_ns.  RK_ERR_NOTFOUND for no such id, RK_ERR_EXISTS
 * when it is revoked already.
 */
rk_err rk_apikeys_revoke(rk_apikeys *ks, const char *id, int64_t now_ns, char *err);

/*
 * Check a presented key (text, len bytes; need not be NUL-terminated).
 * Every stored hash is compared, in constant time each.  *out points at
 * the matching entry.
 *   RK_OK            a key that is not revoked
 *   RK_ERR_NOTFOUND  malformed text, an unknown key or a revoked one (not
 *                    told apart, so that a caller cannot probe)
 */
rk_err rk_apikeys_verify(const rk_apikeys *ks, const char *text, size_t len,
                         const rk_apikey **out)
    __attribute__((warn_unused_result));

/* Free; accepts NULL. */
void rk_apikeys_free(rk_apikeys *ks);

#endif
