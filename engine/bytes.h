/*
 * bytes.h - the floor of the engine: big-endian integers, hex and base64,
 * SHA-256, and a growable byte buffer.
 *
 * Every multi-byte integer we store or ship is big-endian and goes through
 * rk_put_be* / rk_get_be*; no struct is ever copied to disk.  Hex is
 * lowercase.  Base64 is RFC 4648 standard alphabet with padding, through
 * libsodium.
 */
#ifndef RK_BYTES_H
#define RK_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "error.h"

#define RK_HASH_SIZE 32 /* SHA-256 output */

/* ---- big-endian ---------------------------------------------------- */
void rk_put_be16(uint8_t *p, uint16_t v);
void rk_put_be32(uint8_t *p, uint32_t v);
void rk_put_be64(uint8_t *p, uint64_t v);
uint16_t rk_get_be16(const uint8_t *p);
uint32_t rk_get_be32(const uint8_t *p);
uint64_t rk_get_be64(const uint8_t *p);

/* ---- SHA-256 (OpenSSL; uses the CPU's SHA extensions when present) --- */
void rk_sha256(uint8_t out[RK_HASH_SIZE], const void *data, size_t len);

/* Streaming SHA-256 over several parts.  The context is opaque. */
typedef struct rk_sha256_ctx rk_sha256_ctx;
rk_sha256_ctx *rk_sha256_new(void); /* NULL when out of memory */
void rk_sha256_update(rk_sha256_ctx *c, const void *data, size_t len);
void rk_sha256_final(rk_sha256_ctx *c, uint8_t out[RK_HASH_SIZE]); /* resets c */
void rk_sha256_free(rk_sha256_ctx *c); /* accepts NULL */

/* ---- hex and base64 -------------------------------------------------- */

/* Write 2*len lowercase hex digits and a NUL to out (2*len+1 bytes). */
void rk_hex_encode(char *out, const uint8_t *bin, size_t len);

/*
 * Decode exactly `len` bytes from hex text of exactly 2*len characters
 * (either case).  RK_ERR_INVALID on a wrong length or a non-hex digit.
 */
rk_err rk_hex_decode(uint8_t *bin, size_t len, const char *hex, size_t hexlen)
    __attribute__((warn_unused_result));

/* Encoded size of len bytes including the NUL. */
size_t rk_b64_encoded_size(size_t len);
/* Write base64 (standard, padded) and a NUL to out. */
void rk_b64_encode(char *out, size_t outsize, const uint8_t *bin, size_t len);
/*
 * Decode base64 (standard, padded) of b64len characters into bin, at most
 * binmax bytes, storing the decoded size in *binlen.  Whitespace is not
 * accepted.  RK_ERR_INVALID on bad text or if the output would not fit.
 */
rk_err rk_b64_decode(uint8_t *bin, size_t binmax, size_t *binlen,
                     const char *b64, size_t b64len)
    __attribute__((warn_unused_result));

/* Value of one hex digit (either case), or -1. */
int rk_hex_digit(int c);

/* ---- decimal ------------------------------------------------------------- */

#define RK_U64_TEXT_MAX 20 /* digits of 2^64 - 1 */

/* v in decimal into out (no NUL, no sign); returns the number of digits. */
size_t rk_u64_text(char out[RK_U64_TEXT_MAX], uint64_t v);

/* The decimal pairs "00".."99", 200 bytes (no NUL): pair k at 2 * k.  For
 * writers of decimal text that take two digits per division. */
extern const char rk_digit_pairs[200];

/* v's n digits (n its exact digit count, from the caller) into out[0..n),
 * two per division from rk_digit_pairs: the end of rk_u64_text, shared
 * with writers that count the digits their own way. */
static inline void rk_digits_put(char *out, uint64_t v, size_t n)
{
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        n -= 2;
        memcpy(out + n, rk_digit_pairs + 2 * r, 2);
    }
    if (v >= 10)
        memcpy(out, rk_digit_pairs + 2 * v, 2);
    else
        out[0] = (char)('0' + v);
}

/* "HH:MM:SS" of sod seconds into the day (below 86 400) into out[0..8). */
static inline void rk_hms_put(char *out, unsigned sod)
{
    memcpy(out, rk_digit_pairs + 2 * (sod / 3600), 2);
    out[2] = ':';
    memcpy(out + 3, rk_digit_pairs + 2 * (sod / 60 % 60), 2);
    out[5] = ':';
    memcpy(out + 6, rk_digit_pairs + 2 * (sod % 60), 2);
}

/* ---- UTF-8 --------------------------------------------------------------- */

/*
 * Length (1..4) of the UTF-8 sequence at p[0..n), storing its code point in
 * *cp when cp is not NULL; 0 when the sequence is invalid: a stray or
 * truncated byte, an overlong form, a surrogate, or above U+10FFFF.  NUL is
 * a valid one-byte sequence here.
 */
size_t rk_utf8_next(const uint8_t *p, size_t n, uint32_t *cp);

/* 1 when p[0..n) is valid UTF-8 without NUL bytes, else 0. */
int rk_utf8_valid(const uint8_t *p, size_t n);

/* ---- growable buffer (git's strbuf) ---------------------------------- */

/*
 * A buffer that owns data[0..len) and keeps data[len] == '\0' once anything
 * was appended, so text can be used as a C string.  Initialise with
 * RK_BUF_INIT or rk_buf_init; release with rk_buf_free.  On allocation
 * failure the appenders return RK_ERR_NOMEM and leave the buffer as it was.
 */
typedef struct rk_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} rk_buf;

#define RK_BUF_INIT { NULL, 0, 0 }

void rk_buf_init(rk_buf *b);
void rk_buf_free(rk_buf *b); /* accepts NULL; leaves b empty and reusable */
void rk_buf_reset(rk_buf *b); /* len = 0, keeps the allocation */
rk_err rk_buf_reserve(rk_buf *b, size_t extra);
rk_err rk_buf_append(rk_buf *b, const void *data, size_t len);
rk_err rk_buf_puts(rk_buf *b, const char *s);
rk_err rk_buf_putc(rk_buf *b, char c);
rk_err rk_buf_printf(rk_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Take ownership of the data (NUL-terminated, may be NULL if empty). */
char *rk_buf_detach(rk_buf *b, size_t *len);

/* Read a whole file (or stdin when path is "-") into b, at most max bytes. */
rk_err rk_buf_read_file(rk_buf *b, const char *path, size_t max, char *err);

#endif
