/* config.c - load and validate the server configuration (formats/server-config.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cJSON.h>
#include <sodium.h>

#include "bytes.h"
#include "canon.h"
#include "config.h"

/* Parsing state: where relative paths start, the path of the current member. */
struct cfg_ctx {
    const char *base_dir;
    char *err;
};

static const char *const providers[] = {
    "coinbase-commerce", "btcpay", "nowpayments", "generic", NULL
};

/* Every member of obj must be in allowed (NULL-terminated). */
static rk_err check_members(const cJSON *obj, const char *path,
                            const char *const *allowed, char *err)
{
    const cJSON *m;
    size_t i;

    for (m = obj->child; m != NULL; m = m->next) {
        for (i = 0; allowed[i] != NULL; i++)
            if (strcmp(m->string, allowed[i]) == 0)
                break;
        if (allowed[i] == NULL)
            return rk_seterr(err, RK_ERR_INVALID, "%s%s%s: unknown member", path,
                             path[0] != '\0' ? "." : "", m->string);
    }
    return RK_OK;
}

static rk_err get_u64(const cJSON *obj, const char *path, const char *key,
                      uint64_t min, uint64_t max, uint64_t *out, char *err)
{
    char e[RK_ERROR_SIZE];
    rk_err rc = rk_json_get_u64(obj, key, out, e);

    if (rc == RK_ERR_NOTFOUND)
        return rc;
    if (rc != RK_OK || *out < min || *out > max)
        return rk_seterr(err, RK_ERR_INVALID,
                         "%s%s%s: must be an integer from %llu to %llu", path,
                         path[0] != '\0' ? "." : "", key, (unsigned long long)min,
                         (unsigned long long)max);
    return RK_OK;
}

/* A string member; RK_ERR_NOTFOUND when absent; empty strings are refused. */
static rk_err get_str(const cJSON *obj, const char *path, const char *key,
                      const char **out, char *err)
{
    rk_err rc = rk_json_get_string(obj, key, out, NULL);

    if (rc == RK_ERR_NOTFOUND)
        return rc;
    if (rc != RK_OK || (*out)[0] == '\0')
        return rk_seterr(err, RK_ERR_INVALID, "%s%s%s: must be a non-empty string",
                         path, path[0] != '\0' ? "." : "", key);
    return RK_OK;
}

static rk_err get_bool(const cJSON *obj, const char *path, const char *key,
                       int *out, char *err)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (m == NULL)
        return RK_ERR_NOTFOUND;
    if (!cJSON_IsBool(m))
        return rk_seterr(err, RK_ERR_INVALID, "%s%s%s: must be true or false", path,
                         path[0] != '\0' ? "." : "", key);
    *out = cJSON_IsTrue(m);
    return RK_OK;
}

/* base_dir/p when p is relative; a new string. */
static rk_err resolve(const struct cfg_ctx *c, const char *p, char **out)
{
    size_t n;

    if (p[0] == '/' || c->base_dir == NULL || c->base_dir[0] == '\0') {
        *out = strdup(p);
    } else {
        n = strlen(c->base_dir) + strlen(p) + 2;
        *out = malloc(n);
        if (*out != NULL)
            snprintf(*out, n, "%s/%s", c->base_dir, p);
    }
    return *out == NULL ? rk_seterr(c->err, RK_ERR_NOMEM, "out of memory") : RK_OK;
}

static rk_err parse_listen(rk_config *cfg, const char *s, char *err)
{
    char host[128];
    const char *colon;
    unsigned long port;
    char *end = NULL;
    size_t hl;

    if (strlen(s) >= sizeof cfg->listen)
        goto bad;
    snprintf(cfg->listen, sizeof cfg->listen, "%s", s);
    if (s[0] == '[') {
        colon = strstr(s, "]:");
        if (colon == NULL)
            goto bad;
        hl = (size_t)(colon - s - 1);
        memcpy(host, s + 1, hl);
        host[hl] = '\0';
        colon++;
        cfg->family = AF_INET6;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            goto bad;
        hl = (size_t)(colon - s);
        memcpy(host, s, hl);
        host[hl] = '\0';
        cfg->family = AF_INET;
    }
    if (colon[1] < '0' || colon[1] > '9')
        goto bad;
    errno = 0;
    port = strtoul(colon + 1, &end, 10);
    if (errno != 0 || *end != '\0' || port > 65535)
        goto bad;
    cfg->port = (uint16_t)port;
    if (inet_pton(cfg->family, host, cfg->addr) != 1)
        goto bad;
    return RK_OK;
bad:
    return rk_seterr(err, RK_ERR_INVALID,
                     "listen: must be IPV4:PORT or [IPV6]:PORT with a numeric address "
                     "and a port from 0 to 65535");
}

static int name_ok(const char *s)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > RK_CONFIG_NAME_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
            return 0;
    return 1;
}

/* Read one secret {"file": path} or {"env": VAR} into e->secrets[i]. */
static rk_err load_secret(struct cfg_ctx *c, const cJSON *s, const char *path,
                          rk_sig_secret *out)
{
    static const char *const members[] = { "file", "env", NULL };
    const char *file = NULL, *env = NULL, *val;
    char *full = NULL;
    rk_buf b = RK_BUF_INIT;
    uint8_t *copy;
    size_t n;
    rk_err rc, rf, re;

    if (!cJSON_IsObject(s))
        return rk_seterr(c->err, RK_ERR_INVALID,
                         "%s: must be {\"file\": PATH} or {\"env\": VARIABLE}; "
                         "secrets are never written in the configuration", path);
    rc = check_members(s, path, members, c->err);
    if (rc != RK_OK)
        return rc;
    rf = get_str(s, path, "file", &file, c->err);
    if (rf != RK_OK && rf != RK_ERR_NOTFOUND)
        return rf;
    re = get_str(s, path, "env", &env, c->err);
    if (re != RK_OK && re != RK_ERR_NOTFOUND)
        return re;
    if ((file == NULL) == (env == NULL))
        return rk_seterr(c->err, RK_ERR_INVALID,
                         "%s: needs exactly one of \"file\" and \"env\"", path);
    if (env != NULL) {
        val = getenv(env);
        if (val == NULL || val[0] == '\0')
            return rk_seterr(c->err, RK_ERR_INVALID,
                             "%s.env: variable '%s' is not set or empty", path, env);
        n = strlen(val);
        if (n > RK_CONFIG_MAX_SECRET)
            return rk_seterr(c->err, RK_ERR_TOOBIG, "%s.env: secret longer than %d bytes",
                             path, RK_CONFIG_MAX_SECRET);
        copy = malloc(n);
        if (copy == NULL)
            return rk_seterr(c->err, RK_ERR_NOMEM, "out of memory");
        memcpy(copy, val, n);
        out->bytes = copy;
        out->len = n;
        return RK_OK;
    }
    rc = resolve(c, file, &full);
    if (rc != RK_OK)
        return rc;
    rc = rk_buf_read_file(&b, full, RK_CONFIG_MAX_SECRET + 2, c->err);
    if (rc != RK_OK) {
        rk_preferr(c->err, rc, "%s.file", path);
        goto out;
    }
    /* one trailing line ending is the editor's, not the secret's */
    n = b.len;
    if (n > 0 && b.data[n - 1] == '\n')
        n--;
    if (n > 0 && b.data[n - 1] == '\r')
        n--;
    if (n == 0 || n > RK_CONFIG_MAX_SECRET) {
        rc = rk_seterr(c->err, n == 0 ? RK_ERR_INVALID : RK_ERR_TOOBIG,
                       "%s.file: secret file '%s' is %s", path, full,
                       n == 0 ? "empty" : "too large");
        goto out;
    }
    copy = malloc(n);
    if (copy == NULL) {
        rc = rk_seterr(c->err, RK_ERR_NOMEM, "out of memory");
        goto out;
    }
    memcpy(copy, b.data, n);
    out->bytes = copy;
    out->len = n;
out:
    if (b.data != NULL)
        sodium_memzero(b.data, b.cap);
    rk_buf_free(&b);
    free(full);
    return rc;
}

static rk_err parse_hmac(struct cfg_ctx *c, const cJSON *h, const char *path,
                         rk_config_endpoint *e)
{
    static const char *const members[] = { "header", "alg", "encoding", "prefix",
                                           "timestamp_header", NULL };
    const char *s;
    rk_err rc;

    if (!cJSON_IsObject(h))
        return rk_seterr(c->err, RK_ERR_INVALID, "%s: must be an object", path);
    rc = check_members(h, path, members, c->err);
    if (rc != RK_OK)
        return rc;
    rc = get_str(h, path, "header", &s, c->err);
    if (rc == RK_ERR_NOTFOUND)
        return rk_seterr(c->err, RK_ERR_INVALID, "%s.header: required", path);
    if (rc != RK_OK)
        return rc;
    e->hmac_header = strdup(s);
    rc = get_str(h, path, "alg", &s, c->err);
    if (rc == RK_OK && rk_sig_alg_parse(s, &e->params.hmac.alg, NULL) != RK_OK)
        return rk_seterr(c->err, RK_ERR_INVALID, "%s.alg: must be \"sha256\" or \"sha512\"",
                         path);
    if (rc != RK_OK && rc != RK_ERR_NOTFOUND)
        return rc;
    rc = get_str(h, path, "encoding", &s, c->err);
    if (rc == RK_OK && rk_sig_encoding_parse(s, &e->params.hmac.encoding, NULL) != RK_OK)
        return rk_seterr(c->err, RK_ERR_INVALID,
                         "%s.encoding: must be \"hex\" or \"base64\"", path);
    if (rc != RK_OK && rc != RK_ERR_NOTFOUND)
        return rc;
    rc = get_str(h, path, "prefix", &s, c->err);
    if (rc == RK_OK)
        e->hmac_prefix = strdup(s);
    else if (rc != RK_ERR_NOTFOUND)
        return rc;
    rc = get_str(h, path, "timestamp_header", &s, c->err);
    if (rc == RK_OK)
        e->hmac_ts_header = strdup(s);
    else if (rc != RK_ERR_NOTFOUND)
        return rc;
    if (e->hmac_header == NULL || (cJSON_GetObjectItemCaseSensitive(h, "prefix") != NULL &&
                                   e->hmac_prefix == NULL) ||
        (cJSON_GetObjectItemCaseSensitive(h, "timestamp_header") != NULL &&
         e->hmac_ts_header == NULL))
        return rk_seterr(c->err, RK_ERR_NOMEM, "out of memory");
    e->params.hmac.header = e->hmac_header;
    e->params.hmac.prefix = e->hmac_prefix;
    e->params.hmac.ts_header = e->hmac_ts_header;
    return RK_OK;
}

/* The default scheme of each provider; generic has none. */
static const char *default_scheme(const char *provider)
{
    if (strcmp(provider, "generic") == 0)
        return NULL;
    return provider;
}

static rk_err parse_endpoint(struct cfg_ctx *c, const cJSON *o, rk_config_endpoint *e,
                             int64_t tolerance)
{
    static const char *const members[] = { "provider", "scheme", "hmac", "secrets",
                                           "tolerance", NULL };
    char path[RK_CONFIG_NAME_MAX + 64], spath[RK_CONFIG_NAME_MAX + 96];
    const char *provider = NULL, *scheme = NULL;
    const cJSON *secrets, *hm, *s;
    rk_sig_result res;
    uint64_t tol;
    size_t i;
    rk_err rc;

    snprintf(path, sizeof path, "endpoints.%s", o->string);
    if (!name_ok(o->string))
        return rk_seterr(c->err, RK_ERR_INVALID,
                         "%s: endpoint names are 1 to %d characters of A-Z a-z 0-9 . _ -",
                         path, RK_CONFIG_NAME_MAX);
    snprintf(e->name, sizeof e->name, "%s", o->string);
    if (!cJSON_IsObject(o))
        return rk_seterr(c->err, RK_ERR_INVALID, "%s: must be an object", path);
    rc = check_members(o, path, members, c->err);
    if (rc != RK_OK)
        return rc;
    rc = get_str(o, path, "provider", &provider, c->err);
    if (rc == RK_ERR_NOTFOUND)
        return rk_seterr(c->err, RK_ERR_INVALID, "%s.provider: required", path);
    if (rc != RK_OK)
        return rc;
    for (i = 0; providers[i] != NULL; i++)
        if (strcmp(providers[i], provider) == 0)
            break;
    if (providers[i] == NULL)
        return rk_seterr(c->err, RK_ERR_INVALID,
                         "%s.provider: '%s' is not one of coinbase-commerce, btcpay, "
                         "nowpayments, generic", path, provider);
    snprintf(e->provider, sizeof e->provider, "%s", provider);
    rc = get_str(o, path, "scheme", &scheme, c->err);
    if (rc == RK_ERR_NOTFOUND) {
        scheme = default_scheme(provider);
        if (scheme == NULL)
            return rk_seterr(c->err, RK_ERR_INVALID,
                             "%s.scheme: required for provider generic", path);
    } else if (rc != RK_OK) {
        return rc;
    }
    if (rk_sig_scheme_parse(scheme, &e->params, NULL) != RK_OK)
        return rk_seterr(c->err, RK_ERR_INVALID,
                         "%s.scheme: '%s' is not one of standard-webhooks, stripe, "
                         "coinbase-commerce, btcpay, nowpayments, hmac", path, scheme);
    e->params.tolerance = tolerance;
    rc = get_u64(o, path, "tolerance", 0, 86400 * 366, &tol, c->err);
    if (rc == RK_OK)
        e->params.tolerance = (int64_t)tol;
    else if (rc != RK_ERR_NOTFOUND)
        return rc;
    hm = cJSON_GetObjectItemCaseSensitive(o, "hmac");
    snprintf(spath, sizeof spath, "%s.hmac", path);
    if (e->params.scheme == RK_SIG_HMAC && hm == NULL)
        return rk_seterr(c->err, RK_ERR_INVALID, "%s: required for scheme hmac", spath);
    if (e->params.scheme != RK_SIG_HMAC && hm != NULL)
        return rk_seterr(c->err, RK_ERR_INVALID, "%s: only for scheme hmac", spath);
    if (hm != NULL) {
        rc = parse_hmac(c, hm, spath, e);
        if (rc != RK_OK)
            return rc;
    }
    secrets = cJSON_GetObjectItemCaseSensitive(o, "secrets");
    snprintf(spath, sizeof spath, "%s.secrets", path);
    if (secrets == NULL)
        return rk_seterr(c->err, RK_ERR_INVALID, "%s: required", spath);
    if (!cJSON_IsArray(secrets) || cJSON_GetArraySize(secrets) < 1 ||
        cJSON_GetArraySize(secrets) > RK_CONFIG_MAX_SECRETS)
        return rk_seterr(c->err, RK_ERR_INVALID, "%s: must be an array of 1 to %d secrets",
                         spath, RK_CONFIG_MAX_SECRETS);
    for (s = secrets->child; s != NULL; s = s->next) {
        snprintf(spath, sizeof spath, "%s.secrets[%zu]", path, e->nsecrets);
        rc = load_secret(c, s, spath, &e->secrets[e->nsecrets]);
        if (rc != RK_OK)
            return rc;
        e->nsecrets++;
    }
    /*
     * rk_sig_verify checks the parameters and every secret's format before
     * it looks at a header: RK_ERR_INVALID here is a configuration error.
     */
    rc = rk_sig_verify(&e->params, e->secrets, e->nsecrets, NULL, 0, NULL, 0, 0, &res, NULL);
    if (rc == RK_ERR_INVALID && res.reason == RK_SIG_BAD_SECRET)
        return rk_seterr(c->err, RK_ERR_INVALID, "%s.secrets: a secret has the wrong "
                         "format for scheme %s", path, rk_sig_scheme_name(e->params.scheme));
    if (rc == RK_ERR_INVALID || rc == RK_ERR_NOMEM)
        return rk_seterr(c->err, rc == RK_ERR_NOMEM ? rc : RK_ERR_INVALID,
                         "%s: bad signature parameters for scheme %s", path,
                         rk_sig_scheme_name(e->params.scheme));
    return RK_OK;
}

static rk_err parse_checkpoint(struct cfg_ctx *c, const cJSON *o, rk_config *cfg)
{
    static const char *const members[] = { "key", "every_records", "every_seconds", NULL };
    const char *key = NULL;
    rk_err rc;

    if (!cJSON_IsObject(o))
        return rk_seterr(c->err, RK_ERR_INVALID, "checkpoint: must be an object");
    rc = check_members(o, "checkpoint", members, c->err);
    if (rc != RK_OK)
        return rc;
    rc = get_str(o, "checkpoint", "key", &key, c->err);
    if (rc == RK_ERR_NOTFOUND)
        return rk_seterr(c->err, RK_ERR_INVALID, "checkpoint.key: required");
    if (rc != RK_OK)
        return rc;
    rc = get_u64(o, "checkpoint", "every_records", 1, UINT32_MAX, &cfg->checkpoint_records,
                 c->err);
    if (rc != RK_OK && rc != RK_ERR_NOTFOUND)
        return rc;
    rc = get_u64(o, "checkpoint", "every_seconds", 1, 86400 * 366,
                 &cfg->checkpoint_seconds, c->err);
    if (rc != RK_OK && rc != RK_ERR_NOTFOUND)
        return rc;
    if (cfg->checkpoint_records == 0 && cfg->checkpoint_seconds == 0)
        return rk_seterr(c->err, RK_ERR_INVALID,
                         "checkpoint: needs every_records, every_seconds or both");
    return resolve(c, key, &cfg->checkpoint_key);
}

static rk_err parse_root(struct cfg_ctx *c, const cJSON *root, rk_config *cfg)
{
    static const char *const members[] = { "listen", "threads", "thread_per_connection",
                                           "body_limit", "timestamp_tolerance",
                                           "checkpoint", "reject_flood", "api_keys",
                                           "endpoints", NULL };
    static const char *const flood_members[] = { "per_peer_per_minute", NULL };
    const cJSON *m, *eps;
    const char *s;
    uint64_t v;
    size_t n;
    rk_err rc;

    if (!cJSON_IsObject(root))
        return rk_seterr(c->err, RK_ERR_INVALID, "the configuration must be a JSON object");
    rc = check_members(root, "", members, c->err);
    if (rc != RK_OK)
        return rc;
    rc = get_str(root, "", "listen", &s, c->err);
    if (rc == RK_ERR_NOTFOUND)
        s = RK_CONFIG_DEFAULT_LISTEN;
    else if (rc != RK_OK)
        return rc;
    rc = parse_listen(cfg, s, c->err);
    if (rc != RK_OK)
        return rc;
    cfg->threads = RK_CONFIG_DEFAULT_THREADS;
    rc = get_u64(root, "", "threads", 1, RK_CONFIG_MAX_THREADS, &v, c->err);
    if (rc == RK_OK)
        cfg->threads = (unsigned)v;
    else if (rc != RK_ERR_NOTFOUND)
        return rc;
    /*
     * Default: the event-driven pool, whose handlers never wait for a sync
     * (serve.c, "the committer"); measured by tests/bench/bench_serve.c.
     */
    cfg->thread_per_connection = 0;
    rc = get_bool(root, "", "thread_per_connection", &cfg->thread_per_connection, c->err);
    if (rc != RK_OK && rc != RK_ERR_NOTFOUND)
        return rc;
    cfg->body_limit = RK_CONFIG_DEFAULT_BODY_LIMIT;
    rc = get_u64(root, "", "body_limit", 1, RK_CONFIG_MAX_BODY_LIMIT, &v, c->err);
    if (rc == RK_OK)
        cfg->body_limit = (size_t)v;
    else if (rc != RK_ERR_NOTFOUND)
        return rc;
    cfg->tolerance = RK_SIG_DEFAULT_TOLERANCE;
    rc = get_u64(root, "", "timestamp_tolerance", 0, 86400 * 366, &v, c->err);
    if (rc == RK_OK)
        cfg->tolerance = (int64_t)v;
    else if (rc != RK_ERR_NOTFOUND)
        return rc;
    m = cJSON_GetObjectItemCaseSensitive(root, "checkpoint");
    if (m != NULL) {
        rc = parse_checkpoint(c, m, cfg);
        if (rc != RK_OK)
            return rc;
    }
    cfg->rejects_per_minute = RK_CONFIG_DEFAULT_REJECTS;
    m = cJSON_GetObjectItemCaseSensitive(root, "reject_flood");
    if (m != NULL) {
        if (!cJSON_IsObject(m))
            return rk_seterr(c->err, RK_ERR_INVALID, "reject_flood: must be an object");
        rc = check_members(m, "reject_flood", flood_members, c->err);
        if (rc != RK_OK)
            return rc;
        rc = get_u64(m, "reject_flood", "per_peer_per_minute", 0, 1000000, &v, c->err);
        if (rc == RK_OK)
            cfg->rejects_per_minute = (unsigned)v;
        else if (rc != RK_ERR_NOTFOUND)
            return rc;
    }
    rc = get_str(root, "", "api_keys", &s, c->err);
    if (rc == RK_OK)
        rc = resolve(c, s, &cfg->api_keys);
    if (rc != RK_OK && rc != RK_ERR_NOTFOUND)
        return rc;
    eps = cJSON_GetObjectItemCaseSensitive(root, "endpoints");
    if (eps == NULL)
        return rk_seterr(c->err, RK_ERR_INVALID, "endpoints: required");
    n = (size_t)cJSON_GetArraySize(eps);
    if (!cJSON_IsObject(eps) || n < 1 || n > RK_CONFIG_MAX_ENDPOINTS)
        return rk_seterr(c->err, RK_ERR_INVALID,
                         "endpoints: must be an object of 1 to %d endpoints",
                         RK_CONFIG_MAX_ENDPOINTS);
    cfg->endpoints = calloc(n, sizeof *cfg->endpoints);
    if (cfg->endpoints == NULL)
        return rk_seterr(c->err, RK_ERR_NOMEM, "out of memory");
    for (m = eps->child; m != NULL; m = m->next) {
        rc = parse_endpoint(c, m, &cfg->endpoints[cfg->nendpoints++], cfg->tolerance);
        if (rc != RK_OK)
            return rc;
    }
    return RK_OK;
}

rk_err rk_config_parse(const char *text, size_t len, const char *base_dir,
                       rk_config **out, char *err)
{
    struct cfg_ctx c = { base_dir, err };
    cJSON *root = NULL;
    rk_config *cfg;
    rk_err rc;

    *out = NULL;
    if (sodium_init() < 0)
        return rk_seterr(err, RK_ERR_NOMEM, "cannot initialise libsodium");
    cfg = calloc(1, sizeof *cfg);
    if (cfg == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    rc = rk_json_parse(text, len, &root, err);
    if (rc != RK_OK) {
        rc = rk_preferr(err, RK_ERR_INVALID, "not JSON");
        goto out;
    }
    rc = parse_root(&c, root, cfg);
out:
    cJSON_Delete(root);
    if (rc != RK_OK)
        rk_config_free(cfg);
    else
        *out = cfg;
    return rc;
}

rk_err rk_config_load(const char *path, rk_config **out, char *err)
{
    rk_buf b = RK_BUF_INIT;
    char *dir = NULL, *slash;
    rk_err rc;

    *out = NULL;
    rc = rk_buf_read_file(&b, path, RK_CONFIG_MAX_FILE, err);
    if (rc != RK_OK)
        goto out;
    dir = strdup(path);
    if (dir == NULL) {
        rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        goto out;
    }
    slash = strrchr(dir, '/');
    if (slash == NULL)
        dir[0] = '\0';
    else if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    rc = rk_config_parse(b.len > 0 ? (const char *)b.data : "", b.len, dir, out, err);
    if (rc != RK_OK)
        rk_preferr(err, rc, "config '%s'", path);
out:
    free(dir);
    rk_buf_free(&b);
    return rc;
}

void rk_config_free(rk_config *c)
{
    size_t i, j;
    rk_config_endpoint *e;

    if (c == NULL)
        return;
    for (i = 0; i < c->nendpoints; i++) {
        e = &c->endpoints[i];
        for (j = 0; j < e->nsecrets; j++) {
            sodium_memzero((void *)e->secrets[j].bytes, e->secrets[j].len);
            free((void *)e->secrets[j].bytes);
        }
        free(e->hmac_header);
        free(e->hmac_prefix);
        free(e->hmac_ts_header);
    }
    free(c->endpoints);
    free(c->checkpoint_key);
    free(c->api_keys);
    free(c);
}

const rk_config_endpoint *rk_config_endpoint_find(const rk_config *c, const char *name)
{
    size_t i;

    for (i = 0; i < c->nendpoints; i++)
        if (strcmp(c->endpoints[i].name, name) == 0)
            return &c->endpoints[i];
    return NULL;
}
