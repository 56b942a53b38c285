/*
 * lifecycle.h - the payment lifecycle state model: states, the transition
 * table, provider status words mapped to states, and the confirmation-depth
 * rule.  formats/lifecycle.md is the written truth; this module follows it
 * and a check suite keeps the two in step.
 *
 * Everything here is pure: no handle, no allocation, no global mutable
 * state.  Returned strings are static and live for the whole program.
 *
 * What the replayer does with it:
 *   1. an adapter hands a provider word (status + context) to
 *      rk_lifecycle_map_status(); RK_ERR_NOTFOUND means the word is new to
 *      us: keep the evidence and raise an exception, never guess;
 *   2. rk_lifecycle_depth() turns the provider-implied state and the
 *      observed confirmations into the state reckon shows (both facts are
 *      kept by the caller);
 *   3. rk_lifecycle_effective() applies the late-payment rule;
 *   4. rk_lifecycle_check() / rk_lifecycle_check_rail() judge the step from
 *      the current state.  A FORBIDDEN step is recorded and flagged as an
 *      illegal transition: never applied silently, never dropped.
 */
#ifndef RK_LIFECYCLE_H
#define RK_LIFECYCLE_H

#include <stdint.h>

#include "error.h"

/*
 * The states.  Numbers are stable and stored: append only, never renumber,
 * never reuse.  Names are the lowercase strings used in JSON and formats/.
 * (There is deliberately no "overpaid" state; see formats/lifecycle.md.)
 */
typedef enum rk_state {
    RK_STATE_CREATED = 0,          /* the reference exists; no payment instructions yet */
    RK_STATE_AWAITING_PAYMENT = 1, /* instructions issued (address, charge); nothing seen */
    RK_STATE_DETECTED = 2,         /* a payment is seen, unconfirmed */
    RK_STATE_CONFIRMING = 3,       /* in a block, fewer confirmations than the rail credits at */
    RK_STATE_CONFIRMED = 4,        /* confirmations to credit met */
    RK_STATE_FINAL = 5,            /* the rail's finality rule met */
    RK_STATE_UNDERPAID = 6,        /* less than due arrived; more may come */
    RK_STATE_EXPIRED = 7,          /* the payment window closed with nothing received */
    RK_STATE_PAID_LATE = 8,        /* money arrived after the window closed */
    RK_STATE_NEEDS_REVIEW = 9,     /* held for a person; a reason says why */
    RK_STATE_REVERSED = 10,        /* a seen payment was undone: reorg, RBF, double spend */
    RK_STATE_INVALID = 11,         /* the payment failed to confirm in time, or was marked invalid */
    RK_STATE_CANCELED = 12,        /* closed before any payment was seen */
    RK_STATE_REFUND_PENDING = 13,  /* a refund was started */
    RK_STATE_REFUNDED = 14,        /* the refund went out */
    RK_STATE_RESOLVED = 15,        /* an operator (or the merchant at the provider) decided */
    RK_STATE__COUNT
} rk_state;

/*
 * The state's name ("awaiting_payment").  For a value outside the enum it
 * returns "unknown", which is not a state name (rk_state_parse rejects it).
 */
const char *rk_state_name(rk_state s);

/*
 * Parse an exact, case-sensitive state name.  RK_ERR_INVALID when name or
 * out is NULL, RK_ERR_NOTFOUND for a name that is not a state.
 */
rk_err rk_state_parse(const char *name, rk_state *out)
    __attribute__((warn_unused_result));

/* ---- classes of states -------------------------------------------------- */

#define RK_STATE_F_LADDER 0x1u    /* created .. final: the confirmation ladder */
#define RK_STATE_F_CLOSED 0x2u    /* nothing more is expected in the normal course;
                                     a later provider word is news to flag */
#define RK_STATE_F_ATTENTION 0x4u /* an exception should be open while in this state */

/* The RK_STATE_F_* bits of s; 0 for a value outside the enum. */
unsigned rk_state_flags(rk_state s);

/*
 * Progress rank, for ordering only: when two events about one payment carry
 * the same provider timestamp, the replayer applies them in ascending rank
 * (then ledger sequence), so an older event never regresses a newer state
 * and a tie resolves the same way on every run.  States that demand
 * attention rank above progress, so a tie between "confirmed" and
 * "reversed" ends in "reversed".  Rank is not a transition rule; the table
 * is.  The values are listed in formats/lifecycle.md.  -1 outside the enum.
 */
int rk_state_rank(rk_state s);

/* ---- transitions -------------------------------------------------------- */

typedef enum rk_transition_verdict {
    RK_TRANSITION_ALLOWED = 0,   /* a rule allows the step */
    RK_TRANSITION_SAME = 1,      /* from == to: nothing to apply (keep the evidence) */
    RK_TRANSITION_FORBIDDEN = 2, /* record it and flag it as an illegal transition */
} rk_transition_verdict;

/*
 * Judge the step from -> to by the static table.  *rule (when rule is not
 * NULL) receives the rule id of formats/lifecycle.md: "advance", "reverse",
 * ... for an allowed step, "same" for SAME, "forbidden" for a forbidden one,
 * "final-needs-probabilistic-rail" for final -> reversed (see below) and
 * "unknown-state" when either value is outside the enum (FORBIDDEN).
 *
 * final -> reversed is forbidden here: final never reverts on its own.  Use
 * rk_lifecycle_check_rail() where the rail policy is known.
 */
rk_transition_verdict rk_lifecycle_check(rk_state from, rk_state to, const char **rule);

/*
 * As rk_lifecycle_check(), and final -> reversed is ALLOWED (rule
 * "reverse-final") when probabilistic_finality is non-zero: the rail's
 * finality is a depth rule (BTC's 6 confirmations) that a deeper reorg can
 * still undo.  On a rail with a finality signal (Ethereum finalized, Tron
 * solidified, Solana finalized) pass 0.
 */
rk_transition_verdict rk_lifecycle_check_rail(rk_state from, rk_state to,
                                              int probabilistic_finality,
                                              const char **rule);

/*
 * 1 when from -> to is forbidden but from -> reversed -> to is allowed: a
 * provider word that moves a payment back down (BTCPay Processing -> New
 * after an RBF replacement) is explained only by a reversal, which the
 * caller must record explicitly, with its evidence, before the new state.
 * 0 otherwise (also for values outside the enum).
 */
int rk_lifecycle_via_reversal(rk_state from, rk_state to);

/*
 * The late-payment rule: once the window closed (from is expired, canceled
 * or paid_late), a provider word on the ladder (detected .. final) means
 * money arrived late, so the state to record is paid_late (*rule "late");
 * it stays there until an operator resolves or refunds.  Any other pair
 * returns implied unchanged (*rule "as-implied").  rule may be NULL.
 */
rk_state rk_lifecycle_effective(rk_state from, rk_state implied, const char **rule);

/* ---- provider status words ---------------------------------------------- */

/*
 * needs_review reasons (canonical static strings): "overpaid", "multiple",
 * "wrong_network", "wrong_asset", "wrong_contract", "missing_memo",
 * "manual", "other".  Parse one: RK_ERR_INVALID for NULL, RK_ERR_NOTFOUND
 * for an unknown reason; *canonical receives the static string.
 */
rk_err rk_lifecycle_reason_parse(const char *name, const char **canonical)
    __attribute__((warn_unused_result));

typedef struct rk_status_map_result {
    rk_state state;     /* the state the provider word implies */
    const char *reason; /* NULL, or the needs_review reason (state is needs_review) */
    const char *flag;   /* NULL, or an exception to raise beside the state
                           ("overpaid": BTCPay settles overpaid invoices, the
                           surplus still needs a decision) */
} rk_status_map_result;

/*
 * Map a provider's status word to a lifecycle state.
 *
 * provider: "coinbase-commerce", "btcpay", "nowpayments" or "generic" (an
 *   in-house provider speaking our own state names).
 * status: the provider's word, exact and case-sensitive:
 *   coinbase-commerce: the status of the LAST timeline entry (never the
 *     event type: an overpayment arrives as charge:failed);
 *   btcpay: a webhook event type ("InvoiceSettled") or an invoice status
 *     from an API read ("Settled");
 *   nowpayments: payment_status;
 *   generic: a state name.
 * context: NULL or "" for none, else:
 *   coinbase-commerce: the timeline entry's context (UNRESOLVED only);
 *   btcpay events: the one true flag of the payload, by precedence
 *     manuallyMarked, afterExpiration, partiallyPaid, overPaid;
 *   btcpay statuses: additionalStatus ("None" is the same as none);
 *   nowpayments: must be none;
 *   generic: the reason for needs_review, "overpaid" as a flag otherwise.
 * out: filled on RK_OK only.
 * err: RK_ERROR_SIZE bytes or NULL.
 *
 * RK_OK; RK_ERR_NOTFOUND for a status or context we have no row for (the
 * caller keeps the evidence and flags it; nothing is guessed);
 * RK_ERR_INVALID for NULL status/out/provider or an unknown provider.
 * Bytes of the provider's word are quoted in err with anything outside
 * printable ASCII replaced by '?'.
 */
rk_err rk_lifecycle_map_status(const char *provider, const char *status,
                               const char *context, rk_status_map_result *out,
                               char *err)
    __attribute__((warn_unused_result));

/*
 * Row i (from 0) of provider's status table ("coinbase-commerce", "btcpay"
 * or "nowpayments"): its status word, its context ("" for none) and the
 * result rk_lifecycle_map_status gives for them, all static strings.  For
 * tests and for listing the vocabulary.  RK_ERR_NOTFOUND once i is past
 * the last row; RK_ERR_INVALID for a NULL argument, "generic" (no table)
 * or an unknown provider.
 */
rk_err rk_lifecycle_status_row(const char *provider, size_t i, const char **status,
                               const char **context, rk_status_map_result *out)
    __attribute__((warn_unused_result));

/* ---- confirmation depth against the provider's word ---------------------- */

typedef struct rk_depth {
    int64_t confirmations; /* observed count; -1 when no one reported it */
    uint32_t to_credit;    /* rail policy: confirmations to credit (0: credit on detection) */
    uint32_t finality;     /* rail policy: depth that makes a payment final;
                              0 when depth never does (finality by signal only) */
    int finalized;         /* non-zero: the rail's finality signal was observed
                              (a finalized / solidified block holds the payment) */
} rk_depth;

/*
 * The state reckon shows, given the provider-implied state and the chain
 * facts.  Only ladder words (detected, confirming, confirmed, final) are
 * affected; any other state is returned unchanged (*why "not-on-ladder").
 *
 * The depth level is: final when finalized, or when finality > 0 and
 * confirmations >= max(finality, to_credit); else confirmed when
 * confirmations >= to_credit; else confirming when confirmations >= 1;
 * else detected.  The shown state is the lower of the provider's word and
 * the depth level, except that a provider "confirmed" may rise to final:
 * providers have no word for our finality rule, and only depth may add it.
 * Depth never lifts detected or confirming: those words may hide a partial
 * payment, which a deep transaction does not cure.  With confirmations
 * unknown (-1) and no finalized signal, the provider's word stands, except
 * that "final" shows as confirmed (why "finality-unproven").
 *
 * *why (may be NULL): "provider-word", "rail-needs-more-confirmations",
 * "rail-finality-met", "finality-unproven" or "not-on-ladder".
 * RK_ERR_INVALID when implied is outside the enum, d or shown is NULL, or
 * confirmations < -1.
 */
rk_err rk_lifecycle_depth(rk_state implied, const rk_depth *d, rk_state *shown,
                          const char **why)
    __attribute__((warn_unused_result));

#endif
