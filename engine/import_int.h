/*
 * import_int.h - what import.c (checking, versions, append) and
 * import_read.c (CSV and JSON readers) share.  Private to engine/.
 */
#ifndef RK_IMPORT_INT_H
#define RK_IMPORT_INT_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "bytes.h"
#include "error.h"
#include "import.h"

/* One named value of a row; value is never NULL (empty means absent). */
struct rk_imp_field {
    char *name;
    char *value;
    int number; /* the value is a JSON number's source literal */
};

/* What the importer decided for a row. */
enum rk_imp_fate {
    RK_IMP_BAD = 0,       /* reported, never appended */
    RK_IMP_NEW,           /* version 1 */
    RK_IMP_UNCHANGED,     /* equal to the latest version */
    RK_IMP_CORRECTION,    /* version n + 1 */
    RK_IMP_DUPLICATE,     /* equal to an earlier row of the same file */
};

struct rk_imp_row {
    unsigned long line;        /* where the row starts, from 1 */
    struct rk_imp_field *f;
    size_t nf, capf;
    char *error;               /* the first reason the row is bad, or NULL */
    /* after checking */
    cJSON *body;               /* the content: stored body without correction_of */
    rk_buf canon;              /* canonical bytes of body */
    const char *row_id;        /* borrowed from body */
    const char *order;         /* borrowed from body */
    enum rk_imp_fate fate;
    /* after the version look-up */
    char *event_key;
    rk_buf stored;             /* the body appended (with correction_of) */
};

struct rk_imp_table {
    struct rk_imp_row *rows;
    size_t n, cap;
    char *file_error; /* a fault of the whole file (reported at line 1) */
};

void rk_imp_table_free(struct rk_imp_table *t);

/* Set the row's error (first one wins).  Returns RK_ERR_NOMEM or RK_OK. */
rk_err rk_imp_row_fail(struct rk_imp_row *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Quote at most 48 bytes of s for a message, unprintable bytes as '?'. */
#define RK_IMP_QUOTE_MAX 56
const char *rk_imp_quote(char q[RK_IMP_QUOTE_MAX], const char *s);

/*
 * Readers: fill t with rows from data (a leading UTF-8 BOM already
 * skipped).  Bad rows get an error; a whole-file fault sets t->file_error.
 * known(name) tells which names are fields of this kind; required lists
 * the columns a CSV header must have (NULL-terminated).  Returns only
 * RK_ERR_NOMEM or RK_ERR_TOOBIG (too many rows) as failures.
 */
typedef int (*rk_imp_known_fn)(const char *name);
rk_err rk_imp_read_csv(const char *data, size_t len, rk_imp_known_fn known,
                       const char *const *required, struct rk_imp_table *t);
rk_err rk_imp_read_json(const char *data, size_t len, int lines_only,
                        rk_imp_known_fn known, const char *const *nested,
                        struct rk_imp_table *t);

#endif
