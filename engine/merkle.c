/* merkle.c - RFC 6962 hashing, the frontier, proofs from perfect subtrees. */
#include "merkle.h"

#include <string.h>

#include <openssl/crypto.h>
#include <sodium.h>

/* Leaves up to this many bytes are hashed from one stack buffer. */
#define LEAF_STACK_MAX 64

/* ---- hashing ----------------------------------------------------------- */

void rk_merkle_leaf_hash(uint8_t out[32], const uint8_t *data, size_t len)
{
    uint8_t buf[1 + LEAF_STACK_MAX];
    crypto_hash_sha256_state st;

    if (len <= LEAF_STACK_MAX) {
        /* the hot path: ledger leaves are 32 bytes */
        buf[0] = 0x00;
        if (len > 0)
            memcpy(buf + 1, data, len);
        rk_sha256(out, buf, 1 + len);
        return;
    }
    /* longer leaves stream through libsodium, which needs no allocation */
    buf[0] = 0x00;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, buf, 1);
    crypto_hash_sha256_update(&st, data, len);
    crypto_hash_sha256_final(&st, out);
}

void rk_merkle_node_hash(uint8_t out[32], const uint8_t left[32],
                         const uint8_t right[32])
{
    uint8_t buf[65];

    buf[0] = 0x01;
    memcpy(buf + 1, left, 32);
    memcpy(buf + 33, right, 32);
    rk_sha256(out, buf, sizeof buf);
}

void rk_merkle_empty_root(uint8_t out[32])
{
    rk_sha256(out, "", 0);
}

/* ---- small helpers ----------------------------------------------------- */

/* The largest power of two strictly less than n; n >= 2. */
static uint64_t split_point(uint64_t n)
{
    return (uint64_t)1 << (63 - __builtin_clzll(n - 1));
}

static unsigned log2_exact(uint64_t pow2)
{
    return (unsigned)__builtin_ctzll(pow2);
}

static int hash_eq(const uint8_t a[32], const uint8_t b[32])
{
    return CRYPTO_memcmp(a, b, 32) == 0;
}

/* Reverse proof[0..n) in place: the walks below collect top-down. */
static void reverse(uint8_t proof[][32], size_t n)
{
    uint8_t t[32];
    size_t i;

    for (i = 0; i < n / 2; i++) {
        memcpy(t, proof[i], 32);
        memcpy(proof[i], proof[n - 1 - i], 32);
        memcpy(proof[n - 1 - i], t, 32);
    }
}

/* One lookup, with the subtree named in the error message. */
static rk_err fetch(rk_merkle_get_fn get, void *ctx, unsigned level,
                    uint64_t index, uint8_t out[32], char *err)
{
    rk_err rc;

    if (err != NULL)
        err[0] = '\0';
    rc = get(ctx, level, index, out, err);
    if (rc == RK_OK)
        return RK_OK;
    if (err == NULL || err[0] == '\0')
        return rk_seterr(err, rc, "merkle subtree (%u, %llu): %s", level,
                         (unsigned long long)index, rk_strerror(rc));
    return rk_preferr(err, rc, "merkle subtree (%u, %llu)", level,
                      (unsigned long long)index);
}

/* ---- frontier ---------------------------------------------------------- */

void rk_merkle_frontier_init(rk_merkle_frontier *f)
{
    memset(f, 0, sizeof *f);
}

rk_err rk_merkle_frontier_append(rk_merkle_frontier *f,
                                 const uint8_t leaf_hash[32],
                                 rk_merkle_emit_fn emit, void *ctx)
{
    uint8_t carry[32];
    uint64_t old = f->size;
    unsigned level = 0;
    rk_err rc;

    if (old == UINT64_MAX)
        return RK_ERR_RANGE;
    memcpy(carry, leaf_hash, 32);
    if (emit != NULL) {
        rc = emit(ctx, 0, old, carry);
        if (rc != RK_OK)
            return rc;
    }
    /* each set low bit of the old size is a left sibling waiting for us */
    while (old >> level & 1) {
        rk_merkle_node_hash(carry, f->node[level], carry);
        level++;
        if (emit != NULL) {
            rc = emit(ctx, level, old >> level, carry);
            if (rc != RK_OK)
                return rc;
        }
    }
    memcpy(f->node[level], carry, 32);
    if (level > 0)
        memset(f->node, 0, (size_t)level * 32);
    f->size = old + 1;
    return RK_OK;
}

void rk_merkle_frontier_root(const rk_merkle_frontier *f, uint8_t out[32])
{
    uint8_t r[32];
    unsigned level;
    int have = 0;

    if (f->size == 0) {
        rk_merkle_empty_root(out);
        return;
    }
    /* fold right to left: the smallest subtree is the deepest right child */
    for (level = 0; level < RK_MERKLE_MAX_LEVELS; level++) {
        if (!(f->size >> level & 1))
            continue;
        if (!have) {
            memcpy(r, f->node[level], 32);
            have = 1;
        } else {
            rk_merkle_node_hash(r, f->node[level], r);
        }
    }
    memcpy(out, r, 32);
}

rk_err rk_merkle_frontier_encode(const rk_merkle_frontier *f, rk_buf *out)
{
    uint8_t buf[RK_MERKLE_FRONTIER_MAX_ENCODED];
    size_t len = 9;
    int level;

    buf[0] = RK_MERKLE_FRONTIER_VERSION;
    rk_put_be64(buf + 1, f->size);
    for (level = RK_MERKLE_MAX_LEVELS - 1; level >= 0; level--) {
        if (f->size >> level & 1) {
            memcpy(buf + len, f->node[level], 32);
            len += 32;
        }
    }
    return rk_buf_append(out, buf, len);
}

rk_err rk_merkle_frontier_decode(rk_merkle_frontier *f, const uint8_t *p,
                                 size_t len, char *err)
{
    uint64_t size;
    size_t want, off = 9;
    int level;

    rk_merkle_frontier_init(f);
    if (len == 0)
        return rk_seterr(err, RK_ERR_CORRUPT, "merkle frontier: empty");
    if (p[0] != RK_MERKLE_FRONTIER_VERSION)
        return rk_seterr(err, RK_ERR_VERSION,
                         "merkle frontier: unknown version %u", p[0]);
    if (len < 9)
        return rk_seterr(err, RK_ERR_CORRUPT,
                         "merkle frontier: truncated at %zu bytes", len);
    size = rk_get_be64(p + 1);
    want = 9 + 32 * (size_t)__builtin_popcountll(size);
    if (len != want)
        return rk_seterr(err, RK_ERR_CORRUPT,
                         "merkle frontier: %zu bytes, size %llu needs %zu",
                         len, (unsigned long long)size, want);
    for (level = RK_MERKLE_MAX_LEVELS - 1; level >= 0; level--) {
        if (size >> level & 1) {
            memcpy(f->node[level], p + off, 32);
            off += 32;
        }
    }
    f->size = size;
    return RK_OK;
}

rk_err rk_merkle_frontier_load(rk_merkle_frontier *f, uint64_t size,
                               rk_merkle_get_fn get, void *ctx, char *err)
{
    int level;
    rk_err rc;

    rk_merkle_frontier_init(f);
    if (get == NULL)
        return rk_seterr(err, RK_ERR_INVALID, "merkle: no subtree source");
    for (level = RK_MERKLE_MAX_LEVELS - 1; level >= 0; level--) {
        if (!(size >> level & 1))
            continue;
        /* the right-edge subtree at this level is the last whole one */
        rc = fetch(get, ctx, (unsigned)level, (size >> level) - 1,
                   f->node[level], err);
        if (rc != RK_OK) {
            rk_merkle_frontier_init(f);
            return rc;
        }
    }
    f->size = size;
    return RK_OK;
}

/* ---- roots and proofs -------------------------------------------------- */

/* MTH(D[begin:end]) for end > begin; recursion depth is at most 64. */
static rk_err range_root(rk_merkle_get_fn get, void *ctx, uint64_t begin,
                         uint64_t end, uint8_t out[32], char *err)
{
    uint64_t n = end - begin, k;
    uint8_t left[32], right[32];
    rk_err rc;

    if ((n & (n - 1)) == 0 && (begin & (n - 1)) == 0)
        return fetch(get, ctx, log2_exact(n), begin >> log2_exact(n), out,
                     err);
    k = split_point(n);
    rc = range_root(get, ctx, begin, begin + k, left, err);
    if (rc != RK_OK)
        return rc;
    rc = range_root(get, ctx, begin + k, end, right, err);
    if (rc != RK_OK)
        return rc;
    rk_merkle_node_hash(out, left, right);
    return RK_OK;
}

rk_err rk_merkle_range_root(rk_merkle_get_fn get, void *ctx, uint64_t begin,
                            uint64_t end, uint8_t out[32], char *err)
{
    if (get == NULL)
        return rk_seterr(err, RK_ERR_INVALID, "merkle: no subtree source");
    if (begin > end)
        return rk_seterr(err, RK_ERR_INVALID,
                         "merkle range [%llu, %llu): begin after end",
                         (unsigned long long)begin, (unsigned long long)end);
    if (begin == end) {
        rk_merkle_empty_root(out);
        return RK_OK;
    }
    return range_root(get, ctx, begin, end, out, err);
}

rk_err rk_merkle_inclusion_proof(rk_merkle_get_fn get, void *ctx,
                                 uint64_t index, uint64_t size,
                                 uint8_t proof[][32], size_t *n, char *err)
{
    uint64_t a = 0, b = size, k;
    size_t count = 0;
    rk_err rc;

    *n = 0;
    if (get == NULL)
        return rk_seterr(err, RK_ERR_INVALID, "merkle: no subtree source");
    if (index >= size)
        return rk_seterr(err, RK_ERR_INVALID,
                         "merkle inclusion: index %llu not below size %llu",
                         (unsigned long long)index, (unsigned long long)size);
    /* walk down from the root; the sibling at each split is one hash */
    while (b - a > 1) {
        k = split_point(b - a);
        if (index < a + k) {
            rc = range_root(get, ctx, a + k, b, proof[count], err);
            b = a + k;
        } else {
            rc = fetch(get, ctx, log2_exact(k), a >> log2_exact(k),
                       proof[count], err);
            a += k;
        }
        if (rc != RK_OK)
            return rc;
        count++;
    }
    reverse(proof, count);
    *n = count;
    return RK_OK;
}

rk_err rk_merkle_consistency_proof(rk_merkle_get_fn get, void *ctx,
                                   uint64_t m, uint64_t size,
                                   uint8_t proof[][32], size_t *n, char *err)
{
    uint64_t a = 0, b = size, mm = m, k;
    size_t count = 0;
    int whole = 1; /* SUBPROOF's b: still on the old tree's own root path */
    rk_err rc;

    *n = 0;
    if (get == NULL)
        return rk_seterr(err, RK_ERR_INVALID, "merkle: no subtree source");
    if (m > size)
        return rk_seterr(err, RK_ERR_INVALID,
                         "merkle consistency: old size %llu above size %llu",
                         (unsigned long long)m, (unsigned long long)size);
    if (m == 0 || m == size)
        return RK_OK;
    for (;;) {
        if (mm == b - a) {
            if (!whole) {
                rc = range_root(get, ctx, a, b, proof[count], err);
                if (rc != RK_OK)
                    return rc;
                count++;
            }
            break;
        }
        k = split_point(b - a);
        if (mm <= k) {
            rc = range_root(get, ctx, a + k, b, proof[count], err);
            b = a + k;
        } else {
            rc = fetch(get, ctx, log2_exact(k), a >> log2_exact(k),
                       proof[count], err);
            mm -= k;
            a += k;
            whole = 0;
        }
        if (rc != RK_OK)
            return rc;
        count++;
    }
    reverse(proof, count);
    *n = count;
    return RK_OK;
}

/* ---- verification ------------------------------------------------------ */

rk_err rk_merkle_root_from_inclusion(const uint8_t leaf_hash[32],
                                     uint64_t index, uint64_t size,
                                     const uint8_t proof[][32], size_t n,
                                     uint8_t out[32])
{
    uint64_t fn = index, sn;
    uint8_t r[32];
    size_t i;

    if (index >= size || (proof == NULL && n > 0))
        return RK_ERR_INVALID;
    if (n > RK_MERKLE_MAX_INCLUSION)
        return RK_ERR_SIGNATURE;
    sn = size - 1;
    memcpy(r, leaf_hash, 32);
    for (i = 0; i < n; i++) {
        if (sn == 0)
            return RK_ERR_SIGNATURE; /* more hashes than levels */
        if ((fn & 1) || fn == sn) {
            rk_merkle_node_hash(r, proof[i], r);
            /* skip the levels where we are a lone right-edge node */
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            rk_merkle_node_hash(r, r, proof[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return RK_ERR_SIGNATURE; /* fewer hashes than levels */
    memcpy(out, r, 32);
    return RK_OK;
}

rk_err rk_merkle_verify_inclusion(const uint8_t leaf_hash[32], uint64_t index,
                                  uint64_t size, const uint8_t proof[][32],
                                  size_t n, const uint8_t root[32])
{
    uint8_t r[32];
    rk_err rc;

    rc = rk_merkle_root_from_inclusion(leaf_hash, index, size, proof, n, r);
    if (rc != RK_OK)
        return rc;
    return hash_eq(r, root) ? RK_OK : RK_ERR_SIGNATURE;
}

rk_err rk_merkle_verify_consistency(uint64_t m, uint64_t size,
                                    const uint8_t root_m[32],
                                    const uint8_t root_n[32],
                                    const uint8_t proof[][32], size_t n)
{
    uint8_t fr[32], sr[32], empty[32];
    const uint8_t *c;
    uint64_t fn, sn;
    size_t i, total;
    int prepend, ok;

    if (m > size || (proof == NULL && n > 0))
        return RK_ERR_INVALID;
    if (m == size) {
        if (n != 0)
            return RK_ERR_SIGNATURE;
        return hash_eq(root_m, root_n) ? RK_OK : RK_ERR_SIGNATURE;
    }
    if (m == 0) {
        /* every tree extends the empty one, whose root is fixed */
        rk_merkle_empty_root(empty);
        if (n != 0)
            return RK_ERR_SIGNATURE;
        return hash_eq(root_m, empty) ? RK_OK : RK_ERR_SIGNATURE;
    }
    if (n == 0 || n > RK_MERKLE_MAX_CONSISTENCY)
        return RK_ERR_SIGNATURE;

    /* an old tree that is a perfect subtree is its own first hash */
    prepend = (m & (m - 1)) == 0;
    total = n + (size_t)prepend;
    fn = m - 1;
    sn = size - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    c = prepend ? root_m : proof[0];
    memcpy(fr, c, 32);
    memcpy(sr, c, 32);
    for (i = 1; i < total; i++) {
        c = prepend ? proof[i - 1] : proof[i];
        if (sn == 0)
            return RK_ERR_SIGNATURE;
        if ((fn & 1) || fn == sn) {
            rk_merkle_node_hash(fr, c, fr);
            rk_merkle_node_hash(sr, c, sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            rk_merkle_node_hash(sr, sr, c);
        }
        fn >>= 1;
        sn >>= 1;
    }
    ok = hash_eq(fr, root_m) & hash_eq(sr, root_n) & (sn == 0);
    return ok ? RK_OK : RK_ERR_SIGNATURE;
}
