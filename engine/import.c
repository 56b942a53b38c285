/*
 * import.c - commerce and finance rows: check every row, find each row's
 * latest version in the ledger, append the new facts in one batch
 * (formats/import.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "canon.h"
#include "import_int.h"
#include "record.h"

/* ---- fiat currencies ---------------------------------------------------- */

/*
 * Active ISO 4217 currency codes with their minor units (ISO 4217 list one,
 * current currencies; funds, metals, SDR and testing codes left out).
 */
static const struct fiat {
    char code[4];
    unsigned char decimals;
} fiats[] = {
    { "AED", 2 }, { "AFN", 2 }, { "ALL", 2 }, { "AMD", 2 }, { "ANG", 2 }, { "AOA", 2 },
    { "ARS", 2 }, { "AUD", 2 }, { "AWG", 2 }, { "AZN", 2 }, { "BAM", 2 }, { "BBD", 2 },
    { "BDT", 2 }, { "BGN", 2 }, { "BHD", 3 }, { "BIF", 0 }, { "BMD", 2 }, { "BND", 2 },
    { "BOB", 2 }, { "BRL", 2 }, { "BSD", 2 }, { "BTN", 2 }, { "BWP", 2 }, { "BYN", 2 },
    { "BZD", 2 }, { "CAD", 2 }, { "CDF", 2 }, { "CHF", 2 }, { "CLP", 0 }, { "CNY", 2 },
    { "COP", 2 }, { "CRC", 2 }, { "CUP", 2 }, { "CVE", 2 }, { "CZK", 2 }, { "DJF", 0 },
    { "DKK", 2 }, { "DOP", 2 }, { "DZD", 2 }, { "EGP", 2 }, { "ERN", 2 }, { "ETB", 2 },
    { "EUR", 2 }, { "FJD", 2 }, { "FKP", 2 }, { "GBP", 2 }, { "GEL", 2 }, { "GHS", 2 },
    { "GIP", 2 }, { "GMD", 2 }, { "GNF", 0 }, { "GTQ", 2 }, { "GYD", 2 }, { "HKD", 2 },
    { "HNL", 2 }, { "HTG", 2 }, { "HUF", 2 }, { "IDR", 2 }, { "ILS", 2 }, { "INR", 2 },
    { "IQD", 3 }, { "IRR", 2 }, { "ISK", 0 }, { "JMD", 2 }, { "JOD", 3 }, { "JPY", 0 },
    { "KES", 2 }, { "KGS", 2 }, { "KHR", 2 }, { "KMF", 0 }, { "KPW", 2 }, { "KRW", 0 },
    { "KWD", 3 }, { "KYD", 2 }, { "KZT", 2 }, { "LAK", 2 }, { "LBP", 2 }, { "LKR", 2 },
    { "LRD", 2 }, { "LSL", 2 }, { "LYD", 3 }, { "MAD", 2 }, { "MDL", 2 }, { "MGA", 2 },
    { "MKD", 2 }, { "MMK", 2 }, { "MNT", 2 }, { "MOP", 2 }, { "MRU", 2 }, { "MUR", 2 },
    { "MVR", 2 }, { "MWK", 2 }, { "MXN", 2 }, { "MYR", 2 }, { "MZN", 2 }, { "NAD", 2 },
    { "NGN", 2 }, { "NIO", 2 }, { "NOK", 2 }, { "NPR", 2 }, { "NZD", 2 }, { "OMR", 3 },
    { "PAB", 2 }, { "PEN", 2 }, { "PGK", 2 }, { "PHP", 2 }, { "PKR", 2 }, { "PLN", 2 },
    { "PYG", 0 }, { "QAR", 2 }, { "RON", 2 }, { "RSD", 2 }, { "RUB", 2 }, { "RWF", 0 },
    { "SAR", 2 }, { "SBD", 2 }, { "SCR", 2 }, { "SDG", 2 }, { "SEK", 2 }, { "SGD", 2 },
    { "SHP", 2 }, { "SLE", 2 }, { "SOS", 2 }, { "SRD", 2 }, { "SSP", 2 }, { "STN", 2 },
    { "SVC", 2 }, { "SYP", 2 }, { "SZL", 2 }, { "THB", 2 }, { "TJS", 2 }, { "TMT", 2 },
    { "TND", 3 }, { "TOP", 2 }, { "TRY", 2 }, { "TTD", 2 }, { "TWD", 2 }, { "TZS", 2 },
    { "UAH", 2 }, { "UGX", 0 }, { "USD", 2 }, { "UYU", 2 }, { "UZS", 2 }, { "VED", 2 },
    { "VES", 2 }, { "VND", 0 }, { "VUV", 0 }, { "WST", 2 }, { "XAF", 0 }, { "XCD", 2 },
    { "XCG", 2 }, { "XOF", 0 }, { "XPF", 0 }, { "YER", 2 }, { "ZAR", 2 }, { "ZMW", 2 },
    { "ZWG", 2 },
};

int rk_import_fiat_decimals(const char *code)
{
    size_t lo = 0, hi = sizeof fiats / sizeof fiats[0];

    if (code == NULL || strlen(code) != 3)
        return -1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(code, fiats[mid].code);
        if (c == 0)
            return fiats[mid].decimals;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

/* ---- formats ------------------------------------------------------------ */

rk_err rk_import_format_parse(const char *name, rk_import_format *out)
{
    if (name == NULL)
        return RK_ERR_INVALID;
    if (strcmp(name, "csv") == 0)
        *out = RK_IMPORT_CSV;
    else if (strcmp(name, "jsonl") == 0)
        *out = RK_IMPORT_JSONL;
    else if (strcmp(name, "json") == 0)
        *out = RK_IMPORT_JSON;
    else
        return RK_ERR_INVALID;
    return RK_OK;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix), i;

    if (n < m)
        return 0;
    for (i = 0; i < m; i++) {
        char c = s[n - m + i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != suffix[i])
            return 0;
    }
    return 1;
}

rk_err rk_import_format_guess(const char *path, rk_import_format *out, char *err)
{
    if (path != NULL && ends_with(path, ".csv"))
        *out = RK_IMPORT_CSV;
    else if (path != NULL && (ends_with(path, ".jsonl") || ends_with(path, ".ndjson")))
        *out = RK_IMPORT_JSONL;
    else if (path != NULL && ends_with(path, ".json"))
        *out = RK_IMPORT_JSON;
    else
        return rk_seterr(err, RK_ERR_INVALID,
                         "cannot tell the format of '%s' (use .csv, .jsonl or .json, "
                         "or name it with --format)", path != NULL ? path : "");
    return RK_OK;
}

/* ---- the fields of each kind -------------------------------------------- */

static const char *const commerce_fields[] = {
    "id", "order", "event", "occurred_at", "price_amount", "price_currency",
    "expected_amount", "expected_asset", "expected_network", "expected_contract",
    "expected_memo", "expires_at", "amount", "currency", NULL,
};
static const char *const commerce_required[] = { "order", "event", "occurred_at", NULL };
static const char *const commerce_nested[] = { "price", "expected", NULL };

static const char *const finance_fields[] = {
    "entry_id", "order", "account", "side", "amount", "currency", "fx_rate",
    "fx_source", "recognised_at", "period", NULL,
};
static const char *const finance_required[] = {
    "entry_id", "order", "account", "side", "amount", "currency", "recognised_at",
    "period", NULL,
};

static int in_list(const char *const *list, const char *name)
{
    for (; *list != NULL; list++)
        if (strcmp(*list, name) == 0)
            return 1;
    return 0;
}

static int commerce_known(const char *name)
{
    return in_list(commerce_fields, name);
}

static int finance_known(const char *name)
{
    return in_list(finance_fields, name);
}

/* ---- checking one row --------------------------------------------------- */

/* The value of a field, NULL when absent or empty. */
static const struct rk_imp_field *field(const struct rk_imp_row *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->nf; i++)
        if (strcmp(r->f[i].name, name) == 0)
            return r->f[i].value[0] != '\0' ? &r->f[i] : NULL;
    return NULL;
}

static int plain_integer(const char *s)
{
    size_t i;

    if (s[0] < '0' || s[0] > '9')
        return 0;
    for (i = 0; s[i] != '\0'; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/*
 * A text field: at most max bytes, no control characters, no leading or
 * trailing space; from a JSON number only as a plain integer (order 1042).
 * Returns the value, or NULL with the row failed (or when absent and not
 * required: then *absent is set).
 */
static const char *text(struct rk_imp_row *r, const char *name, size_t max, int required,
                        int *absent)
{
    const struct rk_imp_field *f = field(r, name);
    const unsigned char *s;
    size_t n;

    *absent = 0;
    if (f == NULL) {
        if (required)
            rk_imp_row_fail(r, "%s: missing", name);
        else
            *absent = 1;
        return NULL;
    }
    if (f->number && !plain_integer(f->value)) {
        rk_imp_row_fail(r, "%s: must be a string, not the number %s", name, f->value);
        return NULL;
    }
    s = (const unsigned char *)f->value;
    n = strlen(f->value);
    if (n > max) {
        rk_imp_row_fail(r, "%s: longer than %zu bytes", name, max);
        return NULL;
    }
    if (s[0] == ' ' || s[n - 1] == ' ') {
        rk_imp_row_fail(r, "%s: leading or trailing space", name);
        return NULL;
    }
    for (; *s != '\0'; s++) {
        if (*s < 0x20 || *s == 0x7f) {
            rk_imp_row_fail(r, "%s: control character 0x%02x", name, *s);
            return NULL;
        }
    }
    return f->value;
}

/* Expand a JSON number literal with an exponent into plain decimal text. */
static int expand_exponent(const char *lit, char *out, size_t outsize)
{
    char digits[RK_JSON_NUMBER_MAX + 1];
    const char *p = lit;
    size_t nd = 0, intd = 0, i, o = 0;
    long e = 0, point;
    int neg = 0, eneg = 0;

    if (*p == '-') {
        neg = 1;
        p++;
    }
    while (*p >= '0' && *p <= '9' && nd < RK_JSON_NUMBER_MAX)
        digits[nd++] = *p++;
    intd = nd;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9' && nd < RK_JSON_NUMBER_MAX;)
            digits[nd++] = *p++;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            eneg = *p++ == '-';
        for (; *p >= '0' && *p <= '9'; p++) {
            e = e * 10 + (*p - '0');
            if (e > 60)
                return -1;
        }
    }
    if (*p != '\0' || nd == 0)
        return -1;
    point = (long)intd + (eneg ? -e : e);
    if (nd + 64 + 4 > outsize)
        return -1;
    if (neg)
        out[o++] = '-';
    if (point <= 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (; point < 0; point++)
            out[o++] = '0';
        for (i = 0; i < nd; i++)
            out[o++] = digits[i];
    } else {
        size_t start = o;
        for (i = 0; i < nd || (long)i < point; i++) {
            if ((long)i == point)
                out[o++] = '.';
            out[o++] = i < nd ? digits[i] : '0';
        }
        /* drop leading zeros of the integer part ("05" -> "5") */
        while (out[start] == '0' && out[start + 1] >= '0' && out[start + 1] <= '9') {
            memmove(out + start, out + start + 1, o - start - 1);
            o--;
        }
    }
    out[o] = '\0';
    return 0;
}

/*
 * An amount field, normalized into out: at `fiat` decimals when fiat >= 0
 * (the currency's minor units), else in its shortest exact form.  It must
 * be greater than zero.  Returns 0, or -1 with the row failed.
 */
static int amount(struct rk_imp_row *r, const char *name, int fiat, const char *code,
                  int required, char out[RK_AMOUNT_STR_MAX], int *absent)
{
    const struct rk_imp_field *f = field(r, name);
    char buf[160], e[RK_ERROR_SIZE];
    const char *s, *dot;
    size_t n, frac = 0;
    unsigned dec;
    rk_amount v;

    *absent = 0;
    if (f == NULL) {
        if (required)
            rk_imp_row_fail(r, "%s: missing", name);
        else
            *absent = 1;
        return -1;
    }
    s = f->value;
    if (f->number && strpbrk(s, "eE") != NULL) {
        if (expand_exponent(s, buf, sizeof buf) != 0) {
            rk_imp_row_fail(r, "%s: the number %s is out of range", name, s);
            return -1;
        }
        s = buf;
    }
    n = strlen(s);
    dot = strchr(s, '.');
    if (dot != NULL) {
        const char *q = dot + 1;
        while (q[frac] >= '0' && q[frac] <= '9')
            frac++;
        while (frac > 0 && q[frac - 1] == '0')
            frac--;
    }
    if (fiat >= 0) {
        dec = (unsigned)fiat;
    } else if (frac > RK_AMOUNT_MAX_DECIMALS) {
        rk_imp_row_fail(r, "%s: more than %d fraction digits", name, RK_AMOUNT_MAX_DECIMALS);
        return -1;
    } else {
        dec = (unsigned)frac;
    }
    if (rk_amount_parse(s, n, dec, &v, e) != RK_OK) {
        if (fiat >= 0 && frac > dec)
            rk_imp_row_fail(r, "%s: %s (%s has %u)", name, e, code, dec);
        else
            rk_imp_row_fail(r, "%s: %s", name, e);
        return -1;
    }
    if (v <= 0) {
        rk_imp_row_fail(r, "%s: must be greater than zero", name);
        return -1;
    }
    rk_amount_format(v, dec, out);
    return 0;
}

/* A time field, normalized to RFC 3339 UTC with nine fraction digits. */
static int when(struct rk_imp_row *r, const char *name, int required, int64_t *ns,
                char out[RK_TIME_STR_MAX], int *absent)
{
    char q[RK_IMP_QUOTE_MAX];
    const char *s = text(r, name, 64, required, absent);

    if (s == NULL)
        return -1;
    if (rk_time_parse(s, ns) != RK_OK) {
        rk_imp_row_fail(r, "%s: '%s' is not an RFC 3339 time", name, rk_imp_quote(q, s));
        return -1;
    }
    rk_time_format(*ns, out);
    return 0;
}

/* An asset symbol or currency code: 2..16 letters and digits, upper-cased. */
static int symbol(struct rk_imp_row *r, const char *name, int required, char out[17],
                  int *absent)
{
    char q[RK_IMP_QUOTE_MAX];
    const char *s = text(r, name, 64, required, absent);
    size_t i, n, letters = 0;

    if (s == NULL)
        return -1;
    n = strlen(s);
    for (i = 0; i < n && i < 16; i++) {
        char c = s[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            break;
        letters += c >= 'A' && c <= 'Z';
        out[i] = c;
    }
    if (n < 2 || n > 16 || i < n || letters == 0) {
        rk_imp_row_fail(r, "%s: '%s' is not a currency code or asset symbol", name,
                        rk_imp_quote(q, s));
        return -1;
    }
    out[n] = '\0';
    return 0;
}

/* A network id: 1..32 of a-z, 0-9, '-', '_', '.', lower-cased. */
static int network(struct rk_imp_row *r, const char *name, char out[33], int *absent)
{
    char q[RK_IMP_QUOTE_MAX];
    const char *s = text(r, name, 64, 1, absent);
    size_t i, n;

    if (s == NULL)
        return -1;
    n = strlen(s);
    for (i = 0; i < n && i < 32; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.'))
            break;
        out[i] = c;
    }
    if (n > 32 || i < n) {
        rk_imp_row_fail(r, "%s: '%s' is not a network id", name, rk_imp_quote(q, s));
        return -1;
    }
    out[n] = '\0';
    return 0;
}

/* Fields given but not meant for this row. */
static int refuse(struct rk_imp_row *r, const char *const *names, const char *what)
{
    for (; *names != NULL; names++) {
        if (field(r, *names) != NULL) {
            rk_imp_row_fail(r, "%s: not allowed in a %s row", *names, what);
            return -1;
        }
    }
    return 0;
}

static cJSON *add_str(cJSON *o, const char *k, const char *v)
{
    return cJSON_AddStringToObject(o, k, v);
}

static const char *const created_only[] = {
    "price_amount", "price_currency", "expected_amount", "expected_asset",
    "expected_network", "expected_contract", "expected_memo", "expires_at", NULL,
};
static const char *const refund_only[] = { "amount", "currency", NULL };

/* The priced and expected parts of a created row. */
static int check_created(struct rk_imp_row *r, cJSON *b, int64_t occurred)
{
    char cur[17], asset[17], net[33], amt[RK_AMOUNT_STR_MAX], exp[RK_AMOUNT_STR_MAX];
    char tbuf[RK_TIME_STR_MAX], contract[129], q[RK_IMP_QUOTE_MAX];
    const char *c, *memo;
    cJSON *price, *expected;
    int fiat, absent, i;
    int64_t expires;

    if (refuse(r, refund_only, "created") != 0 || symbol(r, "price_currency", 1, cur, &absent) != 0)
        return -1;
    fiat = rk_import_fiat_decimals(cur);
    if (fiat < 0) {
        rk_imp_row_fail(r, "price_currency: '%s' is not an ISO 4217 fiat currency", cur);
        return -1;
    }
    if (amount(r, "price_amount", fiat, cur, 1, amt, &absent) != 0 ||
        amount(r, "expected_amount", -1, NULL, 1, exp, &absent) != 0 ||
        symbol(r, "expected_asset", 1, asset, &absent) != 0 ||
        network(r, "expected_network", net, &absent) != 0)
        return -1;
    c = text(r, "expected_contract", 128, 0, &absent);
    if (c == NULL && !absent)
        return -1;
    if (c != NULL) {
        for (i = 0; c[i] != '\0'; i++) {
            char ch = c[i];
            if (ch == ' ') {
                rk_imp_row_fail(r, "expected_contract: '%s' contains a space",
                                rk_imp_quote(q, c));
                return -1;
            }
            /* EVM addresses are stored lower-case; others (base58) verbatim */
            contract[i] = (c[0] == '0' && (c[1] == 'x' || c[1] == 'X') && ch >= 'A' &&
                           ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
        }
        contract[i] = '\0';
    }
    /* a memo is compared with what the chain carries: kept verbatim */
    memo = field(r, "expected_memo") != NULL ? field(r, "expected_memo")->value : NULL;
    if (memo != NULL && strlen(memo) > 256) {
        rk_imp_row_fail(r, "expected_memo: longer than 256 bytes");
        return -1;
    }
    if (when(r, "expires_at", 1, &expires, tbuf, &absent) != 0)
        return -1;
    if (expires <= occurred) {
        rk_imp_row_fail(r, "expires_at: not after occurred_at");
        return -1;
    }
    price = cJSON_AddObjectToObject(b, "price");
    expected = cJSON_AddObjectToObject(b, "expected");
    if (price == NULL || expected == NULL || add_str(price, "amount", amt) == NULL ||
        add_str(price, "currency", cur) == NULL || add_str(expected, "amount", exp) == NULL ||
        add_str(expected, "asset", asset) == NULL || add_str(expected, "network", net) == NULL ||
        (c != NULL && add_str(expected, "contract", contract) == NULL) ||
        (memo != NULL && add_str(expected, "memo", memo) == NULL) ||
        add_str(b, "expires_at", tbuf) == NULL)
        return -2;
    return 0;
}

static int check_refund(struct rk_imp_row *r, cJSON *b)
{
    char cur[17] = "", amt[RK_AMOUNT_STR_MAX];
    int fiat = -1, absent;

    if (refuse(r, created_only, "refunded") != 0)
        return -1;
    if (symbol(r, "currency", 0, cur, &absent) != 0 && !absent)
        return -1;
    if (!absent)
        fiat = rk_import_fiat_decimals(cur);
    if (amount(r, "amount", fiat, cur, 1, amt, &absent) != 0)
        return -1;
    if (add_str(b, "amount", amt) == NULL ||
        (cur[0] != '\0' && add_str(b, "currency", cur) == NULL))
        return -2;
    return 0;
}

/* Returns 0 (body built), -1 (row failed), -2 (out of memory). */
static int check_commerce(struct rk_imp_row *r, cJSON *b)
{
    static const char *const events[] = { "created", "fulfilled", "refunded", "canceled", NULL };
    char occ[RK_TIME_STR_MAX], q[RK_IMP_QUOTE_MAX], idbuf[RK_REF_MAX + 32];
    const char *id, *order, *event;
    int absent, rc = 0;
    int64_t occurred;

    id = text(r, "id", RK_IMPORT_ROW_ID_MAX, 0, &absent);
    if (id == NULL && !absent)
        return -1;
    order = text(r, "order", RK_REF_MAX, 1, &absent);
    if (order == NULL)
        return -1;
    event = text(r, "event", 64, 1, &absent);
    if (event == NULL)
        return -1;
    if (!in_list(events, event)) {
        rk_imp_row_fail(r, "event: '%s' is not created, fulfilled, refunded or canceled",
                        rk_imp_quote(q, event));
        return -1;
    }
    if (id == NULL) {
        snprintf(idbuf, sizeof idbuf, "%s:%s", order, event);
        if (strlen(idbuf) > RK_IMPORT_ROW_ID_MAX) {
            rk_imp_row_fail(r, "id: missing, and '<order>:<event>' is longer than %u bytes",
                            RK_IMPORT_ROW_ID_MAX);
            return -1;
        }
        id = idbuf;
    }
    if (when(r, "occurred_at", 1, &occurred, occ, &absent) != 0)
        return -1;
    if (cJSON_AddNumberToObject(b, "v", 1) == NULL || add_str(b, "row_id", id) == NULL ||
        add_str(b, "order", order) == NULL || add_str(b, "event", event) == NULL ||
        add_str(b, "occurred_at", occ) == NULL)
        return -2;
    if (strcmp(event, "created") == 0) {
        rc = check_created(r, b, occurred);
    } else if (strcmp(event, "refunded") == 0) {
        rc = check_refund(r, b);
    } else if (refuse(r, created_only, event) != 0 || refuse(r, refund_only, event) != 0) {
        rc = -1;
    }
    return rc;
}

static int check_period(struct rk_imp_row *r, char out[8])
{
    char q[RK_IMP_QUOTE_MAX];
    const char *s;
    int absent, i;

    s = text(r, "period", 16, 1, &absent);
    if (s == NULL)
        return -1;
    for (i = 0; i < 7; i++)
        if (i == 4 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
            break;
    if (i < 7 || s[7] != '\0' || !((s[5] == '0' && s[6] >= '1') ||
                                   (s[5] == '1' && s[6] <= '2'))) {
        rk_imp_row_fail(r, "period: '%s' is not a month YYYY-MM", rk_imp_quote(q, s));
        return -1;
    }
    memcpy(out, s, 8);
    return 0;
}

static int check_finance(struct rk_imp_row *r, cJSON *b)
{
    char cur[17], amt[RK_AMOUNT_STR_MAX], rate[RK_AMOUNT_STR_MAX], rec[RK_TIME_STR_MAX];
    char period[8], side[8], q[RK_IMP_QUOTE_MAX];
    const char *id, *order, *account, *s, *source;
    int absent, rate_absent, fiat, i;
    int64_t ns;

    id = text(r, "entry_id", RK_IMPORT_ROW_ID_MAX, 1, &absent);
    if (id == NULL)
        return -1;
    order = text(r, "order", RK_REF_MAX, 1, &absent);
    if (order == NULL)
        return -1;
    account = text(r, "account", 128, 1, &absent);
    if (account == NULL)
        return -1;
    s = text(r, "side", 16, 1, &absent);
    if (s == NULL)
        return -1;
    for (i = 0; s[i] != '\0' && i < 7; i++)
        side[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    side[i] = '\0';
    if (s[i] != '\0' || (strcmp(side, "debit") != 0 && strcmp(side, "credit") != 0)) {
        rk_imp_row_fail(r, "side: '%s' is not debit or credit", rk_imp_quote(q, s));
        return -1;
    }
    if (symbol(r, "currency", 1, cur, &absent) != 0)
        return -1;
    fiat = rk_import_fiat_decimals(cur);
    if (amount(r, "amount", fiat, cur, 1, amt, &absent) != 0)
        return -1;
    if (amount(r, "fx_rate", -1, NULL, 0, rate, &rate_absent) != 0 && !rate_absent)
        return -1;
    source = text(r, "fx_source", 256, 0, &absent);
    if (source == NULL && !absent)
        return -1;
    if (rate_absent && fiat < 0) {
        rk_imp_row_fail(r, "fx_rate: missing, and '%s' is not a fiat currency", cur);
        return -1;
    }
    if (rate_absent != absent) {
        rk_imp_row_fail(r, rate_absent ? "fx_rate: missing, but fx_source is given"
                                       : "fx_source: missing, but fx_rate is given");
        return -1;
    }
    if (when(r, "recognised_at", 1, &ns, rec, &absent) != 0 || check_period(r, period) != 0)
        return -1;
    if (cJSON_AddNumberToObject(b, "v", 1) == NULL || add_str(b, "row_id", id) == NULL ||
        add_str(b, "order", order) == NULL || add_str(b, "account", account) == NULL ||
        add_str(b, "side", side) == NULL || add_str(b, "amount", amt) == NULL ||
        add_str(b, "currency", cur) == NULL ||
        (!rate_absent && (add_str(b, "fx_rate", rate) == NULL ||
                          add_str(b, "fx_source", source) == NULL)) ||
        add_str(b, "recognised_at", rec) == NULL || add_str(b, "period", period) == NULL)
        return -2;
    return 0;
}

/* Check one row and build its content body.  Only NOMEM is a failure. */
static rk_err check_row(struct rk_imp_row *r, rk_import_kind kind)
{
    char e[RK_ERROR_SIZE];
    cJSON *b;
    int got;
    rk_err rc;

    if (r->error != NULL)
        return RK_OK;
    b = cJSON_CreateObject();
    if (b == NULL)
        return RK_ERR_NOMEM;
    got = kind == RK_IMPORT_COMMERCE ? check_commerce(r, b) : check_finance(r, b);
    if (got != 0 || r->error != NULL) {
        cJSON_Delete(b);
        return got == -2 || (r->error == NULL) ? RK_ERR_NOMEM : RK_OK;
    }
    rc = rk_canon_write(b, 0, &r->canon, e);
    if (rc != RK_OK) {
        cJSON_Delete(b);
        return rc == RK_ERR_NOMEM ? rc : rk_imp_row_fail(r, "%s", e);
    }
    r->body = b;
    r->row_id = cJSON_GetObjectItemCaseSensitive(b, "row_id")->valuestring;
    r->order = cJSON_GetObjectItemCaseSensitive(b, "order")->valuestring;
    r->fate = RK_IMP_NEW;
    return RK_OK;
}

/* ---- one row id twice in a file ----------------------------------------- */

static int by_row_id(const void *a, const void *b)
{
    const struct rk_imp_row *x = *(const struct rk_imp_row *const *)a;
    const struct rk_imp_row *y = *(const struct rk_imp_row *const *)b;
    int c = strcmp(x->row_id, y->row_id);

    if (c != 0)
        return c;
    return x->line < y->line ? -1 : x->line > y->line;
}

/*
 * A later row with the row id of an earlier one is a duplicate when equal
 * and bad when not: one file states one version of each row.
 */
static rk_err check_repeats(struct rk_imp_table *t)
{
    struct rk_imp_row **v;
    size_t i, n = 0, first = 0;
    char q[RK_IMP_QUOTE_MAX];
    rk_err rc = RK_OK;

    v = malloc((t->n ? t->n : 1) * sizeof *v);
    if (v == NULL)
        return RK_ERR_NOMEM;
    for (i = 0; i < t->n; i++)
        if (t->rows[i].body != NULL)
            v[n++] = &t->rows[i];
    qsort(v, n, sizeof *v, by_row_id);
    for (i = 1; i < n && rc == RK_OK; i++) {
        if (strcmp(v[i]->row_id, v[first]->row_id) != 0) {
            first = i;
            continue;
        }
        if (v[i]->canon.len == v[first]->canon.len &&
            memcmp(v[i]->canon.data, v[first]->canon.data, v[i]->canon.len) == 0) {
            v[i]->fate = RK_IMP_DUPLICATE;
            continue;
        }
        rc = rk_imp_row_fail(v[i], "row id '%s' is already used on line %lu with other "
                             "content", rk_imp_quote(q, v[i]->row_id), v[first]->line);
        cJSON_Delete(v[i]->body);
        v[i]->body = NULL;
        v[i]->fate = RK_IMP_BAD;
    }
    free(v);
    return rc;
}

/* ---- versions in the ledger --------------------------------------------- */

static rk_err version_key(struct rk_imp_row *r, rk_import_kind kind, unsigned long n,
                          char **out)
{
    rk_buf b = RK_BUF_INIT;

    if (rk_buf_printf(&b, "%s-row:%s#%lu", kind == RK_IMPORT_COMMERCE ? "commerce" : "finance",
                      r->row_id, n) != RK_OK || rk_buf_putc(&b, '\0') != RK_OK) {
        rk_buf_free(&b);
        return RK_ERR_NOMEM;
    }
    *out = (char *)b.data;
    return RK_OK;
}

/* Is the stored record seq the same content as r?  Sets *same. */
static rk_err same_content(rk_ledger *l, uint64_t seq, const struct rk_imp_row *r,
                           rk_import_kind kind, int *same, char *err)
{
    rk_buf buf = RK_BUF_INIT, canon = RK_BUF_INIT;
    rk_record rec;
    cJSON *b = NULL;
    rk_err rc;

    rc = rk_ledger_read(l, seq, &buf, &rec, err);
    if (rc != RK_OK)
        goto out;
    if (rec.kind != (unsigned)kind) {
        rc = rk_seterr(err, RK_ERR_CORRUPT, "seq %llu: event key of row '%s' names a %s "
                       "record", (unsigned long long)seq, r->row_id, rk_kind_name(rec.kind));
        goto out;
    }
    rc = rk_json_parse((const char *)rec.body, rec.body_len, &b, err);
    if (rc != RK_OK) {
        rc = rk_preferr(err, rc == RK_ERR_NOMEM ? rc : RK_ERR_CORRUPT, "seq %llu",
                        (unsigned long long)seq);
        goto out;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(b, "correction_of");
    rc = rk_canon_write(b, 0, &canon, err);
    if (rc != RK_OK) {
        rc = rk_preferr(err, rc == RK_ERR_NOMEM ? rc : RK_ERR_CORRUPT, "seq %llu",
                        (unsigned long long)seq);
        goto out;
    }
    *same = canon.len == r->canon.len && memcmp(canon.data, r->canon.data, canon.len) == 0;
out:
    cJSON_Delete(b);
    rk_buf_free(&buf);
    rk_buf_free(&canon);
    return rc;
}

/* Decide new / unchanged / correction for a good row and build what to store. */
static rk_err place_row(rk_ledger *l, struct rk_imp_row *r, rk_import_kind kind, char *err)
{
    unsigned long n = 1;
    uint64_t seq, latest = 0;
    char *key = NULL;
    int same = 0;
    rk_err rc;

    for (;; n++) {
        free(key);
        rc = version_key(r, kind, n, &key);
        if (rc != RK_OK)
            return rc;
        if (l == NULL)
            break;
        rc = rk_ledger_find_event(l, key, &seq, err);
        if (rc == RK_ERR_NOTFOUND)
            break;
        if (rc != RK_OK) {
            free(key);
            return rc;
        }
        latest = seq;
    }
    r->event_key = key;
    if (n > 1) {
        rc = same_content(l, latest, r, kind, &same, err);
        if (rc != RK_OK)
            return rc;
        if (same) {
            r->fate = RK_IMP_UNCHANGED;
            return RK_OK;
        }
        r->fate = RK_IMP_CORRECTION;
        if (cJSON_AddNumberToObject(r->body, "correction_of", (double)latest) == NULL)
            return RK_ERR_NOMEM;
    }
    rc = rk_canon_write(r->body, 0, &r->stored, err);
    return rc;
}

/* ---- the import ---------------------------------------------------------- */

void rk_import_result_free(rk_import_result *res)
{
    size_t i;

    if (res == NULL)
        return;
    for (i = 0; i < res->nmessages; i++)
        free(res->messages[i]);
    free(res->messages);
    memset(res, 0, sizeof *res);
}

static rk_err add_message(rk_import_result *res, const char *file, unsigned long line,
                          const char *why)
{
    rk_buf b = RK_BUF_INIT;
    char **v;

    v = realloc(res->messages, (res->nmessages + 1) * sizeof *v);
    if (v == NULL)
        return RK_ERR_NOMEM;
    res->messages = v;
    if (rk_buf_printf(&b, "%s:%lu: %s", file, line, why) != RK_OK ||
        rk_buf_putc(&b, '\0') != RK_OK) {
        rk_buf_free(&b);
        return RK_ERR_NOMEM;
    }
    res->messages[res->nmessages++] = (char *)b.data;
    return RK_OK;
}

static rk_err read_table(const rk_import_opts *o, rk_import_format fmt, const char *data,
                         size_t len, struct rk_imp_table *t)
{
    int commerce = o->kind == RK_IMPORT_COMMERCE;
    rk_imp_known_fn known = commerce ? commerce_known : finance_known;

    /* Excel's "CSV UTF-8" starts with a byte order mark: skip it */
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
        data += 3;
        len -= 3;
    }
    if (fmt == RK_IMPORT_CSV)
        return rk_imp_read_csv(data, len, known,
                               commerce ? commerce_required : finance_required, t);
    return rk_imp_read_json(data, len, fmt == RK_IMPORT_JSONL, known,
                            commerce ? commerce_nested : NULL, t);
}

static rk_err append_rows(rk_ledger *l, struct rk_imp_table *t, rk_import_kind kind,
                          char *err)
{
    rk_append_item *items;
    size_t i, n = 0;
    rk_err rc = RK_OK;

    items = calloc(t->n ? t->n : 1, sizeof *items);
    if (items == NULL)
        return RK_ERR_NOMEM;
    for (i = 0; i < t->n; i++) {
        struct rk_imp_row *r = &t->rows[i];
        if (r->fate != RK_IMP_NEW && r->fate != RK_IMP_CORRECTION)
            continue;
        items[n].kind = (unsigned)kind;
        items[n].ref = r->order;
        items[n].body = r->stored.data;
        items[n].body_len = r->stored.len;
        items[n].event_key = r->event_key;
        n++;
    }
    if (n > 0 && l != NULL)
        rc = rk_ledger_append(l, items, n, err);
    for (i = 0; rc == RK_OK && i < n; i++)
        if (items[i].status != RK_OK)
            rc = rk_seterr(err, RK_ERR_CONFLICT, "row version '%s' was written by another "
                           "import at the same time", items[i].event_key);
    free(items);
    return rc;
}

rk_err rk_import_buffer(rk_ledger *l, const rk_import_opts *o, const char *data,
                        size_t len, rk_import_result *res, char *err)
{
    struct rk_imp_table t;
    const char *name = o->name != NULL ? o->name : "-";
    rk_import_format fmt = o->format;
    size_t i;
    rk_err rc;

    memset(&t, 0, sizeof t);
    memset(res, 0, sizeof *res);
    if (o->kind != RK_IMPORT_COMMERCE && o->kind != RK_IMPORT_FINANCE)
        return rk_seterr(err, RK_ERR_INVALID, "import: kind %d is not commerce or finance",
                         (int)o->kind);
    if (fmt == RK_IMPORT_AUTO) {
        rc = rk_import_format_guess(o->name, &fmt, err);
        if (rc != RK_OK)
            return rc;
    }
    if (len > RK_IMPORT_FILE_MAX)
        return rk_seterr(err, RK_ERR_TOOBIG, "%s: larger than %u bytes", name,
                         RK_IMPORT_FILE_MAX);
    rc = read_table(o, fmt, data, len, &t);
    if (rc == RK_ERR_TOOBIG) {
        rc = rk_seterr(err, rc, "%s: more than %u rows", name, RK_IMPORT_ROWS_MAX);
        goto out;
    }
    if (rc != RK_OK)
        goto nomem;
    if (t.file_error != NULL) {
        if (add_message(res, name, 1, t.file_error) != RK_OK)
            goto nomem;
        rc = rk_seterr(err, RK_ERR_INVALID, "%s: %s", name, t.file_error);
        goto out;
    }
    res->rows = t.n;
    for (i = 0; i < t.n; i++)
        if (check_row(&t.rows[i], o->kind) != RK_OK)
            goto nomem;
    if (check_repeats(&t) != RK_OK)
        goto nomem;
    for (i = 0; i < t.n; i++) {
        if (t.rows[i].error == NULL)
            continue;
        res->bad++;
        if (add_message(res, name, t.rows[i].line, t.rows[i].error) != RK_OK)
            goto nomem;
    }
    if (res->bad > 0 && !o->skip_bad) {
        rc = rk_seterr(err, RK_ERR_INVALID, "%s: %zu bad row%s, nothing imported", name,
                       res->bad, res->bad == 1 ? "" : "s");
        goto out;
    }
    for (i = 0; i < t.n; i++) {
        if (t.rows[i].fate != RK_IMP_NEW)
            continue;
        rc = place_row(l, &t.rows[i], o->kind, err);
        if (rc != RK_OK) {
            rk_preferr(err, rc, "%s:%lu", name, t.rows[i].line);
            goto out;
        }
    }
    rc = append_rows(l, &t, o->kind, err);
    if (rc != RK_OK)
        goto out;
    res->imported = 1;
    for (i = 0; i < t.n; i++) {
        res->fresh += t.rows[i].fate == RK_IMP_NEW;
        res->corrections += t.rows[i].fate == RK_IMP_CORRECTION;
        res->unchanged += t.rows[i].fate == RK_IMP_UNCHANGED ||
                          t.rows[i].fate == RK_IMP_DUPLICATE;
    }
    goto out;
nomem:
    rc = rk_seterr(err, RK_ERR_NOMEM, "%s: out of memory", name);
out:
    if (rc != RK_OK && rc != RK_ERR_INVALID) {
        /* keep the bad-row list only for what it explains */
        res->fresh = res->unchanged = res->corrections = 0;
    }
    rk_imp_table_free(&t);
    return rc;
}

rk_err rk_import_file(rk_ledger *l, const rk_import_opts *o, const char *path,
                      rk_import_result *res, char *err)
{
    rk_import_opts opts = *o;
    rk_buf data = RK_BUF_INIT;
    rk_err rc;

    memset(res, 0, sizeof *res);
    if (opts.name == NULL)
        opts.name = path;
    if (opts.format == RK_IMPORT_AUTO) {
        rc = rk_import_format_guess(path, &opts.format, err);
        if (rc != RK_OK)
            return rc;
    }
    rc = rk_buf_read_file(&data, path, RK_IMPORT_FILE_MAX, err);
    if (rc == RK_OK)
        rc = rk_import_buffer(l, &opts, (const char *)data.data, data.len, res, err);
    rk_buf_free(&data);
    return rc;
}
