/* bytes.c - big-endian helpers, hex/base64, SHA-256 and rk_buf. */

/*
 * SHA-256 uses OpenSSL's low-level SHA256_Init/Update/Final, deprecated in
 * 3.0 but still exported.  The one-shot SHA256() of OpenSSL 3 fetches the
 * algorithm from the provider on every call: measured here it is 10 times
 * slower on the 33- and 65-byte inputs of Merkle leaves and nodes, which
 * dominate verification.  The low-level calls use the same SHA-NI code.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "bytes.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sodium.h>

void rk_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

void rk_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void rk_put_be64(uint8_t *p, uint64_t v)
{
    rk_put_be32(p, (uint32_t)(v >> 32));
    rk_put_be32(p + 4, (uint32_t)v);
}

uint16_t rk_get_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

uint32_t rk_get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

uint64_t rk_get_be64(const uint8_t *p)
{
    return ((uint64_t)rk_get_be32(p) << 32) | rk_get_be32(p + 4);
}

void rk_sha256(uint8_t out[RK_HASH_SIZE], const void *data, size_t len)
{
    SHA256_CTX c;

    SHA256_Init(&c);
    SHA256_Update(&c, data, len);
    SHA256_Final(out, &c);
    OPENSSL_cleanse(&c, sizeof c);
}

struct rk_sha256_ctx {
    SHA256_CTX c;
};

rk_sha256_ctx *rk_sha256_new(void)
{
    rk_sha256_ctx *c = calloc(1, sizeof *c);

    if (c != NULL)
        SHA256_Init(&c->c);
    return c;
}

void rk_sha256_update(rk_sha256_ctx *c, const void *data, size_t len)
{
    SHA256_Update(&c->c, data, len);
}

void rk_sha256_final(rk_sha256_ctx *c, uint8_t out[RK_HASH_SIZE])
{
    SHA256_Final(out, &c->c);
    SHA256_Init(&c->c);
}

void rk_sha256_free(rk_sha256_ctx *c)
{
    if (c == NULL)
        return;
    OPENSSL_cleanse(c, sizeof *c);
    free(c);
}

void rk_hex_encode(char *out, const uint8_t *bin, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[bin[i] >> 4];
        out[2 * i + 1] = digits[bin[i] & 15];
    }
    out[2 * len] = '\0';
}

const char rk_digit_pairs[200] = "00010203040506070809"
                                  "10111213141516171819"
                                  "20212223242526272829"
                                  "30313233343536373839"
                                  "40414243444546474849"
                                  "50515253545556575859"
                                  "60616263646566676869"
                                  "70717273747576777879"
                                  "80818283848586878889"
                                  "90919293949596979899";

size_t rk_u64_text(char out[RK_U64_TEXT_MAX], uint64_t v)
{
    /*
     * Two digits per division, from a table of the pairs "00".."99",
     * written straight to their place once the digits are counted: replay
     * writes a number for every sequence it renders.
     *
     * The count without a division: v has `bits` significant bits, so its
     * digits are floor(bits * log10(2)) or one more (1233 / 4096 is log10(2)
     * to the precision that holds for bits <= 64), the one more when v
     * reaches that power of ten.  v | 1 gives 0 one bit and one digit, and
     * changes no comparison with a power of ten above 1 (those are even).
     */
    static const uint64_t pow10[20] = {
        1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
        100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
        10000000000000ULL, 100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
        100000000000000000ULL, 1000000000000000000ULL, 10000000000000000000ULL};
    unsigned bits = 64 - (unsigned)__builtin_clzll(v | 1);
    size_t t = (bits * 1233) >> 12; /* 0..19 */
    size_t n = t + ((v | 1) >= pow10[t]);

    rk_digits_put(out, v, n);
    return n;
}

int rk_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t rk_utf8_next(const uint8_t *p, size_t n, uint32_t *cp)
{
    uint32_t c;
    size_t len, i;

    if (n == 0)
        return 0;
    if (p[0] < 0x80) {
        c = p[0];
        len = 1;
    } else {
        if (p[0] >= 0xc2 && p[0] <= 0xdf) {
            len = 2;
            c = p[0] & 0x1f;
        } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
            len = 3;
            c = p[0] & 0x0f;
        } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
            len = 4;
            c = p[0] & 0x07;
        } else {
            return 0;
        }
        if (n < len)
            return 0;
        for (i = 1; i < len; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            c = c << 6 | (p[i] & 0x3f);
        }
        if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) || c > 0x10ffff ||
            (c >= 0xd800 && c <= 0xdfff))
            return 0;
    }
    if (cp != NULL)
        *cp = c;
    return len;
}

int rk_utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0, k;

    while (i < n) {
        if (p[i] == 0)
            return 0;
        if (p[i] < 0x80) { /* ASCII, most text: no call into the decoder */
            i++;
            continue;
        }
        k = rk_utf8_next(p + i, n - i, NULL);
        if (k == 0)
            return 0;
        i += k;
    }
    return 1;
}

rk_err rk_hex_decode(uint8_t *bin, size_t len, const char *hex, size_t hexlen)
{
    size_t i;

    if (hexlen != 2 * len)
        return RK_ERR_INVALID;
    for (i = 0; i < len; i++) {
        int hi = rk_hex_digit(hex[2 * i]);
        int lo = rk_hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return RK_ERR_INVALID;
        bin[i] = (uint8_t)(hi << 4 | lo);
    }
    return RK_OK;
}

size_t rk_b64_encoded_size(size_t len)
{
    return sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
}

void rk_b64_encode(char *out, size_t outsize, const uint8_t *bin, size_t len)
{
    sodium_bin2base64(out, outsize, bin, len, sodium_base64_VARIANT_ORIGINAL);
}

rk_err rk_b64_decode(uint8_t *bin, size_t binmax, size_t *binlen,
                     const char *b64, size_t b64len)
{
    const char *end = NULL;
    size_t n = 0;

    if (b64len % 4 != 0)
        return RK_ERR_INVALID;
    if (sodium_base642bin(bin, binmax, b64, b64len, NULL, &n, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return RK_ERR_INVALID;
    if (end != b64 + b64len)
        return RK_ERR_INVALID;
    *binlen = n;
    return RK_OK;
}

void rk_buf_init(rk_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void rk_buf_free(rk_buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    rk_buf_init(b);
}

void rk_buf_reset(rk_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

rk_err rk_buf_reserve(rk_buf *b, size_t extra)
{
    size_t need, cap;
    uint8_t *p;

    if (extra > SIZE_MAX - b->len - 1)
        return RK_ERR_NOMEM;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return RK_OK;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = realloc(b->data, cap);
    if (p == NULL)
        return RK_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return RK_OK;
}

rk_err rk_buf_append(rk_buf *b, const void *data, size_t len)
{
    if (rk_buf_reserve(b, len) != RK_OK)
        return RK_ERR_NOMEM;
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return RK_OK;
}

rk_err rk_buf_puts(rk_buf *b, const char *s)
{
    return rk_buf_append(b, s, strlen(s));
}

rk_err rk_buf_putc(rk_buf *b, char c)
{
    return rk_buf_append(b, &c, 1);
}

rk_err rk_buf_printf(rk_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return RK_ERR_INVALID;
    if (rk_buf_reserve(b, (size_t)n) != RK_OK)
        return RK_ERR_NOMEM;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return RK_OK;
}

char *rk_buf_detach(rk_buf *b, size_t *len)
{
    char *p = (char *)b->data;

    if (len != NULL)
        *len = b->len;
    rk_buf_init(b);
    return p;
}

rk_err rk_buf_read_file(rk_buf *b, const char *path, size_t max, char *err)
{
    FILE *f;
    uint8_t chunk[65536];
    size_t n;
    rk_err rc = RK_OK;
    int is_stdin = strcmp(path, "-") == 0;

    f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL)
        return rk_seterr(err, errno == ENOENT ? RK_ERR_NOTFOUND : RK_ERR_IO,
                         "cannot open '%s': %s", path, strerror(errno));
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b->len + n > max) {
            rc = rk_seterr(err, RK_ERR_TOOBIG, "'%s' is larger than %zu bytes",
                           path, max);
            goto out;
        }
        if (rk_buf_append(b, chunk, n) != RK_OK) {
            rc = rk_seterr(err, RK_ERR_NOMEM, "out of memory reading '%s'", path);
            goto out;
        }
    }
    if (ferror(f))
        rc = rk_seterr(err, RK_ERR_IO, "cannot read '%s': %s", path,
                       strerror(errno));
    else if (b->data == NULL)
        rc = rk_buf_append(b, "", 0); /* an empty file is still a C string */
out:
    /* the file may hold a secret (a webhook key): leave no copy on the stack */
    sodium_memzero(chunk, sizeof chunk);
    if (!is_stdin)
        fclose(f);
    return rc;
}
