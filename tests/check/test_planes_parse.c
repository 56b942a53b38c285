/*
 * test_planes_parse.c - the strings of a provider event body come out of
 * the fold byte for byte, at every length and with escapes.
 *
 * The fold copies a body's strings into the event's one allocation: strings
 * of up to 16 bytes by word loads and stores sized by their length (0, 1..3,
 * 4..7, 8..16), longer ones by memcpy, and strings with an escape through
 * the unescaper.  Each length from 0 to 40 is folded here and the rendered
 * state is compared, as bytes, with what the body said.
 */
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "planes.h"
#include "record.h"

/* n letters from c ('a' or 'A'), rotated by off, into out (NUL-terminated). */
static void run(char *out, size_t n, char c, size_t off)
{
    size_t i;

    for (i = 0; i < n; i++)
        out[i] = (char)(c + (i + off) % 26);
    out[n] = '\0';
}

/* Fold one provider event (seq 1) into a new state and render its payment. */
static void fold_one(const char *body, const char *order, rk_buf *state)
{
    rk_planes *p = NULL;
    rk_record r;
    char err[RK_ERROR_SIZE] = "";

    ck_assert_int_eq(rk_planes_new(&p, err), RK_OK);
    memset(&r, 0, sizeof r);
    r.kind = RK_KIND_PROVIDER_EVENT;
    r.seq = 1;
    r.body = (const uint8_t *)body;
    r.body_len = strlen(body);
    ck_assert_msg(rk_planes_apply(p, &r, err) == RK_OK, "%s", err);
    ck_assert_msg(rk_planes_write(p, order, state, NULL, err) == RK_OK, "%s: %s", body, err);
    rk_planes_free(p);
}

/* Does the rendered state hold `"key":"value"`? */
static void holds(const rk_buf *state, const char *key, const char *value)
{
    char want[256];
    size_t n = (size_t)snprintf(want, sizeof want, "\"%s\":\"%s\"", key, value), i;

    for (i = 0; i + n <= state->len; i++)
        if (memcmp(state->data + i, want, n) == 0)
            return;
    ck_abort_msg("state lacks %s: %.*s", want, (int)state->len, (const char *)state->data);
}

START_TEST(strings_of_every_length)
{
    char body[1024], prov[80], evid[64], etype[64], asset[64], order[80];
    rk_buf state = RK_BUF_INIT;
    size_t n;

    for (n = 0; n <= 40; n++) {
        run(evid, n, 'a', 0);
        run(etype, n, 'A', 0);
        run(asset, n + 1, 'A', 10); /* an asset is never empty in a rendered item */
        snprintf(prov, sizeof prov, "p%s", evid);
        snprintf(order, sizeof order, "o%s", etype);
        snprintf(body, sizeof body,
                 "{\"event_id\":\"%s\",\"event_type\":\"%s\",\"occurred_at\":"
                 "\"2026-01-01T00:00:00.000000000Z\",\"payments\":[{\"amount\":\"1.5\","
                 "\"asset\":\"%s\",\"network\":\"bitcoin\"}],\"provider\":\"%s\",\"refs\":"
                 "{\"order\":\"%s\"},\"source\":\"webhook\",\"state\":\"detected\","
                 "\"status\":\"%s\",\"v\":1}",
                 evid, etype, asset, prov, order, etype);
        state.len = 0;
        fold_one(body, order, &state);
        holds(&state, "asset", asset);
        holds(&state, "provider", prov);
        holds(&state, "event_type", etype);
        holds(&state, "status", etype);
        if (n > 0) {
            char name[160];

            snprintf(name, sizeof name, "%s:%s", prov, evid);
            holds(&state, "event", name);
        }
    }
    rk_buf_free(&state);
}
END_TEST

/*
 * Strings that are not printable ASCII without escapes take the unescaper:
 * an escaped quote, backslash or tab, raw UTF-8.  The rendered state
 * writes them escaped the same canonical way, so the text comes back.
 */
START_TEST(strings_with_escapes)
{
    static const char body[] =
        "{\"event_id\":\"e\\\"1\",\"event_type\":\"t\\\\x\",\"occurred_at\":"
        "\"2026-01-01T00:00:00.000000000Z\",\"payments\":[{\"amount\":\"1.5\","
        "\"asset\":\"A\\\\B\\tCDEFGHIJKLMNOPQRSTU\",\"network\":\"bitcoin\"}],\"provider\":"
        "\"p\xc3\xa9\",\"refs\":{\"order\":\"o\\\"q\"},\"source\":\"webhook\",\"state\":"
        "\"detected\",\"status\":\"s\",\"v\":1}";
    rk_buf state = RK_BUF_INIT;

    fold_one(body, "o\"q", &state);
    holds(&state, "asset", "A\\\\B\\tCDEFGHIJKLMNOPQRSTU");
    holds(&state, "event_type", "t\\\\x");
    holds(&state, "provider", "p\xc3\xa9");
    holds(&state, "event", "p\xc3\xa9:e\\\"1");
    rk_buf_free(&state);
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("planes_parse");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, strings_of_every_length);
    tcase_add_test(tc, strings_with_escapes);
    suite_add_tcase(s, tc);
    return s;
}
