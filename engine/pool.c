/*
 * pool.c - a pool of small blocks for the replay's events and rows
 * (pool.h says why and how; the fast paths of rk_pool_alloc and
 * rk_pool_release are inline there, the rest is here).
 *
 * Every block starts with a RK_POOL_HDR-byte header whose first word is its
 * class: 0 for a block from malloc, k >= 1 for a pooled block of k * 64
 * bytes.  Magazines hold the blocks' payload addresses, the ones callers
 * see.  Slabs are linked into a list of the pool through their first word,
 * for rk_pool_free; magazines are carved from the slabs like blocks, so
 * they go with them.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

#define HDR RK_POOL_HDR
#define SLAB (1024 * 1024)      /* bytes per slab, its link included */

/* Built with AddressSanitizer, every block comes from malloc (pool.h). */
#if defined(__SANITIZE_ADDRESS__)
#define MALLOC_ONLY 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MALLOC_ONLY 1
#endif
#endif
#ifndef MALLOC_ONLY
#define MALLOC_ONLY 0
#endif

/* A magazine.  While a cache holds it, the cache (pool.h) has its count
 * and n is stale; in a depot, n is the count. */
typedef struct rk_pool_mag {
    struct rk_pool_mag *next;   /* in a depot list */
    uint32_t n;                 /* blocks in b[0..n) */
    void *b[RK_POOL_MAG];
} rk_pool_mag;

/* A magazine's bytes in a slab, rounded up so that what is carved after it
 * stays aligned to 16. */
#define MAG_BYTES ((sizeof(rk_pool_mag) + 15) / 16 * 16)

struct rk_pool {
    pthread_mutex_t mu;
    rk_pool_mag *full[RK_POOL_CLASSES];  /* depot: magazines holding blocks (all
                                          * RK_POOL_MAG, but for flushed ones and
                                          * ones filled at a slab's end) */
    rk_pool_mag *empty;                  /* depot: magazines holding none (any class) */
    char *slabs;                         /* every slab, linked through its first word */
    char *bump, *end;                    /* the unused rest of the newest slab */
};

rk_pool *rk_pool_new(void)
{
    rk_pool *p = calloc(1, sizeof *p);

    if (p != NULL && pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

void rk_pool_free(rk_pool *pool)
{
    char *s, *n;

    if (pool == NULL)
        return;
    for (s = pool->slabs; s != NULL; s = n) {
        memcpy(&n, s, sizeof n);
        free(s);
    }
    pthread_mutex_destroy(&pool->mu);
    free(pool);
}

void rk_pool_cache_init(rk_pool_cache *c, rk_pool *pool)
{
    memset(c, 0, sizeof *c);
    c->pool = MALLOC_ONLY ? NULL : pool;
}

/* The magazine of class k c holds, or NULL. */
static rk_pool_mag *held(const rk_pool_cache *c, uint32_t k)
{
    if (c->cap[k] == 0)
        return NULL;
    return (rk_pool_mag *)(void *)((char *)c->b[k] - offsetof(rk_pool_mag, b));
}

/* c holds m (whose count is m->n) as its magazine of class k. */
static void hold(rk_pool_cache *c, uint32_t k, rk_pool_mag *m)
{
    c->b[k] = m->b;
    c->n[k] = m->n;
    c->cap[k] = RK_POOL_MAG;
}

/* At least `size` bytes at p->bump, with a new slab when the newest has
 * less; -1 when out of memory.  Under the pool's lock. */
static int room(rk_pool *p, size_t size)
{
    char *s;

    if ((size_t)(p->end - p->bump) >= size)
        return 0;
    s = malloc(SLAB);
    if (s == NULL)
        return -1;
    memcpy(s, &p->slabs, sizeof p->slabs);
    p->slabs = s;
    p->bump = s + HDR; /* blocks stay aligned to 16 */
    p->end = s + SLAB;
    return 0;
}

/* An empty magazine (n 0) from the depot, or a new one carved from the
 * newest slab; NULL when out of memory.  Under the pool's lock. */
static rk_pool_mag *mag_empty(rk_pool *p)
{
    rk_pool_mag *m = p->empty;

    if (m != NULL) {
        p->empty = m->next;
        return m;
    }
    if (room(p, MAG_BYTES) != 0)
        return NULL;
    m = (rk_pool_mag *)(void *)p->bump;
    p->bump += MAG_BYTES;
    m->n = 0;
    return m;
}

/*
 * Blocks of class k in c, which has none (an empty magazine of the class,
 * or no magazine): a full magazine from the depot in exchange for c's,
 * else c's (or a new one) filled with blocks carved from the newest slab:
 * as many as it has room for, up to RK_POOL_MAG (a new slab when it has no
 * room for one).  The run is taken under the lock, the headers are written
 * after it.  c stays without blocks only when memory is out.
 */
static void refill(rk_pool_cache *c, uint32_t k)
{
    rk_pool *p = c->pool;
    size_t size = (size_t)k * RK_POOL_GRAIN, have, i;
    rk_pool_mag *m = held(c, k);
    char *run;

    pthread_mutex_lock(&p->mu);
    if (p->full[k] != NULL) {
        if (m != NULL) { /* empty: c has no blocks */
            m->n = 0;
            m->next = p->empty;
            p->empty = m;
        }
        m = p->full[k];
        p->full[k] = m->next;
        pthread_mutex_unlock(&p->mu);
        hold(c, k, m);
        return;
    }
    if (m == NULL && (m = mag_empty(p)) == NULL) {
        pthread_mutex_unlock(&p->mu);
        return;
    }
    if (room(p, size) != 0) {
        pthread_mutex_unlock(&p->mu);
        m->n = 0;
        hold(c, k, m);
        return;
    }
    have = (size_t)(p->end - p->bump) / size;
    if (have > RK_POOL_MAG)
        have = RK_POOL_MAG;
    run = p->bump;
    p->bump += have * size;
    pthread_mutex_unlock(&p->mu);
    /* the run is this thread's alone now */
    for (i = 0; i < have; i++, run += size) {
        memcpy(run, &k, sizeof k);
        m->b[i] = run + HDR;
    }
    m->n = (uint32_t)have;
    hold(c, k, m);
}

void *rk_pool_alloc_slow(rk_pool_cache *c, size_t n)
{
    uint32_t k, zero = 0;
    char *b;

    if (c == NULL || c->pool == NULL || n > RK_POOL_MAX - HDR) {
        b = malloc(HDR + n);
        if (b == NULL)
            return NULL;
        memcpy(b, &zero, sizeof zero);
        return b + HDR;
    }
    k = (uint32_t)((HDR + n + RK_POOL_GRAIN - 1) / RK_POOL_GRAIN);
    if (c->n[k] == 0) {
        refill(c, k);
        if (c->n[k] == 0)
            return NULL;
    }
    return c->b[k][--c->n[k]];
}

void rk_pool_release_slow(rk_pool_cache *c, void *blk)
{
    rk_pool_mag *m, *e;
    rk_pool *p;
    uint32_t k;

    if (blk == NULL)
        return;
    memcpy(&k, (char *)blk - HDR, sizeof k);
    if (k == 0) {
        free((char *)blk - HDR);
        return;
    }
    if (c == NULL || (p = c->pool) == NULL)
        return; /* a pooled block without its pool's cache: it goes with the pool */
    if (c->n[k] == c->cap[k]) {
        /* no magazine, or a full one: that one goes to the depot, an empty
         * one comes back */
        m = held(c, k);
        pthread_mutex_lock(&p->mu);
        e = mag_empty(p);
        if (e != NULL && m != NULL) {
            m->n = c->n[k];
            m->next = p->full[k];
            p->full[k] = m;
        }
        pthread_mutex_unlock(&p->mu);
        if (e == NULL)
            return; /* no magazine to be had: the block goes with the pool */
        hold(c, k, e);
    }
    c->b[k][c->n[k]++] = blk;
}

void rk_pool_cache_flush(rk_pool_cache *c)
{
    rk_pool *p = c->pool;
    uint32_t k;

    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    for (k = 1; k < RK_POOL_CLASSES; k++) {
        rk_pool_mag *m = held(c, k);
        if (m == NULL)
            continue;
        m->n = c->n[k];
        c->n[k] = c->cap[k] = 0;
        c->b[k] = NULL;
        /* a depot's "full" magazine holds at least one block: a partial
         * one serves as well, it only runs out sooner */
        if (m->n > 0) {
            m->next = p->full[k];
            p->full[k] = m;
        } else {
            m->next = p->empty;
            p->empty = m;
        }
    }
    pthread_mutex_unlock(&p->mu);
}
