/* canon.c - strict JSON parsing with exact number text; canonical JSON
 * (formats/canonical-json.md). */
#include "canon.h"
#include "canon_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 200  /* bytes of JSON path kept for messages */
#define QUOTE_MAX 40      /* bytes of a literal quoted in a message */
#define SAFE_INT 9007199254740991.0 /* 2^53 - 1 */

/* ---- UTF-8 ------------------------------------------------------------ */

/*
 * Length (1-4) of the well-formed UTF-8 sequence at p (n bytes available),
 * or 0 when it is not well formed (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF).
 */
/* ---- JSON paths for messages ----------------------------------------- */

typedef struct path {
    char s[PATH_MAX_LEN + 4];
    size_t len;
} path;

static void path_init(path *p)
{
    strcpy(p->s, "$");
    p->len = 1;
}

/* Append a segment; a path that would grow beyond PATH_MAX_LEN is cut and
 * ends in "..." from then on. */
static void path_add(path *p, const char *seg, size_t n)
{
    if (p->len >= 3 && memcmp(p->s + p->len - 3, "...", 3) == 0 && p->len > PATH_MAX_LEN)
        return;
    if (p->len + n > PATH_MAX_LEN) {
        n = PATH_MAX_LEN - p->len;
        while (n > 0 && ((unsigned char)seg[n] & 0xC0) == 0x80)
            n--; /* do not split a UTF-8 sequence */
        memcpy(p->s + p->len, seg, n);
        p->len += n;
        memcpy(p->s + p->len, "...", 3);
        p->len += 3; /* now > PATH_MAX_LEN: full */
        p->s[p->len] = '\0';
        return;
    }
    memcpy(p->s + p->len, seg, n);
    p->len += n;
    p->s[p->len] = '\0';
}

static int is_ident(const char *k)
{
    size_t i;

    if (k[0] == '\0' || (k[0] >= '0' && k[0] <= '9'))
        return 0;
    for (i = 0; k[i] != '\0'; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
    }
    return 1;
}

/* Append .key or ["key"] (non-printable bytes as '?'). */
static void path_key(path *p, const char *key)
{
    char seg[PATH_MAX_LEN + 8];
    size_t n = 0, i, klen = strlen(key);

    if (is_ident(key)) {
        seg[n++] = '.';
        for (i = 0; key[i] != '\0' && n < PATH_MAX_LEN + 1; i++)
            seg[n++] = key[i];
    } else {
        seg[n++] = '[';
        seg[n++] = '"';
        for (i = 0; key[i] != '\0' && n < PATH_MAX_LEN + 1;) {
            unsigned char c = (unsigned char)key[i];
            size_t k = rk_utf8_next((const unsigned char *)key + i, klen - i, NULL);

            if (c >= 0x80 && k > 1 && n + k < PATH_MAX_LEN + 1) {
                memcpy(seg + n, key + i, k); /* valid non-ASCII stays readable */
                n += k;
                i += k;
                continue;
            }
            seg[n++] = (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
            i++;
        }
        seg[n++] = '"';
        seg[n++] = ']';
    }
    path_add(p, seg, n);
}

static void path_index(path *p, size_t i)
{
    char seg[32];
    int n = snprintf(seg, sizeof seg, "[%zu]", i);

    path_add(p, seg, (size_t)n);
}

/* Quote at most QUOTE_MAX bytes of s, '?' for unprintables. */
static const char *quote(char *q, const char *s)
{
    size_t i;

    for (i = 0; s[i] != '\0' && i < QUOTE_MAX; i++) {
        unsigned char c = (unsigned char)s[i];
        q[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (s[i] != '\0') {
        memcpy(q + i, "...", 3);
        i += 3;
    }
    q[i] = '\0';
    return q;
}

/* ---- runs of plain string bytes --------------------------------------- */

/* ---- the strict parser ------------------------------------------------ */

/*
 * One pass over the text checks every rule and builds the cJSON tree as it
 * goes, node for node what cJSON's own parser builds from a valid text (the
 * same types, the same next/prev links with the first child's prev at the
 * last, keys in `string`, strings unescaped the same way, numbers converted
 * by cJSON itself), plus each number's source text in valuestring.  Every
 * allocation goes through cJSON_malloc, so cJSON_Delete frees the tree.
 * fuzz_canon_parse compares the tree with cJSON's parse of the same text.
 *
 * A text with several faults always gets the same message: the first
 * fault of syntax or encoding in the text, else the first object in
 * document order (by its '{') holding a duplicate key.  So a duplicate is
 * only noted when its object closes (an object that opened after the one
 * noted cannot be first, and is not looked at) and reported once the whole
 * text is known well formed.  Its JSON path is built only then, by walking
 * the finished tree down to the object: no path is kept while parsing.
 */
typedef struct scanner {
    const unsigned char *p;
    size_t len, pos;
    char *err;
    size_t objects;       /* objects opened so far: an object's rank in document order */
    const cJSON *dup_obj; /* the first object (by rank) holding a duplicate key */
    const char *dup_key;  /* its least duplicate key (a member's string) */
    size_t dup_rank;
} scanner;

static rk_err scan_fail(scanner *s, rk_err code, const char *what)
{
    size_t i, line = 1, col = 1;

    for (i = 0; i < s->pos && i < s->len; i++) {
        if (s->p[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    if (s->pos >= s->len)
        return rk_seterr(s->err, code, "json: %s at end of input (line %zu column %zu)", what,
                         line, col);
    return rk_seterr(s->err, code, "json: %s at line %zu column %zu", what, line, col);
}

static rk_err out_of_memory(scanner *s)
{
    return rk_seterr(s->err, RK_ERR_NOMEM, "json: out of memory");
}

/* A zeroed node of type `type` from cJSON's allocator (as cJSON_New_Item). */
static cJSON *new_node(int type)
{
    cJSON *n = cJSON_malloc(sizeof *n);

    if (n != NULL) {
        memset(n, 0, sizeof *n);
        n->type = type;
    }
    return n;
}

/* Inlined with a first look: most calls find no whitespace at all. */
static inline void skip_ws(scanner *s)
{
    if (s->pos < s->len && s->p[s->pos] > ' ')
        return;
    while (s->pos < s->len) {
        unsigned char c = s->p[s->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        s->pos++;
    }
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Read the 4 hex digits after "\u" at s->pos; -1 when malformed. */
static long read_u4(scanner *s)
{
    long v = 0;
    int i;

    if (s->len - s->pos < 4)
        return -1;
    for (i = 0; i < 4; i++) {
        int h = hexval(s->p[s->pos + (size_t)i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    s->pos += 4;
    return v;
}

static rk_err scan_escape(scanner *s)
{
    unsigned char c;
    long u, lo;

    s->pos++; /* the backslash */
    if (s->pos >= s->len)
        return scan_fail(s, RK_ERR_INVALID, "unterminated string");
    c = s->p[s->pos];
    if (strchr("\"\\/bfnrt", c) != NULL && c != '\0') {
        s->pos++;
        return RK_OK;
    }
    if (c != 'u')
        return scan_fail(s, RK_ERR_INVALID, "invalid escape in string");
    s->pos++;
    u = read_u4(s);
    if (u < 0)
        return scan_fail(s, RK_ERR_INVALID, "invalid \\u escape in string");
    if (u == 0)
        return scan_fail(s, RK_ERR_INVALID, "\\u0000 in string is not supported");
    if (u >= 0xDC00 && u <= 0xDFFF)
        return scan_fail(s, RK_ERR_INVALID, "unpaired surrogate escape in string");
    if (u >= 0xD800 && u <= 0xDBFF) {
        if (s->len - s->pos < 2 || s->p[s->pos] != '\\' || s->p[s->pos + 1] != 'u')
            return scan_fail(s, RK_ERR_INVALID, "unpaired surrogate escape in string");
        s->pos += 2;
        lo = read_u4(s);
        if (lo < 0xDC00 || lo > 0xDFFF)
            return scan_fail(s, RK_ERR_INVALID, "unpaired surrogate escape in string");
    }
    return RK_OK;
}

/* The value of 4 hex digits already checked by read_u4. */
static unsigned long hex4(const unsigned char *p)
{
    return (unsigned long)(hexval(p[0]) << 12 | hexval(p[1]) << 8 | hexval(p[2]) << 4 |
                           hexval(p[3]));
}

/*
 * Decode the n bytes of a string's text p (between its quotes, checked by
 * scan_string) into out, NUL-terminated: short escapes to their byte,
 * \uXXXX (a surrogate pair as one code point) to UTF-8, all else as is.
 * The value is never longer than its text (6 bytes of \uXXXX give at most
 * 3, 12 of a pair give 4), so out needs n + 1 bytes.
 */
static void unescape(const unsigned char *p, size_t n, char *out)
{
    size_t i = 0, o = 0;

    while (i < n) {
        unsigned long u;

        if (p[i] != '\\') {
            out[o++] = (char)p[i++];
            continue;
        }
        i += 2;
        switch (p[i - 1]) {
        case 'b': out[o++] = '\b'; continue;
        case 'f': out[o++] = '\f'; continue;
        case 'n': out[o++] = '\n'; continue;
        case 'r': out[o++] = '\r'; continue;
        case 't': out[o++] = '\t'; continue;
        case 'u': break;
        default: out[o++] = (char)p[i - 1]; continue; /* '"', '\\' or '/' */
        }
        u = hex4(p + i);
        i += 4;
        if (u >= 0xD800 && u <= 0xDBFF) { /* then "\uDC00".."\uDFFF" follows */
            u = 0x10000 + ((u - 0xD800) << 10) + (hex4(p + i + 2) - 0xDC00);
            i += 6;
        }
        if (u < 0x80) {
            out[o++] = (char)u;
        } else if (u < 0x800) {
            out[o++] = (char)(0xC0 | u >> 6);
            out[o++] = (char)(0x80 | (u & 0x3F));
        } else if (u < 0x10000) {
            out[o++] = (char)(0xE0 | u >> 12);
            out[o++] = (char)(0x80 | (u >> 6 & 0x3F));
            out[o++] = (char)(0x80 | (u & 0x3F));
        } else {
            out[o++] = (char)(0xF0 | u >> 18);
            out[o++] = (char)(0x80 | (u >> 12 & 0x3F));
            out[o++] = (char)(0x80 | (u >> 6 & 0x3F));
            out[o++] = (char)(0x80 | (u & 0x3F));
        }
    }
    out[o] = '\0';
}

/* The string whose opening quote is at s->pos; its value, unescaped and
 * NUL-terminated, in *out (from cJSON_malloc). */
static rk_err scan_string(scanner *s, char **out)
{
    size_t start = s->pos + 1, n;
    int escaped = 0;
    char *v;
    rk_err rc;

    /* plain bytes need no look one by one: most strings are one such run
     * up to their closing quote */
    s->pos = plain_run(s->p, start, s->len);
    for (;;) {
        unsigned char c;
        size_t k;

        if (s->pos >= s->len)
            return scan_fail(s, RK_ERR_INVALID, "unterminated string");
        c = s->p[s->pos];
        if (c == '"')
            break;
        if (c < 0x20)
            return scan_fail(s, RK_ERR_INVALID, "control character in string");
        if (c == '\\') {
            rc = scan_escape(s);
            if (rc != RK_OK)
                return rc;
            escaped = 1;
        } else {
            k = rk_utf8_next(s->p + s->pos, s->len - s->pos, NULL);
            if (k == 0)
                return scan_fail(s, RK_ERR_INVALID, "invalid utf-8 in string");
            s->pos += k;
        }
        s->pos = plain_run(s->p, s->pos, s->len);
    }
    n = s->pos - start;
    s->pos++; /* the closing quote */
    v = cJSON_malloc(n + 1);
    if (v == NULL)
        return out_of_memory(s);
    if (escaped) {
        unescape(s->p + start, n, v);
    } else {
        memcpy(v, s->p + start, n);
        v[n] = '\0';
    }
    *out = v;
    return RK_OK;
}

/* Length of the JSON number literal at p (n bytes), 0 if there is none. */
static size_t number_len(const unsigned char *p, size_t n)
{
    size_t i = 0;

    if (i < n && p[i] == '-')
        i++;
    if (i >= n || !isdig(p[i]))
        return 0;
    if (p[i] == '0')
        i++;
    else
        while (i < n && isdig(p[i]))
            i++;
    if (i < n && p[i] == '.') {
        i++;
        if (i >= n || !isdig(p[i]))
            return 0;
        while (i < n && isdig(p[i]))
            i++;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        if (i >= n || !isdig(p[i]))
            return 0;
        while (i < n && isdig(p[i]))
            i++;
    }
    return i;
}

static rk_err scan_number(scanner *s, cJSON **out)
{
    size_t n = number_len(s->p + s->pos, s->len - s->pos);
    cJSON *node;
    char *text;

    if (n == 0)
        return scan_fail(s, RK_ERR_INVALID, "invalid number");
    if (s->pos + n < s->len && (isdig(s->p[s->pos + n]) || s->p[s->pos + n] == '.'))
        return scan_fail(s, RK_ERR_INVALID, "invalid number (leading zero or stray '.')");
    if (n > RK_JSON_NUMBER_MAX)
        return scan_fail(s, RK_ERR_TOOBIG,
                         "number literal longer than 63 characters (write amounts as strings)");
    text = cJSON_malloc(n + 1);
    if (text == NULL)
        return out_of_memory(s);
    memcpy(text, s->p + s->pos, n);
    text[n] = '\0';
    /* cJSON converts the literal (valuedouble, valueint), exactly as its own
     * parser would within the document: the literal is all it reads there.
     * The literal is valid, so cJSON fails only to allocate. */
    node = cJSON_ParseWithLength(text, n);
    if (node == NULL) {
        cJSON_free(text);
        return out_of_memory(s);
    }
    node->valuestring = text;
    s->pos += n;
    *out = node;
    return RK_OK;
}

/* ---- duplicate keys --------------------------------------------------- */

#define DUP_PAIRWISE 16 /* objects up to this size: compare every pair */
#define DUP_STACK 64    /* larger ones up to this size: sort on the stack */

static int cmp_member(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;

    /* strcmp compares as unsigned char: bytewise, a prefix sorts first */
    return strcmp(x->string, y->string);
}

/*
 * The least key (bytewise) that occurs more than once among the n members
 * of obj (all keyed) in *dup, NULL when every key is unique.  The least one
 * is what a sort finds first, and what the messages always named.  Small
 * objects, nearly all of them, compare every pair without allocating.
 */
static rk_err least_duplicate(const cJSON *obj, size_t n, const char **dup, char *err)
{
    const cJSON *a, *b, *stack[DUP_STACK], **arr = stack;
    size_t i;

    *dup = NULL;
    if (n <= DUP_PAIRWISE) {
        for (a = obj->child; a != NULL; a = a->next)
            for (b = a->next; b != NULL; b = b->next)
                if (a->string[0] == b->string[0] && strcmp(a->string, b->string) == 0 &&
                    (*dup == NULL || strcmp(a->string, *dup) < 0))
                    *dup = a->string;
        return RK_OK;
    }
    if (n > DUP_STACK) {
        arr = malloc(n * sizeof *arr);
        if (arr == NULL)
            return rk_seterr(err, RK_ERR_NOMEM, "json: out of memory");
    }
    for (i = 0, a = obj->child; a != NULL; a = a->next)
        arr[i++] = a;
    qsort(arr, n, sizeof *arr, cmp_member);
    for (i = 1; i < n; i++) {
        if (strcmp(arr[i - 1]->string, arr[i]->string) == 0) {
            *dup = arr[i]->string;
            break;
        }
    }
    if (arr != stack)
        free(arr);
    return RK_OK;
}

/* Append to where the path from node down to target; 0 if target is not
 * in node's tree.  where is as it was on return 0. */
static int path_to(const cJSON *node, const cJSON *target, path *where)
{
    size_t saved = where->len, i;
    const cJSON *c;

    if (node == target)
        return 1;
    for (i = 0, c = node->child; c != NULL; c = c->next, i++) {
        if (cJSON_IsObject(node))
            path_key(where, c->string);
        else
            path_index(where, i);
        if (path_to(c, target, where))
            return 1;
        where->len = saved;
        where->s[saved] = '\0';
    }
    return 0;
}

/* ---- containers and values -------------------------------------------- */

static rk_err scan_value(scanner *s, int depth, cJSON **out);

static rk_err scan_container(scanner *s, int depth, int is_object, cJSON **out)
{
    unsigned char close = is_object ? '}' : ']';
    cJSON *node, *child, *last = NULL;
    char *key = NULL;
    const char *dup;
    size_t rank = 0, n = 0;
    rk_err rc;

    if (depth >= RK_JSON_MAX_DEPTH)
        return scan_fail(s, RK_ERR_TOOBIG, "nesting deeper than 64 levels");
    node = new_node(is_object ? cJSON_Object : cJSON_Array);
    if (node == NULL)
        return out_of_memory(s);
    if (is_object)
        rank = s->objects++;
    s->pos++;
    skip_ws(s);
    if (s->pos < s->len && s->p[s->pos] == close) {
        s->pos++;
        *out = node;
        return RK_OK;
    }
    for (;;) {
        if (is_object) {
            if (s->pos >= s->len || s->p[s->pos] != '"') {
                rc = scan_fail(s, RK_ERR_INVALID, "expected a string key");
                goto fail;
            }
            rc = scan_string(s, &key);
            if (rc != RK_OK)
                goto fail;
            skip_ws(s);
            if (s->pos >= s->len || s->p[s->pos] != ':') {
                rc = scan_fail(s, RK_ERR_INVALID, "expected ':' after key");
                goto fail;
            }
            s->pos++;
        }
        rc = scan_value(s, depth + 1, &child);
        if (rc != RK_OK)
            goto fail;
        child->string = key;
        key = NULL;
        /* cJSON's links: next and prev in order, and the first child's
         * prev is the last child (cJSON_AddItemToArray appends there) */
        if (last == NULL) {
            node->child = child;
        } else {
            last->next = child;
            child->prev = last;
        }
        node->child->prev = child;
        last = child;
        n++;
        skip_ws(s);
        if (s->pos < s->len && s->p[s->pos] == ',') {
            s->pos++;
            skip_ws(s);
            continue;
        }
        if (s->pos < s->len && s->p[s->pos] == close) {
            s->pos++;
            break;
        }
        rc = scan_fail(s, RK_ERR_INVALID,
                       is_object ? "expected ',' or '}' after member"
                                 : "expected ',' or ']' after element");
        goto fail;
    }
    /* an object ranked after the one already noted cannot be the first */
    if (is_object && (s->dup_obj == NULL || rank < s->dup_rank)) {
        rc = least_duplicate(node, n, &dup, s->err);
        if (rc != RK_OK)
            goto fail;
        if (dup != NULL) {
            s->dup_obj = node;
            s->dup_key = dup;
            s->dup_rank = rank;
        }
    }
    *out = node;
    return RK_OK;
fail:
    cJSON_free(key);
    cJSON_Delete(node);
    return rc;
}

static rk_err scan_literal(scanner *s, const char *word, int type, cJSON **out)
{
    size_t n = strlen(word);

    if (s->len - s->pos < n || memcmp(s->p + s->pos, word, n) != 0)
        return scan_fail(s, RK_ERR_INVALID, "invalid literal");
    *out = new_node(type);
    if (*out == NULL)
        return out_of_memory(s);
    if (type == cJSON_True)
        (*out)->valueint = 1; /* as cJSON's parser sets it */
    s->pos += n;
    return RK_OK;
}

/* depth counts the containers around the value; *out is the new node. */
static rk_err scan_value(scanner *s, int depth, cJSON **out)
{
    unsigned char c;
    char *v;
    rk_err rc;

    skip_ws(s);
    if (s->pos >= s->len)
        return scan_fail(s, RK_ERR_INVALID, "expected a value");
    c = s->p[s->pos];
    switch (c) {
    case '{': return scan_container(s, depth, 1, out);
    case '[': return scan_container(s, depth, 0, out);
    case '"':
        rc = scan_string(s, &v);
        if (rc != RK_OK)
            return rc;
        *out = new_node(cJSON_String);
        if (*out == NULL) {
            cJSON_free(v);
            return out_of_memory(s);
        }
        (*out)->valuestring = v;
        return RK_OK;
    case 't': return scan_literal(s, "true", cJSON_True, out);
    case 'f': return scan_literal(s, "false", cJSON_False, out);
    case 'n': return scan_literal(s, "null", cJSON_NULL, out);
    default:
        if (c == '-' || isdig(c))
            return scan_number(s, out);
        return scan_fail(s, RK_ERR_INVALID, "unexpected character");
    }
}

/*
 * The members of obj sorted by key in *sorted (caller frees), *n of them.
 * RK_ERR_INVALID on a member without a key or a duplicate key.
 */
static rk_err sorted_members(const cJSON *obj, const path *where, const char *who,
                             const cJSON ***sorted, size_t *n, char *err)
{
    const cJSON *c, **arr = NULL;
    size_t count = 0, i;
    path p;

    for (c = obj->child; c != NULL; c = c->next) {
        if (c->string == NULL)
            return rk_seterr(err, RK_ERR_INVALID, "%s: %s: object member without a key", who,
                             where->s);
        count++;
    }
    *sorted = NULL;
    *n = 0;
    if (count == 0)
        return RK_OK;
    arr = malloc(count * sizeof *arr);
    if (arr == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "%s: out of memory", who);
    for (i = 0, c = obj->child; c != NULL; c = c->next)
        arr[i++] = c;
    qsort(arr, count, sizeof *arr, cmp_member);
    for (i = 1; i < count; i++) {
        if (strcmp(arr[i - 1]->string, arr[i]->string) == 0) {
            p = *where;
            path_key(&p, arr[i]->string);
            free(arr);
            return rk_seterr(err, RK_ERR_INVALID, "%s: %s: duplicate key", who, p.s);
        }
    }
    *sorted = arr;
    *n = count;
    return RK_OK;
}

/* ---- rk_json_parse ----------------------------------------------------- */

rk_err rk_json_parse(const char *text, size_t len, cJSON **out, char *err)
{
    scanner s = { (const unsigned char *)text, len, 0, err, 0, NULL, NULL, 0 };
    cJSON *root = NULL;
    path where;
    rk_err rc;

    if (text == NULL || len == 0) {
        rc = rk_seterr(err, RK_ERR_INVALID, "json: empty input");
        goto out;
    }
    skip_ws(&s);
    if (s.pos >= len) {
        rc = rk_seterr(err, RK_ERR_INVALID, "json: empty input");
        goto out;
    }
    if (len - s.pos >= 3 && memcmp(text + s.pos, "\xEF\xBB\xBF", 3) == 0) {
        rc = scan_fail(&s, RK_ERR_INVALID, "byte order mark");
        goto out;
    }
    rc = scan_value(&s, 0, &root);
    if (rc != RK_OK)
        goto out;
    skip_ws(&s);
    if (s.pos < len) {
        rc = scan_fail(&s, RK_ERR_INVALID, "trailing characters after the document");
        goto out;
    }
    if (s.dup_obj != NULL) {
        path_init(&where);
        (void)path_to(root, s.dup_obj, &where); /* found: dup_obj is in the tree */
        path_key(&where, s.dup_key);
        rc = rk_seterr(err, RK_ERR_INVALID, "json: %s: duplicate key", where.s);
        goto out;
    }
    *out = root;
    root = NULL;
out:
    cJSON_Delete(root);
    return rc;
}

const char *rk_json_number_text(const cJSON *n)
{
    if (n == NULL || !cJSON_IsNumber(n))
        return NULL;
    return n->valuestring;
}

/* ---- number helpers ----------------------------------------------------- */

/* The integer held by a number node without text, if within +-(2^53-1). */
static int safe_integer(const cJSON *n, int64_t *v)
{
    double d = n->valuedouble;

    if (!(d >= -SAFE_INT && d <= SAFE_INT))
        return 0;
    *v = (int64_t)d;
    return (double)*v == d;
}

static int valid_literal(const char *t)
{
    size_t n = strlen(t);

    return n > 0 && number_len((const unsigned char *)t, n) == n;
}

/* -?(0|[1-9][0-9]*), not -0, magnitude below 2^63. */
static int canonical_integer(const char *t)
{
    const char *d = t[0] == '-' ? t + 1 : t;
    size_t n = strlen(d), i;

    if (n == 0 || n > 19)
        return 0;
    for (i = 0; i < n; i++)
        if (!isdig((unsigned char)d[i]))
            return 0;
    if (d[0] == '0')
        return n == 1 && d == t;
    return n < 19 || strcmp(d, "9223372036854775807") <= 0;
}

/*
 * Expand a JSON number literal into plain decimal text for rk_amount_parse:
 * exact, exponent applied.  The digits are reduced to D * 10^E with D free of
 * leading and trailing zeros.
 */
static rk_err literal_to_plain(const char *lit, unsigned decimals, char *plain, char *err)
{
    char digits[RK_JSON_NUMBER_MAX + 1];
    size_t nd = 0, first, i, n;
    long e = 0, exp = 0;
    int neg = 0, expneg = 0, in_frac = 0;
    const char *p = lit;

    if (*p == '-') {
        neg = 1;
        p++;
    }
    for (; *p != '\0' && *p != 'e' && *p != 'E'; p++) {
        if (*p == '.') {
            in_frac = 1;
            continue;
        }
        if (nd < sizeof digits - 1)
            digits[nd++] = *p;
        if (in_frac)
            e--;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            expneg = *p++ == '-';
        for (; *p != '\0'; p++)
            if (exp < 100000) /* saturate: far beyond any amount */
                exp = exp * 10 + (*p - '0');
    }
    e += expneg ? -exp : exp;
    for (first = 0; first < nd && digits[first] == '0'; first++)
        ;
    if (first == nd) {
        strcpy(plain, "0");
        return RK_OK;
    }
    while (digits[nd - 1] == '0') {
        nd--;
        e++;
    }
    n = nd - first; /* significant digits */
    if (e < 0 && (unsigned long)-e > decimals)
        return rk_seterr(err, RK_ERR_INVALID, "amount '%s': more than %u fraction digits",
                         lit, decimals);
    if ((long)n + e + (long)decimals > RK_AMOUNT_MAX_DIGITS)
        return rk_seterr(err, RK_ERR_RANGE,
                         "amount '%s': out of range at %u decimals (max 38 digits)", lit,
                         decimals);
    i = 0;
    if (neg)
        plain[i++] = '-';
    if (e >= 0) {
        memcpy(plain + i, digits + first, n);
        i += n;
        memset(plain + i, '0', (size_t)e);
        i += (size_t)e;
    } else if ((long)n > -e) {
        size_t ip = n - (size_t)-e;
        memcpy(plain + i, digits + first, ip);
        i += ip;
        plain[i++] = '.';
        memcpy(plain + i, digits + first + ip, (size_t)-e);
        i += (size_t)-e;
    } else {
        plain[i++] = '0';
        plain[i++] = '.';
        memset(plain + i, '0', (size_t)(-e - (long)n));
        i += (size_t)(-e - (long)n);
        memcpy(plain + i, digits + first, n);
        i += n;
    }
    plain[i] = '\0';
    return RK_OK;
}

/* ---- member getters ------------------------------------------------------ */

static rk_err get_member(const cJSON *obj, const char *key, const cJSON **item, char *err)
{
    if (obj == NULL || !cJSON_IsObject(obj))
        return rk_seterr(err, RK_ERR_INVALID, "json: not an object when reading member '%s'",
                         key);
    *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (*item == NULL)
        return rk_seterr(err, RK_ERR_NOTFOUND, "json: member '%s' not found", key);
    return RK_OK;
}

rk_err rk_json_get_amount(const cJSON *obj, const char *key, unsigned decimals,
                          rk_amount *out, char *err)
{
    char plain[RK_AMOUNT_STR_MAX + 16];
    const cJSON *item;
    const char *text;
    int64_t v;
    rk_err rc;

    rc = get_member(obj, key, &item, err);
    if (rc != RK_OK)
        return rc;
    if (cJSON_IsString(item) && item->valuestring != NULL) {
        rc = rk_amount_parse(item->valuestring, strlen(item->valuestring), decimals, out, err);
        return rc == RK_OK ? rc : rk_preferr(err, rc, "json: member '%s'", key);
    }
    if (cJSON_IsNull(item))
        return rk_seterr(err, RK_ERR_INVALID, "json: member '%s' is null, not an amount", key);
    if (!cJSON_IsNumber(item))
        return rk_seterr(err, RK_ERR_INVALID,
                         "json: member '%s' is not an amount (string or number)", key);
    if (decimals > RK_AMOUNT_MAX_DECIMALS)
        return rk_seterr(err, RK_ERR_INVALID, "amount: %u decimals exceed the maximum of %d",
                         decimals, RK_AMOUNT_MAX_DECIMALS);
    text = rk_json_number_text(item);
    if (text == NULL) {
        if (!safe_integer(item, &v))
            return rk_seterr(err, RK_ERR_INVALID,
                             "json: member '%s': number without source text is not an "
                             "integer within +-(2^53-1)", key);
        snprintf(plain, sizeof plain, "%" PRId64, v);
    } else {
        if (!valid_literal(text) || strlen(text) > RK_JSON_NUMBER_MAX)
            return rk_seterr(err, RK_ERR_INVALID, "json: member '%s': bad number text", key);
        rc = literal_to_plain(text, decimals, plain, err);
        if (rc != RK_OK)
            return rk_preferr(err, rc, "json: member '%s'", key);
    }
    rc = rk_amount_parse(plain, strlen(plain), decimals, out, err);
    return rc == RK_OK ? rc : rk_preferr(err, rc, "json: member '%s'", key);
}

rk_err rk_json_get_string(const cJSON *obj, const char *key, const char **out, char *err)
{
    const cJSON *item;
    rk_err rc = get_member(obj, key, &item, err);

    if (rc != RK_OK)
        return rc;
    if (!cJSON_IsString(item) || item->valuestring == NULL)
        return rk_seterr(err, RK_ERR_INVALID, "json: member '%s' is not a string", key);
    *out = item->valuestring;
    return RK_OK;
}

rk_err rk_json_get_u64(const cJSON *obj, const char *key, uint64_t *out, char *err)
{
    char q[QUOTE_MAX + 4];
    const cJSON *item;
    const char *t;
    uint64_t v = 0;
    int64_t sv;
    size_t i;
    rk_err rc = get_member(obj, key, &item, err);

    if (rc != RK_OK)
        return rc;
    if (!cJSON_IsNumber(item))
        return rk_seterr(err, RK_ERR_INVALID, "json: member '%s' is not a number", key);
    t = rk_json_number_text(item);
    if (t == NULL) {
        if (!safe_integer(item, &sv))
            return rk_seterr(err, RK_ERR_INVALID,
                             "json: member '%s': number without source text is not an "
                             "integer within +-(2^53-1)", key);
        if (sv < 0)
            return rk_seterr(err, RK_ERR_RANGE, "json: member '%s' is negative", key);
        *out = (uint64_t)sv;
        return RK_OK;
    }
    quote(q, t);
    if (!valid_literal(t))
        return rk_seterr(err, RK_ERR_INVALID, "json: member '%s': bad number text '%s'", key, q);
    if (strpbrk(t, ".eE") != NULL)
        return rk_seterr(err, RK_ERR_INVALID, "json: member '%s': '%s' is not an integer", key,
                         q);
    if (t[0] == '-')
        return rk_seterr(err, RK_ERR_RANGE, "json: member '%s': '%s' is negative", key, q);
    for (i = 0; t[i] != '\0'; i++) {
        unsigned d = (unsigned)(t[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return rk_seterr(err, RK_ERR_RANGE, "json: member '%s': '%s' exceeds 2^64-1", key,
                             q);
        v = v * 10 + d;
    }
    *out = v;
    return RK_OK;
}

/* ---- the canonical writer ----------------------------------------------- */

typedef struct writer {
    unsigned flags;
    rk_buf *out;
    char *err;
    path where;
} writer;

static rk_err put(writer *w, const char *s, size_t n)
{
    if (rk_buf_append(w->out, s, n) != RK_OK)
        return rk_seterr(w->err, RK_ERR_NOMEM, "canon: out of memory");
    return RK_OK;
}

static rk_err write_string(writer *w, const char *s, const char *what)
{
    size_t len;

    if (s == NULL)
        return rk_seterr(w->err, RK_ERR_INVALID, "canon: %s: %s is missing", w->where.s, what);
    len = strlen(s);
    if (!rk_utf8_valid((const uint8_t *)s, len))
        return rk_seterr(w->err, RK_ERR_INVALID, "canon: %s: %s is not valid utf-8",
                         w->where.s, what);
    if (rk_canon_put_string(w->out, s, len) != RK_OK)
        return rk_seterr(w->err, RK_ERR_NOMEM, "canon: out of memory");
    return RK_OK;
}

static rk_err write_number(writer *w, const cJSON *n)
{
    const char *t = rk_json_number_text(n);
    char q[QUOTE_MAX + 4], buf[32];
    int64_t v;

    if (t == NULL) {
        if (!safe_integer(n, &v))
            return rk_seterr(w->err, RK_ERR_INVALID,
                             "canon: %s: number without source text is not an integer "
                             "within +-(2^53-1); write amounts as strings", w->where.s);
        snprintf(buf, sizeof buf, "%" PRId64, v);
        return put(w, buf, strlen(buf));
    }
    if (!valid_literal(t))
        return rk_seterr(w->err, RK_ERR_INVALID, "canon: %s: bad number text '%s'", w->where.s,
                         quote(q, t));
    if (!(w->flags & RK_CANON_ANY_NUMBER) && !canonical_integer(t))
        return rk_seterr(w->err, RK_ERR_INVALID,
                         "canon: %s: number %s is not a canonical integer below 2^63; "
                         "write amounts as strings", w->where.s, quote(q, t));
    return put(w, t, strlen(t));
}

static rk_err write_value(writer *w, const cJSON *node, int depth);

static rk_err write_object(writer *w, const cJSON *node, int depth)
{
    const cJSON **members = NULL;
    size_t n = 0, i, saved = w->where.len;
    rk_err rc;

    rc = sorted_members(node, &w->where, "canon", &members, &n, w->err);
    if (rc == RK_OK)
        rc = put(w, "{", 1);
    for (i = 0; rc == RK_OK && i < n; i++) {
        path_key(&w->where, members[i]->string);
        if (i > 0)
            rc = put(w, ",", 1);
        if (rc == RK_OK)
            rc = write_string(w, members[i]->string, "key");
        if (rc == RK_OK)
            rc = put(w, ":", 1);
        if (rc == RK_OK)
            rc = write_value(w, members[i], depth + 1);
        w->where.len = saved;
        w->where.s[saved] = '\0';
    }
    if (rc == RK_OK)
        rc = put(w, "}", 1);
    free(members);
    return rc;
}

static rk_err write_array(writer *w, const cJSON *node, int depth)
{
    size_t i, saved = w->where.len;
    const cJSON *c;
    rk_err rc = put(w, "[", 1);

    for (i = 0, c = node->child; rc == RK_OK && c != NULL; c = c->next, i++) {
        path_index(&w->where, i);
        if (i > 0)
            rc = put(w, ",", 1);
        if (rc == RK_OK)
            rc = write_value(w, c, depth + 1);
        w->where.len = saved;
        w->where.s[saved] = '\0';
    }
    if (rc == RK_OK)
        rc = put(w, "]", 1);
    return rc;
}

/* depth counts the containers around node. */
static rk_err write_value(writer *w, const cJSON *node, int depth)
{
    switch (node->type & 0xFF) {
    case cJSON_False: return put(w, "false", 5);
    case cJSON_True: return put(w, "true", 4);
    case cJSON_NULL: return put(w, "null", 4);
    case cJSON_Number: return write_number(w, node);
    case cJSON_String: return write_string(w, node->valuestring, "string");
    case cJSON_Array:
    case cJSON_Object:
        if (depth >= RK_JSON_MAX_DEPTH)
            return rk_seterr(w->err, RK_ERR_TOOBIG, "canon: %s: nesting deeper than 64 levels",
                             w->where.s);
        if ((node->type & 0xFF) == cJSON_Array)
            return write_array(w, node, depth);
        return write_object(w, node, depth);
    default:
        return rk_seterr(w->err, RK_ERR_INVALID, "canon: %s: unsupported node type %d",
                         w->where.s, node->type & 0xFF);
    }
}

rk_err rk_canon_write(const cJSON *node, unsigned flags, rk_buf *out, char *err)
{
    writer w;
    size_t start = out->len;
    rk_err rc;

    if (node == NULL)
        return rk_seterr(err, RK_ERR_INVALID, "canon: no document");
    w.flags = flags;
    w.out = out;
    w.err = err;
    path_init(&w.where);
    rc = write_value(&w, node, 0);
    if (rc != RK_OK) {
        out->len = start;
        if (out->data != NULL)
            out->data[start] = '\0';
    }
    return rc;
}

rk_err rk_canon_normalize(const char *text, size_t len, rk_buf *out, char *err)
{
    cJSON *root = NULL;
    rk_err rc = rk_json_parse(text, len, &root, err);

    if (rc == RK_OK)
        rc = rk_canon_write(root, 0, out, err);
    cJSON_Delete(root);
    return rc;
}

/* ---- checking canonical form in one pass ------------------------------ */

/*
 * rk_canon_check runs on every append, so it validates the canonical form
 * directly instead of parsing and rewriting: one pass, no allocation.  It
 * accepts exactly the byte strings that rk_canon_normalize maps to
 * themselves (test_canon checks the two against each other).
 */
typedef struct checker {
    const unsigned char *p;
    size_t len;
    /* rk_jv_parse_tape: every member and element goes in tape[n] while
     * n < max; n counts them all */
    rk_jent *tape;
    size_t max, n;
} checker;

/* The next byte of the string value starting at *i (after its quote), with
 * escapes decoded; -1 at the closing quote.  The string is already valid. */
static int key_byte(const unsigned char *p, size_t *i)
{
    unsigned char c = p[*i];

    if (c == '"')
        return -1;
    if (c != '\\') {
        (*i)++;
        return c;
    }
    c = p[*i + 1];
    *i += 2;
    switch (c) {
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'u':
        *i += 4;
        return hexval(p[*i - 2]) * 16 + hexval(p[*i - 1]);
    default: return c; /* '"' or '\\' */
    }
}

/* Compare two valid string values (positions after their quotes) bytewise. */
static int key_cmp(const unsigned char *p, size_t a, size_t b)
{
    /* keys rarely hold escapes: while both texts are plain and equal they
     * are equal values, and the first differing plain byte decides; from
     * a backslash on, decode */
    while (p[a] == p[b] && p[a] != '"' && p[a] != '\\') {
        a++;
        b++;
    }
    if (p[a] != '\\' && p[b] != '\\') {
        if (p[a] == p[b])
            return 0; /* both at their closing quote */
        if (p[a] == '"' || p[b] == '"')
            return p[a] == '"' ? -1 : 1; /* a prefix sorts first */
        return p[a] < p[b] ? -1 : 1;
    }
    for (;;) {
        int x = key_byte(p, &a), y = key_byte(p, &b);
        if (x != y)
            return x < y ? -1 : 1;
        if (x < 0)
            return 0;
    }
}

/*
 * The checks below pass positions by value and return the position past
 * what they checked, or 0 when it is not canonical (nothing valid ends at
 * 0): positions then live in registers, where a position kept in the
 * checker would be reloaded after every store into the tape (which the
 * compiler must assume may alias it).
 */

/*
 * The rest of a string from i on, once the fast path of check_string met
 * something other than plain bytes and the closing quote.  Kept out of
 * line: most strings never get here, and check_string stays small.
 */
__attribute__((noinline)) size_t rk_canon_string_rest(const unsigned char *p, size_t len,
                                                  size_t i)
{
    static const char hex[] = "0123456789abcdef";
    size_t n;

    while (i < len) {
        unsigned char ch;

        i = plain_run(p, i, len);
        if (i == len)
            break;
        ch = p[i];
        if (ch == '"')
            return i + 1;
        if (ch < 0x20)
            return 0;
        if (ch == '\\') {
            if (i + 1 >= len)
                return 0;
            ch = p[i + 1];
            if (strchr("\"\\bfnrt", ch) != NULL && ch != '\0') {
                i += 2;
                continue;
            }
            /* only controls without a short form, as \u00xx in lower case */
            if (ch != 'u' || i + 6 > len || p[i + 2] != '0' || p[i + 3] != '0' ||
                (p[i + 4] != '0' && p[i + 4] != '1'))
                return 0;
            {
                int v = (p[i + 4] - '0') * 16 + hexval(p[i + 5]);
                if (hexval(p[i + 5]) < 0 || p[i + 5] != hex[v & 15] || v == 0 ||
                    v == '\b' || v == '\f' || v == '\n' || v == '\r' || v == '\t')
                    return 0;
            }
            i += 6;
            continue;
        }
        n = rk_utf8_next(p + i, len - i, NULL);
        if (n == 0)
            return 0;
        i += n;
    }
    return 0;
}

static size_t check_container(checker *c, size_t i, int depth, int is_object);

/* The value whose first byte is at i (below len). */
static size_t check_value(checker *c, size_t i, int depth)
{
    const unsigned char *p = c->p;
    size_t len = c->len;
    int plain;

    switch (p[i]) {
    case '"': return check_string(p, len, i, &plain);
    case '{': return check_container(c, i, depth, 1);
    case '[': return check_container(c, i, depth, 0);
    case 't': return check_word(p, len, i, "true", 4);
    case 'f': return check_word(p, len, i, "false", 5);
    case 'n': return check_word(p, len, i, "null", 4);
    default: return check_integer(p, len, i);
    }
}

static size_t check_container(checker *c, size_t i, int depth, int is_object)
{
    const unsigned char *p = c->p;
    const size_t len = c->len;
    const unsigned char close = is_object ? '}' : ']';
    size_t prev = 0, key = 0, at, n;
    int first = 1, kplain = 0, vplain = 0;
    rk_jent *e;

    if (depth >= RK_JSON_MAX_DEPTH)
        return 0;
    i++;
    if (i < len && p[i] == close)
        return i + 1;
    for (;;) {
        if (i >= len)
            return 0;
        /* this member's entry, when a tape is kept; its value's own
         * members and elements follow it */
        n = c->n++;
        e = n < c->max ? &c->tape[n] : NULL;
        if (is_object) {
            if (p[i] != '"')
                return 0;
            key = i + 1;
            i = check_string(p, len, i, &kplain);
            if (i == 0)
                return 0;
            /* keys strictly increasing: sorted and unique */
            if (!first && key_cmp(p, prev, key) >= 0)
                return 0;
            prev = key;
            first = 0;
            if (i >= len || p[i] != ':')
                return 0;
            i++;
            if (i >= len)
                return 0;
        }
        at = i;
        /* most values are strings: checked here, without the call */
        vplain = 0;
        if (p[i] == '"')
            i = check_string(p, len, i, &vplain);
        else
            i = check_value(c, i, depth + 1);
        if (i == 0)
            return 0;
        if (e != NULL) {
            if (is_object) {
                e->key.p = (const char *)p + key - 1;
                e->key.len = at - key; /* its quotes; the colon is at at - 1 */
                e->key.type = RK_JV_STRING;
                e->key.plain = kplain;
            } else {
                memset(&e->key, 0, sizeof e->key);
            }
            e->val.p = (const char *)p + at;
            e->val.len = i - at;
            e->val.type = jv_type_of(p[at]);
            e->val.plain = vplain;
            e->next = c->n;
        }
        if (i < len && p[i] == ',') {
            i++;
            continue;
        }
        if (i < len && p[i] == close)
            return i + 1;
        return 0;
    }
}

/* The whole text is one canonical value, its entries listed in c's tape. */
static int check_text(checker *c)
{
    return c->len > 0 && check_value(c, 0, 0) == c->len;
}

rk_err rk_canon_check(const char *text, size_t len, char *err)
{
    checker c = { (const unsigned char *)text, len, NULL, 0, 0 };
    rk_buf b = RK_BUF_INIT;
    size_t i;
    rk_err rc;

    if (check_text(&c))
        return RK_OK;
    /* not canonical: the slow path says why, or where the first difference is */
    rc = rk_canon_normalize(text, len, &b, err);
    if (rc == RK_OK) {
        for (i = 0; i < len && i < b.len; i++)
            if ((unsigned char)text[i] != b.data[i])
                break;
        if (i < len || i < b.len)
            rc = rk_seterr(err, RK_ERR_INVALID,
                           "canon: not canonical: first difference at byte %zu", i);
    }
    rk_buf_free(&b);
    return rc;
}

/* ---- reading canonical JSON without a tree ------------------------------ */

rk_err rk_jv_parse_tape(const char *text, size_t len, rk_jv *out, rk_jent *tape, size_t max,
                        size_t *n, char *err)
{
    checker c = { (const unsigned char *)text, len, tape, max, 0 };

    *n = 0;
    if (!check_text(&c))
        return rk_seterr(err, RK_ERR_INVALID, "canon: not canonical");
    out->p = text;
    out->len = len;
    out->type = jv_type_of((unsigned char)text[0]);
    out->plain = 0;
    if (out->type == RK_JV_STRING)
        out->plain = memchr(text, '\\', len) == NULL;
    *n = c.n;
    return RK_OK;
}

rk_err rk_jv_parse(const char *text, size_t len, rk_jv *out, char *err)
{
    size_t n;

    return rk_jv_parse_tape(text, len, out, NULL, 0, &n, err);
}

rk_err rk_jv_parse_object(const char *text, size_t len, rk_jv *out, rk_jv *keys,
                          rk_jv *vals, size_t max, size_t *n, int *more, char *err)
{
    rk_jcur c;
    rk_jv k, v;
    rk_err rc;

    *n = 0;
    *more = 0;
    rc = rk_jv_parse(text, len, out, err);
    if (rc != RK_OK || out->type != RK_JV_OBJECT)
        return rc;
    (void)rk_jcur_open(&c, out);
    while (rk_jcur_next(&c, &k, &v)) {
        if (*n == max) {
            *more = 1;
            break;
        }
        keys[*n] = k;
        vals[*n] = v;
        (*n)++;
    }
    return RK_OK;
}

/* Past the string whose opening quote is at i (the text is valid): the
 * first quote after it not preceded by an odd run of backslashes. */
static size_t skip_string(const unsigned char *p, size_t len, size_t i)
{
    const unsigned char *q;
    size_t j, k;

    i++;
    for (;;) {
        q = memchr(p + i, '"', len - i);
        j = (size_t)(q - p);
        for (k = j; k > i && p[k - 1] == '\\'; k--)
            ;
        if (((j - k) & 1) == 0)
            return j + 1;
        i = j + 1;
    }
}

/* Past the value at i (the text is valid); *type receives its type. */
static size_t skip_value(const unsigned char *p, size_t len, size_t i, rk_jv_type *type)
{
    size_t depth = 0;

    switch (p[i]) {
    case '"': *type = RK_JV_STRING; return skip_string(p, len, i);
    case 't': *type = RK_JV_TRUE; return i + 4;
    case 'f': *type = RK_JV_FALSE; return i + 5;
    case 'n': *type = RK_JV_NULL; return i + 4;
    case '{': *type = RK_JV_OBJECT; break;
    case '[': *type = RK_JV_ARRAY; break;
    default:
        *type = RK_JV_INT;
        while (i < len && (p[i] == '-' || isdig(p[i])))
            i++;
        return i;
    }
    for (;;) {
        unsigned char ch = p[i];
        if (ch == '"') {
            i = skip_string(p, len, i);
            continue;
        }
        i++;
        if (ch == '{' || ch == '[')
            depth++;
        else if ((ch == '}' || ch == ']') && --depth == 0)
            return i;
    }
}

int rk_jcur_open(rk_jcur *c, const rk_jv *v)
{
    if (v->type != RK_JV_OBJECT && v->type != RK_JV_ARRAY)
        return -1;
    c->p = v->p;
    c->len = v->len;
    c->pos = 1;
    c->object = v->type == RK_JV_OBJECT;
    return 0;
}

int rk_jcur_next(rk_jcur *c, rk_jv *key, rk_jv *val)
{
    const unsigned char *p = (const unsigned char *)c->p;
    size_t i = c->pos, end;
    rk_jv_type t;

    if (i >= c->len - 1)
        return 0; /* at the closing bracket */
    if (c->object) {
        end = skip_string(p, c->len, i);
        if (key != NULL) {
            key->p = c->p + i;
            key->len = end - i;
            key->type = RK_JV_STRING;
            key->plain = 0; /* not known: not looked at */
        }
        i = end + 1; /* the colon */
    } else if (key != NULL) {
        memset(key, 0, sizeof *key);
    }
    end = skip_value(p, c->len, i, &t);
    val->p = c->p + i;
    val->len = end - i;
    val->type = t;
    val->plain = 0;
    c->pos = end + 1; /* past the comma, or onto the end */
    return 1;
}

int rk_jv_raw(const rk_jv *v, const char **s, size_t *n)
{
    if (v->type != RK_JV_STRING)
        return -1;
    *s = v->p + 1;
    *n = v->len - 2;
    if (v->plain)
        return 0;
    return memchr(*s, '\\', *n) != NULL;
}

int rk_jv_is(const rk_jv *v, const char *s)
{
    const char *r;
    size_t n, m = strlen(s);
    char buf[256];
    int esc = rk_jv_raw(v, &r, &n);

    if (esc < 0)
        return 0;
    if (esc == 0)
        return n == m && memcmp(r, s, n) == 0;
    n = rk_jv_unescape(v, buf, sizeof buf);
    return n != (size_t)-1 && n == m && memcmp(buf, s, n) == 0;
}

size_t rk_jv_unescape(const rk_jv *v, char *out, size_t cap)
{
    const unsigned char *p = (const unsigned char *)v->p;
    size_t i = 1, o = 0;
    int b;

    if (v->type != RK_JV_STRING)
        return (size_t)-1;
    if (v->plain || memchr(v->p + 1, '\\', v->len - 2) == NULL) {
        /* the common case: the text is the value (no U+0000 in canonical) */
        if (v->len - 2 >= cap)
            return (size_t)-1;
        memcpy(out, v->p + 1, v->len - 2);
        out[v->len - 2] = '\0';
        return v->len - 2;
    }
    for (;;) {
        b = key_byte(p, &i);
        if (b <= 0) /* the closing quote, or U+0000 */
            break;
        if (o + 1 >= cap)
            return (size_t)-1;
        out[o++] = (char)b;
    }
    if (o >= cap)
        return (size_t)-1;
    out[o] = '\0';
    return o;
}

int rk_jv_int(const rk_jv *v, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    uint64_t acc = 0, lim;

    if (v->type != RK_JV_INT)
        return -1;
    if (v->p[0] == '-') {
        neg = 1;
        i = 1;
    }
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < v->len; i++) {
        unsigned d = (unsigned)(v->p[i] - '0');
        if (acc > (lim - d) / 10)
            return -1;
        acc = acc * 10 + d;
    }
    *out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return 0;
}

int rk_jv_member(const rk_jv *v, const char *key, rk_jv *out)
{
    rk_jcur c;
    rk_jv k;

    if (v->type != RK_JV_OBJECT || rk_jcur_open(&c, v) != 0)
        return 0;
    while (rk_jcur_next(&c, &k, out))
        if (rk_jv_is(&k, key))
            return 1;
    return 0;
}

rk_err rk_canon_put_string(rk_buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;
    char esc[6];

    if (rk_buf_reserve(out, n + 2) != RK_OK)
        return RK_ERR_NOMEM;
    /* the common case, nothing to escape: one copy into the room reserved;
     * plain printable ASCII is recognised eight bytes at a time (plain8),
     * the rest (UTF-8, near the end) byte by byte */
    while (n - i >= 8) {
        size_t k = plain8(p + i);
        i += k;
        if (k < 8)
            break;
    }
    while (i < n && p[i] >= 0x20 && p[i] != '"' && p[i] != '\\')
        i++;
    if (i == n) {
        out->data[out->len++] = '"';
        memcpy(out->data + out->len, s, n);
        out->len += n;
        out->data[out->len++] = '"';
        out->data[out->len] = '\0'; /* rk_buf keeps its text terminated */
        return RK_OK;
    }
    i = 0;
    out->data[out->len++] = '"';
    while (i < n) {
        unsigned char c = p[i];
        const char *e = NULL;
        size_t elen = 2;

        if (c >= 0x20 && c != '"' && c != '\\') {
            i++;
            run++;
            continue;
        }
        switch (c) {
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\b': e = "\\b"; break;
        case '\f': e = "\\f"; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        default:
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            e = esc;
            elen = 6;
        }
        if (rk_buf_append(out, s + i - run, run) != RK_OK || rk_buf_append(out, e, elen) != RK_OK)
            return RK_ERR_NOMEM;
        run = 0;
        i++;
    }
    if (rk_buf_append(out, s + i - run, run) != RK_OK || rk_buf_putc(out, '"') != RK_OK)
        return RK_ERR_NOMEM;
    return RK_OK;
}
