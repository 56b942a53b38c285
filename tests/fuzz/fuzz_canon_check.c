/*
 * fuzz_canon_check.c - the one-pass canonical check against the slow path,
 * and the tape it lists against the cursor.
 *
 *   - rk_canon_check accepts exactly the texts that rk_canon_normalize maps
 *     to themselves;
 *   - rk_jv_parse_tape accepts the same texts, and its entries are the
 *     members and elements a cursor finds, at every depth, with next
 *     pointing past each one's own entries;
 *   - a string is marked plain exactly when its bytes between the quotes
 *     are printable ASCII (0x20..0x7f) other than '"' and '\\' (so its
 *     text is its value).
 * fuzz_canon_plain runs these checks on canon's plain C path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"

#include "../check/plain_rule.h"

#define TAPE 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Compare the entries of container v with tape[*at..], depth first. */
static void walk(const rk_jv *v, const rk_jent *tape, size_t *at, size_t end)
{
    rk_jcur c;
    rk_jv k, m;
    size_t mine;

    if (rk_jcur_open(&c, v) != 0)
        return;
    while (rk_jcur_next(&c, &k, &m)) {
        if (*at >= end)
            abort();
        mine = (*at)++;
        if (tape[mine].val.p != m.p || tape[mine].val.len != m.len ||
            tape[mine].val.type != m.type)
            abort();
        if (c.object && (tape[mine].key.p != k.p || tape[mine].key.len != k.len))
            abort();
        if (!c.object && tape[mine].key.p != NULL)
            abort();
        if (tape[mine].val.plain != plain_text(&m))
            abort();
        if (c.object && tape[mine].key.plain != plain_text(&k))
            abort();
        walk(&m, tape, at, end);
        if (tape[mine].next != *at)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static rk_jent tape[TAPE];
    const char *t = (const char *)data;
    rk_buf b = RK_BUF_INIT;
    rk_jv v;
    size_t n, at = 0;
    int ok, same, tape_ok;

    ok = rk_canon_check(t, size, NULL) == RK_OK;
    same = rk_canon_normalize(t, size, &b, NULL) == RK_OK && b.len == size &&
           memcmp(b.data, t, size) == 0;
    rk_buf_free(&b);
    if (ok != same)
        abort();
    tape_ok = rk_jv_parse_tape(t, size, &v, tape, TAPE, &n, NULL) == RK_OK;
    if (tape_ok != ok)
        abort();
    if (ok && n <= TAPE) {
        walk(&v, tape, &at, n);
        if (at != n)
            abort();
    }
    return 0;
}
