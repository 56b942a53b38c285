/*
 * ledger_int.h - storage details shared by ledger.c and verify.c only
 * (formats/storage.md).  Not a public header: tools never include it.
 */
#ifndef RK_LEDGER_INT_H
#define RK_LEDGER_INT_H

#include <stdint.h>

#include "bytes.h"
#include "merkle.h"
#include "store.h"

#define RK_STORAGE_VERSION 1
#define RK_HEAD_VERSION 1
#define RK_MERKLE_KEY_SIZE 9
/*
 * Perfect subtrees are stored from this level up (16 leaves and more);
 * smaller ones are recomputed from at most 8 consecutive records.  Storing
 * every leaf and node would triple the writes of each append.
 */
#define RK_MERKLE_STORED_LEVEL 4

/* Keys of the meta column family ("default"). */
#define RK_META_FORMAT "format"         /* 1 byte: storage version */
#define RK_META_ORIGIN "origin"         /* the origin name */
#define RK_META_HEAD "head"             /* struct rk_head, see rk_head_encode */
#define RK_META_CHECKPOINT "checkpoint" /* 8 bytes: seq of the latest checkpoint */

/* The committed head of the chain. */
struct rk_head {
    uint64_t size;                 /* records in the chain = next seq */
    uint8_t hash[RK_HASH_SIZE];    /* hash of record size-1 */
    int64_t last_time;             /* recorded-at of record size-1 */
    rk_merkle_frontier frontier;   /* Merkle right edge over size leaves */
};

rk_err rk_head_encode(const struct rk_head *h, rk_buf *out);
rk_err rk_head_decode(struct rk_head *h, const uint8_t *p, size_t len, char *err);

/* Key of perfect subtree (level, index) in the merkle column family. */
void rk_merkle_key(uint8_t key[RK_MERKLE_KEY_SIZE], unsigned level, uint64_t index);

/* rk_merkle_get_fn over a store's merkle column family; ctx is the rk_store. */
rk_err rk_store_merkle_get(void *ctx, unsigned level, uint64_t index,
                           uint8_t out[RK_HASH_SIZE], char *err);

#endif
