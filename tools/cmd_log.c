/* cmd_log.c - reckon log: print records as JSON lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "bytes.h"
#include "canon.h"
#include "ledger.h"
#include "reckon.h"

struct log_ctx {
    int kind; /* -1: all */
    rk_buf line;
    char err[RK_ERROR_SIZE];
};

static int usage(void)
{
    fprintf(stderr, "usage: reckon log --db DIR [--from N] [--to N] [--kind KIND]\n");
    return RK_EXIT_USAGE;
}

/* One record as canonical JSON: body embedded, hashes hex, raw base64. */
static rk_err format_record(const rk_record *r, rk_buf *out, char *err)
{
    char hex[2 * RK_HASH_SIZE + 1], when[RK_TIME_STR_MAX];
    cJSON *o = cJSON_CreateObject(), *body = NULL;
    char *ref = NULL, *b64 = NULL;
    rk_err rc;

    rc = rk_json_parse((const char *)r->body, r->body_len, &body, err);
    if (rc != RK_OK)
        goto out;
    cJSON_AddItemToObject(o, "body", body);
    rk_hex_encode(hex, r->hash, RK_HASH_SIZE);
    cJSON_AddStringToObject(o, "hash", hex);
    cJSON_AddStringToObject(o, "kind", rk_kind_name(r->kind));
    rk_hex_encode(hex, r->prev_hash, RK_HASH_SIZE);
    cJSON_AddStringToObject(o, "prev_hash", hex);
    if (r->raw_len > 0) {
        size_t n = rk_b64_encoded_size(r->raw_len);
        b64 = malloc(n);
        if (b64 == NULL) {
            rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
            goto out;
        }
        rk_b64_encode(b64, n, r->raw, r->raw_len);
        cJSON_AddStringToObject(o, "raw", b64);
    }
    rk_time_format(r->recorded_at, when);
    cJSON_AddStringToObject(o, "recorded_at", when);
    ref = strndup(r->ref, r->ref_len);
    if (ref == NULL) {
        rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        goto out;
    }
    cJSON_AddStringToObject(o, "ref", ref);
    cJSON_AddNumberToObject(o, "seq", (double)r->seq);
    rk_buf_reset(out);
    rc = rk_canon_write(o, 0, out, err);
out:
    cJSON_Delete(o);
    free(ref);
    free(b64);
    return rc;
}

static rk_err print_one(void *vctx, const rk_record *r, const uint8_t *bytes, size_t len)
{
    struct log_ctx *c = vctx;
    rk_err rc;

    (void)bytes;
    (void)len;
    if (c->kind >= 0 && (unsigned)c->kind != r->kind)
        return RK_OK;
    rc = format_record(r, &c->line, c->err);
    if (rc != RK_OK)
        return rk_preferr(c->err, rc, "seq %llu", (unsigned long long)r->seq);
    fwrite(c->line.data, 1, c->line.len, stdout);
    fputc('\n', stdout);
    return RK_OK;
}

int cmd_log(int argc, char **argv)
{
    const char *db = NULL, *from = NULL, *to = NULL, *kind = NULL;
    unsigned long long f = 0, t = UINT64_MAX;
    struct log_ctx c = { -1, RK_BUF_INIT, "" };
    rk_ledger *l = NULL;
    rk_kind k;
    int i, r, ret;
    rk_err rc;

    for (i = 1; i < argc; i++) {
        if ((r = rk_opt_value("log", argc, argv, &i, "--db", &db)) != 0 ||
            (r = rk_opt_value("log", argc, argv, &i, "--from", &from)) != 0 ||
            (r = rk_opt_value("log", argc, argv, &i, "--to", &to)) != 0 ||
            (r = rk_opt_value("log", argc, argv, &i, "--kind", &kind)) != 0) {
            if (r < 0)
                return usage();
            continue;
        }
        rk_tool_error("log", "unknown option '%s'", argv[i]);
        return usage();
    }
    if (db == NULL || (from != NULL && rk_parse_u64(from, &f) != 0) ||
        (to != NULL && rk_parse_u64(to, &t) != 0))
        return usage();
    if (kind != NULL) {
        if (rk_kind_parse(kind, &k) != RK_OK) {
            rk_tool_error("log", "'%s' is not a record kind", kind);
            return RK_EXIT_USAGE;
        }
        c.kind = (int)k;
    }
    rc = rk_ledger_open(db, RK_LEDGER_READONLY, &l, c.err);
    /* --to N includes record N */
    if (rc == RK_OK)
        rc = rk_ledger_scan(l, f, t == UINT64_MAX ? t : t + 1, print_one, &c, c.err);
    ret = rc == RK_OK ? RK_EXIT_OK : rk_tool_fail("log", rc, c.err);
    rk_ledger_close(l);
    rk_buf_free(&c.line);
    return ret;
}
