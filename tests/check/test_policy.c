/* test_policy.c - rail policy: the shipped default, validation, look-up,
 * amount verdicts, canonical round trip, policy record bodies, limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "check_main.h"
#include "policy.h"

#define DEFAULT_POLICY "formats/policy/default.json"

/* One valid rail; the error cases below change one piece of it. */
static const char base_rail[] =
    "{\"network\":\"ethereum\",\"asset\":\"USDT\","
    "\"contract\":\"0xdAC17F958D2ee523a2206206994597C13D831ec7\",\"decimals\":6,"
    "\"confirmations_to_credit\":12,"
    "\"finality\":{\"rule\":\"flag\",\"fallback_depth\":96,\"probabilistic\":false},"
    "\"memo_required\":false,"
    "\"fee\":{\"treatment\":\"payer_pays_network_fee\",\"asset\":\"ETH\"},"
    "\"tolerance\":{\"under\":{\"abs\":\"0.01\",\"bps\":0},\"over\":{\"abs\":\"0.01\",\"bps\":0}},"
    "\"windows\":{\"expiry_grace_s\":120,\"stale_after_s\":3600},"
    "\"sources\":{\"decimals\":\"d\",\"confirmations\":\"c\",\"finality\":\"f\",\"memo\":\"m\","
    "\"fee\":\"fe\",\"tolerance\":\"t\",\"windows\":\"w\"}}";

/* base_rail with the first `from` replaced by `to` (static buffer). */
static const char *subst(const char *from, const char *to)
{
    static char out[4096];
    const char *at = strstr(base_rail, from);

    ck_assert_msg(at != NULL, "'%s' not in the base rail", from);
    snprintf(out, sizeof out, "%.*s%s%s", (int)(at - base_rail), base_rail, to,
             at + strlen(from));
    return out;
}

static char *wrap(const char *rails)
{
    static char out[8192];

    snprintf(out, sizeof out, "{\"v\":1,\"rails\":[%s]}", rails);
    return out;
}

static rk_policy *parse_ok(const char *text)
{
    char err[RK_ERROR_SIZE] = "";
    rk_policy *p = NULL;
    rk_err rc = rk_policy_parse(text, strlen(text), &p, err);

    ck_assert_msg(rc == RK_OK, "parse failed: %s", err);
    return p;
}

static void rejects_text(const char *text, rk_err code, const char *needle)
{
    char err[RK_ERROR_SIZE] = "";
    rk_policy *p = (rk_policy *)&p; /* must stay untouched */
    rk_err rc = rk_policy_parse(text, strlen(text), &p, err);

    ck_assert_msg(rc == code, "got %d want %d (%s) for %s", rc, code, err, text);
    ck_assert_msg(strstr(err, needle) != NULL, "message '%s' lacks '%s'", err, needle);
    ck_assert_msg(p == (rk_policy *)&p, "output written on failure");
}

static void rejects(const char *rail, const char *needle)
{
    rejects_text(wrap(rail), RK_ERR_INVALID, needle);
}

START_TEST(default_policy)
{
    char err[RK_ERROR_SIZE] = "";
    rk_policy *p = NULL;
    const rk_rail *r;

    ck_assert_msg(rk_policy_load(DEFAULT_POLICY, &p, err) == RK_OK, "%s", err);
    ck_assert_uint_ge(rk_policy_count(p), 10);

    r = rk_policy_find(p, "bitcoin", "BTC", NULL);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->decimals, 8);
    ck_assert_uint_eq(r->confirmations_to_credit, 1);
    ck_assert_uint_eq(r->finality_depth, 6);
    ck_assert_int_eq(r->finality_by_flag, 0);
    ck_assert_int_eq(r->probabilistic_finality, 1);
    ck_assert_int_eq(r->memo_required, 0);
    ck_assert_int_eq(r->fee, RK_FEE_PAYER_PAYS);
    ck_assert_str_eq(r->fee_asset, "BTC");

    r = rk_policy_find(p, "litecoin", "LTC", "");
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->decimals, 8);
    ck_assert_int_eq(r->probabilistic_finality, 1);

    r = rk_policy_find(p, "ethereum", "ETH", NULL);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->decimals, 18);
    ck_assert_int_eq(r->finality_by_flag, 1);
    ck_assert_int_eq(r->probabilistic_finality, 0);

    r = rk_policy_find(p, "ethereum", "USDT", "0xdAC17F958D2ee523a2206206994597C13D831ec7");
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->contract, "0xdac17f958d2ee523a2206206994597c13d831ec7");
    ck_assert_uint_eq(r->decimals, 6);
    ck_assert_str_eq(r->fee_asset, "ETH");
    ck_assert_str_eq(r->name, "USDT-ERC20");

    r = rk_policy_find(p, "ethereum", "USDC", "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48");
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->decimals, 6);

    r = rk_policy_find(p, "tron", "USDT", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->decimals, 6);
    ck_assert_int_eq(r->finality_by_flag, 1);
    ck_assert_uint_eq(r->finality_depth, 19);
    ck_assert_str_eq(r->fee_asset, "TRX");

    r = rk_policy_find(p, "solana", "USDC", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v");
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->decimals, 6);
    ck_assert_int_eq(r->finality_by_flag, 1);

    r = rk_policy_find(p, "polygon", "USDC", "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359");
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->decimals, 6);
    ck_assert_int_eq(r->probabilistic_finality, 1);
    ck_assert_uint_gt(r->finality_depth, 157); /* beyond the 157-block reorg */

    r = rk_policy_find(p, "xrp", "XRP", NULL);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->decimals, 6);
    ck_assert_int_eq(r->memo_required, 1);

    r = rk_policy_find(p, "stellar", "XLM", NULL);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->decimals, 7);
    ck_assert_int_eq(r->memo_required, 1);

    /* every rail says where its numbers come from */
    for (size_t i = 0; i < rk_policy_count(p); i++)
        for (int k = 0; k < RK_SRC__COUNT; k++)
            ck_assert_uint_gt(strlen(rk_policy_rail(p, i)->source[k]), 10);
    ck_assert_ptr_null(rk_policy_rail(p, rk_policy_count(p)));
    rk_policy_free(p);
}
END_TEST

START_TEST(lookup)
{
    char err[RK_ERROR_SIZE] = "";
    rk_policy *p = NULL;
    const rk_rail *usdt;

    ck_assert_msg(rk_policy_load(DEFAULT_POLICY, &p, err) == RK_OK, "%s", err);
    usdt = rk_policy_find(p, "ethereum", "USDT", "0xdac17f958d2ee523a2206206994597c13d831ec7");
    ck_assert_ptr_nonnull(usdt);
    /* EVM contracts compare case-insensitively, "0X" included */
    ck_assert_ptr_eq(rk_policy_find(p, "ethereum", "USDT",
                                    "0XDAC17F958D2EE523A2206206994597C13D831EC7"), usdt);
    /* base58 contracts compare exactly */
    ck_assert_ptr_null(rk_policy_find(p, "tron", "USDT", "tr7nhqjekqxgtci8q8zy4pl8otszgjlj6t"));
    /* wrong network for a contract and symbol that exist elsewhere */
    ck_assert_ptr_null(rk_policy_find(p, "tron", "USDT",
                                      "0xdac17f958d2ee523a2206206994597c13d831ec7"));
    ck_assert_ptr_null(rk_policy_find(p, "bsc", "USDT",
                                      "0xdac17f958d2ee523a2206206994597c13d831ec7"));
    ck_assert_ptr_null(rk_policy_find(p, "ethereum", "USDT",
                                      "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"));
    ck_assert_ptr_null(rk_policy_find(p, "polygon", "USDT", NULL));
    /* native look-ups never match a token, tokens never a native rail */
    ck_assert_ptr_null(rk_policy_find(p, "ethereum", "USDT", NULL));
    ck_assert_ptr_null(rk_policy_find(p, "ethereum", "USDT", ""));
    ck_assert_ptr_null(rk_policy_find(p, "ethereum", "ETH",
                                      "0xdac17f958d2ee523a2206206994597c13d831ec7"));
    /* exact ids: no case folding of network or asset */
    ck_assert_ptr_null(rk_policy_find(p, "Ethereum", "ETH", NULL));
    ck_assert_ptr_null(rk_policy_find(p, "ethereum", "eth", NULL));
    ck_assert_ptr_null(rk_policy_find(p, NULL, "ETH", NULL));
    ck_assert_ptr_null(rk_policy_find(NULL, "ethereum", "ETH", NULL));
    /* right contract under another symbol */
    ck_assert_ptr_null(rk_policy_find(p, "ethereum", "USDC",
                                      "0xdac17f958d2ee523a2206206994597c13d831ec7"));
    ck_assert_ptr_eq(rk_policy_find_contract(p, "ethereum",
                                             "0xDAC17F958D2EE523A2206206994597C13D831EC7"), usdt);
    ck_assert_ptr_null(rk_policy_find_contract(p, "polygon",
                                               "0xdac17f958d2ee523a2206206994597c13d831ec7"));
    ck_assert_ptr_null(rk_policy_find_contract(p, "ethereum", ""));
    ck_assert_ptr_null(rk_policy_find_contract(p, "ethereum", NULL));
    /* a provider's symbol without a contract: the native rail, else the one token */
    ck_assert_ptr_eq(rk_policy_find_implied(p, "ethereum", "USDT"), usdt);
    ck_assert_ptr_eq(rk_policy_find_implied(p, "ethereum", "ETH"),
                     rk_policy_find(p, "ethereum", "ETH", NULL));
    ck_assert_ptr_eq(rk_policy_find_implied(p, "tron", "USDT"),
                     rk_policy_find(p, "tron", "USDT", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"));
    ck_assert_ptr_null(rk_policy_find_implied(p, "bsc", "USDT"));
    ck_assert_ptr_null(rk_policy_find_implied(p, "ethereum", NULL));
    ck_assert_ptr_null(rk_policy_find_implied(NULL, "ethereum", "ETH"));
    rk_policy_free(p);
    /* two tokens named USDT on one network: a symbol alone is ambiguous */
    {
        char two[2048];
        snprintf(two, sizeof two, "%s,%s", base_rail,
                 subst("0xdAC17F958D2ee523a2206206994597C13D831ec7",
                       "0x1111111111111111111111111111111111111111"));
        p = parse_ok(wrap(two));
        ck_assert_ptr_null(rk_policy_find_implied(p, "ethereum", "USDT"));
        ck_assert_ptr_nonnull(rk_policy_find(p, "ethereum", "USDT",
                                             "0x1111111111111111111111111111111111111111"));
        rk_policy_free(p);
    }
}
END_TEST

START_TEST(validation)
{
    char two[4096];

    /* structure */
    rejects_text("{\"v\":1,\"rails\":[]}", RK_ERR_INVALID, "policy: rails: is empty");
    rejects_text("{\"v\":1}", RK_ERR_INVALID, "policy: rails: missing");
    rejects_text("{\"v\":1,\"rails\":{}}", RK_ERR_INVALID, "rails: must be an array");
    rejects_text("{\"v\":1,\"rails\":[1]}", RK_ERR_INVALID, "rails[0]: must be an object");
    rejects_text("{\"rails\":[]}", RK_ERR_INVALID, "policy: v: missing");
    rejects_text("{\"v\":2,\"rails\":[]}", RK_ERR_VERSION, "version 2 is not supported");
    rejects_text("{\"v\":1,\"rails\":[],\"extra\":1}", RK_ERR_INVALID,
                 "policy: extra: unknown key");
    rejects_text("{\"v\":1,\"rails\":[", RK_ERR_INVALID, "policy: ");
    rejects_text("[]", RK_ERR_INVALID, "must be an object");

    /* unknown keys, at each level */
    rejects(subst("\"decimals\":6", "\"colour\":1,\"decimals\":6"),
            "rails[0] (ethereum/USDT): colour: unknown key");
    rejects(subst("\"probabilistic\":false}", "\"probabilistic\":false,\"x\":1}"),
            "rails[0] (ethereum/USDT): finality.x: unknown key");
    rejects(subst("\"bps\":0}", "\"bps\":0,\"pct\":1}"), "tolerance.under.pct: unknown key");
    rejects(subst("\"windows\":\"w\"", "\"windows\":\"w\",\"misc\":\"x\""),
            "sources.misc: unknown key");

    /* missing required keys */
    rejects(subst("\"decimals\":6,", ""), "rails[0] (ethereum/USDT): decimals: missing");
    rejects(subst("\"network\":\"ethereum\",", ""), "rails[0]: network: missing");
    rejects(subst("\"asset\":\"USDT\",", ""), "rails[0]: asset: missing");
    rejects(subst("\"memo_required\":false,", ""), "memo_required: missing");
    rejects(subst(",\"probabilistic\":false", ""), "finality.probabilistic: missing");
    rejects(subst("\"fallback_depth\":96,", ""), "finality.fallback_depth: missing");
    rejects(subst("\"fee\":\"fe\",", ""), "sources.fee: missing");
    rejects(subst(",\"stale_after_s\":3600", ""), "windows.stale_after_s: missing");
    rejects(subst("\"over\":{\"abs\":\"0.01\",\"bps\":0}", "\"over\":{\"bps\":0}"),
            "tolerance.over.abs: missing");

    /* integers */
    rejects(subst("\"confirmations_to_credit\":12", "\"confirmations_to_credit\":-1"),
            "confirmations_to_credit: '-1' is negative");
    rejects(subst("\"confirmations_to_credit\":12", "\"confirmations_to_credit\":1.5"),
            "confirmations_to_credit: '1.5' is not an integer");
    rejects(subst("\"confirmations_to_credit\":12", "\"confirmations_to_credit\":1e1"),
            "is not an integer");
    rejects(subst("\"confirmations_to_credit\":12", "\"confirmations_to_credit\":\"12\""),
            "confirmations_to_credit: must be a number");
    rejects(subst("\"confirmations_to_credit\":12", "\"confirmations_to_credit\":1000001"),
            "exceeds 1000000");
    rejects(subst("\"decimals\":6", "\"decimals\":31"), "decimals: '31' exceeds 30");
    rejects(subst("\"decimals\":6", "\"decimals\":99999999999999999999999"), "exceeds 30");

    /* identifiers and contracts */
    rejects(subst("\"ethereum\"", "\"Ethereum\""), "is not a lower-case network id");
    rejects(subst("\"USDT\"", "\"usdt\""), "is not an upper-case asset symbol");
    rejects(subst("\"USDT\"", "\"\""), "asset: must be 1..15 characters");
    rejects(subst("\"asset\":\"USDT\",\"contract\"", "\"asset\":\"ETH\",\"contract\""),
            "rails[0] (ethereum/ETH): contract: given for the network's native coin");
    rejects(subst("\"contract\":\"0xdAC17F958D2ee523a2206206994597C13D831ec7\",", ""),
            "contract: missing: the asset is a token on this network");
    rejects(subst("0xdAC17F958D2ee523a2206206994597C13D831ec7", "0xdAC17F958D2ee523"),
            "contract: '0xdAC17F958D2ee523' is not 0x and 40 hex digits");
    rejects(subst("0xdAC17F958D2ee523a2206206994597C13D831ec7", "0x dead"),
            "is not a token contract");
    rejects(subst("\"fee\":{", "\"name\":\"has space\",\"fee\":{"), "name: 'has space'");

    /* finality */
    rejects(subst("\"rule\":\"flag\"", "\"rule\":\"vibes\""),
            "finality.rule: 'vibes' is not depth or flag");
    rejects(subst("\"rule\":\"flag\",\"fallback_depth\":96,\"probabilistic\":false",
                  "\"rule\":\"depth\",\"depth\":64,\"probabilistic\":false"),
            "finality.probabilistic: a depth rule is probabilistic");
    rejects(subst("\"rule\":\"flag\",\"fallback_depth\":96,\"probabilistic\":false",
                  "\"rule\":\"depth\",\"depth\":0,\"probabilistic\":true"),
            "finality.depth: must be at least 1");
    rejects(subst("\"rule\":\"flag\",\"fallback_depth\":96,\"probabilistic\":false",
                  "\"rule\":\"depth\",\"depth\":6,\"probabilistic\":true"),
            "finality.depth: is below confirmations_to_credit");
    rejects(subst("\"fallback_depth\":96", "\"fallback_depth\":5"),
            "finality.fallback_depth: is below confirmations_to_credit");
    rejects(subst("\"fallback_depth\":96", "\"depth\":96"), "finality.depth: unknown key");
    rejects(subst("\"probabilistic\":false", "\"probabilistic\":0"),
            "finality.probabilistic: must be true or false");
    rejects(subst("\"memo_required\":false", "\"memo_required\":\"yes\""),
            "memo_required: must be true or false");

    /* fee */
    rejects(subst("payer_pays_network_fee", "free"), "fee.treatment: 'free' is not");
    rejects(subst("\"treatment\":\"payer_pays_network_fee\",\"asset\":\"ETH\"",
                  "\"treatment\":\"fee_in_other_asset\""),
            "fee.asset: missing (required by fee_in_other_asset)");
    rejects(subst("\"treatment\":\"payer_pays_network_fee\",\"asset\":\"ETH\"",
                  "\"treatment\":\"fee_in_other_asset\",\"asset\":\"USDT\""),
            "fee_in_other_asset names the rail's own asset");
    rejects(subst("\"asset\":\"ETH\"", "\"asset\":\"eth\""), "fee.asset: 'eth'");

    /* tolerances: parsed exactly at the rail's decimals */
    rejects(subst("\"abs\":\"0.01\"", "\"abs\":\"0.0000001\""),
            "tolerance.under.abs: not an amount at 6 decimals");
    rejects(subst("\"abs\":\"0.01\"", "\"abs\":\"-0.01\""),
            "tolerance.under.abs: '-0.01' is negative");
    rejects(subst("\"abs\":\"0.01\"", "\"abs\":0.01"),
            "tolerance.under.abs: must be a decimal string");
    rejects(subst("\"abs\":\"0.01\"", "\"abs\":\"1e3\""), "not an amount at 6 decimals");
    rejects(subst("\"bps\":0}", "\"bps\":10001}"), "tolerance.under.bps: '10001' exceeds 10000");
    rejects(subst("\"tolerance\":{", "\"tolerance\":{\"over\":{\"abs\":\"0\",\"bps\":0},"),
            "duplicate");

    /* windows */
    rejects(subst("\"stale_after_s\":3600", "\"stale_after_s\":0"),
            "windows.stale_after_s: must be at least 1");
    rejects(subst("\"expiry_grace_s\":120", "\"expiry_grace_s\":-5"),
            "windows.expiry_grace_s: '-5' is negative");
    rejects(subst("\"stale_after_s\":3600", "\"stale_after_s\":9223372037"),
            "exceeds 9223372036");

    /* sources */
    rejects(subst("\"memo\":\"m\"", "\"memo\":\"\""), "sources.memo: is empty");
    rejects(subst("\"memo\":\"m\"", "\"memo\":7"), "sources.memo: must be a string");

    /* duplicates */
    snprintf(two, sizeof two, "%s,%s", base_rail, base_rail);
    rejects(two, "rails[1] (ethereum/USDT): duplicate rail: rails[0]");
    snprintf(two, sizeof two, "%s,%s", base_rail,
             subst("0xdAC17F958D2ee523a2206206994597C13D831ec7",
                   "0xdac17f958d2ee523a2206206994597c13d831ec7"));
    rejects(two, "duplicate rail");
    snprintf(two, sizeof two, "%s,%s", base_rail, subst("\"USDT\"", "\"USDC\""));
    rejects(two, "rails[1] (ethereum/USDC): contract: "
                 "'0xdac17f958d2ee523a2206206994597c13d831ec7' is already rails[0] (USDT)");
}
END_TEST

START_TEST(unknown_network_is_free)
{
    /* a network we know nothing about: contract optional, any format */
    rk_policy *p = parse_ok(wrap(subst("\"network\":\"ethereum\"", "\"network\":\"zeta-2\"")));
    const rk_rail *r = rk_policy_rail(p, 0);

    ck_assert_str_eq(r->network, "zeta-2");
    /* not EVM-known, so the contract keeps its case */
    ck_assert_str_eq(r->contract, "0xdAC17F958D2ee523a2206206994597C13D831ec7");
    ck_assert_ptr_eq(rk_policy_find(p, "zeta-2", "USDT",
                                    "0xdac17f958d2ee523a2206206994597c13d831ec7"), r);
    rk_policy_free(p);
}
END_TEST

static rk_rail tol(const char *ua, uint32_t ub, const char *oa, uint32_t ob)
{
    rk_rail r;

    memset(&r, 0, sizeof r);
    r.decimals = 0;
    ck_assert_int_eq(rk_amount_parse(ua, strlen(ua), 0, &r.tol_under_abs, NULL), RK_OK);
    ck_assert_int_eq(rk_amount_parse(oa, strlen(oa), 0, &r.tol_over_abs, NULL), RK_OK);
    r.tol_under_bps = ub;
    r.tol_over_bps = ob;
    return r;
}

START_TEST(amount_verdict)
{
    rk_rail z = tol("0", 0, "0", 0), a = tol("10", 0, "5", 0), b = tol("0", 100, "0", 50);
    rk_rail both = tol("5", 100, "5", 100), all = tol("0", 10000, "0", 10000);

    /* zero tolerance: exact only */
    ck_assert_int_eq(rk_policy_amount_verdict(&z, 1000, 1000), 0);
    ck_assert_int_eq(rk_policy_amount_verdict(&z, 1000, 999), -1);
    ck_assert_int_eq(rk_policy_amount_verdict(&z, 1000, 1001), 1);
    ck_assert_int_eq(rk_policy_amount_verdict(NULL, 1000, 1001), 1);
    ck_assert_int_eq(rk_policy_amount_verdict(NULL, 7, 7), 0);

    /* absolute: exactly at the tolerance is within; one minor unit beyond is not */
    ck_assert_int_eq(rk_policy_amount_verdict(&a, 1000, 990), 0);
    ck_assert_int_eq(rk_policy_amount_verdict(&a, 1000, 989), -1);
    ck_assert_int_eq(rk_policy_amount_verdict(&a, 1000, 1005), 0);
    ck_assert_int_eq(rk_policy_amount_verdict(&a, 1000, 1006), 1);

    /* relative: floor(|expected| * bps / 10000) */
    ck_assert_int_eq(rk_policy_amount_verdict(&b, 1000, 990), 0);  /* 1% of 1000 = 10 */
    ck_assert_int_eq(rk_policy_amount_verdict(&b, 1000, 989), -1);
    ck_assert_int_eq(rk_policy_amount_verdict(&b, 1050, 1040), 0); /* 10.5 rounds down to 10 */
    ck_assert_int_eq(rk_policy_amount_verdict(&b, 1050, 1039), -1);
    ck_assert_int_eq(rk_policy_amount_verdict(&b, 1000, 1005), 0); /* 0.5% = 5 */
    ck_assert_int_eq(rk_policy_amount_verdict(&b, 1000, 1006), 1);
    ck_assert_int_eq(rk_policy_amount_verdict(&b, 99, 98), -1);    /* 1% of 99 = 0 */

    /* both: the larger allowance applies */
    ck_assert_int_eq(rk_policy_amount_verdict(&both, 1000, 990), 0);  /* bps 10 > abs 5 */
    ck_assert_int_eq(rk_policy_amount_verdict(&both, 1000, 989), -1);
    ck_assert_int_eq(rk_policy_amount_verdict(&both, 100, 95), 0);    /* abs 5 > bps 1 */
    ck_assert_int_eq(rk_policy_amount_verdict(&both, 100, 94), -1);
    ck_assert_int_eq(rk_policy_amount_verdict(&both, 100, 105), 0);
    ck_assert_int_eq(rk_policy_amount_verdict(&both, 100, 106), 1);

    /* extremes: no overflow anywhere */
    ck_assert_int_eq(rk_policy_amount_verdict(&z, RK_AMOUNT_LIMIT, -RK_AMOUNT_LIMIT), -1);
    ck_assert_int_eq(rk_policy_amount_verdict(&z, -RK_AMOUNT_LIMIT, RK_AMOUNT_LIMIT), 1);
    ck_assert_int_eq(rk_policy_amount_verdict(&all, RK_AMOUNT_LIMIT, 0), 0);
    ck_assert_int_eq(rk_policy_amount_verdict(&all, RK_AMOUNT_LIMIT, -1), -1);
    ck_assert_int_eq(rk_policy_amount_verdict(&all, RK_AMOUNT_LIMIT, RK_AMOUNT_LIMIT - 1), 0);
    ck_assert_int_eq(rk_policy_amount_verdict(&all, -RK_AMOUNT_LIMIT, 0), 0);
}
END_TEST

START_TEST(verdict_with_decimals)
{
    /* USDT-ERC20 default: 0.01 either way at 6 decimals = 10000 minor units */
    char err[RK_ERROR_SIZE] = "";
    rk_policy *p = NULL;
    const rk_rail *r;
    rk_amount e, paid;

    ck_assert_msg(rk_policy_load(DEFAULT_POLICY, &p, err) == RK_OK, "%s", err);
    r = rk_policy_find(p, "ethereum", "USDT", "0xdac17f958d2ee523a2206206994597c13d831ec7");
    ck_assert_ptr_nonnull(r);
    ck_assert(r->tol_under_abs == 10000);
    ck_assert_int_eq(rk_amount_parse("100.00", 6, 6, &e, NULL), RK_OK);
    ck_assert_int_eq(rk_amount_parse("99.99", 5, 6, &paid, NULL), RK_OK);
    ck_assert_int_eq(rk_policy_amount_verdict(r, e, paid), 0);
    ck_assert_int_eq(rk_policy_amount_verdict(r, e, paid - 1), -1);
    ck_assert_int_eq(rk_policy_amount_verdict(r, e, e + 10000), 0);
    ck_assert_int_eq(rk_policy_amount_verdict(r, e, e + 10001), 1);
    rk_policy_free(p);
}
END_TEST

START_TEST(canonical_round_trip)
{
    char err[RK_ERROR_SIZE] = "";
    rk_policy *p = NULL, *q = NULL, *s = NULL;
    rk_buf a = RK_BUF_INIT, b = RK_BUF_INIT, body = RK_BUF_INIT, c = RK_BUF_INIT;
    uint8_t d1[RK_HASH_SIZE], d2[RK_HASH_SIZE], h[RK_HASH_SIZE];

    ck_assert_msg(rk_policy_load(DEFAULT_POLICY, &p, err) == RK_OK, "%s", err);
    ck_assert_int_eq(rk_policy_canonical(p, &a, err), RK_OK);
    ck_assert_msg(rk_canon_check((const char *)a.data, a.len, err) == RK_OK, "%s", err);
    ck_assert_msg(rk_policy_parse((const char *)a.data, a.len, &q, err) == RK_OK, "%s", err);
    ck_assert_int_eq(rk_policy_canonical(q, &b, err), RK_OK);
    ck_assert_uint_eq(a.len, b.len);
    ck_assert_mem_eq(a.data, b.data, a.len);
    ck_assert_uint_eq(rk_policy_count(p), rk_policy_count(q));
    for (size_t i = 0; i < rk_policy_count(p); i++) {
        const rk_rail *x = rk_policy_rail(p, i), *y = rk_policy_rail(q, i);
        ck_assert_str_eq(x->network, y->network);
        ck_assert_str_eq(x->contract, y->contract);
        ck_assert(x->tol_under_abs == y->tol_under_abs && x->tol_over_abs == y->tol_over_abs);
        ck_assert_uint_eq(x->finality_depth, y->finality_depth);
        ck_assert_str_eq(x->source[RK_SRC_FINALITY], y->source[RK_SRC_FINALITY]);
    }
    ck_assert_int_eq(rk_policy_digest(p, d1), RK_OK);
    ck_assert_int_eq(rk_policy_digest(q, d2), RK_OK);
    rk_sha256(h, a.data, a.len);
    ck_assert_mem_eq(d1, d2, RK_HASH_SIZE);
    ck_assert_mem_eq(d1, h, RK_HASH_SIZE);

    /* the record body carries the same bytes, and reads back */
    ck_assert_int_eq(rk_policy_record_body(p, &body, err), RK_OK);
    ck_assert_msg(rk_canon_check((const char *)body.data, body.len, err) == RK_OK, "%s", err);
    ck_assert_uint_eq(body.len, a.len + strlen("{\"policy\":,\"v\":1}"));
    ck_assert_mem_eq(body.data + 10, a.data, a.len);
    ck_assert_msg(rk_policy_from_record_body(body.data, body.len, &s, err) == RK_OK, "%s", err);
    ck_assert_int_eq(rk_policy_canonical(s, &c, err), RK_OK);
    ck_assert_uint_eq(c.len, a.len);
    ck_assert_mem_eq(c.data, a.data, a.len);

    rk_policy_free(p);
    rk_policy_free(q);
    rk_policy_free(s);
    rk_buf_free(&a);
    rk_buf_free(&b);
    rk_buf_free(&c);
    rk_buf_free(&body);
}
END_TEST

START_TEST(file_order_does_not_matter)
{
    char two[4096], rev[4096];
    const char *btc = "{\"network\":\"bitcoin\",\"asset\":\"BTC\",\"decimals\":8,"
                      "\"confirmations_to_credit\":1,"
                      "\"finality\":{\"rule\":\"depth\",\"depth\":6,\"probabilistic\":true},"
                      "\"memo_required\":false,\"fee\":{\"treatment\":\"provider_deducts_fee\"},"
                      "\"tolerance\":{\"under\":{\"abs\":\"0.0001\",\"bps\":25},"
                      "\"over\":{\"abs\":\"0\",\"bps\":0}},"
                      "\"windows\":{\"expiry_grace_s\":0,\"stale_after_s\":1},"
                      "\"sources\":{\"decimals\":\"d\",\"confirmations\":\"c\",\"finality\":\"f\","
                      "\"memo\":\"m\",\"fee\":\"fe\",\"tolerance\":\"t\",\"windows\":\"w\"}}";
    rk_policy *p, *q;
    rk_buf a = RK_BUF_INIT, b = RK_BUF_INIT;

    snprintf(two, sizeof two, "%s,%s", base_rail, btc);
    snprintf(rev, sizeof rev, "%s,%s", btc, base_rail);
    p = parse_ok(wrap(two));
    q = parse_ok(wrap(rev));
    ck_assert_int_eq(rk_policy_canonical(p, &a, NULL), RK_OK);
    ck_assert_int_eq(rk_policy_canonical(q, &b, NULL), RK_OK);
    ck_assert_uint_eq(a.len, b.len);
    ck_assert_mem_eq(a.data, b.data, a.len);
    ck_assert_str_eq(rk_policy_rail(p, 0)->network, "bitcoin");
    ck_assert_int_eq(rk_policy_rail(p, 0)->fee, RK_FEE_PROVIDER_DEDUCTS);
    ck_assert_str_eq(rk_policy_rail(p, 0)->fee_asset, "");
    ck_assert(rk_policy_rail(p, 0)->tol_under_abs == 10000);
    /* the optional members that were absent stay absent */
    ck_assert_ptr_null(strstr((const char *)a.data, "\"name\""));
    ck_assert_ptr_nonnull(strstr((const char *)a.data,
                                 "\"fee\":{\"treatment\":\"provider_deducts_fee\"}"));
    rk_policy_free(p);
    rk_policy_free(q);
    rk_buf_free(&a);
    rk_buf_free(&b);
}
END_TEST

START_TEST(record_body_errors)
{
    char err[RK_ERROR_SIZE] = "", body[8300];
    rk_policy *p = NULL;
    const char *bad1 = "{\"policy\":{},\"v\":1,\"x\":1}";
    const char *bad2 = "{\"v\":1}";
    const char *bad3 = "{\"policy\":{\"v\":1,\"rails\":[]},\"v\":2}";
    const char *bad4 = "not json";

    ck_assert_int_eq(rk_policy_from_record_body((const uint8_t *)bad1, strlen(bad1), &p, err),
                     RK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "policy record: x: unknown key"));
    ck_assert_int_eq(rk_policy_from_record_body((const uint8_t *)bad2, strlen(bad2), &p, err),
                     RK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "policy record: policy: missing"));
    ck_assert_int_eq(rk_policy_from_record_body((const uint8_t *)bad3, strlen(bad3), &p, err),
                     RK_ERR_VERSION);
    ck_assert_int_eq(rk_policy_from_record_body((const uint8_t *)bad4, strlen(bad4), &p, err),
                     RK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "policy record: "));
    snprintf(body, sizeof body, "{\"policy\":%s,\"v\":1}",
             wrap(subst("\"decimals\":6", "\"decimals\":31")));
    ck_assert_int_eq(rk_policy_from_record_body((const uint8_t *)body, strlen(body), &p, err),
                     RK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "policy record: rails[0] (ethereum/USDT): decimals"));
    ck_assert_ptr_null(p);
}
END_TEST

START_TEST(limits)
{
    char err[RK_ERROR_SIZE] = "";
    rk_policy *p = NULL;
    size_t n = RK_POLICY_FILE_MAX + 1;
    char *big = malloc(n);
    char src[RK_POLICY_SOURCE_MAX + 32];
    char rail[4096];

    ck_assert_ptr_nonnull(big);
    memset(big, ' ', n);
    ck_assert_int_eq(rk_policy_parse(big, n, &p, err), RK_ERR_TOOBIG);
    free(big);
    ck_assert_int_eq(rk_policy_parse(NULL, 0, &p, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_policy_load("no/such/policy.json", &p, err), RK_ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(err, "no/such/policy.json"));
    ck_assert_ptr_null(p);

    /* a source string over the limit */
    memset(src, 'x', RK_POLICY_SOURCE_MAX + 1);
    src[RK_POLICY_SOURCE_MAX + 1] = '\0';
    snprintf(rail, sizeof rail, "%s", subst("\"memo\":\"m\"", "\"memo\":\"@\""));
    {
        char full[4096];
        char *at = strchr(rail, '@');
        snprintf(full, sizeof full, "%.*s%s%s", (int)(at - rail), rail, src, at + 1);
        rejects(full, "sources.memo: is longer than 1024 bytes");
    }
    /* a flipped byte in a canonical policy is caught or changes the digest */
    {
        rk_policy *q = NULL;
        rk_buf a = RK_BUF_INIT;
        char *at;
        ck_assert_msg(rk_policy_load(DEFAULT_POLICY, &q, err) == RK_OK, "%s", err);
        ck_assert_int_eq(rk_policy_canonical(q, &a, err), RK_OK);
        at = strstr((char *)a.data, "\"decimals\":8");
        ck_assert_ptr_nonnull(at);
        at[11] = '9'; /* decimals 9: tolerance strings at 8 digits no longer match */
        ck_assert_int_eq(rk_policy_parse((const char *)a.data, a.len, &p, err), RK_OK);
        rk_policy_free(p);
        at[11] = '+';
        ck_assert_int_eq(rk_policy_parse((const char *)a.data, a.len, &p, err), RK_ERR_INVALID);
        rk_policy_free(q);
        rk_buf_free(&a);
    }
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, default_policy);
    tcase_add_test(tc, lookup);
    tcase_add_test(tc, validation);
    tcase_add_test(tc, unknown_network_is_free);
    tcase_add_test(tc, amount_verdict);
    tcase_add_test(tc, verdict_with_decimals);
    tcase_add_test(tc, canonical_round_trip);
    tcase_add_test(tc, file_order_does_not_matter);
    tcase_add_test(tc, record_body_errors);
    tcase_add_test(tc, limits);
    suite_add_tcase(s, tc);
    return s;
}
