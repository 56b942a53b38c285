/*
 * policy.h - the rail policy matrix: load, validate, look up, and judge an
 * amount against a rail's tolerances.  formats/policies.md is the written
 * truth; formats/policy/default.json is the shipped default.
 *
 * A rail is one network + asset + token contract ("" for the network's
 * native coin): bitcoin/BTC, ethereum/USDT/0xdac1...1ec7, tron/USDT/TR7N...
 * Per rail the policy says how many decimals the asset has, how many
 * confirmations credit a payment, what makes it final, whether a memo or
 * destination tag is required, who bears the network fee, how far the paid
 * amount may differ from the expected one and how long a payment may take.
 *
 * The policy in force is evidence: a `policy` record (RK_KIND_POLICY, body
 * {"policy":<canonical policy>,"v":1}) says which policy holds from that
 * record on; the replayer uses the latest one at or before the point it
 * replays to.
 *
 * An rk_policy is immutable once parsed and may be shared between threads.
 * Everything here is a pure function of its inputs.
 */
#ifndef RK_POLICY_H
#define RK_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "amount.h"
#include "bytes.h"
#include "error.h"

#define RK_POLICY_VERSION 1         /* the "v" of a policy file and of a policy record */
#define RK_POLICY_MAX_RAILS 1024    /* rails in one policy */
#define RK_POLICY_FILE_MAX (1u << 20) /* bytes of a policy file */
#define RK_POLICY_SOURCE_MAX 1024   /* bytes of one "source" string */
/* Longest window in seconds: the value in nanoseconds still fits int64. */
#define RK_POLICY_WINDOW_MAX 9223372036LL

typedef struct rk_policy rk_policy;

/* Fee treatment; the numbers are stable (append, never renumber). */
typedef enum rk_fee_treatment {
    RK_FEE_PAYER_PAYS = 0,       /* "payer_pays_network_fee": the full amount arrives */
    RK_FEE_PROVIDER_DEDUCTS = 1, /* "provider_deducts_fee": the provider credits amount - fee */
    RK_FEE_OTHER_ASSET = 2,      /* "fee_in_other_asset": the fee is charged in fee_asset */
} rk_fee_treatment;

/* Index of each "source" string of a rail (one per group of fields). */
enum rk_rail_source {
    RK_SRC_DECIMALS = 0,
    RK_SRC_CONFIRMATIONS = 1,
    RK_SRC_FINALITY = 2,
    RK_SRC_MEMO = 3,
    RK_SRC_FEE = 4,
    RK_SRC_TOLERANCE = 5,
    RK_SRC_WINDOWS = 6,
    RK_SRC__COUNT
};

/*
 * One rail.  Strings are NUL-terminated.  Amounts are minor units at the
 * rail's decimals.
 */
typedef struct rk_rail {
    char network[32];  /* lower-case network id: "bitcoin", "ethereum", "tron" */
    char asset[16];    /* upper-case symbol: "BTC", "USDT" */
    char contract[128]; /* token contract, "" for the native coin; EVM hex
                           ("0x" + 40 hex digits) is stored in lower case */
    unsigned decimals; /* fraction digits of the asset, 0..30 */
    unsigned confirmations_to_credit; /* 0: credit on detection */
    unsigned finality_depth; /* depth rule: the depth; flag rule: the fallback
                                depth (0: only the flag makes a payment final) */
    int finality_by_flag;    /* 1: the chain's finalized/solidified/validated flag */
    int probabilistic_finality; /* 1: a reorg can still undo a "final" payment */
    int memo_required;       /* 1: a memo / destination tag must identify the payment */
    rk_fee_treatment fee;
    char fee_asset[16];      /* the asset the network fee is paid in; "" when unstated
                                (never "" for RK_FEE_OTHER_ASSET) */
    rk_amount tol_under_abs, tol_over_abs; /* >= 0, minor units */
    uint32_t tol_under_bps, tol_over_bps;  /* 0..10000 basis points of expected */
    int64_t expiry_grace_s;  /* seconds after expiry a payment still counts as on time, >= 0 */
    int64_t stale_after_s;   /* longest detection-to-final time before "stale pending", > 0 */
    /* added: */
    char name[32];           /* "" or a display name ("USDT-TRC20") */
    const char *source[RK_SRC__COUNT]; /* where each group's numbers come from;
                                          borrowed from the policy, never NULL */
} rk_rail;

/*
 * Parse and validate a policy file of len bytes (JSON, formats/policies.md).
 * Every problem is RK_ERR_INVALID (RK_ERR_TOOBIG above RK_POLICY_FILE_MAX or
 * RK_POLICY_MAX_RAILS, RK_ERR_VERSION for an unknown "v") with a message
 * naming the rail and key: "rail 3 (tron/USDT): tolerance.under_abs: ...".
 * Rails are kept sorted by network, asset, contract (byte order), so the
 * order of the file does not matter.  *out is set only on RK_OK; free it
 * with rk_policy_free.  err: RK_ERROR_SIZE bytes or NULL.
 */
rk_err rk_policy_parse(const char *text, size_t len, rk_policy **out, char *err)
    __attribute__((warn_unused_result));

/* rk_policy_parse of a file ("-" is stdin); RK_ERR_IO / RK_ERR_NOTFOUND
 * when it cannot be read, and the path prefixes every message. */
rk_err rk_policy_load(const char *path, rk_policy **out, char *err)
    __attribute__((warn_unused_result));

/*
 * Parse the body of a policy record ({"policy":{...},"v":1}).  RK_ERR_VERSION
 * for another "v", RK_ERR_INVALID for anything else wrong (the messages of
 * rk_policy_parse, prefixed "policy record: ").
 */
rk_err rk_policy_from_record_body(const uint8_t *body, size_t len, rk_policy **out,
                                  char *err)
    __attribute__((warn_unused_result));

/* Free a policy; accepts NULL.  Rails and sources die with it. */
void rk_policy_free(rk_policy *p);

/*
 * Append the canonical JSON of the whole policy to out
 * (formats/canonical-json.md; the shape of formats/policies.md with every
 * optional member written out in its normal form, rails sorted).
 * rk_policy_parse of this text gives a policy whose canonical form is the
 * same bytes.  On error out keeps its previous length.
 */
rk_err rk_policy_canonical(const rk_policy *p, rk_buf *out, char *err)
    __attribute__((warn_unused_result));

/* Append the body of a policy record: {"policy":<canonical>,"v":1}. */
rk_err rk_policy_record_body(const rk_policy *p, rk_buf *out, char *err)
    __attribute__((warn_unused_result));

/* SHA-256 of the canonical JSON (the digest reports quote); RK_OK or NOMEM. */
rk_err rk_policy_digest(const rk_policy *p, uint8_t out[RK_HASH_SIZE])
    __attribute__((warn_unused_result));

/* Number of rails, and rail i (0 <= i < count; NULL beyond), borrowed. */
size_t rk_policy_count(const rk_policy *p);
const rk_rail *rk_policy_rail(const rk_policy *p, size_t i);

/*
 * The rail for network + asset + contract, or NULL.  network and asset are
 * compared exactly (lower-case ids, upper-case symbols).  contract NULL or
 * "" finds the native rail only; an EVM contract ("0x" + 40 hex digits) is
 * compared case-insensitively, any other contract (Tron base58, Solana
 * mint) exactly.  Borrowed from p.
 */
const rk_rail *rk_policy_find(const rk_policy *p, const char *network, const char *asset,
                              const char *contract);

/*
 * The rail a provider means when it names an asset on a network but no
 * contract (NOWPayments "usdttrc20", Coinbase "USDC" on "ethereum"): the
 * native rail of (network, asset) if there is one, else the one token rail
 * of (network, asset) if there is exactly one, else NULL (ambiguous or
 * unknown: the caller reports an unknown rail).
 */
const rk_rail *rk_policy_find_implied(const rk_policy *p, const char *network,
                                      const char *asset);

/*
 * The token rail whose contract on `network` is `contract` whatever its
 * symbol, or NULL (to tell "right contract, other symbol" from "unknown
 * token").  NULL also for contract NULL or "".
 */
const rk_rail *rk_policy_find_contract(const rk_policy *p, const char *network,
                                       const char *contract);

/*
 * Judge paid against expected, both in the rail's minor units:
 *   -1  short by more than the under tolerance,
 *    0  exact, or short/over by no more than the tolerance,
 *   +1  over by more than the over tolerance.
 * The tolerance on each side is the LARGER of the absolute amount and the
 * basis points of |expected| (rounded down to a whole minor unit): either
 * allowance is enough.  Set one to 0 to use only the other.  A difference
 * exactly at the tolerance is within it.  Exact for every rk_amount value
 * (no overflow); r NULL judges with zero tolerance.
 */
int rk_policy_amount_verdict(const rk_rail *r, rk_amount expected, rk_amount paid);

/* "payer_pays_network_fee", ...; "unknown" outside the enum. */
const char *rk_fee_treatment_name(rk_fee_treatment f);

#endif
