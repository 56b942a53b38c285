/* test_ledger.c - ledger append, reopen, indexes, proofs, group commit, verify. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "ledger.h"
#include "merkle.h"
#include "note.h"
#include "store.h"
#include "verify.h"

static int64_t fake_now;
static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static char *new_ledger(const char *origin)
{
    char *dir = rk_test_tmpdir();
    char path[4200], err[RK_ERROR_SIZE] = "";

    ck_assert_ptr_nonnull(dir);
    snprintf(path, sizeof path, "%s/db", dir);
    free(dir);
    ck_assert_msg(rk_ledger_create(path, origin, 1000, err) == RK_OK, "%s", err);
    return strdup(path);
}

static rk_ledger *open_rw(const char *path)
{
    rk_ledger *l = NULL;
    char err[RK_ERROR_SIZE] = "";

    ck_assert_msg(rk_ledger_open(path, 0, &l, err) == RK_OK, "%s", err);
    rk_ledger_set_clock(l, fake_clock, NULL);
    return l;
}

/* Append n simple records with bodies {"i":k}. */
static void append_n(rk_ledger *l, int n, const char *ref)
{
    char body[64], err[RK_ERROR_SIZE] = "";
    rk_append_item it;
    int k;

    for (k = 0; k < n; k++) {
        memset(&it, 0, sizeof it);
        snprintf(body, sizeof body, "{\"i\":%d}", k);
        it.kind = RK_KIND_OPERATOR_NOTE;
        it.ref = ref;
        it.body = (const uint8_t *)body;
        it.body_len = strlen(body);
        ck_assert_msg(rk_ledger_append(l, &it, 1, err) == RK_OK, "%s", err);
    }
}

START_TEST(create_and_reopen)
{
    char *path = new_ledger("test.example/a");
    char err[RK_ERROR_SIZE] = "";
    rk_ledger *l = open_rw(path);
    rk_buf b = RK_BUF_INIT;
    rk_record r;
    uint64_t size, size2;
    uint8_t h[32], h2[32], root[32], root2[32];

    rk_ledger_head(l, &size, h);
    ck_assert(size == 1);
    ck_assert_str_eq(rk_ledger_origin(l), "test.example/a");
    ck_assert_int_eq(rk_ledger_read(l, 0, &b, &r, err), RK_OK);
    ck_assert_uint_eq(r.kind, RK_KIND_GENESIS);
    ck_assert(r.recorded_at == 1000);
    ck_assert(memcmp(r.hash, h, 32) == 0);
    ck_assert(r.body_len == strlen("{\"created_at\":1000,\"format\":1,\"origin\":\"test.example/a\"}"));
    fake_now = 5000;
    append_n(l, 10, "order-1");
    rk_ledger_root(l, &size, root);
    rk_ledger_head(l, &size, h);
    ck_assert(size == 11);
    rk_ledger_close(l);
    l = open_rw(path);
    rk_ledger_head(l, &size2, h2);
    rk_ledger_root(l, &size2, root2);
    ck_assert(size2 == 11);
    ck_assert(memcmp(h, h2, 32) == 0);
    ck_assert(memcmp(root, root2, 32) == 0);
    ck_assert_int_eq(rk_ledger_root_at(l, 11, root2, err), RK_OK);
    ck_assert(memcmp(root, root2, 32) == 0);
    ck_assert_int_eq(rk_ledger_read(l, 11, &b, &r, err), RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_ledger_root_at(l, 12, root2, err), RK_ERR_RANGE);
    rk_ledger_close(l);
    ck_assert_int_eq(rk_ledger_create(path, "x", 0, err), RK_ERR_EXISTS);
    rk_buf_free(&b);
    free(path);
}
END_TEST

START_TEST(open_errors)
{
    char err[RK_ERROR_SIZE] = "";
    rk_ledger *l = NULL;
    char *dir = rk_test_tmpdir();
    char path[4200];

    ck_assert_int_eq(rk_ledger_open("/nonexistent/reckon", 0, &l, err), RK_ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(err, "cannot open ledger '/nonexistent/reckon'"));
    snprintf(path, sizeof path, "%s/db", dir);
    ck_assert_int_eq(rk_ledger_create(path, "has space", 0, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_ledger_create(path, "", 0, err), RK_ERR_INVALID);
    /* a RocksDB database that is not a ledger */
    ck_assert_int_eq(rk_ledger_open(dir, 0, &l, err), RK_ERR_IO);
    ck_assert_ptr_null(l);
    free(dir);
}
END_TEST

START_TEST(append_rules)
{
    char *path = new_ledger("t/rules");
    rk_ledger *l = open_rw(path);
    char err[RK_ERROR_SIZE] = "";
    rk_append_item it[3];
    rk_buf b = RK_BUF_INIT;
    rk_record r;
    uint64_t size, seq;

    memset(it, 0, sizeof it);
    it[0].kind = RK_KIND_OPERATOR_NOTE;
    it[0].body = (const uint8_t *)"{ \"a\": 1 }";
    it[0].body_len = 10;
    ck_assert_int_eq(rk_ledger_append(l, it, 1, err), RK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "item 0: body is not canonical JSON"));
    rk_ledger_head(l, &size, NULL);
    ck_assert(size == 1);
    /* the clock going backwards never makes recorded-at decrease */
    fake_now = 9000;
    append_n(l, 1, NULL);
    fake_now = 10;
    append_n(l, 1, NULL);
    ck_assert_int_eq(rk_ledger_read(l, 2, &b, &r, err), RK_OK);
    ck_assert(r.recorded_at == 9000);
    /* event keys: the second of two equal keys in one batch is not appended */
    memset(it, 0, sizeof it);
    for (int i = 0; i < 3; i++) {
        it[i].kind = RK_KIND_PROVIDER_EVENT;
        it[i].body = (const uint8_t *)"{}";
        it[i].body_len = 2;
        it[i].ref = "pay-1";
    }
    it[0].event_key = "p:ev1";
    it[1].event_key = "p:ev1";
    it[2].event_key = "p:ev2";
    ck_assert_int_eq(rk_ledger_append(l, it, 3, err), RK_OK);
    ck_assert_int_eq(it[0].status, RK_OK);
    ck_assert_int_eq(it[1].status, RK_ERR_EXISTS);
    ck_assert(it[1].seq == it[0].seq);
    ck_assert_int_eq(it[2].status, RK_OK);
    ck_assert(it[2].seq == it[0].seq + 1);
    rk_ledger_close(l);
    l = open_rw(path);
    it[2].status = RK_OK;
    ck_assert_int_eq(rk_ledger_append(l, &it[2], 1, err), RK_OK);
    ck_assert_int_eq(it[2].status, RK_ERR_EXISTS);
    ck_assert_int_eq(rk_ledger_find_event(l, "p:ev2", &seq, err), RK_OK);
    ck_assert(seq == it[2].seq);
    ck_assert_int_eq(rk_ledger_find_event(l, "p:ev3", &seq, err), RK_ERR_NOTFOUND);
    rk_ledger_head(l, &size, NULL);
    ck_assert(size == 5);
    rk_ledger_close(l);
    /* read-only handles refuse appends */
    ck_assert_int_eq(rk_ledger_open(path, RK_LEDGER_READONLY, &l, err), RK_OK);
    ck_assert_int_eq(rk_ledger_append(l, it, 1, err), RK_ERR_CLOSED);
    rk_ledger_close(l);
    rk_buf_free(&b);
    free(path);
}
END_TEST

static rk_err collect(void *ctx, uint64_t seq)
{
    rk_buf *b = ctx;
    return rk_buf_printf(b, "%llu,", (unsigned long long)seq);
}

START_TEST(ref_index)
{
    char *path = new_ledger("t/ref");
    rk_ledger *l = open_rw(path);
    char err[RK_ERROR_SIZE] = "";
    rk_buf b = RK_BUF_INIT;

    append_n(l, 2, "order-1");
    append_n(l, 1, "order-10");
    append_n(l, 1, "order-1");
    ck_assert_int_eq(rk_ledger_for_ref(l, "order-1", collect, &b, err), RK_OK);
    ck_assert_str_eq((char *)b.data, "1,2,4,");
    rk_buf_reset(&b);
    ck_assert_int_eq(rk_ledger_for_ref(l, "order-10", collect, &b, err), RK_OK);
    ck_assert_str_eq((char *)b.data, "3,");
    rk_buf_reset(&b);
    ck_assert_int_eq(rk_ledger_for_ref(l, "order", collect, &b, err), RK_OK);
    ck_assert_uint_eq(b.len, 0);
    rk_ledger_close(l);
    rk_buf_free(&b);
    free(path);
}
END_TEST

START_TEST(proofs_from_store)
{
    char *path = new_ledger("t/proofs");
    rk_ledger *l = open_rw(path);
    char err[RK_ERROR_SIZE] = "";
    uint8_t proof[2 * RK_MERKLE_MAX_LEVELS][32], leaf[32], root[40][32];
    size_t n;
    uint64_t m, s, i;

    append_n(l, 36, NULL); /* 37 records */
    for (s = 1; s <= 37; s++)
        ck_assert_int_eq(rk_ledger_root_at(l, s, root[s], err), RK_OK);
    for (s = 1; s <= 37; s++) {
        for (i = 0; i < s; i++) {
            ck_assert_int_eq(rk_ledger_inclusion_proof(l, i, s, proof, &n, err), RK_OK);
            ck_assert_int_eq(rk_ledger_leaf(l, i, leaf, err), RK_OK);
            ck_assert_int_eq(rk_merkle_verify_inclusion(leaf, i, s,
                                                        (const uint8_t(*)[32])proof, n,
                                                        root[s]),
                             RK_OK);
        }
        for (m = 1; m <= s; m++) {
            ck_assert_int_eq(rk_ledger_consistency_proof(l, m, s, proof, &n, err), RK_OK);
            ck_assert_int_eq(rk_merkle_verify_consistency(m, s, root[m], root[s],
                                                          (const uint8_t(*)[32])proof, n),
                             RK_OK);
        }
    }
    rk_ledger_close(l);
    free(path);
}
END_TEST

struct thread_arg {
    rk_ledger *l;
    int n;
    int id;
};

static void *appender(void *p)
{
    struct thread_arg *a = p;
    char body[64], err[RK_ERROR_SIZE];
    rk_append_item it;
    int k;

    for (k = 0; k < a->n; k++) {
        memset(&it, 0, sizeof it);
        snprintf(body, sizeof body, "{\"k\":%d,\"t\":%d}", k, a->id);
        it.kind = RK_KIND_OPERATOR_NOTE;
        it.body = (const uint8_t *)body;
        it.body_len = strlen(body);
        if (rk_ledger_append(a->l, &it, 1, err) != RK_OK || it.status != RK_OK)
            return (void *)1;
    }
    return NULL;
}

struct problems {
    rk_buf text;
};

static void on_problem(void *ctx, const rk_problem *p)
{
    struct problems *pr = ctx;

    rk_buf_printf(&pr->text, "%lld %s: %s\n",
                  p->seq == RK_VERIFY_NO_SEQ ? -1LL : (long long)p->seq,
                  rk_damage_name(p->damage), p->what);
}

static rk_err verify_dir(const char *path, const rk_verifier *pub, const char *trusted,
                         struct problems *pr)
{
    rk_verify_opts o = { 0 };
    rk_verify_summary sum;
    char err[RK_ERROR_SIZE] = "";

    rk_buf_reset(&pr->text);
    o.pubkey = pub;
    o.trusted = trusted;
    o.trusted_len = trusted != NULL ? strlen(trusted) : 0;
    o.on_problem = on_problem;
    o.ctx = pr;
    return rk_verify_ledger(path, &o, &sum, err);
}

START_TEST(group_commit_threads)
{
    char *path = new_ledger("t/threads");
    rk_ledger *l = open_rw(path);
    pthread_t th[4];
    struct thread_arg a[4];
    rk_ledger_stats st;
    struct problems pr = { RK_BUF_INIT };
    uint64_t size;
    void *ret;
    int i;

    for (i = 0; i < 4; i++) {
        a[i].l = l;
        a[i].n = 100;
        a[i].id = i;
        ck_assert_int_eq(pthread_create(&th[i], NULL, appender, &a[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(pthread_join(th[i], &ret), 0);
        ck_assert_ptr_null(ret);
    }
    rk_ledger_head(l, &size, NULL);
    ck_assert(size == 401);
    rk_ledger_stats_get(l, &st);
    ck_assert(st.appends == 400);
    ck_assert(st.groups >= 1 && st.groups <= 400);
    rk_ledger_close(l);
    ck_assert_int_eq(verify_dir(path, NULL, NULL, &pr), RK_OK);
    rk_buf_free(&pr.text);
    free(path);
}
END_TEST

/* Tamper with the records column family directly, as an attacker with disk access. */
static void tamper(const char *path, void (*fn)(rk_store *s, rk_store_batch *b))
{
    rk_store *s = NULL;
    rk_store_batch *b;
    char err[RK_ERROR_SIZE] = "";

    ck_assert_msg(rk_store_open(path, 0, &s, err) == RK_OK, "%s", err);
    b = rk_store_batch_new(s);
    fn(s, b);
    ck_assert_int_eq(rk_store_write(s, b, 1, err), RK_OK);
    rk_store_batch_free(b);
    rk_store_close(s);
}

static void get_record(rk_store *s, uint64_t seq, rk_buf *v)
{
    uint8_t k[8];
    char err[RK_ERROR_SIZE];

    rk_put_be64(k, seq);
    ck_assert_int_eq(rk_store_get(s, RK_CF_RECORDS, k, 8, v, err), RK_OK);
}

static void put_record(rk_store_batch *b, uint64_t seq, const rk_buf *v)
{
    uint8_t k[8];

    rk_put_be64(k, seq);
    rk_store_batch_put(b, RK_CF_RECORDS, k, 8, v->data, v->len);
}

static void flip_byte_5(rk_store *s, rk_store_batch *b)
{
    rk_buf v = RK_BUF_INIT;

    get_record(s, 5, &v);
    v.data[70] ^= 0x20;
    put_record(b, 5, &v);
    rk_buf_free(&v);
}

static void delete_7(rk_store *s, rk_store_batch *b)
{
    uint8_t k[8];

    (void)s;
    rk_put_be64(k, 7);
    rk_store_batch_delete(b, RK_CF_RECORDS, k, 8);
}

static void swap_3_4(rk_store *s, rk_store_batch *b)
{
    rk_buf v3 = RK_BUF_INIT, v4 = RK_BUF_INIT;

    get_record(s, 3, &v3);
    get_record(s, 4, &v4);
    put_record(b, 3, &v4);
    put_record(b, 4, &v3);
    rk_buf_free(&v3);
    rk_buf_free(&v4);
}

static void delete_last(rk_store *s, rk_store_batch *b)
{
    uint8_t k[8];

    (void)s;
    rk_put_be64(k, 10);
    rk_store_batch_delete(b, RK_CF_RECORDS, k, 8);
}

static void insert_beyond(rk_store *s, rk_store_batch *b)
{
    rk_buf v = RK_BUF_INIT;

    get_record(s, 10, &v);
    put_record(b, 11, &v);
    rk_buf_free(&v);
}

static void run_tamper(void (*fn)(rk_store *, rk_store_batch *), const char *expect)
{
    char *path = new_ledger("t/tamper");
    rk_ledger *l = open_rw(path);
    struct problems pr = { RK_BUF_INIT };

    append_n(l, 10, NULL);
    rk_ledger_close(l);
    ck_assert_int_eq(verify_dir(path, NULL, NULL, &pr), RK_OK);
    tamper(path, fn);
    ck_assert_int_eq(verify_dir(path, NULL, NULL, &pr), RK_ERR_CORRUPT);
    ck_assert_msg(strstr((char *)pr.text.data, expect) != NULL, "expected '%s' in:\n%s",
                  expect, (char *)pr.text.data);
    rk_buf_free(&pr.text);
    free(path);
}

START_TEST(verify_names_damage)
{
    run_tamper(flip_byte_5, "5 modified: record hash mismatch");
    run_tamper(delete_7, "7 missing: record is missing");
    run_tamper(swap_3_4, "3 reordered: holds record 4");
    run_tamper(swap_3_4, "4 reordered: holds record 3");
    run_tamper(delete_last, "10 truncated: records 10..10 are missing at the end");
    run_tamper(insert_beyond, "11 inserted: record beyond the head");
}
END_TEST

START_TEST(checkpoints_and_rollback)
{
    char *path = new_ledger("t/cp");
    char *other = new_ledger("t/cp");
    rk_ledger *l = open_rw(path), *o = open_rw(other);
    rk_signer *s = NULL;
    rk_verifier *v;
    char err[RK_ERROR_SIZE] = "";
    rk_buf note = RK_BUF_INIT, note2 = RK_BUF_INIT;
    struct problems pr = { RK_BUF_INIT };
    uint64_t seq = 0, cpseq = 0;

    ck_assert_int_eq(rk_signer_generate("t/cp", &s, err), RK_OK);
    v = rk_signer_verifier(s);
    append_n(l, 5, NULL);
    ck_assert_int_eq(rk_ledger_checkpoint(l, s, &note, &seq, err), RK_OK);
    ck_assert(seq == 6);
    ck_assert_int_eq(rk_ledger_latest_checkpoint(l, &note2, &cpseq, err), RK_OK);
    ck_assert(cpseq == 6);
    ck_assert_str_eq((char *)note.data, (char *)note2.data);
    append_n(l, 5, NULL);
    rk_ledger_close(l);
    ck_assert_msg(verify_dir(path, v, (char *)note.data, &pr) == RK_OK, "%s",
                  (char *)pr.text.data);
    /* a different history under the same origin does not extend the checkpoint */
    append_n(o, 12, "other-history");
    rk_ledger_close(o);
    ck_assert_int_eq(verify_dir(other, v, (char *)note.data, &pr), RK_ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr((char *)pr.text.data, "rewritten"));
    /* a checkpoint from a longer ledger: rolled back */
    l = open_rw(path);
    append_n(l, 3, NULL);
    ck_assert_int_eq(rk_ledger_checkpoint(l, s, &note2, &seq, err), RK_OK);
    rk_ledger_close(l);
    o = open_rw(other);
    rk_ledger_close(o);
    ck_assert_int_eq(verify_dir(other, v, (char *)note2.data, &pr), RK_ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr((char *)pr.text.data, "rolled-back"));
    /* a signature by another key */
    {
        rk_signer *s2 = NULL;
        rk_verifier *v2;
        ck_assert_int_eq(rk_signer_generate("t/cp", &s2, err), RK_OK);
        v2 = rk_signer_verifier(s2);
        ck_assert_int_eq(verify_dir(path, v2, NULL, &pr), RK_ERR_CORRUPT);
        ck_assert_ptr_nonnull(strstr((char *)pr.text.data, "6 bad-signature"));
        rk_verifier_free(v2);
        rk_signer_free(s2);
    }
    rk_verifier_free(v);
    rk_signer_free(s);
    rk_buf_free(&note);
    rk_buf_free(&note2);
    rk_buf_free(&pr.text);
    free(path);
    free(other);
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("ledger");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, create_and_reopen);
    tcase_add_test(tc, open_errors);
    tcase_add_test(tc, append_rules);
    tcase_add_test(tc, ref_index);
    tcase_add_test(tc, proofs_from_store);
    tcase_add_test(tc, group_commit_threads);
    tcase_add_test(tc, verify_names_damage);
    tcase_add_test(tc, checkpoints_and_rollback);
    suite_add_tcase(s, tc);
    return s;
}
