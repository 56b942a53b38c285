/* error.c - names and formatting of rk_err codes. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *rk_strerror(rk_err code)
{
    switch (code) {
    case RK_OK: return "success";
    case RK_ERR_NOMEM: return "out of memory";
    case RK_ERR_IO: return "input/output error";
    case RK_ERR_CORRUPT: return "data is damaged";
    case RK_ERR_VERSION: return "unknown format version";
    case RK_ERR_INVALID: return "invalid input";
    case RK_ERR_NOTFOUND: return "not found";
    case RK_ERR_EXISTS: return "already exists";
    case RK_ERR_SIGNATURE: return "signature does not verify";
    case RK_ERR_RANGE: return "number out of range";
    case RK_ERR_TOOBIG: return "input too large";
    case RK_ERR_CLOSED: return "handle is closed";
    case RK_ERR_STALE: return "timestamp outside tolerance";
    case RK_ERR_CONFLICT: return "action not allowed by a rule";
    case RK_ERR_PERMISSION: return "permission denied";
    }
    return "unknown error";
}

rk_err rk_seterr(char *err, rk_err code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return code;
    va_start(ap, fmt);
    vsnprintf(err, RK_ERROR_SIZE, fmt, ap);
    va_end(ap);
    return code;
}

rk_err rk_preferr(char *err, rk_err code, const char *fmt, ...)
{
    char old[RK_ERROR_SIZE];
    va_list ap;
    size_t n;

    if (err == NULL)
        return code;
    memcpy(old, err, RK_ERROR_SIZE);
    old[RK_ERROR_SIZE - 1] = '\0';
    va_start(ap, fmt);
    vsnprintf(err, RK_ERROR_SIZE, fmt, ap);
    va_end(ap);
    /* append ": old", truncating at the buffer's end */
    n = strlen(err);
    if (n + 2 < RK_ERROR_SIZE) {
        memcpy(err + n, ": ", 2);
        n += 2;
        strncpy(err + n, old, RK_ERROR_SIZE - n - 1);
        err[RK_ERROR_SIZE - 1] = '\0';
    }
    return code;
}
