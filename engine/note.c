/*
 * note.c - signed notes, checkpoints, tlog proofs, key files and minisign
 * signatures (formats/keys.md, formats/checkpoint.md).
 */
#include "note.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define SIG_SIZE crypto_sign_BYTES     /* 64 */
#define SK_SIZE crypto_sign_SECRETKEYBYTES /* 64: seed || public key */
#define B64_32 44                      /* base64 length of 32 bytes */
#define KEYFILE_MAX 1024               /* a v1 secret key file is < 400 */
#define PUBFILE_MAX 4096
#define SIGLINE_MAX 8192               /* decoded bytes of one note signature */
#define MINISIG_TC_MAX 8192            /* trusted comment bytes we read */

static const char em_dash_space[] = "\xe2\x80\x94 "; /* U+2014 U+0020 */
static const char key_magic[] = "reckon-secret-key v";
static const char pub_magic[] = "untrusted comment: reckon public key ";
static const char proof_header[] = "c2sp.org/tlog-proof@v1";
static const char proof_magic[] = "c2sp.org/tlog-proof@";

struct rk_verifier {
    char name[RK_KEY_NAME_MAX + 1];
    uint8_t pk[RK_PUBLIC_KEY_SIZE];
    uint32_t note_id;
    uint8_t ms_id[RK_MINISIGN_KEYID_SIZE];
};

struct rk_signer {
    rk_verifier pub;
    uint8_t sk[SK_SIZE];
};

static int sodium_ready(void)
{
    return sodium_init() >= 0;
}

/* ---- text rules ------------------------------------------------------ */

/* Unicode White_Space (what Go's unicode.IsSpace reports). */
static int is_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 ||
           c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
           c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
           c == 0x3000;
}

/* Valid UTF-8 with no code point below U+0020 other than newline (when
 * allow_nl); the signed-note text rule.  Returns 1 if the text is fine. */
static int text_ok(const uint8_t *p, size_t n, int allow_nl)
{
    size_t i = 0, k;
    uint32_t c;

    while (i < n) {
        k = rk_utf8_next(p + i, n - i, &c);
        if (k == 0 || (c < 0x20 && !(allow_nl && c == '\n')))
            return 0;
        i += k;
    }
    return 1;
}

/* The signed-note name rule, without the length limit. */
static int name_ok(const uint8_t *p, size_t n)
{
    size_t i = 0, k;
    uint32_t c;

    if (n == 0)
        return 0;
    while (i < n) {
        k = rk_utf8_next(p + i, n - i, &c);
        if (k == 0 || c < 0x20 || c == 0x7f || c == '+' || is_space(c))
            return 0;
        i += k;
    }
    return 1;
}

int rk_key_name_valid(const char *name)
{
    size_t n;

    if (name == NULL)
        return 0;
    n = strlen(name);
    return n <= RK_KEY_NAME_MAX && name_ok((const uint8_t *)name, n);
}

/*
 * The next "\n"-terminated line of text[*pos..len): *line and *llen (without
 * the newline), advancing *pos.  0 on success, -1 at the end of the text or
 * when the rest has no newline.
 */
static int next_line(const char *text, size_t len, size_t *pos,
                     const char **line, size_t *llen)
{
    const char *nl;

    if (*pos >= len)
        return -1;
    nl = memchr(text + *pos, '\n', len - *pos);
    if (nl == NULL)
        return -1;
    *line = text + *pos;
    *llen = (size_t)(nl - *line);
    *pos += *llen + 1;
    return 0;
}

static int has_prefix(const char *line, size_t llen, const char *prefix)
{
    size_t n = strlen(prefix);

    return llen >= n && memcmp(line, prefix, n) == 0;
}

/* Decimal without sign or leading zeros: 0, -1 malformed, -2 overflow. */
static int parse_dec(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (n == 0 || (n > 1 && s[0] == '0'))
        return -1;
    for (i = 0; i < n; i++) {
        unsigned d;
        if (s[i] < '0' || s[i] > '9')
            return -1;
        d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -2;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Base64 of exactly 32 bytes (44 characters). */
static int decode_hash(uint8_t out[32], const char *s, size_t n)
{
    size_t got = 0;

    if (n != B64_32)
        return -1;
    if (rk_b64_decode(out, 32, &got, s, n) != RK_OK || got != 32)
        return -1;
    return 0;
}

/* ---- keys ------------------------------------------------------------ */

static uint32_t note_key_id(const char *name, const uint8_t pk[32])
{
    uint8_t buf[RK_KEY_NAME_MAX + 2 + 32];
    uint8_t h[RK_HASH_SIZE];
    size_t n = strlen(name);

    memcpy(buf, name, n);
    buf[n] = '\n';
    buf[n + 1] = 0x01; /* signature type: Ed25519 */
    memcpy(buf + n + 2, pk, 32);
    rk_sha256(h, buf, n + 2 + 32);
    return rk_get_be32(h);
}

static void minisign_key_id(uint8_t id[8], const uint8_t pk[32])
{
    uint8_t h[32];

    crypto_generichash(h, sizeof h, pk, 32, NULL, 0);
    memcpy(id, h, 8);
}

/* Fill name, ids; pk must be set.  name must be valid. */
static void verifier_fill(rk_verifier *v, const char *name)
{
    memcpy(v->name, name, strlen(name) + 1);
    v->note_id = note_key_id(v->name, v->pk);
    minisign_key_id(v->ms_id, v->pk);
}

void rk_minisign_keyid_hex(char out[17], const uint8_t id[8])
{
    static const char digits[] = "0123456789ABCDEF";
    int i;

    /* minisign prints the key id as a little-endian uint64 */
    for (i = 0; i < 8; i++) {
        out[2 * i] = digits[id[7 - i] >> 4];
        out[2 * i + 1] = digits[id[7 - i] & 15];
    }
    out[16] = '\0';
}

rk_err rk_signer_from_seed(const char *name, const uint8_t seed[32],
                           rk_signer **out, char *err)
{
    rk_signer *s;

    *out = NULL;
    if (!rk_key_name_valid(name))
        return rk_seterr(err, RK_ERR_INVALID,
                         "invalid key name: need 1 to %d bytes of UTF-8 "
                         "without spaces, '+' or control characters",
                         RK_KEY_NAME_MAX);
    if (!sodium_ready())
        return rk_seterr(err, RK_ERR_NOMEM, "cannot initialise libsodium");
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    crypto_sign_seed_keypair(s->pub.pk, s->sk, seed);
    verifier_fill(&s->pub, name);
    *out = s;
    return RK_OK;
}

rk_err rk_signer_generate(const char *name, rk_signer **out, char *err)
{
    uint8_t seed[32];
    rk_err rc;

    *out = NULL;
    if (!sodium_ready())
        return rk_seterr(err, RK_ERR_NOMEM, "cannot initialise libsodium");
    randombytes_buf(seed, sizeof seed);
    rc = rk_signer_from_seed(name, seed, out, err);
    sodium_memzero(seed, sizeof seed);
    return rc;
}

void rk_signer_free(rk_signer *s)
{
    if (s == NULL)
        return;
    sodium_memzero(s, sizeof *s);
    free(s);
}

void rk_verifier_free(rk_verifier *v)
{
    if (v == NULL)
        return;
    sodium_memzero(v, sizeof *v);
    free(v);
}

rk_verifier *rk_signer_verifier(const rk_signer *s)
{
    rk_verifier *v = malloc(sizeof *v);

    if (v != NULL)
        *v = s->pub;
    return v;
}

const char *rk_signer_name(const rk_signer *s)
{
    return s->pub.name;
}

const char *rk_verifier_name(const rk_verifier *v)
{
    return v->name;
}

uint32_t rk_verifier_note_id(const rk_verifier *v)
{
    return v->note_id;
}

const uint8_t *rk_verifier_public_key(const rk_verifier *v)
{
    return v->pk;
}

const uint8_t *rk_verifier_minisign_keyid(const rk_verifier *v)
{
    return v->ms_id;
}

/* ---- key files ------------------------------------------------------- */

static rk_err write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return RK_ERR_IO;
        }
        data += w;
        len -= (size_t)w;
    }
    return RK_OK;
}

/* Create path with O_EXCL and write data; on failure nothing is left. */
static rk_err write_new_file(const char *path, const char *data, size_t len,
                             mode_t mode, char *err)
{
    int fd, e;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        e = errno;
        if (e == EEXIST)
            return rk_seterr(err, RK_ERR_EXISTS,
                             "'%s' already exists; not overwriting it", path);
        return rk_seterr(err, e == ENOENT ? RK_ERR_NOTFOUND : RK_ERR_IO,
                         "cannot create '%s': %s", path, strerror(e));
    }
    if (write_all(fd, data, len) != RK_OK || fsync(fd) != 0) {
        e = errno;
        close(fd);
        unlink(path);
        return rk_seterr(err, RK_ERR_IO, "cannot write '%s': %s", path,
                         strerror(e));
    }
    if (close(fd) != 0) {
        e = errno;
        unlink(path);
        return rk_seterr(err, RK_ERR_IO, "cannot write '%s': %s", path,
                         strerror(e));
    }
    return RK_OK;
}

rk_err rk_signer_write(const rk_signer *s, const char *prefix, char *err)
{
    char keypath[4096], pubpath[4096];
    char keytext[KEYFILE_MAX], pubtext[RK_KEY_NAME_MAX + 256];
    char seed64[B64_32 + 1], pk64[B64_32 + 1], idhex[17];
    uint8_t blob[2 + 8 + 32];
    char blob64[sizeof blob / 3 * 4 + 5];
    int kn, pn;
    rk_err rc;

    if (prefix == NULL || prefix[0] == '\0')
        return rk_seterr(err, RK_ERR_INVALID, "empty key file prefix");
    kn = snprintf(keypath, sizeof keypath, "%s.key", prefix);
    pn = snprintf(pubpath, sizeof pubpath, "%s.pub", prefix);
    if (kn < 0 || pn < 0 || (size_t)kn >= sizeof keypath ||
        (size_t)pn >= sizeof pubpath)
        return rk_seterr(err, RK_ERR_INVALID, "key file prefix is too long");

    /* the seed is the first half of libsodium's secret key */
    rk_b64_encode(seed64, sizeof seed64, s->sk, 32);
    rk_b64_encode(pk64, sizeof pk64, s->pub.pk, 32);
    kn = snprintf(keytext, sizeof keytext, "%s1\nname %s\nseed %s\npublic %s\n",
                  key_magic, s->pub.name, seed64, pk64);
    sodium_memzero(seed64, sizeof seed64);

    memcpy(blob, "Ed", 2);
    memcpy(blob + 2, s->pub.ms_id, 8);
    memcpy(blob + 10, s->pub.pk, 32);
    rk_b64_encode(blob64, sizeof blob64, blob, sizeof blob);
    rk_minisign_keyid_hex(idhex, s->pub.ms_id);
    pn = snprintf(pubtext, sizeof pubtext, "%s%s name %s\n%s\n", pub_magic,
                  idhex, s->pub.name, blob64);

    rc = write_new_file(keypath, keytext, (size_t)kn, 0600, err);
    if (rc != RK_OK)
        goto out;
    rc = write_new_file(pubpath, pubtext, (size_t)pn, 0644, err);
    if (rc != RK_OK)
        unlink(keypath);
out:
    sodium_memzero(keytext, sizeof keytext);
    return rc;
}

/* Read a small file into buf (at most max-1 bytes), NUL-terminated; the
 * secret key path also checks the mode. */
static rk_err read_key_file(const char *path, char *buf, size_t max,
                            size_t *len, char *err)
{
    struct stat st;
    size_t n = 0;
    int fd, e;
    rk_err rc = RK_OK;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        e = errno;
        return rk_seterr(err, e == ENOENT ? RK_ERR_NOTFOUND : RK_ERR_IO,
                         "cannot open '%s': %s", path, strerror(e));
    }
    if (fstat(fd, &st) != 0) {
        rc = rk_seterr(err, RK_ERR_IO, "cannot stat '%s': %s", path,
                       strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = rk_seterr(err, RK_ERR_INVALID, "'%s' is not a regular file",
                       path);
        goto out;
    }
    if ((st.st_mode & 077) != 0) {
        rc = rk_seterr(err, RK_ERR_PERMISSION,
                       "'%s' is accessible by group or others (mode %04o); "
                       "run chmod 600 on it", path,
                       (unsigned)(st.st_mode & 07777));
        goto out;
    }
    for (;;) {
        ssize_t r = read(fd, buf + n, max - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = rk_seterr(err, RK_ERR_IO, "cannot read '%s': %s", path,
                           strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == max) {
            rc = rk_seterr(err, RK_ERR_CORRUPT,
                           "'%s' is not a reckon secret key file (too large)",
                           path);
            goto out;
        }
    }
    buf[n] = '\0';
    *len = n;
out:
    close(fd);
    return rc;
}

static rk_err parse_key_text(const char *path, const char *text, size_t len,
                             rk_signer **out, char *err)
{
    const char *line;
    size_t llen, pos = 0, got = 0;
    char name[RK_KEY_NAME_MAX + 1];
    uint8_t seed[32], pk[32];
    rk_err rc;

    if (next_line(text, len, &pos, &line, &llen) != 0 ||
        !has_prefix(line, llen, key_magic))
        return rk_seterr(err, RK_ERR_CORRUPT,
                         "'%s' is not a reckon secret key file", path);
    if (llen != strlen(key_magic) + 1 || line[llen - 1] != '1') {
        size_t vlen = llen - strlen(key_magic);
        return rk_seterr(err, RK_ERR_VERSION,
                         "'%s': unsupported secret key version '%.*s'", path,
                         (int)(vlen > 16 ? 16 : vlen),
                         line + strlen(key_magic));
    }
    if (next_line(text, len, &pos, &line, &llen) != 0 ||
        !has_prefix(line, llen, "name ") || llen - 5 > RK_KEY_NAME_MAX ||
        !name_ok((const uint8_t *)line + 5, llen - 5))
        return rk_seterr(err, RK_ERR_CORRUPT, "'%s': missing or bad name line",
                         path);
    memcpy(name, line + 5, llen - 5);
    name[llen - 5] = '\0';

    rc = RK_ERR_CORRUPT;
    if (next_line(text, len, &pos, &line, &llen) != 0 ||
        !has_prefix(line, llen, "seed ") || llen - 5 != B64_32 ||
        rk_b64_decode(seed, sizeof seed, &got, line + 5, llen - 5) != RK_OK ||
        got != 32) {
        rk_seterr(err, rc, "'%s': missing or bad seed line "
                  "(need 32 bytes of base64)", path);
        goto out;
    }
    if (next_line(text, len, &pos, &line, &llen) != 0 ||
        !has_prefix(line, llen, "public ") ||
        decode_hash(pk, line + 7, llen - 7) != 0) {
        rk_seterr(err, rc, "'%s': missing or bad public line", path);
        goto out;
    }
    if (pos != len) {
        rk_seterr(err, rc, "'%s': unexpected data after the public line",
                  path);
        goto out;
    }
    rc = rk_signer_from_seed(name, seed, out, err);
    if (rc != RK_OK)
        goto out;
    if (sodium_memcmp((*out)->pub.pk, pk, 32) != 0) {
        rk_signer_free(*out);
        *out = NULL;
        rc = rk_seterr(err, RK_ERR_CORRUPT,
                       "'%s': public key does not match the seed", path);
    }
out:
    sodium_memzero(seed, sizeof seed);
    return rc;
}

rk_err rk_signer_load(const char *path, rk_signer **out, char *err)
{
    char buf[KEYFILE_MAX];
    size_t len = 0;
    rk_err rc;

    *out = NULL;
    rc = read_key_file(path, buf, sizeof buf - 1, &len, err);
    if (rc == RK_OK)
        rc = parse_key_text(path, buf, len, out, err);
    sodium_memzero(buf, sizeof buf);
    return rc;
}

rk_err rk_verifier_load(const char *path, rk_verifier **out, char *err)
{
    rk_buf b = RK_BUF_INIT;
    const char *text, *line, *name;
    size_t llen, pos = 0, got = 0, nlen;
    uint8_t blob[2 + 8 + 32 + 1];
    uint8_t id[8];
    char idhex[17], idwant[17];
    rk_verifier *v = NULL;
    rk_err rc;

    *out = NULL;
    rc = rk_buf_read_file(&b, path, PUBFILE_MAX, err);
    if (rc != RK_OK)
        goto out;
    text = (const char *)b.data;
    rc = RK_ERR_CORRUPT;
    if (next_line(text, b.len, &pos, &line, &llen) != 0 ||
        !has_prefix(line, llen, pub_magic) ||
        llen < strlen(pub_magic) + 16 + 6 ||
        memcmp(line + strlen(pub_magic) + 16, " name ", 6) != 0) {
        rk_seterr(err, rc, "'%s' is not a reckon public key file", path);
        goto out;
    }
    name = line + strlen(pub_magic) + 16 + 6;
    nlen = llen - (size_t)(name - line);
    if (nlen > RK_KEY_NAME_MAX || !name_ok((const uint8_t *)name, nlen)) {
        rk_seterr(err, rc, "'%s': bad key name in the comment line", path);
        goto out;
    }
    memcpy(idhex, line + strlen(pub_magic), 16);
    idhex[16] = '\0';
    if (next_line(text, b.len, &pos, &line, &llen) != 0 ||
        rk_b64_decode(blob, sizeof blob, &got, line, llen) != RK_OK ||
        got != 42 || pos != b.len) {
        rk_seterr(err, rc, "'%s': the key line is not base64 of 42 bytes",
                  path);
        goto out;
    }
    if (memcmp(blob, "Ed", 2) != 0) {
        rk_seterr(err, rc, "'%s': key algorithm is not Ed25519 ('Ed')", path);
        goto out;
    }
    if (!sodium_ready()) {
        rc = rk_seterr(err, RK_ERR_NOMEM, "cannot initialise libsodium");
        goto out;
    }
    v = calloc(1, sizeof *v);
    if (v == NULL) {
        rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        goto out;
    }
    memcpy(v->pk, blob + 10, 32);
    memcpy(id, blob + 2, 8);
    memcpy(v->name, name, nlen);
    v->name[nlen] = '\0';
    verifier_fill(v, v->name);
    if (memcmp(id, v->ms_id, 8) != 0) {
        rk_seterr(err, rc, "'%s': key id does not match the public key", path);
        goto out;
    }
    rk_minisign_keyid_hex(idwant, id);
    if (memcmp(idwant, idhex, sizeof idhex) != 0) {
        rk_seterr(err, rc, "'%s': key id in the comment is not the key's",
                  path);
        goto out;
    }
    *out = v;
    v = NULL;
    rc = RK_OK;
out:
    rk_verifier_free(v);
    rk_buf_free(&b);
    return rc;
}

rk_err rk_verifier_from_note_key(const char *vkey, rk_verifier **out,
                                 char *err)
{
    const char *p1, *p2;
    size_t nlen, got = 0, i;
    uint8_t key[33];
    uint32_t id = 0;
    rk_verifier *v;

    *out = NULL;
    p1 = strchr(vkey, '+');
    p2 = p1 == NULL ? NULL : strchr(p1 + 1, '+');
    if (p2 == NULL || p2 - p1 != 9)
        return rk_seterr(err, RK_ERR_INVALID, "malformed verifier key");
    nlen = (size_t)(p1 - vkey);
    if (nlen > RK_KEY_NAME_MAX || !name_ok((const uint8_t *)vkey, nlen))
        return rk_seterr(err, RK_ERR_INVALID, "bad name in verifier key");
    for (i = 1; i <= 8; i++) {
        int d = rk_hex_digit(p1[i]);
        if (d < 0)
            return rk_seterr(err, RK_ERR_INVALID, "bad key id in verifier key");
        id = id << 4 | (uint32_t)d;
    }
    if (rk_b64_decode(key, sizeof key, &got, p2 + 1, strlen(p2 + 1)) != RK_OK ||
        got != 33 || key[0] != 0x01)
        return rk_seterr(err, RK_ERR_INVALID,
                         "verifier key is not an Ed25519 key (0x01 || 32 bytes)");
    if (!sodium_ready())
        return rk_seterr(err, RK_ERR_NOMEM, "cannot initialise libsodium");
    v = calloc(1, sizeof *v);
    if (v == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    memcpy(v->pk, key + 1, 32);
    memcpy(v->name, vkey, nlen);
    v->name[nlen] = '\0';
    verifier_fill(v, v->name);
    if (v->note_id != id) {
        rk_verifier_free(v);
        return rk_seterr(err, RK_ERR_INVALID,
                         "verifier key id %08x does not match its key", id);
    }
    *out = v;
    return RK_OK;
}

rk_err rk_verifier_note_key(const rk_verifier *v, rk_buf *out)
{
    uint8_t key[33];
    char k64[sizeof key / 3 * 4 + 5];

    key[0] = 0x01;
    memcpy(key + 1, v->pk, 32);
    rk_b64_encode(k64, sizeof k64, key, sizeof key);
    return rk_buf_printf(out, "%s+%08x+%s", v->name, (unsigned)v->note_id,
                         k64);
}

/* ---- signed notes ---------------------------------------------------- */

rk_err rk_note_sign(const rk_signer *s, const char *text, size_t len,
                    rk_buf *out, char *err)
{
    uint8_t blob[4 + SIG_SIZE];
    char blob64[sizeof blob / 3 * 4 + 5];

    if (len > RK_NOTE_MAX)
        return rk_seterr(err, RK_ERR_TOOBIG, "note text is larger than %d bytes",
                         RK_NOTE_MAX);
    if (len == 0 || text[len - 1] != '\n')
        return rk_seterr(err, RK_ERR_INVALID,
                         "note text must be non-empty and end in a newline");
    if (!text_ok((const uint8_t *)text, len, 1))
        return rk_seterr(err, RK_ERR_INVALID,
                         "note text is not UTF-8 or has a control character");
    if (!sodium_ready())
        return rk_seterr(err, RK_ERR_NOMEM, "cannot initialise libsodium");
    rk_put_be32(blob, s->pub.note_id);
    crypto_sign_detached(blob + 4, NULL, (const uint8_t *)text, len, s->sk);
    rk_b64_encode(blob64, sizeof blob64, blob, sizeof blob);
    if (rk_buf_append(out, text, len) != RK_OK ||
        rk_buf_putc(out, '\n') != RK_OK ||
        rk_buf_puts(out, em_dash_space) != RK_OK ||
        rk_buf_printf(out, "%s %s\n", s->pub.name, blob64) != RK_OK)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    return RK_OK;
}

rk_err rk_note_text(const char *note, size_t len, size_t *text_len, char *err)
{
    size_t split;

    /* the text ends at the last blank line */
    for (split = len; split >= 2; split--)
        if (note[split - 2] == '\n' && note[split - 1] == '\n')
            break;
    if (split < 2)
        return rk_seterr(err, RK_ERR_INVALID,
                         "note has no blank line before its signatures");
    if (split == len || note[len - 1] != '\n')
        return rk_seterr(err, RK_ERR_INVALID,
                         "note signature lines are missing or unterminated");
    *text_len = split - 1;
    return RK_OK;
}

rk_err rk_note_verify(const rk_verifier *v, const char *note, size_t len,
                      size_t *text_len, char *err)
{
    rk_err rc;
    uint8_t sig[SIGLINE_MAX];
    size_t split, pos, llen, tlen, vnlen, nsig = 0, good = 0, bad = 0;
    const char *line;

    if (len > RK_NOTE_MAX)
        return rk_seterr(err, RK_ERR_TOOBIG, "note is larger than %d bytes",
                         RK_NOTE_MAX);
    if (!text_ok((const uint8_t *)note, len, 1))
        return rk_seterr(err, RK_ERR_INVALID,
                         "note is not UTF-8 or has a control character");
    rc = rk_note_text(note, len, &tlen, err);
    if (rc != RK_OK)
        return rc;
    split = tlen + 1;
    if (!sodium_ready())
        return rk_seterr(err, RK_ERR_NOMEM, "cannot initialise libsodium");
    vnlen = strlen(v->name);
    pos = split;
    while (next_line(note, len, &pos, &line, &llen) == 0) {
        const char *name, *sp, *b64;
        size_t nlen, blen, got = 0;

        if (++nsig > RK_NOTE_MAX_SIGS)
            return rk_seterr(err, RK_ERR_INVALID,
                             "note has more than %d signatures",
                             RK_NOTE_MAX_SIGS);
        if (!has_prefix(line, llen, em_dash_space))
            return rk_seterr(err, RK_ERR_INVALID,
                             "signature line %zu does not start with "
                             "an em dash and a space", nsig);
        name = line + strlen(em_dash_space);
        sp = memchr(name, ' ', llen - strlen(em_dash_space));
        if (sp == NULL)
            return rk_seterr(err, RK_ERR_INVALID,
                             "signature line %zu has no signature", nsig);
        nlen = (size_t)(sp - name);
        b64 = sp + 1;
        blen = (size_t)(line + llen - b64);
        if (!name_ok((const uint8_t *)name, nlen) || blen == 0 ||
            rk_b64_decode(sig, sizeof sig, &got, b64, blen) != RK_OK ||
            got < 5)
            return rk_seterr(err, RK_ERR_INVALID,
                             "signature line %zu is malformed", nsig);
        if (nlen != vnlen || memcmp(name, v->name, nlen) != 0 ||
            rk_get_be32(sig) != v->note_id)
            continue; /* another key: ignored, as the spec requires */
        if (got == 4 + SIG_SIZE &&
            crypto_sign_verify_detached(sig + 4, (const uint8_t *)note, tlen,
                                        v->pk) == 0)
            good++;
        else
            bad++;
    }
    if (bad > 0)
        return rk_seterr(err, RK_ERR_SIGNATURE,
                         "note signature by '%s' (key id %08x) does not verify",
                         v->name, (unsigned)v->note_id);
    if (good == 0)
        return rk_seterr(err, RK_ERR_SIGNATURE,
                         "note has no signature by '%s' (key id %08x)",
                         v->name, (unsigned)v->note_id);
    if (text_len != NULL)
        *text_len = tlen;
    return RK_OK;
}

/* ---- checkpoints ----------------------------------------------------- */

rk_err rk_checkpoint_format(const rk_checkpoint *c, rk_buf *out)
{
    size_t n = strnlen(c->origin, sizeof c->origin);
    char root64[B64_32 + 1];

    if (n == 0 || n == sizeof c->origin ||
        !text_ok((const uint8_t *)c->origin, n, 0))
        return RK_ERR_INVALID;
    rk_b64_encode(root64, sizeof root64, c->root, 32);
    return rk_buf_printf(out, "%s\n%llu\n%s\n", c->origin,
                         (unsigned long long)c->size, root64);
}

rk_err rk_checkpoint_parse(const char *text, size_t len, rk_checkpoint *c,
                           char *err)
{
    const char *line;
    size_t llen, pos = 0, ext = 0;
    int r;

    if (next_line(text, len, &pos, &line, &llen) != 0 || llen == 0)
        return rk_seterr(err, RK_ERR_INVALID, "checkpoint: missing origin line");
    if (llen >= sizeof c->origin || !text_ok((const uint8_t *)line, llen, 0))
        return rk_seterr(err, RK_ERR_INVALID,
                         "checkpoint: origin is longer than %zu bytes, not "
                         "UTF-8 or has a control character",
                         sizeof c->origin - 1);
    memcpy(c->origin, line, llen);
    c->origin[llen] = '\0';
    if (next_line(text, len, &pos, &line, &llen) != 0)
        return rk_seterr(err, RK_ERR_INVALID, "checkpoint: missing size line");
    r = parse_dec(line, llen, &c->size);
    if (r == -2)
        return rk_seterr(err, RK_ERR_RANGE,
                         "checkpoint: tree size does not fit in 64 bits");
    if (r != 0)
        return rk_seterr(err, RK_ERR_INVALID,
                         "checkpoint: tree size is not a decimal number "
                         "without leading zeros");
    if (next_line(text, len, &pos, &line, &llen) != 0)
        return rk_seterr(err, RK_ERR_INVALID, "checkpoint: missing root line");
    if (decode_hash(c->root, line, llen) != 0)
        return rk_seterr(err, RK_ERR_INVALID,
                         "checkpoint: root hash is not base64 of 32 bytes");
    while (next_line(text, len, &pos, &line, &llen) == 0) {
        ext++;
        if (llen == 0)
            return rk_seterr(err, RK_ERR_INVALID,
                             "checkpoint: extension line %zu is empty", ext);
    }
    if (pos != len)
        return rk_seterr(err, RK_ERR_INVALID,
                         "checkpoint: trailing data without a newline");
    return RK_OK;
}

/* ---- tlog proofs ----------------------------------------------------- */

rk_err rk_tlog_proof_format(uint64_t index, const uint8_t proof[][32],
                            size_t n, const char *signed_checkpoint,
                            size_t cplen, rk_buf *out)
{
    char h64[B64_32 + 1];
    size_t i;

    if (cplen == 0 || signed_checkpoint[cplen - 1] != '\n')
        return RK_ERR_INVALID;
    if (rk_buf_printf(out, "%s\nindex %llu\n", proof_header,
                      (unsigned long long)index) != RK_OK)
        return RK_ERR_NOMEM;
    for (i = 0; i < n; i++) {
        rk_b64_encode(h64, sizeof h64, proof[i], 32);
        if (rk_buf_printf(out, "%s\n", h64) != RK_OK)
            return RK_ERR_NOMEM;
    }
    if (rk_buf_putc(out, '\n') != RK_OK ||
        rk_buf_append(out, signed_checkpoint, cplen) != RK_OK)
        return RK_ERR_NOMEM;
    return RK_OK;
}

/* Whether s[0..n) is valid padded base64 of at least one byte. */
static int b64_valid(const char *s, size_t n)
{
    uint8_t *tmp;
    size_t got = 0;
    int ok;

    if (n == 0)
        return 0;
    tmp = malloc(n);
    if (tmp == NULL)
        return 0;
    ok = rk_b64_decode(tmp, n, &got, s, n) == RK_OK && got > 0;
    free(tmp);
    return ok;
}

rk_err rk_tlog_proof_parse(const char *text, size_t len, uint64_t *index,
                           uint8_t proof[][32], size_t max, size_t *n,
                           size_t *checkpoint_off, char *err)
{
    const char *line;
    size_t llen, pos = 0, count = 0;
    uint8_t hash[32];
    int r;

    if (next_line(text, len, &pos, &line, &llen) != 0 ||
        !has_prefix(line, llen, proof_magic))
        return rk_seterr(err, RK_ERR_INVALID, "not a c2sp.org tlog proof");
    if (llen != strlen(proof_header) ||
        memcmp(line, proof_header, llen) != 0)
        return rk_seterr(err, RK_ERR_VERSION,
                         "tlog proof: unsupported version (need '%s')",
                         proof_header);
    if (next_line(text, len, &pos, &line, &llen) != 0)
        return rk_seterr(err, RK_ERR_INVALID, "tlog proof: missing index line");
    if (has_prefix(line, llen, "extra ")) {
        if (!b64_valid(line + 6, llen - 6))
            return rk_seterr(err, RK_ERR_INVALID,
                             "tlog proof: extra data is not base64");
        if (next_line(text, len, &pos, &line, &llen) != 0)
            return rk_seterr(err, RK_ERR_INVALID,
                             "tlog proof: missing index line");
    }
    if (!has_prefix(line, llen, "index "))
        return rk_seterr(err, RK_ERR_INVALID, "tlog proof: missing index line");
    r = parse_dec(line + 6, llen - 6, index);
    if (r == -2)
        return rk_seterr(err, RK_ERR_RANGE,
                         "tlog proof: index does not fit in 64 bits");
    if (r != 0)
        return rk_seterr(err, RK_ERR_INVALID,
                         "tlog proof: index is not a decimal number without "
                         "leading zeros");
    for (;;) {
        if (next_line(text, len, &pos, &line, &llen) != 0)
            return rk_seterr(err, RK_ERR_INVALID,
                             "tlog proof: no empty line before the checkpoint");
        if (llen == 0)
            break;
        if (decode_hash(hash, line, llen) != 0)
            return rk_seterr(err, RK_ERR_INVALID,
                             "tlog proof: hash %zu is not base64 of 32 bytes",
                             count + 1);
        if (count == max)
            return rk_seterr(err, RK_ERR_TOOBIG,
                             "tlog proof: more than %zu hashes", max);
        memcpy(proof[count++], hash, 32);
    }
    if (pos >= len)
        return rk_seterr(err, RK_ERR_INVALID,
                         "tlog proof: no checkpoint after the empty line");
    *n = count;
    *checkpoint_off = pos;
    return RK_OK;
}

/* ---- minisign -------------------------------------------------------- */

static int comment_ok(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}

rk_err rk_minisign_sign(const rk_signer *s, const uint8_t *file, size_t len,
                        const char *trusted_comment, rk_buf *out, char *err)
{
    static const uint8_t empty[1];
    uint8_t h[crypto_generichash_BYTES_MAX];
    uint8_t blob[2 + 8 + SIG_SIZE];
    uint8_t msg[SIG_SIZE + RK_MINISIGN_COMMENT_MAX];
    uint8_t global[SIG_SIZE];
    char blob64[sizeof blob / 3 * 4 + 5], global64[SIG_SIZE / 3 * 4 + 5];
    char idhex[17];
    size_t tclen;

    if (trusted_comment == NULL)
        trusted_comment = "reckon";
    tclen = strlen(trusted_comment);
    if (tclen > RK_MINISIGN_COMMENT_MAX || !comment_ok(trusted_comment, tclen))
        return rk_seterr(err, RK_ERR_INVALID,
                         "trusted comment is longer than %d bytes or has a "
                         "control character", RK_MINISIGN_COMMENT_MAX);
    if (!sodium_ready())
        return rk_seterr(err, RK_ERR_NOMEM, "cannot initialise libsodium");
    crypto_generichash(h, sizeof h, file != NULL ? file : empty, len, NULL, 0);
    memcpy(blob, "ED", 2);
    memcpy(blob + 2, s->pub.ms_id, 8);
    crypto_sign_detached(blob + 10, NULL, h, sizeof h, s->sk);
    memcpy(msg, blob + 10, SIG_SIZE);
    memcpy(msg + SIG_SIZE, trusted_comment, tclen);
    crypto_sign_detached(global, NULL, msg, SIG_SIZE + tclen, s->sk);
    rk_b64_encode(blob64, sizeof blob64, blob, sizeof blob);
    rk_b64_encode(global64, sizeof global64, global, sizeof global);
    rk_minisign_keyid_hex(idhex, s->pub.ms_id);
    if (rk_buf_printf(out,
                      "untrusted comment: signature from reckon key %s\n"
                      "%s\ntrusted comment: %s\n%s\n",
                      idhex, blob64, trusted_comment, global64) != RK_OK)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    return RK_OK;
}

rk_err rk_minisign_verify(const rk_verifier *v, const uint8_t *file,
                          size_t len, const char *sig, size_t siglen,
                          char *err)
{
    static const uint8_t empty[1];
    static const char tc_prefix[] = "trusted comment: ";
    uint8_t h[crypto_generichash_BYTES_MAX];
    uint8_t blob[2 + 8 + SIG_SIZE], global[SIG_SIZE];
    uint8_t *msg = NULL;
    const char *line, *tc;
    size_t llen, tclen, pos = 0, got = 0;
    char have[17], want[17];
    rk_err rc = RK_ERR_INVALID;

    if (next_line(sig, siglen, &pos, &line, &llen) != 0 ||
        !has_prefix(line, llen, "untrusted comment: ")) {
        rk_seterr(err, rc, "minisig: missing untrusted comment line");
        goto out;
    }
    if (next_line(sig, siglen, &pos, &line, &llen) != 0 ||
        rk_b64_decode(blob, sizeof blob, &got, line, llen) != RK_OK ||
        got != sizeof blob) {
        rk_seterr(err, rc, "minisig: signature line is not base64 of %zu "
                  "bytes", sizeof blob);
        goto out;
    }
    if (next_line(sig, siglen, &pos, &line, &llen) != 0 ||
        !has_prefix(line, llen, tc_prefix)) {
        rk_seterr(err, rc, "minisig: missing trusted comment line");
        goto out;
    }
    tc = line + strlen(tc_prefix);
    tclen = llen - strlen(tc_prefix);
    if (tclen > MINISIG_TC_MAX) {
        rk_seterr(err, rc, "minisig: trusted comment is longer than %d bytes",
                  MINISIG_TC_MAX);
        goto out;
    }
    if (next_line(sig, siglen, &pos, &line, &llen) != 0 ||
        rk_b64_decode(global, sizeof global, &got, line, llen) != RK_OK ||
        got != sizeof global) {
        rk_seterr(err, rc, "minisig: global signature line is not base64 of "
                  "%zu bytes", sizeof global);
        goto out;
    }
    if (pos != siglen) {
        rk_seterr(err, rc, "minisig: unexpected data after the fourth line");
        goto out;
    }
    if (memcmp(blob, "ED", 2) != 0) {
        rc = rk_seterr(err, RK_ERR_VERSION, memcmp(blob, "Ed", 2) == 0
                       ? "minisig: legacy (not prehashed) signature is not "
                         "accepted"
                       : "minisig: unknown signature algorithm");
        goto out;
    }
    if (memcmp(blob + 2, v->ms_id, 8) != 0) {
        rk_minisign_keyid_hex(have, blob + 2);
        rk_minisign_keyid_hex(want, v->ms_id);
        rc = rk_seterr(err, RK_ERR_SIGNATURE,
                       "minisig: signed by key %s, not by key %s", have, want);
        goto out;
    }
    if (!sodium_ready()) {
        rc = rk_seterr(err, RK_ERR_NOMEM, "cannot initialise libsodium");
        goto out;
    }
    msg = malloc(SIG_SIZE + tclen + 1);
    if (msg == NULL) {
        rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory");
        goto out;
    }
    crypto_generichash(h, sizeof h, file != NULL ? file : empty, len, NULL, 0);
    rc = RK_ERR_SIGNATURE;
    if (crypto_sign_verify_detached(blob + 10, h, sizeof h, v->pk) != 0) {
        rk_seterr(err, rc, "minisig: signature does not verify for this file");
        goto out;
    }
    memcpy(msg, blob + 10, SIG_SIZE);
    memcpy(msg + SIG_SIZE, tc, tclen);
    if (crypto_sign_verify_detached(global, msg, SIG_SIZE + tclen, v->pk) != 0) {
        rk_seterr(err, rc, "minisig: trusted comment signature does not "
                  "verify");
        goto out;
    }
    rc = RK_OK;
out:
    free(msg);
    return rc;
}
