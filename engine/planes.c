/*
 * planes.c - three-plane state per payment reference (formats/replay.md).
 *
 * Storage per payment: the folded provider events in a compact form, kept
 * sorted by the event order of formats/replay.md; the latest version of
 * each commerce and finance row.  The provider view is derived from the
 * sorted events when the state is rendered, so an event that arrives late
 * costs one insertion into its payment's array and no other payment is
 * touched.  Bodies are read in place with the canonical cursor (canon.h);
 * the documents are written as canonical bytes without trees.  With a
 * record source (rk_planes_set_source), closed idle payments are compacted
 * to their two renderings, which a compactor thread writes to a spill file,
 * and expanded from the ledger when a record joins them again (section 10).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "amount.h"
#include "bytes.h"
#include "canon.h"
#include "canon_int.h"
#include "lifecycle.h"
#include "planes.h"
#include "planes_int.h"
#include "pool.h"
#include "policy.h"

#define NO_TIME INT64_MIN

/* An exact decimal: v units of 10^-scale.  Text in, text out, no floats. */
typedef struct dec {
    rk_amount v;
    unsigned scale;
} dec;

/*
 * Events are most of what an open payment holds (formats/replay.md section
 * 10), so their structs are laid out to waste nothing: an amount is its
 * 16-byte value and a one-byte scale (a dec is 32 bytes, 12 of them
 * padding for the value's alignment), the small fields are bytes at the
 * end, and pointers and 64-bit fields fill the rest without holes.  An
 * item is 80 bytes (not 96), an event 176 (not 224).
 */

/* One item of a provider event's payments[] list. */
struct pmt {
    rk_amount amount_v; /* the amount: amount_v units of 10^-amount_scale */
    int64_t conf;       /* -1 when not reported */
    const char *asset, *network, *contract, *tx, *memo;
    unsigned char amount_scale; /* at most RK_AMOUNT_MAX_DECIMALS */
    unsigned char finalized;
};

/* One folded provider event; its items and strings follow it in its allocation. */
struct pev {
    rk_amount exp_v;   /* expected.amount: exp_v units of 10^-exp_scale */
    int64_t occurred_at;
    int64_t order_seq; /* -1 when absent */
    uint64_t seq;
    const char *provider, *event_id, *event_type, *status, *context;
    const char *pid, *parent, *order, *flag, *reason;
    const char *exp_asset, *exp_network, *exp_contract;
    struct pmt *pm;
    int16_t rank;          /* rk_state_rank (0..110), -1 unmapped */
    unsigned char implied; /* an rk_state (below RK_STATE__COUNT) */
    signed char mapped;    /* 1: status word mapped; 0: the body's state; -1: neither */
    unsigned char api;     /* source api_read */
    unsigned char has_expected;
    unsigned char exp_scale; /* at most RK_AMOUNT_MAX_DECIMALS */
    unsigned char npm;       /* at most 64 items */
    /* strlen of provider, event_id, pid and order (0 when NULL), set by
     * pev_head and pev_finish: the fold's keys and fingerprint need them
     * (prep_keys, ev_fp), and measuring them there cost a strlen each */
    uint32_t provider_n, event_id_n, pid_n, order_n;
};

/* A dec's scale in a byte: parsed amounts have at most RK_AMOUNT_MAX_DECIMALS. */
_Static_assert(RK_AMOUNT_MAX_DECIMALS <= 255, "an amount's scale fits in a byte");
_Static_assert(RK_STATE__COUNT <= 256, "a state fits in a byte");

struct crow {
    uint64_t seq;
    const char *row_id, *event, *price_cur, *exp_asset, *exp_network, *exp_contract,
        *exp_memo;
    int64_t occurred_at, expires_at;
    int has_price, has_expected, has_amount;
    dec price, exp, amount;
};

struct frow {
    uint64_t seq;
    const char *row_id, *account, *currency, *fx_rate, *fx_source, *period;
    int credit;
    dec amount;
    int64_t recognised_at;
};

/*
 * What a payment held in full keeps beyond its index entry: its map keys,
 * events, rows and duplicates.  A separate allocation, so that a compacted
 * payment (formats/replay.md section 10) frees it whole and keeps only its
 * index entry, struct pay, in memory (64 bytes with malloc's header, not
 * 192 as when these lists were inside it).  It is a block of the state's
 * pool (pool.h), like the events and rows, where a malloc and a free cost
 * a payment about ten times as much; 240 bytes, which with the pool's
 * 16-byte header fill a 256-byte block exactly.
 *
 * The first few entries of each list live in the struct itself (the *_in
 * arrays: room for what most payments hold), and a list moves to the heap
 * only when it outgrows them, doubling from there (list_room).  A payment
 * then costs one allocation for all its lists instead of four or five that
 * grew by one entry at a time.  Each event has a fingerprint beside it (evh:
 * ev_fp of its event id), so that looking for a duplicate compares one
 * word per event and reads strings only on a match (pay_has_event).
 */
#define KEYS_IN 2  /* "o" US order and "p" US provider US id */
#define EV_IN 8
#define ROWS_IN 2
#define DUPS_IN 1  /* a redelivered event: most payments have none or one */

struct paylists {
    char **keys; /* map keys that point here */
    size_t nkeys;
    struct pev **ev;
    uint32_t *evh; /* evh[i]: ev_fp(ev[i]->event_id) */
    size_t nev;
    struct crow **cr;
    size_t ncr;
    struct frow **fr;
    size_t nfr;
    uint64_t *dupseq; /* sequence numbers of the duplicates, for the evidence */
    size_t ndupseq;
    char *keys_in[KEYS_IN];
    struct pev *ev_in[EV_IN];
    uint32_t evh_in[EV_IN];
    struct crow *cr_in[ROWS_IN];
    struct frow *fr_in[ROWS_IN];
    uint64_t dupseq_in[DUPS_IN];
};

/*
 * A payment.  Its index entry is this struct; L holds the rest while the
 * payment is held in full and is NULL once its lists are dropped
 * (compacted, pay_drop_lists), until it is expanded again (pay_expand).
 */
struct pay {
    char *ref; /* the name in one of its map keys (pay_name): not a copy, never freed */
    struct paylists *L;
    uint64_t dups;
    uint64_t touched; /* records folded when a record last joined it */
    /* compacted (formats/replay.md section 10): the spill file holds the
     * state bytes then the evidence bytes of the payment at spill_off */
    uint64_t spill_off;
    uint64_t pol_gen; /* the policy generation the renderings were written under;
                       * while open, the one seen_open was found under */
    uint32_t state_len, evid_len;
    unsigned char has_order;
    unsigned char dead;
    unsigned char compact;
    /* guarded by the compactor's lock: handed to the compactor thread and
     * not finished yet; its compaction failed (the lists are still there) */
    unsigned char pending, failed;
    /* open, and found not closed by a sweep since a record last joined it,
     * under policy generation pol_gen: its verdict cannot have changed
     * (pay_closed).  Cleared whenever a record joins it. */
    unsigned char seen_open;
};

/*
 * A slot of the key map: 16 bytes, where a pointer to the key and its full
 * 64-bit hash took 24 (the map has two slots or more per key, for every
 * payment closed or open).  The key is named by its place in the key blocks
 * (key_at), the hash by its low 32 bits, which pick the slot and are
 * compared before the key.  Empty: pay NULL.
 */
struct slot {
    uint32_t hash; /* hash_key of the key's parts */
    uint32_t key;  /* block << 16 | offset in the block (key_at) */
    struct pay *pay;
};

struct skip {
    uint64_t seq;
    char *reason;
};


/* ---- the rail policy, behind one small interface ---------------------- */

/*
 * The policy in force is the latest policy record folded (formats/replay.md).
 * Everything the provider view needs from it goes through rail_find and
 * rail_verdict: the rail policy module (engine/policy.h) is used here and
 * nowhere else in this file.
 */
struct rail {
    unsigned decimals;
    uint32_t to_credit, finality;
    int by_flag, probabilistic;
    int64_t expiry_grace_s, stale_after_s;
    const void *impl;
};

struct policy_slot {
    int present;   /* a policy record was folded and understood */
    uint64_t seq;  /* its sequence number */
    uint8_t digest[RK_HASH_SIZE]; /* SHA-256 of its body */
    void *impl;
};

static void policy_clear(struct policy_slot *s)
{
    rk_policy_free(s->impl);
    memset(s, 0, sizeof *s);
}

/*
 * Take a policy record's body.  A body that does not parse leaves the
 * policy in force as it was; the caller lists the record as skipped.
 */
static rk_err policy_set(struct policy_slot *s, const uint8_t *body, size_t len,
                         uint64_t seq, char *why)
{
    rk_policy *np = NULL;
    rk_err rc = rk_policy_from_record_body(body, len, &np, why);

    if (rc != RK_OK)
        return rc;
    policy_clear(s);
    s->impl = np;
    s->present = 1;
    s->seq = seq;
    return rk_policy_digest(np, s->digest);
}

/* 1 and *out when the policy has the rail; 0 when it does not; -1 without policy. */
static int rail_find(const struct policy_slot *s, const char *asset, const char *network,
                     const char *contract, struct rail *out)
{
    const rk_rail *r;

    if (!s->present)
        return -1;
    if (asset == NULL || network == NULL)
        return 0;
    r = rk_policy_find(s->impl, network, asset, contract);
    if (r == NULL && (contract == NULL || contract[0] == '\0'))
        r = rk_policy_find_implied(s->impl, network, asset);
    if (r == NULL)
        return 0;
    out->decimals = r->decimals;
    out->to_credit = r->confirmations_to_credit;
    out->finality = r->finality_depth;
    out->by_flag = r->finality_by_flag;
    out->probabilistic = r->probabilistic_finality;
    out->expiry_grace_s = r->expiry_grace_s;
    out->stale_after_s = r->stale_after_s;
    out->impl = r;
    return 1;
}

/*
 * The contract of (asset, network) as the policy in force resolves it: the
 * contract given, else (a provider naming only a symbol, like NOWPayments'
 * "usdttrc20") the one token rail of that symbol on that network
 * (rk_policy_find_implied), else NULL.
 */
static const char *contract_of(const struct policy_slot *s, const char *asset,
                               const char *network, const char *contract)
{
    const rk_rail *r;

    if (contract != NULL && contract[0] != '\0')
        return contract;
    if (!s->present || asset == NULL || network == NULL)
        return NULL;
    r = rk_policy_find_implied(s->impl, network, asset);
    return r != NULL && r->contract[0] != '\0' ? r->contract : NULL;
}

/* Do two contracts of one (asset, network) name the same token? */
static int same_contract(const struct policy_slot *s, const char *asset,
                         const char *network, const char *a, const char *b)
{
    a = contract_of(s, asset, network, a);
    b = contract_of(s, asset, network, b);
    if (a == NULL || b == NULL)
        return a == b;
    /* EVM hex compares without case, base58 and the rest exactly (as policies) */
    if (a[0] == '0' && (a[1] == 'x' || a[1] == 'X'))
        return strcasecmp(a, b) == 0;
    return strcmp(a, b) == 0;
}

/* -1 short, 0 within tolerance, +1 over; amounts in the rail's decimals. */
static int rail_verdict(const struct rail *r, rk_amount expected, rk_amount paid)
{
    return rk_policy_amount_verdict(r->impl, expected, paid);
}

/*
 * The spill file (formats/replay.md section 10): the renderings of the
 * compacted payments, appended one after the other to an unlinked file in
 * $TMPDIR, so that a closed payment costs its index entry in memory and not
 * its ~1 KB of JSON.  Writes are gathered in buf and written in blocks of
 * SPILL_BLOCK bytes; buf holds the bytes [flushed, size) of the file.  The
 * file only grows: the bytes of a payment that is expanded again are not
 * reused (a replay is short-lived, and a payment expands rarely).
 */
#define SPILL_BLOCK (256 * 1024)

struct spill {
    int fd;            /* -1 until the first compaction */
    size_t block;      /* the size of buf: SPILL_BLOCK, smaller in tests */
    uint64_t size;     /* bytes appended, written or in buf */
    uint64_t flushed;  /* bytes written to fd */
    uint8_t *buf;      /* block bytes once the file is open */
    size_t len;        /* bytes in buf */
    rk_buf rd;         /* one payment's bytes read back */
};

/*
 * The compactor thread (formats/replay.md section 10).  Rendering a closed
 * payment costs about a third of the fold's time, and nothing else needs
 * it until the document is written, so the fold hands closed payments to
 * a thread of its own, which renders them and appends the renderings to
 * the spill file; the fold thread frees their lists (comp_reap).  From the hand-over until the thread
 * is done with it (pending), the fold thread does not touch the payment:
 * a record that joins it, or anything that reads the spill file, waits for
 * it first (comp_settle, comp_drain).  The renderings read only the
 * payment's lists and the policy in force, and a policy record waits until
 * every pending payment is done before it replaces the policy, so they are
 * the bytes the fold thread would have written.  Errors travel back to the
 * fold thread, which returns them at its next sweep or wait.
 */
struct compactor {
    pthread_mutex_t mu; /* guards this, the spill file, pending and failed */
    pthread_cond_t work; /* a payment was handed over, or stop */
    pthread_cond_t done; /* a payment is done */
    pthread_t th;
    int started;         /* the thread runs */
    int nothread;        /* not wanted (rk_planes_no_thread) or could not be started:
                          * compact on the fold thread, at the sweep */
    int stop;
    struct pay **q;      /* handed over, in order: q[qhead..qlen) */
    size_t qhead, qlen, qcap;
    /* fold thread only: the payments a sweep compacts, handed over together
     * at its end (comp_hand_over), with one wake-up of the thread */
    struct pay **batch;
    size_t nbatch, batchcap;
    size_t njobs;        /* handed over and not done */
    rk_err rc;           /* the first failure; every later payment fails with it */
    char err[RK_ERROR_SIZE];
    rk_buf sb, eb;       /* the renderings of the payment being compacted */
    struct pay **dq;     /* done, their lists not freed yet: dq[0..ndq) */
    size_t ndq, dqcap;
    rk_pool_cache pc;    /* the thread's own blocks (pool.h), when it frees lists */
};

/* Room for the strings of the record being folded (see obj_load). */
struct scratch {
    char *buf;
    size_t cap, used;
};

/*
 * The map's key strings (formats/replay.md section 10).  A key is never
 * removed before the state is freed, so keys are cut from 64 KiB blocks
 * one after the other instead of one malloc each: a key of a closed payment
 * then costs its bytes, not a 32- or 48-byte heap chunk.  A key is named by
 * a 32-bit handle, block << 16 | offset (struct slot), so there are at most
 * 65 536 blocks (4 GiB of keys, tens of millions of payments); a key past
 * them is refused as out of memory.
 */
#define KEYBLOCK (64 * 1024)
#define KEYBLOCKS_MAX (64 * 1024)

struct rk_planes;
static rk_err pay_expand(struct rk_planes *p, struct pay *y, char *err);
static rk_err spill_get(struct spill *sp, uint64_t off, size_t n, rk_buf *out, char *err);
static void comp_stop(struct rk_planes *p);
static void comp_reap(struct rk_planes *p);
static rk_err comp_drain(struct rk_planes *p, char *err);

struct rk_planes {
    struct slot *slots;
    size_t nslots, used;
    char **kblk;         /* the key blocks, KEYBLOCK bytes each; the last one is being cut */
    size_t nkblk, kblkcap;
    size_t kused;        /* bytes cut from the last block */
    struct pay **pays;
    size_t npays, paycap;
    struct skip *skips;
    size_t nskips;
    uint64_t last_seq;
    int any;
    struct pay *last;
    int last_dup;
    int64_t clock; /* latest provider occurred_at folded: the replay's clock */
    rk_planes_stats st;
    struct policy_slot pol;
    struct scratch sc; /* strings of the record being folded */
    struct scratch rsc; /* strings of a record read back to expand a payment */
    uint64_t pol_gen;   /* bumped when the policy in force changes */
    rk_planes_fetch_fn fetch;
    void *fetch_ctx;
    uint64_t idle;      /* compact closed payments untouched for this many records */
    uint64_t next_sweep;
    struct pay *target; /* while expanding: rows join this payment */
    struct pay **open;  /* payments not compacted (dead ones until swept) */
    size_t nopen, opencap;
    uint64_t compacted, expanded;
    struct spill sp;
    struct compactor comp;
    rk_pool *pool;      /* every event and row (pool.h) */
    rk_pool_cache pc;   /* the fold thread's blocks of it */
};

/* ---- small helpers -------------------------------------------------- */

/*
 * The general rule of dec_parse_n: the scale is the count of bytes after
 * the first dot (at most RK_AMOUNT_MAX_DECIMALS), then rk_amount_parse at
 * that scale decides.  Out of line: dec_parse_n's one pass takes nearly
 * every amount.
 */
static __attribute__((noinline)) int dec_parse_rule(const char *s, size_t n, dec *out)
{
    const char *dot = memchr(s, '.', n);
    unsigned scale = 0;

    if (dot != NULL)
        scale = (unsigned)(n - (size_t)(dot - s) - 1);
    if (scale > RK_AMOUNT_MAX_DECIMALS)
        return -1;
    if (rk_amount_parse(s, n, scale, &out->v, NULL) != RK_OK)
        return -1;
    out->scale = scale;
    return 0;
}

/*
 * An amount's text s[0..n) (no NUL needed): its scale is its fraction
 * digits.  One pass for the common short text ("0.00100799", "-12.50"):
 * an optional '-', integer digits without a leading zero (but "0"), and
 * optionally a dot and at least one fraction digit, all digits summed into
 * one 64-bit number.  At most 19 bytes, so at most 19 digits: below
 * 10^19 < 2^64, and far inside the amount range (38 digits) and the
 * decimals limit.  Such a text is exactly what rk_amount_parse accepts at
 * scale = its fraction digits, with the same value (the digits, signed);
 * anything else (longer, another byte, no digits, "5.", ".5", leading
 * zeros, a '+') goes to dec_parse_rule, which decides as before.
 * test_planes_dec holds the two against each other.
 */
static inline int dec_parse_n(const char *s, size_t n, dec *out)
{
    size_t i, neg, int_len, from;
    uint64_t acc = 0;
    unsigned d;

    if (n == 0 || n > 19)
        return dec_parse_rule(s, n, out);
    neg = s[0] == '-';
    for (i = neg; i < n && (d = (unsigned)(unsigned char)s[i] - '0') <= 9; i++)
        acc = acc * 10 + d;
    int_len = i - neg;
    from = i;
    if (i < n && s[i] == '.') {
        from = ++i;
        for (; i < n && (d = (unsigned)(unsigned char)s[i] - '0') <= 9; i++)
            acc = acc * 10 + d;
        if (i == from)
            return dec_parse_rule(s, n, out);
    }
    if (i != n || int_len == 0 || (int_len > 1 && s[neg] == '0'))
        return dec_parse_rule(s, n, out);
    out->v = neg ? -(rk_amount)acc : (rk_amount)acc;
    out->scale = (unsigned)(i - from);
    return 0;
}

/*
 * The amount in string member v (NULL: absent).  The text is read where it
 * stands when it holds no escape, else unescaped into a buffer: no valid
 * amount is longer than 1 + 38 + 1 + RK_AMOUNT_MAX_DECIMALS = 70 bytes, so
 * a value that does not fit in 128 is rejected as rk_amount_parse would.
 */
static int dec_parse_v(const rk_jv *v, dec *out)
{
    const char *s;
    size_t n;
    char buf[128];
    int esc;

    if (v == NULL)
        return -1;
    if (v->type == RK_JV_STRING && v->plain) /* no escape: rk_jv_raw's answer, inline */
        return dec_parse_n(v->p + 1, v->len - 2, out);
    esc = rk_jv_raw(v, &s, &n);
    if (esc < 0)
        return -1;
    if (esc > 0) {
        n = rk_jv_unescape(v, buf, sizeof buf);
        if (n == (size_t)-1)
            return -1;
        s = buf;
    }
    return dec_parse_n(s, n, out);
}


/* rk_amount_rescale's and rk_amount_add's range rule, inline. */
static inline int dec_in_range(rk_amount v)
{
    return v >= -RK_AMOUNT_LIMIT && v <= RK_AMOUNT_LIMIT;
}

/*
 * Bring a and b to one scale; -1 when that overflows.
 *
 * Two common cases skip rk_amount_rescale, whose range test divides by a
 * power of ten in 128 bits (~130 instructions a call): equal scales, where
 * a rescale changes nothing and fails only outside the range, and a zero
 * (a fresh sum) rising to the other's scale, which always succeeds.  Both
 * leave a and b exactly as the two rescales would, on failure included
 * (the zero's scale is set only once b is known to be in range).
 */
static int dec_align(dec *a, dec *b)
{
    unsigned s = a->scale > b->scale ? a->scale : b->scale;

    if (s <= RK_AMOUNT_MAX_DECIMALS) {
        if (a->scale == b->scale)
            return dec_in_range(a->v) && dec_in_range(b->v) ? 0 : -1;
        if (a->v == 0 && a->scale < b->scale) {
            if (!dec_in_range(b->v))
                return -1;
            a->scale = s;
            return 0;
        }
    }
    if (rk_amount_rescale(a->v, a->scale, s, &a->v) != RK_OK ||
        rk_amount_rescale(b->v, b->scale, s, &b->v) != RK_OK)
        return -1;
    a->scale = b->scale = s;
    return 0;
}

/* acc += x; -1 (acc's value unchanged, its scale perhaps aligned) when that
 * overflows.  After dec_align both are in range, which is all of
 * rk_amount_add's rule but the sum's own range and the 128-bit overflow
 * (two amounts near the limit exceed 2^127), tested here inline. */
static int dec_add(dec *acc, dec x)
{
    rk_amount r;

    if (dec_align(acc, &x) != 0)
        return -1;
    if (__builtin_add_overflow(acc->v, x.v, &r) || !dec_in_range(r))
        return -1;
    acc->v = r;
    return 0;
}

static int dec_cmp(dec a, dec b, int *out)
{
    if (dec_align(&a, &b) != 0)
        return -1;
    *out = rk_amount_cmp(a.v, b.v);
    return 0;
}

static size_t dec_format(dec d, char out[RK_AMOUNT_STR_MAX])
{
    return rk_amount_format(d.v, d.scale, out);
}

/*
 * Hashes for the key map.  A key is hashed from its parts (hash_part of
 * each, then hash_key), not from its bytes laid out in a row: the fold's
 * keys lie in parts in the event or row it read (an order, a provider, a
 * payment id), and copying them together to hash them cost more than the
 * hash; a record whose payment id is its order hashes that part once for
 * both of its keys.  Eight bytes at a time (a byte-at-a-time FNV-1a cost
 * four instructions a byte); a word's value depends on the byte order,
 * which only places keys in the table: nothing in the output depends on
 * the table (payments are rendered from p->pays).
 *
 * Each word is xored in and the state multiplied by an odd constant (the
 * splitmix64 one), then its halves swapped.  Bit j of a product depends on
 * bits 0..j of the state, so after one round the low 32 bits (a hash, and
 * what picks a slot) depend on every earlier word and on the new word's
 * low bits; its top byte reaches bits 24..31 only.  Every key takes one
 * round more after its last part (hash_key mixes in its kind), which
 * carries those bits down into the slot's bits.  No finalizer is needed
 * on top (three instructions a word: xor, imul, rol, where a splitmix64
 * finish cost a dozen per key).
 */
static uint64_t hash_word(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
    return h << 32 | h >> 32;
}

/*
 * The (unfinished) hash of part s[0..n): its length, then its words.  No
 * byte outside s[0..n) is read, so that a part can be hashed where it lies:
 * the last word is the last eight bytes (overlapping the one before); a
 * part of four to seven bytes is read as two overlapping words of four,
 * and a shorter one as its first, middle and last bytes.  The length is
 * mixed in first, so the overlaps cannot make two parts of different
 * lengths agree by construction; equal parts hash equal, which is all the
 * map needs (it compares the keys).
 */
static inline __attribute__((always_inline)) uint64_t hash_part(const char *s, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n, w;
    uint32_t u, v;
    size_t i;

    if (n >= 8) {
        for (i = 0; i + 8 < n; i += 8) {
            memcpy(&w, s + i, 8);
            h = hash_word(h, w);
        }
        memcpy(&w, s + n - 8, 8);
    } else if (n >= 4) {
        memcpy(&u, s, 4);
        memcpy(&v, s + n - 4, 4);
        w = (uint64_t)u << 32 | v;
    } else if (n > 0) {
        w = (uint64_t)(unsigned char)s[0] << 16 | (uint64_t)(unsigned char)s[n / 2] << 8 |
            (unsigned char)s[n - 1];
    } else {
        w = 0;
    }
    return hash_word(h, w);
}

/*
 * The fingerprint of an event id (struct paylists, evh): its length and
 * its last eight bytes, mixed (the ids of one provider differ mostly at
 * the end).  Only a filter: equal ids have equal fingerprints, and a match
 * is confirmed by comparing the strings (pay_has_event).  n: strlen(id),
 * which struct pev keeps (event_id_n).
 */
static uint32_t ev_fp(const char *id, size_t n)
{
    uint64_t w = 0;
    size_t i;

    /* a copy of a fixed eight bytes is two instructions; one of n bytes
     * was a call to memcpy */
    if (n >= 8)
        memcpy(&w, id + n - 8, 8);
    else
        for (i = 0; i < n; i++)
            w |= (uint64_t)(unsigned char)id[i] << (8 * i);
    return (uint32_t)hash_word(0x9e3779b97f4a7c15ULL ^ (uint64_t)n, w);
}

static int streq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

static int strcmp0(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

/*
 * Strings of one body packed into one allocation with the struct that
 * points at them: pack_add records a string member's view (and where its
 * pointer goes), pack_done allocates room for the struct plus every string
 * and unescapes each view straight into it.  So one body costs one malloc
 * and each string one copy; the caller copies its struct (built on the
 * stack, whose string pointers pack_done has set) to the start.
 */
#define PACK_MAX 96
struct pack {
    rk_pool_cache *pc; /* where the block comes from (pool.h) */
    const char **dst[PACK_MAX];
    rk_jv src[PACK_MAX]; /* copies: an item's views are reused for the next item */
    size_t n, bytes;
    int esc; /* set by pack_done: a string held an escape (was unescaped) */
};

/* v: a member's value, or NULL when absent; anything but a string is NULL */
static void pack_add(struct pack *k, const char **dst, const rk_jv *v)
{
    *dst = NULL;
    if (v == NULL || v->type != RK_JV_STRING || k->n >= PACK_MAX)
        return;
    k->dst[k->n] = dst;
    k->src[k->n] = *v;
    /* a value is never longer than its text: escapes only shrink (and a
     * canonical text holds no \u0000 that would cut it) */
    k->bytes += v->len - 2 + 1;
    k->n++;
}

/*
 * Copy n bytes from src to dst, for the short strings of a body (most are
 * 8 to 16 bytes, nearly all the rest under 33): two loads and two stores
 * of 16, 8 or 4 bytes that overlap in the middle, both within src[0..n)
 * and dst[0..n), or three of one byte under 4, instead of a call to
 * memcpy; longer ones go to memcpy.  The most common case is tested
 * first, with one comparison (n - 8 wraps around below 8).  Inlined (a
 * GCC attribute): as a call it cost as much as the copy.
 */
static inline __attribute__((always_inline)) void copy_short(char *dst, const char *src,
                                                             size_t n)
{
    unsigned char x[16], y[16]; /* fixed-size copies: one 16-byte load or store each */
    uint64_t a, b;
    uint32_t c, d;
    char e, f, g;

    if (n - 8 <= 8) {
        memcpy(&a, src, 8);
        memcpy(&b, src + n - 8, 8);
        memcpy(dst, &a, 8);
        memcpy(dst + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        memcpy(&c, src, 4);
        memcpy(&d, src + n - 4, 4);
        memcpy(dst, &c, 4);
        memcpy(dst + n - 4, &d, 4);
    } else if (n > 16 && n <= 32) {
        memcpy(x, src, 16);
        memcpy(y, src + n - 16, 16);
        memcpy(dst, x, 16);
        memcpy(dst + n - 16, y, 16);
    } else if (n > 32) {
        memcpy(dst, src, n);
    } else if (n > 0) {
        /* 1..3: the first, middle and last bytes (some the same) */
        e = src[0];
        f = src[n / 2];
        g = src[n - 1];
        dst[0] = e;
        dst[n / 2] = f;
        dst[n - 1] = g;
    }
}

/* head bytes (for the struct) then the strings; NULL when out of memory. */
static char *pack_done(struct pack *k, size_t head)
{
    size_t i, len, at = (head + 15) & ~(size_t)15;
    char *mem = rk_pool_alloc(k->pc, at + k->bytes + 1), *w, *end;

    if (mem == NULL)
        return NULL;
    w = mem + at;
    end = w + k->bytes + 1;
    k->esc = 0;
    for (i = 0; i < k->n; i++) {
        if (k->src[i].plain) {
            /* no backslash (the check said so): the text is the value */
            len = k->src[i].len - 2;
            copy_short(w, k->src[i].p + 1, len);
            w[len] = '\0';
        } else {
            len = rk_jv_unescape(&k->src[i], w, (size_t)(end - w));
            k->esc = 1;
        }
        *k->dst[i] = w;
        w += len + 1; /* fits: counted above */
    }
    return mem;
}

/*
 * Members are looked up by a number, not by name.  Every key the fold
 * reads, at any depth, has a field id; loading an object classifies each
 * member once (a switch on the key's length, then one comparison or a
 * few) and keeps the value views of known fields in a table indexed by id,
 * with a bit per field present.  Unknown keys are ignored.  The key is
 * compared as it stands in the text: none of these names holds a byte
 * that canonical JSON escapes, so a key with an escape is never one of
 * them.  Keys in a checked text are unique, so one slot per field is
 * enough.
 */
enum fld {
    F_ACCOUNT, F_AMOUNT, F_ASSET, F_CONFIRMATIONS, F_CONTEXT, F_CONTRACT, F_CURRENCY,
    F_EVENT, F_EVENT_ID, F_EVENT_TYPE, F_EXPECTED, F_EXPIRES_AT, F_FINALIZED, F_FLAG,
    F_FX_RATE, F_FX_SOURCE, F_MEMO, F_NETWORK, F_OCCURRED_AT, F_ORDER, F_ORDER_SEQ,
    F_PARENT, F_PAYMENT, F_PAYMENTS, F_PERIOD, F_PRICE, F_PROVIDER, F_REASON,
    F_RECOGNISED_AT, F_REFS, F_ROW_ID, F_SIDE, F_SOURCE, F_STATE, F_STATUS, F_TX, F_V,
    F__COUNT
};

#define IS(name) (n == sizeof name - 1 && memcmp(k, name, sizeof name - 1) == 0)

/* The field id of key k[0..n), or -1.  Inlined (a GCC attribute) into
 * obj_add: it runs for every member of every body read, and a call costs
 * a third of it. */
static inline __attribute__((always_inline)) int field_of(const char *k, size_t n)
{
    switch (n) {
    case 1: return IS("v") ? F_V : -1;
    case 2: return IS("tx") ? F_TX : -1;
    case 4:
        return IS("refs") ? F_REFS : IS("memo") ? F_MEMO : IS("flag") ? F_FLAG
               : IS("side") ? F_SIDE : -1;
    case 5:
        return IS("state") ? F_STATE : IS("price") ? F_PRICE : IS("order") ? F_ORDER
               : IS("event") ? F_EVENT : IS("asset") ? F_ASSET : -1;
    case 6:
        return IS("status") ? F_STATUS : IS("source") ? F_SOURCE : IS("reason") ? F_REASON
               : IS("amount") ? F_AMOUNT : IS("row_id") ? F_ROW_ID
               : IS("period") ? F_PERIOD : IS("parent") ? F_PARENT : -1;
    case 7:
        return IS("context") ? F_CONTEXT : IS("payment") ? F_PAYMENT
               : IS("network") ? F_NETWORK : IS("account") ? F_ACCOUNT
               : IS("fx_rate") ? F_FX_RATE : -1;
    case 8:
        return IS("provider") ? F_PROVIDER : IS("payments") ? F_PAYMENTS
               : IS("event_id") ? F_EVENT_ID : IS("expected") ? F_EXPECTED
               : IS("currency") ? F_CURRENCY : IS("contract") ? F_CONTRACT : -1;
    case 9:
        return IS("order_seq") ? F_ORDER_SEQ : IS("fx_source") ? F_FX_SOURCE
               : IS("finalized") ? F_FINALIZED : -1;
    case 10: return IS("event_type") ? F_EVENT_TYPE : IS("expires_at") ? F_EXPIRES_AT : -1;
    case 11: return IS("occurred_at") ? F_OCCURRED_AT : -1;
    case 13:
        return IS("confirmations") ? F_CONFIRMATIONS
               : IS("recognised_at") ? F_RECOGNISED_AT : -1;
    default: return -1;
    }
}

#undef IS

/*
 * The known members of one object: bit f of has is set when field f is
 * present, val[f] points to its value.  When the object was read from a
 * tape (rk_jv_parse_tape), val[f] points into the tape (which outlives the
 * object) and ent[f] is member f's entry there, so the members of a nested
 * object or array are found without walking the text again; otherwise
 * (tape NULL) they were read with a cursor, or listed by the known-shape
 * reader (shape_read), and their views are kept in own[].
 * A pointer is one store per member where a copy of the view was three.
 */
typedef struct obj {
    uint64_t has;
    const rk_jv *val[F__COUNT];
    const rk_jent *tape;
    size_t ent[F__COUNT];
    rk_jv own[F__COUNT];
} obj;
_Static_assert(F__COUNT <= 64, "one bit per field in has");

/* Member key (value *val, entry ent) into o when its field is known: its
 * field id, or -1.  Inlined, with field_of, into the two loops over
 * members (a GCC attribute). */
static inline __attribute__((always_inline)) int obj_add(obj *o, const rk_jv *key,
                                                         const rk_jv *val, size_t ent)
{
    int f = field_of(key->p + 1, key->len - 2);

    if (f >= 0) {
        o->has |= (uint64_t)1 << f;
        o->val[f] = val;
        o->ent[f] = ent;
    }
    return f;
}

/* An object's known members (none when v is NULL or not an object). */
static void obj_load(obj *o, const rk_jv *v)
{
    rk_jcur c;
    rk_jv k, m;
    int f;

    o->has = 0;
    o->tape = NULL;
    if (v == NULL || v->type != RK_JV_OBJECT)
        return;
    (void)rk_jcur_open(&c, v);
    while (rk_jcur_next(&c, &k, &m)) {
        f = obj_add(o, &k, &m, 0);
        if (f >= 0) {
            /* m is reused for the next member: keep its view here */
            o->own[f] = m;
            o->val[f] = &o->own[f];
        }
    }
}

/* The known members of the object whose members are tape[from..to). */
static void obj_load_tape(obj *o, const rk_jent *tape, size_t from, size_t to)
{
    size_t i;

    o->has = 0;
    o->tape = tape;
    for (i = from; i < to; i = tape[i].next)
        (void)obj_add(o, &tape[i].key, &tape[i].val, i);
}

/* The known members of o's member f (none when it is absent or not an
 * object): from the tape when o came from one. */
static void obj_sub(obj *sub, const obj *o, int f)
{
    const rk_jv *v = (o->has >> f) & 1 ? o->val[f] : NULL;

    if (v == NULL || v->type != RK_JV_OBJECT || o->tape == NULL) {
        obj_load(sub, v);
        return;
    }
    obj_load_tape(sub, o->tape, o->ent[f] + 1, o->tape[o->ent[f]].next);
}

/* The elements of an array member, each with its known members. */
struct elems {
    const rk_jent *tape; /* NULL: a cursor */
    size_t i, end;
    rk_jcur cur;
    int open;
};

static void elems_open(struct elems *it, const obj *o, int f)
{
    const rk_jv *v = (o->has >> f) & 1 ? o->val[f] : NULL;

    it->open = v != NULL && v->type == RK_JV_ARRAY;
    it->tape = o->tape;
    if (!it->open)
        return;
    if (it->tape != NULL) {
        it->i = o->ent[f] + 1;
        it->end = it->tape[o->ent[f]].next;
    } else {
        (void)rk_jcur_open(&it->cur, v);
    }
}

/* The next element into *v and its members (if an object) into *m; 0 at the end. */
static int elems_next(struct elems *it, rk_jv *v, obj *m)
{
    if (!it->open)
        return 0;
    if (it->tape == NULL) {
        if (!rk_jcur_next(&it->cur, NULL, v))
            return 0;
        obj_load(m, v);
        return 1;
    }
    if (it->i >= it->end)
        return 0;
    *v = it->tape[it->i].val;
    if (v->type == RK_JV_OBJECT)
        obj_load_tape(m, it->tape, it->i + 1, it->tape[it->i].next);
    else
        obj_load(m, NULL);
    it->i = it->tape[it->i].next;
    return 1;
}

/* The value of member f, or NULL when absent. */
static const rk_jv *oget(const obj *o, int f)
{
    return (o->has >> f) & 1 ? o->val[f] : NULL;
}

/* Member f when it is a string, else NULL (absent, null, another type). */
static const rk_jv *sget(const obj *o, int f)
{
    const rk_jv *v = oget(o, f);

    return v != NULL && v->type == RK_JV_STRING ? v : NULL;
}

/*
 * String member f unescaped into buf (cap bytes), or NULL when it is not a
 * string or does not fit.  Used for words compared against fixed names
 * (states, reasons, flags) and for times: a value longer than buf is none
 * of those, and NULL then means what a failed parse would.
 */
static const char *sbuf(const obj *o, int f, char *buf, size_t cap)
{
    const rk_jv *v = sget(o, f);

    if (v == NULL || rk_jv_unescape(v, buf, cap) == (size_t)-1)
        return NULL;
    return buf;
}

/* A string member copied into the scratch area (for strings of any length
 * that outlive no record: an order to look up); NULL when not a string. */
static const char *sc_str(struct scratch *sc, const rk_jv *v)
{
    size_t n;

    if (v == NULL || v->type != RK_JV_STRING || v->len + sc->used > sc->cap)
        return NULL;
    n = rk_jv_unescape(v, sc->buf + sc->used, sc->cap - sc->used);
    if (n == (size_t)-1)
        return NULL;
    sc->used += n + 1;
    return sc->buf + sc->used - n - 1;
}

/* An integer member within +-(2^53 - 1), the range the fold always allowed. */
static int jint(const obj *o, int f, int64_t *out)
{
    const rk_jv *m = oget(o, f);
    int64_t v;
    size_t i;

    /* Nearly every integer read (versions, counts) is small and not
     * negative: a checked canonical integer is its digits, and up to 15 of
     * them stay below 2^53, so they are summed here without the checks. */
    if (m != NULL && m->type == RK_JV_INT && m->len <= 15 && m->p[0] != '-') {
        for (v = 0, i = 0; i < m->len; i++)
            v = v * 10 + (m->p[i] - '0');
        *out = v;
        return 0;
    }
    if (m == NULL || rk_jv_int(m, &v) != 0 || v < -9007199254740991LL ||
        v > 9007199254740991LL)
        return -1;
    *out = v;
    return 0;
}

/* 1 when absent (or not a string), 0 and *out when a time, -1 otherwise.
 * The longest time rk_time_parse accepts has 35 bytes. */
static int jtime(const obj *o, int f, int64_t *out)
{
    char buf[64];
    const rk_jv *v = sget(o, f);

    if (v == NULL)
        return 1;
    /* no escape (and so no NUL): parsed where it stands */
    if (v->plain)
        return rk_time_parse_n(v->p + 1, v->len - 2, out) == RK_OK ? 0 : -1;
    if (rk_jv_unescape(v, buf, sizeof buf) == (size_t)-1)
        return -1;
    return rk_time_parse(buf, out) == RK_OK ? 0 : -1;
}

/* Is v (NULL: absent) a string whose value is s?  Inlined (a GCC
 * attribute) so that strlen(s) of the literal is a constant. */
static inline __attribute__((always_inline)) int is_str(const rk_jv *v, const char *s)
{
    size_t n;

    if (v == NULL)
        return 0;
    /* a plain string is its text: compared where it stands (s is a literal
     * at every call, so strlen and memcmp reduce to constants and words) */
    if (v->type == RK_JV_STRING && v->plain) {
        n = strlen(s);
        return v->len - 2 == n && memcmp(v->p + 1, s, n) == 0;
    }
    return rk_jv_is(v, s);
}

static int is_type(const rk_jv *v, rk_jv_type t)
{
    return v != NULL && v->type == t;
}

/* Elements of an array view (0 for anything else). */
static size_t arr_count(const rk_jv *v)
{
    rk_jcur c;
    rk_jv e;
    size_t n = 0;

    if (!is_type(v, RK_JV_ARRAY) || rk_jcur_open(&c, v) != 0)
        return 0;
    while (rk_jcur_next(&c, NULL, &e))
        n++;
    return n;
}

/* ---- the key map ------------------------------------------------------ */

/*
 * Open addressing with linear probing.  Each slot keeps 32 bits of its
 * key's hash, so a probe compares one word and reads a key only on a match: most
 * lookups miss (a new payment's keys) and would otherwise touch one key
 * string per probe.  The table is kept at most half full, which keeps the
 * probe runs short.  Iteration order never depends on the table (payments
 * are rendered from p->pays).
 */
/* The key a handle names (struct slot). */
static char *key_at(const rk_planes *p, uint32_t k)
{
    return p->kblk[k >> 16] + (k & 0xffff);
}

/* The length of the key a handle names: key_copy keeps it, a uint16_t in
 * the machine's byte order (one load; the blocks never leave memory), in
 * the two bytes before the key, so that a look-up compares lengths before
 * bytes and then compares a known number of them.  Before the length lies
 * the key's hash (key_hash_at). */
static size_t key_len(const rk_planes *p, uint32_t k)
{
    uint16_t n;

    memcpy(&n, key_at(p, k) - 2, 2);
    return n;
}

/* The hash of the key a handle's bytes start at (key_at): key_copy keeps it
 * in the four bytes before the length, as the key is hashed from its parts
 * (hash_key), which its text does not always tell apart (a provider may
 * hold a US). */
static uint32_t key_hash_at(const char *s)
{
    uint32_t h;

    memcpy(&h, s - 6, 4);
    return h;
}

/* The slot of key, a key of the map (the bytes map_put returned, as a
 * payment's list of keys keeps them), whose hash is h; NULL when absent.
 * For the rare look-ups by a key's text (pay_merge); the fold's own go
 * through map_find_k. */
static struct slot *map_find_h(const rk_planes *p, const char *key, uint32_t h)
{
    size_t i;

    if (p->nslots == 0)
        return NULL;
    i = (size_t)h & (p->nslots - 1);
    while (p->slots[i].pay != NULL) {
        if (p->slots[i].hash == h && strcmp(key_at(p, p->slots[i].key), key) == 0)
            return &p->slots[i];
        i = (i + 1) & (p->nslots - 1);
    }
    return NULL;
}

static struct slot *map_find(const rk_planes *p, const char *key)
{
    return map_find_h(p, key, key_hash_at(key));
}

/*
 * A map key as the fold looks it up: its parts, its length and its hash.
 * Keys: "o" US order, "p" US provider US payment id (US = 0x1f), so a key
 * is kind, US, b, and when c is not NULL US and c.  The parts are compared
 * against a key in the map where they lie (map_find_k), so the fold never
 * builds a key it finds; the hash is computed once per key, from its parts
 * where they lie (hash_key), by rk_planes_prefetch when the replay asked
 * for the record's keys ahead (the prep keeps the hashes and the lengths),
 * else by the fold.
 */
#define KEY_MAX (2 * RK_REF_MAX + 64)

struct key {
    uint32_t h;   /* hash_key of its parts */
    size_t len;   /* the key's bytes (before its NUL) */
    char kind;    /* 'o' or 'p'; 0 for the empty key (below) */
    const char *b, *c;
    size_t lb, lc;
};

/* Set k's parts (b[0..lb), c[0..lc) with c NULL for an order key), not its
 * hash.  A key of KEY_MAX bytes or more is the empty key, as it always was
 * (cannot happen: references are at most RK_REF_MAX bytes). */
static inline __attribute__((always_inline)) void
key_parts(struct key *k, char kind, const char *b, size_t lb, const char *c, size_t lc)
{
    size_t n = 2 + lb + (c != NULL ? 1 + lc : 0);

    if (n + 1 > KEY_MAX) {
        k->kind = 0;
        k->b = k->c = NULL;
        k->len = k->lb = k->lc = 0;
        return;
    }
    k->kind = kind;
    k->b = b;
    k->lb = lb;
    k->c = c;
    k->lc = lc;
    k->len = n;
}

/* The hash of key k from hb and hc, the hash_part of its parts (hc unused
 * when k has no c): b, its kind, then c, in that order (the parts' lengths,
 * hence the key's, are in hb and hc). */
static inline __attribute__((always_inline)) uint32_t
hash_key(const struct key *k, uint64_t hb, uint64_t hc)
{
    uint64_t h = hash_word(hb, (unsigned char)k->kind);

    if (k->c != NULL)
        h = hash_word(h, hc);
    return (uint32_t)h;
}

/* Hash k's parts where they lie. */
static void key_hash(struct key *k)
{
    k->h = hash_key(k, hash_part(k->b, k->lb), k->c != NULL ? hash_part(k->c, k->lc) : 0);
}

static void key_make(struct key *k, char kind, const char *b, const char *c)
{
    key_parts(k, kind, b, strlen(b), c, c != NULL ? strlen(c) : 0);
    key_hash(k);
}

static void key_order(struct key *k, const char *order)
{
    key_make(k, 'o', order, NULL);
}

static void key_pid(struct key *k, const char *provider, const char *pid)
{
    key_make(k, 'p', provider, pid);
}

/*
 * a[0..n) == b[0..n), inline: the parts of a key are a few to a few dozen
 * bytes, for which a call to memcmp cost more than the compare.  Words of
 * eight bytes, the last one overlapping the one before; below eight bytes,
 * two overlapping words of four; below four, bytes.  No byte outside
 * either range is read.
 */
static inline __attribute__((always_inline)) int mem_eq(const char *a, const char *b, size_t n)
{
    uint64_t x, y;
    uint32_t u, v;
    size_t i;

    if (n >= 8) {
        for (i = 0; i + 8 < n; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            if (x != y)
                return 0;
        }
        memcpy(&x, a + n - 8, 8);
        memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    if (n >= 4) {
        memcpy(&u, a, 4);
        memcpy(&v, b, 4);
        if (u != v)
            return 0;
        memcpy(&u, a + n - 4, 4);
        memcpy(&v, b + n - 4, 4);
        return u == v;
    }
    for (i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/* Is the key of handle kh the key k?  Lengths first: then every byte
 * compared lies within both keys. */
static int key_is(const rk_planes *p, uint32_t kh, const struct key *k)
{
    const char *s = key_at(p, kh);
    const char head[2] = {k->kind, '\x1f'};
    uint16_t x, y;

    if (key_len(p, kh) != k->len)
        return 0;
    if (k->len == 0)
        return 1;
    /* kind and US, in one compare */
    memcpy(&x, s, 2);
    memcpy(&y, head, 2);
    return x == y && mem_eq(s + 2, k->b, k->lb) &&
           (k->c == NULL || (s[2 + k->lb] == '\x1f' && mem_eq(s + 3 + k->lb, k->c, k->lc)));
}

static struct slot *map_find_k(const rk_planes *p, const struct key *k)
{
    size_t i;

    if (p->nslots == 0)
        return NULL;
    i = (size_t)k->h & (p->nslots - 1);
    while (p->slots[i].pay != NULL) {
        if (p->slots[i].hash == k->h && key_is(p, p->slots[i].key, k))
            return &p->slots[i];
        i = (i + 1) & (p->nslots - 1);
    }
    return NULL;
}

static struct pay *map_get(const rk_planes *p, const struct key *k)
{
    struct slot *s = map_find_k(p, k);

    return s != NULL ? s->pay : NULL;
}

/*
 * The keys of a prepared record (parsed: the event or row it read, which
 * the fold takes out of the prep), for rk_planes_prefetch and the fold:
 * their parts into k[0] (the order: "o" key) and k[1] (the payment id: "p"
 * key), from the lengths the prep keeps; *has says which are set (bit 0: k[0], bit 1:
 * k[1]).  0 when the prep has no keys: not a provider event or a row that
 * was read, or a row whose order is not plain text between quotes (the fold
 * unescapes that one, and keys it itself).  A provider event's payment id
 * is its pid, else its order.
 */
static inline __attribute__((always_inline)) int
prep_key_parts(const rk_planes_prep *prep, const void *parsed, int kind, struct key *k, int *has)
{
    const struct pev *e;
    const char *pid;

    *has = 0;
    if (prep->status != 1 || parsed == NULL)
        return 0;
    if (kind == RK_KIND_PROVIDER_EVENT) {
        e = parsed;
        pid = e->pid != NULL ? e->pid : e->order;
        if (e->order != NULL) {
            key_parts(&k[0], 'o', e->order, prep->key_n[0], NULL, 0);
            *has |= 1;
        }
        key_parts(&k[1], 'p', e->provider, prep->key_n[1], pid, prep->key_n[2]);
        *has |= 2;
        return 1;
    }
    /* a row joins the payment of its order: keyed when plain text between
     * quotes (no escape: its text is its value) */
    if (prep->order.type != RK_JV_STRING || !prep->order.plain)
        return 0;
    key_parts(&k[0], 'o', prep->order.p + 1, prep->key_n[0], NULL, 0);
    *has = 1;
    return 1;
}

/*
 * Measure and hash the keys of a prepared record (parsed, as above) once,
 * into the prep (key_n, key_h, keyed): rk_planes_prefetch does it a few records ahead,
 * and the fold for a record the replay did not prefetch.  Nothing of the
 * state is read: a record's keys are its own.
 */
static inline __attribute__((always_inline)) void
prep_keys(rk_planes_prep *prep, const void *parsed, int kind)
{
    const struct pev *e;
    const char *pid;
    struct key k[2];
    uint64_t ho = 0, hc;
    int has;

    if (prep->keyed || prep->status != 1 || parsed == NULL)
        return;
    if (kind == RK_KIND_PROVIDER_EVENT) {
        e = parsed;
        pid = e->pid != NULL ? e->pid : e->order;
        prep->key_n[0] = e->order_n;
        prep->key_n[1] = e->provider_n;
        prep->key_n[2] = pid == e->order ? e->order_n : e->pid_n;
    } else if (prep->order.type == RK_JV_STRING) {
        prep->key_n[0] = (uint32_t)(prep->order.len - 2);
    }
    if (!prep_key_parts(prep, parsed, kind, k, &has))
        return;
    if (has & 1) {
        ho = hash_part(k[0].b, k[0].lb);
        prep->key_h[0] = hash_key(&k[0], ho, 0);
    }
    if (has & 2) {
        /* a provider event without a pid: its "p" key ends with its order,
         * hashed just above */
        if (k[1].c == NULL)
            hc = 0;
        else if ((has & 1) && k[1].c == k[0].b && k[1].lc == k[0].lb)
            hc = ho;
        else
            hc = hash_part(k[1].c, k[1].lc);
        prep->key_h[1] = hash_key(&k[1], hash_part(k[1].b, k[1].lb), hc);
    }
    prep->keyed = 1;
}

/*
 * Prefetching (rk_planes_prefetch).  A state of many payments has a key
 * map of megabytes, and each record looks up one to three keys at random
 * places in it: the fold spent most of its look-up time waiting for the
 * slot's cache line (perf: nine tenths of map_find_h on one load).  The
 * replay knows the records it folds next, so it asks for the slots their
 * keys hash to ahead.  A prefetch changes nothing in the state: a wrong
 * guess (the table grows before the record is folded) only costs the line.
 * The keys' hashes and lengths stay in the prep for the fold.
 */
void rk_planes_prefetch(const rk_planes *p, rk_planes_prep *prep, int kind)
{
    prep_keys(prep, prep->parsed, kind);
    if (p->nslots == 0 || !prep->keyed)
        return;
    if (kind != RK_KIND_PROVIDER_EVENT || ((const struct pev *)prep->parsed)->order != NULL)
        __builtin_prefetch(&p->slots[prep->key_h[0] & (p->nslots - 1)]);
    if (kind == RK_KIND_PROVIDER_EVENT)
        __builtin_prefetch(&p->slots[prep->key_h[1] & (p->nslots - 1)]);
}

static int map_grow(rk_planes *p)
{
    size_t n = p->nslots == 0 ? 1024 : p->nslots * 2, i, j;
    struct slot *ns;

    if (n > (size_t)UINT32_MAX + 1)
        return -1; /* a 32-bit hash picks the slot */
    ns = calloc(n, sizeof *ns);
    if (ns == NULL)
        return -1;
    for (i = 0; i < p->nslots; i++) {
        if (p->slots[i].pay == NULL)
            continue;
        j = (size_t)p->slots[i].hash & (n - 1);
        while (ns[j].pay != NULL)
            j = (j + 1) & (n - 1);
        ns[j] = p->slots[i];
    }
    free(p->slots);
    p->slots = ns;
    p->nslots = n;
    return 0;
}

/* Copy key k (its hash in four bytes, its length in two, its bytes and its
 * NUL) into the key blocks (freed with the state) and set *out to its
 * handle, which names the bytes after the length; -1 when out of memory. */
static int key_copy(rk_planes *p, const struct key *k, uint32_t *out)
{
    size_t n = 6 + k->len + 1;
    uint16_t len16;
    char *d;

    if (n > KEYBLOCK || k->len > 0xffff)
        return -1; /* cannot happen: a key is at most KEY_MAX bytes */
    if (p->nkblk == 0 || KEYBLOCK - p->kused < n) {
        if (p->nkblk == KEYBLOCKS_MAX)
            return -1;
        if (p->nkblk == p->kblkcap) {
            size_t c = p->kblkcap == 0 ? 16 : 2 * p->kblkcap;
            char **nb = realloc(p->kblk, c * sizeof *nb);
            if (nb == NULL)
                return -1;
            p->kblk = nb;
            p->kblkcap = c;
        }
        p->kblk[p->nkblk] = malloc(KEYBLOCK);
        if (p->kblk[p->nkblk] == NULL)
            return -1;
        p->nkblk++;
        p->kused = 0;
    }
    d = p->kblk[p->nkblk - 1] + p->kused;
    memcpy(d, &k->h, 4);
    len16 = (uint16_t)k->len;
    memcpy(d + 4, &len16, 2);
    d += 6;
    if (k->len > 0) {
        d[0] = k->kind;
        d[1] = '\x1f';
        memcpy(d + 2, k->b, k->lb);
        if (k->c != NULL) {
            d[2 + k->lb] = '\x1f';
            memcpy(d + 3 + k->lb, k->c, k->lc);
        }
    }
    d[k->len] = '\0';
    *out = (uint32_t)((p->nkblk - 1) << 16 | (p->kused + 6));
    p->kused += n;
    return 0;
}

static int keys_push(struct paylists *l, char *key);

/* Add key, which is not in the map (every caller has just looked it up),
 * pointing at pay, and add it to pay's keys; the key is copied.  Its copy
 * in the map (which lives as long as the state), or NULL when out of
 * memory. */
static char *map_put(rk_planes *p, const struct key *key, struct pay *pay)
{
    uint32_t k;
    size_t i;
    char *s;

    if ((p->used + 1) * 2 >= p->nslots && map_grow(p) != 0)
        return NULL;
    if (key_copy(p, key, &k) != 0)
        return NULL;
    i = (size_t)key->h & (p->nslots - 1);
    while (p->slots[i].pay != NULL)
        i = (i + 1) & (p->nslots - 1);
    p->slots[i].hash = key->h;
    p->slots[i].key = k;
    p->slots[i].pay = pay;
    p->used++;
    s = key_at(p, k);
    return keys_push(pay->L, s) == 0 ? s : NULL;
}

/* ---- payments --------------------------------------------------------- */

/* An event, its items and its strings are one allocation (pev_parse). */
static void pev_free(rk_pool_cache *pc, struct pev *e)
{
    rk_pool_release(pc, e);
}

static void pay_drop_lists(rk_pool_cache *pc, struct pay *y);

/* Free y, its lists with it.  Its reference lies in the map's keys. */
static void pay_free(rk_pool_cache *pc, struct pay *y)
{
    if (y == NULL)
        return;
    pay_drop_lists(pc, y);
    free(y);
}

/* 240 bytes: a 256-byte block of the pool with its 16-byte header (a byte
 * more and a payment's lists would take a block of 320). */
_Static_assert(sizeof(struct paylists) <= 256 - 16, "a payment's lists fill one pool block");

/* Empty lists, each in its inline room, from pc (a cache of the state's
 * pool); NULL when out of memory.  Only the counts and pointers are set:
 * an inline array is read below its count. */
static struct paylists *lists_new(rk_pool_cache *pc)
{
    struct paylists *l = rk_pool_alloc(pc, sizeof *l);

    if (l == NULL)
        return NULL;
    l->keys = l->keys_in;
    l->ev = l->ev_in;
    l->evh = l->evh_in;
    l->cr = l->cr_in;
    l->fr = l->fr_in;
    l->dupseq = l->dupseq_in;
    l->nkeys = l->nev = l->ncr = l->nfr = l->ndupseq = 0;
    return l;
}

/* list_room for a list of entries of size bytes each. */
static void *list_room_of(void *a, size_t n, void *in, size_t nin, size_t size)
{
    void *na;

    if (n < nin || (n & (n - 1)) != 0)
        return a;
    if (a != in)
        return realloc(a, 2 * n * size);
    na = malloc(2 * n * size);
    if (na != NULL)
        memcpy(na, in, n * size);
    return na;
}

/*
 * The pointer list a of n entries (inline array in, of nin entries, a power
 * of two) with room for one more: a itself, or a copy twice as large (a is
 * freed unless it is in).  A list is in its inline array up to nin entries,
 * then on the heap with room for 2^k entries, 2^k > n; so it is full when n
 * is nin or a larger power of two.  NULL when out of memory (a is kept).
 */
static void *list_room(void *a, size_t n, void *in, size_t nin)
{
    return list_room_of(a, n, in, nin, sizeof(void *));
}

/* Free a list's heap array, if it has one. */
static void list_free(void *a, void *in)
{
    if (a != in)
        free(a);
}

static int keys_push(struct paylists *l, char *key)
{
    char **nk = list_room(l->keys, l->nkeys, l->keys_in, KEYS_IN);

    if (nk == NULL)
        return -1;
    l->keys = nk;
    l->keys[l->nkeys++] = key;
    return 0;
}

/* Remember y as a payment held in full, for the compaction sweep. */
static int open_push(rk_planes *p, struct pay *y)
{
    if (p->nopen == p->opencap) {
        size_t n = p->opencap == 0 ? 256 : 2 * p->opencap;
        struct pay **no = realloc(p->open, n * sizeof *no);
        if (no == NULL)
            return -1;
        p->open = no;
        p->opencap = n;
    }
    p->open[p->nopen++] = y;
    return 0;
}

/*
 * A new payment, named "" until its caller has put its first key in the
 * map and points ref at the name in it (pay_name): its reference is never
 * a copy of its own, it lies in the map's keys, which live as long as the
 * state (where a copy cost a strdup per payment and a free at compaction).
 */
static struct pay *pay_new(rk_planes *p, int has_order)
{
    struct pay *y = malloc(sizeof *y), **np;

    if (y == NULL)
        return NULL;
    /* every member set here: malloc's chunk is not cleared first (calloc
     * cost twice as much) */
    *y = (struct pay){.ref = (char *)"", /* never written through */
                      .L = lists_new(&p->pc),
                      .has_order = (unsigned char)has_order};
    if (y->L == NULL)
        goto fail;
    if (p->npays == p->paycap) {
        size_t n = p->paycap == 0 ? 256 : p->paycap * 2;
        np = realloc(p->pays, n * sizeof *np);
        if (np == NULL)
            goto fail;
        p->pays = np;
        p->paycap = n;
    }
    p->pays[p->npays++] = y;
    p->st.payments++;
    if (open_push(p, y) != 0)
        return NULL; /* y stays in pays, which owns it */
    return y;
fail:
    pay_free(&p->pc, y);
    return NULL;
}

/* Name y after a key of the map: key (its copy there, from map_put) is
 * "o" US order, or "p" US provider US payment id with lb the provider's
 * length; the name is the order or the payment id.  Nothing when key is
 * NULL (out of memory: the caller fails). */
static void pay_name(struct pay *y, char *key, size_t lb)
{
    if (key == NULL)
        return;
    y->ref = key[0] == 'o' ? key + 2 : key + 3 + lb;
}

/* The event order of formats/replay.md. */
static int pev_cmp(const struct pev *a, const struct pev *b)
{
    int c;

    if (a->occurred_at != b->occurred_at)
        return a->occurred_at < b->occurred_at ? -1 : 1;
    if (a->order_seq != b->order_seq)
        return a->order_seq < b->order_seq ? -1 : 1;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    c = strcmp(a->event_id, b->event_id);
    if (c != 0)
        return c;
    c = strcmp(a->provider, b->provider);
    if (c != 0)
        return c;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Room for one more event (and its fingerprint), as list_room: the two
 * arrays share one heap block, the fingerprints after the pointers.  The
 * caller has checked that they are full (EV_FULL): out of line, as it is
 * rare. */
#define EV_FULL(n) ((n) >= EV_IN && ((n) & ((n) - 1)) == 0)

static __attribute__((noinline)) int ev_room(struct paylists *l)
{
    size_t n = l->nev;
    struct pev **ne;
    uint32_t *nh;

    ne = malloc(2 * n * (sizeof *ne + sizeof *nh));
    if (ne == NULL)
        return -1;
    nh = (uint32_t *)(ne + 2 * n);
    memcpy(ne, l->ev, n * sizeof *ne);
    memcpy(nh, l->evh, n * sizeof *nh);
    list_free(l->ev, l->ev_in);
    l->ev = ne;
    l->evh = nh;
    return 0;
}

/* Insert e (fingerprint fp) in event order into l, which has room and
 * whose last event sorts after e: out of line, as events mostly arrive in
 * order (pay_insert_event). */
static __attribute__((noinline)) void ev_insert_sorted(struct paylists *l, struct pev *e,
                                                       uint32_t fp)
{
    size_t lo = 0, hi = l->nev, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (pev_cmp(l->ev[mid], e) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(l->ev + lo + 1, l->ev + lo, (l->nev - lo) * sizeof *l->ev);
    memmove(l->evh + lo + 1, l->evh + lo, (l->nev - lo) * sizeof *l->evh);
    l->ev[lo] = e;
    l->evh[lo] = fp;
    l->nev++;
}

/* Insert e, whose fingerprint is fp (ev_fp(e->event_id)), in event order. */
static inline __attribute__((always_inline)) int
pay_insert_event(rk_planes *p, struct pay *y, struct pev *e, uint32_t fp)
{
    struct paylists *l = y->L;
    size_t n = l->nev;

    if (EV_FULL(n) && ev_room(l) != 0)
        return -1;
    /* Appending is the common case: e is later than the last event.  An
     * earlier time decides pev_cmp without reading further, so a later one
     * is told apart without the call. */
    if (n > 0 && l->ev[n - 1]->occurred_at >= e->occurred_at && pev_cmp(l->ev[n - 1], e) > 0) {
        p->st.reorders++;
        ev_insert_sorted(l, e, fp);
        return 0;
    }
    l->ev[n] = e;
    l->evh[n] = fp;
    l->nev = n + 1;
    return 0;
}

static int pay_add_dup(struct pay *y, uint64_t seq)
{
    struct paylists *l = y->L;
    uint64_t *n = list_room_of(l->dupseq, l->ndupseq, l->dupseq_in, DUPS_IN, sizeof *n);

    if (n == NULL)
        return -1;
    l->dupseq = n;
    n[l->ndupseq++] = seq;
    y->dups++;
    return 0;
}

/* Does l hold an event with e's event id and provider, looking from event
 * i on?  Only when the fingerprint of event i is e's: out of line, so that
 * the loop of pay_has_event, which mostly meets none, saves no registers
 * for the calls to strcmp. */
static __attribute__((noinline)) int ev_same_from(const struct paylists *l, size_t i,
                                                  const struct pev *e, uint32_t fp)
{
    for (; i < l->nev; i++)
        if (l->evh[i] == fp && strcmp(l->ev[i]->event_id, e->event_id) == 0 &&
            strcmp(l->ev[i]->provider, e->provider) == 0)
            return 1;
    return 0;
}

/* Does y hold an event with e's event id and provider?  fp: e's fingerprint.
 * The fingerprints are compared first, with nothing else read. */
static inline __attribute__((always_inline)) int pay_has_event(const struct pay *y,
                                                                const struct pev *e, uint32_t fp)
{
    const struct paylists *l = y->L;
    const uint32_t *h = l->evh;
    size_t i, n = l->nev;

    for (i = 0; i < n; i++)
        if (h[i] == fp)
            return ev_same_from(l, i, e, fp);
    return 0;
}

/* The smallest provider payment id of a payment without an order: the id
 * in one of its map keys, which y->ref then points at (the keys live as
 * long as the state). */
static int pay_rename_orphan(struct pay *y)
{
    char *best = NULL, *k, *id;
    size_t i;

    if (y->has_order)
        return 0;
    for (i = 0; i < y->L->nkeys; i++) {
        k = y->L->keys[i];
        if (k[0] != 'p')
            continue;
        id = strchr(k + 2, '\x1f');
        if (id == NULL)
            continue;
        id++;
        if (best == NULL || strcmp(id, best) < 0)
            best = id;
    }
    if (best == NULL || strcmp(best, y->ref) == 0)
        return 0;
    y->ref = best;
    return 0;
}

/* Move everything of src into dst; src dies. */
static int pay_merge(rk_planes *p, struct pay *dst, struct pay *src)
{
    size_t i;
    struct slot *s;

    for (i = 0; i < src->L->nev; i++) {
        if (pay_has_event(dst, src->L->ev[i], src->L->evh[i])) {
            if (pay_add_dup(dst, src->L->ev[i]->seq) != 0)
                return -1;
            pev_free(&p->pc, src->L->ev[i]);
        } else if (pay_insert_event(p, dst, src->L->ev[i], src->L->evh[i]) != 0) {
            return -1;
        }
        src->L->ev[i] = NULL;
    }
    src->L->nev = 0;
    /* rows always carry an order, and two orders never merge: src has none */
    for (i = 0; i < src->L->ndupseq; i++)
        if (pay_add_dup(dst, src->L->dupseq[i]) != 0)
            return -1;
    for (i = 0; i < src->L->nkeys; i++) {
        s = map_find(p, src->L->keys[i]);
        if (s != NULL)
            s->pay = dst;
        if (keys_push(dst->L, src->L->keys[i]) != 0)
            return -1;
    }
    src->L->nkeys = 0;
    src->dead = 1;
    p->st.merges++;
    p->st.payments--;
    return pay_rename_orphan(dst);
}

/* ---- folding one body ------------------------------------------------- */

static int skip(rk_planes *p, uint64_t seq, const char *reason)
{
    struct skip *ns = realloc(p->skips, (p->nskips + 1) * sizeof *ns);

    if (ns == NULL)
        return -1;
    p->skips = ns;
    p->skips[p->nskips].seq = seq;
    p->skips[p->nskips].reason = strdup(reason);
    if (p->skips[p->nskips].reason == NULL)
        return -1;
    p->nskips++;
    p->st.skipped++;
    return 0;
}

/*
 * A provider event is built in three steps, shared by the two readers of
 * its body (pev_parse after the generic check, pev_read after the
 * known-shape reader): pev_head takes the top level, refs and expected;
 * pev_item one item of payments[]; pev_finish allocates the event and
 * maps its status.  Each step decides as the single function before it
 * did; the readers only differ in when an item is taken (pev_read takes
 * them while the text is read, before the top level) and keep the
 * reasons' order themselves.
 */

/* The top level o of a provider event, its refs and expected (their
 * members; none when absent or not objects) into ev and k: 0, or -1 with
 * *why. */
static int pev_head(struct pack *k, struct pev *ev, const obj *o, const obj *refs,
                    const obj *exp, const char **why)
{
    const rk_jv *refsv, *pl, *provider, *event_id, *status, *payment, *order;
    dec d;
    int64_t v;

    if (jint(o, F_V, &v) != 0 || v != 1) {
        *why = "provider event: version is not 1";
        return -1;
    }
    refsv = oget(o, F_REFS);
    pl = oget(o, F_PAYMENTS);
    if (!is_type(refsv, RK_JV_OBJECT) || (pl != NULL && !is_type(pl, RK_JV_ARRAY))) {
        *why = "provider event: refs or payments malformed";
        return -1;
    }
    /* the members tested below as well as packed, looked up once */
    provider = sget(o, F_PROVIDER);
    event_id = sget(o, F_EVENT_ID);
    status = sget(o, F_STATUS);
    payment = sget(refs, F_PAYMENT);
    order = sget(refs, F_ORDER);
    pack_add(k, &ev->provider, provider);
    pack_add(k, &ev->event_id, event_id);
    pack_add(k, &ev->event_type, sget(o, F_EVENT_TYPE));
    pack_add(k, &ev->status, status);
    pack_add(k, &ev->context, sget(o, F_CONTEXT));
    pack_add(k, &ev->pid, payment);
    pack_add(k, &ev->parent, sget(refs, F_PARENT));
    pack_add(k, &ev->order, order);
    if (provider == NULL || event_id == NULL || status == NULL) {
        *why = "provider event: provider, event_id or status missing";
        return -1;
    }
    /* the values' lengths when their texts are the values (pev_finish
     * measures them again when pack_done unescaped a string) */
    ev->provider_n = (uint32_t)(provider->len - 2);
    ev->event_id_n = (uint32_t)(event_id->len - 2);
    ev->pid_n = payment != NULL ? (uint32_t)(payment->len - 2) : 0;
    ev->order_n = order != NULL ? (uint32_t)(order->len - 2) : 0;
    /* an event with only an order joins by order; its payment id is the order */
    if (payment == NULL && order == NULL) {
        *why = "provider event: refs has neither order nor payment";
        return -1;
    }
    if (jtime(o, F_OCCURRED_AT, &ev->occurred_at) != 0) {
        *why = "provider event: occurred_at missing or not a time";
        return -1;
    }
    ev->order_seq = -1;
    if (oget(o, F_ORDER_SEQ) != NULL &&
        (jint(o, F_ORDER_SEQ, &ev->order_seq) != 0 || ev->order_seq < 0)) {
        *why = "provider event: order_seq is not a non-negative integer";
        return -1;
    }
    ev->api = (unsigned char)is_str(sget(o, F_SOURCE), "api_read");
    if (is_type(oget(o, F_EXPECTED), RK_JV_OBJECT)) {
        if (dec_parse_v(sget(exp, F_AMOUNT), &d) != 0) {
            *why = "provider event: expected.amount is not an amount";
            return -1;
        }
        ev->exp_v = d.v;
        ev->exp_scale = (unsigned char)d.scale;
        ev->has_expected = 1;
        pack_add(k, &ev->exp_asset, sget(exp, F_ASSET));
        pack_add(k, &ev->exp_network, sget(exp, F_NETWORK));
        pack_add(k, &ev->exp_contract, sget(exp, F_CONTRACT));
    }
    return 0;
}

/* One item of payments[] (of type, its members in it) into *pm and k: 0,
 * or -1 when it lacks amount, asset or network (the caller says why).  A
 * bad confirmations count sets *bad_conf (it yields to the reasons of the
 * items after it). */
static int pev_item(struct pack *k, struct pmt *pm, const obj *it, rk_jv_type type,
                    int *bad_conf)
{
    const rk_jv *amount = sget(it, F_AMOUNT), *asset = sget(it, F_ASSET),
                *network = sget(it, F_NETWORK);
    dec d;

    if (type != RK_JV_OBJECT || dec_parse_v(amount, &d) != 0 || asset == NULL ||
        network == NULL)
        return -1;
    pm->amount_v = d.v;
    pm->amount_scale = (unsigned char)d.scale;
    pack_add(k, &pm->asset, asset);
    pack_add(k, &pm->network, network);
    pack_add(k, &pm->contract, sget(it, F_CONTRACT));
    pack_add(k, &pm->tx, sget(it, F_TX));
    pack_add(k, &pm->memo, sget(it, F_MEMO));
    pm->conf = -1;
    if (oget(it, F_CONFIRMATIONS) != NULL &&
        (jint(it, F_CONFIRMATIONS, &pm->conf) != 0 || pm->conf < 0))
        *bad_conf = 1;
    pm->finalized = (unsigned char)is_str(sget(it, F_FINALIZED), "true");
    return 0;
}

/* The event of ev and its n items pm (their strings in k), the top level o
 * for its state words: one allocation.  NULL with *why when k holds too
 * many strings or memory runs out. */
static struct pev *pev_finish(struct pack *k, const struct pev *ev, const struct pmt *pm,
                              size_t n, const obj *o, const char **why)
{
    struct pev *e;
    size_t head;
    const char *state_word;
    char word[64];
    rk_status_map_result mr;
    rk_state st;
    char *mem;

    if (k->n >= PACK_MAX) {
        *why = "provider event: too many strings";
        return NULL;
    }
    *why = "out of memory";
    /* pack_done sets the string pointers in ev and pm; both are copied in
     * after it */
    head = ((sizeof *ev + 15) & ~(size_t)15) + n * sizeof(struct pmt);
    mem = pack_done(k, head);
    if (mem == NULL)
        return NULL;
    e = (struct pev *)(void *)mem;
    *e = *ev;
    if (k->esc) { /* rare: a text with an escape is longer than its value */
        e->provider_n = (uint32_t)strlen(e->provider);
        e->event_id_n = (uint32_t)strlen(e->event_id);
        e->pid_n = e->pid != NULL ? (uint32_t)strlen(e->pid) : 0;
        e->order_n = e->order != NULL ? (uint32_t)strlen(e->order) : 0;
    }
    if (n > 0) {
        e->pm = (struct pmt *)(void *)(mem + ((sizeof *ev + 15) & ~(size_t)15));
        memcpy(e->pm, pm, n * sizeof *pm);
    }
    e->npm = (unsigned char)n; /* at most 64 (the callers) */
    /* map the provider's word; fall back to the adapter's state */
    if (rk_lifecycle_map_status(e->provider, e->status, e->context, &mr, NULL) == RK_OK) {
        e->implied = (unsigned char)mr.state;
        e->reason = mr.reason;
        e->flag = mr.flag;
        e->mapped = 1;
    } else {
        state_word = sbuf(o, F_STATE, word, sizeof word);
        if (state_word != NULL && rk_state_parse(state_word, &st) == RK_OK) {
            e->implied = (unsigned char)st;
            e->mapped = 0;
            if (st == RK_STATE_NEEDS_REVIEW) {
                const char *r = sbuf(o, F_REASON, word, sizeof word);
                if (r == NULL || rk_lifecycle_reason_parse(r, &e->reason) != RK_OK)
                    e->reason = "other";
            }
            if (is_str(sget(o, F_FLAG), "overpaid"))
                e->flag = "overpaid";
        } else {
            e->implied = RK_STATE_CREATED;
            e->mapped = -1;
        }
    }
    e->rank = (int16_t)(e->mapped >= 0 ? rk_state_rank(e->implied) : -1);
    return e;
}

/* Parse a provider event body; NULL with *why set when it does not follow
 * formats/provider-event.md.  The event, its items and its strings are one
 * allocation (pev_free frees it). */
static struct pev *pev_parse(rk_pool_cache *pc, const obj *o, uint64_t seq, const char **why)
{
    struct pev ev;
    obj refs, exp, it;
    struct elems items;
    rk_jv itv;
    struct pack k;
    struct pmt pm[64]; /* the items, until their memory exists */
    size_t i;
    int bad_conf = 0;

    memset(&ev, 0, sizeof ev);
    k.n = k.bytes = 0;
    k.pc = pc;
    ev.seq = seq;
    /* (none when absent or not objects: pev_head tests them first) */
    obj_sub(&refs, o, F_REFS);
    obj_sub(&exp, o, F_EXPECTED);
    if (pev_head(&k, &ev, o, &refs, &exp, why) != 0)
        return NULL;
    /*
     * One pass over the items.  The reasons keep their precedence: more
     * than 64 items first (counted again only when an item is bad), then
     * an item lacking amount, asset or network anywhere in the list, then
     * a bad confirmations count in any item.
     */
    i = 0;
    elems_open(&items, o, F_PAYMENTS);
    while (elems_next(&items, &itv, &it)) {
        if (i == 64) {
            *why = "provider event: more than 64 payments";
            return NULL;
        }
        if (pev_item(&k, &pm[i], &it, itv.type, &bad_conf) != 0) {
            *why = arr_count(oget(o, F_PAYMENTS)) > 64
                       ? "provider event: more than 64 payments"
                       : "provider event: a payment lacks amount, asset or network";
            return NULL;
        }
        i++;
    }
    if (bad_conf) {
        *why = "provider event: confirmations is not a non-negative integer";
        return NULL;
    }
    return pev_finish(&k, &ev, pm, i, o, why);
}

/* The record why a body was not folded: out of memory, or a skip. */
static rk_err not_folded(rk_planes *p, uint64_t seq, const char *why, char *err)
{
    if (strcmp(why, "out of memory") == 0)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    return skip(p, seq, why) == 0 ? RK_OK : rk_seterr(err, RK_ERR_NOMEM, "out of memory");
}

/* Fold provider event e (from pev_parse, owned from here on), or when it is
 * NULL record why it was not parsed.  prep: the prep e came from, whose
 * keys (prep_keys) are used when set. */
static rk_err fold_provider(rk_planes *p, struct pev *e, const char *why, uint64_t seq,
                            const rk_planes_prep *prep, char *err)
{
    rk_err rc;
    const char *pid;
    struct pay *pO = NULL, *pP = NULL, *pPP = NULL, *t;
    struct key k[2], kPP, *kO = &k[0], *kP = &k[1];
    uint32_t fp;
    int has, newp = 0;
    char *key;

    if (e == NULL)
        return not_folded(p, seq, why, err);
    p->st.events++;
    if (e->occurred_at > p->clock || p->clock == NO_TIME)
        p->clock = e->occurred_at;
    pid = e->pid != NULL ? e->pid : e->order;
    if (prep->keyed) {
        /* measured and hashed ahead: the parts and the kept hashes */
        (void)prep_key_parts(prep, e, RK_KIND_PROVIDER_EVENT, k, &has);
        kO->h = prep->key_h[0];
        kP->h = prep->key_h[1];
    } else {
        if (e->order != NULL)
            key_order(kO, e->order);
        key_pid(kP, e->provider, pid);
    }
    if (e->order != NULL)
        pO = map_get(p, kO);
    pP = map_get(p, kP);
    if (e->parent != NULL) {
        key_pid(&kPP, e->provider, e->parent);
        pPP = map_get(p, &kPP);
    }
    t = pO != NULL ? pO : pP != NULL ? pP : pPP;
    /* only payments with an order are compacted, and only those are ever a
     * merge's target, never its source */
    if (t != NULL && t->compact && (rc = pay_expand(p, t, err)) != RK_OK) {
        pev_free(&p->pc, e);
        return rc;
    }
    if (t == NULL) {
        t = pay_new(p, e->order != NULL);
        if (t == NULL)
            goto nomem;
        if (e->order == NULL)
            newp = 1; /* named after kP below */
    }
    if (e->order != NULL && !t->has_order) {
        /* pO is NULL (only payments with an order have an "o" key): t is
         * named after kO when it is put below */
        t->has_order = 1;
    }
    /* link: merge a payment-id payment without an order into t */
    if (pP != NULL && pP != t && !pP->has_order && pay_merge(p, t, pP) != 0)
        goto nomem;
    if (pPP != NULL && pPP != t && !pPP->dead && !pPP->has_order &&
        pay_merge(p, t, pPP) != 0)
        goto nomem;
    /* merges repoint keys but never add or remove one, and kO ("o...") is
     * never kP ("p..."), so the lookups above still say which keys are new.
     * A payment with a new order is named after its "o" key, a new one
     * without after its "p" key (then pay_rename_orphan). */
    if (e->order != NULL && pO == NULL) {
        if ((key = map_put(p, kO, t)) == NULL)
            goto nomem;
        pay_name(t, key, 0);
    }
    if (pP == NULL) {
        if ((key = map_put(p, kP, t)) == NULL)
            goto nomem;
        if (newp)
            pay_name(t, key, kP->lb);
    }
    if (e->parent != NULL && map_get(p, &kPP) == NULL && map_put(p, &kPP, t) == NULL)
        goto nomem;
    if (pay_rename_orphan(t) != 0)
        goto nomem;
    p->last = t;
    fp = ev_fp(e->event_id, e->event_id_n);
    if (pay_has_event(t, e, fp)) {
        if (pay_add_dup(t, seq) != 0)
            goto nomem;
        p->st.duplicates++;
        p->last_dup = 1;
        pev_free(&p->pc, e);
        return RK_OK;
    }
    if (pay_insert_event(p, t, e, fp) != 0)
        goto nomem;
    return RK_OK;
nomem:
    pev_free(&p->pc, e);
    return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
}

/* The payment of the order whose "o" key is k (a new one if none). */
static struct pay *pay_for_order(rk_planes *p, const struct key *k)
{
    struct pay *y;
    char *key;

    if (p->target != NULL)
        return p->target;
    y = map_get(p, k);
    if (y != NULL)
        return y;
    y = pay_new(p, 1);
    if (y == NULL || (key = map_put(p, k, y)) == NULL)
        return NULL;
    pay_name(y, key, 0);
    return y;
}

/* Replace the row with the same row_id, or add it; in: the list's inline
 * array of ROWS_IN entries (list_room). */
static int put_row(void ***rows, size_t *n, void **in, void *row, const char *row_id,
                   const char *(*id_of)(const void *), rk_pool_cache *pc)
{
    size_t i;
    void **nr;

    for (i = 0; i < *n; i++) {
        if (strcmp(id_of((*rows)[i]), row_id) == 0) {
            rk_pool_release(pc, (*rows)[i]);
            (*rows)[i] = row;
            return 0;
        }
    }
    nr = list_room(*rows, *n, in, ROWS_IN);
    if (nr == NULL)
        return -1;
    *rows = nr;
    nr[(*n)++] = row;
    return 0;
}

static const char *crow_id(const void *r) { return ((const struct crow *)r)->row_id; }
static const char *frow_id(const void *r) { return ((const struct frow *)r)->row_id; }

/*
 * A commerce row's body as a row (one allocation with its strings), or NULL
 * with *why: the reason it is skipped, or "out of memory".  Needs no state.
 */
static struct crow *crow_make(rk_pool_cache *pc, const obj *o, const obj *price,
                              const obj *exp, uint64_t seq, const char **why);

static struct crow *crow_parse(rk_pool_cache *pc, const obj *o, uint64_t seq, const char **why)
{
    obj price, exp;

    obj_sub(&price, o, F_PRICE);
    obj_sub(&exp, o, F_EXPECTED);
    return crow_make(pc, o, &price, &exp, seq, why);
}

/* crow_parse's work once the members of price and expected are in price
 * and exp (none when absent or not objects): the known-shape reader lists
 * them as it reads the body. */
static struct crow *crow_make(rk_pool_cache *pc, const obj *o, const obj *price,
                              const obj *exp, uint64_t seq, const char **why)
{
    struct crow c, *cp;
    struct pack k;
    int64_t v;

    memset(&c, 0, sizeof c);
    k.n = k.bytes = 0;
    k.pc = pc;
    c.seq = seq;
    c.expires_at = NO_TIME;
    *why = NULL;
    if (jint(o, F_V, &v) != 0 || v != 1)
        *why = "commerce row: version is not 1";
    else if (sget(o, F_ORDER) == NULL || sget(o, F_ROW_ID) == NULL || sget(o, F_EVENT) == NULL)
        *why = "commerce row: order, row_id or event missing";
    else if (jtime(o, F_OCCURRED_AT, &c.occurred_at) != 0)
        *why = "commerce row: occurred_at missing or not a time";
    else if (jtime(o, F_EXPIRES_AT, &c.expires_at) < 0)
        *why = "commerce row: expires_at is not a time";
    if (*why == NULL) {
        /* a later reason replaces an earlier one, as it always did */
        if (oget(o, F_PRICE) != NULL) {
            c.has_price = 1;
            if (dec_parse_v(sget(price, F_AMOUNT), &c.price) != 0 ||
                sget(price, F_CURRENCY) == NULL)
                *why = "commerce row: price malformed";
            pack_add(&k, &c.price_cur, sget(price, F_CURRENCY));
        }
        if (oget(o, F_EXPECTED) != NULL) {
            c.has_expected = 1;
            if (dec_parse_v(sget(exp, F_AMOUNT), &c.exp) != 0 ||
                sget(exp, F_ASSET) == NULL || sget(exp, F_NETWORK) == NULL)
                *why = "commerce row: expected malformed";
            pack_add(&k, &c.exp_asset, sget(exp, F_ASSET));
            pack_add(&k, &c.exp_network, sget(exp, F_NETWORK));
            pack_add(&k, &c.exp_contract, sget(exp, F_CONTRACT));
            pack_add(&k, &c.exp_memo, sget(exp, F_MEMO));
        }
        if (sget(o, F_AMOUNT) != NULL) {
            c.has_amount = 1;
            if (dec_parse_v(sget(o, F_AMOUNT), &c.amount) != 0)
                *why = "commerce row: amount malformed";
        }
    }
    if (*why != NULL)
        return NULL;
    pack_add(&k, &c.row_id, sget(o, F_ROW_ID));
    pack_add(&k, &c.event, sget(o, F_EVENT));
    cp = (struct crow *)(void *)pack_done(&k, sizeof c);
    if (cp == NULL) {
        *why = "out of memory";
        return NULL;
    }
    *cp = c;
    return cp;
}

/*
 * Fold a commerce (finance = 0) or finance row, owned from here on, into
 * the payment of the order whose "o" key is ko (NULL: the order could not
 * be read, which fails as out of memory); or, when row is NULL, record
 * why.  A row replaces the version of the same row id it holds.
 */
static rk_err row_apply(rk_planes *p, void *row, const char *row_id, int finance,
                        const char *why, const struct key *ko, uint64_t seq, char *err)
{
    struct pay *y;
    rk_err rc;

    if (row == NULL)
        return not_folded(p, seq, why, err);
    y = ko != NULL ? pay_for_order(p, ko) : NULL;
    if (y != NULL && y->compact && (rc = pay_expand(p, y, err)) != RK_OK) {
        rk_pool_release(&p->pc, row);
        return rc;
    }
    if (y == NULL || (finance ? put_row((void ***)&y->L->fr, &y->L->nfr, (void **)y->L->fr_in,
                                        row, row_id, frow_id, &p->pc)
                              : put_row((void ***)&y->L->cr, &y->L->ncr, (void **)y->L->cr_in,
                                        row, row_id, crow_id, &p->pc)) != 0) {
        rk_pool_release(&p->pc, row);
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    }
    p->last = y;
    return RK_OK;
}

static rk_err commerce_apply(rk_planes *p, struct crow *cp, const char *why,
                             const struct key *ko, uint64_t seq, char *err)
{
    return row_apply(p, cp, cp != NULL ? cp->row_id : NULL, 0, why, ko, seq, err);
}

/* *k: the "o" key of order (NULL when it could not be read); k itself, or
 * NULL. */
static const struct key *order_key(struct key *k, const char *order)
{
    if (order == NULL)
        return NULL;
    key_order(k, order);
    return k;
}

static rk_err fold_commerce(rk_planes *p, const obj *o, struct scratch *sc, uint64_t seq,
                            char *err)
{
    const char *why = NULL;
    struct crow *cp = crow_parse(&p->pc, o, seq, &why);
    struct key k;

    return commerce_apply(p, cp, why,
                          cp != NULL ? order_key(&k, sc_str(sc, sget(o, F_ORDER))) : NULL, seq,
                          err);
}

/* A finance row's body as a row, as crow_parse. */
static struct frow *frow_parse(rk_pool_cache *pc, const obj *o, uint64_t seq, const char **why)
{
    struct frow f, *fp;
    const rk_jv *side = sget(o, F_SIDE), *fx_rate = sget(o, F_FX_RATE);
    struct pack k;
    int64_t v;
    dec rate;

    memset(&f, 0, sizeof f);
    k.n = k.bytes = 0;
    k.pc = pc;
    f.seq = seq;
    *why = NULL;
    if (jint(o, F_V, &v) != 0 || v != 1)
        *why = "finance row: version is not 1";
    else if (sget(o, F_ORDER) == NULL || sget(o, F_ROW_ID) == NULL ||
             sget(o, F_ACCOUNT) == NULL || sget(o, F_CURRENCY) == NULL ||
             sget(o, F_PERIOD) == NULL)
        *why = "finance row: order, row_id, account, currency or period missing";
    else if (side == NULL || (!is_str(side, "debit") && !is_str(side, "credit")))
        *why = "finance row: side is neither debit nor credit";
    else if (dec_parse_v(sget(o, F_AMOUNT), &f.amount) != 0)
        *why = "finance row: amount malformed";
    else if (jtime(o, F_RECOGNISED_AT, &f.recognised_at) != 0)
        *why = "finance row: recognised_at missing or not a time";
    else if (fx_rate != NULL && dec_parse_v(fx_rate, &rate) != 0)
        *why = "finance row: fx_rate malformed";
    if (*why != NULL)
        return NULL;
    f.credit = is_str(side, "credit");
    pack_add(&k, &f.row_id, sget(o, F_ROW_ID));
    pack_add(&k, &f.account, sget(o, F_ACCOUNT));
    pack_add(&k, &f.currency, sget(o, F_CURRENCY));
    pack_add(&k, &f.fx_rate, fx_rate);
    pack_add(&k, &f.fx_source, sget(o, F_FX_SOURCE));
    pack_add(&k, &f.period, sget(o, F_PERIOD));
    fp = (struct frow *)(void *)pack_done(&k, sizeof f);
    if (fp == NULL) {
        *why = "out of memory";
        return NULL;
    }
    *fp = f;
    return fp;
}

static rk_err finance_apply(rk_planes *p, struct frow *fp, const char *why,
                            const struct key *ko, uint64_t seq, char *err)
{
    return row_apply(p, fp, fp != NULL ? fp->row_id : NULL, 1, why, ko, seq, err);
}

static rk_err fold_finance(rk_planes *p, const obj *o, struct scratch *sc, uint64_t seq,
                           char *err)
{
    const char *why = NULL;
    struct frow *fp = frow_parse(&p->pc, o, seq, &why);
    struct key k;

    return finance_apply(p, fp, why,
                         fp != NULL ? order_key(&k, sc_str(sc, sget(o, F_ORDER))) : NULL, seq,
                         err);
}

/* ---- public: new, free, apply ------------------------------------------ */

rk_err rk_planes_new(rk_planes **out, char *err)
{
    rk_planes *p = calloc(1, sizeof *p);

    if (p == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    p->clock = NO_TIME;
    p->sp.fd = -1;
    policy_clear(&p->pol);
    if (pthread_mutex_init(&p->comp.mu, NULL) != 0) {
        free(p);
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    }
    if (pthread_cond_init(&p->comp.work, NULL) != 0) {
        pthread_mutex_destroy(&p->comp.mu);
        free(p);
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    }
    if (pthread_cond_init(&p->comp.done, NULL) != 0) {
        pthread_cond_destroy(&p->comp.work);
        pthread_mutex_destroy(&p->comp.mu);
        free(p);
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    }
    p->pool = rk_pool_new();
    if (p->pool == NULL) {
        pthread_cond_destroy(&p->comp.done);
        pthread_cond_destroy(&p->comp.work);
        pthread_mutex_destroy(&p->comp.mu);
        free(p);
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    }
    rk_pool_cache_init(&p->pc, p->pool);
    rk_pool_cache_init(&p->comp.pc, p->pool);
    *out = p;
    return RK_OK;
}

void rk_planes_free(rk_planes *p)
{
    size_t i;

    if (p == NULL)
        return;
    comp_stop(p); /* the thread may still hold payments */
    for (i = 0; i < p->npays; i++)
        pay_free(&p->pc, p->pays[i]);
    for (i = 0; i < p->nkblk; i++)
        free(p->kblk[i]);
    free(p->kblk);
    for (i = 0; i < p->nskips; i++)
        free(p->skips[i].reason);
    policy_clear(&p->pol);
    free(p->skips);
    free(p->sc.buf);
    free(p->rsc.buf);
    if (p->sp.fd >= 0)
        close(p->sp.fd);
    free(p->sp.buf);
    rk_buf_free(&p->sp.rd);
    free(p->comp.q);
    free(p->comp.batch);
    free(p->comp.dq);
    rk_buf_free(&p->comp.sb);
    rk_buf_free(&p->comp.eb);
    pthread_cond_destroy(&p->comp.done);
    pthread_cond_destroy(&p->comp.work);
    pthread_mutex_destroy(&p->comp.mu);
    free(p->open);
    free(p->slots);
    free(p->pays);
    rk_pool_free(p->pool); /* after every event and row went back to it */
    free(p);
}

rk_pool *rk_planes_pool(rk_planes *p)
{
    return p->pool;
}

rk_pool_cache *rk_planes_cache(rk_planes *p)
{
    return &p->pc;
}

/* Drop dead payments from the list (after merges). */
static void compact_pays(rk_planes *p)
{
    size_t i, j = 0;

    /* the open list must not keep a payment about to be freed */
    for (i = 0; i < p->nopen; i++)
        if (!p->open[i]->dead)
            p->open[j++] = p->open[i];
    p->nopen = j;
    j = 0;

    for (i = 0; i < p->npays; i++) {
        if (p->pays[i]->dead)
            pay_free(&p->pc, p->pays[i]);
        else
            p->pays[j++] = p->pays[i];
    }
    p->npays = j;
}

static rk_err sweep(rk_planes *p, char *err);

/*
 * Entries of the tape of one body (rk_jv_parse_tape): a provider event of
 * 64 items of ten members and more fits.  A body with more members and
 * elements is read with a cursor instead, with the same result.
 */
#define TAPE_MAX 1024

/* ---- bodies of a known shape ------------------------------------------- */

/*
 * The bodies our adapters and importers write have a fixed set of keys
 * (formats/provider-event.md, formats/import.md), and in canonical JSON the
 * keys of an object come sorted.  So a reader that knows, for each object
 * of a body, the sorted list of keys it may hold can check and classify a
 * member in one step: the text at the member must be one of the next keys
 * of the list, quoted and followed by its colon, compared byte for byte.
 * A match proves at once what rk_jv_parse_tape proves with check_string and
 * key_cmp (the key is a valid plain string; it sorts after the previous
 * key, as list entries are strictly increasing and each match moves past
 * the one before) and what field_of finds (its field id is in the list).
 * Values are checked by canon's own functions (canon_int.h): the same
 * strings, integers and words as rk_jv_parse_tape accepts.
 *
 * The reader keeps no tape.  For each object the fold reads (the top
 * level, refs, expected, price) it lists the known members that
 * obj_load_tape and obj_sub list after the generic check, with the same
 * views, in objs of its own, and it takes each item of a provider event's
 * payments[] as soon as the item is read (pev_item, the step pev_parse
 * takes for it), so nothing walks the text's structure a second time.
 * The event or row is then built by the steps the generic path uses
 * (pev_read: pev_head and pev_finish; crow_make; frow_parse).  Whenever
 * the text is anything else (a key not in the list or out of order, a
 * container where the list has none, any fault), it gives up, and the
 * generic path reads the body from the start: it decides, as before,
 * whether the body is canonical and what it holds.  So the fast path can
 * only accept a text the generic path accepts, with the same result
 * (test_planes_shape.c and fuzz_planes_shape.c check both against each
 * other, on valid and broken bodies: the members listed at every level,
 * and the event or row built or the reason given).
 */
enum { SK_SCALAR, SK_OBJECT, SK_ARRAY }; /* the container a member may hold */

struct shape;

struct shape_key {
    char lit[24];            /* the key quoted and its colon ("\"refs\":"), NUL-padded */
    unsigned char mask[24];  /* 0xff for each byte of lit before the padding, then 0 */
    unsigned char n;         /* bytes of lit before the padding */
    signed char field;       /* field_of(the key), or -1 */
    unsigned char kind;      /* SK_*: scalars always; an object or an array only as said */
    const struct shape *sub; /* an object value's keys, or an array's object elements' */
};

/*
 * first[] sends a member to the first key it could be: keys are tried in
 * their order from max(the next key, first[b & 31]), b the byte after the
 * member's opening quote (the key's first letter).  Every key whose first
 * letter is b lies at or past first[b & 31] (test_planes_shape checks that
 * first[c] is the index of the first key whose first letter has low bits
 * c, or 0 when no key has), and the keys skipped have other first letters,
 * so they cannot match: the key found is the one the plain scan from the
 * next key finds, with none of the optional keys a body lacks tried one by
 * one.  Only the low 5 bits index (a..z are 1..26): another byte lands on
 * some slot, whose keys then fail the comparison as before.  Slots not
 * named below are 0, the plain scan.
 */
struct shape {
    const struct shape_key *keys; /* strictly increasing by bytes (test_planes_shape) */
    size_t n;
    unsigned char first[32];      /* by a key's first letter & 31: where its keys start */
};

/* mask: byte j is 0xff when j < n (compile-time constants, from the name's length) */
#define SKM1(n, j) ((j) < (n) ? 0xff : 0)
#define SKM4(n, j) SKM1(n, j), SKM1(n, j + 1), SKM1(n, j + 2), SKM1(n, j + 3)
#define SKMASK(n) { SKM4(n, 0), SKM4(n, 4), SKM4(n, 8), SKM4(n, 12), SKM4(n, 16), SKM4(n, 20) }
#define SK(name, field, kind, sub) \
    { "\"" name "\":", SKMASK(sizeof name + 2), sizeof name + 2, field, kind, sub }
#define SHAPE(keys, ...) { keys, sizeof keys / sizeof keys[0], { __VA_ARGS__ } }
#define SF(letter, at) [(letter) & 31] = (at) /* the keys of first letter letter start at at */

/* price (commerce rows) and fiat (provider events) */
static const struct shape_key sk_money[] = {
    SK("amount", F_AMOUNT, SK_SCALAR, NULL),
    SK("currency", F_CURRENCY, SK_SCALAR, NULL),
};
static const struct shape shape_money = SHAPE(sk_money, SF('a', 0), SF('c', 1));

/* expected, in provider events and commerce rows alike (memo: rows only) */
static const struct shape_key sk_expected[] = {
    SK("amount", F_AMOUNT, SK_SCALAR, NULL),
    SK("asset", F_ASSET, SK_SCALAR, NULL),
    SK("contract", F_CONTRACT, SK_SCALAR, NULL),
    SK("memo", F_MEMO, SK_SCALAR, NULL),
    SK("network", F_NETWORK, SK_SCALAR, NULL),
};
static const struct shape shape_expected =
    SHAPE(sk_expected, SF('a', 0), SF('c', 2), SF('m', 3), SF('n', 4));

static const struct shape_key sk_refs[] = {
    SK("order", F_ORDER, SK_SCALAR, NULL),
    SK("parent", F_PARENT, SK_SCALAR, NULL),
    SK("payment", F_PAYMENT, SK_SCALAR, NULL),
};
static const struct shape shape_refs = SHAPE(sk_refs, SF('o', 0), SF('p', 1));

/* one item of payments[] */
static const struct shape_key sk_payment[] = {
    SK("amount", F_AMOUNT, SK_SCALAR, NULL),
    SK("asset", F_ASSET, SK_SCALAR, NULL),
    SK("confirmations", F_CONFIRMATIONS, SK_SCALAR, NULL),
    SK("contract", F_CONTRACT, SK_SCALAR, NULL),
    SK("finalized", F_FINALIZED, SK_SCALAR, NULL),
    SK("id", -1, SK_SCALAR, NULL),
    SK("memo", F_MEMO, SK_SCALAR, NULL),
    SK("network", F_NETWORK, SK_SCALAR, NULL),
    SK("status", F_STATUS, SK_SCALAR, NULL),
    SK("tx", F_TX, SK_SCALAR, NULL),
};
static const struct shape shape_payment =
    SHAPE(sk_payment, SF('a', 0), SF('c', 2), SF('f', 4), SF('i', 5), SF('m', 6), SF('n', 7),
          SF('s', 8), SF('t', 9));

static const struct shape_key sk_provider_event[] = {
    SK("context", F_CONTEXT, SK_SCALAR, NULL),
    SK("event_id", F_EVENT_ID, SK_SCALAR, NULL),
    SK("event_type", F_EVENT_TYPE, SK_SCALAR, NULL),
    SK("expected", F_EXPECTED, SK_OBJECT, &shape_expected),
    SK("fiat", -1, SK_OBJECT, &shape_money),
    SK("flag", F_FLAG, SK_SCALAR, NULL),
    SK("occurred_at", F_OCCURRED_AT, SK_SCALAR, NULL),
    SK("order_seq", F_ORDER_SEQ, SK_SCALAR, NULL),
    SK("payments", F_PAYMENTS, SK_ARRAY, &shape_payment),
    SK("payments_scope", -1, SK_SCALAR, NULL),
    SK("provider", F_PROVIDER, SK_SCALAR, NULL),
    SK("reason", F_REASON, SK_SCALAR, NULL),
    SK("refs", F_REFS, SK_OBJECT, &shape_refs),
    SK("source", F_SOURCE, SK_SCALAR, NULL),
    SK("state", F_STATE, SK_SCALAR, NULL),
    SK("status", F_STATUS, SK_SCALAR, NULL),
    SK("v", F_V, SK_SCALAR, NULL),
};

static const struct shape_key sk_commerce_row[] = {
    SK("amount", F_AMOUNT, SK_SCALAR, NULL),
    SK("correction_of", -1, SK_SCALAR, NULL),
    SK("currency", F_CURRENCY, SK_SCALAR, NULL),
    SK("event", F_EVENT, SK_SCALAR, NULL),
    SK("expected", F_EXPECTED, SK_OBJECT, &shape_expected),
    SK("expires_at", F_EXPIRES_AT, SK_SCALAR, NULL),
    SK("occurred_at", F_OCCURRED_AT, SK_SCALAR, NULL),
    SK("order", F_ORDER, SK_SCALAR, NULL),
    SK("price", F_PRICE, SK_OBJECT, &shape_money),
    SK("row_id", F_ROW_ID, SK_SCALAR, NULL),
    SK("v", F_V, SK_SCALAR, NULL),
};

static const struct shape_key sk_finance_row[] = {
    SK("account", F_ACCOUNT, SK_SCALAR, NULL),
    SK("amount", F_AMOUNT, SK_SCALAR, NULL),
    SK("correction_of", -1, SK_SCALAR, NULL),
    SK("currency", F_CURRENCY, SK_SCALAR, NULL),
    SK("fx_rate", F_FX_RATE, SK_SCALAR, NULL),
    SK("fx_source", F_FX_SOURCE, SK_SCALAR, NULL),
    SK("order", F_ORDER, SK_SCALAR, NULL),
    SK("period", F_PERIOD, SK_SCALAR, NULL),
    SK("recognised_at", F_RECOGNISED_AT, SK_SCALAR, NULL),
    SK("row_id", F_ROW_ID, SK_SCALAR, NULL),
    SK("side", F_SIDE, SK_SCALAR, NULL),
    SK("v", F_V, SK_SCALAR, NULL),
};

/* the top-level shapes, by record kind */
static const struct shape shape_provider_event =
    SHAPE(sk_provider_event, SF('c', 0), SF('e', 1), SF('f', 4), SF('o', 6), SF('p', 8),
          SF('r', 11), SF('s', 13), SF('v', 16));
static const struct shape shape_commerce_row =
    SHAPE(sk_commerce_row, SF('a', 0), SF('c', 1), SF('e', 3), SF('o', 6), SF('p', 8),
          SF('r', 9), SF('v', 10));
static const struct shape shape_finance_row =
    SHAPE(sk_finance_row, SF('a', 0), SF('c', 2), SF('f', 4), SF('o', 6), SF('p', 7),
          SF('r', 8), SF('s', 10), SF('v', 11));

#undef SF
#undef SHAPE
#undef SK
#undef SKMASK
#undef SKM4
#undef SKM1

/* One body being read: its text, and what the reader lists of it.  The
 * objects (top level, refs, expected, price) get their known members as
 * obj_load_tape and obj_sub would list them, each a view of its own (no
 * tape: nothing reads the text's structure again); the items of a
 * provider event's payments[] are taken (pev_item) as each is read, so
 * that no list of them is kept: pm, k and the counts below. */
struct shape_rd {
    const unsigned char *p;
    size_t len;
    obj top, refs, expected, price;
    obj item;          /* the element of payments[] being read */
    struct pack k;     /* the items' strings (pev_read adds the others) */
    struct pmt pm[64]; /* the items taken */
    size_t nitems;     /* elements seen, past 64 included */
    int bad_item;      /* an item lacks amount, asset or network: no more are taken */
    int bad_conf;      /* an item taken has a bad confirmations count */
};

static size_t shape_object(struct shape_rd *r, size_t i, const struct shape *s, obj *o);
static size_t shape_array(struct shape_rd *r, size_t i, const struct shape *s);

/* Where the members of a nested object of field f go: only the top levels
 * of the shapes hold objects (test_planes_shape checks the tables), and
 * only these three are read by the fold (fiat's are checked, not kept). */
static obj *shape_kid(struct shape_rd *r, int f)
{
    switch (f) {
    case F_REFS: return &r->refs;
    case F_EXPECTED: return &r->expected;
    case F_PRICE: return &r->price;
    default: return NULL;
    }
}

/*
 * The value at i (below len) of a member of kind and sub, in r's text p[0..len)
 * (passed in registers: read from r, they were loaded again for every
 * member, as the views stored may alias r): the position past
 * it, or 0 to give up.  Scalars as check_value in canon.c checks them; an
 * object (its members into kid) or an array only where the shape has one.
 * *plain as check_container sets it: check_string's verdict for a string,
 * else 0; *type as jv_type_of(p[i]) says (known here from the switch).
 */
static inline __attribute__((always_inline)) size_t
shape_value(struct shape_rd *r, const unsigned char *p, size_t len, size_t i, unsigned kind,
            const struct shape *sub, obj *kid, int *plain, rk_jv_type *type)
{
    *plain = 0;
    switch (p[i]) {
    case '"': *type = RK_JV_STRING; return check_string(p, len, i, plain);
    case '{': *type = RK_JV_OBJECT; return kind == SK_OBJECT ? shape_object(r, i, sub, kid) : 0;
    case '[': *type = RK_JV_ARRAY; return kind == SK_ARRAY ? shape_array(r, i, sub) : 0;
    case 't': *type = RK_JV_TRUE; return check_word(p, len, i, "true", 4);
    case 'f': *type = RK_JV_FALSE; return check_word(p, len, i, "false", 5);
    case 'n': *type = RK_JV_NULL; return check_word(p, len, i, "null", 4);
    default: *type = RK_JV_INT; return check_integer(p, len, i);
    }
}

/* Word w of the 24 bytes at s. */
static inline uint64_t shape_word(const void *s, size_t w)
{
    uint64_t v;

    memcpy(&v, (const unsigned char *)s + 8 * w, 8);
    return v;
}

/* Whether the words t0..t2 of a text start with key k's bytes (masked to
 * its length by k->mask). */
static inline __attribute__((always_inline)) int
shape_is(const struct shape_key *k, uint64_t t0, uint64_t t1, uint64_t t2)
{
    const unsigned char *m = k->mask;

    /* the first word rules out nearly every key that does not match */
    return ((t0 ^ shape_word(k->lit, 0)) & shape_word(m, 0)) == 0 &&
           (((t1 ^ shape_word(k->lit, 1)) & shape_word(m, 1)) |
            ((t2 ^ shape_word(k->lit, 2)) & shape_word(m, 2))) == 0;
}

/*
 * The first key of k..end of shape s (end if none) that the text t[0..24)
 * starts with: a member's quoted key and colon.  Key k, the next one, is
 * tried first: most members of a body are.  When it is not, the scan goes
 * on from the first key that can match t[1] (s->first, above), so the
 * optional keys the body lacks are not tried one by one.  The keys are
 * compared as three words each, masked to their length, rather than by
 * memcmp (a call per key tried).  t holds the bytes of the text from the
 * member on, NUL-padded when fewer than 24 are left: a key's bytes are
 * never NUL, so a key matches only bytes of the text.
 */
static inline __attribute__((always_inline)) const struct shape_key *
shape_match(const unsigned char *t, const struct shape *s, const struct shape_key *k,
            const struct shape_key *end)
{
    uint64_t t0 = shape_word(t, 0), t1 = shape_word(t, 1), t2 = shape_word(t, 2);
    const struct shape_key *from;

    if (k >= end || shape_is(k, t0, t1, t2))
        return k;
    /* k is not it; nor is any key before from */
    from = s->keys + s->first[t[1] & 31];
    for (k = from > k + 1 ? from : k + 1; k < end; k++)
        if (shape_is(k, t0, t1, t2))
            break;
    return k;
}

/*
 * The object at i (its '{') with the keys of s: the position past it, or
 * 0.  When o is not NULL it lists the object's known members, as
 * obj_load_tape lists them (the same views, each in o->own).
 */
static size_t shape_object(struct shape_rd *r, size_t i, const struct shape *s, obj *o)
{
    const unsigned char *p = r->p;
    const size_t len = r->len;
    const struct shape_key *k = s->keys, *end = s->keys + s->n;
    unsigned char tail[24];
    size_t at;
    rk_jv_type type;
    rk_jv *v;
    int plain;

    if (o != NULL) {
        o->has = 0;
        o->tape = NULL;
    }
    i++;
    if (i < len && p[i] == '}')
        return i + 1;
    for (;;) {
        /* the first of the keys left that the text holds here; any later
         * member must match a key after it */
        if (len - i >= 24) {
            k = shape_match(p + i, s, k, end);
        } else {
            memset(tail, 0, sizeof tail);
            copy_short((char *)tail, (const char *)p + i, len - i); /* under 24 bytes */
            k = shape_match(tail, s, k, end);
        }
        if (k == end)
            return 0;
        at = i + k->n;
        if (at >= len)
            return 0;
        i = shape_value(r, p, len, at, k->kind, k->sub,
                        k->kind == SK_SCALAR ? NULL : shape_kid(r, k->field), &plain, &type);
        if (i == 0)
            return 0;
        if (o != NULL && k->field >= 0) {
            v = &o->own[k->field];
            v->p = (const char *)p + at;
            v->len = i - at;
            v->type = type;
            v->plain = plain;
            o->has |= (uint64_t)1 << k->field;
            o->val[k->field] = v;
        }
        k++;
        if (i < len && p[i] == ',') {
            i++;
            continue;
        }
        return i < len && p[i] == '}' ? i + 1 : 0;
    }
}

/* The element of payments[] just read (of type; its members in r->item
 * when an object) taken as pev_parse's loop takes it: items past the 64th,
 * or after a bad one, are only counted (pev_read then gives the reason
 * pev_parse gives). */
static void shape_item(struct shape_rd *r, rk_jv_type type)
{
    size_t i = r->nitems++;

    if (i >= 64 || r->bad_item)
        return;
    if (type != RK_JV_OBJECT)
        r->item.has = 0;
    if (pev_item(&r->k, &r->pm[i], &r->item, type, &r->bad_conf) != 0)
        r->bad_item = 1;
}

/* The array at i (its '['): elements are scalars or objects with the keys
 * of s (no arrays), each taken by shape_item.  The position past it, or
 * 0. */
static size_t shape_array(struct shape_rd *r, size_t i, const struct shape *s)
{
    const unsigned char *p = r->p;
    const size_t len = r->len;
    rk_jv_type type;
    int plain;

    i++;
    if (i < len && p[i] == ']')
        return i + 1;
    for (;;) {
        if (i >= len)
            return 0;
        i = shape_value(r, p, len, i, SK_OBJECT, s, &r->item, &plain, &type);
        if (i == 0)
            return 0;
        shape_item(r, type);
        if (i < len && p[i] == ',') {
            i++;
            continue;
        }
        return i < len && p[i] == ']' ? i + 1 : 0;
    }
}

/*
 * Read the body of a record of kind into *r, when it has the shape that
 * kind's bodies have: 1, with its top-level known members in r->top and
 * those of refs, expected and price in theirs, exactly as rk_jv_parse_tape
 * then obj_load_tape and obj_sub would give them, and the items of
 * payments[] taken.  0 when the reader gives up (another kind, another
 * shape, not canonical): then *r holds nothing of use, and the generic
 * path must read the body.
 */
static int shape_read(unsigned kind, const uint8_t *body, size_t len, struct shape_rd *r)
{
    const struct shape *s;

    switch (kind) {
    case RK_KIND_PROVIDER_EVENT: s = &shape_provider_event; break;
    case RK_KIND_COMMERCE_ROW: s = &shape_commerce_row; break;
    case RK_KIND_FINANCE_ROW: s = &shape_finance_row; break;
    default: return 0;
    }
    r->p = body;
    r->len = len;
    r->refs.has = r->expected.has = r->price.has = 0;
    r->refs.tape = r->expected.tape = r->price.tape = NULL;
    r->k.n = r->k.bytes = 0;
    r->nitems = 0;
    r->bad_item = r->bad_conf = 0;
    return len != 0 && body[0] == '{' && shape_object(r, 0, s, &r->top) == len;
}

/* pev_parse for a body shape_read has read: the same event, or the same
 * reason.  The items were taken during the read; their reasons come after
 * those of the top level, in pev_parse's order. */
static struct pev *pev_read(rk_pool_cache *pc, struct shape_rd *r, uint64_t seq,
                            const char **why)
{
    struct pev ev;

    memset(&ev, 0, sizeof ev);
    r->k.pc = pc;
    ev.seq = seq;
    if (pev_head(&r->k, &ev, &r->top, &r->refs, &r->expected, why) != 0)
        return NULL;
    if (r->nitems > 64) {
        *why = "provider event: more than 64 payments";
        return NULL;
    }
    if (r->bad_item) {
        *why = "provider event: a payment lacks amount, asset or network";
        return NULL;
    }
    if (r->bad_conf) {
        *why = "provider event: confirmations is not a non-negative integer";
        return NULL;
    }
    return pev_finish(&r->k, &ev, r->pm, r->nitems, &r->top, why);
}

/* Build the event or row of a checked body whose members are in o; r: the
 * reader that listed them (shape_read), or NULL after the generic check. */
static void prep_parse(rk_pool_cache *pc, const rk_record *rec, const obj *o,
                       struct shape_rd *r, rk_planes_prep *out)
{
    const rk_jv *order;

    out->status = 1;
    if (rec->kind == RK_KIND_PROVIDER_EVENT) {
        out->parsed = r != NULL ? pev_read(pc, r, rec->seq, &out->why)
                                : pev_parse(pc, o, rec->seq, &out->why);
        return;
    }
    if (rec->kind == RK_KIND_COMMERCE_ROW)
        out->parsed = r != NULL ? crow_make(pc, o, &r->price, &r->expected, rec->seq, &out->why)
                                : crow_parse(pc, o, rec->seq, &out->why);
    else
        out->parsed = frow_parse(pc, o, rec->seq, &out->why);
    order = sget(o, F_ORDER);
    if (order != NULL)
        out->order = *order;
}

void rk_planes_prepare(rk_pool_cache *pc, const rk_record *rec, rk_planes_prep *out,
                       rk_jent *tape, size_t max)
{
    rk_jent own[TAPE_MAX];
    struct shape_rd rd;
    rk_jv body;
    obj o;
    size_t n;

    memset(out, 0, sizeof *out);
    out->pc = pc;
    if (rec->kind != RK_KIND_PROVIDER_EVENT && rec->kind != RK_KIND_COMMERCE_ROW &&
        rec->kind != RK_KIND_FINANCE_ROW)
        return;
    /*
     * Bodies of the shape our adapters and importers write are read by
     * shape_read, which checks the canonical form and lists the members
     * the fold reads, at every depth, on its way (no second walk of the
     * text); then the body becomes the event or row the fold keeps:
     * everything that needs no state (amounts, times, words, the strings
     * copied) is done here.
     */
    if (shape_read(rec->kind, rec->body, rec->body_len, &rd)) {
        prep_parse(pc, rec, &rd.top, &rd, out);
        return;
    }
    /* another shape (or not canonical): the generic check decides, and
     * lists the members at every depth on a tape */
    if (tape == NULL) {
        tape = own;
        max = TAPE_MAX;
    }
    if (rk_jv_parse_tape((const char *)rec->body, rec->body_len, &body, tape, max, &n, NULL) !=
            RK_OK ||
        body.type != RK_JV_OBJECT) {
        out->status = -1;
        return;
    }
    if (n > max)
        obj_load(&o, &body); /* beyond the tape: a cursor */
    else
        obj_load_tape(&o, tape, 0, n);
    prep_parse(pc, rec, &o, NULL, out);
}

void rk_planes_prep_clear(rk_planes_prep *prep)
{
    rk_pool_release(prep->pc, prep->parsed); /* an event or a row: one block each */
    prep->parsed = NULL;
}

rk_err rk_planes_apply(rk_planes *p, const rk_record *rec, char *err)
{
    rk_planes_prep prep;

    rk_planes_prepare(&p->pc, rec, &prep, NULL, 0);
    return rk_planes_apply_prepared(p, rec, &prep, err);
}

rk_err rk_planes_apply_prepared(rk_planes *p, const rk_record *rec, rk_planes_prep *prep,
                                char *err)
{
    rk_err rc = RK_OK;
    char why[RK_ERROR_SIZE];
    void *parsed;
    const struct key *order;
    struct key ko;
    int has;

    parsed = prep->parsed;
    prep->parsed = NULL; /* ours from here on: kept by the fold or freed */
    if (p->any && rec->seq <= p->last_seq) {
        rk_pool_release(&p->pc, parsed);
        return rk_seterr(err, RK_ERR_INVALID, "seq %llu: records out of order",
                         (unsigned long long)rec->seq);
    }
    p->any = 1;
    p->last_seq = rec->seq;
    p->last = NULL;
    p->last_dup = 0;
    p->st.records++;
    if (rec->kind == RK_KIND_POLICY) {
        uint8_t before[RK_HASH_SIZE];
        int had = p->pol.present;
        /* the compactor thread renders with the policy in force: it must be
         * done before the policy changes */
        if ((rc = comp_drain(p, err)) != RK_OK)
            return rc;
        memcpy(before, p->pol.digest, RK_HASH_SIZE);
        if (policy_set(&p->pol, rec->body, rec->body_len, rec->seq, why) == RK_OK) {
            if (!had || memcmp(before, p->pol.digest, RK_HASH_SIZE) != 0)
                p->pol_gen++; /* compacted payments were written under another */
        } else {
            if (skip(p, rec->seq, why) != 0)
                return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        }
        return RK_OK;
    }
    if (prep->status == 0)
        return RK_OK; /* another kind: counted only */
    if (prep->status < 0) {
        /* the ledger stores only canonical bodies; anything else is damage */
        return skip(p, rec->seq, "body is not a JSON object") == 0
                   ? RK_OK
                   : rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    }
    prep_keys(prep, parsed, rec->kind); /* unless rk_planes_prefetch did */
    if (rec->kind == RK_KIND_PROVIDER_EVENT) {
        rc = fold_provider(p, parsed, prep->why, rec->seq, prep, err);
    } else if (parsed != NULL && prep->keyed) {
        /* the order is plain text in the body, measured and hashed ahead */
        (void)prep_key_parts(prep, parsed, rec->kind, &ko, &has);
        ko.h = prep->key_h[0];
        if (rec->kind == RK_KIND_COMMERCE_ROW)
            rc = commerce_apply(p, parsed, prep->why, &ko, rec->seq, err);
        else
            rc = finance_apply(p, parsed, prep->why, &ko, rec->seq, err);
    } else {
        /* the one string copied to scratch (the order) fits in len + 256 */
        if (p->sc.cap < rec->body_len + 256) {
            size_t cap = rec->body_len + 256;
            char *nb = realloc(p->sc.buf, cap);
            if (nb == NULL) {
                rk_pool_release(&p->pc, parsed);
                return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
            }
            p->sc.buf = nb;
            p->sc.cap = cap;
        }
        p->sc.used = 0;
        order = parsed != NULL ? order_key(&ko, sc_str(&p->sc, &prep->order)) : NULL;
        if (rec->kind == RK_KIND_COMMERCE_ROW)
            rc = commerce_apply(p, parsed, prep->why, order, rec->seq, err);
        else
            rc = finance_apply(p, parsed, prep->why, order, rec->seq, err);
    }
    if (p->last != NULL) {
        p->last->touched = p->st.records;
        p->last->seen_open = 0; /* its verdict may change (pay_closed) */
    }
    if (p->st.merges > 0 && p->npays > 64 && p->npays > 2 * p->st.payments)
        compact_pays(p);
    if (rc == RK_OK && p->idle > 0 && p->fetch != NULL && p->st.records >= p->next_sweep)
        rc = sweep(p, err);
    else if (p->comp.started && (p->st.records & 1023) == 0)
        comp_reap(p); /* the lists of payments compacted since: not kept for long */
    return rc;
}

const char *rk_planes_last_ref(const rk_planes *p)
{
    return p->last != NULL ? p->last->ref : NULL;
}

int rk_planes_last_was_duplicate(const rk_planes *p)
{
    return p->last_dup;
}

void rk_planes_stats_get(const rk_planes *p, rk_planes_stats *st)
{
    *st = p->st;
}


/* ---- deriving the views ------------------------------------------------ */

struct step {
    const struct pev *e;
    rk_state from, to;
    const char *rule;
};

struct total {
    const char *asset, *network, *contract;
    dec sum;
    int bad; /* the sum overflowed */
};

struct latest {
    const char *pid;
    const struct pev *e;
};

struct cview {
    const struct crow *created, *fulfilled, *refunded, *canceled;
};

struct pview {
    rk_state state;
    const struct pev *state_ev; /* the event that set the state */
    const struct pev *last;     /* the latest event in event order */
    rk_state last_shown;
    const char *why;            /* depth reason for the last event */
    int64_t conf;
    const struct pev *conf_ev;
    int64_t detected_at;
    struct step *ill, *rev;
    size_t nill, nrev;
    int overpaid, multiple;
    const char *reason;
    const struct pev *last_api, *last_hook;
    struct latest *lat;
    size_t nlat;
    struct total *tot;
    size_t ntot;
    int has_rail, rail_state; /* rail_state: rail_find result */
    struct rail rail;
    /* The first entries of lat and tot, in the struct: the usual payment
     * then costs no allocation for them (view_room moves a list to the
     * heap past these).  Last, so that the rest is cleared without them. */
#define LAT_IN 4
#define TOT_IN 2
    struct latest lat_in[LAT_IN];
    struct total tot_in[TOT_IN];
};

/* Room for entry n of a list at a (in: its in-struct array of nin entries):
 * a itself while n < nin, else a heap copy one entry longer; NULL when out
 * of memory (a is then unchanged). */
static void *view_room(void *a, void *in, size_t n, size_t nin, size_t size)
{
    void *na;

    if (n < nin)
        return a;
    if (a != in)
        return realloc(a, (n + 1) * size);
    na = malloc((n + 1) * size);
    if (na != NULL)
        memcpy(na, in, n * size);
    return na;
}

/* The rule of formats/replay.md for a commerce event: latest occurred_at,
 * then greatest row_id. */
static int crow_later(const struct crow *a, const struct crow *b)
{
    if (b == NULL)
        return 1;
    if (a->occurred_at != b->occurred_at)
        return a->occurred_at > b->occurred_at;
    return strcmp(a->row_id, b->row_id) > 0;
}

static void commerce_view(const struct pay *y, struct cview *v)
{
    size_t i;
    const struct crow *c;
    const struct crow **slot;

    memset(v, 0, sizeof *v);
    for (i = 0; i < y->L->ncr; i++) {
        c = y->L->cr[i];
        if (strcmp(c->event, "created") == 0)
            slot = &v->created;
        else if (strcmp(c->event, "fulfilled") == 0)
            slot = &v->fulfilled;
        else if (strcmp(c->event, "refunded") == 0)
            slot = &v->refunded;
        else if (strcmp(c->event, "canceled") == 0)
            slot = &v->canceled;
        else
            continue;
        if (crow_later(c, *slot))
            *slot = c;
    }
}

static int push_step(struct step **a, size_t *n, const struct pev *e, rk_state from,
                     rk_state to, const char *rule)
{
    struct step *na = realloc(*a, (*n + 1) * sizeof *na);

    if (na == NULL)
        return -1;
    *a = na;
    na[*n].e = e;
    na[*n].from = from;
    na[*n].to = to;
    na[*n].rule = rule;
    (*n)++;
    return 0;
}

static void pview_free(struct pview *v)
{
    free(v->ill);
    free(v->rev);
    if (v->lat != v->lat_in)
        free(v->lat);
    if (v->tot != v->tot_in)
        free(v->tot);
    memset(v, 0, offsetof(struct pview, lat_in));
}

static int tot_cmp(const void *va, const void *vb)
{
    const struct total *a = va, *b = vb;
    int c = strcmp(a->asset, b->asset);

    if (c == 0)
        c = strcmp(a->network, b->network);
    if (c == 0)
        c = strcmp0(a->contract, b->contract);
    return c;
}

/* Expected payment: the commerce plane's, else the latest provider word's. */
struct expect {
    int has;
    dec amount;
    const char *asset, *network, *contract, *memo;
    const char *from; /* "commerce" or "provider" */
};

static void expected_of(const struct pay *y, const struct cview *cv, struct expect *x)
{
    size_t i;

    memset(x, 0, sizeof *x);
    if (cv->created != NULL && cv->created->has_expected) {
        x->has = 1;
        x->amount = cv->created->exp;
        x->asset = cv->created->exp_asset;
        x->network = cv->created->exp_network;
        x->contract = cv->created->exp_contract;
        x->memo = cv->created->exp_memo;
        x->from = "commerce";
        return;
    }
    for (i = y->L->nev; i > 0; i--) {
        const struct pev *e = y->L->ev[i - 1];
        if (e->has_expected && e->exp_asset != NULL && e->exp_network != NULL) {
            x->has = 1;
            x->amount.v = e->exp_v;
            x->amount.scale = e->exp_scale;
            x->asset = e->exp_asset;
            x->network = e->exp_network;
            x->contract = e->exp_contract;
            x->from = "provider";
            return;
        }
    }
}

/* Replay the payment's sorted events through the lifecycle (formats/lifecycle.md
 * section 4 order: map, depth, effective, check). */
static int provider_view(const rk_planes *p, const struct pay *y, const struct expect *x,
                         struct pview *v)
{
    size_t i, j;
    rk_state cur = RK_STATE_CREATED, shown, eff;
    const char *why, *rule;
    rk_transition_verdict vd;

    memset(v, 0, offsetof(struct pview, lat_in));
    v->lat = v->lat_in;
    v->tot = v->tot_in;
    v->conf = -1;
    v->detected_at = NO_TIME;
    v->rail_state = -1;
    if (x->has) {
        v->rail_state = rail_find(&p->pol, x->asset, x->network, x->contract, &v->rail);
        v->has_rail = v->rail_state == 1;
    } else {
        /* nothing expected: the rail the latest payments list was paid on */
        for (i = y->L->nev; i > 0; i--) {
            const struct pev *e = y->L->ev[i - 1];
            if (e->npm == 0)
                continue;
            v->has_rail = rail_find(&p->pol, e->pm[0].asset, e->pm[0].network,
                                    e->pm[0].contract, &v->rail) == 1;
            break;
        }
    }
    for (i = 0; i < y->L->nev; i++) {
        const struct pev *e = y->L->ev[i];
        int64_t conf = -1;
        int fin = e->npm > 0;
        const char *pid = e->pid != NULL ? e->pid : e->order;

        for (j = 0; j < e->npm; j++) {
            if (e->pm[j].conf >= 0 && (conf < 0 || e->pm[j].conf < conf))
                conf = e->pm[j].conf;
            if (!e->pm[j].finalized)
                fin = 0;
        }
        /* the latest payments[] list per provider payment id */
        for (j = 0; j < v->nlat; j++)
            if (strcmp(v->lat[j].pid, pid) == 0)
                break;
        if (j == v->nlat) {
            struct latest *nl = view_room(v->lat, v->lat_in, v->nlat, LAT_IN, sizeof *nl);
            if (nl == NULL)
                return -1;
            v->lat = nl;
            v->nlat++;
            v->lat[j].pid = pid;
        }
        v->lat[j].e = e;
        if (e->api)
            v->last_api = e;
        else
            v->last_hook = e;
        v->last = e;
        if (conf >= 0) {
            v->conf = conf;
            v->conf_ev = e;
        }
        if (e->flag != NULL && strcmp(e->flag, "overpaid") == 0)
            v->overpaid = 1;
        if (e->mapped < 0) {
            v->last_shown = cur;
            v->why = "unmapped";
            continue;
        }
        shown = e->implied;
        why = "no-rail";
        if (v->has_rail) {
            rk_depth d;
            d.confirmations = conf;
            d.to_credit = v->rail.to_credit;
            d.finality = v->rail.finality;
            d.finalized = fin && v->rail.by_flag;
            if (rk_lifecycle_depth(e->implied, &d, &shown, &why) != RK_OK) {
                shown = e->implied;
                why = "provider-word";
            }
        }
        eff = rk_lifecycle_effective(cur, shown, NULL);
        v->last_shown = eff;
        v->why = why;
        vd = rk_lifecycle_check_rail(cur, eff, v->has_rail && v->rail.probabilistic, &rule);
        if (vd == RK_TRANSITION_ALLOWED) {
            cur = eff;
            v->state_ev = e;
        } else if (vd == RK_TRANSITION_FORBIDDEN) {
            if (rk_lifecycle_via_reversal(cur, eff)) {
                if (push_step(&v->rev, &v->nrev, e, cur, eff, "via-reversal") != 0)
                    return -1;
                cur = eff;
                v->state_ev = e;
            } else {
                if (push_step(&v->ill, &v->nill, e, cur, eff, rule) != 0)
                    return -1;
                if (cur == RK_STATE_FINAL)
                    v->multiple = 1; /* a provider word after final: a second payment */
            }
        }
        if (cur == RK_STATE_NEEDS_REVIEW && v->state_ev == e)
            v->reason = e->reason;
        if (e->reason != NULL && strcmp(e->reason, "multiple") == 0)
            v->multiple = 1;
        if (v->detected_at == NO_TIME &&
            (cur == RK_STATE_DETECTED || cur == RK_STATE_CONFIRMING ||
             cur == RK_STATE_CONFIRMED || cur == RK_STATE_FINAL ||
             cur == RK_STATE_UNDERPAID || cur == RK_STATE_PAID_LATE))
            v->detected_at = e->occurred_at;
    }
    v->state = cur;
    /* amounts paid: the latest list of each provider payment id, added up */
    for (i = 0; i < v->nlat; i++) {
        const struct pev *e = v->lat[i].e;
        for (j = 0; j < e->npm; j++) {
            const struct pmt *m = &e->pm[j];
            size_t t;
            for (t = 0; t < v->ntot; t++)
                if (streq(v->tot[t].asset, m->asset) && streq(v->tot[t].network, m->network) &&
                    streq(v->tot[t].contract, m->contract))
                    break;
            if (t == v->ntot) {
                struct total *nt = view_room(v->tot, v->tot_in, v->ntot, TOT_IN, sizeof *nt);
                if (nt == NULL)
                    return -1;
                v->tot = nt;
                v->ntot++;
                nt[t].asset = m->asset;
                nt[t].network = m->network;
                nt[t].contract = m->contract;
                nt[t].sum.v = 0;
                nt[t].sum.scale = 0;
                nt[t].bad = 0;
            }
            dec amt = {m->amount_v, m->amount_scale};
            if (dec_add(&v->tot[t].sum, amt) != 0)
                v->tot[t].bad = 1;
        }
    }
    if (v->ntot > 1)
        qsort(v->tot, v->ntot, sizeof *v->tot, tot_cmp);
    /* several provider payments, none a top-up of another: paid twice */
    {
        size_t paid = 0;
        int topup = 0;
        for (i = 0; i < v->nlat; i++) {
            if (v->lat[i].e->npm > 0)
                paid++;
            if (v->lat[i].e->parent != NULL)
                topup = 1;
        }
        if (paid > 1 && !topup)
            v->multiple = 1;
    }
    return 0;
}

/* ---- rendering ------------------------------------------------------------ */

/*
 * The documents are written straight to canonical bytes: members in sorted
 * order by hand (formats/replay.md lists them; test_replay checks the
 * result with rk_canon_check and against the version 1 bytes), strings
 * as they are when nothing in them needs escaping (wr_copy_plain), else
 * through rk_canon_put_string.  No tree, no sort of keys at write time.
 *
 * Each writer below puts one whole member (separator, name, value) in one
 * go: it asks wr_room once for the most bytes the member can take, then
 * stores into that room without further capacity checks, and wr_end moves
 * the cursor past it.  Member names are string literals, see KEY.
 *
 * The writer keeps its own cursor (at, lim) into the buffer instead of
 * setting b->len and the NUL after every member: b->len and the NUL are
 * set only when something else reads or appends to the buffer (wr_sync:
 * before growing it, before rk_canon_put_string, and when the document is
 * done).  Between two wr_sync the buffer's len is stale.
 *
 * Separators need one flag, not a stack of them: `more` says whether the
 * innermost open object or array has a member yet.  Opening one clears it;
 * closing one sets it, because the parent's flag was set when the closed
 * value's own member was written (wr_head), just before it was opened.
 */
/* struct wr's day when it holds no date: no time's day (|day| < 2^18) */
#define WR_NO_DAY INT64_MIN

struct wr {
    uint8_t *at;  /* where the text ends (b->data + the true length) */
    uint8_t *lim; /* b->data + b->cap; at < lim while the buffer is usable */
    rk_buf *b;
    int nomem;
    int more;     /* the innermost open object or array has a member */
    int64_t day;  /* the day (since 1970-01-01) whose text date holds, or WR_NO_DAY */
    char date[10]; /* "YYYY-MM-DD" of day: see wr_time */
    uint8_t spare[1]; /* at and lim point here when b has no storage yet */
};

/* Start writing at the end of b's text. */
static void wr_init(struct wr *w, rk_buf *b)
{
    w->b = b;
    w->nomem = 0;
    w->more = 0;
    w->day = WR_NO_DAY;
    if (b != NULL && b->data != NULL) {
        w->at = b->data + b->len;
        w->lim = b->data + b->cap;
    } else {
        w->at = w->lim = w->spare; /* no room: the first wr_room grows b */
    }
}

/* Set b's length to the cursor and terminate the text (rk_buf keeps a NUL
 * after it; wr_room always leaves room for it). */
static void wr_sync(struct wr *w)
{
    if (w->b == NULL || w->b->data == NULL || w->at == w->spare)
        return;
    w->b->len = (size_t)(w->at - w->b->data);
    *w->at = '\0';
}

/* The cursor again after b changed underneath (grown or appended to). */
static void wr_reload(struct wr *w)
{
    w->at = w->b->data + w->b->len;
    w->lim = w->b->data + w->b->cap;
}

/*
 * A member name known at compile time, as the two arguments the writers
 * take: KEY("asset") is the name already quoted with its colon,
 * "\"asset\":", and that text's length, both constants, so writing the name
 * is a copy of a few constant bytes (no scan, no strlen).  Every name
 * written with KEY is plain ASCII, which canonical JSON writes as it is.
 * NOKEY: no name, for array elements and the top-level value.  Names that
 * come from the data (accounts, currencies, row ids, payment references)
 * are quoted like any other string (wr_name, wr_open_name, wr_num_name).
 */
#define KEY(name) "\"" name "\":", sizeof("\"" name "\":") - 1
#define NOKEY NULL, 0

/* rk_time_format's text is always 30 characters (record.h). */
#define WR_TIME_LEN 30

/*
 * The writers that take a KEY are inlined where they are called, so that
 * the name's length is a constant there and its copy a few plain stores
 * (a copy of unknown length is a call, or "rep movsb").
 */
#define WR_INLINE static inline __attribute__((always_inline))

/* The slow half of wr_room: grow the buffer (doubling, in rk_buf_reserve). */
static __attribute__((noinline)) uint8_t *wr_grow(struct wr *w, size_t n)
{
    if (w->nomem)
        return NULL;
    wr_sync(w);
    if (rk_buf_reserve(w->b, n) != RK_OK) {
        w->nomem = 1;
        return NULL;
    }
    wr_reload(w);
    return w->at;
}

/*
 * Where to store the next n bytes: the end of the text, with room for n
 * bytes and the NUL after them; NULL when the buffer cannot grow (w->nomem
 * is set; the caller writes nothing and the document is dropped).
 */
static inline uint8_t *wr_room(struct wr *w, size_t n)
{
    if ((size_t)(w->lim - w->at) > n)
        return w->at;
    return wr_grow(w, n);
}

/* The text now ends at d (inside the room wr_room gave). */
static inline void wr_end(struct wr *w, uint8_t *d)
{
    w->at = d;
}

static void wr_raw(struct wr *w, const char *s, size_t n)
{
    uint8_t *d = wr_room(w, n);

    if (d == NULL)
        return;
    memcpy(d, s, n);
    wr_end(w, d + n);
}

/*
 * At d: the ',' before a member or element other than the first of its
 * object or array, then the name (k, kn; kn is 0 for NOKEY).  d has room
 * for 1 + kn bytes.  Returns the end.
 */
WR_INLINE uint8_t *wr_head(struct wr *w, uint8_t *d, const char *k, size_t kn)
{
    /* the ',' stored always and kept when needed: no branch (the room
     * asked for counts it); at the top level `more` is 0 for the one value */
    *d = ',';
    d += w->more;
    w->more = 1;
    if (kn > 0) {
        memcpy(d, k, kn);
        d += kn;
    }
    return d;
}

/*
 * Nonzero when one of the 8 bytes of v is not printable ASCII other than
 * '"' and '\\' (a byte canonical JSON escapes, or a byte >= 0x80, which
 * rk_canon_put_string looks at one by one).  lo keeps each byte's low
 * seven bits, so every sum below stays within its byte (at most 0x7f +
 * 0x7f): no carry crosses bytes and each byte's top bit answers for that
 * byte alone.  lo + 0x60 reaches 0x80 exactly when lo >= 0x20; x + 0x7f
 * reaches 0x80 exactly when x != 0.
 */
WR_INLINE uint64_t wr_bad8(uint64_t v)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t lo = v & ~high;

    return (v | ~(lo + ones * 0x60) | ~((lo ^ ones * '"') + ones * 0x7f) |
            ~((lo ^ ones * '\\') + ones * 0x7f)) &
           high;
}

/* The same test for one byte: the definition wr_bad8 computes 8 at a time. */
static inline int wr_bad1(unsigned char c)
{
    return c < 0x20 || c >= 0x80 || c == '"' || c == '\\';
}

#if defined(__SSE2__) && !defined(RK_WR_NO_SSE2)
#include <emmintrin.h>
#define WR_SSE2 1

/*
 * The same test 16 bytes at a time (every x86-64 has SSE2): a signed byte
 * compare "below 0x20" flags the controls and every byte >= 0x80 (negative
 * as signed), two equality compares flag '"' and '\\'.  Nonzero when a
 * byte is flagged.  -DRK_WR_NO_SSE2 builds the plain C path (wr_bad8 only):
 * `make B=build-plain CFLAGS=-DRK_WR_NO_SSE2 check` runs the tests on it
 * (test_replay's strings_render_as_canon_writes_them puts a byte to escape
 * at every position of strings of every length up to 24).
 */
WR_INLINE int wr_bad16(__m128i x)
{
    __m128i bad = _mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
                               _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                            _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))));

    return _mm_movemask_epi8(bad);
}
#endif

/*
 * Copy s[0..n) to d and return 1 when every byte of it is plain (wr_bad8),
 * else 0.  A word at a time, the last word overlapping the previous one
 * when n is not a multiple of its size (a byte looked at twice is
 * harmless): 16 bytes (SSE2) or 8; from 8 to 15 bytes as two 8-byte halves
 * that overlap likewise, from 4 to 7 as two 4-byte halves; below 4 byte by
 * byte.  Loads stay within s[0..n).
 */
WR_INLINE int wr_copy_plain(uint8_t *d, const char *s, size_t n)
{
    uint64_t v, bad = 0;
    uint32_t a, z;
    size_t i;

#if defined(WR_SSE2)
    if (n >= 16) {
        __m128i x;
        int m = 0;

        for (i = 0; i + 16 < n; i += 16) {
            x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            m |= wr_bad16(x);
            _mm_storeu_si128((__m128i *)(void *)(d + i), x);
        }
        x = _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16));
        m |= wr_bad16(x);
        _mm_storeu_si128((__m128i *)(void *)(d + n - 16), x);
        return m == 0;
    }
    if (n >= 8) {
        __m128i lo = _mm_loadl_epi64((const __m128i *)(const void *)s),
                hi = _mm_loadl_epi64((const __m128i *)(const void *)(s + n - 8));

        _mm_storel_epi64((__m128i *)(void *)d, lo);
        _mm_storel_epi64((__m128i *)(void *)(d + n - 8), hi);
        return wr_bad16(_mm_unpacklo_epi64(lo, hi)) == 0;
    }
#endif
    if (n >= 8) {
        for (i = 0; i + 8 < n; i += 8) {
            memcpy(&v, s + i, 8);
            bad |= wr_bad8(v);
            memcpy(d + i, &v, 8);
        }
        memcpy(&v, s + n - 8, 8);
        bad |= wr_bad8(v);
        memcpy(d + n - 8, &v, 8);
        return bad == 0;
    }
    if (n >= 4) {
        memcpy(&a, s, 4);
        memcpy(&z, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &z, 4);
        return wr_bad8((uint64_t)a << 32 | z) == 0;
    }
    for (i = 0; i < n; i++) {
        d[i] = (uint8_t)s[i];
        bad |= (uint64_t)wr_bad1((unsigned char)s[i]);
    }
    return bad == 0;
}

/*
 * s[0..n) quoted at d, which has room for n + 2 bytes.  Returns the end,
 * or NULL when s had a byte to escape: rk_canon_put_string then wrote the
 * string at d instead (the same bytes the copy gives a plain string), the
 * text's length is set, and the caller writes what follows with wr_raw
 * (the room asked for was for the plain form).
 */
static uint8_t *wr_quote(struct wr *w, uint8_t *d, const char *s, size_t n)
{
    *d = '"';
    if (wr_copy_plain(d + 1, s, n)) {
        d[n + 1] = '"';
        return d + n + 2;
    }
    w->at = d;
    wr_sync(w);
    if (rk_canon_put_string(w->b, s, n) != RK_OK)
        w->nomem = 1;
    wr_reload(w);
    return NULL;
}

/* Member k (or an element) whose value is the string s; none when s is NULL. */
WR_INLINE void wr_str(struct wr *w, const char *k, size_t kn, const char *s)
{
    size_t n;
    uint8_t *d;

    if (s == NULL)
        return;
    n = strlen(s);
    d = wr_room(w, 1 + kn + n + 2);
    if (d == NULL)
        return;
    d = wr_quote(w, wr_head(w, d, k, kn), s, n);
    if (d != NULL)
        wr_end(w, d);
}

/*
 * Start a member named by the data: the separator, the name quoted, ':'
 * (with name NULL, an element: the separator only).  Returns where its
 * value goes, with room for `extra` bytes there (the caller ends the text
 * with wr_end), or NULL when out of memory.
 */
static uint8_t *wr_name_room(struct wr *w, const char *name, size_t extra)
{
    size_t n = name != NULL ? strlen(name) : 0;
    uint8_t *d = wr_room(w, 1 + n + 3 + extra);

    if (d == NULL)
        return NULL;
    d = wr_head(w, d, NOKEY);
    if (name == NULL)
        return d;
    d = wr_quote(w, d, name, n);
    if (d == NULL) {
        /* escaped by rk_canon_put_string, at the end of the text now */
        d = wr_room(w, 1 + extra);
        if (d == NULL)
            return NULL;
    }
    *d++ = ':';
    return d;
}

/* Start a member named by the data; its value follows. */
static void wr_name(struct wr *w, const char *name)
{
    uint8_t *d = wr_name_room(w, name, 0);

    if (d != NULL)
        wr_end(w, d);
}

/* c ('{' or '['), one level down. */
static inline void wr_push(struct wr *w, uint8_t *d, char c)
{
    *d++ = (uint8_t)c;
    wr_end(w, d);
    w->more = 0;
}

WR_INLINE void wr_open(struct wr *w, const char *k, size_t kn, char c)
{
    uint8_t *d = wr_room(w, 1 + kn + 1);

    if (d != NULL)
        wr_push(w, wr_head(w, d, k, kn), c);
}

static void wr_open_name(struct wr *w, const char *name, char c)
{
    uint8_t *d = wr_name_room(w, name, 1);

    if (d != NULL)
        wr_push(w, d, c);
}

WR_INLINE void wr_close(struct wr *w, char c)
{
    uint8_t *d = wr_room(w, 1);

    w->more = 1; /* the parent's: see struct wr */
    if (d == NULL)
        return;
    *d++ = (uint8_t)c;
    wr_end(w, d);
}

WR_INLINE void wr_null(struct wr *w, const char *k, size_t kn)
{
    uint8_t *d = wr_room(w, 1 + kn + 4);

    if (d == NULL)
        return;
    d = wr_head(w, d, k, kn);
    memcpy(d, "null", 4);
    wr_end(w, d + 4);
}

/*
 * rk_u64_text's text of v, for the numbers a payment's rendering mostly
 * holds (sequence numbers and counts below 10^8): the digits counted by
 * comparisons and made two at a time in 32-bit arithmetic, inline, where
 * rk_u64_text is a call with 64-bit divisions; larger numbers go to it.
 * test_planes_text compares the two.
 */
static inline size_t wr_u64_text(char out[RK_U64_TEXT_MAX], uint64_t v)
{
    uint32_t x;
    size_t n;

    if (v >= 100000000)
        return rk_u64_text(out, v);
    x = (uint32_t)v;
    if (x >= 10000)
        n = x >= 1000000 ? (x >= 10000000 ? 8 : 7) : (x >= 100000 ? 6 : 5);
    else
        n = x >= 100 ? (x >= 1000 ? 4 : 3) : (x >= 10 ? 2 : 1);
    rk_digits_put(out, x, n);
    return n;
}

WR_INLINE void wr_num(struct wr *w, const char *k, size_t kn, uint64_t n)
{
    uint8_t *d = wr_room(w, 1 + kn + RK_U64_TEXT_MAX);

    if (d == NULL)
        return;
    d = wr_head(w, d, k, kn);
    wr_end(w, d + wr_u64_text((char *)d, n));
}

/* Member k whose value is a number already in text: t[0..n), n digits. */
WR_INLINE void wr_digits(struct wr *w, const char *k, size_t kn, const char *t, size_t n)
{
    uint8_t *d = wr_room(w, 1 + kn + RK_U64_TEXT_MAX);

    if (d == NULL)
        return;
    d = wr_head(w, d, k, kn);
    memcpy(d, t, RK_U64_TEXT_MAX); /* a constant size: plain stores; the room holds it */
    wr_end(w, d + n);
}

static void wr_num_name(struct wr *w, const char *name, uint64_t n)
{
    uint8_t *d = wr_name_room(w, name, RK_U64_TEXT_MAX);

    if (d != NULL)
        wr_end(w, d + wr_u64_text((char *)d, n));
}

/*
 * rk_time_format's text of t at d (which has room for RK_TIME_STR_MAX
 * bytes); returns the end of the WR_TIME_LEN bytes.  A payment's times
 * mostly fall on one day and on whole seconds: the writer keeps the last
 * date it formatted (w->day, w->date), and a time in whole seconds on that
 * day is its date copied and "THH:MM:SS.000000000Z" made from the pairs
 * table, without the calendar arithmetic.  Anything else goes to
 * rk_time_format, whose date is kept for the next time.  test_planes_text
 * compares the two on random and edge instants.
 */
static inline uint8_t *wr_time_text(struct wr *w, uint8_t *d, int64_t t)
{
    const int64_t ns_day = INT64_C(86400000000000);
    int64_t day = t / ns_day, rem = t % ns_day;
    unsigned sod;

    if (rem < 0) { /* floor division: times before 1970 */
        rem += ns_day;
        day -= 1;
    }
    if (day != w->day || rem % 1000000000 != 0) {
        rk_time_format(t, (char *)d); /* digits and separators: nothing to escape */
        memcpy(w->date, d, sizeof w->date);
        w->day = day;
        return d + WR_TIME_LEN;
    }
    sod = (unsigned)(rem / 1000000000);
    memcpy(d, w->date, sizeof w->date);
    d[10] = 'T';
    rk_hms_put((char *)d + 11, sod);
    memcpy(d + 19, ".000000000Z", 11);
    return d + WR_TIME_LEN;
}

WR_INLINE void wr_time(struct wr *w, const char *k, size_t kn, int64_t t)
{
    uint8_t *d;

    if (t == NO_TIME)
        return;
    d = wr_room(w, 1 + kn + 2 + RK_TIME_STR_MAX); /* rk_time_format's whole buffer */
    if (d == NULL)
        return;
    d = wr_head(w, d, k, kn);
    *d++ = '"';
    d = wr_time_text(w, d, t);
    *d++ = '"';
    wr_end(w, d);
}

/* At d: v's amount text, quoted; returns the end. */
static inline uint8_t *put_dec(uint8_t *d, dec v)
{
    *d++ = '"';
    if (v.v == 0 && v.scale == 0)
        *d++ = '0'; /* dec_format's text, without the call: the empty side of a sum */
    else
        d += dec_format(v, (char *)d); /* '-', digits, '.': nothing to escape */
    *d++ = '"';
    return d;
}

WR_INLINE void wr_dec(struct wr *w, const char *k, size_t kn, dec v)
{
    uint8_t *d = wr_room(w, 1 + kn + 2 + RK_AMOUNT_STR_MAX);

    if (d == NULL)
        return;
    wr_end(w, put_dec(wr_head(w, d, k, kn), v));
}

/* {"asset","contract","network"} members of a rail, without the braces. */
static void wr_rail_members(struct wr *w, const char *asset, const char *network,
                            const char *contract)
{
    wr_str(w, KEY("asset"), asset);
    wr_str(w, KEY("contract"), contract);
    wr_str(w, KEY("network"), network);
}

static void wr_rail(struct wr *w, const char *k, size_t kn, const char *asset,
                    const char *network, const char *contract)
{
    wr_open(w, k, kn, '{');
    wr_rail_members(w, asset, network, contract);
    wr_close(w, '}');
}

/* The name of event e, "PROVIDER:EVENT_ID", cut to n - 1 bytes.  The two
 * parts' lengths are the ones struct pev keeps (their strlen). */
static char *event_name(const struct pev *e, char *buf, size_t n)
{
    size_t a = e->provider_n, b = e->event_id_n;

    if (a + 1 + b + 1 > n) {
        snprintf(buf, n, "%s:%s", e->provider, e->event_id); /* cut, as before */
        return buf;
    }
    memcpy(buf, e->provider, a);
    buf[a] = ':';
    memcpy(buf + a + 1, e->event_id, b + 1);
    return buf;
}

/*
 * Member k: the name of event e (event_name), written straight from its two
 * parts when it is not cut: the bytes event_name and wr_str would write.
 */
static void wr_event(struct wr *w, const char *k, size_t kn, const struct pev *e)
{
    char name[2 * RK_REF_MAX];
    size_t a = e->provider_n, b = e->event_id_n; /* strlen of each, kept by pev_head */
    uint8_t *d;

    if (a + 1 + b + 1 > sizeof name) {
        wr_str(w, k, kn, event_name(e, name, sizeof name));
        return;
    }
    d = wr_room(w, 1 + kn + a + b + 3);
    if (d == NULL)
        return;
    d = wr_head(w, d, k, kn);
    d[0] = '"';
    if (wr_copy_plain(d + 1, e->provider, a) && wr_copy_plain(d + a + 2, e->event_id, b)) {
        d[a + 1] = ':';
        d[a + b + 2] = '"';
        wr_end(w, d + a + b + 3);
        return;
    }
    /* a byte to escape: the text ends after the name of the member, and
     * the canonical writer quotes the joined name */
    wr_end(w, d);
    wr_sync(w);
    event_name(e, name, sizeof name);
    if (rk_canon_put_string(w->b, name, a + 1 + b) != RK_OK)
        w->nomem = 1;
    wr_reload(w);
}

/*
 * qsort for the few items a payment's lists usually hold, sorted in place
 * by insertion (qsort's set-up costs more than the sort of two or three);
 * more than SORT_FEW go to qsort.  Both keep equal items in their order
 * (glibc's qsort is a merge sort), so the result is qsort's either way.
 * Inlined where it is called, so that cmp and size are constants there:
 * the comparisons are direct calls the compiler can inline, not calls
 * through a pointer, and the copies are of a known size.
 */
#define SORT_FEW 8
static inline __attribute__((always_inline)) void
sort_few(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    unsigned char tmp[128], *b = base;
    size_t i, j;

    if (n > SORT_FEW || size > sizeof tmp) {
        qsort(base, n, size, cmp);
        return;
    }
    for (i = 1; i < n; i++) {
        for (j = i; j > 0 && cmp(b + (j - 1) * size, b + i * size) > 0; j--)
            ;
        if (j == i)
            continue;
        memcpy(tmp, b + i * size, size);
        memmove(b + (j + 1) * size, b + j * size, (i - j) * size);
        memcpy(b + j * size, tmp, size);
    }
}

static void write_commerce(struct wr *w, const struct pay *y, const struct cview *cv)
{
    const struct crow *c = cv->created;

    if (y->L->ncr == 0) {
        wr_null(w, KEY("commerce"));
        return;
    }
    wr_open(w, KEY("commerce"), '{');
    if (cv->canceled != NULL)
        wr_time(w, KEY("canceled_at"), cv->canceled->occurred_at);
    if (c != NULL) {
        wr_time(w, KEY("created_at"), c->occurred_at);
        if (c->has_expected) {
            wr_open(w, KEY("expected"), '{');
            wr_dec(w, KEY("amount"), c->exp);
            wr_str(w, KEY("asset"), c->exp_asset);
            wr_str(w, KEY("contract"), c->exp_contract);
            wr_str(w, KEY("memo"), c->exp_memo);
            wr_str(w, KEY("network"), c->exp_network);
            wr_close(w, '}');
        }
        wr_time(w, KEY("expires_at"), c->expires_at);
    }
    if (cv->fulfilled != NULL)
        wr_time(w, KEY("fulfilled_at"), cv->fulfilled->occurred_at);
    if (c != NULL && c->has_price) {
        wr_open(w, KEY("price"), '{');
        wr_dec(w, KEY("amount"), c->price);
        wr_str(w, KEY("currency"), c->price_cur);
        wr_close(w, '}');
    }
    if (cv->refunded != NULL) {
        wr_open(w, KEY("refunded"), '{');
        if (cv->refunded->has_amount)
            wr_dec(w, KEY("amount"), cv->refunded->amount);
        wr_time(w, KEY("at"), cv->refunded->occurred_at);
        wr_close(w, '}');
    }
    wr_num(w, KEY("rows"), y->L->ncr);
    wr_close(w, '}');
}

static int write_provider(struct wr *w, const struct pay *y, const struct pview *v)
{
    size_t i, j, n = 0;
    const char **ids, *ids_few[SORT_FEW]; /* the usual one or two: no allocation */

    if (y->L->nev == 0) {
        wr_null(w, KEY("provider"));
        return 0;
    }
    ids = v->nlat <= SORT_FEW ? ids_few : calloc(v->nlat, sizeof *ids);
    if (ids == NULL)
        return -1;
    wr_open(w, KEY("provider"), '{');
    if (v->conf >= 0)
        wr_num(w, KEY("confirmations"), (uint64_t)v->conf);
    wr_time(w, KEY("detected_at"), v->detected_at);
    wr_num(w, KEY("events"), y->L->nev);
    wr_open(w, KEY("flags"), '[');
    if (v->overpaid)
        wr_str(w, NOKEY, "overpaid");
    wr_close(w, ']');
    wr_open(w, KEY("paid"), '[');
    for (i = 0; i < v->ntot; i++) {
        wr_open(w, NOKEY, '{');
        if (v->tot[i].bad)
            wr_str(w, KEY("amount"), "overflow");
        else
            wr_dec(w, KEY("amount"), v->tot[i].sum);
        wr_rail_members(w, v->tot[i].asset, v->tot[i].network, v->tot[i].contract);
        wr_close(w, '}');
    }
    wr_close(w, ']');
    /* sorted; distinct by construction */
    for (i = 0; i < v->nlat; i++) {
        for (j = n; j > 0 && strcmp(ids[j - 1], v->lat[i].pid) > 0; j--)
            ids[j] = ids[j - 1];
        ids[j] = v->lat[i].pid;
        n++;
    }
    wr_open(w, KEY("payment_ids"), '[');
    for (i = 0; i < n; i++)
        wr_str(w, NOKEY, ids[i]);
    wr_close(w, ']');
    if (ids != ids_few)
        free(ids);
    wr_str(w, KEY("provider"), v->last->provider);
    wr_str(w, KEY("provider_state"),
           v->last->mapped >= 0 ? rk_state_name(v->last->implied) : "unmapped");
    wr_open(w, KEY("provider_word"), '{');
    wr_str(w, KEY("context"), v->last->context);
    wr_str(w, KEY("event_type"), v->last->event_type);
    wr_str(w, KEY("status"), v->last->status);
    wr_close(w, '}');
    wr_str(w, KEY("reason"), v->state == RK_STATE_NEEDS_REVIEW ? v->reason : NULL);
    wr_str(w, KEY("state"), rk_state_name(v->state));
    if (v->last_shown != v->last->implied || v->state != v->last->implied)
        wr_str(w, KEY("state_why"), v->why);
    wr_time(w, KEY("updated_at"), v->last->occurred_at);
    wr_close(w, '}');
    return 0;
}

/* Finance: totals per currency and per account, FX rates, periods. */
struct fsum {
    const char *account, *currency;
    dec debit, credit;
    int bad;
    /* where wr_sides wrote this sum's value, {"credit":..,"debit":..}: at
     * offset `at` of the buffer, len bytes (0: not written) */
    size_t at, len;
};

static int fsum_cmp(const void *va, const void *vb)
{
    const struct fsum *a = va, *b = vb;
    int c = strcmp0(a->account, b->account);

    return c != 0 ? c : strcmp(a->currency, b->currency);
}

/* Add row f to the sum of (account, its currency) in s[0..*n), which has
 * room for one more (the caller sizes s by the rows). */
static inline void fsum_add(struct fsum *s, size_t *n, const char *account, const struct frow *f)
{
    size_t i;

    for (i = 0; i < *n; i++)
        if (streq(s[i].account, account) && strcmp(s[i].currency, f->currency) == 0)
            break;
    if (i == *n) {
        /* the members one by one: a memset of the whole entry cost more
         * than the rest of a new entry's work (the padding is never read) */
        s[i].account = account;
        s[i].currency = f->currency;
        s[i].debit.v = s[i].credit.v = 0;
        s[i].debit.scale = s[i].credit.scale = 0;
        s[i].bad = 0;
        (*n)++;
    }
    if (dec_add(f->credit ? &s[i].credit : &s[i].debit, f->amount) != 0)
        s[i].bad = 1;
}

/*
 * The totals per currency (account NULL) in cur, from the sums per account
 * and currency acc[0..nacc), when each currency is in one account only: a
 * currency's total is then its account's sum, added up from the same rows
 * in the same order, so the same value, scale and overflow (dec_add's
 * overflow depends on the order).  Saves a second fsum_add pass over the
 * rows.  -1 when a currency is in two accounts: the caller adds the rows
 * up again.  cur has room for nacc entries.
 */
static int fsum_totals(struct fsum *cur, size_t *n, const struct fsum *acc, size_t nacc)
{
    size_t i, j;

    *n = 0;
    for (i = 0; i < nacc; i++) {
        for (j = 0; j < *n; j++)
            if (strcmp(cur[j].currency, acc[i].currency) == 0)
                return -1;
        cur[*n] = acc[i];
        cur[*n].account = NULL;
        (*n)++;
    }
    return 0;
}

/* 1 when sums a and b have the same value text: the same credit and debit
 * (value and scale: the text is a function of the two), or both overflowed. */
static int fsum_same_text(const struct fsum *a, const struct fsum *b)
{
    if (a->bad || b->bad)
        return a->bad && b->bad;
    return a->credit.v == b->credit.v && a->credit.scale == b->credit.scale &&
           a->debit.v == b->debit.v && a->debit.scale == b->debit.scale;
}

/* The most bytes of a sum's value: {"credit":"","debit":""} and two amounts. */
#define SIDES_MAX (sizeof "{\"credit\":\"\",\"debit\":\"\"}" - 1 + 2 * RK_AMOUNT_STR_MAX)
_Static_assert(sizeof "overflow" <= RK_AMOUNT_STR_MAX, "overflow fits an amount's room");

/*
 * Member k (a currency) whose value is {"credit":..,"debit":..} of s, in
 * one room.  same: an earlier sum of this document whose value text is the
 * same (fsum_same_text), or NULL: its bytes are copied instead of formatted
 * again (a currency's total is usually its one account's sum).  Notes where
 * the value went in s->at and s->len.
 */
static void wr_sides(struct wr *w, const char *k, struct fsum *s, const struct fsum *same)
{
    uint8_t *d, *v;

    if (same != NULL && same->len == 0)
        same = NULL;
    d = wr_name_room(w, k, same != NULL ? same->len : SIDES_MAX);
    s->len = 0;
    if (d == NULL)
        return;
    v = d;
    if (same != NULL) {
        /* earlier in the same buffer (offsets survive a move when it grows) */
        memcpy(d, w->b->data + same->at, same->len);
        d += same->len;
    } else if (s->bad) {
        memcpy(d, "{\"credit\":\"overflow\",\"debit\":\"overflow\"}",
               sizeof "{\"credit\":\"overflow\",\"debit\":\"overflow\"}" - 1);
        d += sizeof "{\"credit\":\"overflow\",\"debit\":\"overflow\"}" - 1;
    } else {
        memcpy(d, "{\"credit\":", 10);
        d = put_dec(d + 10, s->credit);
        memcpy(d, ",\"debit\":", 9);
        d = put_dec(d + 9, s->debit);
        *d++ = '}';
    }
    s->at = (size_t)(v - w->b->data);
    s->len = (size_t)(d - v);
    wr_end(w, d); /* `more` stays set: wr_name_room's head set it, as a close would */
}

static int strp_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* 1 when two object keys in a row are equal: the object would be invalid. */
static int fsum_dup(const struct fsum *s, size_t n)
{
    size_t i;

    for (i = 1; i < n; i++)
        if (fsum_cmp(&s[i - 1], &s[i]) == 0)
            return 1;
    return 0;
}

/* write_finance's lists, each at most one entry a row: in the arrays
 * here for the few rows a payment usually has, else allocated. */
#define FIN_FEW 4
struct fin_lists {
    struct fsum *cur, *acc;
    const char **per;
    const struct frow **fx;
    struct fsum cur_few[FIN_FEW], acc_few[FIN_FEW];
    const char *per_few[FIN_FEW];
    const struct frow *fx_few[FIN_FEW];
};

static int fin_lists_init(struct fin_lists *l, size_t rows)
{
    if (rows <= FIN_FEW) {
        l->cur = l->cur_few;
        l->acc = l->acc_few;
        l->per = l->per_few;
        l->fx = l->fx_few;
        return 0;
    }
    l->cur = calloc(rows, sizeof *l->cur);
    l->acc = calloc(rows, sizeof *l->acc);
    l->per = calloc(rows, sizeof *l->per);
    l->fx = calloc(rows, sizeof *l->fx);
    return l->cur != NULL && l->acc != NULL && l->per != NULL && l->fx != NULL ? 0 : -1;
}

static void fin_lists_free(struct fin_lists *l)
{
    if (l->cur == l->cur_few)
        return;
    free(l->cur);
    free(l->acc);
    free(l->per);
    free(l->fx);
}

static int write_finance(struct wr *w, const struct pay *y)
{
    struct fin_lists l;
    struct fsum *cur, *acc;
    size_t ncur = 0, nacc = 0, i, j, n = 0;
    const char **per;
    const char *prev = NULL;
    const struct frow **fx;
    int rc = -1;

    if (y->L->nfr == 0) {
        wr_null(w, KEY("finance"));
        return 0;
    }
    if (fin_lists_init(&l, y->L->nfr) != 0)
        goto out;
    cur = l.cur;
    acc = l.acc;
    per = l.per;
    fx = l.fx;
    for (i = 0; i < y->L->nfr; i++) {
        fsum_add(acc, &nacc, y->L->fr[i]->account, y->L->fr[i]);
        per[i] = y->L->fr[i]->period;
    }
    if (fsum_totals(cur, &ncur, acc, nacc) != 0) {
        /* a currency in two accounts: its total from the rows, in their order */
        ncur = 0;
        for (i = 0; i < y->L->nfr; i++)
            fsum_add(cur, &ncur, NULL, y->L->fr[i]);
    }
    sort_few(acc, nacc, sizeof *acc, fsum_cmp);
    sort_few(cur, ncur, sizeof *cur, fsum_cmp);
    sort_few(per, y->L->nfr, sizeof *per, strp_cmp);
    if (fsum_dup(acc, nacc) || fsum_dup(cur, ncur))
        goto out;
    wr_open(w, KEY("finance"), '{');
    wr_open(w, KEY("accounts"), '{');
    for (i = 0; i < nacc; i++) {
        if (prev == NULL || strcmp(prev, acc[i].account) != 0) {
            if (prev != NULL)
                wr_close(w, '}');
            wr_open_name(w, acc[i].account, '{');
            prev = acc[i].account;
        }
        wr_sides(w, acc[i].currency, &acc[i], NULL);
    }
    if (prev != NULL)
        wr_close(w, '}');
    wr_close(w, '}');
    /* fx: each distinct (currency, rate, source), sorted */
    for (i = 0; i < y->L->nfr; i++) {
        const struct frow *f = y->L->fr[i];
        int c = 1;
        if (f->fx_rate == NULL)
            continue;
        for (j = 0; j < n; j++) {
            c = strcmp(fx[j]->currency, f->currency);
            if (c == 0)
                c = strcmp(fx[j]->fx_rate, f->fx_rate);
            if (c == 0)
                c = strcmp0(fx[j]->fx_source, f->fx_source);
            if (c >= 0)
                break;
        }
        if (j < n && c == 0)
            continue;
        memmove(fx + j + 1, fx + j, (n - j) * sizeof *fx);
        fx[j] = f;
        n++;
    }
    wr_open(w, KEY("fx"), '[');
    for (j = 0; j < n; j++) {
        wr_open(w, NOKEY, '{');
        wr_str(w, KEY("currency"), fx[j]->currency);
        wr_str(w, KEY("rate"), fx[j]->fx_rate);
        wr_str(w, KEY("source"), fx[j]->fx_source);
        wr_close(w, '}');
    }
    wr_close(w, ']');
    wr_open(w, KEY("periods"), '[');
    for (i = 0; i < y->L->nfr; i++)
        if (i == 0 || strcmp(per[i], per[i - 1]) != 0)
            wr_str(w, NOKEY, per[i]);
    wr_close(w, ']');
    wr_num(w, KEY("rows"), y->L->nfr);
    wr_open(w, KEY("totals"), '{');
    for (i = 0; i < ncur; i++) {
        const struct fsum *same = NULL;
        for (j = 0; j < nacc && same == NULL; j++)
            if (fsum_same_text(&acc[j], &cur[i]))
                same = &acc[j];
        wr_sides(w, cur[i].currency, &cur[i], same);
    }
    wr_close(w, '}');
    wr_close(w, '}');
    rc = 0;
out:
    fin_lists_free(&l);
    return rc;
}

static int credited(rk_state s)
{
    return s == RK_STATE_CONFIRMED || s == RK_STATE_FINAL || s == RK_STATE_PAID_LATE ||
           s == RK_STATE_RESOLVED;
}

/* A difference: opens the object, which the caller fills in key order and
 * closes; kind is written by diff_kind at its place in that order. */
static void diff_simple(struct wr *w, const char *kind)
{
    wr_open(w, NOKEY, '{');
    wr_str(w, KEY("kind"), kind);
    wr_close(w, '}');
}

/* "event","from"[,"kind"][,"rule"],"to" of a step; kind may be NULL. */
static void wr_step(struct wr *w, const struct step *s, const char *kind, int with_seq)
{
    wr_event(w, KEY("event"), s->e);
    wr_str(w, KEY("from"), rk_state_name(s->from));
    wr_str(w, KEY("kind"), kind);
    wr_str(w, KEY("rule"), s->rule);
    if (with_seq)
        wr_num(w, KEY("seq"), s->e->seq);
    wr_str(w, KEY("to"), rk_state_name(s->to));
}

/* How total t's rail compares with the expected one (x->has): TOT_SAME, or
 * the kind of difference, the first of asset, network, contract that differs. */
enum { TOT_SAME, TOT_ASSET, TOT_NETWORK, TOT_CONTRACT };

static int tot_vs_expected(const rk_planes *p, const struct expect *x, const struct total *t)
{
    if (strcmp(t->asset, x->asset) != 0)
        return TOT_ASSET;
    if (strcmp(t->network, x->network) != 0)
        return TOT_NETWORK;
    /* same_contract is symmetric in its two contracts */
    if (!same_contract(&p->pol, x->asset, x->network, t->contract, x->contract))
        return TOT_CONTRACT;
    return TOT_SAME;
}

/* The visible differences, in the order of formats/replay.md. */
static void write_differences(struct wr *w, const rk_planes *p, const struct pay *y,
                              const struct cview *cv, const struct expect *x,
                              const struct pview *v)
{
    size_t i;
    int any_provider = y->L->nev > 0;
    /* tot_vs_expected of each total, looked up once for the three loops
     * below (a contract comparison asks the policy); past TOTS_FEW totals
     * it is looked up again where needed */
#define TOTS_FEW 8
    unsigned char vs[TOTS_FEW];
#define TOT_VS(i) ((i) < TOTS_FEW ? vs[i] : tot_vs_expected(p, x, &v->tot[i]))

    for (i = 0; x->has && i < v->ntot && i < TOTS_FEW; i++)
        vs[i] = (unsigned char)tot_vs_expected(p, x, &v->tot[i]);

    wr_open(w, KEY("differences"), '[');
    if (cv->created == NULL && (any_provider || y->L->nfr > 0)) {
        wr_open(w, NOKEY, '{');
        wr_str(w, KEY("kind"), "missing_in_plane");
        wr_str(w, KEY("plane"), "commerce");
        wr_close(w, '}');
    }
    if (cv->created != NULL && !any_provider) {
        wr_open(w, NOKEY, '{');
        wr_str(w, KEY("kind"), "missing_in_plane");
        wr_str(w, KEY("plane"), "provider");
        wr_close(w, '}');
    }
    if (y->L->nfr == 0 && any_provider && credited(v->state)) {
        wr_open(w, NOKEY, '{');
        wr_str(w, KEY("kind"), "missing_in_plane");
        wr_str(w, KEY("plane"), "finance");
        wr_close(w, '}');
    }
    if (!p->pol.present && (any_provider || x->has))
        diff_simple(w, "no_policy");
    if (p->pol.present) {
        struct rail r;
        if (x->has && v->rail_state == 0) {
            wr_open(w, NOKEY, '{');
            wr_str(w, KEY("kind"), "unknown_rail");
            wr_rail(w, KEY("rail"), x->asset, x->network, x->contract);
            wr_close(w, '}');
        }
        for (i = 0; i < v->ntot; i++) {
            /* the expected rail itself was reported above (not looked up:
             * rail_find has no effect but its answer) */
            if (!(x->has && TOT_VS(i) == TOT_SAME) &&
                rail_find(&p->pol, v->tot[i].asset, v->tot[i].network, v->tot[i].contract,
                          &r) == 0) {
                wr_open(w, NOKEY, '{');
                wr_str(w, KEY("kind"), "unknown_rail");
                wr_rail(w, KEY("rail"), v->tot[i].asset, v->tot[i].network, v->tot[i].contract);
                wr_close(w, '}');
            }
        }
    }
    if (x->has) {
        for (i = 0; i < v->ntot; i++) {
            const struct total *t = &v->tot[i];
            const char *kind = NULL;
            switch (TOT_VS(i)) {
            case TOT_ASSET:
                kind = "wrong_asset";
                break;
            case TOT_NETWORK:
                kind = "wrong_network";
                break;
            case TOT_CONTRACT:
                kind = "wrong_contract";
                break;
            }
            if (kind == NULL)
                continue;
            wr_open(w, NOKEY, '{');
            wr_rail(w, KEY("expected"), x->asset, x->network, x->contract);
            wr_str(w, KEY("kind"), kind);
            wr_rail(w, KEY("paid"), t->asset, t->network, t->contract);
            wr_close(w, '}');
        }
        for (i = 0; i < v->ntot; i++) {
            const struct total *t = &v->tot[i];
            dec e = x->amount, pd = t->sum;
            int verdict = 0, c;
            if (t->bad || TOT_VS(i) != TOT_SAME)
                continue;
            if (v->has_rail) {
                rk_amount ea, pa;
                if (rk_amount_rescale(e.v, e.scale, v->rail.decimals, &ea) == RK_OK &&
                    rk_amount_rescale(pd.v, pd.scale, v->rail.decimals, &pa) == RK_OK)
                    verdict = rail_verdict(&v->rail, ea, pa);
                else if (dec_cmp(e, pd, &c) == 0)
                    verdict = -c;
            } else if (dec_cmp(e, pd, &c) == 0) {
                verdict = -c;
            }
            if (verdict == 0)
                continue;
            wr_open(w, NOKEY, '{');
            wr_str(w, KEY("asset"), t->asset);
            wr_str(w, KEY("direction"), verdict < 0 ? "underpaid" : "overpaid");
            wr_dec(w, KEY("expected"), e);
            wr_str(w, KEY("kind"), "amount_mismatch");
            wr_dec(w, KEY("paid"), pd);
            wr_close(w, '}');
        }
    }
    if (v->state == RK_STATE_PAID_LATE) {
        wr_open(w, NOKEY, '{');
        wr_time(w, KEY("detected_at"), v->detected_at);
        wr_str(w, KEY("kind"), "paid_late");
        wr_close(w, '}');
    } else if (cv->created != NULL && cv->created->expires_at != NO_TIME &&
               v->detected_at != NO_TIME) {
        int64_t grace = v->has_rail ? v->rail.expiry_grace_s : 0;
        if (v->detected_at > cv->created->expires_at + grace * 1000000000LL) {
            wr_open(w, NOKEY, '{');
            wr_time(w, KEY("detected_at"), v->detected_at);
            wr_time(w, KEY("expires_at"), cv->created->expires_at);
            wr_str(w, KEY("kind"), "paid_late");
            wr_close(w, '}');
        }
    }
    for (i = 0; i < v->nill; i++) {
        wr_open(w, NOKEY, '{');
        wr_step(w, &v->ill[i], "illegal_transition", 0);
        wr_close(w, '}');
    }
    for (i = 0; i < v->nrev; i++) {
        wr_open(w, NOKEY, '{');
        wr_step(w, &v->rev[i], "reversal", 0);
        wr_close(w, '}');
    }
    if (v->multiple)
        diff_simple(w, "duplicate_payment");
    if (v->last_api != NULL && v->last_hook != NULL && pev_cmp(v->last_api, v->last_hook) > 0 &&
        v->last_api->mapped >= 0 && v->last_hook->mapped >= 0 &&
        v->last_api->implied != v->last_hook->implied) {
        wr_open(w, NOKEY, '{');
        wr_str(w, KEY("api_read"), rk_state_name(v->last_api->implied));
        wr_str(w, KEY("kind"), "api_drift");
        wr_str(w, KEY("webhook"), rk_state_name(v->last_hook->implied));
        wr_close(w, '}');
    }
    if (v->has_rail && v->rail.stale_after_s > 0 && v->detected_at != NO_TIME &&
        (v->state == RK_STATE_DETECTED || v->state == RK_STATE_CONFIRMING ||
         v->state == RK_STATE_CONFIRMED) &&
        p->clock - v->detected_at > v->rail.stale_after_s * 1000000000LL) {
        wr_open(w, NOKEY, '{');
        wr_num(w, KEY("age_s"), (uint64_t)((p->clock - v->detected_at) / 1000000000LL));
        wr_str(w, KEY("kind"), "stale_pending");
        wr_time(w, KEY("since"), v->detected_at);
        wr_close(w, '}');
    }
    for (i = 0; i < y->L->nev; i++) {
        if (y->L->ev[i]->mapped == 1)
            continue;
        wr_open(w, NOKEY, '{');
        wr_str(w, KEY("context"), y->L->ev[i]->context);
        wr_event(w, KEY("event"), y->L->ev[i]);
        wr_str(w, KEY("kind"), "unmapped_status");
        wr_str(w, KEY("status"), y->L->ev[i]->status);
        wr_close(w, '}');
    }
    wr_close(w, ']');
#undef TOT_VS
#undef TOTS_FEW
}

static int crow_id_cmp(const void *a, const void *b)
{
    return strcmp((*(const struct crow *const *)a)->row_id,
                  (*(const struct crow *const *)b)->row_id);
}

static int frow_id_cmp(const void *a, const void *b)
{
    return strcmp((*(const struct frow *const *)a)->row_id,
                  (*(const struct frow *const *)b)->row_id);
}

/*
 * An element of the evidence's provider list, {"delivery_seq":SEQ-1,
 * "event":NAME,"seq":SEQ} for event e, in one room when the event's name
 * is written whole and has nothing to escape (the usual event), else
 * member by member (wr_event writes the name then).
 */
static void wr_delivery(struct wr *w, const struct pev *e)
{
    /* zeroed: wr_digits and the copies below move all RK_U64_TEXT_MAX bytes */
    char st[RK_U64_TEXT_MAX] = {0}, dt[RK_U64_TEXT_MAX] = {0};
    size_t sn = wr_u64_text(st, e->seq), dn;
    size_t a = e->provider_n, b = e->event_id_n;
    int more = w->more;
    uint8_t *d;

    /* delivery_seq is seq - 1: seq's text with its last digit one less,
     * unless that digit is 0 (a borrow, or seq 0 itself) */
    if (st[sn - 1] != '0') {
        memcpy(dt, st, RK_U64_TEXT_MAX);
        dt[sn - 1]--;
        dn = sn;
    } else {
        dn = wr_u64_text(dt, e->seq - 1);
    }
#define DLV_A "{\"delivery_seq\":"
#define DLV_B ",\"event\":\""
#define DLV_C "\",\"seq\":"
    if (a + 1 + b + 1 <= 2 * RK_REF_MAX) { /* not cut: see wr_event */
        d = wr_room(w, 1 + sizeof DLV_A - 1 + RK_U64_TEXT_MAX + sizeof DLV_B - 1 + a + 1 + b +
                           sizeof DLV_C - 1 + RK_U64_TEXT_MAX + 1);
        if (d == NULL)
            return;
        d = wr_head(w, d, NOKEY);
        memcpy(d, DLV_A, sizeof DLV_A - 1);
        d += sizeof DLV_A - 1;
        memcpy(d, dt, RK_U64_TEXT_MAX);
        d += dn;
        memcpy(d, DLV_B, sizeof DLV_B - 1);
        d += sizeof DLV_B - 1;
        if (wr_copy_plain(d, e->provider, a) && wr_copy_plain(d + a + 1, e->event_id, b)) {
            d[a] = ':';
            d += a + 1 + b;
            memcpy(d, DLV_C, sizeof DLV_C - 1);
            d += sizeof DLV_C - 1;
            memcpy(d, st, RK_U64_TEXT_MAX);
            d += sn;
            *d++ = '}';
            wr_end(w, d);
            return;
        }
        w->more = more; /* nothing written (no wr_end): start again below */
    }
#undef DLV_A
#undef DLV_B
#undef DLV_C
    wr_open(w, NOKEY, '{');
    wr_digits(w, KEY("delivery_seq"), dt, dn);
    wr_event(w, KEY("event"), e);
    wr_digits(w, KEY("seq"), st, sn);
    wr_close(w, '}');
}

static int write_evidence(struct wr *w, const char *key, const struct pay *y,
                          const struct expect *x, const struct cview *cv,
                          const struct pview *v)
{
    size_t i, n = y->L->ncr > y->L->nfr ? y->L->ncr : y->L->nfr;
    const void **rows, *rows_few[SORT_FEW]; /* the usual few: no allocation */

    rows = n <= SORT_FEW ? rows_few : calloc(n, sizeof *rows);
    if (rows == NULL)
        return -1;
    wr_open_name(w, key, '{');
    /* row ids are distinct (a later version replaces the row) */
    if (y->L->ncr > 0)
        memcpy(rows, y->L->cr, y->L->ncr * sizeof *rows);
    if (y->L->ncr > 1)
        sort_few(rows, y->L->ncr, sizeof *rows, crow_id_cmp);
    wr_open(w, KEY("commerce"), '{');
    for (i = 0; i < y->L->ncr; i++)
        wr_num_name(w, ((const struct crow *)rows[i])->row_id, ((const struct crow *)rows[i])->seq);
    wr_close(w, '}');
    wr_open(w, KEY("duplicates"), '[');
    for (i = 0; i < y->L->ndupseq; i++)
        wr_num(w, NOKEY, y->L->dupseq[i]);
    wr_close(w, ']');
    wr_open(w, KEY("facts"), '{');
    if (v->conf_ev != NULL)
        wr_num(w, KEY("confirmations"), v->conf_ev->seq);
    if (x->has && strcmp(x->from, "commerce") == 0)
        wr_num(w, KEY("expected"), cv->created->seq);
    wr_open(w, KEY("paid"), '[');
    for (i = 0; i < v->nlat; i++)
        if (v->lat[i].e->npm > 0)
            wr_num(w, NOKEY, v->lat[i].e->seq);
    wr_close(w, ']');
    if (v->state_ev != NULL)
        wr_num(w, KEY("state"), v->state_ev->seq);
    wr_close(w, '}');
    if (y->L->nfr > 0)
        memcpy(rows, y->L->fr, y->L->nfr * sizeof *rows);
    if (y->L->nfr > 1)
        sort_few(rows, y->L->nfr, sizeof *rows, frow_id_cmp);
    wr_open(w, KEY("finance"), '{');
    for (i = 0; i < y->L->nfr; i++)
        wr_num_name(w, ((const struct frow *)rows[i])->row_id, ((const struct frow *)rows[i])->seq);
    wr_close(w, '}');
    if (rows != rows_few)
        free(rows);
    wr_open(w, KEY("illegal_transitions"), '[');
    for (i = 0; i < v->nill; i++) {
        wr_open(w, NOKEY, '{');
        wr_step(w, &v->ill[i], NULL, 1);
        wr_close(w, '}');
    }
    wr_close(w, ']');
    wr_open(w, KEY("provider"), '[');
    for (i = 0; i < y->L->nev; i++)
        wr_delivery(w, y->L->ev[i]);
    wr_close(w, ']');
    wr_close(w, '}');
    return 0;
}

/*
 * The three views a payment is rendered from.  pay_closed computes them to
 * judge a payment; when the fold thread compacts it right away (no
 * compactor thread), compact_render renders from the same views instead of
 * computing them again (provider_view alone is ~2 300 instructions).
 */
struct views {
    struct cview cv;
    struct expect x;
    struct pview v;
};

/* One payment: REF:{...} into the state, REF:{...} into the evidence.
 * pre: the payment's views as pay_closed computed them (borrowed), or NULL
 * to compute them here. */
static int write_one_pre(const rk_planes *p, const struct pay *y, const char *key,
                         struct wr *ws, struct wr *we, const struct views *pre)
{
    struct views own;
    const struct cview *cv;
    const struct expect *x;
    const struct pview *v;
    int mine = pre == NULL, rc = -1;

    if (mine) {
        commerce_view(y, &own.cv);
        expected_of(y, &own.cv, &own.x);
        if (provider_view(p, y, &own.x, &own.v) != 0)
            goto out;
        pre = &own;
    }
    cv = &pre->cv;
    x = &pre->x;
    v = &pre->v;
    wr_open_name(ws, key, '{');
    write_commerce(ws, y, cv);
    write_differences(ws, p, y, cv, x, v);
    if (x->has) {
        wr_open(ws, KEY("expected"), '{');
        wr_dec(ws, KEY("amount"), x->amount);
        wr_str(ws, KEY("asset"), x->asset);
        wr_str(ws, KEY("contract"), x->contract);
        wr_str(ws, KEY("from"), x->from);
        wr_str(ws, KEY("memo"), x->memo);
        wr_str(ws, KEY("network"), x->network);
        wr_close(ws, '}');
    }
    if (write_finance(ws, y) != 0 || write_provider(ws, y, v) != 0)
        goto out;
    wr_close(ws, '}');
    if (we != NULL && write_evidence(we, key, y, x, cv, v) != 0)
        goto out;
    rc = 0;
out:
    if (mine)
        pview_free(&own.v); /* provider_view fills it even when it fails */
    return rc;
}

static int write_one(const rk_planes *p, const struct pay *y, const char *key, struct wr *ws,
                     struct wr *we)
{
    return write_one_pre(p, y, key, ws, we, NULL);
}

static int pay_ref_cmp(const void *a, const void *b)
{
    return strcmp((*(struct pay *const *)a)->ref, (*(struct pay *const *)b)->ref);
}

int rk_planes_has(const rk_planes *p, const char *ref)
{
    size_t i;

    for (i = 0; i < p->npays; i++)
        if (!p->pays[i]->dead && strcmp(p->pays[i]->ref, ref) == 0)
            return 1;
    return 0;
}

rk_err rk_planes_write(rk_planes *p, const char *ref, rk_buf *state, rk_buf *evidence,
                       char *err)
{
    struct wr ws, we;
    struct pay *y;
    size_t i, found = 0, s0 = state->len, e0 = evidence != NULL ? evidence->len : 0;
    char hex[2 * RK_HASH_SIZE + 1];
    rk_err rc = RK_OK;

    wr_init(&ws, state);
    wr_init(&we, evidence);
    if ((rc = comp_drain(p, err)) != RK_OK)
        return rc;
    compact_pays(p);
    if (ref == NULL && p->npays > 1)
        qsort(p->pays, p->npays, sizeof *p->pays, pay_ref_cmp);
    for (i = 1; ref == NULL && i < p->npays; i++)
        if (strcmp(p->pays[i - 1]->ref, p->pays[i]->ref) == 0) {
            rc = rk_seterr(err, RK_ERR_INVALID, "two payments are named '%s'", p->pays[i]->ref);
            goto out;
        }
    wr_open(&ws, NOKEY, '{');
    wr_open(&ws, KEY("payments"), '{');
    if (evidence != NULL) {
        wr_open(&we, NOKEY, '{');
        wr_open(&we, KEY("payments"), '{');
    }
    for (i = 0; i < p->npays; i++) {
        if (ref != NULL && strcmp(p->pays[i]->ref, ref) != 0)
            continue;
        if (found++ > 0 && ref != NULL) {
            rc = rk_seterr(err, RK_ERR_INVALID, "two payments are named '%s'", ref);
            goto out;
        }
        y = p->pays[i];
        if (y->compact && y->pol_gen != p->pol_gen && (rc = pay_expand(p, y, err)) != RK_OK)
            goto out;
        if (y->compact) {
            /* the thread is idle (drained), but the lock orders the reads
             * after its last writes to the file */
            pthread_mutex_lock(&p->comp.mu);
            rc = spill_get(&p->sp, y->spill_off,
                           (size_t)y->state_len + (evidence != NULL ? y->evid_len : 0),
                           &p->sp.rd, err);
            pthread_mutex_unlock(&p->comp.mu);
            if (rc != RK_OK)
                goto out;
            wr_name(&ws, y->ref);
            wr_raw(&ws, (const char *)p->sp.rd.data, y->state_len);
            if (evidence != NULL) {
                wr_name(&we, y->ref);
                wr_raw(&we, (const char *)p->sp.rd.data + y->state_len, y->evid_len);
            }
        } else if (write_one(p, y, y->ref, &ws, evidence != NULL ? &we : NULL) != 0) {
            rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    if (ref != NULL && found == 0) {
        rc = rk_seterr(err, RK_ERR_NOTFOUND, "no payment '%s' in the state", ref);
        goto out;
    }
    wr_close(&ws, '}');
    if (p->pol.present) {
        wr_open(&ws, KEY("policy"), '{');
        rk_hex_encode(hex, p->pol.digest, RK_HASH_SIZE);
        wr_str(&ws, KEY("sha256"), hex);
        wr_close(&ws, '}');
    } else {
        wr_null(&ws, KEY("policy"));
    }
    wr_close(&ws, '}');
    if (evidence != NULL) {
        wr_close(&we, '}');
        if (p->pol.present)
            wr_num(&we, KEY("policy_seq"), p->pol.seq);
        wr_num(&we, KEY("records"), p->st.records);
        wr_open(&we, KEY("skipped"), '[');
        for (i = 0; i < p->nskips; i++) {
            wr_open(&we, NOKEY, '{');
            wr_str(&we, KEY("reason"), p->skips[i].reason);
            wr_num(&we, KEY("seq"), p->skips[i].seq);
            wr_close(&we, '}');
        }
        wr_close(&we, ']');
        wr_close(&we, '}');
    }
    wr_sync(&ws);
    wr_sync(&we);
    if (ws.nomem || we.nomem)
        rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
out:
    if (rc != RK_OK) {
        state->len = s0;
        if (evidence != NULL)
            evidence->len = e0;
    }
    return rc;
}

rk_err rk_planes_render(rk_planes *p, const char *ref, cJSON **state, cJSON **evidence,
                        char *err)
{
    rk_buf sb = RK_BUF_INIT, eb = RK_BUF_INIT;
    cJSON *s = NULL, *e = NULL;
    rk_err rc;

    rc = rk_planes_write(p, ref, &sb, evidence != NULL ? &eb : NULL, err);
    if (rc == RK_OK)
        rc = rk_json_parse((const char *)sb.data, sb.len, &s, err);
    if (rc == RK_OK && evidence != NULL)
        rc = rk_json_parse((const char *)eb.data, eb.len, &e, err);
    if (rc == RK_OK) {
        *state = s;
        s = NULL;
        if (evidence != NULL)
            *evidence = e;
        e = NULL;
    }
    cJSON_Delete(s);
    cJSON_Delete(e);
    rk_buf_free(&sb);
    rk_buf_free(&eb);
    return rc;
}

/* ---- compaction (formats/replay.md section 10) --------------------------- */

/*
 * Open the spill file on first use: a fresh file in $TMPDIR (else /tmp),
 * unlinked at once, so that it disappears with the handle or the process,
 * whatever happens, and no other process can open it by name.
 */
static rk_err spill_open(struct spill *sp, char *err)
{
    const char *dir;
    char path[4096];
    int n, fd, e;

    if (sp->fd >= 0)
        return RK_OK; /* before getenv: this runs once per compaction */
    dir = getenv("TMPDIR");
    if (dir == NULL || dir[0] == '\0')
        dir = "/tmp";
    n = snprintf(path, sizeof path, "%s/reckon-replay-XXXXXX", dir);
    if (n < 0 || (size_t)n >= sizeof path)
        return rk_seterr(err, RK_ERR_IO, "cannot create a spill file in '%s': path too long",
                         dir);
    if (sp->block == 0)
        sp->block = SPILL_BLOCK;
    if (sp->buf == NULL && (sp->buf = malloc(sp->block)) == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    fd = mkstemp(path);
    if (fd < 0)
        return rk_seterr(err, RK_ERR_IO, "cannot create a spill file in '%s': %s", dir,
                         strerror(errno));
    if (unlink(path) != 0) {
        e = errno;
        close(fd);
        return rk_seterr(err, RK_ERR_IO, "cannot unlink spill file '%s': %s", path,
                         strerror(e));
    }
    /* a child started by the caller must not inherit it */
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    sp->fd = fd;
    sp->size = sp->flushed = 0;
    sp->len = 0;
    return RK_OK;
}

/* Write buf to the file.  On failure nothing is lost: a later call writes
 * the same bytes at the same offset again. */
static rk_err spill_flush(struct spill *sp, char *err)
{
    size_t done = 0;
    ssize_t w;

    while (done < sp->len) {
        w = pwrite(sp->fd, sp->buf + done, sp->len - done, (off_t)(sp->flushed + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return rk_seterr(err, RK_ERR_IO, "cannot write the spill file: %s",
                             w < 0 ? strerror(errno) : "no progress");
        done += (size_t)w;
    }
    sp->flushed += sp->len;
    sp->len = 0;
    return RK_OK;
}

/* Append n bytes; their offset is sp->size before the call. */
static rk_err spill_put(struct spill *sp, const void *data, size_t n, char *err)
{
    const uint8_t *d = data;
    size_t k;
    rk_err rc;

    while (n > 0) {
        if (sp->len == sp->block && (rc = spill_flush(sp, err)) != RK_OK)
            return rc;
        k = sp->block - sp->len < n ? sp->block - sp->len : n;
        memcpy(sp->buf + sp->len, d, k);
        sp->len += k;
        sp->size += k;
        d += k;
        n -= k;
    }
    return RK_OK;
}

/* Read the n bytes at off back into out (replacing its contents). */
static rk_err spill_get(struct spill *sp, uint64_t off, size_t n, rk_buf *out, char *err)
{
    size_t done = 0;
    ssize_t r;
    rk_err rc;

    rk_buf_reset(out);
    if (sp->fd < 0 || off > sp->size || n > sp->size - off)
        return rk_seterr(err, RK_ERR_CORRUPT, "spill file: no %zu bytes at offset %llu", n,
                         (unsigned long long)off);
    if ((rc = rk_buf_reserve(out, n)) != RK_OK)
        return rk_seterr(err, rc, "out of memory");
    if (off >= sp->flushed) { /* still in the write buffer */
        memcpy(out->data, sp->buf + (off - sp->flushed), n);
        out->len = n;
        return RK_OK;
    }
    if (off + n > sp->flushed && (rc = spill_flush(sp, err)) != RK_OK)
        return rc;
    while (done < n) {
        r = pread(sp->fd, out->data + done, n - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return rk_seterr(err, RK_ERR_IO, "cannot read the spill file: %s",
                             strerror(errno));
        if (r == 0)
            return rk_seterr(err, RK_ERR_IO, "cannot read the spill file: %s",
                             "shorter than written");
        done += (size_t)r;
    }
    out->len = n;
    return RK_OK;
}

void rk_planes_set_source(rk_planes *p, rk_planes_fetch_fn fn, void *ctx, uint64_t idle)
{
    if (fn == NULL)
        comp_stop(p);
    p->fetch = fn;
    p->fetch_ctx = ctx;
    p->idle = fn != NULL ? idle : 0;
    p->next_sweep = p->st.records + p->idle;
}

/*
 * Closed: nothing the payment shows can change unless a record joins it.
 * The verdict reads only the payment's lists and the policy in force, so a
 * payment found open stays open until a record joins it (which clears
 * seen_open) or the policy changes: an idle payment that never closes is
 * not replayed through the lifecycle again at every sweep.
 *
 * vw (may be NULL): when *closed is 1, receives the views the verdict was
 * read from, for pay_compact to render from; the caller frees them with
 * pview_free(&vw->v).  Otherwise nothing of it needs freeing.
 */
static int pay_closed(const rk_planes *p, struct pay *y, int *closed, struct views *vw)
{
    struct views own;
    struct views *w = vw != NULL ? vw : &own;
    const struct pview *v = &w->v;

    *closed = 0;
    if (y->dead || y->compact || !y->has_order || y->L->ncr == 0 || y->L->nfr == 0 || y->L->nev == 0)
        return 0;
    if (y->seen_open && y->pol_gen == p->pol_gen)
        return 0;
    commerce_view(y, &w->cv);
    if (w->cv.created == NULL)
        return 0;
    expected_of(y, &w->cv, &w->x);
    if (provider_view(p, y, &w->x, &w->v) != 0) {
        pview_free(&w->v);
        return -1;
    }
    /* closed states never raise stale_pending, the one difference that
     * reads the replay clock */
    *closed = (rk_state_flags(v->state) & RK_STATE_F_CLOSED) != 0 &&
              v->state != RK_STATE_DETECTED && v->state != RK_STATE_CONFIRMING &&
              v->state != RK_STATE_CONFIRMED;
    if (!*closed || vw == NULL)
        pview_free(&w->v);
    if (!*closed) {
        y->seen_open = 1;
        y->pol_gen = p->pol_gen;
    }
    return 0;
}

/* Free y's lists, keys included (their strings belong to the map); y->L
 * is then NULL.  Nothing to do when they are already dropped. */
static void pay_drop_lists(rk_pool_cache *pc, struct pay *y)
{
    struct paylists *l = y->L;
    size_t i;

    if (l == NULL)
        return;
    for (i = 0; i < l->nev; i++)
        pev_free(pc, l->ev[i]);
    for (i = 0; i < l->ncr; i++)
        rk_pool_release(pc, l->cr[i]);
    for (i = 0; i < l->nfr; i++)
        rk_pool_release(pc, l->fr[i]);
    list_free(l->ev, l->ev_in); /* evh shares its block */
    list_free(l->cr, l->cr_in);
    list_free(l->fr, l->fr_in);
    list_free(l->keys, l->keys_in);
    list_free(l->dupseq, l->dupseq_in);
    rk_pool_release(pc, l);
    y->L = NULL;
}

/* Render y into sb (state) and eb (evidence).  Reads y's lists and the
 * policy in force only: safe on the compactor thread without the lock.
 * pre: y's views from pay_closed (borrowed), or NULL to compute them. */
static rk_err compact_render(const rk_planes *p, const struct pay *y, const struct views *pre,
                             rk_buf *sb, rk_buf *eb, char *err)
{
    struct wr ws, we;

    rk_buf_reset(sb);
    rk_buf_reset(eb);
    wr_init(&ws, sb);
    wr_init(&we, eb);
    if (write_one_pre(p, y, NULL, &ws, &we, pre) != 0 || ws.nomem || we.nomem)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    wr_sync(&ws);
    wr_sync(&we);
    if (sb->len > UINT32_MAX || eb->len > UINT32_MAX)
        return rk_seterr(err, RK_ERR_TOOBIG, "payment '%s': rendering too large to compact",
                         y->ref);
    return RK_OK;
}

/* Append y's renderings to the spill file and note where they lie; with the
 * compactor's lock held when the thread runs. */
static rk_err compact_store(struct spill *sp, struct pay *y, const rk_buf *sb, const rk_buf *eb,
                            char *err)
{
    uint64_t off;
    rk_err rc;

    if ((rc = spill_open(sp, err)) != RK_OK)
        return rc;
    off = sp->size;
    if ((rc = spill_put(sp, sb->data, sb->len, err)) != RK_OK ||
        (rc = spill_put(sp, eb->data, eb->len, err)) != RK_OK)
        return rc;
    y->spill_off = off;
    y->state_len = (uint32_t)sb->len;
    y->evid_len = (uint32_t)eb->len;
    return RK_OK;
}

/* Room for more payments in dq; with the lock held.  0 or -1. */
static int comp_grow_dq(struct compactor *c)
{
    size_t n = c->dqcap == 0 ? 256 : 2 * c->dqcap;
    struct pay **nd = realloc(c->dq, n * sizeof *nd);

    if (nd == NULL)
        return -1;
    c->dq = nd;
    c->dqcap = n;
    return 0;
}

/* Fold thread: free the lists of the payments the thread is done with. */
static void comp_reap(rk_planes *p)
{
    struct compactor *c = &p->comp;
    size_t i, n;

    pthread_mutex_lock(&c->mu);
    n = c->ndq;
    /* dropping the lists of a done payment touches nothing the thread
     * uses, but dq does: drop them with the lock held, in one go */
    for (i = 0; i < n; i++)
        pay_drop_lists(&p->pc, c->dq[i]);
    c->ndq = 0;
    pthread_mutex_unlock(&c->mu);
}

static void *comp_main(void *arg)
{
    rk_planes *p = arg;
    struct compactor *c = &p->comp;
    char err[RK_ERROR_SIZE];
    struct pay *y;
    rk_err rc;

    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (c->qhead == c->qlen && !c->stop)
            pthread_cond_wait(&c->work, &c->mu);
        if (c->qhead == c->qlen)
            break; /* stopped, and nothing is left */
        y = c->q[c->qhead++];
        rc = c->rc;
        if (rc == RK_OK) {
            pthread_mutex_unlock(&c->mu);
            rc = compact_render(p, y, NULL, &c->sb, &c->eb, err);
            pthread_mutex_lock(&c->mu);
            if (rc == RK_OK)
                rc = compact_store(&p->sp, y, &c->sb, &c->eb, err);
            if (rc == RK_OK) {
                /*
                 * The fold thread frees the lists (comp_reap): they were
                 * allocated there, and frees from this thread would contend
                 * with its allocations for the allocator's lock (measured:
                 * a quarter more CPU time for the whole replay).  Without
                 * room in dq, this thread frees them itself.
                 */
                if (c->ndq < c->dqcap || comp_grow_dq(c) == 0) {
                    c->dq[c->ndq++] = y;
                } else {
                    pthread_mutex_unlock(&c->mu);
                    pay_drop_lists(&c->pc, y);
                    pthread_mutex_lock(&c->mu);
                }
            } else if (c->rc == RK_OK) {
                c->rc = rc;
                memcpy(c->err, err, sizeof c->err);
            }
        }
        y->failed = rc != RK_OK;
        y->pending = 0;
        c->njobs--;
        pthread_cond_broadcast(&c->done);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* After a failure: the payments the thread gave up are open again. */
static void comp_reopen_failed(rk_planes *p)
{
    size_t i;

    for (i = 0; i < p->npays; i++) {
        struct pay *y = p->pays[i];
        if (y->failed) {
            y->failed = 0;
            y->compact = 0;
            /* the fold has failed by now; a payment left out of the open
             * list (no memory) is only never compacted again */
            (void)open_push(p, y);
        }
    }
}

/*
 * Fold thread: wait until every payment handed over is done.  Returns the
 * first failure of the thread, if any (the payments it gave up are open
 * again, with their lists).
 */
static rk_err comp_drain(rk_planes *p, char *err)
{
    struct compactor *c = &p->comp;
    rk_err rc;

    if (!c->started)
        return RK_OK;
    pthread_mutex_lock(&c->mu);
    while (c->njobs > 0)
        pthread_cond_wait(&c->done, &c->mu);
    rc = c->rc;
    if (rc != RK_OK)
        memcpy(err, c->err, RK_ERROR_SIZE);
    pthread_mutex_unlock(&c->mu);
    comp_reap(p);
    if (rc != RK_OK)
        comp_reopen_failed(p);
    return rc;
}

/* Fold thread: finish every payment handed over and end the thread. */
static void comp_stop(rk_planes *p)
{
    struct compactor *c = &p->comp;

    if (!c->started)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_signal(&c->work);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->th, NULL);
    c->started = 0;
    c->stop = 0;
    comp_reap(p);
    if (c->rc != RK_OK)
        comp_reopen_failed(p);
}

/* Fold thread: wait until the thread is done with y, if y was handed over. */
static rk_err comp_settle(rk_planes *p, struct pay *y, char *err)
{
    struct compactor *c = &p->comp;
    rk_err rc = RK_OK;

    if (!c->started)
        return RK_OK;
    pthread_mutex_lock(&c->mu);
    while (y->pending)
        pthread_cond_wait(&c->done, &c->mu);
    if (y->failed) {
        rc = c->rc;
        memcpy(err, c->err, RK_ERROR_SIZE);
    }
    pthread_mutex_unlock(&c->mu);
    if (rc != RK_OK)
        return comp_drain(p, err); /* reopens y and the others */
    comp_reap(p); /* y's lists among them: y is expanded next */
    return RK_OK;
}

/*
 * Compact y: queue it for the compactor thread (started on first use),
 * which the sweep hands the queue over to at its end (comp_hand_over), or,
 * when no thread can be started, render and store it here.  Either way y
 * counts as compacted from now on, and the fold thread leaves it alone.
 */
static rk_err pay_compact(rk_planes *p, struct pay *y, const struct views *vw, char *err)
{
    struct compactor *c = &p->comp;
    rk_err rc;

    if (!c->started && !c->nothread) {
        if (pthread_create(&c->th, NULL, comp_main, p) == 0)
            c->started = 1;
        else
            c->nothread = 1;
    }
    if (c->started && c->nbatch == c->batchcap) {
        size_t n = c->batchcap == 0 ? 256 : 2 * c->batchcap;
        struct pay **nb = realloc(c->batch, n * sizeof *nb);
        if (nb == NULL)
            return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        c->batch = nb;
        c->batchcap = n;
    }
    y->pol_gen = p->pol_gen;
    /* The keys of a payment with an order are never read (pay_rename_orphan
     * and pay_merge read them only for payments without one; map_put adds
     * to them again after an expansion): a compacted payment keeps its map
     * keys in the map only.  Its reference lies in one of them already
     * (pay_name). */
    list_free(y->L->keys, y->L->keys_in);
    y->L->keys = y->L->keys_in;
    y->L->nkeys = 0;
    if (!c->started) {
        /* rendered now, from the views pay_closed read: nothing in between
         * changed what they point at (the keys and y->ref are not among it) */
        rc = compact_render(p, y, vw, &c->sb, &c->eb, err);
        if (rc == RK_OK)
            rc = compact_store(&p->sp, y, &c->sb, &c->eb, err);
        if (rc != RK_OK)
            return rc;
        pay_drop_lists(&p->pc, y);
    } else {
        c->batch[c->nbatch++] = y;
    }
    y->compact = 1;
    p->compacted++;
    return RK_OK;
}

/*
 * Hand the payments a sweep compacted over to the thread: one lock and one
 * wake-up per sweep, where a hand-over per payment woke the thread (a futex
 * call and two context switches) for each.  Out of memory, the payments
 * are open again, with their lists (and the fold fails).
 */
static rk_err comp_hand_over(rk_planes *p, char *err)
{
    struct compactor *c = &p->comp;
    size_t i, n = c->nbatch;

    if (n == 0)
        return RK_OK;
    c->nbatch = 0;
    pthread_mutex_lock(&c->mu);
    if (c->qhead == c->qlen)
        c->qhead = c->qlen = 0;
    if (c->qcap - c->qlen < n) {
        size_t cap = c->qcap == 0 ? 256 : 2 * c->qcap;
        struct pay **nq;
        while (cap - c->qlen < n)
            cap *= 2;
        nq = realloc(c->q, cap * sizeof *nq);
        if (nq == NULL) {
            pthread_mutex_unlock(&c->mu);
            for (i = 0; i < n; i++) {
                c->batch[i]->compact = 0;
                p->compacted--;
                (void)open_push(p, c->batch[i]); /* left out: never compacted again */
            }
            return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        }
        c->q = nq;
        c->qcap = cap;
    }
    for (i = 0; i < n; i++) {
        c->batch[i]->pending = 1;
        c->q[c->qlen++] = c->batch[i];
    }
    c->njobs += n;
    pthread_cond_signal(&c->work);
    pthread_mutex_unlock(&c->mu);
    return RK_OK;
}

/*
 * Sweeps come four times per idle span: a sweep renders every payment that
 * became closed and idle since the last one, all at once, and the replay's
 * reader can run only so far ahead of a fold that is busy rendering; a
 * quarter of the payments per sweep keeps the burst nearer the size of its
 * ring (measured on the full bench ledger: about 5% more records/s).
 */
#define SWEEP_EVERY(idle) ((idle) / 4 > 0 ? (idle) / 4 : 1)

/* Compact the closed, idle payments among the open ones; O(open). */
static rk_err sweep(rk_planes *p, char *err)
{
    size_t i, j = 0;
    int closed;
    rk_err rc = RK_OK, hc;
    char herr[RK_ERROR_SIZE];

    p->next_sweep = p->st.records + SWEEP_EVERY(p->idle);
    if (p->comp.started) {
        /* a failure of the thread stops the fold here */
        pthread_mutex_lock(&p->comp.mu);
        rc = p->comp.rc;
        pthread_mutex_unlock(&p->comp.mu);
        if (rc != RK_OK)
            return comp_drain(p, err);
        comp_reap(p);
    }
    for (i = 0; i < p->nopen; i++) {
        struct pay *y = p->open[i];
        if (y->compact || y->dead)
            continue; /* dead ones are freed by compact_pays, from pays */
        if (rc == RK_OK && y->touched + p->idle <= p->st.records) {
            struct views vw;
            int gone = 0;

            if (pay_closed(p, y, &closed, &vw) != 0) {
                rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
            } else if (closed) {
                gone = (rc = pay_compact(p, y, &vw, err)) == RK_OK;
                pview_free(&vw.v);
            }
            if (gone)
                continue;
        }
        p->open[j++] = y;
    }
    p->nopen = j;
    /* whatever happened above, what was queued goes to the thread (or is
     * open again): a compacted payment is never left in neither state */
    hc = comp_hand_over(p, rc == RK_OK ? err : herr);
    return rc != RK_OK ? rc : hc;
}

/* Read record seq back and fold it into y (the payment being expanded). */
static rk_err refold(rk_planes *p, struct pay *y, uint64_t seq, int kind, rk_buf *buf,
                     char *err)
{
    rk_record rec;
    rk_jv body;
    obj o;
    struct pev *e;
    const char *why = NULL;
    rk_err rc;

    rk_buf_reset(buf);
    rc = p->fetch(p->fetch_ctx, seq, buf, &rec, err);
    if (rc != RK_OK)
        return rk_preferr(err, rc, "expanding payment '%s': seq %llu", y->ref,
                          (unsigned long long)seq);
    if (rec.kind != (unsigned)kind)
        return rk_seterr(err, RK_ERR_CORRUPT, "expanding payment '%s': seq %llu is a %s",
                         y->ref, (unsigned long long)seq, rk_kind_name(rec.kind));
    if (p->rsc.cap < rec.body_len + 256) {
        size_t cap = rec.body_len + 256;
        char *nb = realloc(p->rsc.buf, cap);
        if (nb == NULL)
            return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        p->rsc.buf = nb;
        p->rsc.cap = cap;
    }
    p->rsc.used = 0;
    if (rk_jv_parse((const char *)rec.body, rec.body_len, &body, err) != RK_OK ||
        body.type != RK_JV_OBJECT)
        return rk_seterr(err, RK_ERR_CORRUPT, "expanding payment '%s': seq %llu changed",
                         y->ref, (unsigned long long)seq);
    obj_load(&o, &body);
    if (kind == RK_KIND_COMMERCE_ROW)
        return fold_commerce(p, &o, &p->rsc, seq, err);
    if (kind == RK_KIND_FINANCE_ROW)
        return fold_finance(p, &o, &p->rsc, seq, err);
    e = pev_parse(&p->pc, &o, seq, &why);
    if (e == NULL)
        return strcmp(why, "out of memory") == 0
                   ? rk_seterr(err, RK_ERR_NOMEM, "out of memory")
                   : rk_seterr(err, RK_ERR_CORRUPT, "expanding payment '%s': seq %llu: %s",
                               y->ref, (unsigned long long)seq, why);
    if (pay_insert_event(p, y, e, ev_fp(e->event_id, e->event_id_n)) != 0) {
        pev_free(&p->pc, e);
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    }
    return RK_OK;
}

/* The sequence numbers in member name of evidence ev: an object of row ids,
 * an array of numbers, or an array of objects with "seq". */
static rk_err refold_member(rk_planes *p, struct pay *y, const rk_jv *ev, const char *name,
                            int kind, rk_buf *buf, char *err)
{
    rk_jv m, k, v, s;
    rk_jcur c;
    int64_t seq;
    rk_err rc;

    if (!rk_jv_member(ev, name, &m) || rk_jcur_open(&c, &m) != 0)
        return rk_seterr(err, RK_ERR_CORRUPT, "expanding payment '%s': no %s", y->ref, name);
    while (rk_jcur_next(&c, &k, &v)) {
        if (v.type == RK_JV_OBJECT && rk_jv_member(&v, "seq", &s))
            v = s;
        if (rk_jv_int(&v, &seq) != 0 || seq < 0)
            return rk_seterr(err, RK_ERR_CORRUPT, "expanding payment '%s': bad %s", y->ref,
                             name);
        if (kind == 0)
            rc = pay_add_dup(y, (uint64_t)seq) == 0
                     ? RK_OK
                     : rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        else
            rc = refold(p, y, (uint64_t)seq, kind, buf, err);
        if (rc != RK_OK)
            return rc;
    }
    return RK_OK;
}

/*
 * Give a compacted payment back its lists: its evidence names every record
 * behind it (the latest version of each row, each kept event, each
 * duplicate), which are read back through the fetch function and folded
 * exactly as the first time.  Statistics do not move.
 */
static rk_err pay_expand(rk_planes *p, struct pay *y, char *err)
{
    rk_planes_stats st = p->st;
    struct pay *last = p->last;
    int last_dup = p->last_dup;
    uint64_t dups = y->dups;
    rk_buf buf = RK_BUF_INIT, evid = RK_BUF_INIT;
    rk_jv ev;
    rk_err rc;

    if (!y->compact)
        return RK_OK;
    if (p->fetch == NULL)
        return rk_seterr(err, RK_ERR_INVALID,
                         "payment '%s' is compacted and the state has no record source",
                         y->ref);
    if ((rc = comp_settle(p, y, err)) != RK_OK)
        return rc;
    pthread_mutex_lock(&p->comp.mu); /* the thread may be writing to the file */
    rc = spill_get(&p->sp, y->spill_off + y->state_len, y->evid_len, &evid, err);
    pthread_mutex_unlock(&p->comp.mu);
    if (rc != RK_OK) {
        rk_buf_free(&evid);
        return rk_preferr(err, rc, "expanding payment '%s'", y->ref);
    }
    if (rk_jv_parse((const char *)evid.data, evid.len, &ev, err) != RK_OK) {
        rk_buf_free(&evid);
        return rk_seterr(err, RK_ERR_CORRUPT, "expanding payment '%s': bad evidence", y->ref);
    }
    y->L = lists_new(&p->pc);
    if (y->L == NULL) {
        rk_buf_free(&evid);
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    }
    y->compact = 0;
    y->seen_open = 0;
    p->target = y;
    y->dups = 0;
    rc = refold_member(p, y, &ev, "commerce", RK_KIND_COMMERCE_ROW, &buf, err);
    if (rc == RK_OK)
        rc = refold_member(p, y, &ev, "finance", RK_KIND_FINANCE_ROW, &buf, err);
    if (rc == RK_OK)
        rc = refold_member(p, y, &ev, "provider", RK_KIND_PROVIDER_EVENT, &buf, err);
    if (rc == RK_OK)
        rc = refold_member(p, y, &ev, "duplicates", 0, &buf, err);
    p->target = NULL;
    rk_buf_free(&buf);
    rk_buf_free(&evid); /* ev pointed into it */
    p->st = st;
    p->last = last;
    p->last_dup = last_dup;
    if (rc != RK_OK) {
        /* back to the compacted form, which is still exact */
        pay_drop_lists(&p->pc, y);
        y->dups = dups;
        y->compact = 1;
        return rc;
    }
    /* its bytes stay in the spill file, unused (the file only grows) */
    y->state_len = y->evid_len = 0;
    y->spill_off = 0;
    p->expanded++;
    if (open_push(p, y) != 0)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    return RK_OK;
}

void rk_planes_spill_block(rk_planes *p, size_t block)
{
    if (p->sp.buf == NULL)
        p->sp.block = block;
}

void rk_planes_no_thread(rk_planes *p)
{
    if (!p->comp.started)
        p->comp.nothread = 1;
}

void rk_planes_compaction_stats(const rk_planes *p, uint64_t *open, uint64_t *compacted,
                                uint64_t *expanded)
{
    size_t i;
    uint64_t n = 0;

    for (i = 0; i < p->nopen; i++)
        if (!p->open[i]->dead && !p->open[i]->compact)
            n++;
    *open = n;
    *compacted = p->compacted;
    *expanded = p->expanded;
}

rk_err rk_planes_detach(rk_planes *p, char *err)
{
    size_t i;
    rk_err rc;

    if ((rc = comp_drain(p, err)) != RK_OK)
        return rc;
    for (i = 0; i < p->npays; i++) {
        struct pay *y = p->pays[i];
        if (!y->dead && y->compact && y->pol_gen != p->pol_gen &&
            (rc = pay_expand(p, y, err)) != RK_OK)
            return rc;
    }
    rk_planes_set_source(p, NULL, NULL, 0);
    return RK_OK;
}
