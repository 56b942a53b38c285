/*
 * amount.h - exact money: decimal text <-> integer minor units.
 *
 * An amount is a count of an asset's smallest unit (cents, satoshi, wei) in a
 * signed 128-bit integer.  Wei amounts overflow 64 bits, so 64-bit types are
 * never used for money, and floating point is never used at all.  The number
 * of fraction digits ("decimals": 2 for USD, 8 for BTC, 18 for ETH) is not
 * stored in the amount; the caller carries it with the asset.
 *
 * Every amount that leaves these functions lies in the closed range
 * [-(10^38 - 1), 10^38 - 1] (RK_AMOUNT_LIMIT), i.e. at most 38 significant
 * decimal digits.  Values outside it are RK_ERR_RANGE.  The text rules are
 * specified in formats/amounts.md.
 */
#ifndef RK_AMOUNT_H
#define RK_AMOUNT_H

#include <stddef.h>

#include "error.h"

typedef __int128 rk_amount;

#define RK_AMOUNT_MAX_DECIMALS 30 /* largest supported `decimals` */
#define RK_AMOUNT_MAX_DIGITS 38   /* significant digits of the largest amount */
#define RK_AMOUNT_STR_MAX 64      /* buffer size for rk_amount_format */

/* 10^38 - 1, the largest magnitude of an amount (a constant expression). */
#define RK_AMOUNT_LIMIT \
    ((rk_amount)10000000000000000000ULL * (rk_amount)10000000000000000000ULL - 1)

/* Rounding modes of rk_amount_muldiv (names as in Java's RoundingMode). */
enum rk_round {
    RK_ROUND_DOWN = 1,      /* toward zero (truncate) */
    RK_ROUND_UP = 2,        /* away from zero */
    RK_ROUND_FLOOR = 3,     /* toward negative infinity */
    RK_ROUND_CEILING = 4,   /* toward positive infinity */
    RK_ROUND_HALF_EVEN = 5, /* nearest; ties to the even neighbour (banker's) */
    RK_ROUND_HALF_UP = 6,   /* nearest; ties away from zero */
};

/*
 * Parse exact decimal text of `len` bytes (need not be NUL-terminated) into
 * minor units with `decimals` fraction digits.  Grammar (formats/amounts.md):
 *     ["-"] ( "0" | [1-9][0-9]* ) [ "." [0-9]+ ]
 * The fraction may have more digits than `decimals` only if the extra ones
 * are zeros ("1.500" at decimals 2 is 150).  "-0" and "-0.00" are accepted
 * and are zero.  Rejected with RK_ERR_INVALID and a message quoting the
 * text: empty text, '+', exponents, hex, any space, "5." and ".5", leading
 * zeros ("007", "00.5"), a nonzero digit beyond `decimals`, decimals > 30.
 * RK_ERR_RANGE when the value is outside +-(10^38 - 1) minor units.
 * *out is written only on RK_OK.
 */
rk_err rk_amount_parse(const char *text, size_t len, unsigned decimals,
                       rk_amount *out, char *err)
    __attribute__((warn_unused_result));

/*
 * Write the canonical text of v and a NUL to out (RK_AMOUNT_STR_MAX bytes):
 * optional '-', the integer part without leading zeros ("0" when zero), then
 * when decimals > 0 a '.' and exactly `decimals` digits ("10.50" at 2,
 * "0.00100000" at 8).  Zero is "0" / "0.00", never "-0".  Returns the length.
 * Any rk_amount value (even outside RK_AMOUNT_LIMIT) is formatted; decimals
 * above RK_AMOUNT_MAX_DECIMALS write "" and return 0.
 */
size_t rk_amount_format(rk_amount v, unsigned decimals, char *out);

/* *out = a + b or a - b; RK_ERR_RANGE (and *out untouched) when an operand
 * or the result is outside +-(10^38 - 1). */
rk_err rk_amount_add(rk_amount a, rk_amount b, rk_amount *out)
    __attribute__((warn_unused_result));
rk_err rk_amount_sub(rk_amount a, rk_amount b, rk_amount *out)
    __attribute__((warn_unused_result));

/*
 * Re-express v, held with `from` decimals, with `to` decimals (e.g. 8 -> 18
 * multiplies by 10^10).  Exact or nothing: RK_ERR_RANGE when scaling down
 * would drop a nonzero digit or scaling up leaves +-(10^38 - 1);
 * RK_ERR_INVALID when from or to exceeds RK_AMOUNT_MAX_DECIMALS.
 */
rk_err rk_amount_rescale(rk_amount v, unsigned from, unsigned to, rk_amount *out)
    __attribute__((warn_unused_result));

/* -1, 0 or 1 as a <, ==, > b. */
int rk_amount_cmp(rk_amount a, rk_amount b);

/*
 * *out = a * num / den rounded by `rounding` (enum rk_round).  The product
 * is formed exactly in 256 bits, so any 128-bit operands are fine (basis
 * points: num = bp, den = 10000; FX: num/den the rate as a fraction).
 * RK_ERR_INVALID when den is 0 or rounding is not an rk_round value;
 * RK_ERR_RANGE when the rounded result is outside +-(10^38 - 1).
 */
rk_err rk_amount_muldiv(rk_amount a, rk_amount num, rk_amount den, int rounding,
                        rk_amount *out)
    __attribute__((warn_unused_result));

#endif
