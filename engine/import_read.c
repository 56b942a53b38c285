/*
 * import_read.c - the input readers of the importer: RFC 4180 CSV with a
 * header row, JSON lines and JSON arrays (formats/import.md, "Input").
 * They turn text into rows of named string values; import.c checks them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "import_int.h"

void rk_imp_table_free(struct rk_imp_table *t)
{
    size_t i, j;

    if (t == NULL)
        return;
    for (i = 0; i < t->n; i++) {
        struct rk_imp_row *r = &t->rows[i];
        for (j = 0; j < r->nf; j++) {
            free(r->f[j].name);
            free(r->f[j].value);
        }
        free(r->f);
        free(r->error);
        cJSON_Delete(r->body);
        rk_buf_free(&r->canon);
        free(r->event_key);
        rk_buf_free(&r->stored);
    }
    free(t->rows);
    free(t->file_error);
    memset(t, 0, sizeof *t);
}

static char *vfmt(const char *fmt, va_list ap)
{
    char tmp[RK_ERROR_SIZE];

    vsnprintf(tmp, sizeof tmp, fmt, ap);
    return strdup(tmp);
}

rk_err rk_imp_row_fail(struct rk_imp_row *r, const char *fmt, ...)
{
    va_list ap;

    if (r->error != NULL)
        return RK_OK;
    va_start(ap, fmt);
    r->error = vfmt(fmt, ap);
    va_end(ap);
    return r->error == NULL ? RK_ERR_NOMEM : RK_OK;
}

static rk_err file_fail(struct rk_imp_table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static rk_err file_fail(struct rk_imp_table *t, const char *fmt, ...)
{
    va_list ap;

    if (t->file_error != NULL)
        return RK_OK;
    va_start(ap, fmt);
    t->file_error = vfmt(fmt, ap);
    va_end(ap);
    return t->file_error == NULL ? RK_ERR_NOMEM : RK_OK;
}

const char *rk_imp_quote(char q[RK_IMP_QUOTE_MAX], const char *s)
{
    size_t i, n = 0;

    for (i = 0; s[i] != '\0' && i < 48; i++)
        q[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (s[i] != '\0') {
        memcpy(q + n, "...", 3);
        n += 3;
    }
    q[n] = '\0';
    return q;
}

static rk_err new_row(struct rk_imp_table *t, unsigned long line, struct rk_imp_row **out)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        struct rk_imp_row *r = realloc(t->rows, cap * sizeof *r);
        if (r == NULL)
            return RK_ERR_NOMEM;
        t->rows = r;
        t->cap = cap;
    }
    if (t->n >= RK_IMPORT_ROWS_MAX)
        return RK_ERR_TOOBIG;
    *out = &t->rows[t->n++];
    memset(*out, 0, sizeof **out);
    (*out)->line = line;
    return RK_OK;
}

/* Add a field, taking ownership of value (freed on failure). */
static rk_err add_field(struct rk_imp_row *r, const char *name, char *value, int number)
{
    struct rk_imp_field *f;

    if (value == NULL)
        return RK_ERR_NOMEM;
    if (r->nf == r->capf) {
        size_t cap = r->capf ? 2 * r->capf : 16;
        f = realloc(r->f, cap * sizeof *f);
        if (f == NULL) {
            free(value);
            return RK_ERR_NOMEM;
        }
        r->f = f;
        r->capf = cap;
    }
    f = &r->f[r->nf];
    f->name = strdup(name);
    if (f->name == NULL) {
        free(value);
        return RK_ERR_NOMEM;
    }
    f->value = value;
    f->number = number;
    r->nf++;
    return RK_OK;
}

/* ---- CSV ---------------------------------------------------------------- */

struct csv {
    const char *p;
    size_t len, pos;
    unsigned long line; /* line of p[pos] */
};

struct csv_record {
    rk_buf *fields; /* each NUL-terminated */
    size_t n, cap;
    unsigned long line;
    int blank;               /* an empty line: no characters at all */
    char problem[RK_ERROR_SIZE]; /* first structural problem, or "" */
};

static void record_clear(struct csv_record *r)
{
    size_t i;

    for (i = 0; i < r->cap; i++)
        rk_buf_free(&r->fields[i]);
    free(r->fields);
    memset(r, 0, sizeof *r);
}

static rk_err record_next_field(struct csv_record *r)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16, i;
        rk_buf *f = realloc(r->fields, cap * sizeof *f);
        if (f == NULL)
            return RK_ERR_NOMEM;
        for (i = r->cap; i < cap; i++)
            rk_buf_init(&f[i]);
        r->fields = f;
        r->cap = cap;
    }
    rk_buf_reset(&r->fields[r->n]);
    r->n++;
    return RK_OK;
}

static void problem(struct csv_record *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void problem(struct csv_record *r, const char *fmt, ...)
{
    va_list ap;

    if (r->problem[0] != '\0')
        return;
    va_start(ap, fmt);
    vsnprintf(r->problem, sizeof r->problem, fmt, ap);
    va_end(ap);
}

/* Is p[pos] a record end (LF, CRLF or end of data)?  Consumes it if so. */
static int at_record_end(struct csv *c)
{
    if (c->pos >= c->len)
        return 1;
    if (c->p[c->pos] == '\n') {
        c->pos++;
        c->line++;
        return 1;
    }
    if (c->p[c->pos] == '\r' && c->pos + 1 < c->len && c->p[c->pos + 1] == '\n') {
        c->pos += 2;
        c->line++;
        return 1;
    }
    return 0;
}

/*
 * Read one field at c->pos into the current field buffer.  Returns 1 when
 * the record ended after it, 0 when a comma follows.
 */
static int read_field(struct csv *c, struct csv_record *r, rk_buf *f, rk_err *rc)
{
    size_t fieldno = r->n;

    if (c->pos < c->len && c->p[c->pos] == '"') {
        unsigned long start = c->line;
        c->pos++;
        for (;;) {
            char ch;
            if (c->pos >= c->len) {
                problem(r, "quoted field %zu opened on line %lu is not closed", fieldno,
                        start);
                return 1;
            }
            ch = c->p[c->pos++];
            if (ch == '"') {
                if (c->pos < c->len && c->p[c->pos] == '"') {
                    c->pos++;
                } else {
                    break;
                }
            } else if (ch == '\n') {
                c->line++;
            }
            if (*rc == RK_OK)
                *rc = rk_buf_putc(f, ch);
        }
        if (at_record_end(c))
            return 1;
        if (c->p[c->pos] == ',') {
            c->pos++;
            return 0;
        }
        problem(r, "field %zu: characters after the closing quote", fieldno);
        /* resynchronise: the rest up to the next comma or line end is dropped */
        while (c->pos < c->len && c->p[c->pos] != ',' && c->p[c->pos] != '\n')
            c->pos++;
        if (at_record_end(c))
            return 1;
        c->pos++;
        return 0;
    }
    for (;;) {
        char ch;
        if (at_record_end(c))
            return 1;
        ch = c->p[c->pos++];
        if (ch == ',')
            return 0;
        if (ch == '"')
            problem(r, "field %zu: a quote inside an unquoted field", fieldno);
        else if (ch == '\r')
            problem(r, "field %zu: a carriage return not followed by a line feed",
                    fieldno);
        if (*rc == RK_OK)
            *rc = rk_buf_putc(f, ch);
    }
}

/* Read one record; 0 at end of data, 1 when r holds one, -1 on NOMEM. */
static int csv_next(struct csv *c, struct csv_record *r)
{
    rk_err rc = RK_OK;
    size_t i;

    r->n = 0;
    r->problem[0] = '\0';
    r->line = c->line;
    if (c->pos >= c->len)
        return 0;
    r->blank = c->p[c->pos] == '\n' ||
               (c->p[c->pos] == '\r' && c->pos + 1 < c->len && c->p[c->pos + 1] == '\n');
    for (;;) {
        if (record_next_field(r) != RK_OK)
            return -1;
        if (read_field(c, r, &r->fields[r->n - 1], &rc))
            break;
    }
    if (rc != RK_OK)
        return -1;
    for (i = 0; i < r->n; i++) {
        if (rk_buf_putc(&r->fields[i], '\0') != RK_OK)
            return -1;
        r->fields[i].len--;
    }
    return 1;
}

static rk_err read_header(struct csv *c, struct csv_record *h, rk_imp_known_fn known,
                          const char *const *required, struct rk_imp_table *t)
{
    char q[RK_IMP_QUOTE_MAX];
    size_t i, j;
    int got;

    do {
        got = csv_next(c, h);
    } while (got == 1 && h->blank);
    if (got < 0)
        return RK_ERR_NOMEM;
    if (got == 0)
        return file_fail(t, "no header row (the file is empty)");
    if (h->problem[0] != '\0')
        return file_fail(t, "header: %s", h->problem);
    for (i = 0; i < h->n; i++) {
        const char *name = (const char *)h->fields[i].data;
        if (h->fields[i].len == 0)
            return file_fail(t, "header: column %zu has no name", i + 1);
        if (!rk_utf8_valid((const uint8_t *)name, h->fields[i].len) || !known(name))
            return file_fail(t, "header: unknown column '%s'", rk_imp_quote(q, name));
        for (j = 0; j < i; j++)
            if (strcmp(name, (const char *)h->fields[j].data) == 0)
                return file_fail(t, "header: column '%s' appears twice", name);
    }
    for (; *required != NULL; required++) {
        for (i = 0; i < h->n; i++)
            if (strcmp(*required, (const char *)h->fields[i].data) == 0)
                break;
        if (i == h->n)
            return file_fail(t, "header: missing column '%s'", *required);
    }
    return RK_OK;
}

static rk_err csv_row(struct csv_record *h, struct csv_record *rec, struct rk_imp_table *t)
{
    struct rk_imp_row *row;
    size_t i;
    rk_err rc;

    rc = new_row(t, rec->line, &row);
    if (rc != RK_OK)
        return rc;
    if (rec->problem[0] != '\0')
        return rk_imp_row_fail(row, "%s", rec->problem);
    if (rec->n != h->n)
        return rk_imp_row_fail(row, "%zu fields, the header has %zu", rec->n, h->n);
    for (i = 0; i < rec->n; i++) {
        const char *name = (const char *)h->fields[i].data;
        if (rec->fields[i].len > RK_IMPORT_FIELD_MAX)
            return rk_imp_row_fail(row, "%s: longer than %u bytes", name,
                                   RK_IMPORT_FIELD_MAX);
        if (!rk_utf8_valid(rec->fields[i].data, rec->fields[i].len))
            return rk_imp_row_fail(row, "%s: not valid UTF-8", name);
        rc = add_field(row, name, strdup((const char *)rec->fields[i].data), 0);
        if (rc != RK_OK)
            return rc;
    }
    return RK_OK;
}

rk_err rk_imp_read_csv(const char *data, size_t len, rk_imp_known_fn known,
                       const char *const *required, struct rk_imp_table *t)
{
    struct csv c = { data, len, 0, 1 };
    struct csv_record h, rec;
    rk_err rc;
    int got;

    memset(&h, 0, sizeof h);
    memset(&rec, 0, sizeof rec);
    rc = read_header(&c, &h, known, required, t);
    if (rc != RK_OK || t->file_error != NULL)
        goto out;
    for (;;) {
        got = csv_next(&c, &rec);
        if (got < 0) {
            rc = RK_ERR_NOMEM;
            goto out;
        }
        if (got == 0)
            break;
        if (rec.blank)
            continue;
        rc = csv_row(&h, &rec, t);
        if (rc != RK_OK)
            goto out;
    }
out:
    record_clear(&h);
    record_clear(&rec);
    return rc;
}

/* ---- JSON --------------------------------------------------------------- */

static int is_nested(const char *const *nested, const char *name)
{
    for (; nested != NULL && *nested != NULL; nested++)
        if (strcmp(*nested, name) == 0)
            return 1;
    return 0;
}

/* One value of an object member: string, number text, or absent (null). */
static rk_err json_value(struct rk_imp_row *row, const char *name, const cJSON *v,
                         rk_imp_known_fn known)
{
    char q[RK_IMP_QUOTE_MAX];
    size_t i;

    if (!known(name))
        return rk_imp_row_fail(row, "unknown field '%s'", rk_imp_quote(q, name));
    for (i = 0; i < row->nf; i++)
        if (strcmp(row->f[i].name, name) == 0)
            return rk_imp_row_fail(row, "%s: given twice", name);
    if (cJSON_IsNull(v))
        return RK_OK;
    if (cJSON_IsString(v)) {
        if (strlen(v->valuestring) > RK_IMPORT_FIELD_MAX)
            return rk_imp_row_fail(row, "%s: longer than %u bytes", name,
                                   RK_IMPORT_FIELD_MAX);
        return add_field(row, name, strdup(v->valuestring), 0);
    }
    if (cJSON_IsNumber(v) && rk_json_number_text(v) != NULL)
        return add_field(row, name, strdup(rk_json_number_text(v)), 1);
    return rk_imp_row_fail(row, "%s: must be a string or a number", name);
}

static rk_err json_object(struct rk_imp_row *row, const cJSON *o, rk_imp_known_fn known,
                          const char *const *nested)
{
    char q[RK_IMP_QUOTE_MAX], flat[256];
    const cJSON *m, *s;
    rk_err rc;

    if (!cJSON_IsObject(o))
        return rk_imp_row_fail(row, "not a JSON object");
    for (m = o->child; m != NULL && row->error == NULL; m = m->next) {
        if (!cJSON_IsObject(m)) {
            rc = json_value(row, m->string, m, known);
            if (rc != RK_OK)
                return rc;
            continue;
        }
        if (!is_nested(nested, m->string))
            return rk_imp_row_fail(row, "%s: must be a string or a number",
                                   rk_imp_quote(q, m->string));
        for (s = m->child; s != NULL && row->error == NULL; s = s->next) {
            if (strlen(m->string) + strlen(s->string) + 2 > sizeof flat)
                return rk_imp_row_fail(row, "unknown field '%s.%s'", m->string,
                                       rk_imp_quote(q, s->string));
            {
                size_t a = strlen(m->string);
                memcpy(flat, m->string, a);
                flat[a] = '_';
                memcpy(flat + a + 1, s->string, strlen(s->string) + 1);
            }
            rc = json_value(row, flat, s, known);
            if (rc != RK_OK)
                return rc;
        }
    }
    return RK_OK;
}

static rk_err json_line(const char *p, size_t n, unsigned long line, rk_imp_known_fn known,
                        const char *const *nested, struct rk_imp_table *t)
{
    char err[RK_ERROR_SIZE];
    struct rk_imp_row *row;
    cJSON *o = NULL;
    rk_err rc;

    rc = new_row(t, line, &row);
    if (rc != RK_OK)
        return rc;
    rc = rk_json_parse(p, n, &o, err);
    if (rc == RK_ERR_NOMEM)
        return rc;
    if (rc != RK_OK)
        return rk_imp_row_fail(row, "%s", err);
    rc = json_object(row, o, known, nested);
    cJSON_Delete(o);
    return rc;
}

static int blank_text(const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return 0;
    return 1;
}

static rk_err read_lines(const char *data, size_t len, rk_imp_known_fn known,
                         const char *const *nested, struct rk_imp_table *t)
{
    size_t pos = 0, end, n;
    unsigned long line = 1;
    rk_err rc;

    while (pos < len) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        end = nl != NULL ? (size_t)(nl - data) : len;
        n = end - pos;
        if (n > 0 && data[pos + n - 1] == '\r')
            n--;
        if (!blank_text(data + pos, n)) {
            rc = json_line(data + pos, n, line, known, nested, t);
            if (rc != RK_OK)
                return rc;
        }
        pos = end + 1;
        line++;
    }
    return RK_OK;
}

/*
 * The line on which each element of a top-level JSON array starts, in
 * order (the text is known to parse).  *lines is malloc'd.
 */
static rk_err element_lines(const char *data, size_t len, unsigned long **lines, size_t *n)
{
    unsigned long line = 1, *v = NULL;
    size_t i, cap = 0, count = 0;
    int depth = 0, in_str = 0, esc = 0, expect = 0;

    for (i = 0; i < len; i++) {
        char ch = data[i];
        if (ch == '\n')
            line++;
        if (in_str) {
            if (esc)
                esc = 0;
            else if (ch == '\\')
                esc = 1;
            else if (ch == '"')
                in_str = 0;
            continue;
        }
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
            continue;
        if (depth == 1 && expect && ch != ']') {
            if (count == cap) {
                unsigned long *nv;
                cap = cap ? 2 * cap : 64;
                nv = realloc(v, cap * sizeof *v);
                if (nv == NULL) {
                    free(v);
                    return RK_ERR_NOMEM;
                }
                v = nv;
            }
            v[count++] = line;
        }
        expect = 0;
        if (ch == '"')
            in_str = 1;
        else if (ch == '[' || ch == '{')
            expect = ++depth == 1;
        else if (ch == ']' || ch == '}')
            depth--;
        else if (ch == ',' && depth == 1)
            expect = 1;
    }
    *lines = v;
    *n = count;
    return RK_OK;
}

static rk_err read_array(const char *data, size_t len, rk_imp_known_fn known,
                         const char *const *nested, struct rk_imp_table *t)
{
    char err[RK_ERROR_SIZE];
    unsigned long *lines = NULL;
    size_t nlines = 0, i = 0;
    struct rk_imp_row *row;
    cJSON *a = NULL, *e;
    rk_err rc;

    rc = rk_json_parse(data, len, &a, err);
    if (rc == RK_ERR_NOMEM)
        return rc;
    if (rc != RK_OK)
        return file_fail(t, "%s", err);
    rc = element_lines(data, len, &lines, &nlines);
    if (rc != RK_OK)
        goto out;
    for (e = a->child; e != NULL; e = e->next, i++) {
        rc = new_row(t, i < nlines ? lines[i] : 1, &row);
        if (rc != RK_OK)
            goto out;
        rc = json_object(row, e, known, nested);
        if (rc != RK_OK)
            goto out;
    }
out:
    free(lines);
    cJSON_Delete(a);
    return rc;
}

rk_err rk_imp_read_json(const char *data, size_t len, int lines_only,
                        rk_imp_known_fn known, const char *const *nested,
                        struct rk_imp_table *t)
{
    size_t i = 0;

    while (!lines_only && i < len &&
           (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    if (!lines_only && i < len && data[i] == '[')
        return read_array(data, len, known, nested, t);
    return read_lines(data, len, known, nested, t);
}
