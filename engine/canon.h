/*
 * canon.h - strict JSON parsing with exact number text, and canonical JSON.
 *
 * The tree is a cJSON tree, but cJSON keeps numbers only as doubles.  Money
 * must never pass through a double, so rk_json_parse also keeps every
 * number's exact source literal.  It reads the text once: a strict RFC 8259
 * scanner checks every rule (grammar, UTF-8, escapes, nesting depth,
 * trailing garbage, duplicate keys) and builds the tree as it goes, node for
 * node the tree cJSON's own parser builds from the same text (types, links,
 * keys, unescaped strings; numbers converted by cJSON), with each number
 * node's literal, NUL-terminated, in its `valuestring`.  Every node and
 * string comes from cJSON_malloc.
 *
 * cJSON_Delete frees `valuestring` of every node that is not a reference,
 * number nodes included, through the allocator cJSON_malloc uses; so a tree
 * from rk_json_parse is freed with plain cJSON_Delete and nothing leaks.
 * cJSON_Duplicate copies the text too.  Do not change a parsed number with
 * cJSON_SetNumberValue (the text would go stale): replace the node instead.
 *
 * The canonical form (formats/canonical-json.md, byte for byte): object keys
 * sorted by their UTF-8 bytes, no insignificant whitespace, minimal string
 * escapes, and numbers only as canonical integer literals below 2^63 in
 * magnitude.  Amounts are written as JSON strings (rk_amount_format).
 *
 * Errors are RK_ERR_INVALID with a message naming the place: a line and
 * column for syntax, a JSON path ($, $.fee.currency, $.items[2],
 * $["odd key"]) for content.  Nesting deeper than RK_JSON_MAX_DEPTH and number
 * literals longer than RK_JSON_NUMBER_MAX are RK_ERR_TOOBIG.
 */
#ifndef RK_CANON_H
#define RK_CANON_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "amount.h"
#include "bytes.h"
#include "error.h"

#define RK_JSON_MAX_DEPTH 64  /* arrays and objects nested at most this deep */
#define RK_JSON_NUMBER_MAX 63 /* longest number literal accepted, in bytes */

/*
 * Parse `len` bytes of JSON (need not be NUL-terminated) into a cJSON tree in
 * *out, which the caller frees with cJSON_Delete.  The text must be exactly
 * one JSON value (RFC 8259) with optional surrounding whitespace (space, tab,
 * CR, LF only).  Rejected with RK_ERR_INVALID: empty input, a byte order
 * mark, syntax errors, trailing characters, invalid UTF-8 (overlong forms,
 * surrogates, beyond U+10FFFF), unpaired \u surrogate escapes, \u0000 (cJSON
 * strings are NUL-terminated), duplicate keys in an object (after unescaping;
 * the message names the path).  RK_ERR_TOOBIG: nesting deeper than
 * RK_JSON_MAX_DEPTH or a number literal longer than RK_JSON_NUMBER_MAX.
 * RK_ERR_NOMEM on allocation failure.  *out is set only on RK_OK.
 */
rk_err rk_json_parse(const char *text, size_t len, cJSON **out, char *err)
    __attribute__((warn_unused_result));

/*
 * The exact source literal ("0.0012", "1e5", "-7") of a number node from
 * rk_json_parse (or a copy made by cJSON_Duplicate); NULL for any other node
 * and for numbers made with cJSON_CreateNumber.  Borrowed from the node.
 */
const char *rk_json_number_text(const cJSON *n);

/*
 * Read member `key` (case-sensitive) of object obj as an amount with
 * `decimals` fraction digits.  The member is either a JSON string holding
 * amount text ("0.0012", rules of rk_amount_parse) or a JSON number, read
 * exactly from its source literal; a number literal may carry an exponent
 * (1.5e-3 is 0.0015), which is expanded exactly.  A number without source
 * text (cJSON_CreateNumber) is accepted only as an integer within
 * +-(2^53 - 1).  RK_ERR_NOTFOUND when absent; RK_ERR_INVALID when obj is not
 * an object, the member is null, another type, or bad amount text (a nonzero
 * digit beyond `decimals`); RK_ERR_RANGE when outside +-(10^38 - 1).
 */
rk_err rk_json_get_amount(const cJSON *obj, const char *key, unsigned decimals,
                          rk_amount *out, char *err)
    __attribute__((warn_unused_result));

/*
 * Member `key` (case-sensitive) as a string, borrowed from the tree (valid
 * until cJSON_Delete).  RK_ERR_NOTFOUND if absent, RK_ERR_INVALID if obj is
 * not an object or the member is not a string (null included).
 */
rk_err rk_json_get_string(const cJSON *obj, const char *key, const char **out, char *err)
    __attribute__((warn_unused_result));

/*
 * Member `key` as an unsigned 64-bit integer, exactly from the number's
 * source literal, which must be a plain integer (no fraction, no exponent).
 * A number without source text must be an integer within 0..2^53 - 1.
 * RK_ERR_NOTFOUND if absent; RK_ERR_INVALID if not a number or not an
 * integer literal; RK_ERR_RANGE if negative or above 2^64 - 1.
 */
rk_err rk_json_get_u64(const cJSON *obj, const char *key, uint64_t *out, char *err)
    __attribute__((warn_unused_result));

/*
 * Flag for rk_canon_write: emit each number's source literal as it is
 * ("0.00123", "1e5") instead of requiring canonical integers.  Used for
 * signature messages built from sorted keys (NOWPayments); the result is not
 * the canonical form and must not be stored as such.
 */
#define RK_CANON_ANY_NUMBER 1u

/*
 * Append the canonical form of node to out.  Numbers: a node with source
 * text (rk_json_parse) must be a canonical integer literal of magnitude below
 * 2^63 unless RK_CANON_ANY_NUMBER; a node without text (cJSON_CreateNumber)
 * must hold an integer within +-(2^53 - 1) and is written as that integer.
 * Anything else is RK_ERR_INVALID with the JSON path and the advice to
 * write amounts as strings.  Also RK_ERR_INVALID: duplicate or missing keys,
 * strings or keys that are not valid UTF-8 (or NULL), raw or invalid nodes.
 * RK_ERR_TOOBIG beyond RK_JSON_MAX_DEPTH.  On any error out is restored to
 * its previous length.
 */
rk_err rk_canon_write(const cJSON *node, unsigned flags, rk_buf *out, char *err)
    __attribute__((warn_unused_result));

/* rk_json_parse then rk_canon_write(flags 0), appending to out. */
rk_err rk_canon_normalize(const char *text, size_t len, rk_buf *out, char *err)
    __attribute__((warn_unused_result));

/*
 * RK_OK iff text parses and is byte-identical to its canonical form;
 * otherwise the parse or write error, or RK_ERR_INVALID "not canonical" with
 * the offset of the first differing byte.
 */
rk_err rk_canon_check(const char *text, size_t len, char *err)
    __attribute__((warn_unused_result));

/* ---- reading canonical JSON without a tree --------------------------------
 *
 * Record bodies are canonical (the ledger checks every append), so reading
 * them needs no general parser.  rk_jv_parse checks one whole text once
 * (exactly the rules of rk_canon_check) and gives a view of its value;
 * views of members and elements are then found by a cursor that only skips
 * bytes.  Nothing is allocated: views point into the caller's text, which
 * must outlive them.  A view is only ever made from a checked text, so the
 * cursor cannot run off the end.
 */
typedef enum rk_jv_type {
    RK_JV_NULL = 1,
    RK_JV_FALSE,
    RK_JV_TRUE,
    RK_JV_INT,    /* a canonical integer literal */
    RK_JV_STRING,
    RK_JV_ARRAY,
    RK_JV_OBJECT
} rk_jv_type;

/* A value inside a checked canonical text. */
typedef struct rk_jv {
    const char *p;   /* its first byte (the quote of a string) */
    size_t len;      /* its bytes, quotes and brackets included */
    rk_jv_type type;
    int plain;       /* a string known to hold no backslash (its text is its
                      * value); 0: not known.  Set by rk_jv_parse_tape, for
                      * strings of printable ASCII. */
} rk_jv;

/*
 * Check that text[0..len) is canonical JSON (rk_canon_check's rules) and
 * view its value.  RK_ERR_INVALID "canon: not canonical" when it is not (the
 * message does not say where: use rk_canon_check for that).
 */
rk_err rk_jv_parse(const char *text, size_t len, rk_jv *out, char *err)
    __attribute__((warn_unused_result));

/*
 * rk_jv_parse, then the members of the top-level object: keys[i] (string
 * views) and vals[i] for the first max members in order, *n of them; *more
 * is 1 when the object has more than max (walk those with a cursor).  *n
 * is 0 when the value is not an object or on error.  keys and vals may be
 * NULL when max is 0.  (rk_jv_parse_tape lists members at every depth in
 * the same pass as the check.)
 */
rk_err rk_jv_parse_object(const char *text, size_t len, rk_jv *out, rk_jv *keys,
                          rk_jv *vals, size_t max, size_t *n, int *more, char *err)
    __attribute__((warn_unused_result));

/*
 * One member of an object, or one element of an array, of a checked text.
 * rk_jv_parse_tape lists every member and element at every depth in
 * document order (depth first): the entries of a container value follow
 * its own entry, from index i + 1 up to (not including) next; next is also
 * where the entry's next sibling is, when it has one.  The children of the
 * top-level value are the entries from 0 up to the count, chained by next.
 */
typedef struct rk_jent {
    rk_jv key;     /* a member's key (a string view); zeroed for an element */
    rk_jv val;
    size_t next;   /* the index past this entry's value's own entries */
} rk_jent;

/*
 * rk_jv_parse, also listing the members and elements of the value at every
 * depth in tape[0..max), in the same pass: a reader of nested members needs
 * no second walk of the text, and the strings of printable ASCII without
 * escapes it finds are marked plain.  *n is the number of entries the value has;
 * when *n > max only the first max were stored and the tape must not be
 * used (walk the value with a cursor).  tape may be NULL when max is 0.
 */
rk_err rk_jv_parse_tape(const char *text, size_t len, rk_jv *out, rk_jent *tape, size_t max,
                        size_t *n, char *err) __attribute__((warn_unused_result));

/* Iterates the members of an object or the elements of an array, in order. */
typedef struct rk_jcur {
    const char *p;  /* the container's text */
    size_t len, pos;
    int object;
} rk_jcur;

/* Start at the first member or element of v; 0, or -1 when v is neither
 * an object nor an array. */
int rk_jcur_open(rk_jcur *c, const rk_jv *v);

/*
 * The next member (key: a string view, may be NULL for arrays) and value.
 * 1 when there was one, 0 at the end.  Keys come in canonical order (sorted
 * by bytes, no duplicates).
 */
int rk_jcur_next(rk_jcur *c, rk_jv *key, rk_jv *val);

/* Is v the string s exactly (after unescaping)?  0 for other types. */
int rk_jv_is(const rk_jv *v, const char *s);

/*
 * The contents of string v between the quotes, as they stand in the text:
 * *s and *n.  Returns 1 when that text holds a backslash (use rk_jv_unescape
 * for the value), 0 when it is the value itself, -1 when v is not a string.
 */
int rk_jv_raw(const rk_jv *v, const char **s, size_t *n);

/*
 * The value of string v, unescaped, NUL-terminated, into out (cap bytes).
 * Returns its length (without the NUL), or (size_t)-1 when v is not a
 * string or the value and its NUL do not fit.  A value holding U+0000 is
 * cut there, as cJSON would.
 */
size_t rk_jv_unescape(const rk_jv *v, char *out, size_t cap);

/* Integer v into *out: 0, or -1 when v is not an integer or beyond int64. */
int rk_jv_int(const rk_jv *v, int64_t *out);

/* Find member key of object v into *out: 1 found, 0 absent or not an object. */
int rk_jv_member(const rk_jv *v, const char *key, rk_jv *out);

/*
 * Append s[0..n) to out as a canonical JSON string: quotes, then the bytes
 * with '"', '\\' and controls escaped as formats/canonical-json.md says.  s
 * must be valid UTF-8 (it is not checked).  RK_ERR_NOMEM.
 */
rk_err rk_canon_put_string(rk_buf *out, const char *s, size_t n)
    __attribute__((warn_unused_result));

#endif
