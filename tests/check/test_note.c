/* test_note.c - signed notes, checkpoints, tlog proofs, key files, minisign. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "note.h"

/* ---- helpers --------------------------------------------------------- */

/* Read tests/vectors/note/<name> (or $RK_VECTORS/note/<name>) into b. */
static void read_vector(const char *name, rk_buf *b)
{
    const char *dir = getenv("RK_VECTORS");
    char path[4096];
    char err[RK_ERROR_SIZE] = "";

    snprintf(path, sizeof path, "%s/note/%s",
             dir != NULL && dir[0] != '\0' ? dir : "tests/vectors", name);
    rk_buf_reset(b);
    ck_assert_msg(rk_buf_read_file(b, path, 1 << 20, err) == RK_OK, "%s", err);
}

static void write_file(const char *path, const void *data, size_t len,
                       mode_t mode)
{
    int fd;

    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
    ck_assert_int_eq(fchmod(fd, mode), 0);
    close(fd);
}

static rk_verifier *peter_verifier(void)
{
    rk_buf b = RK_BUF_INIT;
    rk_verifier *v = NULL;
    char err[RK_ERROR_SIZE] = "";

    read_vector("go-peterneumann.vkey", &b);
    ck_assert(b.len > 0 && b.data[b.len - 1] == '\n');
    b.data[--b.len] = '\0';
    ck_assert_msg(rk_verifier_from_note_key((char *)b.data, &v, err) == RK_OK,
                  "%s", err);
    rk_buf_free(&b);
    return v;
}

static const char peter_text[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";

static rk_signer *new_signer(const char *name)
{
    rk_signer *s = NULL;
    char err[RK_ERROR_SIZE] = "";

    ck_assert_msg(rk_signer_generate(name, &s, err) == RK_OK, "%s", err);
    return s;
}

/* ---- signed notes: published vectors --------------------------------- */

START_TEST(go_vector_verifies)
{
    rk_verifier *v = peter_verifier();
    rk_buf note = RK_BUF_INIT, vkey = RK_BUF_INIT, want = RK_BUF_INIT;
    char err[RK_ERROR_SIZE] = "";
    size_t tlen = 0;

    ck_assert_str_eq(rk_verifier_name(v), "PeterNeumann");
    ck_assert_uint_eq(rk_verifier_note_id(v), 0xc74f20a3u);
    ck_assert_int_eq(rk_verifier_note_key(v, &vkey), RK_OK);
    read_vector("go-peterneumann.vkey", &want);
    ck_assert_uint_eq(vkey.len + 1, want.len);
    ck_assert(memcmp(vkey.data, want.data, vkey.len) == 0);

    read_vector("go-peterneumann.note", &note);
    ck_assert_msg(rk_note_verify(v, (char *)note.data, note.len, &tlen, err)
                  == RK_OK, "%s", err);
    ck_assert_uint_eq(tlen, strlen(peter_text));
    ck_assert(memcmp(note.data, peter_text, tlen) == 0);

    /* a second, unknown signer is ignored */
    read_vector("go-peterneumann-enochroot.note", &note);
    ck_assert_int_eq(rk_note_verify(v, (char *)note.data, note.len, &tlen, err),
                     RK_OK);
    ck_assert_uint_eq(tlen, strlen(peter_text));
    rk_buf_free(&note);
    rk_buf_free(&vkey);
    rk_buf_free(&want);
    rk_verifier_free(v);
}
END_TEST

START_TEST(go_vector_any_changed_byte_fails)
{
    rk_verifier *v = peter_verifier();
    rk_buf note = RK_BUF_INIT;
    char err[RK_ERROR_SIZE] = "";
    size_t i, tlen = 0;
    char *p;

    read_vector("go-peterneumann.note", &note);
    p = (char *)note.data;
    for (i = 0; i < note.len; i++) {
        p[i] ^= 0x01;
        ck_assert_msg(rk_note_verify(v, p, note.len, &tlen, err) != RK_OK,
                      "byte %zu flipped still verifies", i);
        p[i] ^= 0x01;
    }
    /* a changed text byte is a bad signature, not a malformed note */
    p[strstr(p, "cryptography") - p + 11] = 'Y';
    ck_assert_int_eq(rk_note_verify(v, p, note.len, &tlen, err),
                     RK_ERR_SIGNATURE);
    ck_assert_ptr_nonnull(strstr(err, "does not verify"));
    p[strstr(p, "cryptographY") - p + 11] = 'y';
    /* a changed signature byte (past the key id) likewise */
    p[note.len - 10] = p[note.len - 10] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(rk_note_verify(v, p, note.len, &tlen, err),
                     RK_ERR_SIGNATURE);
    /* truncations */
    for (i = 0; i < note.len; i++)
        ck_assert(rk_note_verify(v, p, i, &tlen, err) != RK_OK);
    rk_buf_free(&note);
    rk_verifier_free(v);
}
END_TEST

START_TEST(go_vector_signing_reproduces_note)
{
    static const char prefix[] = "PRIVATE+KEY+PeterNeumann+c74f20a3+";
    rk_buf skey = RK_BUF_INIT, note = RK_BUF_INIT, out = RK_BUF_INIT;
    uint8_t key[33];
    size_t n = 0;
    rk_signer *s = NULL;
    rk_verifier *v;
    char err[RK_ERROR_SIZE] = "";

    read_vector("go-peterneumann.skey", &skey);
    ck_assert(memcmp(skey.data, prefix, strlen(prefix)) == 0);
    ck_assert_int_eq(rk_b64_decode(key, sizeof key, &n,
                                   (char *)skey.data + strlen(prefix),
                                   skey.len - strlen(prefix) - 1), RK_OK);
    ck_assert_uint_eq(n, 33);
    ck_assert_int_eq(key[0], 0x01);
    ck_assert_int_eq(rk_signer_from_seed("PeterNeumann", key + 1, &s, err),
                     RK_OK);
    v = rk_signer_verifier(s);
    ck_assert_uint_eq(rk_verifier_note_id(v), 0xc74f20a3u);
    ck_assert_int_eq(rk_note_sign(s, peter_text, strlen(peter_text), &out, err),
                     RK_OK);
    read_vector("go-peterneumann.note", &note);
    ck_assert_uint_eq(out.len, note.len);
    ck_assert(memcmp(out.data, note.data, note.len) == 0);
    rk_verifier_free(v);
    rk_signer_free(s);
    rk_buf_free(&skey);
    rk_buf_free(&note);
    rk_buf_free(&out);
}
END_TEST

START_TEST(c2sp_vector_unknown_signer)
{
    rk_verifier *peter = peter_verifier();
    rk_signer *s = new_signer("quasimodo.example/salvatore");
    rk_verifier *same_name = rk_signer_verifier(s);
    rk_buf note = RK_BUF_INIT;
    char err[RK_ERROR_SIZE] = "";
    size_t tlen = 0;

    /* well-formed (its text has a blank line of its own), but by a key we
     * do not know: the name matches, the key id does not */
    read_vector("c2sp-signed-note.note", &note);
    ck_assert_int_eq(rk_note_verify(peter, (char *)note.data, note.len, &tlen,
                                    err), RK_ERR_SIGNATURE);
    ck_assert_ptr_nonnull(strstr(err, "no signature by 'PeterNeumann'"));
    ck_assert_int_eq(rk_note_verify(same_name, (char *)note.data, note.len,
                                    &tlen, err), RK_ERR_SIGNATURE);
    rk_buf_free(&note);
    rk_verifier_free(peter);
    rk_verifier_free(same_name);
    rk_signer_free(s);
}
END_TEST

/* ---- signed notes: round trip and malformed input --------------------- */

START_TEST(note_round_trip)
{
    rk_signer *a = new_signer("example.com/a"), *b = new_signer("example.com/b");
    rk_signer *a2 = new_signer("example.com/a");
    rk_verifier *va = rk_signer_verifier(a), *vb = rk_signer_verifier(b);
    rk_verifier *va2 = rk_signer_verifier(a2);
    rk_buf n1 = RK_BUF_INIT, n2 = RK_BUF_INIT;
    static const char text[] = "line one\n\nline three after a blank\n";
    char err[RK_ERROR_SIZE] = "";
    size_t tlen = 0;

    ck_assert_int_eq(rk_note_sign(a, text, strlen(text), &n1, err), RK_OK);
    ck_assert_int_eq(rk_note_verify(va, (char *)n1.data, n1.len, &tlen, err),
                     RK_OK);
    ck_assert_uint_eq(tlen, strlen(text));
    ck_assert_int_eq(rk_note_verify(vb, (char *)n1.data, n1.len, &tlen, err),
                     RK_ERR_SIGNATURE);
    /* same name, different key: another key id, so ignored */
    ck_assert_int_eq(rk_note_verify(va2, (char *)n1.data, n1.len, &tlen, err),
                     RK_ERR_SIGNATURE);
    /* cosign: B's signature line appended after A's */
    ck_assert_int_eq(rk_note_sign(b, text, strlen(text), &n2, err), RK_OK);
    ck_assert_int_eq(rk_buf_append(&n1, n2.data + strlen(text) + 1,
                                   n2.len - strlen(text) - 1), RK_OK);
    ck_assert_int_eq(rk_note_verify(va, (char *)n1.data, n1.len, NULL, err),
                     RK_OK);
    ck_assert_int_eq(rk_note_verify(vb, (char *)n1.data, n1.len, NULL, err),
                     RK_OK);
    rk_buf_free(&n1);
    rk_buf_free(&n2);
    rk_verifier_free(va);
    rk_verifier_free(vb);
    rk_verifier_free(va2);
    rk_signer_free(a);
    rk_signer_free(a2);
    rk_signer_free(b);
}
END_TEST

START_TEST(note_malformed)
{
    rk_signer *s = new_signer("example.com/m");
    rk_verifier *v = rk_signer_verifier(s);
    rk_buf n = RK_BUF_INIT, m = RK_BUF_INIT;
    char err[RK_ERROR_SIZE] = "";
    const char *sigline;
    char *big;
    size_t i, sl;

    /* signing refuses bad text */
    ck_assert_int_eq(rk_note_sign(s, "", 0, &n, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_note_sign(s, "no newline", 10, &n, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_note_sign(s, "tab\there\n", 9, &n, err), RK_ERR_INVALID);
    ck_assert_int_eq(rk_note_sign(s, "bad \xff utf8\n", 11, &n, err),
                     RK_ERR_INVALID);
    ck_assert_int_eq(rk_note_sign(s, "nul\0x\n", 6, &n, err), RK_ERR_INVALID);
    ck_assert_uint_eq(n.len, 0);

    ck_assert_int_eq(rk_note_sign(s, "hello\n", 6, &n, err), RK_OK);
    sigline = (char *)n.data + 7;
    sl = n.len - 7;
#define V(str) rk_note_verify(v, (str), strlen(str), NULL, err)
    ck_assert_int_eq(V("hello\n"), RK_ERR_INVALID);        /* no signatures */
    ck_assert_int_eq(V("hello\n\n"), RK_ERR_INVALID);      /* empty block */
    ck_assert_int_eq(V("hello\n\n- x AAAAAAAA\n"), RK_ERR_INVALID);
    ck_assert_int_eq(V("hello\n\n\xe2\x80\x94 x\n"), RK_ERR_INVALID);
    ck_assert_int_eq(V("hello\n\n\xe2\x80\x94 x AAAA\n"), RK_ERR_INVALID);
    ck_assert_int_eq(V("hello\n\n\xe2\x80\x94 x AAAAAAA=\n"), RK_ERR_SIGNATURE);
    ck_assert_int_eq(V("hello\n\n\xe2\x80\x94 x AAAA!AAA\n"), RK_ERR_INVALID);
    ck_assert_int_eq(V("hello\n\n\xe2\x80\x94 a+b AAAAAAA=\n"), RK_ERR_INVALID);
    ck_assert_int_eq(V("hello\n\n\xe2\x80\x94  AAAAAAA=\n"), RK_ERR_INVALID);
    ck_assert_int_eq(V("hel\x01lo\n\n\xe2\x80\x94 x AAAAAAA=\n"),
                     RK_ERR_INVALID);
    ck_assert_int_eq(V("hello \xc0\xaf\n\n\xe2\x80\x94 x AAAAAAA=\n"),
                     RK_ERR_INVALID); /* overlong UTF-8 */
    /* the real signature line, but unterminated */
    ck_assert_int_eq(rk_note_verify(v, (char *)n.data, n.len - 1, NULL, err),
                     RK_ERR_INVALID);
    /* a good line plus a bad line by the same key: the note is rejected */
    ck_assert_int_eq(rk_buf_append(&m, n.data, n.len), RK_OK);
    ck_assert_int_eq(rk_buf_append(&m, sigline, sl), RK_OK);
    /* a character well inside the base64 (the last ones carry padding
     * bits, whose change is a malformed line, not a bad signature) */
    m.data[m.len - 10] = m.data[m.len - 10] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(rk_note_verify(v, (char *)m.data, m.len, NULL, err),
                     RK_ERR_SIGNATURE);
    /* a line by our name and key id whose signature is too short */
    rk_buf_reset(&m);
    ck_assert_int_eq(rk_buf_append(&m, n.data, n.len - 6), RK_OK);
    ck_assert_int_eq(rk_buf_puts(&m, "\n"), RK_OK);
    ck_assert(rk_note_verify(v, (char *)m.data, m.len, NULL, err) != RK_OK);
    /* too many signature lines */
    rk_buf_reset(&m);
    ck_assert_int_eq(rk_buf_append(&m, n.data, n.len), RK_OK);
    for (i = 0; i < RK_NOTE_MAX_SIGS; i++)
        ck_assert_int_eq(rk_buf_puts(&m, "\xe2\x80\x94 other AAAAAAA=\n"),
                         RK_OK);
    ck_assert_int_eq(rk_note_verify(v, (char *)m.data, m.len, NULL, err),
                     RK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "more than 100"));
    /* size limit */
    big = malloc(RK_NOTE_MAX + 2);
    ck_assert_ptr_nonnull(big);
    memset(big, 'a', RK_NOTE_MAX + 1);
    big[RK_NOTE_MAX] = '\n';
    ck_assert_int_eq(rk_note_sign(s, big, RK_NOTE_MAX + 1, &m, err),
                     RK_ERR_TOOBIG);
    ck_assert_int_eq(rk_note_verify(v, big, RK_NOTE_MAX + 1, NULL, err),
                     RK_ERR_TOOBIG);
    free(big);
#undef V
    rk_buf_free(&n);
    rk_buf_free(&m);
    rk_verifier_free(v);
    rk_signer_free(s);
}
END_TEST

START_TEST(key_names)
{
    char longname[RK_KEY_NAME_MAX + 2];
    rk_signer *s = NULL;
    char err[RK_ERROR_SIZE] = "";

    ck_assert(rk_key_name_valid("example.com/log"));
    ck_assert(rk_key_name_valid("caf\xc3\xa9"));
    ck_assert(!rk_key_name_valid(""));
    ck_assert(!rk_key_name_valid(NULL));
    ck_assert(!rk_key_name_valid("a b"));
    ck_assert(!rk_key_name_valid("a+b"));
    ck_assert(!rk_key_name_valid("a\tb"));
    ck_assert(!rk_key_name_valid("a\xc2\xa0" "b"));     /* no-break space */
    ck_assert(!rk_key_name_valid("a\xe3\x80\x80" "b")); /* ideographic space */
    ck_assert(!rk_key_name_valid("a\xff"));
    memset(longname, 'x', sizeof longname - 1);
    longname[RK_KEY_NAME_MAX] = '\0';
    ck_assert(rk_key_name_valid(longname));
    longname[RK_KEY_NAME_MAX] = 'x';
    longname[RK_KEY_NAME_MAX + 1] = '\0';
    ck_assert(!rk_key_name_valid(longname));
    ck_assert_int_eq(rk_signer_generate("bad name", &s, err), RK_ERR_INVALID);
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(note_key_parse_errors)
{
    static const char vkey[] =
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    char b[sizeof vkey];
    rk_verifier *v = NULL;
    char err[RK_ERROR_SIZE] = "";
    size_t i, j;

    ck_assert_int_eq(rk_verifier_from_note_key(vkey, &v, err), RK_OK);
    rk_verifier_free(v);
    /* every changed byte and every proper substring is rejected */
    for (i = 0; i < strlen(vkey); i++) {
        memcpy(b, vkey, sizeof vkey);
        b[i]++;
        ck_assert_msg(rk_verifier_from_note_key(b, &v, err) == RK_ERR_INVALID,
                      "byte %zu", i);
        ck_assert_ptr_null(v);
    }
    for (i = 0; i < strlen(vkey); i++)
        for (j = i + 1; j <= strlen(vkey); j++) {
            if (i == 0 && j == strlen(vkey))
                continue;
            memcpy(b, vkey + i, j - i);
            b[j - i] = '\0';
            ck_assert(rk_verifier_from_note_key(b, &v, err) == RK_ERR_INVALID);
        }
}
END_TEST

/* ---- checkpoints ----------------------------------------------------- */

START_TEST(checkpoint_round_trip)
{
    rk_checkpoint c, d;
    rk_buf b = RK_BUF_INIT;
    char err[RK_ERROR_SIZE] = "";
    char hex[65];
    size_t i;

    memset(&c, 0, sizeof c);
    strcpy(c.origin, "example.com/reckon");
    c.size = 18446744073709551615ULL;
    for (i = 0; i < 32; i++)
        c.root[i] = (uint8_t)(i * 7);
    ck_assert_int_eq(rk_checkpoint_format(&c, &b), RK_OK);
    ck_assert_str_eq((char *)b.data,
                     "example.com/reckon\n18446744073709551615\n"
                     "AAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk=\n");
    ck_assert_int_eq(rk_checkpoint_parse((char *)b.data, b.len, &d, err), RK_OK);
    ck_assert_str_eq(d.origin, c.origin);
    ck_assert(d.size == c.size);
    ck_assert(memcmp(d.root, c.root, 32) == 0);

    /* the C2SP example, as the text of its note */
    read_vector("c2sp-checkpoint.note", &b);
    ck_assert_int_eq(rk_checkpoint_parse((char *)b.data,
                                         strstr((char *)b.data, "\n\n") -
                                             (char *)b.data + 1, &d, err),
                     RK_OK);
    ck_assert_str_eq(d.origin, "example.com/behind-the-sofa");
    ck_assert(d.size == 20852163);
    rk_hex_encode(hex, d.root, 32);
    ck_assert_str_eq(hex, "0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62");
    /* the whole note is not a checkpoint text: the blank line is an empty
     * extension line */
    ck_assert_int_eq(rk_checkpoint_parse((char *)b.data, b.len, &d, err),
                     RK_ERR_INVALID);

    /* sign and verify a checkpoint end to end */
    {
        rk_signer *s = new_signer("example.com/reckon");
        rk_verifier *v = rk_signer_verifier(s);
        rk_buf body = RK_BUF_INIT, note = RK_BUF_INIT;
        size_t tlen = 0;

        ck_assert_int_eq(rk_checkpoint_format(&c, &body), RK_OK);
        ck_assert_int_eq(rk_note_sign(s, (char *)body.data, body.len, &note,
                                      err), RK_OK);
        ck_assert_int_eq(rk_note_verify(v, (char *)note.data, note.len, &tlen,
                                        err), RK_OK);
        ck_assert_int_eq(rk_checkpoint_parse((char *)note.data, tlen, &d, err),
                         RK_OK);
        ck_assert(d.size == c.size);
        rk_buf_free(&body);
        rk_buf_free(&note);
        rk_verifier_free(v);
        rk_signer_free(s);
    }
    rk_buf_free(&b);
}
END_TEST

START_TEST(checkpoint_corrupt)
{
    static const char root[] = "AAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk=";
    static const struct {
        const char *text;
        rk_err rc;
    } cases[] = {
        { "", RK_ERR_INVALID },
        { "o", RK_ERR_INVALID },
        { "o\n", RK_ERR_INVALID },
        { "o\n5\n", RK_ERR_INVALID },
        { "\n5\nROOT\n", RK_ERR_INVALID },
        { "o\n\nROOT\n", RK_ERR_INVALID },
        { "o\n5\nROOT", RK_ERR_INVALID },
        { "o\n12a\nROOT\n", RK_ERR_INVALID },
        { "o\n-1\nROOT\n", RK_ERR_INVALID },
        { "o\n+1\nROOT\n", RK_ERR_INVALID },
        { "o\n 1\nROOT\n", RK_ERR_INVALID },
        { "o\n007\nROOT\n", RK_ERR_INVALID },
        { "o\n00\nROOT\n", RK_ERR_INVALID },
        { "o\n18446744073709551616\nROOT\n", RK_ERR_RANGE },
        { "o\n5\nAAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk\n", RK_ERR_INVALID },
        { "o\n5\nAAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk==\n", RK_ERR_INVALID },
        { "o\n5\nAAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0t!=\n", RK_ERR_INVALID },
        { "o\n5\nAAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL\n", RK_ERR_INVALID },
        { "o\n5\nROOT\ngarbage", RK_ERR_INVALID },
        { "o\n5\nROOT\n\n", RK_ERR_INVALID },
        { "o\n5\nROOT\next\n\n", RK_ERR_INVALID },
        { "o\x01\n5\nROOT\n", RK_ERR_INVALID },
        { "o\n0\nROOT\n", RK_OK },
        { "o\n5\nROOT\next one\next two\n", RK_OK },
    };
    char text[512], err[RK_ERROR_SIZE];
    rk_checkpoint c;
    rk_buf b = RK_BUF_INIT;
    size_t i;
    char *p;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* substitute the root placeholder */
        const char *r = strstr(cases[i].text, "ROOT");
        if (r != NULL)
            snprintf(text, sizeof text, "%.*s%s%s", (int)(r - cases[i].text),
                     cases[i].text, root, r + 4);
        else
            snprintf(text, sizeof text, "%s", cases[i].text);
        ck_assert_msg(rk_checkpoint_parse(text, strlen(text), &c, err)
                      == cases[i].rc, "case %zu", i);
    }
    /* origin too long for the struct */
    p = malloc(400);
    ck_assert_ptr_nonnull(p);
    memset(p, 'o', 256);
    snprintf(p + 256, 400 - 256, "\n5\n%s\n", root);
    ck_assert_int_eq(rk_checkpoint_parse(p, strlen(p), &c, err), RK_ERR_INVALID);
    free(p);
    /* format refuses bad origins */
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(rk_checkpoint_format(&c, &b), RK_ERR_INVALID);
    strcpy(c.origin, "two\nlines");
    ck_assert_int_eq(rk_checkpoint_format(&c, &b), RK_ERR_INVALID);
    memset(c.origin, 'x', sizeof c.origin); /* unterminated */
    ck_assert_int_eq(rk_checkpoint_format(&c, &b), RK_ERR_INVALID);
    ck_assert_uint_eq(b.len, 0);
    rk_buf_free(&b);
}
END_TEST

/* ---- tlog proofs ----------------------------------------------------- */

START_TEST(tlog_proof_round_trip)
{
    static const char cp[] = "example.com/log\n9\n"
                             "AAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk=\n"
                             "\n\xe2\x80\x94 example.com/log AAAAAAA=\n";
    uint8_t proof[3][32], got[4][32];
    rk_buf b = RK_BUF_INIT;
    char err[RK_ERROR_SIZE] = "";
    uint64_t index = 0;
    size_t n = 99, off = 0, i;
    rk_checkpoint c;

    for (i = 0; i < 3 * 32; i++)
        proof[i / 32][i % 32] = (uint8_t)(i + 1);
    ck_assert_int_eq(rk_tlog_proof_format(7, (const uint8_t(*)[32])proof, 3, cp,
                                          strlen(cp), &b), RK_OK);
    ck_assert(memcmp(b.data, "c2sp.org/tlog-proof@v1\nindex 7\n", 31) == 0);
    ck_assert_int_eq(rk_tlog_proof_parse((char *)b.data, b.len, &index, got, 4,
                                         &n, &off, err), RK_OK);
    ck_assert(index == 7);
    ck_assert_uint_eq(n, 3);
    ck_assert(memcmp(got, proof, sizeof proof) == 0);
    ck_assert_uint_eq(b.len - off, strlen(cp));
    ck_assert(memcmp(b.data + off, cp, strlen(cp)) == 0);

    /* no hashes (a tree of one leaf) */
    rk_buf_reset(&b);
    ck_assert_int_eq(rk_tlog_proof_format(0, NULL, 0, cp, strlen(cp), &b), RK_OK);
    ck_assert(memcmp(b.data, "c2sp.org/tlog-proof@v1\nindex 0\n\n", 32) == 0);
    ck_assert_int_eq(rk_tlog_proof_parse((char *)b.data, b.len, &index, got, 4,
                                         &n, &off, err), RK_OK);
    ck_assert(index == 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(off, 32);

    /* the C2SP example (with its "extra" line) */
    read_vector("c2sp-tlog-proof.txt", &b);
    ck_assert_msg(rk_tlog_proof_parse((char *)b.data, b.len, &index, got, 4, &n,
                                      &off, err) == RK_ERR_TOOBIG, "%s", err);
    {
        uint8_t all[8][32];
        char hex[65];

        ck_assert_int_eq(rk_tlog_proof_parse((char *)b.data, b.len, &index, all,
                                             8, &n, &off, err), RK_OK);
        ck_assert(index == 73894);
        ck_assert_uint_eq(n, 5);
        rk_hex_encode(hex, all[0], 32);
        ck_assert_str_eq(hex, "8122b25e861952067a8ddb9662b9033804629ce30626f7978e032405371d3e54");
        ck_assert_int_eq(rk_checkpoint_parse((char *)b.data + off,
                                             strstr((char *)b.data + off, "\n\n") -
                                                 ((char *)b.data + off) + 1,
                                             &c, err), RK_OK);
        ck_assert_str_eq(c.origin, "example.com/fancylog");
        ck_assert(c.size == 109482);
    }
    rk_buf_free(&b);
}
END_TEST

START_TEST(tlog_proof_corrupt)
{
    static const char h[] = "AAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk=";
    static const struct {
        const char *text;
        rk_err rc;
    } cases[] = {
        { "", RK_ERR_INVALID },
        { "hello\n", RK_ERR_INVALID },
        { "c2sp.org/tlog-proof@v2\nindex 1\n\ncp\n", RK_ERR_VERSION },
        { "c2sp.org/tlog-proof@v1", RK_ERR_INVALID },
        { "c2sp.org/tlog-proof@v1\n", RK_ERR_INVALID },
        { "c2sp.org/tlog-proof@v1\n\ncp\n", RK_ERR_INVALID },
        { "c2sp.org/tlog-proof@v1\nindex\n\ncp\n", RK_ERR_INVALID },
        { "c2sp.org/tlog-proof@v1\nindex \n\ncp\n", RK_ERR_INVALID },
        { "c2sp.org/tlog-proof@v1\nindex 01\n\ncp\n", RK_ERR_INVALID },
        { "c2sp.org/tlog-proof@v1\nindex -1\n\ncp\n", RK_ERR_INVALID },
        { "c2sp.org/tlog-proof@v1\nindex 1x\n\ncp\n", RK_ERR_INVALID },
        { "c2sp.org/tlog-proof@v1\nindex 18446744073709551616\n\ncp\n",
          RK_ERR_RANGE },
        { "c2sp.org/tlog-proof@v1\nextra !!!!\nindex 1\n\ncp\n", RK_ERR_INVALID },
        { "c2sp.org/tlog-proof@v1\nextra \nindex 1\n\ncp\n", RK_ERR_INVALID },
        { "c2sp.org/tlog-proof@v1\nextra AAAA\n", RK_ERR_INVALID },
        { "c2sp.org/tlog-proof@v1\nindex 1\nHASH\nHASH\ncp\n", RK_ERR_INVALID },
        { "c2sp.org/tlog-proof@v1\nindex 1\nHASH\nAAAA\n\ncp\n", RK_ERR_INVALID },
        { "c2sp.org/tlog-proof@v1\nindex 1\nHASH\n", RK_ERR_INVALID },
        { "c2sp.org/tlog-proof@v1\nindex 1\nHASH\n\n", RK_ERR_INVALID },
        { "c2sp.org/tlog-proof@v1\nindex 1\nHASH\nHASH\nHASH\n\ncp\n",
          RK_ERR_TOOBIG },
        { "c2sp.org/tlog-proof@v1\nextra AAAA\nindex 1\nHASH\nHASH\n\ncp\n",
          RK_OK },
    };
    char text[512], err[RK_ERROR_SIZE];
    uint8_t proof[2][32];
    uint64_t index;
    size_t i, n, off;
    rk_buf b = RK_BUF_INIT;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *src = cases[i].text;
        char *o = text;
        while (*src != '\0') {
            if (strncmp(src, "HASH", 4) == 0) {
                memcpy(o, h, strlen(h));
                o += strlen(h);
                src += 4;
            } else {
                *o++ = *src++;
            }
        }
        *o = '\0';
        ck_assert_msg(rk_tlog_proof_parse(text, strlen(text), &index, proof, 2,
                                          &n, &off, err) == cases[i].rc,
                      "case %zu: %s", i, err);
    }
    ck_assert_int_eq(rk_tlog_proof_format(1, NULL, 0, "cp", 2, &b),
                     RK_ERR_INVALID);
    ck_assert_int_eq(rk_tlog_proof_format(1, NULL, 0, "", 0, &b),
                     RK_ERR_INVALID);
    rk_buf_free(&b);
}
END_TEST

/* ---- minisign -------------------------------------------------------- */

START_TEST(minisign_round_trip)
{
    rk_signer *s = new_signer("reckon"), *o = new_signer("reckon");
    rk_verifier *v = rk_signer_verifier(s), *vo = rk_signer_verifier(o);
    static const uint8_t file[] = "evidence pack contents\n";
    rk_buf sig = RK_BUF_INIT;
    char err[RK_ERROR_SIZE] = "";
    char idhex[17], want[128];
    const char *tc;

    ck_assert_int_eq(rk_minisign_sign(s, file, sizeof file, "period 2026-10\tok",
                                      &sig, err), RK_OK);
    rk_minisign_keyid_hex(idhex, rk_verifier_minisign_keyid(v));
    snprintf(want, sizeof want, "untrusted comment: signature from reckon key %s\nRU",
             idhex);
    ck_assert(memcmp(sig.data, want, strlen(want)) == 0);
    tc = strstr((char *)sig.data, "\ntrusted comment: period 2026-10\tok\n");
    ck_assert_ptr_nonnull(tc);
    ck_assert_int_eq(rk_minisign_verify(v, file, sizeof file, (char *)sig.data,
                                        sig.len, err), RK_OK);
    /* another key */
    ck_assert_int_eq(rk_minisign_verify(vo, file, sizeof file, (char *)sig.data,
                                        sig.len, err), RK_ERR_SIGNATURE);
    ck_assert_ptr_nonnull(strstr(err, "signed by key"));
    /* another file */
    ck_assert_int_eq(rk_minisign_verify(v, file, sizeof file - 1,
                                        (char *)sig.data, sig.len, err),
                     RK_ERR_SIGNATURE);
    /* the trusted comment changed */
    ((char *)sig.data)[tc - (char *)sig.data + 20] = 'X';
    ck_assert_int_eq(rk_minisign_verify(v, file, sizeof file, (char *)sig.data,
                                        sig.len, err), RK_ERR_SIGNATURE);
    ck_assert_ptr_nonnull(strstr(err, "trusted comment"));

    /* an empty file and the default comment */
    rk_buf_reset(&sig);
    ck_assert_int_eq(rk_minisign_sign(s, NULL, 0, NULL, &sig, err), RK_OK);
    ck_assert_ptr_nonnull(strstr((char *)sig.data, "\ntrusted comment: reckon\n"));
    ck_assert_int_eq(rk_minisign_verify(v, NULL, 0, (char *)sig.data, sig.len,
                                        err), RK_OK);
    rk_buf_free(&sig);
    rk_verifier_free(v);
    rk_verifier_free(vo);
    rk_signer_free(s);
    rk_signer_free(o);
}
END_TEST

START_TEST(minisign_corrupt)
{
    rk_signer *s = new_signer("reckon");
    rk_verifier *v = rk_signer_verifier(s);
    static const uint8_t file[] = "x";
    rk_buf sig = RK_BUF_INIT, m = RK_BUF_INIT;
    char err[RK_ERROR_SIZE] = "";
    char comment[RK_MINISIGN_COMMENT_MAX + 2];
    char *p, *l2;
    size_t i;
    uint8_t blob[74];
    char b64[101];
    size_t n = 0;

    ck_assert_int_eq(rk_minisign_sign(s, file, 1, "a\nb", &sig, err),
                     RK_ERR_INVALID);
    ck_assert_int_eq(rk_minisign_sign(s, file, 1, "a\rb", &sig, err),
                     RK_ERR_INVALID);
    memset(comment, 'c', sizeof comment - 1);
    comment[sizeof comment - 1] = '\0';
    ck_assert_int_eq(rk_minisign_sign(s, file, 1, comment, &sig, err),
                     RK_ERR_INVALID);
    comment[RK_MINISIGN_COMMENT_MAX] = '\0';
    ck_assert_int_eq(rk_minisign_sign(s, file, 1, comment, &sig, err), RK_OK);
    ck_assert_int_eq(rk_minisign_verify(v, file, 1, (char *)sig.data, sig.len,
                                        err), RK_OK);
    rk_buf_reset(&sig);
    ck_assert_int_eq(rk_minisign_sign(s, file, 1, "t", &sig, err), RK_OK);
    p = (char *)sig.data;

    /* every truncation, every flipped byte */
    for (i = 0; i < sig.len; i++)
        ck_assert_msg(rk_minisign_verify(v, file, 1, p, i, err) == RK_ERR_INVALID,
                      "truncated at %zu", i);
    for (i = 0; i < sig.len; i++) {
        rk_err rc;
        p[i] ^= 0x04;
        rc = rk_minisign_verify(v, file, 1, p, sig.len, err);
        p[i] ^= 0x04;
        /* the untrusted comment's text is not covered by any signature */
        if (i >= strlen("untrusted comment: ") && i < (size_t)(strchr(p, '\n') - p))
            ck_assert_int_eq(rc, RK_OK);
        else
            ck_assert_msg(rc != RK_OK, "flipped byte %zu verifies", i);
    }
    /* trailing data */
    ck_assert_int_eq(rk_buf_append(&m, sig.data, sig.len), RK_OK);
    ck_assert_int_eq(rk_buf_puts(&m, "more\n"), RK_OK);
    ck_assert_int_eq(rk_minisign_verify(v, file, 1, (char *)m.data, m.len, err),
                     RK_ERR_INVALID);
    /* legacy "Ed" and unknown algorithms are refused by version */
    l2 = strchr(p, '\n') + 1;
    ck_assert_int_eq(rk_b64_decode(blob, sizeof blob, &n, l2, 100), RK_OK);
    blob[1] = 'd';
    rk_b64_encode(b64, sizeof b64, blob, sizeof blob);
    memcpy(l2, b64, 100);
    ck_assert_int_eq(rk_minisign_verify(v, file, 1, p, sig.len, err),
                     RK_ERR_VERSION);
    ck_assert_ptr_nonnull(strstr(err, "legacy"));
    blob[0] = 'X';
    rk_b64_encode(b64, sizeof b64, blob, sizeof blob);
    memcpy(l2, b64, 100);
    ck_assert_int_eq(rk_minisign_verify(v, file, 1, p, sig.len, err),
                     RK_ERR_VERSION);
    rk_buf_free(&sig);
    rk_buf_free(&m);
    rk_verifier_free(v);
    rk_signer_free(s);
}
END_TEST

/* ---- key files ------------------------------------------------------- */

START_TEST(key_files_round_trip)
{
    char *dir = rk_test_tmpdir();
    char prefix[4200], path[4300];
    rk_signer *s = new_signer("example.com/keys"), *t = NULL;
    rk_verifier *v = NULL, *vs;
    rk_buf note = RK_BUF_INIT, sig = RK_BUF_INIT, pub = RK_BUF_INIT;
    char err[RK_ERROR_SIZE] = "";
    struct stat st;
    char idhex[17], want[256];

    ck_assert_ptr_nonnull(dir);
    snprintf(prefix, sizeof prefix, "%s/k", dir);
    ck_assert_msg(rk_signer_write(s, prefix, err) == RK_OK, "%s", err);
    snprintf(path, sizeof path, "%s.key", prefix);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_msg(rk_signer_load(path, &t, err) == RK_OK, "%s", err);
    ck_assert_str_eq(rk_signer_name(t), "example.com/keys");
    snprintf(path, sizeof path, "%s.pub", prefix);
    ck_assert_msg(rk_verifier_load(path, &v, err) == RK_OK, "%s", err);
    ck_assert_str_eq(rk_verifier_name(v), "example.com/keys");
    vs = rk_signer_verifier(s);
    ck_assert(memcmp(rk_verifier_public_key(v), rk_verifier_public_key(vs), 32)
              == 0);
    ck_assert_uint_eq(rk_verifier_note_id(v), rk_verifier_note_id(vs));
    /* the public file is what formats/keys.md says */
    rk_buf_read_file(&pub, path, 4096, err);
    rk_minisign_keyid_hex(idhex, rk_verifier_minisign_keyid(v));
    snprintf(want, sizeof want,
             "untrusted comment: reckon public key %s name example.com/keys\nRW",
             idhex);
    ck_assert(memcmp(pub.data, want, strlen(want)) == 0);
    /* the loaded key signs what the loaded public key verifies */
    ck_assert_int_eq(rk_note_sign(t, "x\n", 2, &note, err), RK_OK);
    ck_assert_int_eq(rk_note_verify(v, (char *)note.data, note.len, NULL, err),
                     RK_OK);
    ck_assert_int_eq(rk_minisign_sign(t, (const uint8_t *)"x", 1, NULL, &sig,
                                      err), RK_OK);
    ck_assert_int_eq(rk_minisign_verify(v, (const uint8_t *)"x", 1,
                                        (char *)sig.data, sig.len, err), RK_OK);
    /* never overwrite */
    ck_assert_int_eq(rk_signer_write(s, prefix, err), RK_ERR_EXISTS);
    ck_assert_ptr_nonnull(strstr(err, "already exists"));
    /* a .pub in the way: no .key is left behind */
    snprintf(prefix, sizeof prefix, "%s/p", dir);
    snprintf(path, sizeof path, "%s.pub", prefix);
    write_file(path, "x", 1, 0644);
    ck_assert_int_eq(rk_signer_write(s, prefix, err), RK_ERR_EXISTS);
    snprintf(path, sizeof path, "%s.key", prefix);
    ck_assert_int_ne(stat(path, &st), 0);
    /* a prefix in a missing directory */
    snprintf(prefix, sizeof prefix, "%s/no/such/k", dir);
    ck_assert_int_eq(rk_signer_write(s, prefix, err), RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_signer_write(s, "", err), RK_ERR_INVALID);

    rk_buf_free(&note);
    rk_buf_free(&sig);
    rk_buf_free(&pub);
    rk_verifier_free(v);
    rk_verifier_free(vs);
    rk_signer_free(s);
    rk_signer_free(t);
    free(dir);
}
END_TEST

START_TEST(key_files_corrupt)
{
    char *dir = rk_test_tmpdir();
    char prefix[4200], keypath[4300], pubpath[4300], path[4300];
    rk_signer *s = new_signer("k"), *t = NULL;
    rk_verifier *v = NULL;
    rk_buf key = RK_BUF_INIT, pub = RK_BUF_INIT, m = RK_BUF_INIT;
    char err[RK_ERROR_SIZE] = "";
    size_t i;
    char *seed, *big;

    ck_assert_ptr_nonnull(dir);
    snprintf(prefix, sizeof prefix, "%s/k", dir);
    snprintf(keypath, sizeof keypath, "%s.key", prefix);
    snprintf(pubpath, sizeof pubpath, "%s.pub", prefix);
    snprintf(path, sizeof path, "%s/bad", dir);
    ck_assert_int_eq(rk_signer_write(s, prefix, err), RK_OK);
    ck_assert_int_eq(rk_buf_read_file(&key, keypath, 4096, err), RK_OK);
    ck_assert_int_eq(rk_buf_read_file(&pub, pubpath, 4096, err), RK_OK);
    seed = strstr((char *)key.data, "\nseed ") + 6;

    /* missing, a directory, readable by others */
    ck_assert_int_eq(rk_signer_load("/nonexistent/k.key", &t, err),
                     RK_ERR_NOTFOUND);
    ck_assert_int_eq(rk_signer_load(dir, &t, err), RK_ERR_INVALID);
    write_file(path, key.data, key.len, 0640);
    ck_assert_int_eq(rk_signer_load(path, &t, err), RK_ERR_PERMISSION);
    ck_assert_ptr_nonnull(strstr(err, "chmod 600"));
    ck_assert_ptr_null(strstr(err, seed)); /* no secret in the message */
    write_file(path, key.data, key.len, 0604);
    ck_assert_int_eq(rk_signer_load(path, &t, err), RK_ERR_PERMISSION);

    /* every truncation is corrupt */
    for (i = 0; i < key.len; i++) {
        write_file(path, key.data, i, 0600);
        ck_assert_msg(rk_signer_load(path, &t, err) == RK_ERR_CORRUPT,
                      "truncated at %zu", i);
        ck_assert_ptr_null(t);
    }
#define LOAD_AS(text, rc)                                                   \
    do {                                                                    \
        write_file(path, (text), strlen(text), 0600);                       \
        ck_assert_int_eq(rk_signer_load(path, &t, err), (rc));              \
        ck_assert_ptr_null(t);                                              \
    } while (0)
    LOAD_AS("reckon-secret-key v2\nname k\n", RK_ERR_VERSION);
    ck_assert_ptr_nonnull(strstr(err, "version '2'"));
    LOAD_AS("reckon-secret-key v10\n", RK_ERR_VERSION);
    LOAD_AS("-----BEGIN PRIVATE KEY-----\n", RK_ERR_CORRUPT);
    LOAD_AS("untrusted comment: minisign encrypted secret key\n", RK_ERR_CORRUPT);
    /* wrong seed length: 31 bytes */
    rk_buf_reset(&m);
    rk_buf_printf(&m, "reckon-secret-key v1\nname k\nseed %s\npublic %s",
                  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
                  strstr((char *)key.data, "\npublic ") + 8);
    LOAD_AS((char *)m.data, RK_ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "seed"));
    /* a seed that does not match the public key */
    rk_buf_reset(&m);
    rk_buf_append(&m, key.data, key.len);
    /* another valid base64 letter: a different seed, still well formed */
    ((char *)m.data)[seed - (char *)key.data] = seed[0] == 'A' ? 'B' : 'A';
    LOAD_AS((char *)m.data, RK_ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "does not match"));
    /* trailing data, bad name */
    rk_buf_reset(&m);
    rk_buf_append(&m, key.data, key.len);
    rk_buf_puts(&m, "extra\n");
    LOAD_AS((char *)m.data, RK_ERR_CORRUPT);
    LOAD_AS("reckon-secret-key v1\nname a b\n", RK_ERR_CORRUPT);
    /* too large */
    big = malloc(5000);
    ck_assert_ptr_nonnull(big);
    memset(big, 'k', 4999);
    big[4999] = '\0';
    LOAD_AS(big, RK_ERR_CORRUPT);
#undef LOAD_AS

    /* public key files */
#define PUB_AS(text, rc)                                                    \
    do {                                                                    \
        write_file(path, (text), strlen(text), 0644);                       \
        ck_assert_int_eq(rk_verifier_load(path, &v, err), (rc));            \
        ck_assert_ptr_null(v);                                              \
    } while (0)
    ck_assert_int_eq(rk_verifier_load("/nonexistent/k.pub", &v, err),
                     RK_ERR_NOTFOUND);
    for (i = 0; i < pub.len; i++) {
        write_file(path, pub.data, i, 0644);
        ck_assert_msg(rk_verifier_load(path, &v, err) == RK_ERR_CORRUPT,
                      "truncated at %zu", i);
    }
    /* a stock minisign public key: no reckon name */
    PUB_AS("untrusted comment: minisign public key 12345678\n"
           "RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3\n",
           RK_ERR_CORRUPT);
    /* changed key id in the comment, and in the key line */
    rk_buf_reset(&m);
    rk_buf_append(&m, pub.data, pub.len);
    ((char *)m.data)[strlen("untrusted comment: reckon public key ")] ^= 0x01;
    PUB_AS((char *)m.data, RK_ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "comment"));
    rk_buf_reset(&m);
    rk_buf_append(&m, pub.data, pub.len);
    {
        char *l2 = strchr((char *)m.data, '\n') + 1;
        l2[5] = l2[5] == 'A' ? 'B' : 'A';
    }
    PUB_AS((char *)m.data, RK_ERR_CORRUPT);
    /* a changed public key byte: the key id no longer matches */
    rk_buf_reset(&m);
    rk_buf_append(&m, pub.data, pub.len);
    ((char *)m.data)[m.len - 10] = ((char *)m.data)[m.len - 10] == 'A' ? 'B' : 'A';
    PUB_AS((char *)m.data, RK_ERR_CORRUPT);
    /* not "Ed" */
    rk_buf_reset(&m);
    rk_buf_append(&m, pub.data, pub.len);
    {
        char *l2 = strchr((char *)m.data, '\n') + 1;
        l2[0] = 'S'; /* "RW" -> "SW": the algorithm bytes change */
    }
    PUB_AS((char *)m.data, RK_ERR_CORRUPT);
    /* trailing data, and size limit */
    rk_buf_reset(&m);
    rk_buf_append(&m, pub.data, pub.len);
    rk_buf_puts(&m, "x\n");
    PUB_AS((char *)m.data, RK_ERR_CORRUPT);
    PUB_AS(big, RK_ERR_TOOBIG);
#undef PUB_AS
    free(big);
    rk_buf_free(&key);
    rk_buf_free(&pub);
    rk_buf_free(&m);
    rk_signer_free(s);
    free(dir);
}
END_TEST

Suite *rk_test_suite(void)
{
    Suite *s = suite_create("note");
    TCase *notes = tcase_create("notes");
    TCase *cp = tcase_create("checkpoints");
    TCase *ms = tcase_create("minisign");
    TCase *keys = tcase_create("keys");

    tcase_add_test(notes, go_vector_verifies);
    tcase_add_test(notes, go_vector_any_changed_byte_fails);
    tcase_add_test(notes, go_vector_signing_reproduces_note);
    tcase_add_test(notes, c2sp_vector_unknown_signer);
    tcase_add_test(notes, note_round_trip);
    tcase_add_test(notes, note_malformed);
    tcase_add_test(notes, key_names);
    tcase_add_test(notes, note_key_parse_errors);
    suite_add_tcase(s, notes);
    tcase_add_test(cp, checkpoint_round_trip);
    tcase_add_test(cp, checkpoint_corrupt);
    tcase_add_test(cp, tlog_proof_round_trip);
    tcase_add_test(cp, tlog_proof_corrupt);
    suite_add_tcase(s, cp);
    tcase_add_test(ms, minisign_round_trip);
    tcase_add_test(ms, minisign_corrupt);
    suite_add_tcase(s, ms);
    tcase_add_test(keys, key_files_round_trip);
    tcase_add_test(keys, key_files_corrupt);
    suite_add_tcase(s, keys);
    return s;
}
