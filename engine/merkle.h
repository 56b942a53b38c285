/*
 * merkle.h - the RFC 6962 Merkle tree over the ledger's records.
 *
 * The byte-level definitions live in formats/merkle.md; in short:
 *
 *   leaf hash   = SHA-256(0x00 || d)           d = the record's 32-byte hash
 *   node hash   = SHA-256(0x01 || left || right)
 *   empty root  = SHA-256("")
 *   MTH(D[n])   splits at k, the largest power of two strictly less than n
 *
 * The ledger never rebuilds the tree.  It keeps every *perfect aligned
 * subtree*: the subtree at (level L, index i) covers leaves
 * [i << L, (i + 1) << L) and its hash is MTH of those 2^L leaves; level 0
 * holds the leaf hashes.  A subtree exists once its last leaf is appended and
 * never changes afterwards.  rk_merkle_frontier_append reports each one as it
 * completes (so the caller can store it); the proof functions read them back
 * through an rk_merkle_get_fn, O(log n) lookups per proof (at most one
 * ragged right edge is decomposed; every other sibling is one subtree).
 * See formats/merkle.md for what the proofs do and do not bind: RFC 9162
 * binds the tree size only through the proof's shape, so verify against a
 * root that is signed together with its size.
 *
 * Everything here is allocation-free and keeps no global state.  Hashes are
 * 32 bytes (RK_HASH_SIZE).  Proof arrays are caller-owned.
 */
#ifndef RK_MERKLE_H
#define RK_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "error.h"

/* Levels of a tree of up to 2^64 - 1 leaves (levels 0..63). */
#define RK_MERKLE_MAX_LEVELS 64

/* Room a caller provides for a proof (in 32-byte hashes). */
#define RK_MERKLE_MAX_INCLUSION RK_MERKLE_MAX_LEVELS
#define RK_MERKLE_MAX_CONSISTENCY (2 * RK_MERKLE_MAX_LEVELS)

/* Version byte of the frontier encoding (formats/merkle.md). */
#define RK_MERKLE_FRONTIER_VERSION 1
/* Largest frontier encoding: version, size, 64 hashes. */
#define RK_MERKLE_FRONTIER_MAX_ENCODED (1 + 8 + RK_MERKLE_MAX_LEVELS * 32)

/* ---- hashing ----------------------------------------------------------- */

/*
 * out = SHA-256(0x00 || data[0..len)).  In the ledger data is the 32-byte
 * record hash; any length is accepted (the public test vectors use short
 * leaves).  data may be NULL when len is 0.
 */
void rk_merkle_leaf_hash(uint8_t out[32], const uint8_t *data, size_t len);

/* out = SHA-256(0x01 || left || right).  out may alias left or right. */
void rk_merkle_node_hash(uint8_t out[32], const uint8_t left[32],
                         const uint8_t right[32]);

/* out = SHA-256(""), the root of the tree with no leaves. */
void rk_merkle_empty_root(uint8_t out[32]);

/* ---- perfect-subtree source -------------------------------------------- */

/*
 * Write the hash of the perfect subtree (level, index) to out.  Called only
 * for subtrees that lie wholly inside the tree the caller asked about, i.e.
 * ((index + 1) << level) <= size.  Returns RK_OK, or an error (typically
 * RK_ERR_NOTFOUND, RK_ERR_IO or RK_ERR_CORRUPT) with detail in err (may be
 * NULL); the error is passed through to the caller of the proof function.
 */
typedef rk_err (*rk_merkle_get_fn)(void *ctx, unsigned level, uint64_t index,
                                   uint8_t out[32], char *err);

/*
 * Called by rk_merkle_frontier_append for the new leaf (level 0) and every
 * perfect subtree the append completes, lowest level first.  Returning an
 * error aborts the append (the frontier is left unchanged).
 */
typedef rk_err (*rk_merkle_emit_fn)(void *ctx, unsigned level, uint64_t index,
                                    const uint8_t hash[32]);

/* ---- frontier: incremental state --------------------------------------- */

/*
 * The right edge of the tree (the "compact range" [0, size)).  node[L] is
 * the hash of the perfect subtree at level L on the right edge and is valid
 * iff bit L of size is set; other slots are zero.  A plain value: copy it,
 * keep it on the stack, no cleanup.
 */
typedef struct rk_merkle_frontier {
    uint64_t size;
    uint8_t node[RK_MERKLE_MAX_LEVELS][32];
} rk_merkle_frontier;

/* The empty tree (size 0). */
void rk_merkle_frontier_init(rk_merkle_frontier *f);

/*
 * Append one leaf hash (already rk_merkle_leaf_hash'ed).  Calls emit (may be
 * NULL) for (0, size, leaf_hash) and for each (L, index, hash) completed,
 * then grows f->size by one.  O(log n) hashes.
 * RK_OK; RK_ERR_RANGE when the tree already holds 2^64 - 1 leaves; or the
 * error emit returned.  On any error f is unchanged.
 */
rk_err rk_merkle_frontier_append(rk_merkle_frontier *f,
                                 const uint8_t leaf_hash[32],
                                 rk_merkle_emit_fn emit, void *ctx);

/* MTH of the f->size leaves; the empty root when size is 0. */
void rk_merkle_frontier_root(const rk_merkle_frontier *f, uint8_t out[32]);

/*
 * Append the frontier's encoding (formats/merkle.md "Frontier encoding":
 * version byte, size BE64, popcount(size) hashes from the highest level to
 * the lowest) to out.  RK_OK or RK_ERR_NOMEM (out unchanged).
 */
rk_err rk_merkle_frontier_encode(const rk_merkle_frontier *f, rk_buf *out);

/*
 * Parse an encoding of exactly len bytes into f.  RK_OK; RK_ERR_VERSION for
 * an unknown version byte; RK_ERR_CORRUPT for a wrong length (empty,
 * truncated, extra bytes).  On error f is left initialised to the empty tree
 * and err (may be NULL) says what was wrong.
 */
rk_err rk_merkle_frontier_decode(rk_merkle_frontier *f, const uint8_t *p,
                                 size_t len, char *err)
    __attribute__((warn_unused_result));

/*
 * Rebuild the frontier of a tree of `size` leaves from stored perfect
 * subtrees: popcount(size) lookups.  RK_OK, or get's error (f is then the
 * empty tree).
 */
rk_err rk_merkle_frontier_load(rk_merkle_frontier *f, uint64_t size,
                               rk_merkle_get_fn get, void *ctx, char *err)
    __attribute__((warn_unused_result));

/* ---- roots and proofs from stored subtrees ----------------------------- */

/*
 * out = MTH(D[begin:end]), the RFC 6962 root of the leaves begin..end-1
 * (the empty root when begin == end).  For every node of the RFC 6962
 * recursion (begin a multiple of the power of two at or above end - begin,
 * e.g. begin 0) this takes at most 64 lookups; any other range is still
 * answered correctly but may take up to end - begin lookups.
 * RK_OK; RK_ERR_INVALID when begin > end; or get's error.
 */
rk_err rk_merkle_range_root(rk_merkle_get_fn get, void *ctx, uint64_t begin,
                            uint64_t end, uint8_t out[32], char *err)
    __attribute__((warn_unused_result));

/*
 * RFC 6962 section 2.1.1 PATH(index, D[0:size]), bottom (leaf side) first,
 * into proof[0..*n), at most RK_MERKLE_MAX_INCLUSION hashes.
 * RK_OK; RK_ERR_INVALID when index >= size (which includes size 0); or
 * get's error.
 */
rk_err rk_merkle_inclusion_proof(rk_merkle_get_fn get, void *ctx,
                                 uint64_t index, uint64_t size,
                                 uint8_t proof[][32], size_t *n, char *err)
    __attribute__((warn_unused_result));

/*
 * RFC 6962 section 2.1.2 PROOF(m, D[0:size]) into proof[0..*n), at most
 * RK_MERKLE_MAX_CONSISTENCY hashes.  m == 0 and m == size give the empty
 * proof (the RFCs define 0 < m < size only; formats/merkle.md).  RK_OK;
 * RK_ERR_INVALID when m > size; or get's error.
 */
rk_err rk_merkle_consistency_proof(rk_merkle_get_fn get, void *ctx,
                                   uint64_t m, uint64_t size,
                                   uint8_t proof[][32], size_t *n, char *err)
    __attribute__((warn_unused_result));

/* ---- verification (needs no stored state) ------------------------------ */

/*
 * RFC 9162 section 2.1.3.2: does proof[0..n) prove that leaf_hash is leaf
 * `index` of the tree of `size` leaves with root `root`?
 * RK_OK; RK_ERR_INVALID when index >= size or proof is NULL with n > 0;
 * RK_ERR_SIGNATURE when the proof does not verify (wrong hash, too few or
 * too many hashes).  Roots are compared in constant time.
 */
rk_err rk_merkle_verify_inclusion(const uint8_t leaf_hash[32], uint64_t index,
                                  uint64_t size, const uint8_t proof[][32],
                                  size_t n, const uint8_t root[32])
    __attribute__((warn_unused_result));

/*
 * RFC 9162 section 2.1.4.2: does proof[0..n) prove that the tree of m leaves
 * with root root_m is a prefix of the tree of `size` leaves with root_n?
 *   m == size: proof must be empty and root_m == root_n.
 *   m == 0:    proof must be empty and root_m the empty root.
 * RK_OK; RK_ERR_INVALID when m > size or proof is NULL with n > 0;
 * RK_ERR_SIGNATURE when the proof does not verify.
 */
rk_err rk_merkle_verify_consistency(uint64_t m, uint64_t size,
                                    const uint8_t root_m[32],
                                    const uint8_t root_n[32],
                                    const uint8_t proof[][32], size_t n)
    __attribute__((warn_unused_result));

/*
 * RFC 9162 section 2.1.3.2 steps 1-4 without the final compare: the root
 * that proof[0..n) yields for leaf_hash at index in a tree of size leaves,
 * into out.  RK_OK; RK_ERR_INVALID for index >= size; RK_ERR_SIGNATURE when
 * the proof has the wrong number of hashes.  Used to name the root a bad
 * proof leads to in a damage report.
 */
rk_err rk_merkle_root_from_inclusion(const uint8_t leaf_hash[32],
                                     uint64_t index, uint64_t size,
                                     const uint8_t proof[][32], size_t n,
                                     uint8_t out[32])
    __attribute__((warn_unused_result));

#endif
