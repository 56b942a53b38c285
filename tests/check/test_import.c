/* test_import.c - commerce and finance imports: readers, checks, versions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "import.h"
#include "ledger.h"

#define C RK_IMPORT_COMMERCE
#define F RK_IMPORT_FINANCE

static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return 1767225600000000000LL; /* 2026-01-01 */
}

static char *db_path;

static rk_ledger *new_ledger(void)
{
    char *dir = rk_test_tmpdir();
    char path[4200], err[RK_ERROR_SIZE] = "";
    rk_ledger *l = NULL;

    ck_assert_ptr_nonnull(dir);
    snprintf(path, sizeof path, "%s/db", dir);
    free(dir);
    ck_assert_msg(rk_ledger_create(path, "reckon.test/import", 1000, err) == RK_OK, "%s", err);
    ck_assert_msg(rk_ledger_open(path, 0, &l, err) == RK_OK, "%s", err);
    rk_ledger_set_clock(l, fake_clock, NULL);
    free(db_path);
    db_path = strdup(path);
    return l;
}

static uint64_t size_of(rk_ledger *l)
{
    uint8_t h[RK_HASH_SIZE];
    uint64_t n;

    rk_ledger_head(l, &n, h);
    return n;
}

static rk_err imp(rk_ledger *l, rk_import_kind kind, rk_import_format fmt, int skip,
                  const char *text, rk_import_result *res)
{
    rk_import_opts o = { kind, fmt, skip, "t.csv" };
    char err[RK_ERROR_SIZE] = "";

    return rk_import_buffer(l, &o, text, strlen(text), res, err);
}

/* Import text without a ledger and expect exactly one bad-row message. */
static void bad1(rk_import_kind kind, rk_import_format fmt, const char *text, const char *want)
{
    rk_import_result res = RK_IMPORT_RESULT_INIT;
    rk_err rc = imp(NULL, kind, fmt, 0, text, &res);

    ck_assert_msg(rc == RK_ERR_INVALID, "rc %d for %s", rc, want);
    ck_assert_msg(res.nmessages == 1, "%zu messages, first %s, want %s", res.nmessages,
                  res.nmessages ? res.messages[0] : "", want);
    ck_assert_str_eq(res.messages[0], want);
    ck_assert_int_eq(res.imported, 0);
    rk_import_result_free(&res);
}

/* Import text without a ledger and expect every row good. */
static void good(rk_import_kind kind, rk_import_format fmt, const char *text, size_t rows)
{
    rk_import_result res = RK_IMPORT_RESULT_INIT;
    rk_err rc = imp(NULL, kind, fmt, 0, text, &res);

    ck_assert_msg(rc == RK_OK, "rc %d: %s", rc, res.nmessages ? res.messages[0] : "");
    ck_assert_uint_eq(res.rows, rows);
    ck_assert_uint_eq(res.fresh, rows);
    ck_assert_uint_eq(res.bad, 0);
    rk_import_result_free(&res);
}

/* The body of record seq, NUL-terminated (static buffer). */
static const char *body_at(rk_ledger *l, uint64_t seq)
{
    static char out[4096];
    char err[RK_ERROR_SIZE] = "";
    rk_buf b = RK_BUF_INIT;
    rk_record r;

    ck_assert_msg(rk_ledger_read(l, seq, &b, &r, err) == RK_OK, "%s", err);
    ck_assert_uint_lt(r.body_len, sizeof out);
    memcpy(out, r.body, r.body_len);
    out[r.body_len] = '\0';
    rk_buf_free(&b);
    return out;
}

#define HDR "order,event,occurred_at,expected_memo\n"
#define CREATED_HDR                                                                   \
    "order,event,occurred_at,price_amount,price_currency,expected_amount,"           \
    "expected_asset,expected_network,expires_at\n"
#define ROW_OK "A1,created,2026-03-02T09:00:00Z,10.00,USD,10,USDT,tron,2026-03-02T10:00:00Z\n"

/* ---- CSV reader --------------------------------------------------------- */

START_TEST(csv_quotes_commas_newlines_crlf)
{
    const char *in =
        "\xef\xbb\xbf" "order,event,occurred_at,price_amount,price_currency,expected_amount,"
        "expected_asset,expected_network,expected_memo,expires_at\r\n"
        "\"A,1\",created,2026-03-02T10:00:00+01:00,25,usd,0.000412340,btc,Bitcoin,"
        "\"say \"\"hi\"\",\r\nthen go\",2026-03-02T10:00:00Z\r\n"
        "\r\n"
        "\"A,1\",fulfilled,2026-03-03,,,,,,,\r\n";
    rk_import_result res = RK_IMPORT_RESULT_INIT;
    rk_ledger *l = new_ledger();

    ck_assert_msg(imp(l, C, RK_IMPORT_CSV, 0, in, &res) == RK_OK, "%s",
                  res.nmessages ? res.messages[0] : "");
    ck_assert_uint_eq(res.rows, 2);
    ck_assert_uint_eq(res.fresh, 2);
    ck_assert_str_eq(body_at(l, 1),
                     "{\"event\":\"created\",\"expected\":{\"amount\":\"0.00041234\","
                     "\"asset\":\"BTC\",\"memo\":\"say \\\"hi\\\",\\r\\nthen go\","
                     "\"network\":\"bitcoin\"},\"expires_at\":\"2026-03-02T10:00:00.000000000Z\","
                     "\"occurred_at\":\"2026-03-02T09:00:00.000000000Z\",\"order\":\"A,1\","
                     "\"price\":{\"amount\":\"25.00\",\"currency\":\"USD\"},"
                     "\"row_id\":\"A,1:created\",\"v\":1}");
    ck_assert_str_eq(body_at(l, 2),
                     "{\"event\":\"fulfilled\",\"occurred_at\":\"2026-03-03T00:00:00.000000000Z\","
                     "\"order\":\"A,1\",\"row_id\":\"A,1:fulfilled\",\"v\":1}");
    rk_import_result_free(&res);
    rk_ledger_close(l);
}
END_TEST

START_TEST(csv_structure)
{
    rk_import_result res = RK_IMPORT_RESULT_INIT;

    /* header only, with or without a final newline: no rows, fine */
    good(C, RK_IMPORT_CSV, HDR, 0);
    good(C, RK_IMPORT_CSV, "order,event,occurred_at", 0);
    /* no final newline, LF endings, blank lines skipped */
    good(C, RK_IMPORT_CSV, HDR "\n\nA,fulfilled,2026-03-02T09:00:00Z,\n\nB,canceled,2026-03-02T09:00:00Z,", 2);
    /* quoted empty field is empty */
    good(C, RK_IMPORT_CSV, HDR "A,fulfilled,2026-03-02T09:00:00Z,\"\"\n", 1);

    bad1(C, RK_IMPORT_CSV, "", "t.csv:1: no header row (the file is empty)");
    bad1(C, RK_IMPORT_CSV, "\xef\xbb\xbf", "t.csv:1: no header row (the file is empty)");
    bad1(C, RK_IMPORT_CSV, "\n\r\n", "t.csv:1: no header row (the file is empty)");
    bad1(C, RK_IMPORT_CSV, HDR "A,fulfilled,2026-03-02T09:00:00Z\n",
         "t.csv:2: 3 fields, the header has 4");
    bad1(C, RK_IMPORT_CSV, HDR "A,fulfilled,2026-03-02T09:00:00Z,,x\n",
         "t.csv:2: 5 fields, the header has 4");
    bad1(C, RK_IMPORT_CSV, HDR "A,ful\"filled,2026-03-02T09:00:00Z,\n",
         "t.csv:2: field 2: a quote inside an unquoted field");
    bad1(C, RK_IMPORT_CSV, HDR "A,\"fulfilled\"x,2026-03-02T09:00:00Z,\n",
         "t.csv:2: field 2: characters after the closing quote");
    bad1(C, RK_IMPORT_CSV, HDR "A,fulfilled,2026-03-02T09:00:00Z,\"open\nB,x\n",
         "t.csv:2: quoted field 4 opened on line 2 is not closed");
    bad1(C, RK_IMPORT_CSV, HDR "A,fulfilled,2026-03-02T09:00:00Z,a\rb\n",
         "t.csv:2: field 4: a carriage return not followed by a line feed");
    bad1(C, RK_IMPORT_CSV, "order,event,occurred_at,colour\n", "t.csv:1: header: unknown column 'colour'");
    bad1(C, RK_IMPORT_CSV, "order,event,occurred_at,order\n",
         "t.csv:1: header: column 'order' appears twice");
    bad1(C, RK_IMPORT_CSV, "order,event\n", "t.csv:1: header: missing column 'occurred_at'");
    bad1(C, RK_IMPORT_CSV, "order,,event,occurred_at\n", "t.csv:1: header: column 2 has no name");
    bad1(C, RK_IMPORT_CSV, "order,\"ev\"x,occurred_at\n",
         "t.csv:1: header: field 2: characters after the closing quote");
    bad1(C, RK_IMPORT_CSV, HDR "A,fulfilled,2026-03-02T09:00:00Z,\xc3\x28\n",
         "t.csv:2: expected_memo: not valid UTF-8");
    /* line numbers count the newlines inside quoted fields */
    bad1(C, RK_IMPORT_CSV,
         "order,event,occurred_at,price_amount,price_currency,expected_amount,expected_asset,"
         "expected_network,expires_at,expected_memo\n"
         "A,created,2026-03-02T09:00:00Z,1,USD,1,XLM,stellar,2026-03-03,\"one\ntwo\r\nthree\"\n"
         "B,oops,2026-03-02T09:00:00Z,,,,,,,\n",
         "t.csv:5: event: 'oops' is not created, fulfilled, refunded or canceled");

    /* every bad row is listed, in order */
    ck_assert_int_eq(imp(NULL, C, RK_IMPORT_CSV, 0,
                         HDR "A,x,2026-03-02T09:00:00Z,\nB,fulfilled,2026-03-02T09:00:00Z,\n"
                             "C,fulfilled,never,\n", &res),
                     RK_ERR_INVALID);
    ck_assert_uint_eq(res.rows, 3);
    ck_assert_uint_eq(res.bad, 2);
    ck_assert_uint_eq(res.nmessages, 2);
    ck_assert_str_eq(res.messages[0],
                     "t.csv:2: event: 'x' is not created, fulfilled, refunded or canceled");
    ck_assert_str_eq(res.messages[1], "t.csv:4: occurred_at: 'never' is not an RFC 3339 time");
    rk_import_result_free(&res);
}
END_TEST

START_TEST(csv_limits)
{
    size_t n = RK_IMPORT_FIELD_MAX + 1;
    char *in = malloc(strlen(HDR) + 64 + n);
    rk_import_result res = RK_IMPORT_RESULT_INIT;
    rk_import_opts o = { C, RK_IMPORT_CSV, 0, "big.csv" };
    char err[RK_ERROR_SIZE] = "";

    ck_assert_ptr_nonnull(in);
    strcpy(in, HDR "A,fulfilled,2026-03-02T09:00:00Z,");
    memset(in + strlen(in), 'm', n);
    in[strlen(HDR) + 33 + n] = '\0';
    bad1(C, RK_IMPORT_CSV, in, "t.csv:2: expected_memo: longer than 4096 bytes");
    free(in);
    /* the size is checked before a byte is read */
    ck_assert_int_eq(rk_import_buffer(NULL, &o, "", (size_t)RK_IMPORT_FILE_MAX + 1, &res, err),
                     RK_ERR_TOOBIG);
    ck_assert_str_eq(err, "big.csv: larger than 268435456 bytes");
    rk_import_result_free(&res);
}
END_TEST

/* ---- commerce checks ---------------------------------------------------- */

START_TEST(commerce_errors)
{
    const char *H = CREATED_HDR;
    char in[2048];
    struct {
        const char *row;
        const char *want;
    } cases[] = {
        { ",created,2026-03-02T09:00:00Z,10.00,USD,10,USDT,tron,2026-03-02T10:00:00Z",
          "order: missing" },
        { "A1,,2026-03-02T09:00:00Z,10.00,USD,10,USDT,tron,2026-03-02T10:00:00Z",
          "event: missing" },
        { "A1,Created,2026-03-02T09:00:00Z,10.00,USD,10,USDT,tron,2026-03-02T10:00:00Z",
          "event: 'Created' is not created, fulfilled, refunded or canceled" },
        { " A1,created,2026-03-02T09:00:00Z,10.00,USD,10,USDT,tron,2026-03-02T10:00:00Z",
          "order: leading or trailing space" },
        { "A\t1,created,2026-03-02T09:00:00Z,10.00,USD,10,USDT,tron,2026-03-02T10:00:00Z",
          "order: control character 0x09" },
        { "A1,created,2026-03-02 09:00:00,10.00,USD,10,USDT,tron,2026-03-02T10:00:00Z",
          "occurred_at: '2026-03-02 09:00:00' is not an RFC 3339 time" },
        { "A1,created,,10.00,USD,10,USDT,tron,2026-03-02T10:00:00Z", "occurred_at: missing" },
        { "A1,created,2026-03-02T09:00:00Z,,USD,10,USDT,tron,2026-03-02T10:00:00Z",
          "price_amount: missing" },
        { "A1,created,2026-03-02T09:00:00Z,10.00,,10,USDT,tron,2026-03-02T10:00:00Z",
          "price_currency: missing" },
        { "A1,created,2026-03-02T09:00:00Z,10.00,BTC,10,USDT,tron,2026-03-02T10:00:00Z",
          "price_currency: 'BTC' is not an ISO 4217 fiat currency" },
        { "A1,created,2026-03-02T09:00:00Z,10.00,US$,10,USDT,tron,2026-03-02T10:00:00Z",
          "price_currency: 'US$' is not a currency code or asset symbol" },
        { "A1,created,2026-03-02T09:00:00Z,10.001,USD,10,USDT,tron,2026-03-02T10:00:00Z",
          "price_amount: amount '10.001': more than 2 fraction digits (USD has 2)" },
        { "A1,created,2026-03-02T09:00:00Z,1500.5,JPY,10,USDT,tron,2026-03-02T10:00:00Z",
          "price_amount: amount '1500.5': more than 0 fraction digits (JPY has 0)" },
        { "A1,created,2026-03-02T09:00:00Z,\"1,000.00\",USD,10,USDT,tron,2026-03-02T10:00:00Z",
          "price_amount: amount '1,000.00': unexpected character at offset 1" },
        { "A1,created,2026-03-02T09:00:00Z,10.00,USD,0,USDT,tron,2026-03-02T10:00:00Z",
          "expected_amount: must be greater than zero" },
        { "A1,created,2026-03-02T09:00:00Z,-10.00,USD,10,USDT,tron,2026-03-02T10:00:00Z",
          "price_amount: must be greater than zero" },
        { "A1,created,2026-03-02T09:00:00Z,10.00,USD,1e1,USDT,tron,2026-03-02T10:00:00Z",
          "expected_amount: amount '1e1': exponents are not allowed" },
        { "A1,created,2026-03-02T09:00:00Z,10.00,USD,0.0000000000000000000000000000001,USDT,"
          "tron,2026-03-02T10:00:00Z",
          "expected_amount: more than 30 fraction digits" },
        { "A1,created,2026-03-02T09:00:00Z,10.00,USD,10,USDT-TRC20,tron,2026-03-02T10:00:00Z",
          "expected_asset: 'USDT-TRC20' is not a currency code or asset symbol" },
        { "A1,created,2026-03-02T09:00:00Z,10.00,USD,10,USDT,tron network,2026-03-02T10:00:00Z",
          "expected_network: 'tron network' is not a network id" },
        { "A1,created,2026-03-02T09:00:00Z,10.00,USD,10,USDT,,2026-03-02T10:00:00Z",
          "expected_network: missing" },
        { "A1,created,2026-03-02T09:00:00Z,10.00,USD,10,USDT,tron,", "expires_at: missing" },
        { "A1,created,2026-03-02T09:00:00Z,10.00,USD,10,USDT,tron,2026-03-02T09:00:00Z",
          "expires_at: not after occurred_at" },
        { "A1,fulfilled,2026-03-02T09:00:00Z,10.00,USD,,,,",
          "price_amount: not allowed in a fulfilled row" },
        { "A1,canceled,2026-03-02T09:00:00Z,,,,,,2026-03-02T10:00:00Z",
          "expires_at: not allowed in a canceled row" },
        { "A1,refunded,2026-03-02T09:00:00Z,,,,,,", "amount: missing" },
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[512];
        snprintf(in, sizeof in, "%s%s\n", H, cases[i].row);
        snprintf(want, sizeof want, "t.csv:2: %s", cases[i].want);
        bad1(C, RK_IMPORT_CSV, in, want);
    }
    /* refunds: amount and optional currency */
    bad1(C, RK_IMPORT_CSV, "order,event,occurred_at,amount,currency\nA1,refunded,2026-03-02T09:00:00Z,5.5,JPY\n",
         "t.csv:2: amount: amount '5.5': more than 0 fraction digits (JPY has 0)");
    bad1(C, RK_IMPORT_CSV, "order,event,occurred_at,amount,expires_at\n"
                           "A1,refunded,2026-03-02T09:00:00Z,5,2026-03-02T09:00:00Z\n",
         "t.csv:2: expires_at: not allowed in a refunded row");
    bad1(C, RK_IMPORT_CSV, "order,event,occurred_at,amount\nA1,created,2026-03-02T09:00:00Z,5\n",
         "t.csv:2: amount: not allowed in a created row");
    bad1(C, RK_IMPORT_CSV, "order,event,occurred_at,expected_contract,expires_at\n"
                           "A1,created,2026-03-02T09:00:00Z,0x a,2026-03-02T10:00:00Z\n",
         "t.csv:2: price_currency: missing");
    snprintf(in, sizeof in, "%s",
             "order,event,occurred_at,price_amount,price_currency,expected_amount,expected_asset,"
             "expected_network,expected_contract,expires_at\n"
             "A1,created,2026-03-02T09:00:00Z,1,USD,1,USDC,ethereum,0x a,2026-03-02T10:00:00Z\n");
    bad1(C, RK_IMPORT_CSV, in, "t.csv:2: expected_contract: '0x a' contains a space");
    good(C, RK_IMPORT_CSV, CREATED_HDR ROW_OK, 1);
}
END_TEST

START_TEST(commerce_row_ids)
{
    rk_import_result res = RK_IMPORT_RESULT_INIT;
    char in[1024];

    /* the default row id is <order>:<event>; a second refund needs an id */
    bad1(C, RK_IMPORT_CSV,
         "order,event,occurred_at,amount,currency\n"
         "A1,refunded,2026-03-02T09:00:00Z,5,USD\nA1,refunded,2026-03-03T09:00:00Z,4,USD\n",
         "t.csv:3: row id 'A1:refunded' is already used on line 2 with other content");
    good(C, RK_IMPORT_CSV,
         "id,order,event,occurred_at,amount,currency\n"
         "R1,A1,refunded,2026-03-02T09:00:00Z,5,USD\nR2,A1,refunded,2026-03-03T09:00:00Z,4,USD\n",
         2);
    /* the same row twice in one file: once */
    ck_assert_int_eq(imp(NULL, C, RK_IMPORT_CSV, 0,
                         "order,event,occurred_at\nA1,fulfilled,2026-03-02T09:00:00Z\n"
                         "A1,fulfilled,2026-03-02T10:00:00+01:00\n", &res),
                     RK_OK);
    ck_assert_uint_eq(res.fresh, 1);
    ck_assert_uint_eq(res.unchanged, 1);
    rk_import_result_free(&res);
    memset(in, 'x', 300);
    memcpy(in, "order,event,occurred_at\n", 24);
    snprintf(in + 24 + 250, sizeof in - 274, ",fulfilled,2026-03-02T09:00:00Z\n");
    bad1(C, RK_IMPORT_CSV, in, "t.csv:2: id: missing, and '<order>:<event>' is longer than 256 bytes");
}
END_TEST

/* ---- finance checks ----------------------------------------------------- */

#define FIN_HDR "entry_id,order,account,side,amount,currency,fx_rate,fx_source,recognised_at,period\n"

START_TEST(finance_errors)
{
    struct {
        const char *row;
        const char *want;
    } cases[] = {
        { ",A1,4000-revenue,credit,10.00,USD,,,2026-03-02T09:00:00Z,2026-03", "entry_id: missing" },
        { "J1,,4000-revenue,credit,10.00,USD,,,2026-03-02T09:00:00Z,2026-03", "order: missing" },
        { "J1,A1,,credit,10.00,USD,,,2026-03-02T09:00:00Z,2026-03", "account: missing" },
        { "J1,A1,4000-revenue,cr,10.00,USD,,,2026-03-02T09:00:00Z,2026-03",
          "side: 'cr' is not debit or credit" },
        { "J1,A1,4000-revenue,credit,10.001,USD,,,2026-03-02T09:00:00Z,2026-03",
          "amount: amount '10.001': more than 2 fraction digits (USD has 2)" },
        { "J1,A1,4000-revenue,credit,-10.00,USD,,,2026-03-02T09:00:00Z,2026-03",
          "amount: must be greater than zero" },
        { "J1,A1,1210-btc,debit,0.001,BTC,,,2026-03-02T09:00:00Z,2026-03",
          "fx_rate: missing, and 'BTC' is not a fiat currency" },
        { "J1,A1,1210-btc,debit,0.001,BTC,65000,,2026-03-02T09:00:00Z,2026-03",
          "fx_source: missing, but fx_rate is given" },
        { "J1,A1,4000-revenue,credit,10.00,EUR,,ecb,2026-03-02T09:00:00Z,2026-03",
          "fx_rate: missing, but fx_source is given" },
        { "J1,A1,1210-btc,debit,0.001,BTC,0,ecb,2026-03-02T09:00:00Z,2026-03",
          "fx_rate: must be greater than zero" },
        { "J1,A1,4000-revenue,credit,10.00,USD,,,2026-03-32,2026-03",
          "recognised_at: '2026-03-32' is not an RFC 3339 time" },
        { "J1,A1,4000-revenue,credit,10.00,USD,,,2026-03-02T09:00:00Z,2026-13",
          "period: '2026-13' is not a month YYYY-MM" },
        { "J1,A1,4000-revenue,credit,10.00,USD,,,2026-03-02T09:00:00Z,2026-3",
          "period: '2026-3' is not a month YYYY-MM" },
        { "J1,A1,4000-revenue,credit,10.00,USD,,,2026-03-02T09:00:00Z,2026-00",
          "period: '2026-00' is not a month YYYY-MM" },
        { "J1,A1,4000-revenue,credit,10.00,USD,,,2026-03-02T09:00:00Z,",
          "period: missing" },
    };
    char in[1024], want[512];
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(in, sizeof in, FIN_HDR "%s\n", cases[i].row);
        snprintf(want, sizeof want, "t.csv:2: %s", cases[i].want);
        bad1(F, RK_IMPORT_CSV, in, want);
    }
    bad1(F, RK_IMPORT_CSV, "entry_id,order\n", "t.csv:1: header: missing column 'account'");
    bad1(F, RK_IMPORT_CSV, "entry_id,order,event\n", "t.csv:1: header: unknown column 'event'");
    /* a period other than recognised_at's month is allowed (late posting) */
    good(F, RK_IMPORT_CSV, FIN_HDR "J1,A1,4000-revenue,Credit,10,usd,,,2026-02-28T23:30:00-05:00,2026-02\n",
         1);
}
END_TEST

START_TEST(finance_body)
{
    rk_import_result res = RK_IMPORT_RESULT_INIT;
    rk_ledger *l = new_ledger();

    ck_assert_int_eq(imp(l, F, RK_IMPORT_CSV, 0,
                         FIN_HDR "J1,A1,1210-btc,Debit,0.00197530,btc,65306.540,coinbase-spot,"
                                 "2026-03-02T10:20:11+01:00,2026-03\n"
                                 "J2,A1,4000-revenue,credit,129,USD,,,2026-03-02,2026-03\n",
                         &res),
                     RK_OK);
    ck_assert_str_eq(body_at(l, 1),
                     "{\"account\":\"1210-btc\",\"amount\":\"0.0019753\",\"currency\":\"BTC\","
                     "\"fx_rate\":\"65306.54\",\"fx_source\":\"coinbase-spot\",\"order\":\"A1\","
                     "\"period\":\"2026-03\",\"recognised_at\":\"2026-03-02T09:20:11.000000000Z\","
                     "\"row_id\":\"J1\",\"side\":\"debit\",\"v\":1}");
    ck_assert_str_eq(body_at(l, 2),
                     "{\"account\":\"4000-revenue\",\"amount\":\"129.00\",\"currency\":\"USD\","
                     "\"order\":\"A1\",\"period\":\"2026-03\","
                     "\"recognised_at\":\"2026-03-02T00:00:00.000000000Z\",\"row_id\":\"J2\","
                     "\"side\":\"credit\",\"v\":1}");
    rk_import_result_free(&res);
    rk_ledger_close(l);
}
END_TEST

/* ---- JSON --------------------------------------------------------------- */

START_TEST(json_numbers_as_amounts)
{
    const char *in =
        "{\"order\":\"J-1\",\"event\":\"created\",\"occurred_at\":\"2026-03-06T08:00:00Z\","
        "\"price\":{\"amount\":89.5,\"currency\":\"EUR\"},\"expected\":{\"amount\":1.5e-3,"
        "\"asset\":\"BTC\",\"network\":\"bitcoin\"},\"expires_at\":\"2026-03-06T09:00:00Z\"}\r\n"
        "\n"
        "{\"id\":7,\"order\":1042,\"event\":\"refunded\",\"occurred_at\":\"2026-03-07T08:00:00Z\","
        "\"amount\":4E2,\"currency\":\"USD\",\"expected_memo\":null}\n";
    rk_import_result res = RK_IMPORT_RESULT_INIT;
    rk_ledger *l = new_ledger();

    ck_assert_int_eq(imp(l, C, RK_IMPORT_JSONL, 0, in, &res), RK_OK);
    ck_assert_uint_eq(res.rows, 2);
    ck_assert_str_eq(body_at(l, 1),
                     "{\"event\":\"created\",\"expected\":{\"amount\":\"0.0015\",\"asset\":\"BTC\","
                     "\"network\":\"bitcoin\"},\"expires_at\":\"2026-03-06T09:00:00.000000000Z\","
                     "\"occurred_at\":\"2026-03-06T08:00:00.000000000Z\",\"order\":\"J-1\","
                     "\"price\":{\"amount\":\"89.50\",\"currency\":\"EUR\"},"
                     "\"row_id\":\"J-1:created\",\"v\":1}");
    ck_assert_str_eq(body_at(l, 2),
                     "{\"amount\":\"400.00\",\"currency\":\"USD\",\"event\":\"refunded\","
                     "\"occurred_at\":\"2026-03-07T08:00:00.000000000Z\",\"order\":\"1042\","
                     "\"row_id\":\"7\",\"v\":1}");
    rk_import_result_free(&res);
    rk_ledger_close(l);

    /* flat names work in JSON too; exponents are expanded exactly */
    good(C, RK_IMPORT_JSONL,
         "{\"order\":\"A\",\"event\":\"created\",\"occurred_at\":\"2026-03-06T08:00:00Z\","
         "\"price_amount\":\"1\",\"price_currency\":\"USD\",\"expected_amount\":0.05e1,"
         "\"expected_asset\":\"ETH\",\"expected_network\":\"ethereum\","
         "\"expires_at\":\"2026-03-06T09:00:00Z\"}", 1);
}
END_TEST

START_TEST(json_errors)
{
    const char *F1 = "\"order\":\"A\",\"event\":\"fulfilled\",\"occurred_at\":\"2026-03-06T08:00:00Z\"";
    char in[1024];

    bad1(C, RK_IMPORT_JSONL, "[1]\n", "t.csv:1: not a JSON object");
    bad1(C, RK_IMPORT_JSONL, "\n{\"order\":\n", "t.csv:2: json: expected a value at end of input (line 1 column 10)");
    snprintf(in, sizeof in, "{%s,\"colour\":\"red\"}", F1);
    bad1(C, RK_IMPORT_JSONL, in, "t.csv:1: unknown field 'colour'");
    snprintf(in, sizeof in, "{%s,\"expected_memo\":true}", F1);
    bad1(C, RK_IMPORT_JSONL, in, "t.csv:1: expected_memo: must be a string or a number");
    snprintf(in, sizeof in, "{%s,\"expected_memo\":[\"a\"]}", F1);
    bad1(C, RK_IMPORT_JSONL, in, "t.csv:1: expected_memo: must be a string or a number");
    snprintf(in, sizeof in, "{%s,\"meta\":{\"a\":1}}", F1);
    bad1(C, RK_IMPORT_JSONL, in, "t.csv:1: meta: must be a string or a number");
    snprintf(in, sizeof in, "{%s,\"price\":{\"amount\":{}}}", F1);
    bad1(C, RK_IMPORT_JSONL, in, "t.csv:1: price_amount: must be a string or a number");
    snprintf(in, sizeof in, "{%s,\"price\":{\"colour\":1}}", F1);
    bad1(C, RK_IMPORT_JSONL, in, "t.csv:1: unknown field 'price_colour'");
    snprintf(in, sizeof in, "{%s,\"price\":{\"amount\":1},\"price_amount\":1}", F1);
    bad1(C, RK_IMPORT_JSONL, in, "t.csv:1: price_amount: given twice");
    bad1(C, RK_IMPORT_JSONL,
         "{\"order\":10.5,\"event\":\"fulfilled\",\"occurred_at\":\"2026-03-06T08:00:00Z\"}",
         "t.csv:1: order: must be a string, not the number 10.5");
    bad1(C, RK_IMPORT_JSONL,
         "{\"order\":\"A\",\"event\":\"refunded\",\"occurred_at\":\"2026-03-06T08:00:00Z\",\"amount\":1e99}",
         "t.csv:1: amount: the number 1e99 is out of range");
    bad1(C, RK_IMPORT_JSONL,
         "{\"order\":\"A\",\"event\":\"refunded\",\"occurred_at\":\"2026-03-06T08:00:00Z\",\"amount\":-2}",
         "t.csv:1: amount: must be greater than zero");
    bad1(F, RK_IMPORT_JSONL, "{\"price\":{\"amount\":1}}", "t.csv:1: price: must be a string or a number");
    /* a JSON array: errors name the line where the element starts */
    bad1(C, RK_IMPORT_JSON,
         "[\n  {\"order\":\"A\",\"event\":\"fulfilled\",\"occurred_at\":\"2026-03-06T08:00:00Z\"},\n"
         "  {\"order\":\"B\",\n   \"event\":\"lost\",\"occurred_at\":\"2026-03-06T08:00:00Z\"}\n]\n",
         "t.csv:3: event: 'lost' is not created, fulfilled, refunded or canceled");
    bad1(C, RK_IMPORT_JSON, "[\n{\"order\":\"A\"},\n", "t.csv:1: json: expected a value at end of input (line 3 column 1)");
    good(C, RK_IMPORT_JSON, "[]", 0);
    good(C, RK_IMPORT_JSON, "\xef\xbb\xbf {\"order\":\"A\",\"event\":\"fulfilled\",\"occurred_at\":\"2026-03-06T08:00:00Z\"}\n", 1);
    good(C, RK_IMPORT_JSONL, "", 0);
}
END_TEST

/* ---- versions, corrections, atomicity ------------------------------------ */

START_TEST(reimport_and_corrections)
{
    const char *v1 = CREATED_HDR ROW_OK "B1,created,2026-03-02T09:00:00Z,5.00,EUR,5,USDC,ethereum,2026-03-02T10:00:00Z\n";
    const char *v2 = CREATED_HDR "A1,created,2026-03-02T09:00:00Z,12.00,USD,12,USDT,tron,2026-03-02T10:00:00Z\n"
                                 "B1,created,2026-03-02T09:00:00Z,5.00,EUR,5,USDC,ethereum,2026-03-02T10:00:00Z\n"
                                 "C1,fulfilled,2026-03-02T09:00:00Z,,,,,,\n";
    rk_import_result res = RK_IMPORT_RESULT_INIT;
    rk_ledger *l = new_ledger();
    char err[RK_ERROR_SIZE] = "";
    uint64_t seq;

    ck_assert_int_eq(imp(l, C, RK_IMPORT_CSV, 0, v1, &res), RK_OK);
    ck_assert_uint_eq(res.fresh, 2);
    ck_assert_uint_eq(size_of(l), 3);
    rk_import_result_free(&res);

    /* the same file again: nothing new */
    ck_assert_int_eq(imp(l, C, RK_IMPORT_CSV, 0, v1, &res), RK_OK);
    ck_assert_uint_eq(res.rows, 2);
    ck_assert_uint_eq(res.fresh, 0);
    ck_assert_uint_eq(res.unchanged, 2);
    ck_assert_int_eq(res.imported, 1);
    ck_assert_uint_eq(size_of(l), 3);
    rk_import_result_free(&res);

    /* A1 changed: a correction of seq 1; C1 is new */
    ck_assert_int_eq(imp(l, C, RK_IMPORT_CSV, 0, v2, &res), RK_OK);
    ck_assert_uint_eq(res.fresh, 1);
    ck_assert_uint_eq(res.unchanged, 1);
    ck_assert_uint_eq(res.corrections, 1);
    ck_assert_uint_eq(size_of(l), 5);
    ck_assert_str_eq(body_at(l, 3),
                     "{\"correction_of\":1,\"event\":\"created\",\"expected\":{\"amount\":\"12\","
                     "\"asset\":\"USDT\",\"network\":\"tron\"},"
                     "\"expires_at\":\"2026-03-02T10:00:00.000000000Z\","
                     "\"occurred_at\":\"2026-03-02T09:00:00.000000000Z\",\"order\":\"A1\","
                     "\"price\":{\"amount\":\"12.00\",\"currency\":\"USD\"},"
                     "\"row_id\":\"A1:created\",\"v\":1}");
    ck_assert_int_eq(rk_ledger_find_event(l, "commerce-row:A1:created#2", &seq, err), RK_OK);
    ck_assert_uint_eq(seq, 3);
    rk_import_result_free(&res);

    /* v2 again: unchanged (compared with the latest version, not the first) */
    ck_assert_int_eq(imp(l, C, RK_IMPORT_CSV, 0, v2, &res), RK_OK);
    ck_assert_uint_eq(res.unchanged, 3);
    ck_assert_uint_eq(size_of(l), 5);
    rk_import_result_free(&res);

    /* back to v1's A1: a correction of the correction */
    ck_assert_int_eq(imp(l, C, RK_IMPORT_CSV, 0, v1, &res), RK_OK);
    ck_assert_uint_eq(res.corrections, 1);
    ck_assert_uint_eq(res.unchanged, 1);
    ck_assert_uint_eq(size_of(l), 6);
    ck_assert_ptr_nonnull(strstr(body_at(l, 5), "\"correction_of\":3,"));
    ck_assert_int_eq(rk_ledger_find_event(l, "commerce-row:A1:created#3", &seq, err), RK_OK);
    ck_assert_uint_eq(seq, 5);
    rk_import_result_free(&res);

    /* the same row id in the other kind is another row */
    ck_assert_int_eq(imp(l, F, RK_IMPORT_CSV, 0,
                         FIN_HDR "A1:created,A1,4000-revenue,credit,10,USD,,,2026-03-02,2026-03\n",
                         &res),
                     RK_OK);
    ck_assert_uint_eq(res.fresh, 1);
    ck_assert_int_eq(rk_ledger_find_event(l, "finance-row:A1:created#1", &seq, err), RK_OK);
    ck_assert_uint_eq(seq, 6);
    rk_import_result_free(&res);
    rk_ledger_close(l);
}
END_TEST

START_TEST(skip_bad_and_atomicity)
{
    const char *in = CREATED_HDR ROW_OK "A2,created,2026-03-02T09:00:00Z,1.001,USD,1,USDT,tron,2026-03-02T10:00:00Z\n"
                                        "A3,fulfilled,2026-03-02T09:00:00Z,,,,,,\n";
    rk_import_result res = RK_IMPORT_RESULT_INIT;
    rk_import_opts o = { C, RK_IMPORT_CSV, 0, "orders.csv" };
    rk_ledger *l = new_ledger();
    char err[RK_ERROR_SIZE] = "";

    /* one bad row: nothing imported, the ledger unchanged */
    ck_assert_int_eq(rk_import_buffer(l, &o, in, strlen(in), &res, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "orders.csv: 1 bad row, nothing imported");
    ck_assert_uint_eq(res.rows, 3);
    ck_assert_uint_eq(res.bad, 1);
    ck_assert_uint_eq(res.fresh, 0);
    ck_assert_int_eq(res.imported, 0);
    ck_assert_str_eq(res.messages[0],
                     "orders.csv:3: price_amount: amount '1.001': more than 2 fraction digits "
                     "(USD has 2)");
    ck_assert_uint_eq(size_of(l), 1);
    rk_import_result_free(&res);

    /* skip_bad: the good rows go in, the bad one is listed */
    o.skip_bad = 1;
    ck_assert_int_eq(rk_import_buffer(l, &o, in, strlen(in), &res, err), RK_OK);
    ck_assert_uint_eq(res.rows, 3);
    ck_assert_uint_eq(res.fresh, 2);
    ck_assert_uint_eq(res.bad, 1);
    ck_assert_uint_eq(res.nmessages, 1);
    ck_assert_int_eq(res.imported, 1);
    ck_assert_uint_eq(size_of(l), 3);
    rk_import_result_free(&res);

    /* a file-level fault stops even skip_bad */
    ck_assert_int_eq(rk_import_buffer(l, &o, "order,colour\n", 13, &res, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "orders.csv: header: unknown column 'colour'");
    ck_assert_uint_eq(res.nmessages, 1);
    ck_assert_int_eq(res.imported, 0);
    rk_import_result_free(&res);

    /* all rows bad with skip_bad: RK_OK, nothing appended */
    ck_assert_int_eq(rk_import_buffer(l, &o, "order,event,occurred_at\nA,x,y\n", 30, &res, err),
                     RK_OK);
    ck_assert_uint_eq(res.bad, 1);
    ck_assert_uint_eq(res.fresh, 0);
    ck_assert_uint_eq(size_of(l), 3);
    rk_import_result_free(&res);
    rk_ledger_close(l);

    /* a ledger that refuses the append: nothing written, the error returned */
    ck_assert_int_eq(rk_ledger_open(db_path, RK_LEDGER_READONLY, &l, err), RK_OK);
    o.skip_bad = 0;
    in = CREATED_HDR "Z9,created,2026-03-02T09:00:00Z,1,USD,1,USDT,tron,2026-03-02T10:00:00Z\n";
    ck_assert_int_eq(rk_import_buffer(l, &o, in, strlen(in), &res, err), RK_ERR_CLOSED);
    ck_assert_int_eq(res.imported, 0);
    ck_assert_uint_eq(size_of(l), 3);
    rk_import_result_free(&res);
    rk_ledger_close(l);
}
END_TEST

/* ---- files, formats, fiat ------------------------------------------------ */

START_TEST(files_and_formats)
{
    rk_import_result res = RK_IMPORT_RESULT_INIT;
    rk_import_opts o = { C, RK_IMPORT_AUTO, 0, NULL };
    rk_import_format f;
    char err[RK_ERROR_SIZE] = "", path[4300];
    char *dir = rk_test_tmpdir();
    FILE *fp;

    ck_assert_int_eq(rk_import_format_parse("csv", &f), RK_OK);
    ck_assert_int_eq(f, RK_IMPORT_CSV);
    ck_assert_int_eq(rk_import_format_parse("jsonl", &f), RK_OK);
    ck_assert_int_eq(f, RK_IMPORT_JSONL);
    ck_assert_int_eq(rk_import_format_parse("json", &f), RK_OK);
    ck_assert_int_eq(f, RK_IMPORT_JSON);
    ck_assert_int_eq(rk_import_format_parse("xlsx", &f), RK_ERR_INVALID);
    ck_assert_int_eq(rk_import_format_guess("a/Orders.CSV", &f, err), RK_OK);
    ck_assert_int_eq(f, RK_IMPORT_CSV);
    ck_assert_int_eq(rk_import_format_guess("x.ndjson", &f, err), RK_OK);
    ck_assert_int_eq(f, RK_IMPORT_JSONL);
    ck_assert_int_eq(rk_import_format_guess("x.json", &f, err), RK_OK);
    ck_assert_int_eq(f, RK_IMPORT_JSON);
    ck_assert_int_eq(rk_import_format_guess("orders.txt", &f, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "cannot tell the format of 'orders.txt' (use .csv, .jsonl or .json, "
                          "or name it with --format)");

    snprintf(path, sizeof path, "%s/none.csv", dir);
    ck_assert_int_eq(rk_import_file(NULL, &o, path, &res, err), RK_ERR_NOTFOUND);
    snprintf(path, sizeof path, "%s/rows.jsonl", dir);
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs("{\"order\":\"A\",\"event\":\"canceled\",\"occurred_at\":\"2026-03-06T08:00:00Z\"}\n"
          "{\"order\":\"A\",\"event\":\"canceled\",\"occurred_at\":\"2026-03-06\"}\n", fp);
    fclose(fp);
    ck_assert_int_eq(rk_import_file(NULL, &o, path, &res, err), RK_ERR_INVALID);
    ck_assert_uint_eq(res.nmessages, 1);
    ck_assert_ptr_nonnull(strstr(res.messages[0], "/rows.jsonl:2: row id 'A:canceled' is "
                                                  "already used on line 1 with other content"));
    rk_import_result_free(&res);
    o.kind = (rk_import_kind)3;
    ck_assert_int_eq(rk_import_file(NULL, &o, path, &res, err), RK_ERR_INVALID);
    free(dir);

    ck_assert_int_eq(rk_import_fiat_decimals("USD"), 2);
    ck_assert_int_eq(rk_import_fiat_decimals("JPY"), 0);
    ck_assert_int_eq(rk_import_fiat_decimals("KWD"), 3);
    ck_assert_int_eq(rk_import_fiat_decimals("AED"), 2);
    ck_assert_int_eq(rk_import_fiat_decimals("ZWG"), 2);
    ck_assert_int_eq(rk_import_fiat_decimals("BTC"), -1);
    ck_assert_int_eq(rk_import_fiat_decimals("XAU"), -1);
    ck_assert_int_eq(rk_import_fiat_decimals("usd"), -1);
    ck_assert_int_eq(rk_import_fiat_decimals("USDT"), -1);
    ck_assert_int_eq(rk_import_fiat_decimals(NULL), -1);
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("import");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, csv_quotes_commas_newlines_crlf);
    tcase_add_test(tc, csv_structure);
    tcase_add_test(tc, csv_limits);
    tcase_add_test(tc, commerce_errors);
    tcase_add_test(tc, commerce_row_ids);
    tcase_add_test(tc, finance_errors);
    tcase_add_test(tc, finance_body);
    tcase_add_test(tc, json_numbers_as_amounts);
    tcase_add_test(tc, json_errors);
    tcase_add_test(tc, reimport_and_corrections);
    tcase_add_test(tc, skip_bad_and_atomicity);
    tcase_add_test(tc, files_and_formats);
    suite_add_tcase(s, tc);
    return s;
}
