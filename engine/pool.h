/*
 * pool.h - a pool of small blocks for the replay's events and rows
 * (internal: planes.c and replay.c only).
 *
 * A replay allocates one block per provider event, commerce row and
 * finance row it reads (the event or row with its strings), on the thread
 * that reads the body, and frees it on the fold thread when the payment is
 * compacted.  With malloc, every such block crosses threads: the reader's
 * allocations never find the blocks the fold freed in their own thread
 * cache, and each free takes the lock of another thread's arena.  The pool
 * keeps the blocks of one fold instead, in size classes of 64 bytes up to
 * RK_POOL_MAX, carved from slabs it frees all at once with the pool.  Free
 * blocks travel in magazines (arrays of RK_POOL_MAG block pointers), so
 * moving them never touches the blocks themselves:
 *
 *   rk_pool        the slabs (magazines are carved from them too), per
 *                  class a depot of full magazines and one of empty ones,
 *                  shared by the threads under a mutex;
 *   rk_pool_cache  one thread's magazine per class: allocation takes from
 *                  it and release puts into it without a lock; an empty
 *                  one is exchanged for a full one at the depot (or filled
 *                  from a slab), a full one for an empty one, so the
 *                  threads meet once per RK_POOL_MAG blocks, not per block.
 *
 * The common case, a block taken from or put into the thread's own
 * magazine, is inline below (a dozen instructions, no call, the class of
 * a constant size folded at compile time); everything else, the depot,
 * slabs, malloc and NULL arguments, is out of line in pool.c.
 *
 * A cache is used by one thread at a time.  Memory stays bounded by the
 * blocks alive at once plus the magazines' (blocks released are reused, by
 * any thread, once their magazine reaches the depot); slabs go back to the
 * system only with rk_pool_free.  Blocks above RK_POOL_MAX, and every block
 * when the cache given is NULL, come from malloc (their header says so) and
 * go back to free.  Built with AddressSanitizer, every block comes from
 * malloc, so that use after release and overflows are still caught.
 */
#ifndef RK_POOL_H
#define RK_POOL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define RK_POOL_GRAIN 64    /* class k holds blocks of k * 64 bytes, header included */
#define RK_POOL_MAX 2048    /* the largest pooled block, header included */
#define RK_POOL_CLASSES (RK_POOL_MAX / RK_POOL_GRAIN + 1) /* class 0: from malloc */
#define RK_POOL_MAG 128     /* block pointers per magazine */
#define RK_POOL_HDR 16      /* header before each block (its class), keeps 16-alignment */

typedef struct rk_pool rk_pool;

/*
 * One thread's cache.  Per class k, the magazine it holds is seen as the
 * array b[k] of its block pointers (payload addresses), of which
 * b[k][0..n[k]) are free blocks, and its room cap[k]: RK_POOL_MAG, or 0
 * when the cache holds no magazine of the class (b[k] NULL, n[k] 0).
 * Class 0 (blocks from malloc) never has one, so a release of such a block
 * always finds its class "full" and goes out of line to free.  The counts,
 * rooms and arrays are three arrays rather than one of structs so that
 * the inline paths index each with the class alone (an x86 addressing
 * mode scales by 4 or 8, not by 16).  Only pool.h and pool.c use the
 * fields but pool, which says whether the cache pools.
 */
typedef struct rk_pool_cache {
    rk_pool *pool;                   /* NULL: every block from malloc */
    uint32_t n[RK_POOL_CLASSES];     /* free blocks in b[k] */
    uint32_t cap[RK_POOL_CLASSES];   /* RK_POOL_MAG, or 0: no magazine */
    void **b[RK_POOL_CLASSES];       /* the magazine's block pointers */
} rk_pool_cache;

/* A new, empty pool, or NULL when out of memory. */
rk_pool *rk_pool_new(void);

/* Free every slab of the pool (every pooled block with it).  No cache of it
 * may be used afterwards.  Accepts NULL. */
void rk_pool_free(rk_pool *pool);

/* An empty cache of pool (NULL: a cache that only mallocs). */
void rk_pool_cache_init(rk_pool_cache *c, rk_pool *pool);

/* Give c's magazines back to the pool's depots; c is then empty.  For a
 * thread that stops using c while the pool lives on. */
void rk_pool_cache_flush(rk_pool_cache *c);

/* The out-of-line halves of rk_pool_alloc and rk_pool_release below (pool.c):
 * they take every case, the inline fast paths only save them the common one.
 * Not for direct use. */
void *rk_pool_alloc_slow(rk_pool_cache *c, size_t n);
void rk_pool_release_slow(rk_pool_cache *c, void *blk);

/* A block of at least n bytes, aligned to 16, or NULL when out of memory. */
static inline void *rk_pool_alloc(rk_pool_cache *c, size_t n)
{
    if (c != NULL && n <= RK_POOL_MAX - RK_POOL_HDR) {
        size_t k = (RK_POOL_HDR + n + RK_POOL_GRAIN - 1) / RK_POOL_GRAIN;
        if (c->n[k] > 0)
            return c->b[k][--c->n[k]];
    }
    return rk_pool_alloc_slow(c, n);
}

/* Release a block from rk_pool_alloc of any cache of the same pool (or from
 * malloc, as its header says).  Accepts NULL.  A pooled block is released
 * into c, so c must be a cache of the pool it came from. */
static inline void rk_pool_release(rk_pool_cache *c, void *blk)
{
    if (c != NULL && blk != NULL) {
        uint32_t k;
        memcpy(&k, (char *)blk - RK_POOL_HDR, sizeof k);
        if (c->n[k] < c->cap[k]) { /* never for class 0, nor without a magazine */
            c->b[k][c->n[k]++] = blk;
            return;
        }
    }
    rk_pool_release_slow(c, blk);
}

#endif
