/* test_apikey.c - API keys: add, list, revoke, verify, the file and its damage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apikey.h"
#include "bytes.h"
#include "check_main.h"

#define T0 1795692930000000000LL

static char path[4200];

static void setup(void)
{
    char *d = rk_test_tmpdir();

    ck_assert_ptr_nonnull(d);
    snprintf(path, sizeof path, "%s/keys.json", d);
    free(d);
}

static void write_file(const char *text, mode_t mode)
{
    FILE *f = fopen(path, "wb");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

START_TEST(roles)
{
    rk_role r;

    ck_assert_int_eq(rk_role_parse("operator", &r), RK_OK);
    ck_assert_int_eq(r, RK_ROLE_OPERATOR);
    ck_assert_int_eq(rk_role_parse("admin", &r), RK_OK);
    ck_assert_int_eq(r, RK_ROLE_ADMIN);
    ck_assert_int_eq(rk_role_parse("Admin", &r), RK_ERR_INVALID);
    ck_assert_int_eq(rk_role_parse("root", &r), RK_ERR_INVALID);
    ck_assert_str_eq(rk_role_name(RK_ROLE_FINANCE), "finance");
    ck_assert_str_eq(rk_role_name(RK_ROLE_AUDITOR), "auditor");
    ck_assert_str_eq(rk_role_name((rk_role)9), "unknown");
}
END_TEST

START_TEST(add_save_load_verify_revoke)
{
    char err[RK_ERROR_SIZE] = "", k1[RK_APIKEY_TEXT_SIZE], k2[RK_APIKEY_TEXT_SIZE];
    char id1[RK_APIKEY_ID_SIZE], want[128];
    rk_apikeys *ks = rk_apikeys_new(), *back = NULL;
    const rk_apikey *a = NULL, *v = NULL;
    uint8_t raw[32], h[32];
    struct stat st;

    ck_assert_int_eq(rk_apikeys_load(path, &back, err), RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_apikeys_add(ks, "alice ops", RK_ROLE_OPERATOR, T0, k1, &a, err), RK_OK);
    memcpy(id1, a->id, sizeof id1);
    ck_assert_uint_eq(strlen(k1), 67);
    ck_assert(strncmp(k1, "rk_", 3) == 0);
    /* the stored hash is SHA-256 of the 32 key bytes, not of the text */
    ck_assert_int_eq(rk_hex_decode(raw, 32, k1 + 3, 64), RK_OK);
    rk_sha256(h, raw, 32);
    ck_assert(memcmp(h, a->sha256, 32) == 0);
    ck_assert_int_eq(rk_apikeys_add(ks, "bob", RK_ROLE_AUDITOR, T0 + 1, k2, NULL, err), RK_OK);
    ck_assert_str_ne(k1, k2);
    ck_assert_int_eq(rk_apikeys_save(ks, path, err), RK_OK);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);

    ck_assert_msg(rk_apikeys_load(path, &back, err) == RK_OK, "%s", err);
    ck_assert_uint_eq(back->n, 2);
    ck_assert_str_eq(back->keys[0].id, id1);
    ck_assert_str_eq(back->keys[0].name, "alice ops");
    ck_assert_int_eq(back->keys[0].role, RK_ROLE_OPERATOR);
    ck_assert(back->keys[0].created == T0);
    ck_assert_int_eq(back->keys[0].is_revoked, 0);
    ck_assert_int_eq(back->keys[1].role, RK_ROLE_AUDITOR);
    ck_assert_int_eq(rk_apikeys_verify(back, k1, strlen(k1), &v), RK_OK);
    ck_assert_str_eq(v->id, id1);
    ck_assert_int_eq(rk_apikeys_verify(back, k2, strlen(k2), &v), RK_OK);
    ck_assert_str_eq(v->name, "bob");
    /* a flipped digit, a short key, a missing prefix, upper case */
    k1[10] = k1[10] == '0' ? '1' : '0';
    ck_assert_int_eq(rk_apikeys_verify(back, k1, strlen(k1), &v), RK_ERR_NOTFOUND);
    ck_assert_ptr_null(v);
    k1[10] = k1[10] == '0' ? '1' : '0';
    ck_assert_int_eq(rk_apikeys_verify(back, k1, strlen(k1) - 1, &v), RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_apikeys_verify(back, k1 + 3, strlen(k1) - 3, &v), RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_apikeys_verify(back, "", 0, &v), RK_ERR_NOTFOUND);

    ck_assert_int_eq(rk_apikeys_revoke(back, id1, T0 + 5, err), RK_OK);
    ck_assert_int_eq(rk_apikeys_revoke(back, id1, T0 + 6, err), RK_ERR_EXISTS);
    snprintf(want, sizeof want, "key '%s' is revoked already", id1);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(rk_apikeys_revoke(back, "0000000000000000", T0, err), RK_ERR_NOTFOUND);
    ck_assert_str_eq(err, "no key with id '0000000000000000'");
    /* a revoked key no longer verifies; the other one still does */
    ck_assert_int_eq(rk_apikeys_verify(back, k1, strlen(k1), &v), RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_apikeys_verify(back, k2, strlen(k2), &v), RK_OK);
    ck_assert_int_eq(rk_apikeys_save(back, path, err), RK_OK);
    rk_apikeys_free(back);
    ck_assert_int_eq(rk_apikeys_load(path, &back, err), RK_OK);
    ck_assert_int_eq(back->keys[0].is_revoked, 1);
    ck_assert(back->keys[0].revoked == T0 + 5);
    ck_assert_int_eq(rk_apikeys_verify(back, k1, strlen(k1), &v), RK_ERR_NOTFOUND);
    rk_apikeys_free(back);
    rk_apikeys_free(ks);
    rk_apikeys_free(NULL);
}
END_TEST

/* The exact bytes of a file: canonical JSON, one line. */
START_TEST(file_bytes)
{
    char err[RK_ERROR_SIZE] = "", k[RK_APIKEY_TEXT_SIZE], want[1024], got[1024];
    rk_apikeys *ks = rk_apikeys_new();
    const rk_apikey *a;
    FILE *f;
    size_t n;

    ck_assert_int_eq(rk_apikeys_add(ks, "ci", RK_ROLE_ADMIN, 0, k, &a, err), RK_OK);
    ck_assert_int_eq(rk_apikeys_revoke(ks, a->id, 1000000001, err), RK_OK);
    ck_assert_int_eq(rk_apikeys_save(ks, path, err), RK_OK);
    f = fopen(path, "rb");
    n = fread(got, 1, sizeof got - 1, f);
    got[n] = '\0';
    fclose(f);
    snprintf(want, sizeof want,
             "{\"keys\":[{\"created\":\"1970-01-01T00:00:00.000000000Z\",\"id\":\"%s\","
             "\"name\":\"ci\",\"revoked\":\"1970-01-01T00:00:01.000000001Z\","
             "\"role\":\"admin\",\"sha256\":\"", a->id);
    ck_assert(strncmp(got, want, strlen(want)) == 0);
    ck_assert_str_eq(got + strlen(want) + 64, "\"}],\"v\":1}\n");
    rk_apikeys_free(ks);
}
END_TEST

START_TEST(add_errors)
{
    char err[RK_ERROR_SIZE] = "", k[RK_APIKEY_TEXT_SIZE], name[80];
    rk_apikeys *ks = rk_apikeys_new();

    ck_assert_int_eq(rk_apikeys_add(ks, "", RK_ROLE_ADMIN, 0, k, NULL, err), RK_ERR_INVALID);
    ck_assert_str_eq(err, "key name must be 1 to 64 printable ASCII characters");
    ck_assert_int_eq(rk_apikeys_add(ks, "tab\there", RK_ROLE_ADMIN, 0, k, NULL, err),
                     RK_ERR_INVALID);
    memset(name, 'n', 65);
    name[65] = '\0';
    ck_assert_int_eq(rk_apikeys_add(ks, name, RK_ROLE_ADMIN, 0, k, NULL, err), RK_ERR_INVALID);
    name[64] = '\0';
    ck_assert_int_eq(rk_apikeys_add(ks, name, RK_ROLE_ADMIN, 0, k, NULL, err), RK_OK);
    ck_assert_int_eq(rk_apikeys_add(ks, "x", (rk_role)0, 0, k, NULL, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_apikeys_add(ks, "x", (rk_role)5, 0, k, NULL, err), RK_ERR_INVALID);
    ck_assert_uint_eq(ks->n, 1);
    rk_apikeys_free(ks);
}
END_TEST

#define ENTRY(extra) "{\"created\":\"2026-01-01T00:00:00Z\",\"id\":\"0123456789abcdef\"," \
    "\"name\":\"n\",\"role\":\"admin\",\"sha256\":\"" \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"" extra "}"

static const struct {
    const char *text;
    rk_err rc;
} damaged[] = {
    { "", RK_ERR_CORRUPT },
    { "{\"keys\":[]", RK_ERR_CORRUPT },
    { "[]", RK_ERR_CORRUPT },
    { "{\"keys\":[]}", RK_ERR_CORRUPT },
    { "{\"keys\":[],\"v\":2}", RK_ERR_VERSION },
    { "{\"keys\":{},\"v\":1}", RK_ERR_CORRUPT },
    { "{\"keys\":[],\"v\":1,\"x\":0}", RK_ERR_CORRUPT },
    { "{\"keys\":[1],\"v\":1}", RK_ERR_CORRUPT },
    { "{\"keys\":[" ENTRY(",\"extra\":1") "],\"v\":1}", RK_ERR_CORRUPT },
    { "{\"keys\":[" ENTRY(",\"revoked\":\"yesterday\"") "],\"v\":1}", RK_ERR_CORRUPT },
    { "{\"keys\":[" ENTRY("") "," ENTRY("") "],\"v\":1}", RK_ERR_CORRUPT },
    { "{\"keys\":[{\"created\":\"2026-01-01T00:00:00Z\",\"id\":\"0123456789ABCDEF\","
      "\"name\":\"n\",\"role\":\"admin\",\"sha256\":\"00\"}],\"v\":1}", RK_ERR_CORRUPT },
    { "{\"keys\":[{\"created\":\"2026-01-01T00:00:00Z\",\"id\":\"0123456789abcdef\","
      "\"name\":\"n\",\"role\":\"root\",\"sha256\":\"00\"}],\"v\":1}", RK_ERR_CORRUPT },
};

START_TEST(corrupt)
{
    char err[RK_ERROR_SIZE] = "";
    rk_apikeys *ks = NULL;

    write_file(damaged[_i].text, 0600);
    ck_assert_msg(rk_apikeys_load(path, &ks, err) == damaged[_i].rc, "case %d: %s", _i, err);
    ck_assert_ptr_null(ks);
    ck_assert(strstr(err, "keys.json") != NULL);
}
END_TEST

START_TEST(limits)
{
    char err[RK_ERROR_SIZE] = "";
    rk_apikeys *ks = NULL;

    /* the good entry loads; group-readable is refused */
    write_file("{\"keys\":[" ENTRY("") "],\"v\":1}", 0600);
    ck_assert_msg(rk_apikeys_load(path, &ks, err) == RK_OK, "%s", err);
    ck_assert_uint_eq(ks->n, 1);
    rk_apikeys_free(ks);
    ks = NULL;
    chmod(path, 0640);
    ck_assert_int_eq(rk_apikeys_load(path, &ks, err), RK_ERR_PERMISSION);
    ck_assert(strstr(err, "chmod 600") != NULL);
    /* saving into a directory that does not exist fails and leaves nothing */
    ks = rk_apikeys_new();
    ck_assert_int_eq(rk_apikeys_save(ks, "/nonexistent-dir/keys.json", err), RK_ERR_IO);
    rk_apikeys_free(ks);
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("apikey");
    TCase *tc = tcase_create("apikey");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, roles);
    tcase_add_test(tc, add_save_load_verify_revoke);
    tcase_add_test(tc, file_bytes);
    tcase_add_test(tc, add_errors);
    tcase_add_loop_test(tc, corrupt, 0, (int)(sizeof damaged / sizeof damaged[0]));
    tcase_add_test(tc, limits);
    suite_add_tcase(s, tc);
    return s;
}
