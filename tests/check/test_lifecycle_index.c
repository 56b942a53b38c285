/*
 * test_lifecycle_index.c - rk_lifecycle_map_status's indexed look-up (rows
 * grouped by the status word's length, compared by words of bytes) against
 * a plain reference written here: a linear strcmp scan over the same rows,
 * read through rk_lifecycle_status_row.  Every row exactly, and near misses
 * of every status, context and provider name, must give the same code, the
 * same state, reason and flag (the same static strings) and the same error
 * text.
 */
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "error.h"
#include "lifecycle.h"

static const char *const providers[] = {"coinbase-commerce", "btcpay", "nowpayments"};
#define NPROV (sizeof providers / sizeof providers[0])

struct ref_row {
    const char *status, *context;
    rk_status_map_result res;
};

#define MAXROWS 64
static struct ref_row table[NPROV][MAXROWS];
static size_t ntable[NPROV];

/* Every row of each provider's table, through the accessor. */
static void load_tables(void)
{
    size_t p, i;
    rk_err rc;

    for (p = 0; p < NPROV; p++) {
        for (i = 0;; i++) {
            ck_assert_uint_lt(i, MAXROWS);
            rc = rk_lifecycle_status_row(providers[p], i, &table[p][i].status,
                                         &table[p][i].context, &table[p][i].res);
            if (rc == RK_ERR_NOTFOUND)
                break;
            ck_assert_int_eq(rc, RK_OK);
        }
        ntable[p] = i;
    }
}

/* The error text's quoting, written again: printable ASCII, cut at 64. */
static void ref_quote(char *dst, const char *src)
{
    size_t i;

    for (i = 0; i < 64 && src[i] != '\0'; i++)
        dst[i] = (unsigned char)src[i] >= 0x20 && (unsigned char)src[i] < 0x7f ? src[i] : '?';
    dst[i] = '\0';
}

/* The reference look-up: the documented normalisations, then strcmp row by row. */
static rk_err ref_map(const char *provider, const char *status, const char *context,
                      rk_status_map_result *out, char *err)
{
    char qs[65], qc[65];
    size_t p, i;

    for (p = 0; p < NPROV; p++)
        if (strcmp(provider, providers[p]) == 0)
            break;
    if (p == NPROV) {
        ref_quote(qs, provider);
        snprintf(err, RK_ERROR_SIZE, "map status: unknown provider '%s'", qs);
        return RK_ERR_INVALID;
    }
    if (context != NULL && context[0] == '\0')
        context = NULL;
    if (context != NULL && p == 1 && strcmp(context, "None") == 0)
        context = NULL;
    for (i = 0; i < ntable[p]; i++) {
        if (strcmp(table[p][i].status, status) == 0 &&
            strcmp(table[p][i].context, context != NULL ? context : "") == 0) {
            *out = table[p][i].res;
            return RK_OK;
        }
    }
    ref_quote(qs, status);
    if (context == NULL) {
        snprintf(err, RK_ERROR_SIZE, "%s: unknown status '%s'", provider, qs);
    } else {
        ref_quote(qc, context);
        snprintf(err, RK_ERROR_SIZE, "%s: unknown status '%s' with context '%s'", provider,
                 qs, qc);
    }
    return RK_ERR_NOTFOUND;
}

static unsigned long ncompared;

static void same(const char *provider, const char *status, const char *context)
{
    rk_status_map_result a, b, keep;
    char ea[RK_ERROR_SIZE] = "", eb[RK_ERROR_SIZE] = "";
    rk_err ra, rb;

    memset(&a, 0x5a, sizeof a);
    memcpy(&keep, &a, sizeof a);
    memset(&b, 0x5a, sizeof b);
    ra = rk_lifecycle_map_status(provider, status, context, &a, ea);
    rb = ref_map(provider, status, context, &b, eb);
    ck_assert_msg(ra == rb, "%s '%s'/'%s': rc %d, reference %d", provider, status,
                  context ? context : "-", (int)ra, (int)rb);
    if (ra == RK_OK) {
        ck_assert_int_eq(a.state, b.state);
        ck_assert_ptr_eq(a.reason, b.reason);
        ck_assert_ptr_eq(a.flag, b.flag);
    } else {
        ck_assert_str_eq(ea, eb);
        ck_assert(memcmp(&a, &keep, sizeof a) == 0);
    }
    ncompared++;
}

#define NVAR 160
#define VLEN 40

/* Near misses of w (at most 30 bytes): w, "", each byte's case flipped,
 * each byte the next and the previous code, every prefix and suffix (one
 * byte short at either end), a byte appended (a letter, a space, 0xff),
 * one byte doubled. */
static size_t variants(const char *w, char out[NVAR][VLEN])
{
    size_t n = 0, len = strlen(w), i;

    ck_assert_uint_le(len, 30);
    strcpy(out[n++], w);
    out[n++][0] = '\0';
    for (i = 0; i < len; i++) {
        strcpy(out[n], w);
        out[n][i] = (char)(out[n][i] ^ 0x20);
        if (out[n][i] != '\0')
            n++;
        strcpy(out[n], w);
        out[n++][i]++;
        strcpy(out[n], w);
        out[n][i]--;
        if (out[n][i] != '\0')
            n++;
        memcpy(out[n], w, i); /* a prefix */
        out[n++][i] = '\0';
        strcpy(out[n++], w + i + 1); /* a suffix */
    }
    snprintf(out[n++], VLEN, "%sd", w);
    snprintf(out[n++], VLEN, "%s ", w);
    snprintf(out[n++], VLEN, "%s\xff", w);
    if (len > 0)
        snprintf(out[n++], VLEN, "%c%s", w[0], w);
    ck_assert_uint_le(n, NVAR);
    return n;
}

START_TEST(index_every_row_exact)
{
    size_t p, i;
    rk_status_map_result r;
    const char *s, *c;

    load_tables();
    for (p = 0; p < NPROV; p++) {
        ck_assert_uint_gt(ntable[p], 0);
        for (i = 0; i < ntable[p]; i++) {
            /* exact: the row itself, its context NULL when it has none */
            same(providers[p], table[p][i].status,
                 table[p][i].context[0] != '\0' ? table[p][i].context : NULL);
            same(providers[p], table[p][i].status, table[p][i].context);
            ck_assert_int_eq(rk_lifecycle_map_status(providers[p], table[p][i].status,
                                                     table[p][i].context, &r, NULL),
                             RK_OK);
        }
    }
    /* the accessor's own limits */
    ck_assert_int_eq(rk_lifecycle_status_row("generic", 0, &s, &c, &r), RK_ERR_INVALID);
    ck_assert_int_eq(rk_lifecycle_status_row("btcpa", 0, &s, &c, &r), RK_ERR_INVALID);
    ck_assert_int_eq(rk_lifecycle_status_row("", 0, &s, &c, &r), RK_ERR_INVALID);
    ck_assert_int_eq(rk_lifecycle_status_row(NULL, 0, &s, &c, &r), RK_ERR_INVALID);
    ck_assert_int_eq(rk_lifecycle_status_row("btcpay", 0, NULL, &c, &r), RK_ERR_INVALID);
    ck_assert_int_eq(rk_lifecycle_status_row("btcpay", 0, &s, NULL, &r), RK_ERR_INVALID);
    ck_assert_int_eq(rk_lifecycle_status_row("btcpay", 0, &s, &c, NULL), RK_ERR_INVALID);
    ck_assert_int_eq(rk_lifecycle_status_row("btcpay", ntable[1], &s, &c, &r),
                     RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_lifecycle_status_row("btcpay", (size_t)-1, &s, &c, &r),
                     RK_ERR_NOTFOUND);
}
END_TEST

START_TEST(index_near_misses)
{
    static const char *const extra[] = {NULL, "", "None", "none", "NONE", "None ", "Non",
                                        "x", "\xff"};
    static char sv[NVAR][VLEN], cv[NVAR][VLEN];
    size_t p, q, i, j, k, qi, ns, nc;

    load_tables();
    ncompared = 0;
    for (p = 0; p < NPROV; p++) {
        for (i = 0; i < ntable[p]; i++) {
            ns = variants(table[p][i].status, sv);
            for (j = 0; j < ns; j++) {
                /* each status variant under every provider, with no
                 * context, the extras, and every context of the provider */
                for (q = 0; q < NPROV; q++) {
                    for (k = 0; k < sizeof extra / sizeof extra[0]; k++)
                        same(providers[q], sv[j], extra[k]);
                    for (qi = 0; qi < ntable[q]; qi++)
                        if (table[q][qi].context[0] != '\0')
                            same(providers[q], sv[j], table[q][qi].context);
                }
            }
            /* the row's status with near misses of its context */
            nc = variants(table[p][i].context, cv);
            for (j = 0; j < nc; j++)
                for (q = 0; q < NPROV; q++)
                    same(providers[q], table[p][i].status, cv[j]);
        }
        /* near misses of the provider names; "generic" is checked apart */
        nc = variants(providers[p], cv);
        for (j = 0; j < nc; j++)
            if (strcmp(cv[j], "generic") != 0)
                same(cv[j], "New", NULL);
    }
    ck_assert_uint_gt(ncompared, 100000);
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("lifecycle_index");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, index_every_row_exact);
    tcase_add_test(tc, index_near_misses);
    suite_add_tcase(s, tc);
    return s;
}
