/*
 * fuzz_sig_common.h - shared by the tests/fuzz/fuzz_sig_<scheme>.c targets.
 *
 * Input layout: header values separated by '\n' (as many as the target
 * names), then the body (the rest).  Every call must end in a reason that
 * agrees with its return code; a sign -> verify round trip over the same
 * body must always be valid.  Any crash, leak or sanitizer report is a bug.
 */
#ifndef RK_FUZZ_SIG_COMMON_H
#define RK_FUZZ_SIG_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sig.h"

#define FUZZ_NOW 1700000000

/* Split data into nv NUL-terminated values (copied) and the body. */
static char *fuzz_split(const uint8_t *data, size_t size, const char **vals,
                        size_t nv, const uint8_t **body, size_t *blen)
{
    char *copy = malloc(size + 1);
    size_t i, pos = 0;

    if (copy == NULL)
        return NULL;
    memcpy(copy, data, size);
    copy[size] = '\0';
    for (i = 0; i < nv; i++) {
        char *nl = pos < size ? memchr(copy + pos, '\n', size - pos) : NULL;
        vals[i] = copy + pos;
        if (nl == NULL) {
            pos = size;
            continue;
        }
        *nl = '\0';
        pos = (size_t)(nl - copy) + 1;
    }
    *body = (const uint8_t *)copy + pos;
    *blen = size - pos;
    return copy;
}

static void fuzz_verify(const rk_sig_params *p, const rk_sig_secret *s, size_t ns,
                        const rk_sig_header *h, size_t nh, const uint8_t *body,
                        size_t blen)
{
    char err[RK_ERROR_SIZE];
    rk_sig_result res;
    rk_err rc = rk_sig_verify(p, s, ns, h, nh, body, blen, FUZZ_NOW, &res, err);

    if ((rc == RK_OK) != (res.reason == RK_SIG_VALID))
        abort();
    if (rc == RK_ERR_STALE && !res.authentic)
        abort();
    if (res.has_msg_id && strlen(res.msg_id) > RK_SIG_ID_MAX)
        abort();
}

/* sign(body) then verify must be valid; headers split from the output. */
static void fuzz_round_trip(const rk_sig_params *p, const rk_sig_secret *sign,
                            const rk_sig_secret *verify, const uint8_t *body,
                            size_t blen)
{
    char err[RK_ERROR_SIZE];
    rk_buf out = RK_BUF_INIT;
    rk_sig_header h[4];
    rk_sig_result res;
    size_t n = 0;
    char *line;

    if (rk_sig_sign(p, sign, "msg_fuzz", FUZZ_NOW, body, blen, &out, err) != RK_OK)
        abort();
    for (line = (char *)out.data; *line != '\0' && n < 4;) {
        char *nl = strchr(line, '\n'), *colon = strchr(line, ':');
        *nl = '\0';
        *colon = '\0';
        h[n].name = line;
        h[n++].value = colon + 2;
        line = nl + 1;
    }
    if (rk_sig_verify(p, verify, 1, h, n, body, blen, FUZZ_NOW, &res, err) != RK_OK)
        abort();
    rk_buf_free(&out);
}

/*
 * The whole target for a scheme whose signature is one header: the input
 * is that header's value, a newline, and the body; verify it, then check
 * that signing and verifying the body round-trips.
 */
static inline int fuzz_single_header(const char *scheme, const char *header,
                                     const uint8_t *data, size_t size)
{
    static const char *key = "fuzz-secret";
    rk_sig_secret s = { (const uint8_t *)key, 11 };
    rk_sig_params p;
    rk_sig_header h[1];
    const char *v[1];
    const uint8_t *body;
    size_t blen;
    char *copy = fuzz_split(data, size, v, 1, &body, &blen);

    if (copy == NULL || rk_sig_scheme_parse(scheme, &p, NULL) != RK_OK)
        abort();
    h[0] = (rk_sig_header){ header, v[0] };
    fuzz_verify(&p, &s, 1, h, 1, body, blen);
    fuzz_round_trip(&p, &s, &s, body, blen);
    free(copy);
    return 0;
}

#endif
