/*
 * config.h - the server configuration file (formats/server-config.md).
 *
 * One JSON object, validated completely on load: every member is checked,
 * unknown members are rejected, and the first problem is reported with the
 * JSON path of the member it concerns, e.g.
 *     config 'reckon.json': endpoints.shop.secrets[1].env: variable 'X' is not set
 *
 * Webhook secrets are read into memory at load time (from files or
 * environment variables; never inline in the file) and wiped with
 * sodium_memzero by rk_config_free.  No secret byte ever appears in an error
 * message: secrets are named by their position.
 *
 * Relative paths in the file (secret files, the checkpoint key, the API keys
 * file) are resolved against the directory of the configuration file.
 *
 * Thread safety: a loaded rk_config is read-only and may be shared by any
 * number of threads until rk_config_free.
 */
#ifndef RK_CONFIG_H
#define RK_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "sig.h"

#define RK_CONFIG_MAX_FILE (1024 * 1024) /* largest configuration file */
#define RK_CONFIG_MAX_ENDPOINTS 256
#define RK_CONFIG_MAX_SECRETS 16       /* secrets per endpoint */
#define RK_CONFIG_MAX_SECRET 4096      /* bytes of one secret */
#define RK_CONFIG_NAME_MAX 64          /* bytes of an endpoint name */
#define RK_CONFIG_DEFAULT_LISTEN "127.0.0.1:8080"
#define RK_CONFIG_DEFAULT_BODY_LIMIT (1024 * 1024)
#define RK_CONFIG_MAX_BODY_LIMIT (16 * 1024 * 1024) /* the record's raw limit */
#define RK_CONFIG_DEFAULT_THREADS 4
#define RK_CONFIG_MAX_THREADS 1024
#define RK_CONFIG_DEFAULT_REJECTS 60   /* stored rejects per peer per minute */

/* One webhook endpoint: POST /webhooks/<name>. */
typedef struct rk_config_endpoint {
    char name[RK_CONFIG_NAME_MAX + 1];
    char provider[32];     /* coinbase-commerce, btcpay, nowpayments, generic */
    rk_sig_params params;  /* scheme, tolerance, generic hmac parameters */
    char *hmac_header;     /* owned strings behind params.hmac (or NULL) */
    char *hmac_prefix;
    char *hmac_ts_header;
    rk_sig_secret secrets[RK_CONFIG_MAX_SECRETS]; /* owned, wiped on free */
    size_t nsecrets;
} rk_config_endpoint;

typedef struct rk_config {
    char listen[128];          /* "host:port" as written, for messages */
    int family;                /* AF_INET or AF_INET6 */
    uint8_t addr[16];          /* the address, network order (4 or 16 bytes) */
    uint16_t port;             /* 0: any free port */
    unsigned threads;          /* polling threads of the event-driven pool
                                  (1..RK_CONFIG_MAX_THREADS), used only when
                                  thread_per_connection is 0 */
    int thread_per_connection; /* 0 (default): the event-driven pool; 1: one
                                  thread per connection */
    size_t body_limit;         /* bytes (1..RK_CONFIG_MAX_BODY_LIMIT) */
    int64_t tolerance;         /* default timestamp tolerance, seconds */
    char *checkpoint_key;      /* signing key file, or NULL: no checkpoints */
    uint64_t checkpoint_records; /* every N records (0: not by count) */
    uint64_t checkpoint_seconds; /* every T seconds (0: not by time) */
    unsigned rejects_per_minute; /* per peer, stored one by one */
    char *api_keys;            /* API keys file, or NULL: /api is disabled */
    rk_config_endpoint *endpoints;
    size_t nendpoints;
} rk_config;

/*
 * Load and validate the configuration file at path.  *out is a new
 * configuration the caller frees with rk_config_free.
 *   RK_ERR_NOTFOUND  the file does not exist
 *   RK_ERR_IO        it cannot be read, or a secret file cannot be read
 *   RK_ERR_TOOBIG    the file is larger than RK_CONFIG_MAX_FILE, or a secret
 *                    is larger than RK_CONFIG_MAX_SECRET
 *   RK_ERR_INVALID   not JSON, or a member is unknown, missing, of the wrong
 *                    type or out of range (the message names its path)
 *   RK_ERR_NOMEM     out of memory
 */
rk_err rk_config_load(const char *path, rk_config **out, char *err)
    __attribute__((warn_unused_result));

/*
 * The same from text in memory (messages then have no file prefix);
 * relative paths are resolved against base_dir (NULL: the current
 * directory).  Errors as rk_config_load.
 */
rk_err rk_config_parse(const char *text, size_t len, const char *base_dir,
                       rk_config **out, char *err)
    __attribute__((warn_unused_result));

/* Wipe every secret and free; accepts NULL. */
void rk_config_free(rk_config *c);

/* The endpoint called name, or NULL. */
const rk_config_endpoint *rk_config_endpoint_find(const rk_config *c,
                                                  const char *name);

#endif
