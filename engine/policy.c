/*
 * policy.c - the rail policy matrix (formats/policies.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "canon.h"
#include "policy.h"

struct rk_policy {
    size_t n;
    rk_rail *rails;
};

static const char *const source_key[RK_SRC__COUNT] = {
    [RK_SRC_DECIMALS] = "decimals",     [RK_SRC_CONFIRMATIONS] = "confirmations",
    [RK_SRC_FINALITY] = "finality",     [RK_SRC_MEMO] = "memo",
    [RK_SRC_FEE] = "fee",               [RK_SRC_TOLERANCE] = "tolerance",
    [RK_SRC_WINDOWS] = "windows",
};

static const char *const fee_names[] = {
    [RK_FEE_PAYER_PAYS] = "payer_pays_network_fee",
    [RK_FEE_PROVIDER_DEDUCTS] = "provider_deducts_fee",
    [RK_FEE_OTHER_ASSET] = "fee_in_other_asset",
};

#define MAX_CONFIRMATIONS 1000000u

/*
 * Networks whose native coin we know.  A rail for that coin must not name a
 * contract, and any other asset on the network must (it is a token).  EVM
 * networks take "0x" + 40 hex digits as contracts.
 */
static const struct native {
    const char *network;
    const char *asset;
    int evm;
} natives[] = {
    { "arbitrum", "ETH", 1 },     { "avalanche", "AVAX", 1 }, { "base", "ETH", 1 },
    { "bitcoin", "BTC", 0 },      { "bitcoin-cash", "BCH", 0 }, { "bsc", "BNB", 1 },
    { "dogecoin", "DOGE", 0 },    { "ethereum", "ETH", 1 },   { "litecoin", "LTC", 0 },
    { "optimism", "ETH", 1 },     { "polygon", "POL", 1 },    { "polygon", "MATIC", 1 },
    { "solana", "SOL", 0 },       { "stellar", "XLM", 0 },    { "tron", "TRX", 0 },
    { "xrp", "XRP", 0 },
};

#define NNATIVES (sizeof natives / sizeof natives[0])

/* 1: network known; *is_native: asset is its coin; *evm: EVM contracts. */
static int network_known(const char *network, const char *asset, int *is_native, int *evm)
{
    size_t i;
    int known = 0;

    *is_native = 0;
    *evm = 0;
    for (i = 0; i < NNATIVES; i++) {
        if (strcmp(natives[i].network, network) != 0)
            continue;
        known = 1;
        *evm = natives[i].evm;
        if (strcmp(natives[i].asset, asset) == 0)
            *is_native = 1;
    }
    return known;
}

static int is_evm_hex(const char *c)
{
    size_t i;

    if (c[0] != '0' || (c[1] != 'x' && c[1] != 'X') || strlen(c) != 42)
        return 0;
    for (i = 2; i < 42; i++)
        if (!((c[i] >= '0' && c[i] <= '9') || (c[i] >= 'a' && c[i] <= 'f') ||
              (c[i] >= 'A' && c[i] <= 'F')))
            return 0;
    return 1;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Contract equality: EVM hex case-insensitively, anything else exactly. */
static int contract_eq(const char *a, const char *b)
{
    size_t i;

    if (is_evm_hex(a) && is_evm_hex(b)) {
        for (i = 0; i < 42; i++)
            if (lower(a[i]) != lower(b[i]))
                return 0;
        return 1;
    }
    return strcmp(a, b) == 0;
}

/* ---- parsing ------------------------------------------------------------- */

/* The context of messages: "rails[3] (tron/USDT)". */
typedef struct ctx {
    char where[96];
    char *err;
} ctx;

static rk_err bad(ctx *c, const char *key, const char *fmt, const char *a)
{
    char msg[RK_ERROR_SIZE];

    snprintf(msg, sizeof msg, fmt, a);
    return rk_seterr(c->err, RK_ERR_INVALID, "%s: %s: %s", c->where, key, msg);
}

static rk_err check_keys(ctx *c, const cJSON *obj, const char *path,
                         const char *const *allowed)
{
    const cJSON *it;
    size_t k;

    if (!cJSON_IsObject(obj))
        return bad(c, path, "%s", "must be an object");
    cJSON_ArrayForEach(it, obj) {
        for (k = 0; allowed[k] != NULL; k++)
            if (strcmp(it->string, allowed[k]) == 0)
                break;
        if (allowed[k] == NULL) {
            char key[160];
            snprintf(key, sizeof key, "%s%s%.100s", path, path[0] ? "." : "", it->string);
            return bad(c, key, "%s", "unknown key");
        }
    }
    return RK_OK;
}

static const cJSON *member(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* Member key as a string; *out NULL when absent and not required. */
static rk_err get_str(ctx *c, const cJSON *obj, const char *key, const char *path,
                      int required, const char **out)
{
    const cJSON *m = member(obj, key);

    *out = NULL;
    if (m == NULL)
        return required ? bad(c, path, "%s", "missing") : RK_OK;
    if (!cJSON_IsString(m))
        return bad(c, path, "%s", "must be a string");
    *out = m->valuestring;
    return RK_OK;
}

static rk_err get_uint(ctx *c, const cJSON *obj, const char *key, const char *path,
                       uint64_t max, uint64_t *out)
{
    const cJSON *m = member(obj, key);
    const char *t;
    uint64_t v = 0;
    size_t i;

    if (m == NULL)
        return bad(c, path, "%s", "missing");
    if (!cJSON_IsNumber(m))
        return bad(c, path, "%s", "must be a number");
    t = rk_json_number_text(m);
    if (t == NULL)
        return bad(c, path, "%s", "number without source text");
    if (t[0] == '-')
        return bad(c, path, "'%.40s' is negative", t);
    if (strpbrk(t, ".eE") != NULL)
        return bad(c, path, "'%.40s' is not an integer", t);
    for (i = 0; t[i] != '\0'; i++) {
        unsigned d = (unsigned)(t[i] - '0');
        if (v > (max - d) / 10 || v * 10 + d > max) {
            char lim[32];
            snprintf(lim, sizeof lim, "%llu", (unsigned long long)max);
            return rk_seterr(c->err, RK_ERR_INVALID, "%s: %s: '%.40s' exceeds %s", c->where,
                             path, t, lim);
        }
        v = v * 10 + d;
    }
    *out = v;
    return RK_OK;
}

static rk_err get_bool(ctx *c, const cJSON *obj, const char *key, const char *path, int *out)
{
    const cJSON *m = member(obj, key);

    if (m == NULL)
        return bad(c, path, "%s", "missing");
    if (!cJSON_IsBool(m))
        return bad(c, path, "%s", "must be true or false");
    *out = cJSON_IsTrue(m) ? 1 : 0;
    return RK_OK;
}

/* Copy an identifier: 1..cap-1 bytes, each accepted by ok(). */
static rk_err get_ident(ctx *c, const char *path, const char *s, char *dst, size_t cap,
                        int (*ok)(char), const char *what)
{
    size_t i, n = strlen(s);

    if (n == 0 || n >= cap) {
        char m[64];
        snprintf(m, sizeof m, "must be 1..%zu characters", cap - 1);
        return bad(c, path, "%s", m);
    }
    for (i = 0; i < n; i++)
        if (!ok(s[i]))
            return rk_seterr(c->err, RK_ERR_INVALID, "%s: %s: '%.64s' is not %s", c->where,
                             path, s, what);
    memcpy(dst, s, n + 1);
    return RK_OK;
}

static int ok_network(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
}

static int ok_asset(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.';
}

static int ok_contract(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == ':' || ch == '_' || ch == '-';
}

static int ok_name(char ch)
{
    return ch > ' ' && ch < 0x7f;
}

static rk_err get_amount(ctx *c, const cJSON *obj, const char *key, const char *path,
                         unsigned decimals, rk_amount *out)
{
    const cJSON *m = member(obj, key);
    char sub[RK_ERROR_SIZE] = "";
    rk_err rc;

    if (m == NULL)
        return bad(c, path, "%s", "missing");
    if (!cJSON_IsString(m))
        return bad(c, path, "%s", "must be a decimal string");
    rc = rk_amount_parse(m->valuestring, strlen(m->valuestring), decimals, out, sub);
    if (rc != RK_OK) {
        char d[16];
        snprintf(d, sizeof d, "%u", decimals);
        return rk_seterr(c->err, RK_ERR_INVALID, "%s: %s: not an amount at %s decimals: %s",
                         c->where, path, d, sub);
    }
    if (*out < 0)
        return bad(c, path, "'%.40s' is negative", m->valuestring);
    return RK_OK;
}

static rk_err parse_finality(ctx *c, const cJSON *f, rk_rail *r)
{
    static const char *const depth_keys[] = { "rule", "depth", "probabilistic", NULL };
    static const char *const flag_keys[] = { "rule", "fallback_depth", "probabilistic", NULL };
    const char *rule;
    uint64_t v;
    rk_err rc;

    if (f == NULL)
        return bad(c, "finality", "%s", "missing");
    if (!cJSON_IsObject(f))
        return bad(c, "finality", "%s", "must be an object");
    if ((rc = get_str(c, f, "rule", "finality.rule", 1, &rule)) != RK_OK)
        return rc;
    if (strcmp(rule, "depth") == 0) {
        if ((rc = check_keys(c, f, "finality", depth_keys)) != RK_OK ||
            (rc = get_uint(c, f, "depth", "finality.depth", MAX_CONFIRMATIONS, &v)) != RK_OK)
            return rc;
        if (v == 0)
            return bad(c, "finality.depth", "%s", "must be at least 1");
        r->finality_by_flag = 0;
    } else if (strcmp(rule, "flag") == 0) {
        if ((rc = check_keys(c, f, "finality", flag_keys)) != RK_OK ||
            (rc = get_uint(c, f, "fallback_depth", "finality.fallback_depth",
                           MAX_CONFIRMATIONS, &v)) != RK_OK)
            return rc;
        r->finality_by_flag = 1;
    } else {
        return bad(c, "finality.rule", "'%.40s' is not depth or flag", rule);
    }
    r->finality_depth = (unsigned)v;
    if ((rc = get_bool(c, f, "probabilistic", "finality.probabilistic",
                       &r->probabilistic_finality)) != RK_OK)
        return rc;
    if (!r->finality_by_flag && !r->probabilistic_finality)
        return bad(c, "finality.probabilistic", "%s",
                   "a depth rule is probabilistic: a deeper reorg can undo it");
    if (v > 0 && v < r->confirmations_to_credit)
        return bad(c, r->finality_by_flag ? "finality.fallback_depth" : "finality.depth", "%s",
                   "is below confirmations_to_credit");
    return RK_OK;
}

static rk_err parse_fee(ctx *c, const cJSON *f, rk_rail *r)
{
    static const char *const keys[] = { "treatment", "asset", NULL };
    const char *t, *a;
    size_t k;
    rk_err rc;

    if (f == NULL)
        return bad(c, "fee", "%s", "missing");
    if ((rc = check_keys(c, f, "fee", keys)) != RK_OK ||
        (rc = get_str(c, f, "treatment", "fee.treatment", 1, &t)) != RK_OK ||
        (rc = get_str(c, f, "asset", "fee.asset", 0, &a)) != RK_OK)
        return rc;
    for (k = 0; k < sizeof fee_names / sizeof fee_names[0]; k++)
        if (strcmp(t, fee_names[k]) == 0)
            break;
    if (k == sizeof fee_names / sizeof fee_names[0])
        return bad(c, "fee.treatment", "'%.40s' is not payer_pays_network_fee, "
                                       "provider_deducts_fee or fee_in_other_asset", t);
    r->fee = (rk_fee_treatment)k;
    r->fee_asset[0] = '\0';
    if (a != NULL &&
        (rc = get_ident(c, "fee.asset", a, r->fee_asset, sizeof r->fee_asset, ok_asset,
                        "an upper-case asset symbol")) != RK_OK)
        return rc;
    if (r->fee == RK_FEE_OTHER_ASSET) {
        if (a == NULL)
            return bad(c, "fee.asset", "%s", "missing (required by fee_in_other_asset)");
        if (strcmp(r->fee_asset, r->asset) == 0)
            return bad(c, "fee.asset", "%s", "fee_in_other_asset names the rail's own asset");
    }
    return RK_OK;
}

static rk_err parse_side(ctx *c, const cJSON *tol, const char *side, unsigned decimals,
                         rk_amount *abs, uint32_t *bps)
{
    static const char *const keys[] = { "abs", "bps", NULL };
    char path[32], p2[40];
    const cJSON *s = member(tol, side);
    uint64_t v;
    rk_err rc;

    snprintf(path, sizeof path, "tolerance.%s", side);
    if (s == NULL)
        return bad(c, path, "%s", "missing");
    if ((rc = check_keys(c, s, path, keys)) != RK_OK)
        return rc;
    snprintf(p2, sizeof p2, "%s.abs", path);
    if ((rc = get_amount(c, s, "abs", p2, decimals, abs)) != RK_OK)
        return rc;
    snprintf(p2, sizeof p2, "%s.bps", path);
    if ((rc = get_uint(c, s, "bps", p2, 10000, &v)) != RK_OK)
        return rc;
    *bps = (uint32_t)v;
    return RK_OK;
}

static rk_err parse_windows(ctx *c, const cJSON *w, rk_rail *r)
{
    static const char *const keys[] = { "expiry_grace_s", "stale_after_s", NULL };
    uint64_t v;
    rk_err rc;

    if (w == NULL)
        return bad(c, "windows", "%s", "missing");
    if ((rc = check_keys(c, w, "windows", keys)) != RK_OK ||
        (rc = get_uint(c, w, "expiry_grace_s", "windows.expiry_grace_s",
                       (uint64_t)RK_POLICY_WINDOW_MAX, &v)) != RK_OK)
        return rc;
    r->expiry_grace_s = (int64_t)v;
    if ((rc = get_uint(c, w, "stale_after_s", "windows.stale_after_s",
                       (uint64_t)RK_POLICY_WINDOW_MAX, &v)) != RK_OK)
        return rc;
    if (v == 0)
        return bad(c, "windows.stale_after_s", "%s", "must be at least 1");
    r->stale_after_s = (int64_t)v;
    return RK_OK;
}

static rk_err parse_sources(ctx *c, const cJSON *s, rk_rail *r)
{
    static const char *const keys[] = { "decimals", "confirmations", "finality", "memo",
                                        "fee", "tolerance", "windows", NULL };
    char path[40];
    const char *v;
    size_t k, n;
    rk_err rc;

    if (s == NULL)
        return bad(c, "sources", "%s", "missing");
    if ((rc = check_keys(c, s, "sources", keys)) != RK_OK)
        return rc;
    for (k = 0; k < RK_SRC__COUNT; k++) {
        snprintf(path, sizeof path, "sources.%s", source_key[k]);
        if ((rc = get_str(c, s, source_key[k], path, 1, &v)) != RK_OK)
            return rc;
        n = strlen(v);
        if (n == 0)
            return bad(c, path, "%s", "is empty: say where the numbers come from");
        if (n > RK_POLICY_SOURCE_MAX)
            return bad(c, path, "%s", "is longer than 1024 bytes");
        r->source[k] = strdup(v);
        if (r->source[k] == NULL)
            return rk_seterr(c->err, RK_ERR_NOMEM, "out of memory");
    }
    return RK_OK;
}

static rk_err parse_rail(ctx *c, const cJSON *o, size_t i, rk_rail *r)
{
    static const char *const keys[] = { "name", "network", "asset", "contract", "decimals",
                                        "confirmations_to_credit", "finality",
                                        "memo_required", "fee", "tolerance", "windows",
                                        "sources", NULL };
    static const char *const tol_keys[] = { "under", "over", NULL };
    const char *net, *asset, *contract, *name;
    const cJSON *tol;
    uint64_t v;
    int is_native, evm;
    rk_err rc;

    snprintf(c->where, sizeof c->where, "rails[%zu]", i);
    if (!cJSON_IsObject(o))
        return rk_seterr(c->err, RK_ERR_INVALID, "%s: must be an object", c->where);
    if ((rc = get_str(c, o, "network", "network", 1, &net)) != RK_OK ||
        (rc = get_ident(c, "network", net, r->network, sizeof r->network, ok_network,
                        "a lower-case network id")) != RK_OK ||
        (rc = get_str(c, o, "asset", "asset", 1, &asset)) != RK_OK ||
        (rc = get_ident(c, "asset", asset, r->asset, sizeof r->asset, ok_asset,
                        "an upper-case asset symbol")) != RK_OK)
        return rc;
    snprintf(c->where, sizeof c->where, "rails[%zu] (%s/%s)", i, r->network, r->asset);
    if ((rc = check_keys(c, o, "", keys)) != RK_OK ||
        (rc = get_str(c, o, "name", "name", 0, &name)) != RK_OK ||
        (name != NULL && (rc = get_ident(c, "name", name, r->name, sizeof r->name, ok_name,
                                         "printable ASCII without spaces")) != RK_OK) ||
        (rc = get_str(c, o, "contract", "contract", 0, &contract)) != RK_OK)
        return rc;

    network_known(r->network, r->asset, &is_native, &evm);
    if (contract != NULL) {
        size_t k;
        if ((rc = get_ident(c, "contract", contract, r->contract, sizeof r->contract,
                            ok_contract, "a token contract")) != RK_OK)
            return rc;
        if (is_native)
            return bad(c, "contract", "%s",
                       "given for the network's native coin (omit it for a native rail)");
        if (evm && !is_evm_hex(r->contract))
            return bad(c, "contract", "'%.64s' is not 0x and 40 hex digits", r->contract);
        if (evm)
            for (k = 0; r->contract[k] != '\0'; k++)
                r->contract[k] = lower(r->contract[k]);
    } else if (network_known(r->network, r->asset, &is_native, &evm) && !is_native) {
        return bad(c, "contract", "%s", "missing: the asset is a token on this network");
    }

    if ((rc = get_uint(c, o, "decimals", "decimals", RK_AMOUNT_MAX_DECIMALS, &v)) != RK_OK)
        return rc;
    r->decimals = (unsigned)v;
    if ((rc = get_uint(c, o, "confirmations_to_credit", "confirmations_to_credit",
                       MAX_CONFIRMATIONS, &v)) != RK_OK)
        return rc;
    r->confirmations_to_credit = (unsigned)v;
    if ((rc = parse_finality(c, member(o, "finality"), r)) != RK_OK ||
        (rc = get_bool(c, o, "memo_required", "memo_required", &r->memo_required)) != RK_OK ||
        (rc = parse_fee(c, member(o, "fee"), r)) != RK_OK)
        return rc;
    tol = member(o, "tolerance");
    if (tol == NULL)
        return bad(c, "tolerance", "%s", "missing");
    if ((rc = check_keys(c, tol, "tolerance", tol_keys)) != RK_OK ||
        (rc = parse_side(c, tol, "under", r->decimals, &r->tol_under_abs,
                         &r->tol_under_bps)) != RK_OK ||
        (rc = parse_side(c, tol, "over", r->decimals, &r->tol_over_abs,
                         &r->tol_over_bps)) != RK_OK ||
        (rc = parse_windows(c, member(o, "windows"), r)) != RK_OK ||
        (rc = parse_sources(c, member(o, "sources"), r)) != RK_OK)
        return rc;
    return RK_OK;
}

static int rail_cmp(const void *a, const void *b)
{
    const rk_rail *x = a, *y = b;
    int d = strcmp(x->network, y->network);

    if (d == 0)
        d = strcmp(x->asset, y->asset);
    if (d == 0)
        d = strcmp(x->contract, y->contract);
    return d;
}

static void free_rails(rk_rail *rails, size_t n)
{
    size_t i, k;

    for (i = 0; i < n; i++)
        for (k = 0; k < RK_SRC__COUNT; k++)
            free((char *)rails[i].source[k]);
    free(rails);
}

void rk_policy_free(rk_policy *p)
{
    if (p == NULL)
        return;
    free_rails(p->rails, p->n);
    free(p);
}

/* Two rails for one network+asset+contract, or one contract under two symbols. */
static rk_err check_duplicates(const rk_rail *rails, size_t n, char *err)
{
    size_t i, j;

    for (j = 1; j < n; j++)
        for (i = 0; i < j; i++) {
            const rk_rail *a = &rails[i], *b = &rails[j];
            if (strcmp(a->network, b->network) != 0 || !contract_eq(a->contract, b->contract))
                continue;
            if (strcmp(a->asset, b->asset) == 0)
                return rk_seterr(err, RK_ERR_INVALID,
                                 "rails[%zu] (%s/%s): duplicate rail: rails[%zu] has the same "
                                 "network, asset and contract", j, b->network, b->asset, i);
            if (a->contract[0] != '\0')
                return rk_seterr(err, RK_ERR_INVALID,
                                 "rails[%zu] (%s/%s): contract: '%s' is already rails[%zu] "
                                 "(%s)", j, b->network, b->asset, b->contract, i, a->asset);
        }
    return RK_OK;
}

static rk_err policy_from_json(const cJSON *root, rk_policy **out, char *err)
{
    static const char *const keys[] = { "rails", "v", NULL };
    ctx c = { "policy", err };
    const cJSON *rails, *it;
    rk_policy *p = NULL;
    uint64_t v;
    size_t n, i = 0;
    rk_err rc;

    if ((rc = check_keys(&c, root, "", keys)) != RK_OK)
        return rc;
    if ((rc = get_uint(&c, root, "v", "v", UINT32_MAX, &v)) != RK_OK)
        return rc;
    if (v != RK_POLICY_VERSION)
        return rk_seterr(err, RK_ERR_VERSION, "policy: v: version %llu is not supported",
                         (unsigned long long)v);
    rails = member(root, "rails");
    if (rails == NULL)
        return rk_seterr(err, RK_ERR_INVALID, "policy: rails: missing");
    if (!cJSON_IsArray(rails))
        return rk_seterr(err, RK_ERR_INVALID, "policy: rails: must be an array");
    n = (size_t)cJSON_GetArraySize(rails);
    if (n == 0)
        return rk_seterr(err, RK_ERR_INVALID, "policy: rails: is empty");
    if (n > RK_POLICY_MAX_RAILS)
        return rk_seterr(err, RK_ERR_TOOBIG, "policy: rails: more than %d rails",
                         RK_POLICY_MAX_RAILS);
    p = calloc(1, sizeof *p);
    if (p == NULL || (p->rails = calloc(n, sizeof *p->rails)) == NULL) {
        free(p);
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    }
    p->n = n;
    cJSON_ArrayForEach(it, rails) {
        if ((rc = parse_rail(&c, it, i, &p->rails[i])) != RK_OK)
            goto out;
        i++;
    }
    if ((rc = check_duplicates(p->rails, n, err)) != RK_OK)
        goto out;
    qsort(p->rails, n, sizeof *p->rails, rail_cmp);
    *out = p;
    p = NULL;
out:
    rk_policy_free(p);
    return rc;
}

rk_err rk_policy_parse(const char *text, size_t len, rk_policy **out, char *err)
{
    cJSON *root = NULL;
    rk_err rc;

    if (text == NULL || out == NULL)
        return rk_seterr(err, RK_ERR_INVALID, "policy: no input");
    if (len > RK_POLICY_FILE_MAX)
        return rk_seterr(err, RK_ERR_TOOBIG, "policy: larger than %u bytes",
                         RK_POLICY_FILE_MAX);
    rc = rk_json_parse(text, len, &root, err);
    if (rc != RK_OK)
        return rk_preferr(err, rc, "policy");
    rc = policy_from_json(root, out, err);
    cJSON_Delete(root);
    return rc;
}

rk_err rk_policy_load(const char *path, rk_policy **out, char *err)
{
    rk_buf b = RK_BUF_INIT;
    rk_err rc = rk_buf_read_file(&b, path, RK_POLICY_FILE_MAX, err);

    if (rc == RK_OK) {
        rc = rk_policy_parse((const char *)b.data, b.len, out, err);
        if (rc != RK_OK)
            rk_preferr(err, rc, "%s", path);
    }
    rk_buf_free(&b);
    return rc;
}

rk_err rk_policy_from_record_body(const uint8_t *body, size_t len, rk_policy **out,
                                  char *err)
{
    static const char *const keys[] = { "policy", "v", NULL };
    ctx c = { "policy record", err };
    cJSON *root = NULL;
    const cJSON *pol;
    uint64_t v;
    rk_err rc;

    if (body == NULL || out == NULL)
        return rk_seterr(err, RK_ERR_INVALID, "policy record: no input");
    rc = rk_json_parse((const char *)body, len, &root, err);
    if (rc != RK_OK) {
        rk_preferr(err, rc, "policy record");
        goto out;
    }
    if ((rc = check_keys(&c, root, "", keys)) != RK_OK ||
        (rc = get_uint(&c, root, "v", "v", UINT32_MAX, &v)) != RK_OK)
        goto out;
    if (v != RK_POLICY_VERSION) {
        rc = rk_seterr(err, RK_ERR_VERSION, "policy record: v: version %llu is not supported",
                       (unsigned long long)v);
        goto out;
    }
    pol = member(root, "policy");
    if (pol == NULL) {
        rc = rk_seterr(err, RK_ERR_INVALID, "policy record: policy: missing");
        goto out;
    }
    rc = policy_from_json(pol, out, err);
    if (rc != RK_OK)
        rk_preferr(err, rc, "policy record");
out:
    cJSON_Delete(root);
    return rc;
}

/* ---- canonical form ------------------------------------------------------ */

static cJSON *amount_json(rk_amount v, unsigned decimals)
{
    char s[RK_AMOUNT_STR_MAX];

    rk_amount_format(v, decimals, s);
    return cJSON_CreateString(s);
}

static int add(cJSON *o, const char *k, cJSON *v)
{
    return v != NULL && cJSON_AddItemToObject(o, k, v);
}

static cJSON *side_json(rk_amount abs, uint32_t bps, unsigned decimals)
{
    cJSON *s = cJSON_CreateObject();

    if (s == NULL || !add(s, "abs", amount_json(abs, decimals)) ||
        !add(s, "bps", cJSON_CreateNumber(bps))) {
        cJSON_Delete(s);
        return NULL;
    }
    return s;
}

static cJSON *rail_json(const rk_rail *r)
{
    cJSON *o = cJSON_CreateObject(), *f = NULL, *t = NULL, *w = NULL, *s = NULL, *fee = NULL;
    size_t k;
    int ok = o != NULL;

    ok = ok && add(o, "network", cJSON_CreateString(r->network)) &&
         add(o, "asset", cJSON_CreateString(r->asset)) &&
         (r->contract[0] == '\0' || add(o, "contract", cJSON_CreateString(r->contract))) &&
         (r->name[0] == '\0' || add(o, "name", cJSON_CreateString(r->name))) &&
         add(o, "decimals", cJSON_CreateNumber(r->decimals)) &&
         add(o, "confirmations_to_credit", cJSON_CreateNumber(r->confirmations_to_credit)) &&
         add(o, "memo_required", cJSON_CreateBool(r->memo_required));
    if (ok && (f = cJSON_CreateObject()) != NULL && add(o, "finality", f))
        ok = add(f, "rule", cJSON_CreateString(r->finality_by_flag ? "flag" : "depth")) &&
             add(f, r->finality_by_flag ? "fallback_depth" : "depth",
                 cJSON_CreateNumber(r->finality_depth)) &&
             add(f, "probabilistic", cJSON_CreateBool(r->probabilistic_finality));
    else
        ok = 0, cJSON_Delete(f);
    if (ok && (fee = cJSON_CreateObject()) != NULL && add(o, "fee", fee))
        ok = add(fee, "treatment", cJSON_CreateString(rk_fee_treatment_name(r->fee))) &&
             (r->fee_asset[0] == '\0' || add(fee, "asset", cJSON_CreateString(r->fee_asset)));
    else
        ok = 0, cJSON_Delete(fee);
    if (ok && (t = cJSON_CreateObject()) != NULL && add(o, "tolerance", t))
        ok = add(t, "under", side_json(r->tol_under_abs, r->tol_under_bps, r->decimals)) &&
             add(t, "over", side_json(r->tol_over_abs, r->tol_over_bps, r->decimals));
    else
        ok = 0, cJSON_Delete(t);
    if (ok && (w = cJSON_CreateObject()) != NULL && add(o, "windows", w))
        ok = add(w, "expiry_grace_s", cJSON_CreateNumber((double)r->expiry_grace_s)) &&
             add(w, "stale_after_s", cJSON_CreateNumber((double)r->stale_after_s));
    else
        ok = 0, cJSON_Delete(w);
    if (ok && (s = cJSON_CreateObject()) != NULL && add(o, "sources", s)) {
        for (k = 0; ok && k < RK_SRC__COUNT; k++)
            ok = add(s, source_key[k], cJSON_CreateString(r->source[k]));
    } else {
        ok = 0, cJSON_Delete(s);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

rk_err rk_policy_canonical(const rk_policy *p, rk_buf *out, char *err)
{
    cJSON *root = NULL, *arr = NULL, *r;
    size_t i;
    rk_err rc;

    if (p == NULL || out == NULL)
        return rk_seterr(err, RK_ERR_INVALID, "policy: no policy");
    root = cJSON_CreateObject();
    if (root == NULL || (arr = cJSON_CreateArray()) == NULL || !add(root, "rails", arr)) {
        cJSON_Delete(arr);
        rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < p->n; i++) {
        r = rail_json(&p->rails[i]);
        if (r == NULL || !cJSON_AddItemToArray(arr, r)) {
            cJSON_Delete(r);
            rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    if (!add(root, "v", cJSON_CreateNumber(RK_POLICY_VERSION))) {
        rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = rk_canon_write(root, 0, out, err);
out:
    cJSON_Delete(root);
    return rc;
}

rk_err rk_policy_record_body(const rk_policy *p, rk_buf *out, char *err)
{
    size_t mark = out != NULL ? out->len : 0;
    rk_err rc;

    if (p == NULL || out == NULL)
        return rk_seterr(err, RK_ERR_INVALID, "policy: no policy");
    /* canonical key order: "policy" < "v" */
    if ((rc = rk_buf_puts(out, "{\"policy\":")) != RK_OK ||
        (rc = rk_policy_canonical(p, out, err)) != RK_OK ||
        (rc = rk_buf_printf(out, ",\"v\":%d}", RK_POLICY_VERSION)) != RK_OK) {
        out->len = mark;
        if (rc == RK_ERR_NOMEM)
            rk_seterr(err, rc, "out of memory");
        return rc;
    }
    return RK_OK;
}

rk_err rk_policy_digest(const rk_policy *p, uint8_t out[RK_HASH_SIZE])
{
    rk_buf b = RK_BUF_INIT;
    rk_err rc = rk_policy_canonical(p, &b, NULL);

    if (rc == RK_OK)
        rk_sha256(out, b.data, b.len);
    rk_buf_free(&b);
    return rc;
}

/* ---- look-up and verdicts ------------------------------------------------ */

size_t rk_policy_count(const rk_policy *p)
{
    return p != NULL ? p->n : 0;
}

const rk_rail *rk_policy_rail(const rk_policy *p, size_t i)
{
    return p != NULL && i < p->n ? &p->rails[i] : NULL;
}

const rk_rail *rk_policy_find(const rk_policy *p, const char *network, const char *asset,
                              const char *contract)
{
    size_t i;

    if (p == NULL || network == NULL || asset == NULL)
        return NULL;
    if (contract == NULL)
        contract = "";
    for (i = 0; i < p->n; i++) {
        const rk_rail *r = &p->rails[i];
        if (strcmp(r->network, network) == 0 && strcmp(r->asset, asset) == 0 &&
            contract_eq(r->contract, contract))
            return r;
    }
    return NULL;
}

const rk_rail *rk_policy_find_implied(const rk_policy *p, const char *network,
                                      const char *asset)
{
    const rk_rail *found = NULL;
    size_t i;

    if (p == NULL || network == NULL || asset == NULL)
        return NULL;
    for (i = 0; i < p->n; i++) {
        const rk_rail *r = &p->rails[i];
        if (strcmp(r->network, network) != 0 || strcmp(r->asset, asset) != 0)
            continue;
        if (r->contract[0] == '\0')
            return r; /* the native asset */
        if (found != NULL)
            return NULL; /* two tokens of that symbol: ambiguous */
        found = r;
    }
    return found;
}

const rk_rail *rk_policy_find_contract(const rk_policy *p, const char *network,
                                       const char *contract)
{
    size_t i;

    if (p == NULL || network == NULL || contract == NULL || contract[0] == '\0')
        return NULL;
    for (i = 0; i < p->n; i++) {
        const rk_rail *r = &p->rails[i];
        if (r->contract[0] != '\0' && strcmp(r->network, network) == 0 &&
            contract_eq(r->contract, contract))
            return r;
    }
    return NULL;
}

typedef unsigned __int128 u128;

/* floor(mag * bps / 10000) without overflow (bps <= 10000). */
static u128 bps_of(u128 mag, uint32_t bps)
{
    if (bps > 10000)
        bps = 10000;
    return (mag / 10000) * bps + (mag % 10000) * bps / 10000;
}

int rk_policy_amount_verdict(const rk_rail *r, rk_amount expected, rk_amount paid)
{
    u128 diff, mag, allow, by_bps;
    rk_amount abs;
    uint32_t bps;
    int side;

    if (paid == expected)
        return 0;
    /* the true difference is below 2^128, so unsigned wrap-around gives it exactly */
    if (paid < expected) {
        side = -1;
        diff = (u128)expected - (u128)paid;
    } else {
        side = 1;
        diff = (u128)paid - (u128)expected;
    }
    if (r == NULL)
        return side;
    abs = side < 0 ? r->tol_under_abs : r->tol_over_abs;
    bps = side < 0 ? r->tol_under_bps : r->tol_over_bps;
    mag = expected < 0 ? (u128)0 - (u128)expected : (u128)expected;
    allow = abs > 0 ? (u128)abs : 0;
    by_bps = bps_of(mag, bps);
    if (by_bps > allow)
        allow = by_bps;
    return diff <= allow ? 0 : side;
}

const char *rk_fee_treatment_name(rk_fee_treatment f)
{
    if ((unsigned)f < sizeof fee_names / sizeof fee_names[0])
        return fee_names[f];
    return "unknown";
}
