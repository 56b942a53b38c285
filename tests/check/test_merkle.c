/*
 * test_merkle.c - RFC 6962 hashing, the frontier, proofs from perfect
 * subtrees, and RFC 9162 verification.
 *
 * Public vectors: tests/vectors/merkle/rfc6962_tree.txt and probes.txt (from
 * transparency-dev/merkle, see the files).  Property tests compare against a
 * direct transcription of the RFC 6962 recursions over an in-memory leaf
 * list, for every size 1..130 and every index / old size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "check_main.h"
#include "merkle.h"

#define VEC_DIR "tests/vectors/merkle/"

/*
 * check's ck_assert_* report every passing assertion to the parent process
 * (a pipe write in fork mode); the exhaustive loops below use these, which
 * cost nothing until they fail.
 */
#define CHECK(c) \
    do { \
        if (!(c)) \
            ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #c); \
    } while (0)
#define CHECK_EQ(a, b) \
    do { \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b); \
        if (check_a_ != check_b_) \
            ck_abort_msg("%s:%d: %s == %lld, %s == %lld", __FILE__, __LINE__, \
                         #a, check_a_, #b, check_b_); \
    } while (0)
#define NPROP 130

/* ---- an in-memory perfect-subtree store fed by emit ------------------- */

typedef struct store {
    uint8_t (*h[RK_MERKLE_MAX_LEVELS])[32];
    uint64_t count[RK_MERKLE_MAX_LEVELS];
    uint64_t cap[RK_MERKLE_MAX_LEVELS];
    uint64_t limit;     /* get refuses subtrees not inside [0, limit) */
    unsigned lookups;   /* get calls since last reset */
    int fail_after;     /* emit fails with RK_ERR_IO after this many (-1: never) */
    int emits;
} store;

static void store_init(store *s)
{
    memset(s, 0, sizeof *s);
    s->fail_after = -1;
}

static void store_free(store *s)
{
    unsigned l;

    for (l = 0; l < RK_MERKLE_MAX_LEVELS; l++)
        free(s->h[l]);
}

static rk_err store_emit(void *ctx, unsigned level, uint64_t index,
                         const uint8_t hash[32])
{
    store *s = ctx;

    if (s->fail_after >= 0 && s->emits >= s->fail_after)
        return RK_ERR_IO;
    s->emits++;
    CHECK(level < RK_MERKLE_MAX_LEVELS);
    /* subtrees complete left to right within a level */
    CHECK(index == s->count[level]);
    if (s->count[level] == s->cap[level]) {
        s->cap[level] = s->cap[level] ? 2 * s->cap[level] : 8;
        s->h[level] = realloc(s->h[level], s->cap[level] * 32);
        ck_assert_ptr_nonnull(s->h[level]);
    }
    memcpy(s->h[level][index], hash, 32);
    s->count[level]++;
    return RK_OK;
}

static rk_err store_get(void *ctx, unsigned level, uint64_t index,
                        uint8_t out[32], char *err)
{
    store *s = ctx;

    s->lookups++;
    /* the documented contract: only subtrees wholly inside the tree */
    CHECK(level < RK_MERKLE_MAX_LEVELS);
    CHECK(index < (s->limit >> level));
    if (index >= s->count[level])
        return rk_seterr(err, RK_ERR_NOTFOUND, "not stored");
    memcpy(out, s->h[level][index], 32);
    return RK_OK;
}

/* ---- the reference: RFC 6962 section 2.1 recursions, word for word ---- */

static uint64_t ref_k(uint64_t n)
{
    uint64_t k = 1;

    while (k <= (n - 1) / 2)
        k *= 2;
    return k;
}

/*
 * MTH memo for the fixture's leaf list: the recursion is evaluated as
 * written, but each range [a, b) of the fixture is hashed once.
 */
static struct {
    const uint8_t (*base)[32];
    uint8_t (*h)[NPROP + 1][32];
    uint8_t *have;
} memo;

static void ref_mth(const uint8_t (*d)[32], uint64_t n, uint8_t out[32])
{
    uint8_t l[32], r[32];
    uint64_t k;
    size_t a = 0, slot = 0;
    int memoize = memo.base != NULL && d >= memo.base && d < memo.base + NPROP;

    if (memoize) {
        a = (size_t)(d - memo.base);
        slot = a * (NPROP + 1) + (size_t)n;
        if (memo.have[slot]) {
            memcpy(out, memo.h[a][n], 32);
            return;
        }
    }
    if (n == 0) {
        rk_sha256(out, "", 0);
    } else if (n == 1) {
        memcpy(out, d[0], 32);
    } else {
        k = ref_k(n);
        ref_mth(d, k, l);
        ref_mth(d + k, n - k, r);
        rk_merkle_node_hash(out, l, r);
    }
    if (memoize) {
        memcpy(memo.h[a][n], out, 32);
        memo.have[slot] = 1;
    }
}

/*
 * PATH(m, D[n]); shape[i] is 'R' when proof[i] is a right sibling.  With d
 * NULL only the shape is computed (any size, no leaves needed).
 */
static size_t ref_path(uint64_t m, const uint8_t (*d)[32], uint64_t n,
                       uint8_t proof[][32], char *shape)
{
    uint64_t k;
    size_t c;

    if (n <= 1)
        return 0;
    k = ref_k(n);
    if (m < k) {
        c = ref_path(m, d, k, proof, shape);
        if (d != NULL)
            ref_mth(d + k, n - k, proof[c]);
        shape[c] = 'R';
    } else {
        c = ref_path(m - k, d != NULL ? d + k : NULL, n - k, proof, shape);
        if (d != NULL)
            ref_mth(d, k, proof[c]);
        shape[c] = 'L';
    }
    shape[c + 1] = '\0';
    return c + 1;
}

/*
 * SUBPROOF(m, D[n], b); shape: 'P' first when the old root is a node of the
 * path (it is then not in the proof), 'S' when the proof starts with it.
 * With d NULL only the shape is computed.
 */
static size_t ref_subproof(uint64_t m, const uint8_t (*d)[32], uint64_t n,
                           int b, uint8_t proof[][32], char *shape)
{
    uint64_t k;
    size_t c;

    if (m == n) {
        if (b) {
            strcpy(shape, "P");
            return 0;
        }
        if (d != NULL)
            ref_mth(d, n, proof[0]);
        strcpy(shape, "S");
        return 1;
    }
    k = ref_k(n);
    if (m <= k) {
        c = ref_subproof(m, d, k, b, proof, shape);
        if (d != NULL)
            ref_mth(d + k, n - k, proof[c]);
        strcat(shape, "R");
    } else {
        c = ref_subproof(m - k, d != NULL ? d + k : NULL, n - k, 0, proof, shape);
        if (d != NULL)
            ref_mth(d, k, proof[c]);
        strcat(shape, "L");
    }
    return c + 1;
}

static size_t ref_proof(uint64_t m, const uint8_t (*d)[32], uint64_t n,
                        uint8_t proof[][32], char *shape)
{
    shape[0] = '\0';
    if (m == 0 || m == n)
        return 0;
    return ref_subproof(m, d, n, 1, proof, shape);
}

/* ---- the property fixture: 130 leaves that look like record hashes ---- */

typedef struct fixture {
    uint8_t data[NPROP][32];   /* "record hashes" */
    uint8_t leaf[NPROP][32];   /* leaf hashes */
    rk_merkle_frontier fr[NPROP + 1];
    store st;
} fixture;

static fixture *fixture_new(void)
{
    fixture *fx = calloc(1, sizeof *fx);
    uint8_t seed[8];
    int i;

    ck_assert_ptr_nonnull(fx);
    memo.base = (const uint8_t (*)[32])fx->leaf;
    memo.h = calloc(NPROP + 1, sizeof *memo.h);
    memo.have = calloc((NPROP + 1) * (NPROP + 1), 1);
    ck_assert(memo.h != NULL && memo.have != NULL);
    store_init(&fx->st);
    rk_merkle_frontier_init(&fx->fr[0]);
    for (i = 0; i < NPROP; i++) {
        rk_put_be64(seed, (uint64_t)i);
        rk_sha256(fx->data[i], seed, sizeof seed);
        rk_merkle_leaf_hash(fx->leaf[i], fx->data[i], 32);
        fx->fr[i + 1] = fx->fr[i];
        ck_assert_int_eq(rk_merkle_frontier_append(&fx->fr[i + 1], fx->leaf[i],
                                                   store_emit, &fx->st), RK_OK);
    }
    return fx;
}

static void fixture_free(fixture *fx)
{
    free(memo.h);
    free(memo.have);
    memset(&memo, 0, sizeof memo);
    store_free(&fx->st);
    free(fx);
}

/* ---- vector files ------------------------------------------------------- */

#define MAX_TOK 16

/* Split the next non-comment line into tokens; 0 at the end. */
static int next_line(char **cursor, char *tok[MAX_TOK], int *ntok)
{
    char *line, *p;

    for (;;) {
        line = *cursor;
        if (line == NULL || *line == '\0')
            return 0;
        p = strchr(line, '\n');
        if (p != NULL) {
            *p = '\0';
            *cursor = p + 1;
        } else {
            *cursor = line + strlen(line);
        }
        if (line[0] == '#' || line[0] == '\0')
            continue;
        *ntok = 0;
        for (p = strtok(line, " "); p != NULL; p = strtok(NULL, " ")) {
            ck_assert_int_lt(*ntok, MAX_TOK);
            tok[(*ntok)++] = p;
        }
        return 1;
    }
}

static void read_vectors(rk_buf *b, const char *name)
{
    char err[RK_ERROR_SIZE];
    rk_err rc = rk_buf_read_file(b, name, 1 << 20, err);

    ck_assert_msg(rc == RK_OK, "%s", err);
}

static uint64_t num(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);

    ck_assert(*end == '\0');
    return v;
}

static void hex32(uint8_t out[32], const char *s)
{
    ck_assert_int_eq(rk_hex_decode(out, 32, s, strlen(s)), RK_OK);
}

static void b64_32(uint8_t out[32], const char *s)
{
    size_t n = 0;

    ck_assert_int_eq(rk_b64_decode(out, 32, &n, s, strlen(s)), RK_OK);
    ck_assert_uint_eq(n, 32);
}

static void assert_hash(const uint8_t got[32], const uint8_t want[32])
{
    char g[65], w[65];

    rk_hex_encode(g, got, 32);
    rk_hex_encode(w, want, 32);
    ck_assert_str_eq(g, w);
}

/* ---- hashing ------------------------------------------------------------ */

START_TEST(hash_basics)
{
    static const uint8_t zero[100];
    uint8_t h[32], want[32], a[32], b[32], buf[101];

    rk_merkle_empty_root(h);
    hex32(want, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_hash(h, want);

    /* the empty leaf, from RFC 6962's reference tree */
    rk_merkle_leaf_hash(h, NULL, 0);
    hex32(want, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    assert_hash(h, want);

    /* the long-leaf path (streamed) agrees with one-shot SHA-256 */
    buf[0] = 0;
    memcpy(buf + 1, zero, 100);
    rk_sha256(want, buf, 101);
    rk_merkle_leaf_hash(h, zero, 100);
    assert_hash(h, want);
    rk_sha256(want, buf, 65);
    rk_merkle_leaf_hash(h, zero, 64);
    assert_hash(h, want);

    /* node hash: 0x01 || left || right, output may alias an input */
    memset(a, 0xaa, 32);
    memset(b, 0xbb, 32);
    buf[0] = 1;
    memcpy(buf + 1, a, 32);
    memcpy(buf + 33, b, 32);
    rk_sha256(want, buf, 65);
    rk_merkle_node_hash(h, a, b);
    assert_hash(h, want);
    rk_merkle_node_hash(a, a, b);
    assert_hash(a, want);
    memset(a, 0xaa, 32);
    rk_merkle_node_hash(b, a, b);
    assert_hash(b, want);
}
END_TEST

/* ---- public vectors ------------------------------------------------------ */

START_TEST(vectors_reference_tree)
{
    rk_buf b = RK_BUF_INIT;
    char *cur, *tok[MAX_TOK];
    int ntok, i, seen_nodes = 0, seen_roots = 0, seen_proofs = 0;
    uint8_t data[32], leaf[8][32], want[32], got[32];
    uint8_t proof[RK_MERKLE_MAX_CONSISTENCY][32];
    uint8_t roots[9][32];
    rk_merkle_frontier f, prefix[9];
    store st;
    size_t n, len;
    char err[RK_ERROR_SIZE];

    store_init(&st);
    st.limit = 8;
    rk_merkle_frontier_init(&f);
    prefix[0] = f;
    read_vectors(&b, VEC_DIR "rfc6962_tree.txt");
    cur = (char *)b.data;
    while (next_line(&cur, tok, &ntok)) {
        if (strcmp(tok[0], "leaf") == 0) {
            ck_assert_int_eq(ntok, 3);
            i = (int)num(tok[1]);
            ck_assert_int_eq(i, (int)f.size);
            len = strcmp(tok[2], "-") == 0 ? 0 : strlen(tok[2]) / 2;
            if (len > 0)
                ck_assert_int_eq(rk_hex_decode(data, len, tok[2], strlen(tok[2])), RK_OK);
            rk_merkle_leaf_hash(leaf[i], data, len);
            ck_assert_int_eq(rk_merkle_frontier_append(&f, leaf[i], store_emit, &st), RK_OK);
            prefix[i + 1] = f;
        } else if (strcmp(tok[0], "node") == 0) {
            unsigned level = (unsigned)num(tok[1]);
            uint64_t index = num(tok[2]);

            hex32(want, tok[3]);
            ck_assert(index < st.count[level]);
            assert_hash(st.h[level][index], want);
            seen_nodes++;
        } else if (strcmp(tok[0], "root") == 0) {
            uint64_t size = num(tok[1]);

            hex32(roots[size], tok[2]);
            rk_merkle_frontier_root(&prefix[size], got);
            assert_hash(got, roots[size]);
            ck_assert_int_eq(rk_merkle_range_root(store_get, &st, 0, size, got, err), RK_OK);
            assert_hash(got, roots[size]);
            seen_roots++;
        } else if (strcmp(tok[0], "inclusion") == 0) {
            uint64_t index = num(tok[1]), size = num(tok[2]);

            st.limit = size;
            ck_assert_int_eq(rk_merkle_inclusion_proof(store_get, &st, index, size, proof, &n, err), RK_OK);
            ck_assert_uint_eq(n, (size_t)(ntok - 3));
            for (i = 0; i < (int)n; i++) {
                hex32(want, tok[3 + i]);
                assert_hash(proof[i], want);
            }
            ck_assert_int_eq(rk_merkle_verify_inclusion(leaf[index], index, size, (const uint8_t (*)[32])proof, n, roots[size]), RK_OK);
            st.limit = 8;
            seen_proofs++;
        } else if (strcmp(tok[0], "consistency") == 0) {
            uint64_t m = num(tok[1]), size = num(tok[2]);

            st.limit = size;
            ck_assert_int_eq(rk_merkle_consistency_proof(store_get, &st, m, size, proof, &n, err), RK_OK);
            ck_assert_uint_eq(n, (size_t)(ntok - 3));
            for (i = 0; i < (int)n; i++) {
                hex32(want, tok[3 + i]);
                assert_hash(proof[i], want);
            }
            ck_assert_int_eq(rk_merkle_verify_consistency(m, size, roots[m], roots[size], (const uint8_t (*)[32])proof, n), RK_OK);
            st.limit = 8;
            seen_proofs++;
        } else {
            ck_abort_msg("unknown vector line '%s'", tok[0]);
        }
    }
    ck_assert_int_eq(seen_nodes, 15);
    ck_assert_int_eq(seen_roots, 9);
    ck_assert_int_eq(seen_proofs, 10);
    rk_buf_free(&b);
    store_free(&st);
}
END_TEST

START_TEST(vectors_probes)
{
    rk_buf b = RK_BUF_INIT;
    char *cur, *tok[MAX_TOK];
    int ntok, i, ok_count = 0, err_count = 0;
    uint8_t proof[MAX_TOK][32], root1[32], root2[32];
    size_t n;
    rk_err rc;

    read_vectors(&b, VEC_DIR "probes.txt");
    cur = (char *)b.data;
    while (next_line(&cur, tok, &ntok)) {
        int want_ok = strcmp(tok[2], "ok") == 0;

        ck_assert(want_ok || strcmp(tok[2], "err") == 0);
        ck_assert_int_ge(ntok, 7);
        b64_32(root1, tok[5]);
        b64_32(root2, tok[6]);
        n = (size_t)(ntok - 7);
        for (i = 0; i < (int)n; i++)
            b64_32(proof[i], tok[7 + i]);
        if (strcmp(tok[0], "inclusion") == 0)
            /* root1 is the tree root, root2 the leaf hash */
            rc = rk_merkle_verify_inclusion(root2, num(tok[3]), num(tok[4]),
                                            (const uint8_t (*)[32])proof, n, root1);
        else if (strcmp(tok[0], "consistency") == 0)
            rc = rk_merkle_verify_consistency(num(tok[3]), num(tok[4]), root1, root2,
                                              (const uint8_t (*)[32])proof, n);
        else
            ck_abort_msg("unknown probe kind '%s'", tok[0]);
        if (want_ok)
            ck_assert_msg(rc == RK_OK, "%s: %s", tok[1], rk_strerror(rc));
        else
            ck_assert_msg(rc != RK_OK, "%s verified", tok[1]);
        want_ok ? ok_count++ : err_count++;
    }
    ck_assert_int_eq(ok_count, 10);
    ck_assert_int_eq(err_count, 9);
    rk_buf_free(&b);
}
END_TEST

/* ---- properties over every size 1..130 --------------------------------- */

START_TEST(prop_roots_and_frontier)
{
    fixture *fx = fixture_new();
    uint8_t want[32], got[32];
    rk_merkle_frontier g;
    rk_buf enc = RK_BUF_INIT;
    char err[RK_ERROR_SIZE];
    uint64_t size, begin, end;

    for (size = 0; size <= NPROP; size++) {
        ref_mth((const uint8_t (*)[32])fx->leaf, size, want);
        rk_merkle_frontier_root(&fx->fr[size], got);
        assert_hash(got, want);
        fx->st.limit = size;
        CHECK_EQ(rk_merkle_range_root(store_get, &fx->st, 0, size, got, err), RK_OK);
        assert_hash(got, want);

        /* load from stored subtrees: popcount(size) lookups, same state */
        fx->st.lookups = 0;
        CHECK_EQ(rk_merkle_frontier_load(&g, size, store_get, &fx->st, err), RK_OK);
        CHECK_EQ(fx->st.lookups, (unsigned)__builtin_popcountll(size));
        CHECK(memcmp(&g, &fx->fr[size], sizeof g) == 0);

        /* encode / decode round trip, byte-exact layout */
        rk_buf_reset(&enc);
        CHECK_EQ(rk_merkle_frontier_encode(&fx->fr[size], &enc), RK_OK);
        CHECK_EQ(enc.len, 9 + 32 * (size_t)__builtin_popcountll(size));
        CHECK_EQ(enc.data[0], 1);
        CHECK(rk_get_be64(enc.data + 1) == size);
        if (size > 0) {
            /* the last hash is the lowest level: the rightmost subtree */
            unsigned low = (unsigned)__builtin_ctzll(size);
            CHECK(memcmp(enc.data + enc.len - 32, fx->fr[size].node[low], 32) == 0);
        }
        CHECK_EQ(rk_merkle_frontier_decode(&g, enc.data, enc.len, err), RK_OK);
        CHECK(memcmp(&g, &fx->fr[size], sizeof g) == 0);
    }
    /* every emitted subtree is the MTH of its leaves */
    for (unsigned l = 0; l < 8; l++) {
        for (uint64_t i = 0; i < fx->st.count[l]; i++) {
            ref_mth((const uint8_t (*)[32])fx->leaf + (i << l), (uint64_t)1 << l, want);
            assert_hash(fx->st.h[l][i], want);
        }
        CHECK(fx->st.count[l] == ((uint64_t)NPROP >> l));
    }
    /* any range, aligned or not */
    fx->st.limit = NPROP;
    for (begin = 0; begin <= NPROP; begin++) {
        for (end = begin; end <= NPROP; end++) {
            ref_mth((const uint8_t (*)[32])fx->leaf + begin, end - begin, want);
            CHECK_EQ(rk_merkle_range_root(store_get, &fx->st, begin, end, got, err), RK_OK);
            assert_hash(got, want);
        }
    }
    rk_buf_free(&enc);
    fixture_free(fx);
}
END_TEST

static unsigned bit_length(uint64_t v)
{
    return v == 0 ? 0 : 64 - (unsigned)__builtin_clzll(v);
}

/* Would the verifier accept these parameters for a proof of this shape? */
static int incl_shape_ok(uint64_t index, uint64_t size, const char *shape)
{
    char s2[RK_MERKLE_MAX_INCLUSION + 2] = "";

    if (index >= size)
        return 0;
    ref_path(index, NULL, size, NULL, s2);
    return strcmp(shape, s2) == 0;
}

static int cons_shape_ok(uint64_t m, uint64_t size, const char *shape)
{
    char s2[RK_MERKLE_MAX_CONSISTENCY + 2] = "";

    if (m == 0 || m >= size)
        return 0;
    ref_proof(m, NULL, size, NULL, s2);
    return strcmp(shape, s2) == 0;
}

START_TEST(prop_inclusion)
{
    fixture *fx = fixture_new();
    uint8_t proof[RK_MERKLE_MAX_INCLUSION + 1][32], want[RK_MERKLE_MAX_INCLUSION][32];
    uint8_t root[32], bad[32], ext[RK_MERKLE_MAX_INCLUSION + 1][32];
    char shape[RK_MERKLE_MAX_INCLUSION + 2] = "", err[RK_ERROR_SIZE];
    uint64_t size, index, alt[8];
    size_t n, wn, i, j;
    unsigned bit, a;

    for (size = 1; size <= NPROP; size++) {
        rk_merkle_frontier_root(&fx->fr[size], root);
        fx->st.limit = size;
        for (index = 0; index < size; index++) {
            const uint8_t *leaf = fx->leaf[index];
            const uint8_t (*p)[32] = (const uint8_t (*)[32])proof;

            fx->st.lookups = 0;
            CHECK_EQ(rk_merkle_inclusion_proof(store_get, &fx->st, index, size, proof, &n, err), RK_OK);
            /* O(log n): one ragged right edge at most, else single subtrees */
            CHECK(fx->st.lookups <= 2 * bit_length(size));
            wn = ref_path(index, (const uint8_t (*)[32])fx->leaf, size, want, shape);
            CHECK_EQ(n, wn);
            CHECK(memcmp(proof, want, n * 32) == 0);
            CHECK_EQ(rk_merkle_verify_inclusion(leaf, index, size, p, n, root), RK_OK);

            /* flipped bits in each hash: every bit for trees up to 8 leaves */
            for (i = 0; i < n; i++) {
                for (bit = 0; bit < 256; bit++) {
                    if (size > 8 && bit != (unsigned)((index * 7 + i * 31) % 256))
                        continue;
                    proof[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                    CHECK_EQ(rk_merkle_verify_inclusion(leaf, index, size, p, n, root), RK_ERR_SIGNATURE);
                    proof[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                }
            }
            /* wrong leaf, wrong root */
            memcpy(bad, leaf, 32);
            bad[31] ^= 1;
            CHECK_EQ(rk_merkle_verify_inclusion(bad, index, size, p, n, root), RK_ERR_SIGNATURE);
            memcpy(bad, root, 32);
            bad[0] ^= 0x80;
            CHECK_EQ(rk_merkle_verify_inclusion(leaf, index, size, p, n, bad), RK_ERR_SIGNATURE);

            /* wrong index or size: accepted only by a same-shape tree
               (RFC 9162 binds the size only through the path's shape) */
            alt[0] = index - 1; alt[1] = index + 1; alt[2] = index ^ 1;
            alt[3] = index ^ 2; alt[4] = size; alt[5] = index ^ 4;
            alt[6] = UINT64_MAX; alt[7] = index + 3;
            for (a = 0; a < 8; a++) {
                if (alt[a] == index)
                    continue;
                CHECK(rk_merkle_verify_inclusion(leaf, alt[a], size, p, n, root) != RK_OK);
            }
            alt[0] = size - 1; alt[1] = size + 1; alt[2] = size * 2;
            alt[3] = size / 2; alt[4] = index; alt[5] = size + 2;
            alt[6] = UINT64_MAX; alt[7] = 0;
            for (a = 0; a < 8; a++) {
                rk_err rc;

                if (alt[a] == size)
                    continue;
                rc = rk_merkle_verify_inclusion(leaf, index, alt[a], p, n, root);
                if (alt[a] <= index)
                    CHECK_EQ(rc, RK_ERR_INVALID);
                else
                    CHECK_EQ(rc == RK_OK, incl_shape_ok(index, alt[a], shape));
            }
            /* removed, appended, prepended hashes */
            if (n > 0)
                CHECK_EQ(rk_merkle_verify_inclusion(leaf, index, size, p, n - 1, root), RK_ERR_SIGNATURE);
            memcpy(proof[n], root, 32);
            CHECK_EQ(rk_merkle_verify_inclusion(leaf, index, size, p, n + 1, root), RK_ERR_SIGNATURE);
            memcpy(ext[0], leaf, 32);
            for (j = 0; j < n; j++)
                memcpy(ext[j + 1], proof[j], 32);
            CHECK_EQ(rk_merkle_verify_inclusion(leaf, index, size, (const uint8_t (*)[32])ext, n + 1, root), RK_ERR_SIGNATURE);
        }
    }
    fixture_free(fx);
}
END_TEST

START_TEST(prop_consistency)
{
    fixture *fx = fixture_new();
    uint8_t proof[RK_MERKLE_MAX_CONSISTENCY + 1][32], want[RK_MERKLE_MAX_CONSISTENCY][32];
    uint8_t rm[32], rn[32], bad[32];
    char shape[RK_MERKLE_MAX_CONSISTENCY + 2] = "", err[RK_ERROR_SIZE];
    uint64_t size, m, alt[7];
    size_t n, wn, i;
    unsigned bit, a;

    for (size = 1; size <= NPROP; size++) {
        rk_merkle_frontier_root(&fx->fr[size], rn);
        fx->st.limit = size;
        for (m = 0; m <= size; m++) {
            const uint8_t (*p)[32] = (const uint8_t (*)[32])proof;

            rk_merkle_frontier_root(&fx->fr[m], rm);
            fx->st.lookups = 0;
            CHECK_EQ(rk_merkle_consistency_proof(store_get, &fx->st, m, size, proof, &n, err), RK_OK);
            CHECK(fx->st.lookups <= 3 * bit_length(size));
            wn = ref_proof(m, (const uint8_t (*)[32])fx->leaf, size, want, shape);
            CHECK_EQ(n, wn);
            CHECK(memcmp(proof, want, n * 32) == 0);
            CHECK_EQ(rk_merkle_verify_consistency(m, size, rm, rn, p, n), RK_OK);
            if (m == 0 || m == size) {
                CHECK_EQ(n, 0);
                continue;
            }
            for (i = 0; i < n; i++) {
                for (bit = 0; bit < 256; bit++) {
                    if (size > 8 && bit != (unsigned)((m * 5 + i * 29) % 256))
                        continue;
                    proof[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                    CHECK_EQ(rk_merkle_verify_consistency(m, size, rm, rn, p, n), RK_ERR_SIGNATURE);
                    proof[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                }
            }
            /* wrong roots */
            memcpy(bad, rm, 32);
            bad[5] ^= 4;
            CHECK_EQ(rk_merkle_verify_consistency(m, size, bad, rn, p, n), RK_ERR_SIGNATURE);
            memcpy(bad, rn, 32);
            bad[5] ^= 4;
            CHECK_EQ(rk_merkle_verify_consistency(m, size, rm, bad, p, n), RK_ERR_SIGNATURE);
            CHECK_EQ(rk_merkle_verify_consistency(m, size, rn, rm, p, n), RK_ERR_SIGNATURE);
            /* wrong sizes: accepted only by a same-shape pair of trees */
            alt[0] = m - 1; alt[1] = m + 1; alt[2] = m ^ 2; alt[3] = 0;
            alt[4] = size; alt[5] = m * 2; alt[6] = m ^ 1;
            for (a = 0; a < 7; a++) {
                rk_err rc;

                if (alt[a] == m)
                    continue;
                rc = rk_merkle_verify_consistency(alt[a], size, rm, rn, p, n);
                CHECK_EQ(rc == RK_OK, cons_shape_ok(alt[a], size, shape));
                if (alt[a] > size)
                    CHECK_EQ(rc, RK_ERR_INVALID);
            }
            alt[0] = size - 1; alt[1] = size + 1; alt[2] = size * 2;
            alt[3] = size / 2; alt[4] = m; alt[5] = UINT64_MAX; alt[6] = size + 5;
            for (a = 0; a < 7; a++) {
                rk_err rc;

                if (alt[a] == size)
                    continue;
                rc = rk_merkle_verify_consistency(m, alt[a], rm, rn, p, n);
                CHECK_EQ(rc == RK_OK, cons_shape_ok(m, alt[a], shape));
                if (alt[a] < m)
                    CHECK_EQ(rc, RK_ERR_INVALID);
            }
            /* truncated, empty, extended, prefixed proofs */
            CHECK_EQ(rk_merkle_verify_consistency(m, size, rm, rn, p, n - 1), RK_ERR_SIGNATURE);
            CHECK_EQ(rk_merkle_verify_consistency(m, size, rm, rn, p, 0), RK_ERR_SIGNATURE);
            memcpy(proof[n], rn, 32);
            CHECK_EQ(rk_merkle_verify_consistency(m, size, rm, rn, p, n + 1), RK_ERR_SIGNATURE);
            memmove(proof[1], proof[0], n * 32);
            memcpy(proof[0], rm, 32);
            CHECK_EQ(rk_merkle_verify_consistency(m, size, rm, rn, p, n + 1), RK_ERR_SIGNATURE);
        }
    }
    fixture_free(fx);
}
END_TEST

/* ---- edge cases and limits --------------------------------------------- */

START_TEST(verify_edges)
{
    uint8_t empty[32], h[32], other[32], proof[RK_MERKLE_MAX_CONSISTENCY + 1][32];
    const uint8_t (*p)[32] = (const uint8_t (*)[32])proof;

    rk_merkle_empty_root(empty);
    rk_merkle_leaf_hash(h, (const uint8_t *)"data", 4);
    memset(other, 7, 32);
    memset(proof, 0, sizeof proof);

    /* inclusion: the one-leaf tree has an empty proof and root = leaf */
    ck_assert_int_eq(rk_merkle_verify_inclusion(h, 0, 1, NULL, 0, h), RK_OK);
    ck_assert_int_eq(rk_merkle_verify_inclusion(h, 0, 1, NULL, 0, other), RK_ERR_SIGNATURE);
    ck_assert_int_eq(rk_merkle_verify_inclusion(h, 0, 0, NULL, 0, empty), RK_ERR_INVALID);
    ck_assert_int_eq(rk_merkle_verify_inclusion(h, 1, 1, NULL, 0, h), RK_ERR_INVALID);
    ck_assert_int_eq(rk_merkle_verify_inclusion(h, 2, 1, NULL, 0, h), RK_ERR_INVALID);
    ck_assert_int_eq(rk_merkle_verify_inclusion(h, 0, 2, NULL, 1, h), RK_ERR_INVALID);
    ck_assert_int_eq(rk_merkle_verify_inclusion(h, 0, 2, NULL, 0, h), RK_ERR_SIGNATURE);
    ck_assert_int_eq(rk_merkle_verify_inclusion(h, 0, UINT64_MAX, p, RK_MERKLE_MAX_INCLUSION + 1, h), RK_ERR_SIGNATURE);

    /* consistency, RFC 9162 2.1.4: equal sizes and the empty old tree */
    ck_assert_int_eq(rk_merkle_verify_consistency(0, 0, empty, empty, NULL, 0), RK_OK);
    ck_assert_int_eq(rk_merkle_verify_consistency(0, 5, empty, other, NULL, 0), RK_OK);
    ck_assert_int_eq(rk_merkle_verify_consistency(0, 5, other, other, NULL, 0), RK_ERR_SIGNATURE);
    ck_assert_int_eq(rk_merkle_verify_consistency(0, 5, empty, other, p, 1), RK_ERR_SIGNATURE);
    ck_assert_int_eq(rk_merkle_verify_consistency(0, 0, empty, other, NULL, 0), RK_ERR_SIGNATURE);
    ck_assert_int_eq(rk_merkle_verify_consistency(3, 3, other, other, NULL, 0), RK_OK);
    ck_assert_int_eq(rk_merkle_verify_consistency(3, 3, other, h, NULL, 0), RK_ERR_SIGNATURE);
    ck_assert_int_eq(rk_merkle_verify_consistency(3, 3, other, other, p, 1), RK_ERR_SIGNATURE);
    ck_assert_int_eq(rk_merkle_verify_consistency(1, 0, h, empty, NULL, 0), RK_ERR_INVALID);
    ck_assert_int_eq(rk_merkle_verify_consistency(6, 5, h, other, NULL, 0), RK_ERR_INVALID);
    ck_assert_int_eq(rk_merkle_verify_consistency(1, 2, h, other, NULL, 0), RK_ERR_SIGNATURE);
    ck_assert_int_eq(rk_merkle_verify_consistency(1, 2, h, other, NULL, 1), RK_ERR_INVALID);
    ck_assert_int_eq(rk_merkle_verify_consistency(3, UINT64_MAX, h, other, p, RK_MERKLE_MAX_CONSISTENCY + 1), RK_ERR_SIGNATURE);
}
END_TEST

/*
 * Hashes beyond the top of the tree must be refused even when the roots
 * are chosen to match them (RFC 9162's "if sn is 0, fail" step).
 */
START_TEST(verify_extra_levels)
{
    uint8_t a[32], b[32], c[32], d[32], x[32], ab[32], cd[32];
    uint8_t r3[32], r4[32], fake_m[32], fake_n[32], proof[4][32];
    const uint8_t (*p)[32] = (const uint8_t (*)[32])proof;

    rk_merkle_leaf_hash(a, (const uint8_t *)"a", 1);
    rk_merkle_leaf_hash(b, (const uint8_t *)"b", 1);
    rk_merkle_leaf_hash(c, (const uint8_t *)"c", 1);
    rk_merkle_leaf_hash(d, (const uint8_t *)"d", 1);
    memset(x, 0x78, 32);
    rk_merkle_node_hash(ab, a, b);
    rk_merkle_node_hash(cd, c, d);
    rk_merkle_node_hash(r3, ab, c);
    rk_merkle_node_hash(r4, ab, cd);

    /* b as the only leaf of a 1-leaf tree whose "root" is H(a, b) */
    memcpy(proof[0], a, 32);
    ck_assert_int_eq(rk_merkle_verify_inclusion(b, 1, 2, p, 1, ab), RK_OK);
    ck_assert_int_eq(rk_merkle_verify_inclusion(b, 0, 1, p, 1, ab), RK_ERR_SIGNATURE);

    /* PROOF(3, D[4]) = c, d, H(a, b); one more hash on top must fail */
    memcpy(proof[0], c, 32);
    memcpy(proof[1], d, 32);
    memcpy(proof[2], ab, 32);
    memcpy(proof[3], x, 32);
    ck_assert_int_eq(rk_merkle_verify_consistency(3, 4, r3, r4, p, 3), RK_OK);
    rk_merkle_node_hash(fake_m, x, r3);
    rk_merkle_node_hash(fake_n, x, r4);
    ck_assert_int_eq(rk_merkle_verify_consistency(3, 4, fake_m, fake_n, p, 4), RK_ERR_SIGNATURE);
}
END_TEST

START_TEST(generate_errors)
{
    fixture *fx = fixture_new();
    uint8_t proof[RK_MERKLE_MAX_CONSISTENCY][32], h[32];
    char err[RK_ERROR_SIZE];
    rk_merkle_frontier f;
    size_t n = 99;

    fx->st.limit = 10;
    ck_assert_int_eq(rk_merkle_inclusion_proof(store_get, &fx->st, 10, 10, proof, &n, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "merkle inclusion: index 10 not below size 10");
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(rk_merkle_inclusion_proof(store_get, &fx->st, 0, 0, proof, &n, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_merkle_inclusion_proof(NULL, NULL, 0, 1, proof, &n, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "merkle: no subtree source");
    ck_assert_int_eq(rk_merkle_consistency_proof(store_get, &fx->st, 11, 10, proof, &n, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "merkle consistency: old size 11 above size 10");
    ck_assert_int_eq(rk_merkle_consistency_proof(NULL, NULL, 1, 10, proof, &n, NULL), RK_ERR_INVALID);
    ck_assert_int_eq(rk_merkle_range_root(store_get, &fx->st, 5, 4, h, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "merkle range [5, 4): begin after end");
    ck_assert_int_eq(rk_merkle_range_root(NULL, NULL, 0, 4, h, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_merkle_frontier_load(&f, 3, NULL, NULL, err), RK_ERR_INVALID);

    /* consistency with m == 0 or m == size: empty proof, no lookups */
    fx->st.lookups = 0;
    ck_assert_int_eq(rk_merkle_consistency_proof(store_get, &fx->st, 0, 10, proof, &n, err), RK_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(rk_merkle_consistency_proof(store_get, &fx->st, 10, 10, proof, &n, err), RK_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(rk_merkle_consistency_proof(store_get, &fx->st, 0, 0, proof, &n, err), RK_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(fx->st.lookups, 0);

    /* a source that lacks a subtree: the error passes through, named */
    fx->st.limit = 1000;
    ck_assert_int_eq(rk_merkle_inclusion_proof(store_get, &fx->st, 0, 200, proof, &n, err), RK_ERR_NOTFOUND);
    ck_assert_str_eq(err, "merkle subtree (6, 2): not stored");
    ck_assert_int_eq(rk_merkle_consistency_proof(store_get, &fx->st, 3, 200, proof, &n, NULL), RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_merkle_range_root(store_get, &fx->st, 0, 131, h, err), RK_ERR_NOTFOUND);
    ck_assert_str_eq(err, "merkle subtree (0, 130): not stored");
    memset(&f, 0x55, sizeof f);
    ck_assert_int_eq(rk_merkle_frontier_load(&f, 256, store_get, &fx->st, err), RK_ERR_NOTFOUND);
    ck_assert_str_eq(err, "merkle subtree (8, 0): not stored");
    ck_assert(f.size == 0);
    fixture_free(fx);
}
END_TEST

/* A source that fails without writing any detail. */
static rk_err silent_get(void *ctx, unsigned level, uint64_t index,
                         uint8_t out[32], char *err)
{
    (void)ctx; (void)level; (void)index; (void)out; (void)err;
    return RK_ERR_IO;
}

START_TEST(generate_error_without_detail)
{
    uint8_t proof[RK_MERKLE_MAX_INCLUSION][32];
    char err[RK_ERROR_SIZE];
    size_t n;

    strcpy(err, "stale text");
    ck_assert_int_eq(rk_merkle_inclusion_proof(silent_get, NULL, 5, 9, proof, &n, err), RK_ERR_IO);
    ck_assert_str_eq(err, "merkle subtree (0, 8): input/output error");
}
END_TEST

START_TEST(frontier_limits)
{
    rk_merkle_frontier f, copy;
    store st;
    uint8_t leaf[32], root[32];
    int i;

    /* a full tree refuses one more leaf and stays as it was */
    rk_merkle_frontier_init(&f);
    f.size = UINT64_MAX;
    memset(f.node, 0x33, sizeof f.node);
    copy = f;
    memset(leaf, 1, 32);
    ck_assert_int_eq(rk_merkle_frontier_append(&f, leaf, NULL, NULL), RK_ERR_RANGE);
    ck_assert(memcmp(&f, &copy, sizeof f) == 0);

    /* an emit failure leaves the frontier unchanged */
    store_init(&st);
    rk_merkle_frontier_init(&f);
    for (i = 0; i < 7; i++)
        ck_assert_int_eq(rk_merkle_frontier_append(&f, leaf, store_emit, &st), RK_OK);
    copy = f;
    st.fail_after = st.emits + 2; /* the leaf and level 1 succeed, level 2 fails */
    ck_assert_int_eq(rk_merkle_frontier_append(&f, leaf, store_emit, &st), RK_ERR_IO);
    ck_assert(memcmp(&f, &copy, sizeof f) == 0);
    store_free(&st);
    /* append without emit works the same */
    ck_assert_int_eq(rk_merkle_frontier_append(&f, leaf, NULL, NULL), RK_OK);
    ck_assert(f.size == 8);
    rk_merkle_frontier_root(&f, root);
    ck_assert(memcmp(root, f.node[3], 32) == 0);
    for (i = 0; i < 3; i++)
        ck_assert(memcmp(f.node[i], (uint8_t[32]){0}, 32) == 0);
}
END_TEST

START_TEST(frontier_corrupt)
{
    fixture *fx = fixture_new();
    rk_merkle_frontier g;
    rk_buf enc = RK_BUF_INIT;
    char err[RK_ERROR_SIZE];
    uint8_t *p;
    size_t len, cut;

    ck_assert_int_eq(rk_merkle_frontier_encode(&fx->fr[7], &enc), RK_OK);
    p = enc.data;
    len = enc.len;
    ck_assert_uint_eq(len, 9 + 3 * 32);

    ck_assert_int_eq(rk_merkle_frontier_decode(&g, p, 0, err), RK_ERR_CORRUPT);
    ck_assert_str_eq(err, "merkle frontier: empty");
    for (cut = 1; cut < len; cut++) {
        ck_assert_int_eq(rk_merkle_frontier_decode(&g, p, cut, err), RK_ERR_CORRUPT);
        ck_assert(g.size == 0);
    }
    ck_assert_int_eq(rk_merkle_frontier_decode(&g, p, 5, err), RK_ERR_CORRUPT);
    ck_assert_str_eq(err, "merkle frontier: truncated at 5 bytes");
    ck_assert_int_eq(rk_merkle_frontier_decode(&g, p, len - 1, err), RK_ERR_CORRUPT);
    ck_assert_str_eq(err, "merkle frontier: 104 bytes, size 7 needs 105");

    /* extra bytes */
    ck_assert_int_eq(rk_buf_putc(&enc, 0), RK_OK);
    ck_assert_int_eq(rk_merkle_frontier_decode(&g, enc.data, enc.len, err), RK_ERR_CORRUPT);
    ck_assert_str_eq(err, "merkle frontier: 106 bytes, size 7 needs 105");
    enc.len--;

    /* a size whose hash count does not match the bytes */
    p = enc.data;
    p[8] = 8;
    ck_assert_int_eq(rk_merkle_frontier_decode(&g, p, len, err), RK_ERR_CORRUPT);
    ck_assert_str_eq(err, "merkle frontier: 105 bytes, size 8 needs 41");
    p[8] = 7;

    /* wrong versions */
    p[0] = 0;
    ck_assert_int_eq(rk_merkle_frontier_decode(&g, p, len, err), RK_ERR_VERSION);
    ck_assert_str_eq(err, "merkle frontier: unknown version 0");
    p[0] = 2;
    ck_assert_int_eq(rk_merkle_frontier_decode(&g, p, len, err), RK_ERR_VERSION);
    ck_assert_int_eq(rk_merkle_frontier_decode(&g, p, 1, err), RK_ERR_VERSION);
    p[0] = 1;
    ck_assert_int_eq(rk_merkle_frontier_decode(&g, p, len, NULL), RK_OK);

    /* the empty tree encodes as 9 bytes */
    rk_buf_reset(&enc);
    ck_assert_int_eq(rk_merkle_frontier_encode(&fx->fr[0], &enc), RK_OK);
    ck_assert_uint_eq(enc.len, 9);
    ck_assert(memcmp(enc.data, "\x01\0\0\0\0\0\0\0\0", 9) == 0);
    ck_assert_int_eq(rk_merkle_frontier_decode(&g, enc.data, enc.len, err), RK_OK);
    ck_assert(g.size == 0);
    rk_buf_free(&enc);
    fixture_free(fx);
}
END_TEST

/*
 * Huge trees: a source where every leaf is the same, so the subtree at
 * level L is T[L] = H(T[L-1], T[L-1]) whatever its index.  Exercises the
 * 64-bit edges (size 2^64 - 1, 64-level paths) without storing anything.
 */
typedef struct uniform {
    uint8_t t[RK_MERKLE_MAX_LEVELS][32];
    uint64_t limit;
} uniform;

static rk_err uniform_get(void *ctx, unsigned level, uint64_t index,
                          uint8_t out[32], char *err)
{
    uniform *u = ctx;

    (void)err;
    CHECK(index < (u->limit >> level));
    memcpy(out, u->t[level], 32);
    return RK_OK;
}

START_TEST(huge_trees)
{
    static uniform u;
    uint8_t root_n[32], root_m[32], proof[RK_MERKLE_MAX_CONSISTENCY][32];
    const uint8_t (*p)[32] = (const uint8_t (*)[32])proof;
    static const uint64_t sizes[] = { UINT64_MAX, UINT64_MAX - 1, (uint64_t)1 << 63,
                                      ((uint64_t)1 << 63) + 1, 0x5555555555555555ULL };
    char err[RK_ERROR_SIZE];
    rk_merkle_frontier f, g;
    rk_buf enc = RK_BUF_INIT;
    unsigned l, s;
    size_t n;

    rk_merkle_leaf_hash(u.t[0], (const uint8_t *)"x", 1);
    for (l = 1; l < RK_MERKLE_MAX_LEVELS; l++)
        rk_merkle_node_hash(u.t[l], u.t[l - 1], u.t[l - 1]);
    for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint64_t size = sizes[s];
        uint64_t idx[] = { 0, size - 1, size / 2, size / 3 };
        uint64_t ms[] = { 1, size - 1, size / 2, ((uint64_t)1 << 62) + 3 };
        unsigned i;

        u.limit = size;
        ck_assert_int_eq(rk_merkle_range_root(uniform_get, &u, 0, size, root_n, err), RK_OK);
        ck_assert_int_eq(rk_merkle_frontier_load(&f, size, uniform_get, &u, err), RK_OK);
        rk_merkle_frontier_root(&f, root_m);
        assert_hash(root_m, root_n);
        ck_assert_int_eq(rk_merkle_frontier_encode(&f, &enc), RK_OK);
        ck_assert_int_eq(rk_merkle_frontier_decode(&g, enc.data, enc.len, err), RK_OK);
        ck_assert(memcmp(&f, &g, sizeof f) == 0);
        rk_buf_reset(&enc);
        for (i = 0; i < 4; i++) {
            ck_assert_int_eq(rk_merkle_inclusion_proof(uniform_get, &u, idx[i], size, proof, &n, err), RK_OK);
            ck_assert_uint_le(n, RK_MERKLE_MAX_INCLUSION);
            ck_assert_uint_ge(n, 1);
            ck_assert_int_eq(rk_merkle_verify_inclusion(u.t[0], idx[i], size, p, n, root_n), RK_OK);
            proof[n / 2][0] ^= 1;
            ck_assert_int_eq(rk_merkle_verify_inclusion(u.t[0], idx[i], size, p, n, root_n), RK_ERR_SIGNATURE);

            if (ms[i] >= size)
                continue;
            u.limit = ms[i];
            ck_assert_int_eq(rk_merkle_range_root(uniform_get, &u, 0, ms[i], root_m, err), RK_OK);
            u.limit = size;
            ck_assert_int_eq(rk_merkle_consistency_proof(uniform_get, &u, ms[i], size, proof, &n, err), RK_OK);
            ck_assert_uint_le(n, RK_MERKLE_MAX_CONSISTENCY);
            ck_assert_int_eq(rk_merkle_verify_consistency(ms[i], size, root_m, root_n, p, n), RK_OK);
            proof[n - 1][31] ^= 1;
            ck_assert_int_eq(rk_merkle_verify_consistency(ms[i], size, root_m, root_n, p, n), RK_ERR_SIGNATURE);
        }
    }
    /* the longest frontier */
    f.size = UINT64_MAX;
    ck_assert_int_eq(rk_merkle_frontier_encode(&f, &enc), RK_OK);
    ck_assert_uint_eq(enc.len, RK_MERKLE_FRONTIER_MAX_ENCODED);
    rk_buf_free(&enc);
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("merkle");
    TCase *tc = tcase_create("core");
    TCase *prop = tcase_create("properties");

    tcase_add_test(tc, hash_basics);
    tcase_add_test(tc, vectors_reference_tree);
    tcase_add_test(tc, vectors_probes);
    tcase_add_test(tc, verify_edges);
    tcase_add_test(tc, verify_extra_levels);
    tcase_add_test(tc, generate_errors);
    tcase_add_test(tc, generate_error_without_detail);
    tcase_add_test(tc, frontier_limits);
    tcase_add_test(tc, frontier_corrupt);
    tcase_add_test(tc, huge_trees);
    suite_add_tcase(s, tc);

    /* exhaustive over 130 sizes; slow under sanitizers and valgrind */
    tcase_set_timeout(prop, 600);
    tcase_add_test(prop, prop_roots_and_frontier);
    tcase_add_test(prop, prop_inclusion);
    tcase_add_test(prop, prop_consistency);
    suite_add_tcase(s, prop);
    return s;
}
