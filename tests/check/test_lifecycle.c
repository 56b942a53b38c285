/*
 * test_lifecycle.c - states, the transition matrix, provider status words
 * and the depth rule, each against expectations written out here (not read
 * back from the engine's tables), and formats/lifecycle.md against the code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "check_main.h"
#include "lifecycle.h"

#define N RK_STATE__COUNT
#define DOC "formats/lifecycle.md"

static const char *const names[] = {
    "created", "awaiting_payment", "detected", "confirming", "confirmed",
    "final", "underpaid", "expired", "paid_late", "needs_review", "reversed",
    "invalid", "canceled", "refund_pending", "refunded", "resolved",
};

static rk_state st(const char *name)
{
    rk_state s = RK_STATE__COUNT;

    ck_assert_msg(rk_state_parse(name, &s) == RK_OK, "no state '%s'", name);
    return s;
}

/* ---- names ------------------------------------------------------------- */

START_TEST(names_round_trip)
{
    int i;
    rk_state s;

    ck_assert_int_eq(N, 16);
    ck_assert_uint_eq(sizeof names / sizeof names[0], N);
    for (i = 0; i < N; i++) {
        ck_assert_str_eq(rk_state_name((rk_state)i), names[i]);
        ck_assert_int_eq(rk_state_parse(names[i], &s), RK_OK);
        ck_assert_int_eq(s, i);
    }
    /* Stored numbers: a few spelled out so a renumbering shows here. */
    ck_assert_int_eq(RK_STATE_CREATED, 0);
    ck_assert_int_eq(RK_STATE_FINAL, 5);
    ck_assert_int_eq(RK_STATE_NEEDS_REVIEW, 9);
    ck_assert_int_eq(RK_STATE_RESOLVED, 15);
}
END_TEST

START_TEST(names_unknown)
{
    rk_state s = RK_STATE_FINAL;

    ck_assert_str_eq(rk_state_name(RK_STATE__COUNT), "unknown");
    ck_assert_str_eq(rk_state_name((rk_state)-1), "unknown");
    ck_assert_str_eq(rk_state_name((rk_state)1000), "unknown");
    ck_assert_int_eq(rk_state_parse("unknown", &s), RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_state_parse("Created", &s), RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_state_parse("created ", &s), RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_state_parse("", &s), RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_state_parse("overpaid", &s), RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_state_parse("cancelled", &s), RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_state_parse(NULL, &s), RK_ERR_INVALID);
    ck_assert_int_eq(rk_state_parse("created", NULL), RK_ERR_INVALID);
    ck_assert_int_eq(s, RK_STATE_FINAL); /* untouched on failure */
}
END_TEST

START_TEST(flags_and_ranks)
{
    static const struct {
        const char *name;
        int rank;
        unsigned flags;
    } want[] = {
        {"created", 0, RK_STATE_F_LADDER},
        {"awaiting_payment", 10, RK_STATE_F_LADDER},
        {"expired", 20, RK_STATE_F_CLOSED},
        {"canceled", 25, RK_STATE_F_CLOSED},
        {"detected", 30, RK_STATE_F_LADDER},
        {"confirming", 40, RK_STATE_F_LADDER},
        {"underpaid", 45, RK_STATE_F_ATTENTION},
        {"confirmed", 50, RK_STATE_F_LADDER},
        {"paid_late", 55, RK_STATE_F_ATTENTION},
        {"final", 60, RK_STATE_F_LADDER | RK_STATE_F_CLOSED},
        {"needs_review", 70, RK_STATE_F_ATTENTION},
        {"invalid", 75, RK_STATE_F_CLOSED | RK_STATE_F_ATTENTION},
        {"reversed", 80, RK_STATE_F_ATTENTION},
        {"resolved", 90, RK_STATE_F_CLOSED},
        {"refund_pending", 100, 0},
        {"refunded", 110, RK_STATE_F_CLOSED},
    };
    size_t i, j;

    ck_assert_uint_eq(sizeof want / sizeof want[0], N);
    for (i = 0; i < N; i++) {
        rk_state s = st(want[i].name);

        ck_assert_int_eq(rk_state_rank(s), want[i].rank);
        ck_assert_uint_eq(rk_state_flags(s), want[i].flags);
        for (j = 0; j < i; j++) /* ranks are distinct, so ties order totally */
            ck_assert_int_ne(rk_state_rank(st(want[j].name)), want[i].rank);
    }
    ck_assert_int_eq(rk_state_rank(RK_STATE__COUNT), -1);
    ck_assert_int_eq(rk_state_rank((rk_state)-3), -1);
    ck_assert_uint_eq(rk_state_flags(RK_STATE__COUNT), 0);
}
END_TEST

/* ---- the transition matrix ----------------------------------------------- */

/* The allowed steps, written independently of engine/lifecycle.c. */
static const struct {
    const char *from, *to, *rule;
} allowed[] = {
    {"created", "awaiting_payment", "advance"},
    {"created", "detected", "advance"},
    {"created", "confirming", "advance"},
    {"created", "confirmed", "advance"},
    {"created", "final", "advance"},
    {"created", "underpaid", "short"},
    {"created", "expired", "expire"},
    {"created", "needs_review", "review"},
    {"created", "invalid", "fail"},
    {"created", "canceled", "cancel"},
    {"created", "resolved", "resolve"},
    {"awaiting_payment", "detected", "advance"},
    {"awaiting_payment", "confirming", "advance"},
    {"awaiting_payment", "confirmed", "advance"},
    {"awaiting_payment", "final", "advance"},
    {"awaiting_payment", "underpaid", "short"},
    {"awaiting_payment", "expired", "expire"},
    {"awaiting_payment", "needs_review", "review"},
    {"awaiting_payment", "invalid", "fail"},
    {"awaiting_payment", "canceled", "cancel"},
    {"awaiting_payment", "resolved", "resolve"},
    {"detected", "confirming", "advance"},
    {"detected", "confirmed", "advance"},
    {"detected", "final", "advance"},
    {"detected", "underpaid", "short"},
    {"detected", "needs_review", "review"},
    {"detected", "reversed", "reverse"},
    {"detected", "invalid", "fail"},
    {"detected", "resolved", "resolve"},
    {"confirming", "confirmed", "advance"},
    {"confirming", "final", "advance"},
    {"confirming", "underpaid", "short"},
    {"confirming", "needs_review", "review"},
    {"confirming", "reversed", "reverse"},
    {"confirming", "invalid", "fail"},
    {"confirming", "resolved", "resolve"},
    {"confirmed", "final", "advance"},
    {"confirmed", "underpaid", "short"},
    {"confirmed", "needs_review", "review"},
    {"confirmed", "reversed", "reverse"},
    {"confirmed", "resolved", "resolve"},
    {"confirmed", "refund_pending", "refund"},
    {"confirmed", "refunded", "refunded"},
    {"final", "refund_pending", "refund"},
    {"final", "refunded", "refunded"},
    {"underpaid", "detected", "topup"},
    {"underpaid", "confirming", "topup"},
    {"underpaid", "confirmed", "topup"},
    {"underpaid", "final", "topup"},
    {"underpaid", "paid_late", "late"},
    {"underpaid", "needs_review", "review"},
    {"underpaid", "reversed", "reverse"},
    {"underpaid", "invalid", "fail"},
    {"underpaid", "resolved", "resolve"},
    {"underpaid", "refund_pending", "refund"},
    {"underpaid", "refunded", "refunded"},
    {"expired", "underpaid", "expire-partial"},
    {"expired", "paid_late", "late"},
    {"expired", "needs_review", "review"},
    {"expired", "canceled", "cancel"},
    {"expired", "resolved", "resolve"},
    {"paid_late", "underpaid", "short"},
    {"paid_late", "needs_review", "review"},
    {"paid_late", "reversed", "reverse"},
    {"paid_late", "invalid", "fail"},
    {"paid_late", "resolved", "resolve"},
    {"paid_late", "refund_pending", "refund"},
    {"paid_late", "refunded", "refunded"},
    {"needs_review", "reversed", "reverse"},
    {"needs_review", "invalid", "fail"},
    {"needs_review", "resolved", "resolve"},
    {"needs_review", "refund_pending", "refund"},
    {"needs_review", "refunded", "refunded"},
    {"reversed", "awaiting_payment", "reopen"},
    {"reversed", "detected", "redetect"},
    {"reversed", "confirming", "redetect"},
    {"reversed", "confirmed", "redetect"},
    {"reversed", "final", "redetect"},
    {"reversed", "underpaid", "short"},
    {"reversed", "expired", "expire"},
    {"reversed", "paid_late", "late"},
    {"reversed", "needs_review", "review"},
    {"reversed", "invalid", "fail"},
    {"reversed", "canceled", "cancel"},
    {"reversed", "resolved", "resolve"},
    {"invalid", "needs_review", "review"},
    {"invalid", "reversed", "reverse"},
    {"invalid", "resolved", "resolve"},
    {"invalid", "refund_pending", "refund"},
    {"invalid", "refunded", "refunded"},
    {"canceled", "paid_late", "late"},
    {"canceled", "needs_review", "review"},
    {"refund_pending", "refunded", "refunded"},
    {"refund_pending", "needs_review", "refund-failed"},
    {"refund_pending", "resolved", "refund-withdrawn"},
    {"refunded", "needs_review", "refund-bounced"},
    {"resolved", "needs_review", "reopen-review"},
    {"resolved", "reversed", "reverse"},
    {"resolved", "refund_pending", "refund"},
    {"resolved", "refunded", "refunded"},
};

static const char *expected_rule(int from, int to)
{
    size_t k;

    for (k = 0; k < sizeof allowed / sizeof allowed[0]; k++)
        if (strcmp(allowed[k].from, names[from]) == 0 && strcmp(allowed[k].to, names[to]) == 0)
            return allowed[k].rule;
    return NULL;
}

START_TEST(matrix_every_cell)
{
    int f, t, n_allowed = 0;

    for (f = 0; f < N; f++) {
        for (t = 0; t < N; t++) {
            const char *rule = NULL, *rule_rail = NULL, *want = expected_rule(f, t);
            rk_transition_verdict v = rk_lifecycle_check((rk_state)f, (rk_state)t, &rule);
            rk_transition_verdict vr =
                rk_lifecycle_check_rail((rk_state)f, (rk_state)t, 1, &rule_rail);
            int final_reverse = f == RK_STATE_FINAL && t == RK_STATE_REVERSED;

            if (f == t) {
                ck_assert_int_eq(v, RK_TRANSITION_SAME);
                ck_assert_str_eq(rule, "same");
            } else if (want != NULL) {
                ck_assert_msg(v == RK_TRANSITION_ALLOWED, "%s -> %s should be allowed",
                              names[f], names[t]);
                ck_assert_str_eq(rule, want);
                n_allowed++;
            } else if (final_reverse) {
                ck_assert_int_eq(v, RK_TRANSITION_FORBIDDEN);
                ck_assert_str_eq(rule, "final-needs-probabilistic-rail");
            } else {
                ck_assert_msg(v == RK_TRANSITION_FORBIDDEN, "%s -> %s should be forbidden",
                              names[f], names[t]);
                ck_assert_str_eq(rule, "forbidden");
            }
            /* A probabilistic rail changes exactly one cell. */
            if (final_reverse) {
                ck_assert_int_eq(vr, RK_TRANSITION_ALLOWED);
                ck_assert_str_eq(rule_rail, "reverse-final");
            } else {
                ck_assert_int_eq(vr, v);
                ck_assert_str_eq(rule_rail, rule);
            }
            /* rule may be NULL. */
            ck_assert_int_eq(rk_lifecycle_check((rk_state)f, (rk_state)t, NULL), v);
        }
    }
    ck_assert_int_eq(n_allowed, (int)(sizeof allowed / sizeof allowed[0]));
}
END_TEST

START_TEST(matrix_principles)
{
    int t;
    const char *rule;

    /* final never reverts on its own: only refunds (and a P reorg) leave it. */
    for (t = 0; t < N; t++) {
        rk_transition_verdict v = rk_lifecycle_check(RK_STATE_FINAL, (rk_state)t, NULL);

        if (t == RK_STATE_REFUND_PENDING || t == RK_STATE_REFUNDED)
            ck_assert_int_eq(v, RK_TRANSITION_ALLOWED);
        else if (t != RK_STATE_FINAL)
            ck_assert_int_eq(v, RK_TRANSITION_FORBIDDEN);
    }
    /* Down the ladder only through an explicit reversal. */
    ck_assert_int_eq(rk_lifecycle_check(RK_STATE_CONFIRMING, RK_STATE_AWAITING_PAYMENT, NULL),
                     RK_TRANSITION_FORBIDDEN);
    ck_assert_int_eq(rk_lifecycle_check(RK_STATE_CONFIRMED, RK_STATE_CONFIRMING, NULL),
                     RK_TRANSITION_FORBIDDEN);
    /* Out-of-range values are forbidden, with their own rule id. */
    ck_assert_int_eq(rk_lifecycle_check(RK_STATE__COUNT, RK_STATE_CREATED, &rule),
                     RK_TRANSITION_FORBIDDEN);
    ck_assert_str_eq(rule, "unknown-state");
    ck_assert_int_eq(rk_lifecycle_check(RK_STATE_CREATED, (rk_state)-1, &rule),
                     RK_TRANSITION_FORBIDDEN);
    ck_assert_str_eq(rule, "unknown-state");
    ck_assert_int_eq(rk_lifecycle_check_rail((rk_state)99, (rk_state)99, 1, &rule),
                     RK_TRANSITION_FORBIDDEN);
    ck_assert_str_eq(rule, "unknown-state");
}
END_TEST

START_TEST(via_reversal_and_effective)
{
    const char *rule;

    /* BTCPay Processing -> New after RBF. */
    ck_assert_int_eq(rk_lifecycle_via_reversal(RK_STATE_CONFIRMING, RK_STATE_AWAITING_PAYMENT), 1);
    ck_assert_int_eq(rk_lifecycle_via_reversal(RK_STATE_DETECTED, RK_STATE_AWAITING_PAYMENT), 1);
    ck_assert_int_eq(rk_lifecycle_via_reversal(RK_STATE_CONFIRMED, RK_STATE_CONFIRMING), 1);
    ck_assert_int_eq(rk_lifecycle_via_reversal(RK_STATE_CONFIRMED, RK_STATE_DETECTED), 1);
    ck_assert_int_eq(rk_lifecycle_via_reversal(RK_STATE_CONFIRMING, RK_STATE_EXPIRED), 1);
    /* Allowed directly: no reversal needed. */
    ck_assert_int_eq(rk_lifecycle_via_reversal(RK_STATE_DETECTED, RK_STATE_CONFIRMED), 0);
    /* final: never by this helper (its reversal needs the rail). */
    ck_assert_int_eq(rk_lifecycle_via_reversal(RK_STATE_FINAL, RK_STATE_CONFIRMING), 0);
    /* expired cannot be reversed: nothing was received. */
    ck_assert_int_eq(rk_lifecycle_via_reversal(RK_STATE_EXPIRED, RK_STATE_DETECTED), 0);
    /* same state, out of range */
    ck_assert_int_eq(rk_lifecycle_via_reversal(RK_STATE_CONFIRMED, RK_STATE_CONFIRMED), 0);
    ck_assert_int_eq(rk_lifecycle_via_reversal(RK_STATE__COUNT, RK_STATE_CREATED), 0);
    ck_assert_int_eq(rk_lifecycle_via_reversal(RK_STATE_CONFIRMED, (rk_state)-1), 0);

    /* The late-payment rule. */
    ck_assert_int_eq(rk_lifecycle_effective(RK_STATE_EXPIRED, RK_STATE_DETECTED, &rule),
                     RK_STATE_PAID_LATE);
    ck_assert_str_eq(rule, "late");
    ck_assert_int_eq(rk_lifecycle_effective(RK_STATE_CANCELED, RK_STATE_CONFIRMED, &rule),
                     RK_STATE_PAID_LATE);
    ck_assert_int_eq(rk_lifecycle_effective(RK_STATE_PAID_LATE, RK_STATE_FINAL, &rule),
                     RK_STATE_PAID_LATE);
    ck_assert_int_eq(rk_lifecycle_effective(RK_STATE_PAID_LATE, RK_STATE_CONFIRMING, NULL),
                     RK_STATE_PAID_LATE);
    ck_assert_int_eq(rk_lifecycle_effective(RK_STATE_EXPIRED, RK_STATE_AWAITING_PAYMENT, &rule),
                     RK_STATE_AWAITING_PAYMENT);
    ck_assert_str_eq(rule, "as-implied");
    ck_assert_int_eq(rk_lifecycle_effective(RK_STATE_EXPIRED, RK_STATE_UNDERPAID, &rule),
                     RK_STATE_UNDERPAID);
    ck_assert_int_eq(rk_lifecycle_effective(RK_STATE_AWAITING_PAYMENT, RK_STATE_DETECTED, &rule),
                     RK_STATE_DETECTED);
    ck_assert_str_eq(rule, "as-implied");
    ck_assert_int_eq(rk_lifecycle_effective(RK_STATE_PAID_LATE, RK_STATE_RESOLVED, NULL),
                     RK_STATE_RESOLVED);
}
END_TEST

/* ---- provider status words ---------------------------------------------- */

/* Every row of every provider table, written out again here. */
static const struct {
    const char *provider, *status, *context, *state, *reason, *flag;
} rows[] = {
    {"coinbase-commerce", "NEW", NULL, "awaiting_payment", NULL, NULL},
    {"coinbase-commerce", "SIGNED", NULL, "awaiting_payment", NULL, NULL},
    {"coinbase-commerce", "PENDING", NULL, "detected", NULL, NULL},
    {"coinbase-commerce", "COMPLETED", NULL, "confirmed", NULL, NULL},
    {"coinbase-commerce", "EXPIRED", NULL, "expired", NULL, NULL},
    {"coinbase-commerce", "UNRESOLVED", NULL, "needs_review", "other", NULL},
    {"coinbase-commerce", "UNRESOLVED", "UNDERPAID", "underpaid", NULL, NULL},
    {"coinbase-commerce", "UNRESOLVED", "OVERPAID", "needs_review", "overpaid", NULL},
    {"coinbase-commerce", "UNRESOLVED", "DELAYED", "paid_late", NULL, NULL},
    {"coinbase-commerce", "UNRESOLVED", "MULTIPLE", "needs_review", "multiple", NULL},
    {"coinbase-commerce", "UNRESOLVED", "MANUAL", "needs_review", "manual", NULL},
    {"coinbase-commerce", "UNRESOLVED", "OTHER", "needs_review", "other", NULL},
    {"coinbase-commerce", "RESOLVED", NULL, "resolved", NULL, NULL},
    {"coinbase-commerce", "CANCELED", NULL, "canceled", NULL, NULL},
    {"coinbase-commerce", "REFUND PENDING", NULL, "refund_pending", NULL, NULL},
    {"coinbase-commerce", "REFUNDED", NULL, "refunded", NULL, NULL},

    {"btcpay", "InvoiceCreated", NULL, "awaiting_payment", NULL, NULL},
    {"btcpay", "InvoiceReceivedPayment", NULL, "detected", NULL, NULL},
    {"btcpay", "InvoiceReceivedPayment", "afterExpiration", "paid_late", NULL, NULL},
    {"btcpay", "InvoicePaymentSettled", NULL, "confirming", NULL, NULL},
    {"btcpay", "InvoicePaymentSettled", "afterExpiration", "paid_late", NULL, NULL},
    {"btcpay", "InvoiceProcessing", NULL, "confirming", NULL, NULL},
    {"btcpay", "InvoiceProcessing", "overPaid", "confirming", NULL, "overpaid"},
    {"btcpay", "InvoiceSettled", NULL, "confirmed", NULL, NULL},
    {"btcpay", "InvoiceSettled", "overPaid", "confirmed", NULL, "overpaid"},
    {"btcpay", "InvoiceSettled", "manuallyMarked", "resolved", NULL, NULL},
    {"btcpay", "InvoiceExpired", NULL, "expired", NULL, NULL},
    {"btcpay", "InvoiceExpired", "partiallyPaid", "underpaid", NULL, NULL},
    {"btcpay", "InvoiceInvalid", NULL, "invalid", NULL, NULL},
    {"btcpay", "InvoiceInvalid", "manuallyMarked", "invalid", NULL, NULL},
    {"btcpay", "New", NULL, "awaiting_payment", NULL, NULL},
    {"btcpay", "New", "PaidPartial", "underpaid", NULL, NULL},
    {"btcpay", "Processing", NULL, "confirming", NULL, NULL},
    {"btcpay", "Processing", "PaidOver", "confirming", NULL, "overpaid"},
    {"btcpay", "Processing", "PaidLate", "paid_late", NULL, NULL},
    {"btcpay", "Settled", NULL, "confirmed", NULL, NULL},
    {"btcpay", "Settled", "PaidOver", "confirmed", NULL, "overpaid"},
    {"btcpay", "Settled", "PaidLate", "paid_late", NULL, NULL},
    {"btcpay", "Settled", "Marked", "resolved", NULL, NULL},
    {"btcpay", "Expired", NULL, "expired", NULL, NULL},
    {"btcpay", "Expired", "PaidPartial", "underpaid", NULL, NULL},
    {"btcpay", "Expired", "PaidLate", "paid_late", NULL, NULL},
    {"btcpay", "Invalid", NULL, "invalid", NULL, NULL},
    {"btcpay", "Invalid", "Marked", "invalid", NULL, NULL},
    {"btcpay", "Invalid", "Invalid", "invalid", NULL, NULL},

    {"nowpayments", "waiting", NULL, "awaiting_payment", NULL, NULL},
    {"nowpayments", "confirming", NULL, "detected", NULL, NULL},
    {"nowpayments", "confirmed", NULL, "confirmed", NULL, NULL},
    {"nowpayments", "sending", NULL, "confirmed", NULL, NULL},
    {"nowpayments", "partially_paid", NULL, "underpaid", NULL, NULL},
    {"nowpayments", "finished", NULL, "confirmed", NULL, NULL},
    {"nowpayments", "failed", NULL, "invalid", NULL, NULL},
    {"nowpayments", "refunded", NULL, "refunded", NULL, NULL},
    {"nowpayments", "expired", NULL, "expired", NULL, NULL},
};

static void check_row(const char *provider, const char *status, const char *context,
                      const char *state, const char *reason, const char *flag)
{
    rk_status_map_result r;
    char err[RK_ERROR_SIZE] = "";

    memset(&r, 0xa5, sizeof r);
    ck_assert_msg(rk_lifecycle_map_status(provider, status, context, &r, err) == RK_OK,
                  "%s %s/%s: %s", provider, status, context ? context : "-", err);
    ck_assert_msg(strcmp(rk_state_name(r.state), state) == 0, "%s %s/%s: got %s want %s",
                  provider, status, context ? context : "-", rk_state_name(r.state), state);
    if (reason == NULL)
        ck_assert_ptr_null(r.reason);
    else
        ck_assert_str_eq(r.reason, reason);
    if (flag == NULL)
        ck_assert_ptr_null(r.flag);
    else
        ck_assert_str_eq(r.flag, flag);
    /* A reason only on needs_review, and always one there. */
    ck_assert_int_eq(r.reason != NULL, r.state == RK_STATE_NEEDS_REVIEW);
}

START_TEST(map_every_row)
{
    size_t i;

    for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
        check_row(rows[i].provider, rows[i].status, rows[i].context, rows[i].state,
                  rows[i].reason, rows[i].flag);
}
END_TEST

START_TEST(map_generic)
{
    static const char *const reasons[] = {
        "overpaid", "multiple", "wrong_network", "wrong_asset",
        "wrong_contract", "missing_memo", "manual", "other",
    };
    rk_status_map_result r;
    size_t i;

    for (i = 0; i < N; i++) {
        if (i == RK_STATE_NEEDS_REVIEW)
            check_row("generic", names[i], NULL, names[i], "other", NULL);
        else
            check_row("generic", names[i], NULL, names[i], NULL, NULL);
    }
    for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        check_row("generic", "needs_review", reasons[i], "needs_review", reasons[i], NULL);
    check_row("generic", "confirmed", "overpaid", "confirmed", NULL, "overpaid");
    check_row("generic", "confirmed", "", "confirmed", NULL, NULL);
    ck_assert_int_eq(rk_lifecycle_map_status("generic", "needs_review", "bored", &r, NULL),
                     RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_lifecycle_map_status("generic", "confirmed", "multiple", &r, NULL),
                     RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_lifecycle_map_status("generic", "overpaid", NULL, &r, NULL),
                     RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_lifecycle_map_status("generic", "Confirmed", NULL, &r, NULL),
                     RK_ERR_NOTFOUND);
}
END_TEST

START_TEST(map_unknown_words)
{
    rk_status_map_result r, keep;
    char err[RK_ERROR_SIZE];
    char longword[200];

    memset(&r, 0x5a, sizeof r);
    memcpy(&keep, &r, sizeof r);
    /* Unknown words: NOTFOUND, out untouched, the word quoted. */
    ck_assert_int_eq(rk_lifecycle_map_status("coinbase-commerce", "CONFIRMED", NULL, &r, err),
                     RK_ERR_NOTFOUND);
    ck_assert_str_eq(err, "coinbase-commerce: unknown status 'CONFIRMED'");
    ck_assert(memcmp(&r, &keep, sizeof r) == 0);
    ck_assert_int_eq(rk_lifecycle_map_status("coinbase-commerce", "completed", NULL, &r, err),
                     RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_lifecycle_map_status("coinbase-commerce", "CANCELLED", NULL, &r, err),
                     RK_ERR_NOTFOUND);
    /* Event types are not statuses: read the timeline. */
    ck_assert_int_eq(rk_lifecycle_map_status("coinbase-commerce", "charge:failed", NULL, &r, err),
                     RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_lifecycle_map_status("coinbase-commerce", "UNRESOLVED", "SHORT", &r, err),
                     RK_ERR_NOTFOUND);
    ck_assert_str_eq(err, "coinbase-commerce: unknown status 'UNRESOLVED' with context 'SHORT'");
    /* A context where the provider sends none is new vocabulary too. */
    ck_assert_int_eq(rk_lifecycle_map_status("coinbase-commerce", "COMPLETED", "OVERPAID", &r, err),
                     RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_lifecycle_map_status("nowpayments", "finished", "x", &r, err),
                     RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_lifecycle_map_status("nowpayments", "FINISHED", NULL, &r, err),
                     RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_lifecycle_map_status("btcpay", "InvoiceSettled", "PaidOver", &r, err),
                     RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_lifecycle_map_status("btcpay", "Complete", NULL, &r, err),
                     RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_lifecycle_map_status("btcpay", "PaymentRequestCreated", NULL, &r, err),
                     RK_ERR_NOTFOUND);
    ck_assert(memcmp(&r, &keep, sizeof r) == 0);
    /* "" is no context; BTCPay's "None" additional status is no context. */
    check_row("coinbase-commerce", "COMPLETED", "", "confirmed", NULL, NULL);
    check_row("btcpay", "Settled", "None", "confirmed", NULL, NULL);
    check_row("btcpay", "InvoiceSettled", "", "confirmed", NULL, NULL);
    /* Untrusted bytes are quoted safely and cut at 64. */
    ck_assert_int_eq(rk_lifecycle_map_status("nowpayments", "bad\x01\nword\xff", NULL, &r, err),
                     RK_ERR_NOTFOUND);
    ck_assert_str_eq(err, "nowpayments: unknown status 'bad??word?'");
    memset(longword, 'x', sizeof longword - 1);
    longword[sizeof longword - 1] = '\0';
    ck_assert_int_eq(rk_lifecycle_map_status("nowpayments", longword, NULL, &r, err),
                     RK_ERR_NOTFOUND);
    ck_assert_uint_eq(strlen(err), strlen("nowpayments: unknown status ''") + 64);
    /* Caller errors. */
    ck_assert_int_eq(rk_lifecycle_map_status("coinbase", "NEW", NULL, &r, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "map status: unknown provider 'coinbase'");
    ck_assert_int_eq(rk_lifecycle_map_status(NULL, "NEW", NULL, &r, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_lifecycle_map_status("btcpay", NULL, NULL, &r, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_lifecycle_map_status("btcpay", "New", NULL, NULL, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_lifecycle_map_status("btcpay", "Nope", NULL, &r, NULL), RK_ERR_NOTFOUND);
}
END_TEST

/*
 * The look-up filters rows by lengths and a few bytes before comparing:
 * near misses of every row must still miss, and every hit must be the row
 * an exact string compare finds.  The model below is that plain compare
 * over rows[] above, with the documented normalisations ("" is no context,
 * BTCPay's "None" is no context).
 */
static int model(const char *provider, const char *status, const char *context, size_t *row)
{
    size_t i;

    if (context != NULL && (context[0] == '\0' ||
                            (strcmp(provider, "btcpay") == 0 && strcmp(context, "None") == 0)))
        context = NULL;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (strcmp(rows[i].provider, provider) != 0 || strcmp(rows[i].status, status) != 0)
            continue;
        if ((rows[i].context == NULL) != (context == NULL))
            continue;
        if (context != NULL && strcmp(rows[i].context, context) != 0)
            continue;
        *row = i;
        return 1;
    }
    return 0;
}

static void check_model(const char *provider, const char *status, const char *context)
{
    rk_status_map_result r, keep;
    size_t i = 0;
    rk_err rc;

    memset(&r, 0x5a, sizeof r);
    memcpy(&keep, &r, sizeof r);
    rc = rk_lifecycle_map_status(provider, status, context, &r, NULL);
    if (!model(provider, status, context, &i)) {
        ck_assert_msg(rc == RK_ERR_NOTFOUND, "%s '%s'/'%s': rc %d, want not found", provider,
                      status, context ? context : "-", (int)rc);
        ck_assert(memcmp(&r, &keep, sizeof r) == 0);
        return;
    }
    ck_assert_msg(rc == RK_OK, "%s '%s'/'%s': rc %d", provider, status,
                  context ? context : "-", (int)rc);
    ck_assert_str_eq(rk_state_name(r.state), rows[i].state);
    if (rows[i].reason == NULL)
        ck_assert_ptr_null(r.reason);
    else
        ck_assert_str_eq(r.reason, rows[i].reason);
    if (rows[i].flag == NULL)
        ck_assert_ptr_null(r.flag);
    else
        ck_assert_str_eq(r.flag, rows[i].flag);
}

#define NVAR 96

/* Near misses of w: w itself, each byte's case flipped, each byte set to
 * another letter, every proper prefix, and w with a byte appended. */
static size_t variants(const char *w, char out[NVAR][40])
{
    size_t n = 0, len = strlen(w), i;

    ck_assert_uint_lt(len + 2, 40);
    strcpy(out[n++], w);
    for (i = 0; i < len && n + 2 <= NVAR; i++) {
        strcpy(out[n], w);
        out[n][i] = (char)(out[n][i] ^ 0x20); /* case, or '_' <-> DEL, ' ' <-> NUL */
        if (out[n][i] != '\0')
            n++;
        strcpy(out[n], w);
        out[n][i] = out[n][i] == 'x' ? 'y' : 'x';
        n++;
    }
    for (i = 0; i < len && n < NVAR; i++) {
        memcpy(out[n], w, i);
        out[n++][i] = '\0';
    }
    if (n + 3 <= NVAR) {
        snprintf(out[n++], 40, "%s ", w);
        snprintf(out[n++], 40, "%sd", w);
        snprintf(out[n++], 40, "%s\xff", w);
    }
    return n;
}

START_TEST(map_near_misses)
{
    static const char *const providers[] = {"coinbase-commerce", "btcpay", "nowpayments"};
    static const char *const extra[] = {NULL, "", "None", "none", "NONE", "None ", "x"};
    static char sv[NVAR][40], cv[NVAR][40];
    size_t nr = sizeof rows / sizeof rows[0], i, j, k, p, ns, nc;

    for (i = 0; i < nr; i++) {
        ns = variants(rows[i].status, sv);
        for (p = 0; p < 3; p++) {
            for (j = 0; j < ns; j++) {
                /* each status variant with no context, the extras, and every
                 * context any row has */
                for (k = 0; k < sizeof extra / sizeof extra[0]; k++)
                    check_model(providers[p], sv[j], extra[k]);
                for (k = 0; k < nr; k++)
                    if (rows[k].context != NULL)
                        check_model(providers[p], sv[j], rows[k].context);
            }
            if (rows[i].context == NULL)
                continue;
            /* the row's status with near misses of its context */
            nc = variants(rows[i].context, cv);
            for (j = 0; j < nc; j++)
                check_model(providers[p], rows[i].status, cv[j]);
        }
    }
    /* near misses of the provider names are not providers */
    for (p = 0; p < 3; p++) {
        rk_status_map_result r;

        nc = variants(providers[p], cv);
        for (j = 1; j < nc; j++)
            ck_assert_int_eq(rk_lifecycle_map_status(cv[j], "New", NULL, &r, NULL),
                             RK_ERR_INVALID);
    }
}
END_TEST

START_TEST(reasons)
{
    static const char *const want[] = {
        "overpaid", "multiple", "wrong_network", "wrong_asset",
        "wrong_contract", "missing_memo", "manual", "other",
    };
    const char *c = NULL;
    char copy[32];
    size_t i;

    for (i = 0; i < sizeof want / sizeof want[0]; i++) {
        snprintf(copy, sizeof copy, "%s", want[i]);
        ck_assert_int_eq(rk_lifecycle_reason_parse(copy, &c), RK_OK);
        ck_assert_str_eq(c, want[i]);
        ck_assert_ptr_ne(c, copy); /* the static canonical string */
    }
    ck_assert_int_eq(rk_lifecycle_reason_parse("other", NULL), RK_OK);
    ck_assert_int_eq(rk_lifecycle_reason_parse("OVERPAID", &c), RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_lifecycle_reason_parse("", &c), RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_lifecycle_reason_parse(NULL, &c), RK_ERR_INVALID);
}
END_TEST

/* ---- confirmation depth -------------------------------------------------- */

START_TEST(depth_edges)
{
    static const struct {
        const char *implied;
        int64_t conf;
        uint32_t to_credit, finality;
        int finalized;
        const char *shown, *why;
    } cases[] = {
        /* The brief's example: provider confirmed at 1, the rail needs 6. */
        {"confirmed", 1, 6, 6, 0, "confirming", "rail-needs-more-confirmations"},
        {"confirmed", 0, 6, 6, 0, "detected", "rail-needs-more-confirmations"},
        {"confirmed", 5, 6, 6, 0, "confirming", "rail-needs-more-confirmations"},
        {"confirmed", 6, 6, 6, 0, "final", "rail-finality-met"},
        {"confirmed", 1, 1, 6, 0, "confirmed", "provider-word"},
        {"confirmed", 5, 1, 6, 0, "confirmed", "provider-word"},
        {"confirmed", 6, 1, 6, 0, "final", "rail-finality-met"},
        {"confirmed", 7, 1, 6, 0, "final", "rail-finality-met"},
        /* Credit on detection (0 confirmations to credit). */
        {"confirmed", 0, 0, 6, 0, "confirmed", "provider-word"},
        {"confirming", 0, 0, 6, 0, "confirming", "provider-word"},
        /* Finality below credit is read as max(finality, to_credit). */
        {"confirmed", 3, 6, 2, 0, "confirming", "rail-needs-more-confirmations"},
        {"confirmed", 6, 6, 2, 0, "final", "rail-finality-met"},
        /* finality 0: depth never makes final; only the signal does. */
        {"confirmed", 1000000, 12, 0, 0, "confirmed", "provider-word"},
        {"confirmed", 64, 12, 0, 1, "final", "rail-finality-met"},
        {"confirmed", -1, 12, 0, 1, "final", "rail-finality-met"},
        {"final", 5, 12, 0, 1, "final", "provider-word"},
        /* Depth never lifts detected or confirming. */
        {"detected", 100, 1, 6, 0, "detected", "provider-word"},
        {"detected", 100, 1, 6, 1, "detected", "provider-word"},
        {"confirming", 100, 1, 6, 0, "confirming", "provider-word"},
        {"confirming", 0, 1, 6, 0, "detected", "rail-needs-more-confirmations"},
        /* A provider "final" is checked like any other word. */
        {"final", 6, 6, 6, 0, "final", "provider-word"},
        {"final", 2, 1, 6, 0, "confirmed", "rail-needs-more-confirmations"},
        {"final", 0, 1, 6, 0, "detected", "rail-needs-more-confirmations"},
        /* Unknown depth: the provider's word, finality unproven. */
        {"confirmed", -1, 6, 6, 0, "confirmed", "provider-word"},
        {"detected", -1, 6, 6, 0, "detected", "provider-word"},
        {"final", -1, 6, 6, 0, "confirmed", "finality-unproven"},
        /* Off the ladder: unchanged. */
        {"underpaid", 100, 1, 6, 1, "underpaid", "not-on-ladder"},
        {"paid_late", 0, 1, 6, 0, "paid_late", "not-on-ladder"},
        {"awaiting_payment", 3, 1, 6, 0, "awaiting_payment", "not-on-ladder"},
        {"created", -1, 1, 6, 0, "created", "not-on-ladder"},
        {"reversed", 9, 1, 6, 0, "reversed", "not-on-ladder"},
        /* Large numbers: 64-bit counts against 32-bit policy. */
        {"confirmed", INT64_MAX, UINT32_MAX, UINT32_MAX, 0, "final", "rail-finality-met"},
        {"confirmed", (int64_t)UINT32_MAX - 1, UINT32_MAX, UINT32_MAX, 0, "confirming",
         "rail-needs-more-confirmations"},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rk_depth d = {cases[i].conf, cases[i].to_credit, cases[i].finality, cases[i].finalized};
        rk_state shown = RK_STATE__COUNT;
        const char *why = NULL;

        ck_assert_int_eq(rk_lifecycle_depth(st(cases[i].implied), &d, &shown, &why), RK_OK);
        ck_assert_msg(strcmp(rk_state_name(shown), cases[i].shown) == 0 &&
                          strcmp(why, cases[i].why) == 0,
                      "case %zu: got %s/%s want %s/%s", i, rk_state_name(shown), why,
                      cases[i].shown, cases[i].why);
        ck_assert_int_eq(rk_lifecycle_depth(st(cases[i].implied), &d, &shown, NULL), RK_OK);
    }
}
END_TEST

START_TEST(depth_limits)
{
    rk_depth d = {1, 1, 6, 0};
    rk_state shown = RK_STATE_CREATED;

    ck_assert_int_eq(rk_lifecycle_depth(RK_STATE__COUNT, &d, &shown, NULL), RK_ERR_INVALID);
    ck_assert_int_eq(rk_lifecycle_depth((rk_state)-1, &d, &shown, NULL), RK_ERR_INVALID);
    ck_assert_int_eq(rk_lifecycle_depth(RK_STATE_CONFIRMED, NULL, &shown, NULL), RK_ERR_INVALID);
    ck_assert_int_eq(rk_lifecycle_depth(RK_STATE_CONFIRMED, &d, NULL, NULL), RK_ERR_INVALID);
    d.confirmations = -2;
    ck_assert_int_eq(rk_lifecycle_depth(RK_STATE_CONFIRMED, &d, &shown, NULL), RK_ERR_INVALID);
    d.confirmations = INT64_MIN;
    ck_assert_int_eq(rk_lifecycle_depth(RK_STATE_CONFIRMED, &d, &shown, NULL), RK_ERR_INVALID);
    ck_assert_int_eq(shown, RK_STATE_CREATED); /* untouched on failure */
}
END_TEST

/* ---- formats/lifecycle.md against the code ------------------------------- */

/* Split a markdown table row into trimmed cells; returns the count. */
static int cells(char *line, char **out, int max)
{
    int n = 0;
    char *p = line, *bar, *s, *e;

    if (*p != '|')
        return 0;
    p++;
    while (n < max && (bar = strchr(p, '|')) != NULL) {
        *bar = '\0';
        s = p;
        while (*s == ' ')
            s++;
        e = s + strlen(s);
        while (e > s && e[-1] == ' ')
            *--e = '\0';
        out[n++] = s;
        p = bar + 1;
    }
    return n;
}

static char *read_doc(void)
{
    rk_buf b = RK_BUF_INIT;
    char err[RK_ERROR_SIZE];

    ck_assert_msg(rk_buf_read_file(&b, DOC, 1 << 20, err) == RK_OK, "%s", err);
    ck_assert_uint_gt(b.len, 0);
    return rk_buf_detach(&b, NULL);
}

START_TEST(doc_matrix_matches)
{
    char *doc = read_doc(), *line, *save = NULL;
    int in = 0, row = 0;

    for (line = strtok_r(doc, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char *c[N + 2];
        int n, t;
        rk_state from;

        if (strncmp(line, "| from / to |", 13) == 0) {
            in = 1;
            continue;
        }
        if (!in || strncmp(line, "|---", 4) == 0)
            continue;
        n = cells(line, c, N + 2);
        if (n == 0)
            break;
        ck_assert_int_eq(n, N + 1);
        ck_assert_int_eq(rk_state_parse(strchr(c[0], ' ') + 1, &from), RK_OK);
        ck_assert_int_eq(from, row);
        for (t = 0; t < N; t++) {
            const char *rule;
            rk_transition_verdict v = rk_lifecycle_check(from, (rk_state)t, &rule);
            rk_transition_verdict vr = rk_lifecycle_check_rail(from, (rk_state)t, 1, &rule);

            if (v == RK_TRANSITION_SAME)
                ck_assert_str_eq(c[t + 1], "=");
            else if (vr == RK_TRANSITION_FORBIDDEN)
                ck_assert_msg(strcmp(c[t + 1], ".") == 0, "doc %s -> %s: '%s'", names[from],
                              names[t], c[t + 1]);
            else if (v == RK_TRANSITION_FORBIDDEN)
                ck_assert_msg(strncmp(c[t + 1], "P:", 2) == 0 && strcmp(c[t + 1] + 2, rule) == 0,
                              "doc %s -> %s: '%s'", names[from], names[t], c[t + 1]);
            else
                ck_assert_msg(strcmp(c[t + 1], rule) == 0, "doc %s -> %s: '%s' want '%s'",
                              names[from], names[t], c[t + 1], rule);
        }
        row++;
    }
    ck_assert_int_eq(row, N);
    free(doc);
}
END_TEST

START_TEST(doc_mapping_matches)
{
    char *doc = read_doc(), *line, *save = NULL;
    size_t seen = 0, i;

    for (line = strtok_r(doc, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char *c[8];
        const char *ctx;
        int n;

        if (strncmp(line, "| coinbase-commerce |", 21) != 0 &&
            strncmp(line, "| btcpay |", 10) != 0 && strncmp(line, "| nowpayments |", 15) != 0)
            continue;
        n = cells(line, c, 8);
        ck_assert_int_eq(n, 7);
        /* The status and context are in backquotes; "-" is none. */
        ck_assert(c[1][0] == '`' && c[1][strlen(c[1]) - 1] == '`');
        c[1][strlen(c[1]) - 1] = '\0';
        if (strcmp(c[2], "-") == 0) {
            ctx = NULL;
        } else {
            ck_assert(c[2][0] == '`' && c[2][strlen(c[2]) - 1] == '`');
            c[2][strlen(c[2]) - 1] = '\0';
            ctx = c[2] + 1;
        }
        check_row(c[0], c[1] + 1, ctx, c[3], strcmp(c[4], "-") == 0 ? NULL : c[4],
                  strcmp(c[5], "-") == 0 ? NULL : c[5]);
        /* And the row is one of ours. */
        for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
            if (strcmp(rows[i].provider, c[0]) == 0 && strcmp(rows[i].status, c[1] + 1) == 0 &&
                (rows[i].context == NULL ? ctx == NULL
                                         : ctx != NULL && strcmp(rows[i].context, ctx) == 0))
                break;
        ck_assert_msg(i < sizeof rows / sizeof rows[0], "doc row %s %s not in the test",
                      c[0], c[1] + 1);
        seen++;
    }
    ck_assert_uint_eq(seen, sizeof rows / sizeof rows[0]);
    free(doc);
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("lifecycle");
    TCase *tc = tcase_create("core");
    TCase *lim = tcase_create("limits");
    TCase *doc = tcase_create("formats");

    tcase_add_test(tc, names_round_trip);
    tcase_add_test(tc, flags_and_ranks);
    tcase_add_test(tc, matrix_every_cell);
    tcase_add_test(tc, matrix_principles);
    tcase_add_test(tc, via_reversal_and_effective);
    tcase_add_test(tc, map_every_row);
    tcase_add_test(tc, map_generic);
    tcase_add_test(tc, reasons);
    tcase_add_test(tc, depth_edges);
    tcase_add_test(lim, names_unknown);
    tcase_add_test(lim, map_unknown_words);
    tcase_add_test(lim, map_near_misses);
    tcase_add_test(lim, depth_limits);
    tcase_add_test(doc, doc_matrix_matches);
    tcase_add_test(doc, doc_mapping_matches);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, lim);
    suite_add_tcase(s, doc);
    return s;
}
