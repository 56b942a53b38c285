/*
 * test_pool.c - the block pool of the replay (engine/pool.h): sizes and
 * alignment, malloc for big blocks and NULL caches, reuse through the
 * depot, and one thread allocating while another releases (the replay's
 * pattern), with every block's bytes checked.
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
    tcase_add_test(tc, one_allocates_another_releases);
    suite_add_tcase(s, tc);
    return s;
}
