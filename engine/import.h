/*
 * import.h - commerce and finance rows from CSV and JSON files into the
 * ledger (formats/import.md).
 *
 * An import reads one whole file, turns every row into the canonical body
 * of one commerce_row or finance_row record, and appends all of them in ONE
 * rk_ledger_append call, so a file is imported atomically.  Every row is
 * checked first; every bad row is reported as "FILE:LINE: reason".  A file
 * with a bad row imports nothing, unless skip_bad is set: then the good rows
 * are imported and the bad ones are listed as skipped.
 *
 * Re-importing adds no new fact.  Each record carries the event key
 * "<kind>-row:<row_id>#<n>" for the n-th version of a row (n = 1, 2, ...);
 * a row equal to its row_id's latest version is "unchanged" and not
 * appended, a row that differs is appended as version n+1 with
 * correction_of = the sequence number of version n.
 *
 * Concurrency: the versions are looked up before the append, so two imports
 * on one ledger handle must not run at the same time (across processes the
 * ledger's lock already prevents it).  If it happens anyway, the loser's
 * clashing rows are not written and the import returns RK_ERR_CONFLICT.
 */
#ifndef RK_IMPORT_H
#define RK_IMPORT_H

#include <stddef.h>

#include "error.h"
#include "ledger.h"

#define RK_IMPORT_FILE_MAX (256u * 1024 * 1024) /* bytes of an input file */
#define RK_IMPORT_ROWS_MAX 1000000u             /* rows in one file */
#define RK_IMPORT_FIELD_MAX 4096u               /* bytes of one field value */
#define RK_IMPORT_ROW_ID_MAX 256u               /* bytes of a row id */

/* What a file holds; the values are the record kinds. */
typedef enum rk_import_kind {
    RK_IMPORT_COMMERCE = 4, /* commerce_row records */
    RK_IMPORT_FINANCE = 5,  /* finance_row records */
} rk_import_kind;

typedef enum rk_import_format {
    RK_IMPORT_AUTO = 0,  /* by the file name's extension */
    RK_IMPORT_CSV = 1,   /* RFC 4180 with a header row */
    RK_IMPORT_JSONL = 2, /* one JSON object per line */
    RK_IMPORT_JSON = 3,  /* a JSON array of objects, or JSON lines */
} rk_import_format;

/* "csv", "jsonl", "json" -> format; RK_ERR_INVALID for anything else. */
rk_err rk_import_format_parse(const char *name, rk_import_format *out)
    __attribute__((warn_unused_result));

/*
 * The format a file name implies: ".csv", ".jsonl" / ".ndjson", ".json"
 * (case-insensitive).  RK_ERR_INVALID (with a message naming the file) for
 * any other name.
 */
rk_err rk_import_format_guess(const char *path, rk_import_format *out, char *err)
    __attribute__((warn_unused_result));

typedef struct rk_import_opts {
    rk_import_kind kind;
    rk_import_format format; /* RK_IMPORT_AUTO: rk_import_format_guess(name) */
    int skip_bad;            /* import the good rows of a file with bad ones */
    const char *name;        /* the file name used in messages */
} rk_import_opts;

/* The outcome of one import.  Zero it (or use RK_IMPORT_RESULT_INIT) first. */
typedef struct rk_import_result {
    size_t rows;        /* data rows read (not the header, not blank lines) */
    size_t fresh;       /* rows appended as version 1 */
    size_t unchanged;   /* rows equal to their latest version: not appended */
    size_t corrections; /* rows appended as a later version */
    size_t bad;         /* bad rows (skipped when skip_bad) */
    int imported;       /* 1 when the append was done (or nothing was to do) */
    char **messages;    /* `bad` or more "FILE:LINE: reason" lines, in order */
    size_t nmessages;
} rk_import_result;

#define RK_IMPORT_RESULT_INIT { 0, 0, 0, 0, 0, 0, NULL, 0 }

/* Free the messages; leaves res zeroed.  Accepts NULL. */
void rk_import_result_free(rk_import_result *res);

/*
 * Import len bytes of data (need not be NUL-terminated) as o->kind rows.
 * l may be NULL to check a file without a ledger: every good row counts as
 * fresh and nothing is written.
 *
 * Returns:
 *   RK_OK           every row is good, or skip_bad and the good rows were
 *                   imported; res->bad > 0 tells that some were skipped
 *   RK_ERR_INVALID  bad rows, nothing imported (res->messages lists them);
 *                   also for a file-level fault (no header row, an unknown
 *                   or duplicate column), which is one message at line 1
 *                   and stops the import even with skip_bad
 *   RK_ERR_TOOBIG   more than RK_IMPORT_ROWS_MAX rows or data larger than
 *                   RK_IMPORT_FILE_MAX (nothing imported)
 *   RK_ERR_CONFLICT a concurrent import wrote a clashing version (above)
 *   RK_ERR_IO, RK_ERR_CORRUPT, RK_ERR_CLOSED, RK_ERR_NOMEM from the ledger
 *                   (nothing imported)
 * err receives a one-line summary on failure ("orders.csv: 2 bad rows").
 */
rk_err rk_import_buffer(rk_ledger *l, const rk_import_opts *o, const char *data,
                        size_t len, rk_import_result *res, char *err)
    __attribute__((warn_unused_result));

/*
 * rk_import_buffer on the contents of the file at path (o->name defaults to
 * path, the format to rk_import_format_guess(path)).  RK_ERR_NOTFOUND or
 * RK_ERR_IO when it cannot be read.
 */
rk_err rk_import_file(rk_ledger *l, const rk_import_opts *o, const char *path,
                      rk_import_result *res, char *err)
    __attribute__((warn_unused_result));

/*
 * Is code (e.g. "USD") an active ISO 4217 fiat currency?  Returns its number
 * of minor-unit digits (0..4), or -1 when it is not one.  Codes are three
 * upper-case letters; precious metals, funds and testing codes (X..) other
 * than the CFA and CFP francs are not fiat.
 */
int rk_import_fiat_decimals(const char *code);

#endif
