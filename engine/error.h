/*
 * error.h - the one error enum of the reckon engine.
 *
 * Every engine function that can fail returns an rk_err.  RK_OK is 0.  Codes
 * are appended, never renumbered: scripts and stored reports may carry them.
 *
 * Detail goes into a caller-owned buffer of RK_ERROR_SIZE bytes (curl's
 * CURLOPT_ERRORBUFFER pattern).  Functions that take `char *err` accept NULL
 * when the caller does not want the detail.  Messages are lowercase, have no
 * full stop, say what failed first and quote the subject, e.g.
 *     seq 1042: record hash mismatch
 * They never contain secret material.
 */
#ifndef RK_ERROR_H
#define RK_ERROR_H

#include <stddef.h>

#define RK_ERROR_SIZE 512

typedef enum rk_err {
    RK_OK = 0,              /* success */
    RK_ERR_NOMEM = 1,       /* out of memory */
    RK_ERR_IO = 2,          /* file system or storage error */
    RK_ERR_CORRUPT = 3,     /* stored or shipped data is damaged */
    RK_ERR_VERSION = 4,     /* unknown format version */
    RK_ERR_INVALID = 5,     /* invalid argument or malformed input */
    RK_ERR_NOTFOUND = 6,    /* no such record, key or file */
    RK_ERR_EXISTS = 7,      /* already exists (ledger, event id, key) */
    RK_ERR_SIGNATURE = 8,   /* a signature or MAC does not verify */
    RK_ERR_RANGE = 9,       /* a number is out of range or overflows */
    RK_ERR_TOOBIG = 10,     /* input exceeds a documented size limit */
    RK_ERR_CLOSED = 11,     /* the handle is closing or closed */
    RK_ERR_STALE = 12,      /* a timestamp is outside the tolerance */
    RK_ERR_CONFLICT = 13,   /* a rule forbids the action (e.g. four eyes) */
    RK_ERR_PERMISSION = 14, /* the caller's role does not allow the action */
} rk_err;

/* A short constant name of the code ("record is damaged"); never NULL. */
const char *rk_strerror(rk_err code);

/*
 * Format a message into err (RK_ERROR_SIZE bytes, may be NULL) and return
 * code, so that a failure path reads `return rk_seterr(err, RK_ERR_IO, ...)`.
 */
rk_err rk_seterr(char *err, rk_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Prefix an existing message: "prefix: old message".  Returns code.  Used when
 * an outer layer knows the subject (a file name, a sequence number).
 */
rk_err rk_preferr(char *err, rk_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
