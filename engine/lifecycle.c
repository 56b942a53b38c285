/*
 * lifecycle.c - the payment lifecycle: state names, the transition table,
 * provider status words and the confirmation-depth rule.
 *
 * The tables below are the code form of formats/lifecycle.md; the check
 * suite compares them with the document cell by cell.
 */
#include <stddef.h>
#include <string.h>

#include "lifecycle.h"

/* ---- states -------------------------------------------------------------- */

struct state_info {
    const char *name;
    int rank;
    unsigned flags;
};

#define LADDER RK_STATE_F_LADDER
#define CLOSED RK_STATE_F_CLOSED
#define ATTN RK_STATE_F_ATTENTION

static const struct state_info states[RK_STATE__COUNT] = {
    [RK_STATE_CREATED] = {"created", 0, LADDER},
    [RK_STATE_AWAITING_PAYMENT] = {"awaiting_payment", 10, LADDER},
    [RK_STATE_DETECTED] = {"detected", 30, LADDER},
    [RK_STATE_CONFIRMING] = {"confirming", 40, LADDER},
    [RK_STATE_CONFIRMED] = {"confirmed", 50, LADDER},
    [RK_STATE_FINAL] = {"final", 60, LADDER | CLOSED},
    [RK_STATE_UNDERPAID] = {"underpaid", 45, ATTN},
    [RK_STATE_EXPIRED] = {"expired", 20, CLOSED},
    [RK_STATE_PAID_LATE] = {"paid_late", 55, ATTN},
    [RK_STATE_NEEDS_REVIEW] = {"needs_review", 70, ATTN},
    [RK_STATE_REVERSED] = {"reversed", 80, ATTN},
    [RK_STATE_INVALID] = {"invalid", 75, CLOSED | ATTN},
    [RK_STATE_CANCELED] = {"canceled", 25, CLOSED},
    [RK_STATE_REFUND_PENDING] = {"refund_pending", 100, 0},
    [RK_STATE_REFUNDED] = {"refunded", 110, CLOSED},
    [RK_STATE_RESOLVED] = {"resolved", 90, CLOSED},
};

static int state_ok(rk_state s)
{
    return (int)s >= 0 && s < RK_STATE__COUNT;
}

const char *rk_state_name(rk_state s)
{
    return state_ok(s) ? states[s].name : "unknown";
}

rk_err rk_state_parse(const char *name, rk_state *out)
{
    int i;

    if (name == NULL || out == NULL)
        return RK_ERR_INVALID;
    for (i = 0; i < RK_STATE__COUNT; i++) {
        if (strcmp(states[i].name, name) == 0) {
            *out = (rk_state)i;
            return RK_OK;
        }
    }
    return RK_ERR_NOTFOUND;
}

unsigned rk_state_flags(rk_state s)
{
    return state_ok(s) ? states[s].flags : 0;
}

int rk_state_rank(rk_state s)
{
    return state_ok(s) ? states[s].rank : -1;
}

/* ---- the transition table ------------------------------------------------ */

/*
 * One cell: the rule that allows from -> to, or NULL (forbidden).
 * probabilistic marks the one cell allowed only on a rail whose finality is
 * a depth rule (final -> reversed).
 */
struct cell {
    const char *rule;
    int probabilistic;
};

#define A(f, t, r) [RK_STATE_##f][RK_STATE_##t] = {r, 0}
#define P(f, t, r) [RK_STATE_##f][RK_STATE_##t] = {r, 1}

static const struct cell table[RK_STATE__COUNT][RK_STATE__COUNT] = {
    A(CREATED, AWAITING_PAYMENT, "advance"),
    A(CREATED, DETECTED, "advance"),
    A(CREATED, CONFIRMING, "advance"),
    A(CREATED, CONFIRMED, "advance"),
    A(CREATED, FINAL, "advance"),
    A(CREATED, UNDERPAID, "short"),
    A(CREATED, EXPIRED, "expire"),
    A(CREATED, NEEDS_REVIEW, "review"),
    A(CREATED, INVALID, "fail"),
    A(CREATED, CANCELED, "cancel"),
    A(CREATED, RESOLVED, "resolve"),

    A(AWAITING_PAYMENT, DETECTED, "advance"),
    A(AWAITING_PAYMENT, CONFIRMING, "advance"),
    A(AWAITING_PAYMENT, CONFIRMED, "advance"),
    A(AWAITING_PAYMENT, FINAL, "advance"),
    A(AWAITING_PAYMENT, UNDERPAID, "short"),
    A(AWAITING_PAYMENT, EXPIRED, "expire"),
    A(AWAITING_PAYMENT, NEEDS_REVIEW, "review"),
    A(AWAITING_PAYMENT, INVALID, "fail"),
    A(AWAITING_PAYMENT, CANCELED, "cancel"),
    A(AWAITING_PAYMENT, RESOLVED, "resolve"),

    A(DETECTED, CONFIRMING, "advance"),
    A(DETECTED, CONFIRMED, "advance"),
    A(DETECTED, FINAL, "advance"),
    A(DETECTED, UNDERPAID, "short"),
    A(DETECTED, NEEDS_REVIEW, "review"),
    A(DETECTED, REVERSED, "reverse"),
    A(DETECTED, INVALID, "fail"),
    A(DETECTED, RESOLVED, "resolve"),

    A(CONFIRMING, CONFIRMED, "advance"),
    A(CONFIRMING, FINAL, "advance"),
    A(CONFIRMING, UNDERPAID, "short"),
    A(CONFIRMING, NEEDS_REVIEW, "review"),
    A(CONFIRMING, REVERSED, "reverse"),
    A(CONFIRMING, INVALID, "fail"),
    A(CONFIRMING, RESOLVED, "resolve"),

    A(CONFIRMED, FINAL, "advance"),
    A(CONFIRMED, UNDERPAID, "short"),
    A(CONFIRMED, NEEDS_REVIEW, "review"),
    A(CONFIRMED, REVERSED, "reverse"),
    A(CONFIRMED, RESOLVED, "resolve"),
    A(CONFIRMED, REFUND_PENDING, "refund"),
    A(CONFIRMED, REFUNDED, "refunded"),

    P(FINAL, REVERSED, "reverse-final"),
    A(FINAL, REFUND_PENDING, "refund"),
    A(FINAL, REFUNDED, "refunded"),

    A(UNDERPAID, DETECTED, "topup"),
    A(UNDERPAID, CONFIRMING, "topup"),
    A(UNDERPAID, CONFIRMED, "topup"),
    A(UNDERPAID, FINAL, "topup"),
    A(UNDERPAID, PAID_LATE, "late"),
    A(UNDERPAID, NEEDS_REVIEW, "review"),
    A(UNDERPAID, REVERSED, "reverse"),
    A(UNDERPAID, INVALID, "fail"),
    A(UNDERPAID, RESOLVED, "resolve"),
    A(UNDERPAID, REFUND_PENDING, "refund"),
    A(UNDERPAID, REFUNDED, "refunded"),

    A(EXPIRED, UNDERPAID, "expire-partial"),
    A(EXPIRED, PAID_LATE, "late"),
    A(EXPIRED, NEEDS_REVIEW, "review"),
    A(EXPIRED, CANCELED, "cancel"),
    A(EXPIRED, RESOLVED, "resolve"),

    A(PAID_LATE, UNDERPAID, "short"),
    A(PAID_LATE, NEEDS_REVIEW, "review"),
    A(PAID_LATE, REVERSED, "reverse"),
    A(PAID_LATE, INVALID, "fail"),
    A(PAID_LATE, RESOLVED, "resolve"),
    A(PAID_LATE, REFUND_PENDING, "refund"),
    A(PAID_LATE, REFUNDED, "refunded"),

    A(NEEDS_REVIEW, REVERSED, "reverse"),
    A(NEEDS_REVIEW, INVALID, "fail"),
    A(NEEDS_REVIEW, RESOLVED, "resolve"),
    A(NEEDS_REVIEW, REFUND_PENDING, "refund"),
    A(NEEDS_REVIEW, REFUNDED, "refunded"),

    A(REVERSED, AWAITING_PAYMENT, "reopen"),
    A(REVERSED, DETECTED, "redetect"),
    A(REVERSED, CONFIRMING, "redetect"),
    A(REVERSED, CONFIRMED, "redetect"),
    A(REVERSED, FINAL, "redetect"),
    A(REVERSED, UNDERPAID, "short"),
    A(REVERSED, EXPIRED, "expire"),
    A(REVERSED, PAID_LATE, "late"),
    A(REVERSED, NEEDS_REVIEW, "review"),
    A(REVERSED, INVALID, "fail"),
    A(REVERSED, CANCELED, "cancel"),
    A(REVERSED, RESOLVED, "resolve"),

    A(INVALID, NEEDS_REVIEW, "review"),
    A(INVALID, REVERSED, "reverse"),
    A(INVALID, RESOLVED, "resolve"),
    A(INVALID, REFUND_PENDING, "refund"),
    A(INVALID, REFUNDED, "refunded"),

    A(CANCELED, PAID_LATE, "late"),
    A(CANCELED, NEEDS_REVIEW, "review"),

    A(REFUND_PENDING, REFUNDED, "refunded"),
    A(REFUND_PENDING, NEEDS_REVIEW, "refund-failed"),
    A(REFUND_PENDING, RESOLVED, "refund-withdrawn"),

    A(REFUNDED, NEEDS_REVIEW, "refund-bounced"),

    A(RESOLVED, NEEDS_REVIEW, "reopen-review"),
    A(RESOLVED, REVERSED, "reverse"),
    A(RESOLVED, REFUND_PENDING, "refund"),
    A(RESOLVED, REFUNDED, "refunded"),
};

#undef A
#undef P

rk_transition_verdict rk_lifecycle_check_rail(rk_state from, rk_state to,
                                              int probabilistic_finality,
                                              const char **rule)
{
    const struct cell *c;
    const char *r;
    rk_transition_verdict v;

    if (!state_ok(from) || !state_ok(to)) {
        r = "unknown-state";
        v = RK_TRANSITION_FORBIDDEN;
    } else if (from == to) {
        r = "same";
        v = RK_TRANSITION_SAME;
    } else {
        c = &table[from][to];
        if (c->rule == NULL) {
            r = "forbidden";
            v = RK_TRANSITION_FORBIDDEN;
        } else if (c->probabilistic && !probabilistic_finality) {
            r = "final-needs-probabilistic-rail";
            v = RK_TRANSITION_FORBIDDEN;
        } else {
            r = c->rule;
            v = RK_TRANSITION_ALLOWED;
        }
    }
    if (rule != NULL)
        *rule = r;
    return v;
}

rk_transition_verdict rk_lifecycle_check(rk_state from, rk_state to, const char **rule)
{
    return rk_lifecycle_check_rail(from, to, 0, rule);
}

int rk_lifecycle_via_reversal(rk_state from, rk_state to)
{
    if (!state_ok(from) || !state_ok(to))
        return 0;
    return rk_lifecycle_check(from, to, NULL) == RK_TRANSITION_FORBIDDEN &&
           rk_lifecycle_check(from, RK_STATE_REVERSED, NULL) == RK_TRANSITION_ALLOWED &&
           rk_lifecycle_check(RK_STATE_REVERSED, to, NULL) == RK_TRANSITION_ALLOWED;
}

static int on_paid_part_of_ladder(rk_state s)
{
    return s == RK_STATE_DETECTED || s == RK_STATE_CONFIRMING ||
           s == RK_STATE_CONFIRMED || s == RK_STATE_FINAL;
}

rk_state rk_lifecycle_effective(rk_state from, rk_state implied, const char **rule)
{
    int closed_window = from == RK_STATE_EXPIRED || from == RK_STATE_CANCELED ||
                        from == RK_STATE_PAID_LATE;

    if (closed_window && on_paid_part_of_ladder(implied)) {
        if (rule != NULL)
            *rule = "late";
        return RK_STATE_PAID_LATE;
    }
    if (rule != NULL)
        *rule = "as-implied";
    return implied;
}

/* ---- needs_review reasons ------------------------------------------------ */

static const char *const reasons[] = {
    "overpaid", "multiple", "wrong_network", "wrong_asset",
    "wrong_contract", "missing_memo", "manual", "other",
};

rk_err rk_lifecycle_reason_parse(const char *name, const char **canonical)
{
    size_t i;

    if (name == NULL)
        return RK_ERR_INVALID;
    for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        if (strcmp(reasons[i], name) == 0) {
            if (canonical != NULL)
                *canonical = reasons[i];
            return RK_OK;
        }
    }
    return RK_ERR_NOTFOUND;
}

/* ---- provider status words ----------------------------------------------- */

/*
 * One row: a provider word and context ("": none) and what it implies.
 * The reason and flag strings are the canonical static strings above.
 * clen is the length of context, taken by ROW() from the literal so it
 * cannot disagree with the text.
 *
 * The look-up runs once per provider event in a replay, so it is indexed:
 * each provider's rows are grouped by the length of the status word, one
 * array per length, and a provider's by_len table (indexed by that length,
 * a designated initializer whose index is sizeof the literal, so it is a
 * compile-time constant) points at the group.  A word is then compared
 * only with the few rows of its own length, and by words of bytes, not by
 * calls into the C library (the first linear strcmp scan cost ~290
 * instructions an event, a length-first scan ~184, this ~129).  A row
 * put into the group of another length could never match: the check suite
 * maps every row (rk_lifecycle_status_row) and would fail.
 */
struct status_row {
    const char *status;
    const char *context;
    unsigned char clen;
    rk_state state;
    const char *reason;
    const char *flag;
};

#define ROW(s, c, st, r, f) {s, c, sizeof c - 1, st, r, f}

/* The rows whose status has one length: an empty span has none. */
struct row_span {
    const struct status_row *rows;
    unsigned char n;
};

#define SPAN(a) {a, sizeof a / sizeof a[0]}

#define R_OVERPAID "overpaid"
#define R_MULTIPLE "multiple"
#define R_MANUAL "manual"
#define R_OTHER "other"

/* Coinbase Commerce: the status (and context) of the last timeline entry. */
static const struct status_row coinbase_3[] = {
    ROW("NEW", "", RK_STATE_AWAITING_PAYMENT, NULL, NULL),
};
static const struct status_row coinbase_6[] = {
    ROW("SIGNED", "", RK_STATE_AWAITING_PAYMENT, NULL, NULL),
};
static const struct status_row coinbase_7[] = {
    ROW("PENDING", "", RK_STATE_DETECTED, NULL, NULL),
    ROW("EXPIRED", "", RK_STATE_EXPIRED, NULL, NULL),
};
static const struct status_row coinbase_8[] = {
    ROW("RESOLVED", "", RK_STATE_RESOLVED, NULL, NULL),
    ROW("CANCELED", "", RK_STATE_CANCELED, NULL, NULL),
    ROW("REFUNDED", "", RK_STATE_REFUNDED, NULL, NULL),
};
static const struct status_row coinbase_9[] = {
    ROW("COMPLETED", "", RK_STATE_CONFIRMED, NULL, NULL),
};
static const struct status_row coinbase_10[] = {
    ROW("UNRESOLVED", "", RK_STATE_NEEDS_REVIEW, R_OTHER, NULL),
    ROW("UNRESOLVED", "UNDERPAID", RK_STATE_UNDERPAID, NULL, NULL),
    ROW("UNRESOLVED", "OVERPAID", RK_STATE_NEEDS_REVIEW, R_OVERPAID, NULL),
    ROW("UNRESOLVED", "DELAYED", RK_STATE_PAID_LATE, NULL, NULL),
    ROW("UNRESOLVED", "MULTIPLE", RK_STATE_NEEDS_REVIEW, R_MULTIPLE, NULL),
    ROW("UNRESOLVED", "MANUAL", RK_STATE_NEEDS_REVIEW, R_MANUAL, NULL),
    ROW("UNRESOLVED", "OTHER", RK_STATE_NEEDS_REVIEW, R_OTHER, NULL),
};
static const struct status_row coinbase_14[] = {
    ROW("REFUND PENDING", "", RK_STATE_REFUND_PENDING, NULL, NULL),
};
static const struct row_span coinbase_by_len[] = {
    [sizeof "NEW" - 1] = SPAN(coinbase_3),
    [sizeof "SIGNED" - 1] = SPAN(coinbase_6),
    [sizeof "PENDING" - 1] = SPAN(coinbase_7),
    [sizeof "RESOLVED" - 1] = SPAN(coinbase_8),
    [sizeof "COMPLETED" - 1] = SPAN(coinbase_9),
    [sizeof "UNRESOLVED" - 1] = SPAN(coinbase_10),
    [sizeof "REFUND PENDING" - 1] = SPAN(coinbase_14),
};

/* BTCPay Server: webhook event types ("Invoice*") and Greenfield invoice
 * statuses. */
static const struct status_row btcpay_3[] = {
    ROW("New", "", RK_STATE_AWAITING_PAYMENT, NULL, NULL),
    ROW("New", "PaidPartial", RK_STATE_UNDERPAID, NULL, NULL),
};
static const struct status_row btcpay_7[] = {
    ROW("Settled", "", RK_STATE_CONFIRMED, NULL, NULL),
    ROW("Settled", "PaidOver", RK_STATE_CONFIRMED, NULL, R_OVERPAID),
    ROW("Settled", "PaidLate", RK_STATE_PAID_LATE, NULL, NULL),
    ROW("Settled", "Marked", RK_STATE_RESOLVED, NULL, NULL),
    ROW("Expired", "", RK_STATE_EXPIRED, NULL, NULL),
    ROW("Expired", "PaidPartial", RK_STATE_UNDERPAID, NULL, NULL),
    ROW("Expired", "PaidLate", RK_STATE_PAID_LATE, NULL, NULL),
    ROW("Invalid", "", RK_STATE_INVALID, NULL, NULL),
    ROW("Invalid", "Marked", RK_STATE_INVALID, NULL, NULL),
    ROW("Invalid", "Invalid", RK_STATE_INVALID, NULL, NULL),
};
static const struct status_row btcpay_10[] = {
    ROW("Processing", "", RK_STATE_CONFIRMING, NULL, NULL),
    ROW("Processing", "PaidOver", RK_STATE_CONFIRMING, NULL, R_OVERPAID),
    ROW("Processing", "PaidLate", RK_STATE_PAID_LATE, NULL, NULL),
};
static const struct status_row btcpay_14[] = {
    ROW("InvoiceCreated", "", RK_STATE_AWAITING_PAYMENT, NULL, NULL),
    ROW("InvoiceSettled", "", RK_STATE_CONFIRMED, NULL, NULL),
    ROW("InvoiceSettled", "overPaid", RK_STATE_CONFIRMED, NULL, R_OVERPAID),
    ROW("InvoiceSettled", "manuallyMarked", RK_STATE_RESOLVED, NULL, NULL),
    ROW("InvoiceExpired", "", RK_STATE_EXPIRED, NULL, NULL),
    ROW("InvoiceExpired", "partiallyPaid", RK_STATE_UNDERPAID, NULL, NULL),
    ROW("InvoiceInvalid", "", RK_STATE_INVALID, NULL, NULL),
    ROW("InvoiceInvalid", "manuallyMarked", RK_STATE_INVALID, NULL, NULL),
};
static const struct status_row btcpay_17[] = {
    ROW("InvoiceProcessing", "", RK_STATE_CONFIRMING, NULL, NULL),
    ROW("InvoiceProcessing", "overPaid", RK_STATE_CONFIRMING, NULL, R_OVERPAID),
};
static const struct status_row btcpay_21[] = {
    ROW("InvoicePaymentSettled", "", RK_STATE_CONFIRMING, NULL, NULL),
    ROW("InvoicePaymentSettled", "afterExpiration", RK_STATE_PAID_LATE, NULL, NULL),
};
static const struct status_row btcpay_22[] = {
    ROW("InvoiceReceivedPayment", "", RK_STATE_DETECTED, NULL, NULL),
    ROW("InvoiceReceivedPayment", "afterExpiration", RK_STATE_PAID_LATE, NULL, NULL),
};
static const struct row_span btcpay_by_len[] = {
    [sizeof "New" - 1] = SPAN(btcpay_3),
    [sizeof "Settled" - 1] = SPAN(btcpay_7),
    [sizeof "Processing" - 1] = SPAN(btcpay_10),
    [sizeof "InvoiceCreated" - 1] = SPAN(btcpay_14),
    [sizeof "InvoiceProcessing" - 1] = SPAN(btcpay_17),
    [sizeof "InvoicePaymentSettled" - 1] = SPAN(btcpay_21),
    [sizeof "InvoiceReceivedPayment" - 1] = SPAN(btcpay_22),
};

/* NOWPayments: payment_status. */
static const struct status_row nowpayments_6[] = {
    ROW("failed", "", RK_STATE_INVALID, NULL, NULL),
};
static const struct status_row nowpayments_7[] = {
    ROW("waiting", "", RK_STATE_AWAITING_PAYMENT, NULL, NULL),
    ROW("sending", "", RK_STATE_CONFIRMED, NULL, NULL),
    ROW("expired", "", RK_STATE_EXPIRED, NULL, NULL),
};
static const struct status_row nowpayments_8[] = {
    ROW("finished", "", RK_STATE_CONFIRMED, NULL, NULL),
    ROW("refunded", "", RK_STATE_REFUNDED, NULL, NULL),
};
static const struct status_row nowpayments_9[] = {
    ROW("confirmed", "", RK_STATE_CONFIRMED, NULL, NULL),
};
static const struct status_row nowpayments_10[] = {
    ROW("confirming", "", RK_STATE_DETECTED, NULL, NULL),
};
static const struct status_row nowpayments_14[] = {
    ROW("partially_paid", "", RK_STATE_UNDERPAID, NULL, NULL),
};
static const struct row_span nowpayments_by_len[] = {
    [sizeof "failed" - 1] = SPAN(nowpayments_6),
    [sizeof "waiting" - 1] = SPAN(nowpayments_7),
    [sizeof "finished" - 1] = SPAN(nowpayments_8),
    [sizeof "confirmed" - 1] = SPAN(nowpayments_9),
    [sizeof "confirming" - 1] = SPAN(nowpayments_10),
    [sizeof "partially_paid" - 1] = SPAN(nowpayments_14),
};

/* A provider with a status table: by_len has nlen entries (lengths 0 to
 * nlen - 1; longer words have no row). */
struct provider_map {
    const struct row_span *by_len;
    size_t nlen;
};

#define PROVIDER(t) {t, sizeof t / sizeof t[0]}

static const struct provider_map coinbase_map = PROVIDER(coinbase_by_len);
static const struct provider_map btcpay_map = PROVIDER(btcpay_by_len);
static const struct provider_map nowpayments_map = PROVIDER(nowpayments_by_len);

/* Quote untrusted bytes into an error message: printable ASCII only. */
static void quote(char *dst, size_t size, const char *src)
{
    size_t i;

    for (i = 0; i + 1 < size && src[i] != '\0'; i++) {
        unsigned char ch = (unsigned char)src[i];

        dst[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    dst[i] = '\0';
}

static rk_err not_found(char *err, const char *provider, const char *status,
                        const char *context)
{
    char qs[65], qc[65];

    quote(qs, sizeof qs, status);
    if (context == NULL)
        return rk_seterr(err, RK_ERR_NOTFOUND, "%s: unknown status '%s'", provider, qs);
    quote(qc, sizeof qc, context);
    return rk_seterr(err, RK_ERR_NOTFOUND, "%s: unknown status '%s' with context '%s'",
                     provider, qs, qc);
}

/*
 * a[0..n) == b[0..n), where both hold at least n readable bytes (a string
 * of length n does: its NUL follows).  Inlined, a compare of 8 bytes at a
 * time: words at 0, 8, ... and one last word ending at n, overlapping the
 * one before (so every byte is covered, none read past n); below 8 bytes,
 * two overlapping 4-byte words, and below 4 the first, middle and last
 * bytes (all of them).  memcpy loads: no alignment assumed.
 */
static inline int same_text(const char *a, const char *b, size_t n)
{
    uint64_t x, y, d = 0;
    uint32_t u, v;
    size_t i;

    if (n >= 8) {
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        d = x ^ y;
        for (i = 8; i + 8 < n; i += 8) { /* none up to 16 bytes */
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            d |= x ^ y;
        }
        memcpy(&x, a + n - 8, 8);
        memcpy(&y, b + n - 8, 8);
        return (d | (x ^ y)) == 0;
    }
    if (n >= 4) {
        memcpy(&u, a, 4);
        memcpy(&v, b, 4);
        d = u ^ v;
        memcpy(&u, a + n - 4, 4);
        memcpy(&v, b + n - 4, 4);
        return (d | (u ^ v)) == 0;
    }
    return n == 0 || (a[0] == b[0] && a[n >> 1] == b[n >> 1] && a[n - 1] == b[n - 1]);
}

/*
 * name is the literal lit (n bytes with its NUL): byte by byte, stopping at
 * the first difference, so never read past name's NUL (a shorter name
 * differs at its NUL); with a literal the loop becomes one compare with a
 * constant per byte.
 */
static inline int name_is(const char *name, const char *lit, size_t n)
{
    size_t i;

#pragma GCC unroll 32
    for (i = 0; i < n; i++)
        if (name[i] != lit[i])
            return 0;
    return 1;
}

#define NAME_IS(name, lit) name_is(name, lit, sizeof lit)

static rk_err map_rows(const struct provider_map *pm, const char *provider,
                       const char *status, const char *context,
                       rk_status_map_result *out, char *err)
{
    size_t i, n, slen = strlen(status), clen = context != NULL ? strlen(context) : 0;
    const struct status_row *r;

    if (slen >= pm->nlen)
        return not_found(err, provider, status, context);
    r = pm->by_len[slen].rows;
    n = pm->by_len[slen].n; /* 0 for an empty status: no row has one */
    for (i = 0; i < n; i++, r++) {
        /* the context's length and the status's middle byte first (they
         * tell apart most rows of one length), then every byte */
        if (r->clen != clen || r->status[slen >> 1] != status[slen >> 1] ||
            !same_text(r->status, status, slen) || !same_text(r->context, context, clen))
            continue;
        out->state = r->state;
        out->reason = r->reason;
        out->flag = r->flag;
        return RK_OK;
    }
    return not_found(err, provider, status, context);
}

static rk_err map_generic(const char *status, const char *context,
                          rk_status_map_result *out, char *err)
{
    rk_state s;
    const char *reason = NULL, *flag = NULL;

    if (rk_state_parse(status, &s) != RK_OK)
        return not_found(err, "generic", status, context);
    if (s == RK_STATE_NEEDS_REVIEW) {
        if (context == NULL)
            reason = "other";
        else if (rk_lifecycle_reason_parse(context, &reason) != RK_OK)
            return not_found(err, "generic", status, context);
    } else if (context != NULL) {
        if (strcmp(context, "overpaid") != 0)
            return not_found(err, "generic", status, context);
        flag = reasons[0];
    }
    out->state = s;
    out->reason = reason;
    out->flag = flag;
    return RK_OK;
}

/* The status table of provider, NULL for "generic" and unknown names; the
 * first byte picks the one name to compare.  Inlined (a GCC attribute):
 * rk_lifecycle_map_status runs once per provider event. */
static inline __attribute__((always_inline)) const struct provider_map *
provider_table(const char *provider)
{
    switch (provider[0]) {
    case 'c':
        return NAME_IS(provider, "coinbase-commerce") ? &coinbase_map : NULL;
    case 'b':
        return NAME_IS(provider, "btcpay") ? &btcpay_map : NULL;
    case 'n':
        return NAME_IS(provider, "nowpayments") ? &nowpayments_map : NULL;
    default:
        return NULL;
    }
}

/* Out of line (noinline): its quote buffer stays out of the frame of the
 * hot look-up. */
static __attribute__((noinline)) rk_err unknown_provider(char *err, const char *provider)
{
    char qp[65];

    quote(qp, sizeof qp, provider);
    return rk_seterr(err, RK_ERR_INVALID, "map status: unknown provider '%s'", qp);
}

rk_err rk_lifecycle_map_status(const char *provider, const char *status,
                               const char *context, rk_status_map_result *out,
                               char *err)
{
    const struct provider_map *pm;

    if (provider == NULL || status == NULL || out == NULL)
        return rk_seterr(err, RK_ERR_INVALID, "map status: missing argument");
    if (context != NULL && context[0] == '\0')
        context = NULL;
    pm = provider_table(provider);
    if (pm != NULL) {
        /* BTCPay's additionalStatus "None" is no context */
        if (pm == &btcpay_map && context != NULL && NAME_IS(context, "None"))
            context = NULL;
        return map_rows(pm, provider, status, context, out, err);
    }
    if (NAME_IS(provider, "generic"))
        return map_generic(status, context, out, err);
    return unknown_provider(err, provider);
}

rk_err rk_lifecycle_status_row(const char *provider, size_t i, const char **status,
                               const char **context, rk_status_map_result *out)
{
    const struct provider_map *pm;
    size_t len;

    if (provider == NULL || status == NULL || context == NULL || out == NULL)
        return RK_ERR_INVALID;
    pm = provider_table(provider);
    if (pm == NULL)
        return RK_ERR_INVALID;
    for (len = 0; len < pm->nlen; len++) {
        if (i >= pm->by_len[len].n) {
            i -= pm->by_len[len].n;
            continue;
        }
        *status = pm->by_len[len].rows[i].status;
        *context = pm->by_len[len].rows[i].context;
        out->state = pm->by_len[len].rows[i].state;
        out->reason = pm->by_len[len].rows[i].reason;
        out->flag = pm->by_len[len].rows[i].flag;
        return RK_OK;
    }
    return RK_ERR_NOTFOUND;
}

/* ---- confirmation depth -------------------------------------------------- */

static int ladder_level(rk_state s)
{
    switch (s) {
    case RK_STATE_DETECTED:
        return 0;
    case RK_STATE_CONFIRMING:
        return 1;
    case RK_STATE_CONFIRMED:
        return 2;
    case RK_STATE_FINAL:
        return 3;
    default:
        return -1;
    }
}

static const rk_state level_state[4] = {
    RK_STATE_DETECTED, RK_STATE_CONFIRMING, RK_STATE_CONFIRMED, RK_STATE_FINAL,
};

rk_err rk_lifecycle_depth(rk_state implied, const rk_depth *d, rk_state *shown,
                          const char **why)
{
    int have, cap, depth;
    uint64_t conf, final_at;
    const char *w;

    if (!state_ok(implied) || d == NULL || shown == NULL || d->confirmations < -1)
        return RK_ERR_INVALID;
    have = ladder_level(implied);
    if (have < 0) {
        *shown = implied;
        if (why != NULL)
            *why = "not-on-ladder";
        return RK_OK;
    }
    if (d->finalized) {
        depth = 3;
    } else if (d->confirmations < 0) {
        /* No depth evidence: the provider's word, but never unproven finality. */
        *shown = implied == RK_STATE_FINAL ? RK_STATE_CONFIRMED : implied;
        if (why != NULL)
            *why = implied == RK_STATE_FINAL ? "finality-unproven" : "provider-word";
        return RK_OK;
    } else {
        conf = (uint64_t)d->confirmations;
        final_at = d->finality > d->to_credit ? d->finality : d->to_credit;
        if (d->finality > 0 && conf >= final_at)
            depth = 3;
        else if (conf >= d->to_credit)
            depth = 2;
        else if (conf >= 1)
            depth = 1;
        else
            depth = 0;
    }
    /* Only depth may add finality to a provider's "confirmed". */
    cap = have == 2 ? 3 : have;
    if (depth < cap) {
        *shown = level_state[depth];
        w = depth < have ? "rail-needs-more-confirmations" : "provider-word";
    } else {
        *shown = level_state[cap];
        w = cap > have ? "rail-finality-met" : "provider-word";
    }
    if (why != NULL)
        *why = w;
    return RK_OK;
}
