/*
 * cmd_webhook.c - `reckon webhook verify` and `reckon webhook sign`: check a
 * captured delivery's signature, or produce the headers that make a body a
 * valid delivery (for tests and replays).  The engine does the work (sig.h);
 * this file parses options and prints.
 *
 * Exit codes: verify 0 valid, 1 invalid (the reason is printed), 2 usage,
 * I/O or configuration error (a malformed secret is a configuration error);
 * sign 0 or 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "bytes.h"
#include "reckon.h"
#include "sig.h"

#define CMD "webhook"
#define MAX_SECRETS 16
#define MAX_HEADERS 64
#define MAX_BODY (16u << 20)
#define MAX_SECRET_FILE 4096

struct opts {
    rk_sig_params params;
    int have_scheme;
    rk_sig_secret secrets[MAX_SECRETS];
    rk_buf secret_files[MAX_SECRETS];
    size_t nsecrets;
    rk_sig_header headers[MAX_HEADERS];
    char *header_copies[MAX_HEADERS];
    size_t nheaders;
    const char *body_path;
    const char *id;
    int64_t now;
    int have_now;
    /* generic hmac, applied after --scheme whatever the order */
    const char *hmac_header, *hmac_alg, *hmac_enc, *hmac_prefix, *hmac_ts;
    long long tolerance;
    int have_tolerance;
};

static void usage(void)
{
    fprintf(stderr,
            "usage: reckon webhook verify --scheme NAME SECRET... [--now UNIX_SECONDS]\n"
            "                             [--tolerance SECONDS] [--header 'Name: value']...\n"
            "                             [--body FILE] [HMAC...] < BODY\n"
            "       reckon webhook sign --scheme NAME SECRET [--id ID] [--now UNIX_SECONDS]\n"
            "                           [--body FILE] [HMAC...] < BODY\n"
            "\n"
            "SECRET: --secret S | --secret-file F | --secret-env VAR (repeat for rotation)\n"
            "schemes: standard-webhooks stripe coinbase-commerce btcpay nowpayments hmac\n"
            "HMAC (scheme hmac): --hmac-header NAME [--hmac-alg sha256|sha512]\n"
            "     [--hmac-encoding hex|base64] [--hmac-prefix TEXT]\n"
            "     [--hmac-timestamp-header NAME]\n"
            "standard-webhooks secrets: whsec_... (v1), whpk_... to verify v1a,\n"
            "whsk_... to sign v1a.  verify prints 'valid' (exit 0) or\n"
            "'invalid: <reason>' (exit 1).\n");
}

static void opts_free(struct opts *o)
{
    size_t i;

    for (i = 0; i < MAX_SECRETS; i++) {
        if (o->secret_files[i].data != NULL)
            sodium_memzero(o->secret_files[i].data, o->secret_files[i].cap);
        rk_buf_free(&o->secret_files[i]);
    }
    for (i = 0; i < o->nheaders; i++)
        free(o->header_copies[i]);
}

static int add_secret(struct opts *o, const char *kind, const char *val)
{
    char err[RK_ERROR_SIZE];
    size_t n = o->nsecrets;

    if (n == MAX_SECRETS) {
        rk_tool_error(CMD, "more than %d secrets", MAX_SECRETS);
        return -1;
    }
    if (strcmp(kind, "file") == 0) {
        rk_buf *b = &o->secret_files[n];
        if (rk_buf_read_file(b, val, MAX_SECRET_FILE, err) != RK_OK) {
            rk_tool_error(CMD, "cannot read secret file: %s", err);
            return -1;
        }
        /* one trailing line ending is the editor's, not the secret's */
        if (b->len > 0 && b->data[b->len - 1] == '\n')
            b->len--;
        if (b->len > 0 && b->data[b->len - 1] == '\r')
            b->len--;
        o->secrets[n].bytes = b->data;
        o->secrets[n].len = b->len;
    } else if (strcmp(kind, "env") == 0) {
        const char *v = getenv(val);
        if (v == NULL) {
            rk_tool_error(CMD, "environment variable '%s' is not set", val);
            return -1;
        }
        o->secrets[n].bytes = (const uint8_t *)v;
        o->secrets[n].len = strlen(v);
    } else {
        o->secrets[n].bytes = (const uint8_t *)val;
        o->secrets[n].len = strlen(val);
    }
    o->nsecrets++;
    return 0;
}

static int add_header(struct opts *o, const char *line)
{
    char *copy, *colon, *v;

    if (o->nheaders == MAX_HEADERS) {
        rk_tool_error(CMD, "more than %d headers", MAX_HEADERS);
        return -1;
    }
    colon = strchr(line, ':');
    if (colon == NULL || colon == line) {
        rk_tool_error(CMD, "header '%s' is not 'Name: value'", line);
        return -1;
    }
    copy = strdup(line);
    if (copy == NULL) {
        rk_tool_error(CMD, "out of memory");
        return -1;
    }
    copy[colon - line] = '\0';
    v = copy + (colon - line) + 1;
    o->headers[o->nheaders].name = copy;
    o->headers[o->nheaders].value = v;
    o->header_copies[o->nheaders++] = copy;
    return 0;
}

static int parse_i64(const char *s, int64_t *out)
{
    unsigned long long v;

    if (rk_parse_u64(s, &v) != 0 || v > (unsigned long long)INT64_MAX)
        return -1;
    *out = (int64_t)v;
    return 0;
}

/* Parse argv[2..]; returns 0 or an exit code. */
static int parse_args(int argc, char **argv, struct opts *o)
{
    char err[RK_ERROR_SIZE];
    const char *v = NULL;
    int i, r;

    for (i = 2; i < argc; i++) {
#define OPT(name)                                                  \
    ((r = rk_opt_value(CMD, argc, argv, &i, name, &v)) != 0)
        if (OPT("--scheme")) {
            if (r < 0)
                return RK_EXIT_USAGE;
            if (rk_sig_scheme_parse(v, &o->params, err) != RK_OK) {
                rk_tool_error(CMD, "%s", err);
                return RK_EXIT_USAGE;
            }
            o->have_scheme = 1;
        } else if (OPT("--secret")) {
            if (r < 0 || add_secret(o, "text", v) != 0)
                return RK_EXIT_USAGE;
        } else if (OPT("--secret-file")) {
            if (r < 0 || add_secret(o, "file", v) != 0)
                return RK_EXIT_USAGE;
        } else if (OPT("--secret-env")) {
            if (r < 0 || add_secret(o, "env", v) != 0)
                return RK_EXIT_USAGE;
        } else if (OPT("--header")) {
            if (r < 0 || add_header(o, v) != 0)
                return RK_EXIT_USAGE;
        } else if (OPT("--now")) {
            if (r < 0)
                return RK_EXIT_USAGE;
            if (parse_i64(v, &o->now) != 0) {
                rk_tool_error(CMD, "--now '%s' is not unix seconds", v);
                return RK_EXIT_USAGE;
            }
            o->have_now = 1;
        } else if (OPT("--tolerance")) {
            int64_t t;
            if (r < 0)
                return RK_EXIT_USAGE;
            if (parse_i64(v, &t) != 0) {
                rk_tool_error(CMD, "--tolerance '%s' is not a number of seconds", v);
                return RK_EXIT_USAGE;
            }
            o->tolerance = t;
            o->have_tolerance = 1;
        } else if (OPT("--id")) {
            if (r < 0)
                return RK_EXIT_USAGE;
            o->id = v;
        } else if (OPT("--body")) {
            if (r < 0)
                return RK_EXIT_USAGE;
            o->body_path = v;
        } else if (OPT("--hmac-header")) {
            if (r < 0)
                return RK_EXIT_USAGE;
            o->hmac_header = v;
        } else if (OPT("--hmac-alg")) {
            if (r < 0)
                return RK_EXIT_USAGE;
            o->hmac_alg = v;
        } else if (OPT("--hmac-encoding")) {
            if (r < 0)
                return RK_EXIT_USAGE;
            o->hmac_enc = v;
        } else if (OPT("--hmac-prefix")) {
            if (r < 0)
                return RK_EXIT_USAGE;
            o->hmac_prefix = v;
        } else if (OPT("--hmac-timestamp-header")) {
            if (r < 0)
                return RK_EXIT_USAGE;
            o->hmac_ts = v;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage();
            return RK_EXIT_USAGE;
        } else {
            rk_tool_error(CMD, "unknown option '%s'", argv[i]);
            usage();
            return RK_EXIT_USAGE;
        }
#undef OPT
    }
    if (!o->have_scheme) {
        rk_tool_error(CMD, "--scheme is required");
        return RK_EXIT_USAGE;
    }
    if (o->nsecrets == 0) {
        rk_tool_error(CMD, "a secret is required (--secret, --secret-file or --secret-env)");
        return RK_EXIT_USAGE;
    }
    if ((o->hmac_header || o->hmac_alg || o->hmac_enc || o->hmac_prefix || o->hmac_ts) &&
        o->params.scheme != RK_SIG_HMAC) {
        rk_tool_error(CMD, "--hmac-* options need --scheme hmac");
        return RK_EXIT_USAGE;
    }
    if (o->params.scheme == RK_SIG_HMAC) {
        if (o->hmac_header == NULL) {
            rk_tool_error(CMD, "--scheme hmac needs --hmac-header");
            return RK_EXIT_USAGE;
        }
        o->params.hmac.header = o->hmac_header;
        o->params.hmac.prefix = o->hmac_prefix;
        o->params.hmac.ts_header = o->hmac_ts;
        if ((o->hmac_alg != NULL &&
             rk_sig_alg_parse(o->hmac_alg, &o->params.hmac.alg, err) != RK_OK) ||
            (o->hmac_enc != NULL &&
             rk_sig_encoding_parse(o->hmac_enc, &o->params.hmac.encoding, err) != RK_OK)) {
            rk_tool_error(CMD, "%s", err);
            return RK_EXIT_USAGE;
        }
    }
    if (o->have_tolerance)
        o->params.tolerance = o->tolerance;
    if (!o->have_now)
        o->now = (int64_t)time(NULL); /* the tool reads the clock, not the engine */
    return 0;
}

static int read_body(struct opts *o, rk_buf *body)
{
    char err[RK_ERROR_SIZE];

    if (rk_buf_read_file(body, o->body_path != NULL ? o->body_path : "-", MAX_BODY,
                         err) != RK_OK) {
        rk_tool_error(CMD, "cannot read body: %s", err);
        return -1;
    }
    return 0;
}

static int do_verify(struct opts *o)
{
    char err[RK_ERROR_SIZE];
    rk_buf body = RK_BUF_INIT;
    rk_sig_result res;
    rk_err rc;
    int code = RK_EXIT_USAGE;

    if (read_body(o, &body) != 0)
        goto out;
    rc = rk_sig_verify(&o->params, o->secrets, o->nsecrets, o->headers, o->nheaders,
                       body.data, body.len, o->now, &res, err);
    if (rc == RK_OK) {
        printf("valid\n");
        code = RK_EXIT_OK;
    } else if (rc == RK_ERR_SIGNATURE || rc == RK_ERR_STALE) {
        printf("invalid: %s\n", rk_sig_reason_str(res.reason));
        rk_tool_error(CMD, "%s", err);
        code = RK_EXIT_PROBLEM;
    } else {
        code = rk_tool_fail(CMD, rc, err);
    }
out:
    rk_buf_free(&body);
    return code;
}

static int do_sign(struct opts *o)
{
    char err[RK_ERROR_SIZE], idbuf[4 + 32 + 1];
    rk_buf body = RK_BUF_INIT, out = RK_BUF_INIT;
    const char *id = o->id;
    int code = RK_EXIT_USAGE;

    if (o->nsecrets != 1) {
        rk_tool_error(CMD, "sign takes exactly one secret");
        return RK_EXIT_USAGE;
    }
    if (id == NULL && o->params.scheme == RK_SIG_STANDARD_WEBHOOKS) {
        uint8_t rnd[16];
        if (sodium_init() < 0) {
            rk_tool_error(CMD, "cannot initialise libsodium");
            return RK_EXIT_USAGE;
        }
        randombytes_buf(rnd, sizeof rnd);
        memcpy(idbuf, "msg_", 4);
        rk_hex_encode(idbuf + 4, rnd, sizeof rnd);
        id = idbuf;
    }
    if (read_body(o, &body) != 0)
        goto out;
    if (rk_sig_sign(&o->params, &o->secrets[0], id, o->now, body.data, body.len, &out,
                    err) != RK_OK) {
        rk_tool_error(CMD, "%s", err);
        goto out;
    }
    fwrite(out.data, 1, out.len, stdout);
    code = fflush(stdout) == 0 ? RK_EXIT_OK : RK_EXIT_USAGE;
out:
    rk_buf_free(&body);
    rk_buf_free(&out);
    return code;
}

int cmd_webhook(int argc, char **argv)
{
    struct opts o;
    int code;

    memset(&o, 0, sizeof o);
    if (argc < 2 || (strcmp(argv[1], "verify") != 0 && strcmp(argv[1], "sign") != 0)) {
        usage();
        return RK_EXIT_USAGE;
    }
    code = parse_args(argc, argv, &o);
    if (code == 0)
        code = strcmp(argv[1], "verify") == 0 ? do_verify(&o) : do_sign(&o);
    opts_free(&o);
    return code;
}
