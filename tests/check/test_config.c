/* test_config.c - server configuration: defaults, every validation error, secrets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "config.h"

static char *dir;

static void write_file(const char *name, const char *text)
{
    char p[4200];
    FILE *f;

    snprintf(p, sizeof p, "%s/%s", dir, name);
    f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void setup(void)
{
    dir = rk_test_tmpdir();
    ck_assert_ptr_nonnull(dir);
    write_file("cb.secret", "cb-secret\n");
    write_file("sw.secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    write_file("empty.secret", "\n");
    setenv("RK_TEST_SECRET", "env-secret", 1);
    setenv("RK_TEST_SW", "whsec_ZW52c2VjcmV0", 1);
    unsetenv("RK_TEST_UNSET");
}

static void teardown(void)
{
    free(dir);
}

#define EP "\"endpoints\":{\"cb\":{\"provider\":\"coinbase-commerce\",\"secrets\":[{\"file\":\"cb.secret\"}]}}"

static rk_err parse(const char *text, rk_config **c, char *err)
{
    return rk_config_parse(text, strlen(text), dir, c, err);
}

START_TEST(defaults)
{
    char err[RK_ERROR_SIZE] = "";
    rk_config *c = NULL;
    const rk_config_endpoint *e;

    ck_assert_msg(parse("{" EP "}", &c, err) == RK_OK, "%s", err);
    ck_assert_str_eq(c->listen, "127.0.0.1:8080");
    ck_assert_int_eq(c->family, AF_INET);
    ck_assert_int_eq(c->port, 8080);
    ck_assert_int_eq(c->addr[0], 127);
    ck_assert_uint_eq(c->body_limit, 1024 * 1024);
    ck_assert_int_eq(c->tolerance, 300);
    ck_assert_uint_eq(c->threads, RK_CONFIG_DEFAULT_THREADS);
    ck_assert_int_eq(c->thread_per_connection, 0);
    ck_assert_ptr_null(c->checkpoint_key);
    ck_assert_ptr_null(c->api_keys);
    ck_assert_uint_eq(c->rejects_per_minute, RK_CONFIG_DEFAULT_REJECTS);
    e = rk_config_endpoint_find(c, "cb");
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_null(rk_config_endpoint_find(c, "CB"));
    ck_assert_str_eq(e->provider, "coinbase-commerce");
    ck_assert_int_eq(e->params.scheme, RK_SIG_COINBASE_COMMERCE);
    ck_assert_int_eq(e->params.tolerance, 300);
    /* one trailing newline of a secret file is dropped */
    ck_assert_uint_eq(e->nsecrets, 1);
    ck_assert_uint_eq(e->secrets[0].len, 9);
    ck_assert(memcmp(e->secrets[0].bytes, "cb-secret", 9) == 0);
    rk_config_free(c);
    rk_config_free(NULL);
}
END_TEST

START_TEST(full)
{
    char err[RK_ERROR_SIZE] = "";
    rk_config *c = NULL;
    const rk_config_endpoint *e;
    char text[4096];

    snprintf(text, sizeof text,
             "{\"listen\":\"[::1]:0\",\"threads\":8,\"thread_per_connection\":true,"
             "\"body_limit\":4096,\"timestamp_tolerance\":60,"
             "\"checkpoint\":{\"key\":\"cp.key\",\"every_records\":100,\"every_seconds\":30},"
             "\"reject_flood\":{\"per_peer_per_minute\":0},\"api_keys\":\"/abs/keys.json\","
             "\"endpoints\":{"
             "\"sw\":{\"provider\":\"generic\",\"scheme\":\"standard-webhooks\","
             "\"secrets\":[{\"file\":\"sw.secret\"},{\"env\":\"RK_TEST_SW\"}]},"
             "\"g\":{\"provider\":\"generic\",\"scheme\":\"hmac\",\"tolerance\":5,"
             "\"hmac\":{\"header\":\"X-Sig\",\"alg\":\"sha512\",\"encoding\":\"base64\","
             "\"prefix\":\"v=\",\"timestamp_header\":\"X-Ts\"},"
             "\"secrets\":[{\"env\":\"RK_TEST_SECRET\"}]}}}");
    ck_assert_msg(parse(text, &c, err) == RK_OK, "%s", err);
    ck_assert_int_eq(c->family, AF_INET6);
    ck_assert_int_eq(c->port, 0);
    ck_assert_int_eq(c->addr[15], 1);
    ck_assert_uint_eq(c->threads, 8);
    ck_assert_int_eq(c->thread_per_connection, 1);
    ck_assert_uint_eq(c->body_limit, 4096);
    ck_assert_int_eq(c->tolerance, 60);
    ck_assert_uint_eq(c->checkpoint_records, 100);
    ck_assert_uint_eq(c->checkpoint_seconds, 30);
    ck_assert_uint_eq(c->rejects_per_minute, 0);
    /* relative paths start at the configuration's directory */
    ck_assert(strncmp(c->checkpoint_key, dir, strlen(dir)) == 0);
    ck_assert_str_eq(c->checkpoint_key + strlen(dir), "/cp.key");
    ck_assert_str_eq(c->api_keys, "/abs/keys.json");
    ck_assert_uint_eq(c->nendpoints, 2);
    e = rk_config_endpoint_find(c, "sw");
    ck_assert_int_eq(e->params.scheme, RK_SIG_STANDARD_WEBHOOKS);
    ck_assert_int_eq(e->params.tolerance, 60);
    ck_assert_uint_eq(e->nsecrets, 2);
    ck_assert(memcmp(e->secrets[1].bytes, "whsec_ZW52c2VjcmV0", 18) == 0);
    e = rk_config_endpoint_find(c, "g");
    ck_assert_int_eq(e->params.scheme, RK_SIG_HMAC);
    ck_assert_int_eq(e->params.tolerance, 5);
    ck_assert_str_eq(e->params.hmac.header, "X-Sig");
    ck_assert_int_eq(e->params.hmac.alg, RK_SIG_SHA512);
    ck_assert_int_eq(e->params.hmac.encoding, RK_SIG_BASE64);
    ck_assert_str_eq(e->params.hmac.prefix, "v=");
    ck_assert_str_eq(e->params.hmac.ts_header, "X-Ts");
    rk_config_free(c);
}
END_TEST

struct bad {
    const char *text;
    rk_err rc;
    const char *msg; /* the whole message */
};

#define CB(extra) "\"endpoints\":{\"cb\":{\"provider\":\"coinbase-commerce\"," extra "}}"
#define S "\"secrets\":[{\"file\":\"cb.secret\"}]"

static const struct bad bads[] = {
    { "", RK_ERR_INVALID, NULL },
    { "[]", RK_ERR_INVALID, "the configuration must be a JSON object" },
    { "{\"a\":1,\"a\":2}", RK_ERR_INVALID, NULL },
    { "{\"listn\":\"x\"," EP "}", RK_ERR_INVALID, "listn: unknown member" },
    { "{}", RK_ERR_INVALID, "endpoints: required" },
    { "{\"endpoints\":{}}", RK_ERR_INVALID, "endpoints: must be an object of 1 to 256 endpoints" },
    { "{\"endpoints\":[]}", RK_ERR_INVALID, "endpoints: must be an object of 1 to 256 endpoints" },
    { "{\"listen\":1," EP "}", RK_ERR_INVALID, "listen: must be a non-empty string" },
    { "{\"listen\":\"\"," EP "}", RK_ERR_INVALID, "listen: must be a non-empty string" },
    { "{\"listen\":\"localhost:80\"," EP "}", RK_ERR_INVALID,
      "listen: must be IPV4:PORT or [IPV6]:PORT with a numeric address and a port from 0 to 65535" },
    { "{\"listen\":\"127.0.0.1\"," EP "}", RK_ERR_INVALID, NULL },
    { "{\"listen\":\"127.0.0.1:65536\"," EP "}", RK_ERR_INVALID, NULL },
    { "{\"listen\":\"127.0.0.1:-1\"," EP "}", RK_ERR_INVALID, NULL },
    { "{\"listen\":\"127.0.0.1:8x\"," EP "}", RK_ERR_INVALID, NULL },
    { "{\"listen\":\"[::1:80\"," EP "}", RK_ERR_INVALID, NULL },
    { "{\"listen\":\"::1:80\"," EP "}", RK_ERR_INVALID, NULL },
    { "{\"threads\":0," EP "}", RK_ERR_INVALID, "threads: must be an integer from 1 to 1024" },
    { "{\"threads\":1025," EP "}", RK_ERR_INVALID, "threads: must be an integer from 1 to 1024" },
    { "{\"threads\":\"4\"," EP "}", RK_ERR_INVALID, "threads: must be an integer from 1 to 1024" },
    { "{\"threads\":1.5," EP "}", RK_ERR_INVALID, "threads: must be an integer from 1 to 1024" },
    { "{\"thread_per_connection\":1," EP "}", RK_ERR_INVALID,
      "thread_per_connection: must be true or false" },
    { "{\"body_limit\":0," EP "}", RK_ERR_INVALID,
      "body_limit: must be an integer from 1 to 16777216" },
    { "{\"body_limit\":16777217," EP "}", RK_ERR_INVALID,
      "body_limit: must be an integer from 1 to 16777216" },
    { "{\"timestamp_tolerance\":-1," EP "}", RK_ERR_INVALID,
      "timestamp_tolerance: must be an integer from 0 to 31622400" },
    { "{\"checkpoint\":1," EP "}", RK_ERR_INVALID, "checkpoint: must be an object" },
    { "{\"checkpoint\":{\"every_records\":5}," EP "}", RK_ERR_INVALID, "checkpoint.key: required" },
    { "{\"checkpoint\":{\"key\":\"k\"}," EP "}", RK_ERR_INVALID,
      "checkpoint: needs every_records, every_seconds or both" },
    { "{\"checkpoint\":{\"key\":\"k\",\"every_records\":0}," EP "}", RK_ERR_INVALID,
      "checkpoint.every_records: must be an integer from 1 to 4294967295" },
    { "{\"checkpoint\":{\"key\":\"k\",\"every_seconds\":0}," EP "}", RK_ERR_INVALID,
      "checkpoint.every_seconds: must be an integer from 1 to 31622400" },
    { "{\"checkpoint\":{\"key\":\"k\",\"every\":1}," EP "}", RK_ERR_INVALID,
      "checkpoint.every: unknown member" },
    { "{\"reject_flood\":[]," EP "}", RK_ERR_INVALID, "reject_flood: must be an object" },
    { "{\"reject_flood\":{\"per_minute\":3}," EP "}", RK_ERR_INVALID,
      "reject_flood.per_minute: unknown member" },
    { "{\"reject_flood\":{\"per_peer_per_minute\":-3}," EP "}", RK_ERR_INVALID,
      "reject_flood.per_peer_per_minute: must be an integer from 0 to 1000000" },
    { "{\"api_keys\":\"\"," EP "}", RK_ERR_INVALID, "api_keys: must be a non-empty string" },
    { "{\"endpoints\":{\"a/b\":{}}}", RK_ERR_INVALID,
      "endpoints.a/b: endpoint names are 1 to 64 characters of A-Z a-z 0-9 . _ -" },
    { "{\"endpoints\":{\"\":{}}}", RK_ERR_INVALID,
      "endpoints.: endpoint names are 1 to 64 characters of A-Z a-z 0-9 . _ -" },
    { "{\"endpoints\":{\"cb\":1}}", RK_ERR_INVALID, "endpoints.cb: must be an object" },
    { "{\"endpoints\":{\"cb\":{" S "}}}", RK_ERR_INVALID, "endpoints.cb.provider: required" },
    { "{\"endpoints\":{\"cb\":{\"provider\":\"stripe\"," S "}}}", RK_ERR_INVALID,
      "endpoints.cb.provider: 'stripe' is not one of coinbase-commerce, btcpay, nowpayments, generic" },
    { "{\"endpoints\":{\"cb\":{\"provider\":\"generic\"," S "}}}", RK_ERR_INVALID,
      "endpoints.cb.scheme: required for provider generic" },
    { "{" CB("\"scheme\":\"rot13\"," S) "}", RK_ERR_INVALID,
      "endpoints.cb.scheme: 'rot13' is not one of standard-webhooks, stripe, coinbase-commerce, "
      "btcpay, nowpayments, hmac" },
    { "{" CB("\"secret\":\"x\"," S) "}", RK_ERR_INVALID, "endpoints.cb.secret: unknown member" },
    { "{" CB("\"tolerance\":-5," S) "}", RK_ERR_INVALID,
      "endpoints.cb.tolerance: must be an integer from 0 to 31622400" },
    { "{" CB("\"scheme\":\"hmac\"," S) "}", RK_ERR_INVALID,
      "endpoints.cb.hmac: required for scheme hmac" },
    { "{" CB("\"hmac\":{\"header\":\"X\"}," S) "}", RK_ERR_INVALID,
      "endpoints.cb.hmac: only for scheme hmac" },
    { "{" CB("\"scheme\":\"hmac\",\"hmac\":[]," S) "}", RK_ERR_INVALID,
      "endpoints.cb.hmac: must be an object" },
    { "{" CB("\"scheme\":\"hmac\",\"hmac\":{}," S) "}", RK_ERR_INVALID,
      "endpoints.cb.hmac.header: required" },
    { "{" CB("\"scheme\":\"hmac\",\"hmac\":{\"header\":\"X\",\"alg\":\"md5\"}," S) "}",
      RK_ERR_INVALID, "endpoints.cb.hmac.alg: must be \"sha256\" or \"sha512\"" },
    { "{" CB("\"scheme\":\"hmac\",\"hmac\":{\"header\":\"X\",\"encoding\":\"b32\"}," S) "}",
      RK_ERR_INVALID, "endpoints.cb.hmac.encoding: must be \"hex\" or \"base64\"" },
    { "{" CB("\"scheme\":\"hmac\",\"hmac\":{\"header\":\"X\",\"prefix\":\"\"}," S) "}",
      RK_ERR_INVALID, "endpoints.cb.hmac.prefix: must be a non-empty string" },
    { "{" CB("\"scheme\":\"hmac\",\"hmac\":{\"header\":\"X\",\"timestamp_header\":7}," S) "}",
      RK_ERR_INVALID, "endpoints.cb.hmac.timestamp_header: must be a non-empty string" },
    { "{" CB("\"scheme\":\"hmac\",\"hmac\":{\"header\":\"X\",\"salt\":\"y\"}," S) "}",
      RK_ERR_INVALID, "endpoints.cb.hmac.salt: unknown member" },
    { "{" CB("\"scheme\":\"hmac\",\"hmac\":{\"header\":\"Bad Header\"}," S) "}",
      RK_ERR_INVALID, "endpoints.cb: bad signature parameters for scheme hmac" },
    { "{" CB("\"x\":1") "}", RK_ERR_INVALID, "endpoints.cb.x: unknown member" },
    { "{" CB("\"tolerance\":1") "}", RK_ERR_INVALID, "endpoints.cb.secrets: required" },
    { "{" CB("\"secrets\":[]") "}", RK_ERR_INVALID,
      "endpoints.cb.secrets: must be an array of 1 to 16 secrets" },
    { "{" CB("\"secrets\":{}") "}", RK_ERR_INVALID,
      "endpoints.cb.secrets: must be an array of 1 to 16 secrets" },
    { "{" CB("\"secrets\":[\"inline-secret\"]") "}", RK_ERR_INVALID,
      "endpoints.cb.secrets[0]: must be {\"file\": PATH} or {\"env\": VARIABLE}; "
      "secrets are never written in the configuration" },
    { "{" CB("\"secrets\":[{\"value\":\"inline\"}]") "}", RK_ERR_INVALID,
      "endpoints.cb.secrets[0].value: unknown member" },
    { "{" CB("\"secrets\":[{}]") "}", RK_ERR_INVALID,
      "endpoints.cb.secrets[0]: needs exactly one of \"file\" and \"env\"" },
    { "{" CB("\"secrets\":[{\"file\":\"cb.secret\",\"env\":\"RK_TEST_SECRET\"}]") "}",
      RK_ERR_INVALID, "endpoints.cb.secrets[0]: needs exactly one of \"file\" and \"env\"" },
    { "{" CB("\"secrets\":[{\"env\":\"RK_TEST_SECRET\"},{\"env\":\"RK_TEST_UNSET\"}]") "}",
      RK_ERR_INVALID, "endpoints.cb.secrets[1].env: variable 'RK_TEST_UNSET' is not set or empty" },
    { "{" CB("\"secrets\":[{\"env\":\"\"}]") "}", RK_ERR_INVALID,
      "endpoints.cb.secrets[0].env: must be a non-empty string" },
    { "{" CB("\"secrets\":[{\"file\":\"empty.secret\"}]") "}", RK_ERR_INVALID, NULL },
    { "{" CB("\"secrets\":[{\"file\":\"missing.secret\"}]") "}", RK_ERR_NOTFOUND, NULL },
    { "{\"endpoints\":{\"sw\":{\"provider\":\"generic\",\"scheme\":\"standard-webhooks\","
      "\"secrets\":[{\"file\":\"sw.secret\"},{\"file\":\"cb.secret\"}]}}}", RK_ERR_INVALID,
      "endpoints.sw.secrets: a secret has the wrong format for scheme standard-webhooks" },
};

START_TEST(invalid)
{
    char err[RK_ERROR_SIZE];
    rk_config *c = (rk_config *)1;
    const struct bad *b = &bads[_i];
    rk_err rc;

    err[0] = '\0';
    rc = parse(b->text, &c, err);
    ck_assert_msg(rc == b->rc, "case %d: rc %d (%s), want %d", _i, rc, err, b->rc);
    ck_assert_ptr_null(c);
    if (b->msg != NULL)
        ck_assert_msg(strcmp(err, b->msg) == 0, "case %d: '%s', want '%s'", _i, err, b->msg);
    /* no secret ever appears in a message */
    ck_assert_ptr_null(strstr(err, "cb-secret"));
    ck_assert_ptr_null(strstr(err, "env-secret"));
}
END_TEST

START_TEST(load_file)
{
    char err[RK_ERROR_SIZE] = "", p[4200], big[RK_CONFIG_MAX_SECRET + 10];
    rk_config *c = NULL;

    write_file("ok.json", "{" EP "}");
    snprintf(p, sizeof p, "%s/ok.json", dir);
    ck_assert_msg(rk_config_load(p, &c, err) == RK_OK, "%s", err);
    rk_config_free(c);
    snprintf(p, sizeof p, "%s/none.json", dir);
    ck_assert_int_eq(rk_config_load(p, &c, err), RK_ERR_NOTFOUND);
    ck_assert_ptr_null(c);
    /* messages name the file */
    write_file("bad.json", "{\"threads\":0," EP "}");
    snprintf(p, sizeof p, "%s/bad.json", dir);
    ck_assert_int_eq(rk_config_load(p, &c, err), RK_ERR_INVALID);
    ck_assert(strstr(err, "bad.json': threads: must be") != NULL);
    /* a secret file larger than the limit */
    memset(big, 'k', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    write_file("big.secret", big);
    write_file("big.json", "{" CB("\"secrets\":[{\"file\":\"big.secret\"}]") "}");
    snprintf(p, sizeof p, "%s/big.json", dir);
    ck_assert_int_eq(rk_config_load(p, &c, err), RK_ERR_TOOBIG);
    /* an unreadable secret file is named by its member path */
    snprintf(p, sizeof p, "%s/cb.secret", dir);
    chmod(p, 0);
    if (getuid() != 0) {
        snprintf(p, sizeof p, "%s/ok.json", dir);
        ck_assert_int_eq(rk_config_load(p, &c, err), RK_ERR_IO);
        ck_assert(strstr(err, "endpoints.cb.secrets[0].file: cannot open") != NULL);
    }
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, full);
    tcase_add_loop_test(tc, invalid, 0, (int)(sizeof bads / sizeof bads[0]));
    tcase_add_test(tc, load_file);
    suite_add_tcase(s, tc);
    return s;
}
