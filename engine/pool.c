/*
 * pool.c - a pool of small blocks for the replay's events and rows
 * (pool.h says why and how).
 *
 * Every block starts with a 16-byte header whose first word is its class:
 * 0 for a block from malloc, k >= 1 for a pooled block of k * 64 bytes.
 * Slabs and magazines are linked into lists of the pool through their
 * first word, for rk_pool_free.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

#define HDR 16                  /* header bytes before each block's payload */
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

struct rk_pool_mag {
    rk_pool_mag *next;   /* in a depot list */
    rk_pool_mag *all;    /* every magazine of the pool, for rk_pool_free */
    uint32_t n;          /* blocks in b[0..n) */
    void *b[RK_POOL_MAG];
};

struct rk_pool {
    pthread_mutex_t mu;
    rk_pool_mag *full[RK_POOL_CLASSES];  /* depot: magazines holding blocks (all
                                          * RK_POOL_MAG, but for flushed ones) */
    rk_pool_mag *empty;                  /* depot: magazines holding none (any class) */
    rk_pool_mag *mags;                   /* every magazine, linked through `all` */
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
    rk_pool_mag *m, *mn;
    char *s, *n;

    if (pool == NULL)
        return;
    for (m = pool->mags; m != NULL; m = mn) {
        mn = m->all;
        free(m);
    }
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

/* An empty magazine from the depot, or a new one; NULL when out of memory.
 * Under the pool's lock. */
static rk_pool_mag *mag_empty(rk_pool *p)
{
    rk_pool_mag *m = p->empty;

    if (m != NULL) {
        p->empty = m->next;
        return m;
    }
    m = malloc(sizeof *m);
    if (m == NULL)
        return NULL;
    m->all = p->mags;
    p->mags = m;
    m->n = 0;
    return m;
}

/*
 * A full magazine of class k for c, whose own is empty (or absent): a full
 * one from the depot in exchange for c's, else c's (or a new one) filled
 * with blocks carved from the newest slab (a new slab when it has no room
 * for one).  c keeps its magazine empty only when memory is out.
 */
static void refill(rk_pool_cache *c, uint32_t k)
{
    rk_pool *p = c->pool;
    size_t size = (size_t)k * RK_POOL_GRAIN;
    rk_pool_mag *m = c->mag[k];

    pthread_mutex_lock(&p->mu);
    if (p->full[k] != NULL) {
        if (m != NULL) {
            m->next = p->empty;
            p->empty = m;
        }
        m = p->full[k];
        p->full[k] = m->next;
        c->mag[k] = m;
        pthread_mutex_unlock(&p->mu);
        return;
    }
    if (m == NULL && (m = c->mag[k] = mag_empty(p)) == NULL) {
        pthread_mutex_unlock(&p->mu);
        return;
    }
    while (m->n < RK_POOL_MAG) {
        if ((size_t)(p->end - p->bump) < size) {
            char *s = malloc(SLAB);
            if (s == NULL)
                break;
            memcpy(s, &p->slabs, sizeof p->slabs);
            p->slabs = s;
            p->bump = s + HDR; /* blocks stay aligned to 16 */
            p->end = s + SLAB;
        }
        memcpy(p->bump, &k, sizeof k);
        m->b[m->n++] = p->bump;
        p->bump += size;
    }
    pthread_mutex_unlock(&p->mu);
}

/* Room in c's magazine of class k, which is full: it goes to the depot, an
 * empty one comes back.  0, or -1 when out of memory (no magazine). */
static int spill(rk_pool_cache *c, uint32_t k)
{
    rk_pool *p = c->pool;
    rk_pool_mag *m = c->mag[k], *e;

    pthread_mutex_lock(&p->mu);
    e = mag_empty(p);
    if (e != NULL) {
        m->next = p->full[k];
        p->full[k] = m;
        c->mag[k] = e;
    }
    pthread_mutex_unlock(&p->mu);
    return e != NULL ? 0 : -1;
}

void rk_pool_cache_flush(rk_pool_cache *c)
{
    rk_pool *p = c->pool;
    uint32_t k;

    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    for (k = 1; k < RK_POOL_CLASSES; k++) {
        rk_pool_mag *m = c->mag[k];
        if (m == NULL)
            continue;
        c->mag[k] = NULL;
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

void *rk_pool_alloc(rk_pool_cache *c, size_t n)
{
    uint32_t k, zero = 0;
    rk_pool_mag *m;
    char *b;

    if (c == NULL || c->pool == NULL || n > RK_POOL_MAX - HDR) {
        b = malloc(HDR + n);
        if (b == NULL)
            return NULL;
        memcpy(b, &zero, sizeof zero);
        return b + HDR;
    }
    k = (uint32_t)((HDR + n + RK_POOL_GRAIN - 1) / RK_POOL_GRAIN);
    m = c->mag[k];
    if (m == NULL || m->n == 0) {
        refill(c, k);
        m = c->mag[k];
        if (m == NULL || m->n == 0)
            return NULL;
    }
    b = m->b[--m->n];
    return b + HDR;
}

void rk_pool_release(rk_pool_cache *c, void *blk)
{
    rk_pool_mag *m;
    char *b;
    uint32_t k;

    if (blk == NULL)
        return;
    b = (char *)blk - HDR;
    memcpy(&k, b, sizeof k);
    if (k == 0) {
        free(b);
        return;
    }
    if (c == NULL || c->pool == NULL)
        return; /* a pooled block without its pool's cache: it goes with the pool */
    m = c->mag[k];
    if (m == NULL || m->n == RK_POOL_MAG) {
        rk_pool *p = c->pool;
        if (m == NULL) {
            pthread_mutex_lock(&p->mu);
            m = c->mag[k] = mag_empty(p);
            pthread_mutex_unlock(&p->mu);
        } else if (spill(c, k) == 0) {
            m = c->mag[k];
        }
        if (m == NULL || m->n == RK_POOL_MAG)
            return; /* no magazine to be had: the block goes with the pool */
    }
    m->b[m->n++] = b;
}
