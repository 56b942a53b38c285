/*
 * test_planes_shape.c - the known-shape reader of record bodies (planes.c,
 * shape_read, and the event or row built from what it lists) against the
 * generic path (rk_jv_parse_tape + obj_load_tape, pev_parse / crow_parse /
 * frow_parse).
 *
 * The property (shape_same.h): whenever the reader accepts a body, the
 * generic path accepts it too, lists the same members at the top level and
 * in refs, expected and price, and builds an equal event or row or gives
 * the same reason; otherwise the reader gives up and the generic path
 * decides.  Checked on the bodies the bench writes, on every adapter
 * vector's output (the .out files of tests/vectors/adapt), and on each of them broken:
 * every byte changed, deleted or doubled, truncated, members swapped,
 * doubled, unknown members added, deeper nesting, escapes, non-ASCII, a
 * tape too short.  This file compiles planes.c itself (its static
 * functions are what is tested; its definitions stand in for the
 * library's, as in test_replay_plain.c).
 */
#include "planes.c"

#include <dirent.h>
#include <stdio.h>

#include "check_main.h"
#include "shape_same.h"

#define PE RK_KIND_PROVIDER_EVENT
#define CR RK_KIND_COMMERCE_ROW
#define FR RK_KIND_FINANCE_ROW

/* Bodies as the bench generator (tests/bench/bench_replay.c) and the
 * adapters and importers write them, one per shape of the quick ledger. */
static const struct {
    unsigned kind;
    const char *body;
} bodies[] = {
    { PE, "{\"event_id\":\"ev-0000000-0\",\"event_type\":\"InvoiceCreated\",\"occurred_at\":"
          "\"2026-01-01T00:00:00.000000000Z\",\"payments\":[],\"provider\":\"btcpay\",\"refs\":"
          "{\"order\":\"ord-0000000\",\"payment\":\"inv-0000000\"},\"source\":\"webhook\","
          "\"state\":\"awaiting_payment\",\"status\":\"InvoiceCreated\",\"v\":1}" },
    { PE, "{\"event_id\":\"ev-0000799-2\",\"event_type\":\"InvoiceProcessing\",\"occurred_at\":"
          "\"2026-01-01T00:59:57.000000000Z\",\"payments\":[{\"amount\":\"0.00100799\",\"asset\":"
          "\"BTC\",\"confirmations\":2,\"network\":\"bitcoin\",\"tx\":\"0000000000000000000000"
          "000000000000000000000000000000000000000799\"}],\"provider\":\"btcpay\",\"refs\":{"
          "\"order\":\"ord-0000799\",\"payment\":\"inv-0000799\"},\"source\":\"webhook\",\"state\":"
          "\"confirming\",\"status\":\"InvoiceProcessing\",\"v\":1}" },
    { PE, "{\"event_id\":\"ev-0003845-5\",\"event_type\":\"InvoiceSettled\",\"occurred_at\":"
          "\"2026-01-01T04:02:15.000000000Z\",\"payments\":[{\"amount\":\"0.00100845\",\"asset\":"
          "\"BTC\",\"confirmations\":8,\"network\":\"bitcoin\",\"tx\":\"00000000000000000000000000"
          "00000000000000000000000000000000003845\"}],\"provider\":\"btcpay\",\"refs\":{\"payment\""
          ":\"inv-0003845\"},\"source\":\"api_read\",\"state\":\"confirmed\",\"status\":"
          "\"InvoiceSettled\",\"v\":1}" },
    { PE, "{\"context\":\"OVERPAID\",\"event_id\":\"e-1\",\"event_type\":\"t\",\"expected\":{"
          "\"amount\":\"1.5\",\"asset\":\"USDT\",\"contract\":\"0xdac17f958d2ee523a2206206994597c1"
          "3d831ec7\",\"network\":\"ethereum\"},\"fiat\":{\"amount\":\"100\",\"currency\":\"USD\"},"
          "\"flag\":\"overpaid\",\"occurred_at\":\"2024-03-05T10:19:58.000000000Z\",\"order_seq\":2,"
          "\"payments\":[{\"amount\":\"0.06\",\"asset\":\"ETH\",\"confirmations\":12,\"contract\":"
          "\"0xabc\",\"finalized\":\"true\",\"id\":\"tx-0\",\"memo\":\"7\",\"network\":\"ethereum\","
          "\"status\":\"CONFIRMED\",\"tx\":\"0x5f\"},{\"amount\":\"1\",\"asset\":\"BTC\",\"network\":"
          "\"bitcoin\"}],\"payments_scope\":\"all\",\"provider\":\"generic\",\"reason\":\"overpaid\","
          "\"refs\":{\"order\":\"O\\u0001\\n\\\"\\\\\",\"parent\":\"P\",\"payment\":\"caf\xc3\xa9\"},"
          "\"source\":\"webhook\",\"state\":\"needs_review\",\"status\":\"UNRESOLVED\",\"v\":1}" },
    { CR, "{\"event\":\"created\",\"expected\":{\"amount\":\"0.00100798\",\"asset\":\"BTC\","
          "\"network\":\"bitcoin\"},\"expires_at\":\"2026-01-01T04:59:54.000000000Z\","
          "\"occurred_at\":\"2026-01-01T03:59:54.000000000Z\",\"order\":\"ord-0004798\",\"price\":{"
          "\"amount\":\"895.00\",\"currency\":\"USD\"},\"row_id\":\"ord-0004798:created\",\"v\":1}" },
    { CR, "{\"amount\":\"5.00\",\"correction_of\":12,\"currency\":\"USD\",\"event\":\"refunded\","
          "\"expected\":{\"amount\":\"1\",\"asset\":\"XRP\",\"contract\":\"c\",\"memo\":\"42\","
          "\"network\":\"xrp\"},\"occurred_at\":\"2026-01-02T00:00:00.000000000Z\",\"order\":\"o\","
          "\"row_id\":\"r\",\"v\":1}" },
    { FR, "{\"account\":\"1200-crypto-clearing\",\"amount\":\"0.00100000\",\"currency\":\"BTC\","
          "\"fx_rate\":\"97000.00\",\"fx_source\":\"bench\",\"order\":\"ord-0000000\",\"period\":"
          "\"2026-01\",\"recognised_at\":\"2026-01-01T02:00:00.000000000Z\",\"row_id\":"
          "\"je-0000000-0\",\"side\":\"debit\",\"v\":1}" },
    { FR, "{\"account\":\"4000-revenue\",\"amount\":\"97.00\",\"correction_of\":9,\"currency\":"
          "\"USD\",\"order\":\"ord-0000000\",\"period\":\"2026-01\",\"recognised_at\":"
          "\"2026-01-01T02:00:00.000000000Z\",\"row_id\":\"je-0000000-1\",\"side\":\"credit\","
          "\"v\":1}" },
};
#define NBODIES (sizeof bodies / sizeof bodies[0])

/* Check one text both ways (a full tape); fail on any disagreement.
 * Returns shape_same's verdict (1 accepted, 0 gave up). */
static int check_one(unsigned kind, const uint8_t *b, size_t n, const char *what)
{
    const char *why;
    int r = shape_same(kind, b, n, TAPE_MAX, &why);

    ck_assert_msg(r >= 0, "%s: %s: %.*s", what, why, (int)n, (const char *)b);
    return r;
}

/* The keys of shape s and of the shapes below it: sorted, unique, each its
 * field, quoted as the reader compares them. */
static void check_shape(const struct shape *s)
{
    size_t i, n, slot;

    ck_assert_uint_gt(s->n, 0);
    for (i = 0; i < s->n; i++) {
        const struct shape_key *k = &s->keys[i];
        n = strlen(k->lit);
        ck_assert_uint_eq(n, k->n);
        ck_assert_uint_lt(n, sizeof k->lit);
        ck_assert(n >= 4 && k->lit[0] == '"' && k->lit[n - 2] == '"' && k->lit[n - 1] == ':');
        for (size_t j = 1; j < n - 2; j++)
            ck_assert(k->lit[j] > 0x20 && k->lit[j] < 0x7f && k->lit[j] != '"' &&
                      k->lit[j] != '\\');
        ck_assert_int_eq(k->field, field_of(k->lit + 1, n - 3));
        if (i > 0) {
            /* the names (not the quoted forms: '"' sorts after nothing) */
            const struct shape_key *p = &s->keys[i - 1];
            size_t pn = p->n - 3, kn = n - 3;
            int c = memcmp(p->lit + 1, k->lit + 1, pn < kn ? pn : kn);
            ck_assert_msg(c < 0 || (c == 0 && pn < kn), "%s after %s", k->lit, p->lit);
        }
        for (size_t j = 0; j < sizeof k->mask; j++)
            ck_assert_uint_eq(k->mask[j], j < n ? 0xff : 0);
        ck_assert_int_eq(k->sub != NULL, k->kind != SK_SCALAR);
        if (k->sub != NULL)
            check_shape(k->sub);
    }
    /* first[slot]: the first key whose first letter has low bits slot, else 0 */
    for (slot = 0; slot < sizeof s->first; slot++) {
        for (i = 0; i < s->n && ((unsigned char)s->keys[i].lit[1] & 31) != slot; i++)
            ;
        ck_assert_uint_eq(s->first[slot], i < s->n ? i : 0);
    }
}

START_TEST(tables_sorted_and_classified)
{
    check_shape(&shape_provider_event);
    check_shape(&shape_commerce_row);
    check_shape(&shape_finance_row);
}
END_TEST

START_TEST(known_bodies_read_fast)
{
    size_t i;

    for (i = 0; i < NBODIES; i++)
        ck_assert_msg(check_one(bodies[i].kind, (const uint8_t *)bodies[i].body,
                                strlen(bodies[i].body), "body") == 1,
                      "body %zu not read by the fast path", i);
    /* another kind, or a kind's body read as another kind's */
    ck_assert_int_eq(check_one(RK_KIND_POLICY, (const uint8_t *)bodies[0].body,
                               strlen(bodies[0].body), "policy"), 0);
    ck_assert_int_eq(check_one(FR, (const uint8_t *)bodies[0].body, strlen(bodies[0].body),
                               "as finance"), 0);
    ck_assert_int_eq(check_one(PE, (const uint8_t *)"{}", 2, "empty"), 1);
    ck_assert_int_eq(check_one(PE, (const uint8_t *)"", 0, "nothing"), 0);
    ck_assert_int_eq(check_one(PE, (const uint8_t *)"[]", 2, "array"), 0);
}
END_TEST

/* Every adapter vector's output body (the lines of *.out that are objects). */
START_TEST(adapter_vectors)
{
    DIR *d = opendir("tests/vectors/adapt");
    struct dirent *de;
    char path[512], line[16384];
    size_t seen = 0, fast = 0;

    ck_assert_ptr_nonnull(d);
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        FILE *f;
        if (n < 4 || strcmp(de->d_name + n - 4, ".out") != 0)
            continue;
        snprintf(path, sizeof path, "tests/vectors/adapt/%s", de->d_name);
        f = fopen(path, "rb");
        ck_assert_ptr_nonnull(f);
        while (fgets(line, sizeof line, f) != NULL) {
            size_t m = strcspn(line, "\n");
            if (line[0] != '{')
                continue;
            seen++;
            fast += (size_t)check_one(PE, (const uint8_t *)line, m, path);
        }
        fclose(f);
    }
    closedir(d);
    ck_assert_uint_gt(seen, 20);
    /* the adapters write the shape the reader knows */
    ck_assert_uint_eq(fast, seen);
}
END_TEST

/* Bytes each position is changed to and inserted: the structure, quotes,
 * escapes, digits, letters, controls, non-ASCII. */
static const uint8_t edits[] = { 0x00, 0x01, '\t', '\n', ' ', '"', '\\', '{', '}', '[', ']',
                                 ',', ':', '-', '0', '1', '9', 'a', 'e', 't', 'u', 'z',
                                 'A', '/', 0x7f, 0x80, 0xc3, 0xe9, 0xff };

START_TEST(every_byte_broken)
{
    unsigned kind = bodies[_i].kind;
    const char *s = bodies[_i].body;
    size_t n = strlen(s), i, j, max;
    uint8_t *b = malloc(n + 2);

    ck_assert_ptr_nonnull(b);
    for (i = 0; i < n; i++) {
        /* changed */
        for (j = 0; j < sizeof edits; j++) {
            memcpy(b, s, n);
            if (b[i] == edits[j])
                continue;
            b[i] = edits[j];
            (void)check_one(kind, b, n, "changed");
        }
        /* deleted */
        memcpy(b, s, i);
        memcpy(b + i, s + i + 1, n - i - 1);
        (void)check_one(kind, b, n - 1, "deleted");
        /* inserted */
        for (j = 0; j < sizeof edits; j++) {
            memcpy(b, s, i);
            b[i] = edits[j];
            memcpy(b + i + 1, s + i, n - i);
            (void)check_one(kind, b, n + 1, "inserted");
        }
        /* doubled */
        memcpy(b, s, i + 1);
        memcpy(b + i + 1, s + i, n - i);
        (void)check_one(kind, b, n + 1, "doubled");
        /* truncated */
        ck_assert_int_eq(check_one(kind, (const uint8_t *)s, i, "truncated"), 0);
    }
    /* a tape too short for the generic path (which then reads with a
     * cursor): the reader keeps no tape, and both must still agree */
    for (max = 0; max < 40; max++) {
        const char *why;
        size_t nt;
        obj o;
        int r = shape_same(kind, (const uint8_t *)s, n, max, &why);
        ck_assert_msg(r >= 0, "max %zu: %s", max, why);
        if (r == 0) {
            rk_jv v;
            static rk_jent t[64];
            ck_assert_int_eq(rk_jv_parse_tape(s, n, &v, t, max, &nt, NULL), RK_OK);
            ck_assert_uint_gt(nt, max);
        }
        (void)o;
    }
    free(b);
}
END_TEST

/* ---- members moved, doubled, added, nested ------------------------------ */

/* The members of a body (its text without the braces, split at the commas
 * between top-level members), at most 24. */
static size_t split(const char *s, char m[][2048])
{
    size_t n = 0, depth = 0, k = 0, i, len = strlen(s);
    int in = 0;

    for (i = 1; i + 1 < len; i++) {
        char c = s[i];
        if (in) {
            if (c == '\\') {
                m[n][k++] = c;
                c = s[++i];
            } else if (c == '"') {
                in = 0;
            }
        } else if (c == '"') {
            in = 1;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        } else if (c == ',' && depth == 0) {
            m[n][k] = '\0';
            n++;
            k = 0;
            continue;
        }
        m[n][k++] = c;
    }
    m[n][k] = '\0';
    return n + 1;
}

/* "{" + the members of m in the order idx[0..n) + "}" into out. */
static size_t join(char *out, char m[][2048], const size_t *idx, size_t n)
{
    size_t len = 0, i;

    out[len++] = '{';
    for (i = 0; i < n; i++) {
        if (i > 0)
            out[len++] = ',';
        len += (size_t)sprintf(out + len, "%s", m[idx[i]]);
    }
    out[len++] = '}';
    out[len] = '\0';
    return len;
}

/* Members to add anywhere: unknown keys, known keys, keys with escapes or
 * non-ASCII, odd values, containers where the shape has none, deeper
 * nesting. */
static const char *const extra[] = {
    "\"a\":1", "\"zz\":\"x\"", "\"context\":\"c\"", "\"flag\":null", "\"order_seq\":-3",
    "\"reason\":true", "\"fiat\":{}", "\"fiat\":{\"amount\":\"1\",\"currency\":\"EUR\"}",
    "\"fiat\":{\"amount\":{\"x\":1}}", "\"fiat\":[1]", "\"expected\":{\"memo\":\"m\"}",
    "\"expected\":{\"amount\":\"1\",\"extra\":1}", "\"payments\":[[]]", "\"payments\":[1,\"x\",null]",
    "\"payments\":[{\"tx\":{}}]", "\"payments\":{}", "\"refs\":[]", "\"refs\":{\"order\":[1]}",
    "\"v\":{\"v\":1}", "\"v\":01", "\"v\":-0", "\"v\":9223372036854775808", "\"v\":true",
    "\"\\u0076\":1", "\"v\\u0000\":1", "\"caf\xc3\xa9\":1", "\"payments_scope\":\"some\"",
    "\"payments_scopf\":1", "\"payment\":1", "\"amount\":\"\\u00e9\"", "\"currency\":\"\xff\"",
    "\"correction_of\":7", "\"price\":{\"amount\":\"1\"}", "\"price\":{\"currency\":1,\"amount\":2}",
    "\"side\":\"a\\\"b\"", "\"fx_rate\":\"1\\/2\"", "\"row_id\":\"\xf0\x9f\x98\x80\"",
};

START_TEST(members_rearranged)
{
    static char m[24][2048];
    static char out[65536];
    unsigned kind = bodies[_i].kind;
    size_t n = split(bodies[_i].body, m), idx[32] = { 0 }, i, j, x, len, t;
    size_t fast = 0;

    ck_assert_uint_lt(n, 24);
    for (i = 0; i < n; i++)
        idx[i] = i;
    len = join(out, m, idx, n);
    ck_assert_str_eq(out, bodies[_i].body);
    for (i = 0; i + 1 < n; i++) {
        /* two members swapped: not canonical */
        idx[i] = i + 1;
        idx[i + 1] = i;
        len = join(out, m, idx, n);
        ck_assert_int_eq(check_one(kind, (const uint8_t *)out, len, "swapped"), 0);
        idx[i] = i;
        idx[i + 1] = i + 1;
    }
    for (i = 0; i < n; i++) {
        /* one member doubled, or left out */
        for (j = 0, t = 0; j < n; j++) {
            idx[t++] = j;
            if (j == i)
                idx[t++] = j;
        }
        len = join(out, m, idx, t);
        ck_assert_int_eq(check_one(kind, (const uint8_t *)out, len, "doubled"), 0);
        for (j = 0, t = 0; j < n; j++)
            if (j != i)
                idx[t++] = j;
        len = join(out, m, idx, t);
        ck_assert_int_eq(check_one(kind, (const uint8_t *)out, len, "left out"), 1);
    }
    /* each extra member at each place */
    for (x = 0; x < sizeof extra / sizeof extra[0]; x++) {
        strcpy(m[n], extra[x]);
        for (i = 0; i <= n; i++) {
            for (j = 0, t = 0; j <= n; j++) {
                if (j == i)
                    idx[t++] = n;
                if (j < n)
                    idx[t++] = j;
            }
            len = join(out, m, idx, t);
            fast += (size_t)check_one(kind, (const uint8_t *)out, len, "added");
        }
    }
    /* the first body lacks keys it may have: added in their place, they
     * are read fast (the others have all of them, or the added ones
     * double them) */
    if (_i == 0)
        ck_assert_uint_gt(fast, 5);
}
END_TEST

/* Provider events of n items, one of them (bad, or none when n) lacking
 * its network or with a bad confirmations count: the reasons' order
 * (more than 64, a payment lacking, confirmations) both ways. */
START_TEST(many_items)
{
    static char out[65536];
    size_t n, bad, len, i;
    int conf;

    for (n = 0; n <= 66; n++) {
        for (bad = 0; bad <= n; bad += (n < 8 ? 1 : 31)) {
            for (conf = 0; conf < 2; conf++) {
                len = (size_t)sprintf(out, "{\"event_id\":\"e\",\"occurred_at\":"
                                           "\"2026-01-01T00:00:00.000000000Z\",\"payments\":[");
                for (i = 0; i < n; i++)
                    len += (size_t)sprintf(out + len,
                                           "%s{\"amount\":\"1.%zu\",\"asset\":\"A\","
                                           "\"confirmations\":%s%s}",
                                           i > 0 ? "," : "", i,
                                           i == bad && conf ? "-1" : "3",
                                           i == bad && !conf ? "" : ",\"network\":\"x\"");
                len += (size_t)sprintf(out + len, "],\"provider\":\"btcpay\",\"refs\":{"
                                                  "\"order\":\"o\"},\"status\":\"New\","
                                                  "\"v\":1}");
                ck_assert_int_eq(check_one(PE, (const uint8_t *)out, len, "items"), 1);
            }
        }
    }
}
END_TEST

/* Random edits of a few bytes at a time (a fixed seed: the same cases on
 * every run). */
START_TEST(random_edits)
{
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    static uint8_t b[8192];
    size_t round;

    for (round = 0; round < 200000; round++) {
        size_t k = round % NBODIES, n = strlen(bodies[k].body), e, edits_n;
        memcpy(b, bodies[k].body, n);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        edits_n = 1 + (size_t)(x % 3);
        for (e = 0; e < edits_n; e++) {
            size_t at = (size_t)(x >> 8) % n;
            b[at] = (uint8_t)(x >> (16 + 8 * e));
            if (((x >> 40) & 3) == 0)
                b[at] = edits[(x >> 42) % sizeof edits];
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        (void)check_one(bodies[k].kind, b, n, "random");
    }
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("planes_shape");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, tables_sorted_and_classified);
    tcase_add_test(tc, known_bodies_read_fast);
    tcase_add_test(tc, adapter_vectors);
    tcase_add_loop_test(tc, every_byte_broken, 0, (int)NBODIES);
    tcase_add_loop_test(tc, members_rearranged, 0, (int)NBODIES);
    tcase_add_test(tc, random_edits);
    tcase_add_test(tc, many_items);
    suite_add_tcase(s, tc);
    return s;
}
