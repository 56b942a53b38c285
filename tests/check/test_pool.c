/*
 * test_pool.c - the block pool of the replay (engine/pool.h): sizes and
 * alignment, malloc for big blocks and NULL caches, reuse through the
 * depot, and one thread allocating while another releases (the replay's
 * pattern), with every block's bytes checked.  In a pooling build the
 * tests also look at the caches' counts (pool.h) to see that each path is
 * taken: the inline fast paths, an empty magazine refilled from a slab or
 * from the depot, a full one spilled, a slab's end, every class.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "pool.h"

/* Is the pool pooling (not an AddressSanitizer build, where it mallocs)? */
static int pooling(rk_pool *p)
{
    rk_pool_cache c;

    rk_pool_cache_init(&c, p);
    return c.pool != NULL;
}

START_TEST(sizes_and_alignment)
{
    rk_pool *p = rk_pool_new();
    rk_pool_cache c;
    void *b[200];
    size_t i, n;

    ck_assert_ptr_nonnull(p);
    rk_pool_cache_init(&c, p);
    for (i = 0; i < 200; i++) {
        n = i * 11; /* 0 .. 2189 bytes: every class, and beyond the largest */
        b[i] = rk_pool_alloc(&c, n);
        ck_assert_ptr_nonnull(b[i]);
        ck_assert_uint_eq((uintptr_t)b[i] % 16, 0);
        memset(b[i], (int)i, n);
    }
    for (i = 0; i < 200; i++) {
        size_t j;
        for (j = 0; j < i * 11; j++)
            ck_assert_uint_eq(((unsigned char *)b[i])[j], i & 0xff);
        rk_pool_release(&c, b[i]);
    }
    rk_pool_release(&c, NULL); /* nothing */
    rk_pool_free(p);
    rk_pool_free(NULL);
}
END_TEST

START_TEST(null_cache_mallocs)
{
    rk_pool *p = rk_pool_new();
    rk_pool_cache c;
    void *a = rk_pool_alloc(NULL, 100), *b;

    ck_assert_ptr_nonnull(a);
    memset(a, 1, 100);
    rk_pool_release(NULL, a); /* from malloc: freed */
    /* a block from malloc released into a pool's cache goes to free, too */
    rk_pool_cache_init(&c, p);
    b = rk_pool_alloc(NULL, 3000);
    ck_assert_ptr_nonnull(b);
    rk_pool_release(&c, b);
    rk_pool_free(p);
}
END_TEST

START_TEST(blocks_are_reused_across_caches)
{
    rk_pool *p = rk_pool_new();
    rk_pool_cache a, b;
    void *blk[3 * RK_POOL_MAG], *again;
    size_t i;
    int found = 0;

    rk_pool_cache_init(&a, p);
    rk_pool_cache_init(&b, p);
    for (i = 0; i < 3 * RK_POOL_MAG; i++)
        blk[i] = rk_pool_alloc(&a, 200);
    /* released by another cache: full magazines reach the depot */
    for (i = 0; i < 3 * RK_POOL_MAG; i++)
        rk_pool_release(&b, blk[i]);
    rk_pool_cache_flush(&b);
    rk_pool_cache_flush(&a);
    again = rk_pool_alloc(&a, 200);
    for (i = 0; i < 3 * RK_POOL_MAG; i++)
        found |= blk[i] == again;
    if (pooling(p))
        ck_assert_int_eq(found, 1);
    rk_pool_release(&a, again);
    rk_pool_free(p);
}
END_TEST

/* Every class, at both ends of its sizes: the block holds n bytes, a block
 * released is the next one its cache gives (the inline paths), and sizes
 * past RK_POOL_MAX - RK_POOL_HDR come from malloc, outside the magazines. */
START_TEST(every_class_both_ends)
{
    rk_pool *p = rk_pool_new();
    rk_pool_cache c;
    void *b[2 * RK_POOL_CLASSES];
    size_t len[2 * RK_POOL_CLASSES], k, i, nb = 0;
    int pool = pooling(p);

    rk_pool_cache_init(&c, p);
    for (k = 1; k < RK_POOL_CLASSES; k++) {
        size_t lo = k == 1 ? 0 : (k - 1) * RK_POOL_GRAIN - RK_POOL_HDR + 1;
        size_t hi = k * RK_POOL_GRAIN - RK_POOL_HDR;
        void *x = rk_pool_alloc(&c, lo), *y;
        ck_assert_ptr_nonnull(x);
        if (pool) { /* refilled, one taken (fewer blocks at a slab's end) */
            ck_assert_uint_eq(c.cap[k], RK_POOL_MAG);
            ck_assert_uint_lt(c.n[k], RK_POOL_MAG);
        }
        rk_pool_release(&c, x);
        y = rk_pool_alloc(&c, hi);
        if (pool)
            ck_assert_ptr_eq(x, y); /* the same class, the same magazine */
        len[nb] = hi;
        b[nb++] = y;
        len[nb] = lo;
        b[nb++] = rk_pool_alloc(&c, lo);
        ck_assert_ptr_nonnull(b[nb - 1]);
    }
    for (i = 0; i < nb; i++)
        memset(b[i], (int)i, len[i]);
    for (i = 0; i < nb; i++) {
        size_t j;
        for (j = 0; j < len[i]; j++)
            ck_assert_uint_eq(((unsigned char *)b[i])[j], i & 0xff);
    }
    b[nb] = rk_pool_alloc(&c, RK_POOL_MAX - RK_POOL_HDR + 1);
    ck_assert_ptr_nonnull(b[nb]);
    memset(b[nb], 7, RK_POOL_MAX - RK_POOL_HDR + 1);
    ck_assert_uint_eq(c.cap[0], 0); /* class 0 never has a magazine */
    for (i = 0; i <= nb; i++)
        rk_pool_release(&c, b[i]);
    rk_pool_cache_flush(&c);
    for (k = 0; k < RK_POOL_CLASSES; k++)
        ck_assert_uint_eq(c.cap[k], 0);
    rk_pool_free(p);
}
END_TEST

/* A magazine runs empty and is refilled (from a slab, then from the depot),
 * runs full and is spilled to the depot, where another cache finds it
 * without a flush. */
START_TEST(magazines_empty_and_full)
{
    rk_pool *p = rk_pool_new();
    rk_pool_cache a, b;
    void *blk[2 * RK_POOL_MAG + 1], *more[RK_POOL_MAG], *x;
    size_t i, k = (RK_POOL_HDR + 100 + RK_POOL_GRAIN - 1) / RK_POOL_GRAIN;
    int pool = pooling(p), found = 0;

    rk_pool_cache_init(&a, p);
    rk_pool_cache_init(&b, p);
    for (i = 0; i < 2 * RK_POOL_MAG + 1; i++) {
        blk[i] = rk_pool_alloc(&a, 100);
        ck_assert_ptr_nonnull(blk[i]);
        memset(blk[i], (int)i, 100);
        if (pool) /* refilled from the slab at 0, RK_POOL_MAG, 2 * RK_POOL_MAG */
            ck_assert_uint_eq(a.n[k], RK_POOL_MAG - 1 - i % RK_POOL_MAG);
    }
    for (i = 0; i < 2 * RK_POOL_MAG + 1; i++) {
        size_t j;
        for (j = 0; j < 100; j++)
            ck_assert_uint_eq(((unsigned char *)blk[i])[j], i & 0xff);
        rk_pool_release(&b, blk[i]);
        if (pool) /* spilled when full, at RK_POOL_MAG and 2 * RK_POOL_MAG */
            ck_assert_uint_eq(b.n[k], i % RK_POOL_MAG + 1);
    }
    /* a's magazine has RK_POOL_MAG - 1 blocks: empty it, then the next
     * comes from a magazine b spilled */
    for (i = 0; i < RK_POOL_MAG - 1; i++)
        more[i] = rk_pool_alloc(&a, 100);
    x = rk_pool_alloc(&a, 100);
    ck_assert_ptr_nonnull(x);
    for (i = 0; i < 2 * RK_POOL_MAG + 1; i++)
        found |= blk[i] == x;
    if (pool) {
        ck_assert_int_eq(found, 1);
        ck_assert_uint_eq(a.n[k], RK_POOL_MAG - 1);
    }
    rk_pool_release(&a, x);
    for (i = 0; i < RK_POOL_MAG - 1; i++)
        rk_pool_release(&a, more[i]);
    rk_pool_cache_flush(&a);
    rk_pool_cache_flush(&b);
    rk_pool_cache_flush(&b); /* nothing left: nothing to do */
    rk_pool_free(p);
}
END_TEST

/* More of the largest class than a slab holds: magazines filled at a
 * slab's end hold fewer blocks, and no two blocks overlap. */
#define BIG (3 * (1024 * 1024 / RK_POOL_MAX))
START_TEST(slabs_run_out)
{
    rk_pool *p = rk_pool_new();
    rk_pool_cache c;
    size_t n = RK_POOL_MAX - RK_POOL_HDR, i, j;
    unsigned char **b = calloc(BIG, sizeof *b);
    int partial = 0;

    ck_assert_ptr_nonnull(b);
    rk_pool_cache_init(&c, p);
    for (i = 0; i < BIG; i++) {
        int fresh = c.n[RK_POOL_CLASSES - 1] == 0;
        b[i] = rk_pool_alloc(&c, n);
        ck_assert_ptr_nonnull(b[i]);
        ck_assert_uint_eq((uintptr_t)b[i] % 16, 0);
        if (fresh && pooling(p) && c.n[RK_POOL_CLASSES - 1] < RK_POOL_MAG - 1)
            partial = 1;
        memset(b[i], (int)(i * 7), n);
    }
    if (pooling(p))
        ck_assert_int_eq(partial, 1);
    for (i = 0; i < BIG; i++) {
        for (j = 0; j < n; j++)
            ck_assert_uint_eq(b[i][j], (unsigned char)(i * 7));
        rk_pool_release(&c, b[i]);
    }
    rk_pool_free(p);
    free(b);
}
END_TEST

/* A pooled block released where its pool's cache is not given stays with
 * the pool (freed by rk_pool_free, not by free). */
START_TEST(pooled_block_without_its_cache)
{
    rk_pool *p = rk_pool_new();
    rk_pool_cache c, none;
    void *x;

    rk_pool_cache_init(&c, p);
    rk_pool_cache_init(&none, NULL);
    x = rk_pool_alloc(&c, 40);
    ck_assert_ptr_nonnull(x);
    rk_pool_release(NULL, x);
    x = rk_pool_alloc(&c, 40);
    rk_pool_release(&none, x);
    x = rk_pool_alloc(&none, 40); /* a NULL pool's cache mallocs */
    ck_assert_ptr_nonnull(x);
    rk_pool_release(&none, x);
    rk_pool_free(p);
}
END_TEST

/* One thread allocates and fills blocks, another checks and releases them
 * (as the replay's reader and fold do), through a ring of pointers. */
#define RING 1024
#define ROUNDS 200000
struct ring {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    void *slot[RING];
    size_t len[RING];
    size_t head, tail; /* produced, consumed */
    rk_pool *pool;
    int bad;
};

static void *consume(void *arg)
{
    struct ring *r = arg;
    rk_pool_cache c;
    size_t k, j;

    rk_pool_cache_init(&c, r->pool);
    for (k = 0; k < ROUNDS; k++) {
        unsigned char *b;
        size_t n;
        pthread_mutex_lock(&r->mu);
        while (r->tail == r->head)
            pthread_cond_wait(&r->cv, &r->mu);
        b = r->slot[r->tail % RING];
        n = r->len[r->tail % RING];
        r->tail++;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        for (j = 0; j < n; j++)
            if (b[j] != (unsigned char)(k + j))
                r->bad = 1;
        rk_pool_release(&c, b);
    }
    rk_pool_cache_flush(&c);
    return NULL;
}

START_TEST(one_allocates_another_releases)
{
    struct ring *r = calloc(1, sizeof *r);
    rk_pool_cache c;
    pthread_t th;
    size_t k, j;

    ck_assert_ptr_nonnull(r);
    r->pool = rk_pool_new();
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    rk_pool_cache_init(&c, r->pool);
    ck_assert_int_eq(pthread_create(&th, NULL, consume, r), 0);
    for (k = 0; k < ROUNDS; k++) {
        size_t n = (k * 37) % 1500;
        unsigned char *b = rk_pool_alloc(&c, n);
        ck_assert_ptr_nonnull(b);
        for (j = 0; j < n; j++)
            b[j] = (unsigned char)(k + j);
        pthread_mutex_lock(&r->mu);
        while (r->head - r->tail == RING)
            pthread_cond_wait(&r->cv, &r->mu);
        r->slot[r->head % RING] = b;
        r->len[r->head % RING] = n;
        r->head++;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
    pthread_join(th, NULL);
    ck_assert_int_eq(r->bad, 0);
    rk_pool_free(r->pool);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("pool");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, sizes_and_alignment);
    tcase_add_test(tc, null_cache_mallocs);
    tcase_add_test(tc, blocks_are_reused_across_caches);
    tcase_add_test(tc, every_class_both_ends);
    tcase_add_test(tc, magazines_empty_and_full);
    tcase_add_test(tc, slabs_run_out);
    tcase_add_test(tc, pooled_block_without_its_cache);
    tcase_add_test(tc, one_allocates_another_releases);
    suite_add_tcase(s, tc);
    return s;
}
