/* test_canon.c - strict JSON parsing, exact number text, canonical JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "plain_rule.h"
#include "check_main.h"
#include "cjson_same.h"

/* Canonical form of text (flags), expecting success; static result. */
static const char *canon_flags(const char *text, size_t len, unsigned flags)
{
    static char out[4096];
    char err[RK_ERROR_SIZE] = "";
    rk_buf b = RK_BUF_INIT;
    cJSON *root = NULL;
    rk_err rc = rk_json_parse(text, len, &root, err);

    ck_assert_msg(rc == RK_OK, "parse '%s': %s", text, err);
    rc = rk_canon_write(root, flags, &b, err);
    ck_assert_msg(rc == RK_OK, "write '%s': %s", text, err);
    ck_assert_uint_lt(b.len, sizeof out);
    memcpy(out, b.data, b.len);
    out[b.len] = '\0';
    ck_assert_uint_eq(strlen(out), b.len);
    rk_buf_free(&b);
    cJSON_Delete(root);
    return out;
}

static const char *canon(const char *text)
{
    return canon_flags(text, strlen(text), 0);
}

/* rk_canon_normalize of text must fail with code and a message containing needle. */
static void bad_len(const char *text, size_t len, rk_err code, const char *needle)
{
    char err[RK_ERROR_SIZE] = "";
    rk_buf b = RK_BUF_INIT;
    cJSON *root = (cJSON *)&b; /* must stay untouched */
    rk_err rc;

    rc = rk_canon_normalize(text, len, &b, err);
    ck_assert_msg(rc == code, "'%.*s': got %d want %d (%s)", (int)len, text, rc, code, err);
    ck_assert_msg(strstr(err, needle) != NULL, "'%.*s': message '%s' lacks '%s'", (int)len,
                  text, err, needle);
    ck_assert_uint_eq(b.len, 0);
    rk_buf_free(&b);
    if (code != RK_ERR_INVALID || strstr(err, "canon:") == NULL) {
        ck_assert_int_eq(rk_json_parse(text, len, &root, NULL), code);
        ck_assert_ptr_eq(root, (cJSON *)&b);
    }
}

static void bad(const char *text, rk_err code, const char *needle)
{
    bad_len(text, strlen(text), code, needle);
}

START_TEST(key_sorting)
{
    /* bytewise: "" < "A" < "a" < "aa" < "b" < "z" < U+00E4 < U+00E9 < U+20AC
     * < U+FF61 (EF BD A1) < U+1F600 (F0 9F 98 80); UTF-16 order would put
     * U+1F600 (D83D) before U+FF61 */
    ck_assert_str_eq(canon("{\"b\":1,\"a\":2,\"aa\":3,\"A\":4,\"\xc3\xa9\":5,\"z\":6,\"\":7,"
                           "\"\xf0\x9f\x98\x80\":8,\"\xef\xbd\xa1\":9,\"\xe2\x82\xac\":10,"
                           "\"\xc3\xa4\":11}"),
                     "{\"\":7,\"A\":4,\"a\":2,\"aa\":3,\"b\":1,\"z\":6,\"\xc3\xa4\":11,"
                     "\"\xc3\xa9\":5,\"\xe2\x82\xac\":10,\"\xef\xbd\xa1\":9,"
                     "\"\xf0\x9f\x98\x80\":8}");
    /* a key that is a prefix of another sorts first; escapes count after decoding */
    ck_assert_str_eq(canon("{\"ab\":1,\"a\\u0062c\":2,\"a\":3}"), "{\"a\":3,\"ab\":1,\"abc\":2}");
    ck_assert_str_eq(canon("{\"a_b\":1,\"aB\":2,\"a-b\":3}"), "{\"a-b\":3,\"aB\":2,\"a_b\":1}");
}
END_TEST

START_TEST(escapes)
{
    /* every short escape, controls as \u00xx lowercase, '/' and DEL raw,
     * \u escapes of printable characters written raw */
    ck_assert_str_eq(canon("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0001\\u001F\\u007f\\u00e9"
                           "\\ud83d\\ude00 /\\u0041\""),
                     "\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\xc3\xa9\xf0\x9f\x98\x80 /A\"");
    /* raw UTF-8 stays raw */
    ck_assert_str_eq(canon("[\"\xe2\x82\xac \xc3\xa9\"]"), "[\"\xe2\x82\xac \xc3\xa9\"]");
    /* escapes in keys too */
    ck_assert_str_eq(canon("{\"a\\nb\":\"\\u000b\"}"), "{\"a\\nb\":\"\\u000b\"}");
    ck_assert_str_eq(canon("\"\""), "\"\"");
}
END_TEST

START_TEST(nested)
{
    ck_assert_str_eq(canon(" { \"z\" : [ 1 , { \"y\" : [ ] , \"x\" : { } } , [ [ ] ] , true ,"
                           " false , null , \"s\" ] ,\r\n\t\"a\" : { \"c\" : 0 , \"b\" : -5 } } "),
                     "{\"a\":{\"b\":-5,\"c\":0},\"z\":[1,{\"x\":{},\"y\":[]},[[]],true,false,"
                     "null,\"s\"]}");
    /* the example of formats/canonical-json.md */
    ck_assert_str_eq(canon("{ \"z\": [1, {\"y\": [], \"x\": {}}, true, null, \"a\\/b\\u00e9\"],\n"
                           "  \"a\": {\"c\": 0, \"b\": -5}, \"amount\": \"10.50\" }\n"),
                     "{\"a\":{\"b\":-5,\"c\":0},\"amount\":\"10.50\",\"z\":[1,{\"x\":{},\"y\":[]},"
                     "true,null,\"a/b\xc3\xa9\"]}");
    ck_assert_str_eq(canon("[]"), "[]");
    ck_assert_str_eq(canon("{}"), "{}");
    ck_assert_str_eq(canon("null"), "null");
    ck_assert_str_eq(canon("-42"), "-42");
    ck_assert_str_eq(canon("[9223372036854775807,-9223372036854775807,0]"),
                     "[9223372036854775807,-9223372036854775807,0]");
}
END_TEST

START_TEST(duplicate_keys)
{
    bad("{\"a\":1,\"a\":2}", RK_ERR_INVALID, "json: $.a: duplicate key");
    bad("{\"x\":[{\"k\":1,\"b\":0,\"k\":true}]}", RK_ERR_INVALID, "$.x[0].k: duplicate key");
    /* the same key spelled with an escape */
    bad("{\"a\":1,\"\\u0061\":2}", RK_ERR_INVALID, "$.a: duplicate key");
    bad("{\"a b\":1,\"a b\":2}", RK_ERR_INVALID, "$[\"a b\"]: duplicate key");
    /* the same key in different objects is fine */
    ck_assert_str_eq(canon("{\"a\":{\"a\":1},\"b\":{\"a\":2}}"), "{\"a\":{\"a\":1},\"b\":{\"a\":2}}");
}
END_TEST

START_TEST(numbers_rejected)
{
    bad("{\"fee\":{\"depositFee\":0.0985}}", RK_ERR_INVALID,
        "canon: $.fee.depositFee: number 0.0985 is not a canonical integer");
    bad("{\"fee\":{\"depositFee\":0.0985}}", RK_ERR_INVALID, "write amounts as strings");
    bad("[1,[2,1e5]]", RK_ERR_INVALID, "$[1][1]: number 1e5");
    bad("[1.0]", RK_ERR_INVALID, "$[0]: number 1.0");
    bad("[-0]", RK_ERR_INVALID, "$[0]: number -0 ");
    bad("{\"n\":9223372036854775808}", RK_ERR_INVALID, "$.n: number 9223372036854775808");
    bad("{\"n\":-9223372036854775808}", RK_ERR_INVALID, "$.n: number -9223372036854775808");
    bad("{\"n\":10000000000000000000}", RK_ERR_INVALID, "$.n: number");
    bad("{\"odd key\":1E2}", RK_ERR_INVALID, "$[\"odd key\"]: number 1E2");
}
END_TEST

START_TEST(any_number)
{
    const char *in = "{\"b\":0.00123,\"a\":1e5,\"c\":-0,\"d\":1E+2,\"e\":[-1.50e-7,100]}";

    ck_assert_str_eq(canon_flags(in, strlen(in), RK_CANON_ANY_NUMBER),
                     "{\"a\":1e5,\"b\":0.00123,\"c\":-0,\"d\":1E+2,\"e\":[-1.50e-7,100]}");
}
END_TEST

static const cJSON *at(const cJSON *o, const char *k)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, k);

    ck_assert_msg(c != NULL, "no member '%s'", k);
    return c;
}

/* Numbers inside strings, escaped quotes and brackets must not shift the
 * assignment of texts to number nodes. */
START_TEST(number_text_order)
{
    const char *doc =
        "{\"s\":\"a1.5\",\"q\":\"he said \\\"2.5\\\" [3] {4}\",\"n\":[1.25,{\"m\":-3e2,"
        "\"t\":\"x\\\\\\\"4\\\\\",\"u\":0.10},[7,[0.5,\"6\"]]],\"k\\\"9\":10,\"z\":11.0,"
        "\"w\":\"\\u0031\"}";
    char err[RK_ERROR_SIZE] = "";
    cJSON *root = NULL, *dup;
    const cJSON *n;

    ck_assert_int_eq(rk_json_parse(doc, strlen(doc), &root, err), RK_OK);
    ck_assert_str_eq(cJSON_GetStringValue(at(root, "s")), "a1.5");
    ck_assert_str_eq(cJSON_GetStringValue(at(root, "q")), "he said \"2.5\" [3] {4}");
    ck_assert_ptr_null(rk_json_number_text(at(root, "s")));
    n = at(root, "n");
    ck_assert_str_eq(rk_json_number_text(cJSON_GetArrayItem(n, 0)), "1.25");
    ck_assert_str_eq(rk_json_number_text(at(cJSON_GetArrayItem(n, 1), "m")), "-3e2");
    ck_assert_str_eq(cJSON_GetStringValue(at(cJSON_GetArrayItem(n, 1), "t")), "x\\\"4\\");
    ck_assert_str_eq(rk_json_number_text(at(cJSON_GetArrayItem(n, 1), "u")), "0.10");
    ck_assert_str_eq(rk_json_number_text(cJSON_GetArrayItem(cJSON_GetArrayItem(n, 2), 0)), "7");
    ck_assert_str_eq(rk_json_number_text(
                         cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetArrayItem(n, 2), 1), 0)),
                     "0.5");
    ck_assert_str_eq(rk_json_number_text(at(root, "k\"9")), "10");
    ck_assert_str_eq(rk_json_number_text(at(root, "z")), "11.0");
    ck_assert_str_eq(cJSON_GetStringValue(at(root, "w")), "1");
    ck_assert_ptr_null(rk_json_number_text(root));
    ck_assert_ptr_null(rk_json_number_text(NULL));
    /* cJSON_Duplicate copies the text; both trees free cleanly (ASan/valgrind) */
    dup = cJSON_Duplicate(root, 1);
    ck_assert_ptr_nonnull(dup);
    ck_assert_str_eq(rk_json_number_text(at(dup, "z")), "11.0");
    cJSON_Delete(root);
    ck_assert_str_eq(rk_json_number_text(at(dup, "z")), "11.0");
    cJSON_Delete(dup);
    /* same document through the ANY_NUMBER writer */
    ck_assert_str_eq(canon_flags(doc, strlen(doc), RK_CANON_ANY_NUMBER),
                     "{\"k\\\"9\":10,\"n\":[1.25,{\"m\":-3e2,\"t\":\"x\\\\\\\"4\\\\\",\"u\":0.10},"
                     "[7,[0.5,\"6\"]]],\"q\":\"he said \\\"2.5\\\" [3] {4}\",\"s\":\"a1.5\","
                     "\"w\":\"1\",\"z\":11.0}");
    /* a bare number at the top */
    ck_assert_str_eq(canon_flags(" 0.5 ", 5, RK_CANON_ANY_NUMBER), "0.5");
}
END_TEST

START_TEST(invalid_utf8)
{
    static const char *const cases[] = {
        "\"\xff\"",             /* never valid */
        "\"\xc0\xaf\"",         /* overlong '/' */
        "\"\xe0\x80\xaf\"",     /* overlong, 3 bytes */
        "\"\xed\xa0\x80\"",     /* surrogate D800 */
        "\"\xe2\x82\"",         /* truncated */
        "\"\xf4\x90\x80\x80\"", /* above U+10FFFF */
        "\"\x80\"",             /* lone continuation */
        "{\"\xc3\":1}",         /* in a key */
        "[\"ok\",\"\xf0\x9f\x98\"]",
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        bad(cases[i], RK_ERR_INVALID, "invalid utf-8 in string");
    bad("\"\\ud800\"", RK_ERR_INVALID, "unpaired surrogate");
    bad("\"\\ud800\\u0041\"", RK_ERR_INVALID, "unpaired surrogate");
    bad("\"\\udc00\"", RK_ERR_INVALID, "unpaired surrogate");
    bad("\"a\\u0000b\"", RK_ERR_INVALID, "\\u0000 in string is not supported");
    /* a byte outside strings is a syntax error */
    bad("[\xc3\xa9]", RK_ERR_INVALID, "unexpected character");
    /* the edges that are valid */
    ck_assert_str_eq(canon("\"\xf4\x8f\xbf\xbf\xed\x9f\xbf\xee\x80\x80\xc2\x80\""),
                     "\"\xf4\x8f\xbf\xbf\xed\x9f\xbf\xee\x80\x80\xc2\x80\"");
}
END_TEST

START_TEST(syntax_errors)
{
    bad("{\"a\":}", RK_ERR_INVALID, "unexpected character at line 1 column 6");
    bad("[1,]", RK_ERR_INVALID, "unexpected character");
    bad("{\"a\" 1}", RK_ERR_INVALID, "expected ':'");
    bad("{\"a\":1,}", RK_ERR_INVALID, "expected a string key");
    bad("{'a':1}", RK_ERR_INVALID, "expected a string key");
    bad("[1 2]", RK_ERR_INVALID, "expected ',' or ']'");
    bad("01", RK_ERR_INVALID, "leading zero");
    bad("[-01]", RK_ERR_INVALID, "leading zero");
    bad("1.", RK_ERR_INVALID, "invalid number");
    bad("[.5]", RK_ERR_INVALID, "unexpected character");
    bad("+1", RK_ERR_INVALID, "unexpected character");
    bad("-", RK_ERR_INVALID, "invalid number");
    bad("1e", RK_ERR_INVALID, "invalid number");
    bad("0x10", RK_ERR_INVALID, "trailing characters");
    bad("tru", RK_ERR_INVALID, "invalid literal");
    bad("nul", RK_ERR_INVALID, "invalid literal");
    bad("NaN", RK_ERR_INVALID, "unexpected character");
    bad("[Infinity]", RK_ERR_INVALID, "unexpected character");
    bad("\"abc", RK_ERR_INVALID, "unterminated string at end of input");
    bad("\"a\\", RK_ERR_INVALID, "unterminated string");
    bad("\"a\tb\"", RK_ERR_INVALID, "control character in string");
    bad("\"\\x41\"", RK_ERR_INVALID, "invalid escape");
    bad("\"\\u12g4\"", RK_ERR_INVALID, "invalid \\u escape");
    bad("\"\\u12\"", RK_ERR_INVALID, "invalid \\u escape");
    bad("[1,\n  2,\n  x]", RK_ERR_INVALID, "unexpected character at line 3 column 3");
    bad("\xef\xbb\xbf{}", RK_ERR_INVALID, "byte order mark");
    bad("{\v}", RK_ERR_INVALID, "expected a string key");
    bad("[", RK_ERR_INVALID, "expected a value at end of input");
    bad("{\"a\":1", RK_ERR_INVALID, "expected ',' or '}' after member at end of input");
    /* a number literal longer than cJSON can read */
    {
        char lit[RK_JSON_NUMBER_MAX + 8];

        memset(lit, '0', sizeof lit);
        lit[0] = '[';
        lit[2] = '.';
        lit[RK_JSON_NUMBER_MAX] = '1'; /* "[0.00..01" is '[' + 63 bytes */
        lit[RK_JSON_NUMBER_MAX + 1] = ']';
        lit[RK_JSON_NUMBER_MAX + 2] = '\0';
        ck_assert_str_eq(canon_flags(lit, strlen(lit), RK_CANON_ANY_NUMBER), lit);
        lit[RK_JSON_NUMBER_MAX + 1] = '2';
        lit[RK_JSON_NUMBER_MAX + 2] = ']';
        lit[RK_JSON_NUMBER_MAX + 3] = '\0';
        bad(lit, RK_ERR_TOOBIG, "longer than 63 characters (write amounts as strings) at line 1 "
                                "column 2");
    }
}
END_TEST

START_TEST(trailing_and_empty)
{
    bad("{} x", RK_ERR_INVALID, "trailing characters after the document at line 1 column 4");
    bad("{}{}", RK_ERR_INVALID, "trailing characters");
    bad("1 2", RK_ERR_INVALID, "trailing characters");
    bad_len("{}\0", 3, RK_ERR_INVALID, "trailing characters");
    bad_len("{\"a\":\"b\0c\"}", 10, RK_ERR_INVALID, "control character in string");
    bad("", RK_ERR_INVALID, "json: empty input");
    bad(" \n\t\r ", RK_ERR_INVALID, "json: empty input");
    bad_len(NULL, 0, RK_ERR_INVALID, "json: empty input");
    ck_assert_str_eq(canon(" \n{}\r\n\t "), "{}");
    /* only `len` bytes are read */
    ck_assert_str_eq(canon_flags("[1]garbage", 3, 0), "[1]");
}
END_TEST

static char *nest(int depth, const char *open, const char *inner, const char *close)
{
    size_t lo = strlen(open), li = strlen(inner), lc = strlen(close);
    char *s = malloc((lo + lc) * (size_t)depth + li + 1), *p;
    int i;

    ck_assert_ptr_nonnull(s);
    p = s;
    for (i = 0; i < depth; i++, p += lo)
        memcpy(p, open, lo);
    memcpy(p, inner, li);
    p += li;
    for (i = 0; i < depth; i++, p += lc)
        memcpy(p, close, lc);
    *p = '\0';
    return s;
}

START_TEST(depth_limit)
{
    char *ok = nest(RK_JSON_MAX_DEPTH, "[", "1", "]");
    char *deep = nest(RK_JSON_MAX_DEPTH + 1, "[", "1", "]");
    char *objs = nest(RK_JSON_MAX_DEPTH + 1, "{\"a\":", "1", "}");
    char *huge = nest(100000, "[", "", "]");
    rk_buf b = RK_BUF_INIT;
    cJSON *root, *c;
    char err[RK_ERROR_SIZE];
    int i;

    ck_assert_str_eq(canon(ok), ok);
    bad(deep, RK_ERR_TOOBIG, "nesting deeper than 64 levels at line 1 column 65");
    bad(objs, RK_ERR_TOOBIG, "nesting deeper than 64 levels");
    bad(huge, RK_ERR_TOOBIG, "nesting deeper than 64 levels");
    /* a built tree one level too deep is refused by the writer */
    root = cJSON_CreateArray();
    c = root;
    for (i = 1; i < RK_JSON_MAX_DEPTH; i++) {
        cJSON *inner = cJSON_CreateArray();
        cJSON_AddItemToArray(c, inner);
        c = inner;
    }
    ck_assert_int_eq(rk_canon_write(root, 0, &b, err), RK_OK);
    ck_assert_uint_eq(b.len, 2 * RK_JSON_MAX_DEPTH);
    cJSON_AddItemToArray(c, cJSON_CreateArray());
    rk_buf_reset(&b);
    ck_assert_int_eq(rk_canon_write(root, 0, &b, err), RK_ERR_TOOBIG);
    ck_assert_ptr_nonnull(strstr(err, "nesting deeper than 64 levels"));
    ck_assert_uint_eq(b.len, 0);
    cJSON_Delete(root);
    rk_buf_free(&b);
    free(ok);
    free(deep);
    free(objs);
    free(huge);
}
END_TEST

START_TEST(check_canonical)
{
    char err[RK_ERROR_SIZE] = "";
    const char *ok = "{\"a\":1,\"b\":[true,null,\"x/y\"],\"c\":{\"\":\"\\u001f\"}}";

    ck_assert_int_eq(rk_canon_check(ok, strlen(ok), err), RK_OK);
    ck_assert_int_eq(rk_canon_check("{\"b\":1,\"a\":2}", 13, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "canon: not canonical: first difference at byte 2");
    ck_assert_int_eq(rk_canon_check("{\"a\": 1}", 8, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "canon: not canonical: first difference at byte 5");
    ck_assert_int_eq(rk_canon_check("{\"a\":1}\n", 8, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "canon: not canonical: first difference at byte 7");
    ck_assert_int_eq(rk_canon_check("\"\\/\"", 4, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_canon_check("\"\\u00e9\"", 8, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_canon_check("\"\\u001F\"", 8, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_canon_check("\"\xc3\xa9\"", 4, err), RK_OK);
    ck_assert_int_eq(rk_canon_check("{\"amount\":1.5}", 14, err), RK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "$.amount"));
    ck_assert_int_eq(rk_canon_check("{\"a\":1,\"a\":1}", 13, err), RK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "duplicate key"));
    ck_assert_int_eq(rk_canon_check("", 0, err), RK_ERR_INVALID);
}
END_TEST

/* Trees built with cJSON_Create* go through the same writer. */
START_TEST(built_trees)
{
    char err[RK_ERROR_SIZE] = "";
    rk_buf b = RK_BUF_INIT;
    cJSON *o = cJSON_CreateObject(), *bad1;

    cJSON_AddItemToObject(o, "seq", cJSON_CreateNumber(42));
    cJSON_AddItemToObject(o, "neg", cJSON_CreateNumber(-9007199254740991.0));
    cJSON_AddItemToObject(o, "amount", cJSON_CreateString("10.50"));
    cJSON_AddItemToObject(o, "zero", cJSON_CreateNumber(-0.0));
    ck_assert_int_eq(rk_buf_puts(&b, "prefix:"), RK_OK);
    ck_assert_int_eq(rk_canon_write(o, 0, &b, err), RK_OK);
    ck_assert_str_eq((char *)b.data,
                     "prefix:{\"amount\":\"10.50\",\"neg\":-9007199254740991,\"seq\":42,\"zero\":0}");

    /* a fractional or too large double without text is refused; out restored */
    bad1 = cJSON_CreateNumber(1.5);
    cJSON_AddItemToObject(o, "rate", bad1);
    ck_assert_int_eq(rk_canon_write(o, 0, &b, err), RK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "canon: $.rate: number without source text"));
    ck_assert_ptr_nonnull(strstr(err, "write amounts as strings"));
    ck_assert_int_eq(rk_canon_write(o, RK_CANON_ANY_NUMBER, &b, err), RK_ERR_INVALID);
    ck_assert_str_eq((char *)b.data,
                     "prefix:{\"amount\":\"10.50\",\"neg\":-9007199254740991,\"seq\":42,\"zero\":0}");
    cJSON_SetNumberValue(bad1, 9007199254740992.0);
    ck_assert_int_eq(rk_canon_write(o, 0, &b, err), RK_ERR_INVALID);
    cJSON_SetNumberValue(bad1, 1e300);
    ck_assert_int_eq(rk_canon_write(o, 0, &b, err), RK_ERR_INVALID);
    cJSON_DeleteItemFromObjectCaseSensitive(o, "rate");

    /* invalid UTF-8 in a built string or key */
    cJSON_AddItemToObject(o, "s", cJSON_CreateString("\xff"));
    rk_buf_reset(&b);
    ck_assert_int_eq(rk_canon_write(o, 0, &b, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "canon: $.s: string is not valid utf-8");
    cJSON_DeleteItemFromObjectCaseSensitive(o, "s");
    cJSON_AddItemToObject(o, "\xc3(", cJSON_CreateNull());
    ck_assert_int_eq(rk_canon_write(o, 0, &b, err), RK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "key is not valid utf-8"));
    cJSON_DeleteItemFromObjectCaseSensitive(o, "\xc3(");

    /* duplicate keys can be built; the writer refuses them */
    cJSON_AddItemToObject(o, "seq", cJSON_CreateNumber(43));
    ck_assert_int_eq(rk_canon_write(o, 0, &b, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "canon: $.seq: duplicate key");
    cJSON_DeleteItemFromObjectCaseSensitive(o, "seq");

    /* raw nodes are never canonical */
    cJSON_AddItemToObject(o, "raw", cJSON_CreateRaw("{}"));
    ck_assert_int_eq(rk_canon_write(o, 0, &b, err), RK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "$.raw: unsupported node type"));
    cJSON_DeleteItemFromObjectCaseSensitive(o, "raw");

    ck_assert_int_eq(rk_canon_write(NULL, 0, &b, err), RK_ERR_INVALID);
    rk_buf_reset(&b);
    ck_assert_int_eq(rk_canon_write(o, 0, &b, err), RK_OK);
    /* cJSON deleted the first "seq" */
    ck_assert_str_eq((char *)b.data, "{\"amount\":\"10.50\",\"neg\":-9007199254740991,\"seq\":43,"
                                     "\"zero\":0}");
    cJSON_Delete(o);
    rk_buf_free(&b);
}
END_TEST

static cJSON *parse(const char *text)
{
    char err[RK_ERROR_SIZE] = "";
    cJSON *root = NULL;

    ck_assert_msg(rk_json_parse(text, strlen(text), &root, err) == RK_OK, "%s", err);
    return root;
}

static const char *amount_of(const cJSON *o, const char *key, unsigned decimals)
{
    static char out[RK_AMOUNT_STR_MAX];
    char err[RK_ERROR_SIZE] = "";
    rk_amount v = 0;

    ck_assert_msg(rk_json_get_amount(o, key, decimals, &v, err) == RK_OK, "%s: %s", key, err);
    rk_amount_format(v, decimals, out);
    return out;
}

static void amount_fails(const cJSON *o, const char *key, unsigned decimals, rk_err code,
                         const char *needle)
{
    char err[RK_ERROR_SIZE] = "";
    rk_amount v = 77;
    rk_err rc = rk_json_get_amount(o, key, decimals, &v, err);

    ck_assert_msg(rc == code, "%s: got %d want %d (%s)", key, rc, code, err);
    ck_assert_msg(strstr(err, needle) != NULL, "%s: message '%s' lacks '%s'", key, err, needle);
    ck_assert(v == 77);
}

START_TEST(get_amount)
{
    cJSON *o = parse("{\"s\":\"0.0012\",\"n\":0.0012,\"i\":15,\"e1\":1.5e-3,\"e2\":1E+2,"
                     "\"e3\":12e-20,\"e4\":1e40,\"e5\":0e999,\"e6\":-0.0,\"e7\":2.50E1,"
                     "\"e8\":-125e-2,\"e9\":1e-999,\"wei\":1267650600228.229401496703205376,"
                     "\"big\":340282366920938463463.374607431768211455,\"z\":null,"
                     "\"t\":true,\"bad\":\"1e5\",\"lead\":\"007\",\"Price\":1,"
                     "\"frac\":1.005,\"sp\":\" 1\"}");
    cJSON *built = cJSON_CreateObject();
    cJSON *arr = cJSON_CreateArray();
    rk_amount v;

    ck_assert_str_eq(amount_of(o, "s", 8), "0.00120000");
    ck_assert_str_eq(amount_of(o, "n", 8), "0.00120000");
    ck_assert_str_eq(amount_of(o, "n", 4), "0.0012");
    ck_assert_str_eq(amount_of(o, "i", 0), "15");
    ck_assert_str_eq(amount_of(o, "e1", 8), "0.00150000");
    ck_assert_str_eq(amount_of(o, "e2", 2), "100.00");
    ck_assert_str_eq(amount_of(o, "e5", 2), "0.00");
    ck_assert_str_eq(amount_of(o, "e6", 2), "0.00");
    ck_assert_str_eq(amount_of(o, "e7", 0), "25");
    ck_assert_str_eq(amount_of(o, "e8", 2), "-1.25");
    ck_assert_str_eq(amount_of(o, "wei", 18), "1267650600228.229401496703205376");
    ck_assert_str_eq(amount_of(o, "e3", 30), "0.000000000000000000120000000000");
    amount_fails(o, "e3", 18, RK_ERR_INVALID, "json: member 'e3': amount '12e-20': more than 18");
    amount_fails(o, "e4", 0, RK_ERR_RANGE, "member 'e4': amount '1e40': out of range");
    amount_fails(o, "e9", 30, RK_ERR_INVALID, "more than 30 fraction digits");
    amount_fails(o, "big", 18, RK_ERR_RANGE, "out of range");
    amount_fails(o, "frac", 2, RK_ERR_INVALID, "more than 2 fraction digits");
    amount_fails(o, "z", 2, RK_ERR_INVALID, "member 'z' is null");
    amount_fails(o, "t", 2, RK_ERR_INVALID, "member 't' is not an amount");
    amount_fails(o, "bad", 2, RK_ERR_INVALID, "member 'bad': amount '1e5': exponents");
    amount_fails(o, "lead", 2, RK_ERR_INVALID, "leading zeros");
    amount_fails(o, "sp", 2, RK_ERR_INVALID, "spaces");
    amount_fails(o, "missing", 2, RK_ERR_NOTFOUND, "member 'missing' not found");
    amount_fails(o, "price", 2, RK_ERR_NOTFOUND, "not found"); /* case-sensitive */
    amount_fails(o, "n", 31, RK_ERR_INVALID, "31 decimals");
    amount_fails(arr, "n", 2, RK_ERR_INVALID, "not an object");
    amount_fails(NULL, "n", 2, RK_ERR_INVALID, "not an object");
    /* numbers without source text */
    cJSON_AddNumberToObject(built, "k", 25);
    cJSON_AddNumberToObject(built, "f", 0.1);
    ck_assert_str_eq(amount_of(built, "k", 2), "25.00");
    amount_fails(built, "f", 2, RK_ERR_INVALID, "without source text");
    ck_assert_int_eq(rk_json_get_amount(o, "i", 37, &v, NULL), RK_ERR_INVALID);
    cJSON_Delete(built);
    cJSON_Delete(arr);
    cJSON_Delete(o);
}
END_TEST

START_TEST(get_string_u64)
{
    cJSON *o = parse("{\"s\":\"abc\",\"e\":\"\",\"n\":5,\"z\":null,\"max\":18446744073709551615,"
                     "\"over\":18446744073709551616,\"neg\":-1,\"f\":1.0,\"x\":1e3,"
                     "\"str\":\"5\",\"zero\":0}");
    cJSON *built = cJSON_CreateObject();
    char err[RK_ERROR_SIZE] = "";
    const char *s = NULL;
    uint64_t u = 9;

    ck_assert_int_eq(rk_json_get_string(o, "s", &s, err), RK_OK);
    ck_assert_str_eq(s, "abc");
    ck_assert_int_eq(rk_json_get_string(o, "e", &s, err), RK_OK);
    ck_assert_str_eq(s, "");
    ck_assert_int_eq(rk_json_get_string(o, "n", &s, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "json: member 'n' is not a string");
    ck_assert_int_eq(rk_json_get_string(o, "z", &s, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_json_get_string(o, "S", &s, err), RK_ERR_NOTFOUND);
    ck_assert_str_eq(err, "json: member 'S' not found");
    ck_assert_int_eq(rk_json_get_string(cJSON_GetObjectItem(o, "s"), "s", &s, err),
                     RK_ERR_INVALID);

    ck_assert_int_eq(rk_json_get_u64(o, "n", &u, err), RK_OK);
    ck_assert(u == 5);
    ck_assert_int_eq(rk_json_get_u64(o, "zero", &u, err), RK_OK);
    ck_assert(u == 0);
    ck_assert_int_eq(rk_json_get_u64(o, "max", &u, err), RK_OK);
    ck_assert(u == UINT64_MAX);
    u = 9;
    ck_assert_int_eq(rk_json_get_u64(o, "over", &u, err), RK_ERR_RANGE);
    ck_assert_str_eq(err, "json: member 'over': '18446744073709551616' exceeds 2^64-1");
    ck_assert_int_eq(rk_json_get_u64(o, "neg", &u, err), RK_ERR_RANGE);
    ck_assert_int_eq(rk_json_get_u64(o, "f", &u, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "json: member 'f': '1.0' is not an integer");
    ck_assert_int_eq(rk_json_get_u64(o, "x", &u, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_json_get_u64(o, "str", &u, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "json: member 'str' is not a number");
    ck_assert_int_eq(rk_json_get_u64(o, "z", &u, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_json_get_u64(o, "nope", &u, err), RK_ERR_NOTFOUND);
    ck_assert(u == 9);
    cJSON_AddNumberToObject(built, "a", 42);
    cJSON_AddNumberToObject(built, "b", -1);
    cJSON_AddNumberToObject(built, "c", 2.5);
    ck_assert_int_eq(rk_json_get_u64(built, "a", &u, err), RK_OK);
    ck_assert(u == 42);
    ck_assert_int_eq(rk_json_get_u64(built, "b", &u, err), RK_ERR_RANGE);
    ck_assert_int_eq(rk_json_get_u64(built, "c", &u, err), RK_ERR_INVALID);
    cJSON_Delete(built);
    cJSON_Delete(o);
}
END_TEST

/* NOWPayments' published IPN example (tests/vectors/, provenance in its header). */
START_TEST(nowpayments_corpus)
{
    static const char *const want =
        "{\"actually_paid\":15,\"actually_paid_at_fiat\":0,\"fee\":{\"currency\":\"btc\","
        "\"depositFee\":0.09853637216235617,\"serviceFee\":0,\"withdrawalFee\":0},"
        "\"invoice_id\":null,\"order_description\":null,\"order_id\":null,"
        "\"outcome_amount\":14.8106,\"outcome_currency\":\"trx\",\"parent_payment_id\":987654321,"
        "\"pay_address\":\"address\",\"pay_amount\":15,\"pay_currency\":\"trx\","
        "\"payin_extra_id\":null,\"payment_extra_ids\":null,\"payment_id\":123456789,"
        "\"payment_status\":\"finished\",\"price_amount\":1,\"price_currency\":\"usd\","
        "\"purchase_id\":\"123456789\"}";
    const char *missing = "\"payment_extra_ids\":null\n";
    char err[RK_ERROR_SIZE] = "";
    rk_buf file = RK_BUF_INIT, fixed = RK_BUF_INIT, out = RK_BUF_INIT;
    cJSON *root = NULL;
    const char *body, *hole;
    size_t blen, pre;
    uint64_t id = 0;

    ck_assert_int_eq(rk_buf_read_file(&file, "tests/vectors/nowpayments_docs_example_payment_ipn.txt",
                                      1 << 20, err), RK_OK);
    /* the whole file (with its provenance header) is not JSON */
    ck_assert_int_eq(rk_json_parse((char *)file.data, file.len, &root, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "json: unexpected character at line 1 column 1");
    /* the body as published lacks a comma: a clear error at the right place */
    body = strstr((char *)file.data, "----\n");
    ck_assert_ptr_nonnull(body);
    body += 5;
    blen = file.len - (size_t)(body - (char *)file.data);
    ck_assert_int_eq(rk_json_parse(body, blen, &root, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "json: expected ',' or '}' after member at line 20 column 1");
    ck_assert_ptr_null(root);
    ck_assert_int_eq(rk_canon_check(body, blen, err), RK_ERR_INVALID);

    /* with the comma restored it parses; numbers keep their text */
    hole = strstr(body, missing);
    ck_assert_ptr_nonnull(hole);
    pre = (size_t)(hole - body) + strlen(missing) - 1;
    ck_assert_int_eq(rk_buf_append(&fixed, body, pre), RK_OK);
    ck_assert_int_eq(rk_buf_putc(&fixed, ','), RK_OK);
    ck_assert_int_eq(rk_buf_append(&fixed, body + pre, blen - pre), RK_OK);
    ck_assert_int_eq(rk_json_parse((char *)fixed.data, fixed.len, &root, err), RK_OK);
    ck_assert_int_eq(rk_canon_write(root, RK_CANON_ANY_NUMBER, &out, err), RK_OK);
    ck_assert_uint_eq(out.len, strlen(want));
    ck_assert(memcmp(out.data, want, out.len) == 0);
    rk_buf_reset(&out);
    ck_assert_int_eq(rk_canon_write(root, 0, &out, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "canon: $.fee.depositFee: number 0.09853637216235617 is not a "
                          "canonical integer below 2^63; write amounts as strings");
    ck_assert_str_eq(amount_of(root, "outcome_amount", 8), "14.81060000");
    ck_assert_str_eq(amount_of(cJSON_GetObjectItemCaseSensitive(root, "fee"), "depositFee", 18),
                     "0.098536372162356170");
    amount_fails(cJSON_GetObjectItemCaseSensitive(root, "fee"), "depositFee", 8,
                 RK_ERR_INVALID, "more than 8 fraction digits");
    ck_assert_int_eq(rk_json_get_u64(root, "payment_id", &id, err), RK_OK);
    ck_assert(id == 123456789);
    cJSON_Delete(root);
    rk_buf_free(&file);
    rk_buf_free(&fixed);
    rk_buf_free(&out);
}
END_TEST

/* Normalizing (with source literals) is idempotent: a second pass is a no-op. */
static void idempotent(const char *text, size_t len)
{
    rk_buf a = RK_BUF_INIT, b = RK_BUF_INIT;
    cJSON *r1 = NULL, *r2 = NULL;
    char err[RK_ERROR_SIZE];

    if (rk_json_parse(text, len, &r1, err) != RK_OK)
        return;
    ck_assert_int_eq(rk_canon_write(r1, RK_CANON_ANY_NUMBER, &a, err), RK_OK);
    ck_assert_msg(rk_json_parse((char *)a.data, a.len, &r2, err) == RK_OK, "%s", err);
    ck_assert_int_eq(rk_canon_write(r2, RK_CANON_ANY_NUMBER, &b, err), RK_OK);
    ck_assert_uint_eq(a.len, b.len);
    ck_assert(memcmp(a.data, b.data, a.len) == 0);
    cJSON_Delete(r1);
    cJSON_Delete(r2);
    rk_buf_free(&a);
    rk_buf_free(&b);
}

/* Every truncation and every single-byte corruption of a document either
 * parses or fails cleanly; whatever parses normalizes idempotently. */
START_TEST(corrupt_sweep)
{
    static const char doc[] =
        "{\"id\":\"evt_1\",\"amount\":\"10.50\",\"n\":[1,-2.5e3,{\"k\\\"\":\"\\u00e9\\n\"}],"
        "\"\xc3\xa9\":true,\"x\":null,\"f\":false,\"s\":\"\\ud83d\\ude00 a1.5 \\\\\"}";
    static const unsigned char subst[] = { '"', '\\', '{', '}', '[', ']', ',', ':', '0',
                                           '-', '.', 'e', ' ', 0x00, 0x1f, 0x80, 0xc3, 0xff };
    char buf[sizeof doc];
    size_t len = sizeof doc - 1, i, j;
    char err[RK_ERROR_SIZE];
    cJSON *root;

    idempotent(doc, len);
    for (i = 0; i < len; i++) {
        root = NULL;
        err[0] = '\0';
        if (rk_json_parse(doc, i, &root, err) == RK_OK) {
            cJSON_Delete(root);
        } else {
            ck_assert_ptr_null(root);
            ck_assert_msg(strncmp(err, "json: ", 6) == 0, "len %zu: '%s'", i, err);
        }
        idempotent(doc, i);
    }
    for (i = 0; i < len; i++) {
        for (j = 0; j < sizeof subst; j++) {
            memcpy(buf, doc, len);
            buf[i] = (char)subst[j];
            root = NULL;
            if (rk_json_parse(buf, len, &root, err) == RK_OK)
                cJSON_Delete(root);
            else
                ck_assert_ptr_null(root);
            idempotent(buf, len);
        }
    }
}
END_TEST

/* Paths in messages: non-ASCII keys stay readable, bad bytes become '?',
 * and very long paths are cut. */
START_TEST(message_paths)
{
    char err[RK_ERROR_SIZE] = "";
    rk_buf b = RK_BUF_INIT;
    cJSON *o = cJSON_CreateObject(), *inner = cJSON_CreateArray();
    char *longkey = malloc(1000), *doc;

    bad("{\"\xc3\xa9t\xc3\xa9\":{\"n\":1.5}}", RK_ERR_INVALID, "$[\"\xc3\xa9t\xc3\xa9\"].n: number 1.5");
    bad("{\"a\\\"b\":[0,1.5]}", RK_ERR_INVALID, "$[\"a?b\"][1]: number 1.5");
    bad("{\"\":1.5}", RK_ERR_INVALID, "$[\"\"]: number 1.5");
    bad("{\"9a\":1.5}", RK_ERR_INVALID, "$[\"9a\"]: number 1.5");
    cJSON_AddItemToArray(inner, cJSON_CreateString("\xe2\x82"));
    cJSON_AddItemToObject(o, "k\xff", inner);
    ck_assert_int_eq(rk_canon_write(o, 0, &b, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "canon: $[\"k?\"]: key is not valid utf-8");
    cJSON_Delete(o);
    memset(longkey, 'k', 999);
    longkey[999] = '\0';
    doc = malloc(2100);
    snprintf(doc, 2100, "{\"%s\":{\"%s\":1.5}}", longkey, longkey);
    bad(doc, RK_ERR_INVALID, "$.kkkkkkkk");
    bad(doc, RK_ERR_INVALID, "...: number 1.5");
    free(doc);
    free(longkey);
    rk_buf_free(&b);
}
END_TEST

/*
 * rk_jv_parse_tape accepts exactly when `want` (the reference), and on
 * success a string is marked plain exactly when its bytes between the
 * quotes are printable ASCII (0x20..0x7f) other than '"' and '\\'
 * (plain_rule.h).  test_canon_plain.c runs this suite again on the plain C
 * path.
 */
static void tape_paths_agree(const char *t, size_t n, int want)
{
    rk_jent tape[64];
    rk_jv v;
    size_t nt = 99, i;
    int ok = rk_jv_parse_tape(t, n, &v, tape, 64, &nt, NULL) == RK_OK;

    ck_assert_msg(ok == want, "tape %d, reference %d on '%.*s'", ok, want, (int)n, t);
    if (!want) {
        ck_assert_uint_eq(nt, 0);
        return;
    }
    for (i = 0; i < nt && i < 64; i++) {
        ck_assert_int_eq(tape[i].val.plain, plain_text(&tape[i].val));
        if (tape[i].key.p != NULL)
            ck_assert_int_eq(tape[i].key.plain, plain_text(&tape[i].key));
    }
}

/*
 * rk_canon_check validates in one pass; rk_canon_normalize is the reference.
 * For canonical documents and thousands of one-byte mutations of them, the
 * check must accept exactly when normalize maps the text to itself.
 */
static void agree(const char *t, size_t n)
{
    rk_buf b = RK_BUF_INIT;
    char err[RK_ERROR_SIZE];
    int same = rk_canon_normalize(t, n, &b, err) == RK_OK && b.len == n &&
               memcmp(b.data, t, n) == 0;
    int ok = rk_canon_check(t, n, err) == RK_OK;

    ck_assert_msg(ok == same, "check %d, reference %d on '%.*s'", ok, same, (int)n, t);
    rk_buf_free(&b);
    tape_paths_agree(t, n, same);
}

START_TEST(check_agrees_with_normalize)
{
    static const char *docs[] = {
        "{\"a\":1,\"b\":[true,false,null,-5,0],\"c\":{\"\":\"x\",\"d\\\"\":\"\\\\\\n\\u001f\"}}",
        "{\"amount\":\"0.00012000\",\"asset\":\"BTC\",\"k\":9223372036854775807,\"m\":-9223372036854775807}",
        "[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\",{\"b\":1,\"ba\":2,\"c\\t\":3}]",
        "{\"a\":{\"a\":{\"a\":[[[]]],\"b\":{}}},\"b\":\"/\"}",
        /* long plain runs: the word-at-a-time path of the check */
        "{\"k\":\"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ~ !#$%&'()*+,-./\"}",
        /* key order where escapes meet plain bytes: the fast compare of
         * plain keys hands over to decoding at the first backslash */
        "{\"\\\"\":1,\"#\":2,\"a\\u0001\":3,\"a\\n\":4,\"a\\\\\":5,\"a]\":6,\"ab\":7}",
        /* plain keys compared eight bytes at a time: shared prefixes of
         * more and fewer than eight bytes, a key the prefix of the next,
         * and short keys near the end (compared byte by byte there) */
        "{\"abcdefghijklmnopq\":1,\"abcdefghijklmnopr\":2,\"abcdefghijklmnopr0\":[],\"abcdefgi\":{\"x\":0,\"y\":1}}",
        "{\"a\":{\"b\":[{\"c\":1,\"d\":2}],\"bb\":3},\"b\":0}",
        "{\"\x7f\":1,\"\xc3\xa9\":\"\x7f\",\"\xc3\xa9" "a\":\"\xc3\xa9\"}",
    };
    static const char alphabet[] = "{}[]\":,\\-0123456789.eEtrufalsn ubfnrt\x01\x7f\xc3\xa9\xff";
    char buf[256];
    size_t d, i, j;

    for (d = 0; d < sizeof docs / sizeof docs[0]; d++) {
        size_t n = strlen(docs[d]);
        agree(docs[d], n);
        for (i = 0; i < n; i++) {
            for (j = 0; j < sizeof alphabet - 1; j++) {
                memcpy(buf, docs[d], n);
                buf[i] = alphabet[j];
                agree(buf, n);
            }
            /* deletion and truncation */
            memcpy(buf, docs[d], i);
            memcpy(buf + i, docs[d] + i + 1, n - i - 1);
            agree(buf, n - 1);
            agree(docs[d], i);
        }
    }
}
END_TEST

/* ---- the cursor over canonical JSON ---------------------------------------- */

/* Members come in order with their types; nested containers are skipped whole. */
START_TEST(cursor_walks_members)
{
    static const char t[] = "{\"a\":[1,{\"x\":\"]}\"},[]],\"b\\\"q\":\"s\\\\t\\u0001\","
                            "\"c\":-9223372036854775807,\"d\":{},\"e\":null,\"f\":true,"
                            "\"g\":false,\"h\":\"\xc3\xa9\"}";
    static const rk_jv_type types[] = { RK_JV_ARRAY, RK_JV_STRING, RK_JV_INT, RK_JV_OBJECT,
                                        RK_JV_NULL, RK_JV_TRUE, RK_JV_FALSE, RK_JV_STRING };
    static const char *keys[] = { "a", "b\"q", "c", "d", "e", "f", "g", "h" };
    rk_jv v, k, m, e;
    rk_jcur c, ca;
    char err[RK_ERROR_SIZE] = "", buf[16];
    const char *raw;
    size_t n = 0, rn;
    int64_t i;

    ck_assert_int_eq(rk_jv_parse(t, strlen(t), &v, err), RK_OK);
    ck_assert_int_eq(v.type, RK_JV_OBJECT);
    ck_assert_int_eq(rk_jcur_open(&c, &v), 0);
    while (rk_jcur_next(&c, &k, &m)) {
        ck_assert_uint_lt(n, 8);
        ck_assert_msg(rk_jv_is(&k, keys[n]), "key %zu", n);
        ck_assert_int_eq(m.type, types[n]);
        n++;
    }
    ck_assert_uint_eq(n, 8);
    /* the array: 1, an object holding "]}", an empty array */
    ck_assert_int_eq(rk_jv_member(&v, "a", &m), 1);
    ck_assert_int_eq(rk_jcur_open(&ca, &m), 0);
    ck_assert_int_eq(rk_jcur_next(&ca, &k, &e), 1);
    ck_assert_int_eq(rk_jv_int(&e, &i), 0);
    ck_assert_int_eq(i, 1);
    ck_assert_int_eq(rk_jcur_next(&ca, NULL, &e), 1);
    ck_assert_int_eq(e.type, RK_JV_OBJECT);
    ck_assert_int_eq(rk_jv_member(&e, "x", &m), 1);
    ck_assert(rk_jv_is(&m, "]}"));
    ck_assert_int_eq(rk_jcur_next(&ca, NULL, &e), 1);
    ck_assert_int_eq(e.type, RK_JV_ARRAY);
    ck_assert_uint_eq(e.len, 2);
    ck_assert_int_eq(rk_jcur_next(&ca, NULL, &e), 0);
    /* escapes: raw says so, unescape decodes */
    ck_assert_int_eq(rk_jv_member(&v, "b\"q", &m), 1);
    ck_assert_int_eq(rk_jv_raw(&m, &raw, &rn), 1);
    ck_assert_uint_eq(rn, 10);
    ck_assert_uint_eq(rk_jv_unescape(&m, buf, sizeof buf), 4);
    ck_assert_mem_eq(buf, "s\\t\x01", 5);
    ck_assert_uint_eq(rk_jv_unescape(&m, buf, 4), (size_t)-1); /* no room for the NUL */
    ck_assert(rk_jv_is(&m, "s\\t\x01"));
    ck_assert_int_eq(rk_jv_member(&v, "c", &m), 1);
    ck_assert_int_eq(rk_jv_int(&m, &i), 0);
    ck_assert(i == -INT64_MAX);
    ck_assert_int_eq(rk_jv_member(&v, "h", &m), 1);
    ck_assert_int_eq(rk_jv_raw(&m, &raw, &rn), 0);
    ck_assert_uint_eq(rn, 2);
    ck_assert_int_eq(rk_jv_member(&v, "zz", &m), 0);
    ck_assert_int_eq(rk_jv_member(&m, "a", &e), 0); /* not an object */
    ck_assert_int_eq(rk_jv_int(&m, &i), -1);
    ck_assert_int_eq(rk_jcur_open(&ca, &m), -1);
}
END_TEST

/* rk_jv_parse_object gives the members the cursor gives. */
START_TEST(parse_object_collects_members)
{
    static const char t[] = "{\"a\":[1,{\"x\":\"]}\"},[]],\"b\\\"q\":\"s\\\\t\",\"c\":-5,"
                            "\"d\":{\"e\":null},\"f\":true}";
    rk_jv v, keys[5], vals[5], k, m;
    rk_jcur c;
    char err[RK_ERROR_SIZE] = "";
    size_t n = 99, i;
    int more = 9;

    ck_assert_int_eq(rk_jv_parse_object(t, strlen(t), &v, keys, vals, 5, &n, &more, err),
                     RK_OK);
    ck_assert_int_eq(v.type, RK_JV_OBJECT);
    ck_assert_uint_eq(v.len, strlen(t));
    ck_assert_uint_eq(n, 5);
    ck_assert_int_eq(more, 0);
    ck_assert_int_eq(rk_jcur_open(&c, &v), 0);
    for (i = 0; rk_jcur_next(&c, &k, &m); i++) {
        ck_assert_uint_lt(i, 5);
        ck_assert(keys[i].p == k.p && keys[i].len == k.len && keys[i].type == RK_JV_STRING);
        ck_assert(vals[i].p == m.p && vals[i].len == m.len && vals[i].type == m.type);
    }
    ck_assert_uint_eq(i, 5);
    /* fewer slots than members: the first ones, and more says so */
    ck_assert_int_eq(rk_jv_parse_object(t, strlen(t), &v, keys, vals, 2, &n, &more, err),
                     RK_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(more, 1);
    ck_assert(rk_jv_is(&keys[1], "b\"q") && rk_jv_is(&vals[1], "s\\t"));
    ck_assert_int_eq(rk_jv_parse_object(t, strlen(t), &v, NULL, NULL, 0, &n, &more, err),
                     RK_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(more, 1);
    /* not an object: no members; nested objects are not collected */
    ck_assert_int_eq(rk_jv_parse_object("[{\"a\":1}]", 9, &v, keys, vals, 5, &n, &more, err),
                     RK_OK);
    ck_assert_int_eq(v.type, RK_JV_ARRAY);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(more, 0);
    ck_assert_int_eq(rk_jv_parse_object("{}", 2, &v, keys, vals, 5, &n, &more, err), RK_OK);
    ck_assert_uint_eq(n, 0);
    /* keys where escapes meet plain bytes, in order (see check_agrees_with_normalize) */
    {
        static const char o[] =
            "{\"\\\"\":1,\"#\":2,\"a\\u0001\":3,\"a\\n\":4,\"a\\\\\":5,\"a]\":6,\"ab\":7}";
        static const char swapped[] = "{\"#\":2,\"\\\"\":1}";
        static const char swapped2[] = "{\"a\\n\":4,\"a\\u0001\":3}";
        static const char swapped3[] = "{\"a]\":6,\"a\\\\\":5}";
        static const char prefix[] = "{\"ab\":1,\"a\":2}";
        ck_assert_int_eq(rk_jv_parse_object(o, strlen(o), &v, keys, vals, 5, &n, &more, err),
                         RK_OK);
        ck_assert_int_eq(more, 1);
        ck_assert(rk_jv_is(&keys[2], "a\x01") && rk_jv_is(&keys[4], "a\\"));
        ck_assert_int_eq(rk_jv_parse(swapped, strlen(swapped), &v, err), RK_ERR_INVALID);
        ck_assert_int_eq(rk_jv_parse(swapped2, strlen(swapped2), &v, err), RK_ERR_INVALID);
        ck_assert_int_eq(rk_jv_parse(swapped3, strlen(swapped3), &v, err), RK_ERR_INVALID);
        ck_assert_int_eq(rk_jv_parse(prefix, strlen(prefix), &v, err), RK_ERR_INVALID);
    }
    /* not canonical, even after members were collected: an error and none */
    ck_assert_int_eq(rk_jv_parse_object("{\"a\":1,\"c\":2,\"b\":3}", 19, &v, keys, vals, 5,
                                        &n, &more, err),
                     RK_ERR_INVALID);
    ck_assert_str_eq(err, "canon: not canonical");
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(more, 0);
    ck_assert_int_eq(rk_jv_parse_object("{\"a\":1", 6, &v, keys, vals, 5, &n, &more, err),
                     RK_ERR_INVALID);
    ck_assert_uint_eq(n, 0);
}
END_TEST

/* rk_jv_parse_tape lists every member and element, depth first, with the
 * index past each one's own entries; strings without a backslash are plain. */
START_TEST(parse_tape_lists_entries)
{
    static const char t[] = "{\"a\":[1,{\"x\":\"]}\"},[]],\"b\\\"q\":\"s\\\\t\",\"c\":-5,"
                            "\"d\":{\"e\":null},\"f\":true}";
    /* key (NULL: an element), value, next */
    static const struct {
        const char *key, *val;
        size_t next;
    } want[] = {
        { "\"a\"", "[1,{\"x\":\"]}\"},[]]", 5 }, { NULL, "1", 2 },
        { NULL, "{\"x\":\"]}\"}", 4 },          { "\"x\"", "\"]}\"", 4 },
        { NULL, "[]", 5 },                      { "\"b\\\"q\"", "\"s\\\\t\"", 6 },
        { "\"c\"", "-5", 7 },                   { "\"d\"", "{\"e\":null}", 9 },
        { "\"e\"", "null", 9 },                 { "\"f\"", "true", 10 },
    };
    rk_jent tape[16];
    rk_jv v;
    char err[RK_ERROR_SIZE] = "";
    size_t n = 99, i;

    ck_assert_int_eq(rk_jv_parse_tape(t, strlen(t), &v, tape, 16, &n, err), RK_OK);
    ck_assert_int_eq(v.type, RK_JV_OBJECT);
    ck_assert_uint_eq(n, 10);
    for (i = 0; i < n; i++) {
        if (want[i].key == NULL) {
            ck_assert_ptr_null(tape[i].key.p);
        } else {
            ck_assert_uint_eq(tape[i].key.len, strlen(want[i].key));
            ck_assert(memcmp(tape[i].key.p, want[i].key, tape[i].key.len) == 0);
            ck_assert_int_eq(tape[i].key.type, RK_JV_STRING);
        }
        ck_assert_uint_eq(tape[i].val.len, strlen(want[i].val));
        ck_assert(memcmp(tape[i].val.p, want[i].val, tape[i].val.len) == 0);
        ck_assert_uint_eq(tape[i].next, want[i].next);
    }
    ck_assert_int_eq(tape[0].val.type, RK_JV_ARRAY);
    ck_assert_int_eq(tape[6].val.type, RK_JV_INT);
    ck_assert_int_eq(tape[8].val.type, RK_JV_NULL);
    /* plain: the text of the string is its value */
    ck_assert_int_eq(tape[3].val.plain, 1);
    ck_assert_int_eq(tape[0].key.plain, 1);
    ck_assert_int_eq(tape[5].key.plain, 0);
    ck_assert_int_eq(tape[5].val.plain, 0);
    ck_assert_int_eq(tape[6].val.plain, 0); /* not a string */
    ck_assert(rk_jv_is(&tape[5].key, "b\"q") && rk_jv_is(&tape[5].val, "s\\t"));
    ck_assert(rk_jv_is(&tape[3].val, "]}"));
    /* too small a tape: the count says so, the first entries are there */
    ck_assert_int_eq(rk_jv_parse_tape(t, strlen(t), &v, tape, 4, &n, err), RK_OK);
    ck_assert_uint_eq(n, 10);
    ck_assert_uint_eq(tape[3].next, 4);
    ck_assert_int_eq(rk_jv_parse_tape(t, strlen(t), &v, NULL, 0, &n, err), RK_OK);
    ck_assert_uint_eq(n, 10);
    /* scalars and empty containers have no entries */
    ck_assert_int_eq(rk_jv_parse_tape("[]", 2, &v, tape, 16, &n, err), RK_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(rk_jv_parse_tape("\"x\"", 3, &v, tape, 16, &n, err), RK_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(v.plain, 1);
    /* not canonical: an error and no entries */
    ck_assert_int_eq(rk_jv_parse_tape("{\"a\":1,\"a\":2}", 13, &v, tape, 16, &n, err),
                     RK_ERR_INVALID);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(rk_jv_parse_tape("{\"a\":[1,2}", 10, &v, tape, 16, &n, err),
                     RK_ERR_INVALID);
    ck_assert_int_eq(rk_jv_parse_tape("{\"a\":", 5, &v, tape, 16, &n, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_jv_parse_tape("[\"a\",", 5, &v, tape, 16, &n, err), RK_ERR_INVALID);
}
END_TEST

/* Strings scanned many bytes at a time: every byte value at every position
 * of a long string, against the byte-at-a-time rule. */
START_TEST(string_scan_every_byte)
{
    char t[64], err[RK_ERROR_SIZE] = "";
    rk_jv v;
    size_t pos;
    unsigned b;

    for (pos = 1; pos < 40; pos++) {
        for (b = 1; b < 256; b++) {
            int want;
            memset(t, 'a', sizeof t);
            t[0] = '"';
            t[pos] = (char)b;
            t[41] = '"';
            /* alone, a byte is fine when printable ASCII other than '"' and
             * '\\', or 0x7f; a '"' ends the string early (trailing bytes) */
            want = (b >= 0x20 && b < 0x80 && b != '"' && b != '\\');
            ck_assert_int_eq(rk_jv_parse(t, 42, &v, err) == RK_OK, want);
            ck_assert_int_eq(rk_canon_check(t, 42, err) == RK_OK, want);
            tape_paths_agree(t, 42, want);
            /* inside an object, as a key and as a value, at the end */
            {
                char o[100];
                size_t k = 0;
                memcpy(o + k, "{\"\":", 4); /* "" sorts before any other key */
                k += 4;
                memcpy(o + k, t, 42);
                k += 42;
                o[k++] = ',';
                memcpy(o + k, t, 42);
                k += 42;
                memcpy(o + k, ":1}", 3);
                k += 3;
                tape_paths_agree(o, k, want);
            }
        }
    }
}
END_TEST

/* The cursor reads only canonical text; limits of integers and depth. */
START_TEST(cursor_limits)
{
    static const char *bad[] = {
        "", " {}", "{} ", "{\"b\":1,\"a\":2}", "{\"a\":1,\"a\":1}", "{\"a\":1.5}",
        "{\"a\":01}", "{\"a\":\"\\u0041\"}", "{\"a\":\"x\"", "[1,]", "\"\\/\"",
        "{\"a\":9223372036854775808}", "-0", "{\"a\":\"\xc3\"}", "nul",
    };
    char deep[2 * RK_JSON_MAX_DEPTH + 8], err[RK_ERROR_SIZE] = "";
    rk_jv v;
    int64_t i;
    size_t k;

    for (k = 0; k < sizeof bad / sizeof bad[0]; k++)
        ck_assert_msg(rk_jv_parse(bad[k], strlen(bad[k]), &v, err) == RK_ERR_INVALID, "%s",
                      bad[k]);
    ck_assert_str_eq(err, "canon: not canonical");
    ck_assert_int_eq(rk_jv_parse("9223372036854775807", 19, &v, err), RK_OK);
    ck_assert_int_eq(rk_jv_int(&v, &i), 0);
    ck_assert(i == INT64_MAX);
    ck_assert_int_eq(rk_jv_parse("\"x\"", 3, &v, err), RK_OK);
    ck_assert_int_eq(v.type, RK_JV_STRING);
    memset(deep, '[', RK_JSON_MAX_DEPTH + 1);
    memset(deep + RK_JSON_MAX_DEPTH + 1, ']', RK_JSON_MAX_DEPTH + 1);
    ck_assert_int_eq(rk_jv_parse(deep, 2 * RK_JSON_MAX_DEPTH + 2, &v, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_jv_parse(deep + 1, 2 * RK_JSON_MAX_DEPTH, &v, err), RK_OK);
}
END_TEST

/* rk_canon_put_string writes what rk_canon_write writes for the same string. */
START_TEST(put_string_matches_writer)
{
    static const char *strs[] = { "", "plain", "q\"b\\s", "\b\f\n\r\t\x01\x1f", "\xc3\xa9\xe2\x82\xac",
                                  "a\x7f" "b" };
    rk_buf a = RK_BUF_INIT, b = RK_BUF_INIT;
    char err[RK_ERROR_SIZE] = "";
    size_t k;
    cJSON *s;
    rk_jv v;

    for (k = 0; k < sizeof strs / sizeof strs[0]; k++) {
        rk_buf_reset(&a);
        rk_buf_reset(&b);
        s = cJSON_CreateString(strs[k]);
        ck_assert_int_eq(rk_canon_write(s, 0, &a, err), RK_OK);
        cJSON_Delete(s);
        ck_assert_int_eq(rk_canon_put_string(&b, strs[k], strlen(strs[k])), RK_OK);
        ck_assert_uint_eq(a.len, b.len);
        ck_assert_mem_eq(a.data, b.data, a.len);
        /* and the cursor reads it back */
        ck_assert_int_eq(rk_jv_parse((const char *)b.data, b.len, &v, err), RK_OK);
        ck_assert(rk_jv_is(&v, strs[k]));
    }
    rk_buf_free(&a);
    rk_buf_free(&b);
}
END_TEST

/* rk_json_parse builds the tree cJSON's parser builds from the same text,
 * node for node, and keeps each number's literal. */
START_TEST(tree_matches_cjson)
{
    static const char *docs[] = {
        "{\"a\":1,\"b\":[true,false,null,-5,0],\"c\":{\"\":\"x\",\"d\\\"\":\"\\\\\\n\\u001f\"}}",
        " [ \"\\b\\f\\n\\r\\t\\/\\\\\\\"\" , \"\\u00e9\\u20ac\\ud83d\\ude00\\u0041\" ] ",
        "{\"k\\u00e9y\":{\"\xc3\xa9\":[[],{},[{}]],\"long\":\"abcdefghijklmnopqrstuvwxyz0123456789 "
        "\xe2\x82\xac\xf0\x9f\x98\x80 and more plain text after it\"}}",
        "[1.5,-0,0.1,1e400,-1e400,2147483647,2147483648,-2147483649,1E+2,12.5e-3,"
        "123456789012345678901234567890]",
        "\"top\"", "-7", "true", "false", "null", "{}", "[]", "[[[[1]]]]",
        "{\"x\":\"\\ud800\\udc00\\udbff\\udfff\\u07ff\\u0800\\uffff\\u0080\\u007f\"}",
    };
    static const char *const nums[] = { "1.5", "-0", "0.1", "1e400", "-1e400", "2147483647",
                                        "2147483648", "-2147483649", "1E+2", "12.5e-3",
                                        "123456789012345678901234567890" };
    char err[RK_ERROR_SIZE] = "";
    cJSON *mine, *ref;
    const cJSON *c;
    size_t k, i;

    for (k = 0; k < sizeof docs / sizeof docs[0]; k++) {
        mine = NULL;
        ck_assert_msg(rk_json_parse(docs[k], strlen(docs[k]), &mine, err) == RK_OK, "%s: %s",
                      docs[k], err);
        ref = cJSON_ParseWithLength(docs[k], strlen(docs[k]));
        ck_assert_ptr_nonnull(ref);
        ck_assert_msg(cjson_same(mine, ref), "tree of %s differs from cJSON's", docs[k]);
        cJSON_Delete(mine);
        cJSON_Delete(ref);
    }
    ck_assert_int_eq(rk_json_parse(docs[3], strlen(docs[3]), &mine, err), RK_OK);
    for (i = 0, c = mine->child; c != NULL; c = c->next, i++)
        ck_assert_str_eq(rk_json_number_text(c), nums[i]);
    ck_assert_uint_eq(i, sizeof nums / sizeof nums[0]);
    cJSON_Delete(mine);
}
END_TEST

/*
 * Which duplicate is named: the first object in document order holding one
 * (an outer object before the objects inside it), its least duplicated key,
 * and only once the rest of the text has passed.  Objects of every size
 * (pairwise up to 16 members, sorted beyond, on the heap beyond 64).
 */
START_TEST(duplicate_key_order)
{
    char doc[4096], err[RK_ERROR_SIZE] = "";
    size_t n, i, members[] = { 16, 17, 64, 65, 200 };
    cJSON *root = NULL;

    bad("{\"b\":1,\"a\":1,\"b\":2,\"a\":2}", RK_ERR_INVALID, "json: $.a: duplicate key");
    bad("{\"x\":{\"a\":1,\"a\":2},\"x\":3}", RK_ERR_INVALID, "json: $.x: duplicate key");
    bad("{\"x\":{\"a\":1,\"a\":2},\"y\":{\"b\":1,\"b\":2}}", RK_ERR_INVALID,
        "json: $.x.a: duplicate key");
    bad("[{\"a\":1},{\"b\":[{\"c\":1,\"c\":1}],\"b\":2}]", RK_ERR_INVALID,
        "json: $[1].b: duplicate key");
    bad("[{\"a\":1},{\"b\":[{\"c\":1,\"c\":1}],\"d\":2},{\"e\":1,\"e\":2}]", RK_ERR_INVALID,
        "json: $[1].b[0].c: duplicate key");
    bad("{\"\\u00e9\":1,\"\xc3\xa9\":2}", RK_ERR_INVALID, "json: $[\"\xc3\xa9\"]: duplicate key");
    /* every other fault comes first */
    bad("{\"a\":1,\"a\":2,}", RK_ERR_INVALID, "json: expected a string key at line 1 column 14");
    bad("{\"a\":1,\"a\":2} x", RK_ERR_INVALID, "trailing characters after the document");
    bad("[{\"a\":1,\"a\":2},1.]", RK_ERR_INVALID, "json: invalid number at line 1 column 16");
    for (i = 0; i < sizeof members / sizeof members[0]; i++) {
        size_t m;

        /* members k0..k(n-1), then a second "k7" and a second "k3" */
        n = (size_t)snprintf(doc, sizeof doc, "{\"o\":{");
        for (m = 0; m < members[i] - 2; m++)
            n += (size_t)snprintf(doc + n, sizeof doc - n, "\"k%zu\":%zu,", m, m);
        n += (size_t)snprintf(doc + n, sizeof doc - n, "\"k7\":0,\"k3\":0}}");
        ck_assert_uint_lt(n, sizeof doc);
        bad(doc, RK_ERR_INVALID, "json: $.o.k3: duplicate key");
        /* without the duplicates it parses */
        n = (size_t)snprintf(doc, sizeof doc, "{\"o\":{");
        for (m = 0; m < members[i]; m++)
            n += (size_t)snprintf(doc + n, sizeof doc - n, "%s\"k%zu\":%zu", m ? "," : "", m, m);
        n += (size_t)snprintf(doc + n, sizeof doc - n, "}}");
        ck_assert_msg(rk_json_parse(doc, n, &root, err) == RK_OK, "%s", err);
        ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "o")),
                         (int)members[i]);
        cJSON_Delete(root);
    }
}
END_TEST

/* A cJSON allocator that fails from the `fail_at`-th call on and counts
 * what is still allocated. */
static long alloc_calls, alloc_live, fail_at;

static void *counting_malloc(size_t n)
{
    void *p;

    if (alloc_calls++ >= fail_at)
        return NULL;
    p = malloc(n);
    if (p != NULL)
        alloc_live++;
    return p;
}

static void counting_free(void *p)
{
    if (p != NULL)
        alloc_live--;
    free(p);
}

/* Every allocation failing in turn: RK_ERR_NOMEM, nothing leaks, *out untouched. */
START_TEST(parse_out_of_memory)
{
    static const char doc[] = "{\"a\":[1.5,\"x\\u00e9\",true,{\"k\":null,\"n\":-2e3}],"
                              "\"b\":\"plain text\",\"c\":{}}";
    cJSON_Hooks hooks = { counting_malloc, counting_free };
    char err[RK_ERROR_SIZE];
    cJSON *root, *sentinel = (cJSON *)&hooks;
    rk_err rc;

    cJSON_InitHooks(&hooks);
    for (fail_at = 0;; fail_at++) {
        alloc_calls = 0;
        alloc_live = 0;
        root = sentinel;
        err[0] = '\0';
        rc = rk_json_parse(doc, sizeof doc - 1, &root, err);
        if (rc == RK_OK)
            break;
        ck_assert_int_eq(rc, RK_ERR_NOMEM);
        ck_assert_str_eq(err, "json: out of memory");
        ck_assert_ptr_eq(root, sentinel);
        ck_assert_int_eq(alloc_live, 0);
    }
    ck_assert_int_gt(fail_at, 20); /* every node and string was one allocation */
    cJSON_Delete(root);
    ck_assert_int_eq(alloc_live, 0);
    cJSON_InitHooks(NULL);
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("canon");
    TCase *tc = tcase_create("canon");

    tcase_add_test(tc, key_sorting);
    tcase_add_test(tc, escapes);
    tcase_add_test(tc, nested);
    tcase_add_test(tc, duplicate_keys);
    tcase_add_test(tc, numbers_rejected);
    tcase_add_test(tc, any_number);
    tcase_add_test(tc, number_text_order);
    tcase_add_test(tc, invalid_utf8);
    tcase_add_test(tc, syntax_errors);
    tcase_add_test(tc, trailing_and_empty);
    tcase_add_test(tc, depth_limit);
    tcase_add_test(tc, check_canonical);
    tcase_add_test(tc, built_trees);
    tcase_add_test(tc, get_amount);
    tcase_add_test(tc, get_string_u64);
    tcase_add_test(tc, nowpayments_corpus);
    tcase_add_test(tc, corrupt_sweep);
    tcase_add_test(tc, message_paths);
    tcase_add_test(tc, check_agrees_with_normalize);
    tcase_add_test(tc, cursor_walks_members);
    tcase_add_test(tc, cursor_limits);
    tcase_add_test(tc, parse_object_collects_members);
    tcase_add_test(tc, parse_tape_lists_entries);
    tcase_add_test(tc, string_scan_every_byte);
    tcase_add_test(tc, put_string_matches_writer);
    tcase_add_test(tc, tree_matches_cjson);
    tcase_add_test(tc, duplicate_key_order);
    tcase_add_test(tc, parse_out_of_memory);
    suite_add_tcase(s, tc);
    return s;
}
