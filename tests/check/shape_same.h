/*
 * shape_same.h - the known-shape reader of record bodies (planes.c,
 * shape_read) held against the generic path (rk_jv_parse_tape, then
 * obj_load_tape), for test_planes_shape and fuzz_planes_shape.  Include it
 * after planes.c itself (it calls planes.c's static functions).
 */
#ifndef RK_SHAPE_SAME_H
#define RK_SHAPE_SAME_H

#include <string.h>

/* Two views alike, field for field (pointers compared as pointers: both
 * paths point into the same text). */
static int shape_jv_same(const rk_jv *a, const rk_jv *b)
{
    return a->p == b->p && a->len == b->len && a->type == b->type && a->plain == b->plain;
}

/*
 * Read body (len bytes) of a record of kind both ways, with tapes of max
 * entries (max <= TAPE_MAX).  Returns 1 when shape_read accepted it, 0 when
 * it gave up; -1 when it accepted it and the generic path disagrees in
 * anything: the generic path rejects the text, or finds another number of
 * entries, another entry, or other top-level members.  *why says which.
 */
static int shape_same(unsigned kind, const uint8_t *body, size_t len, size_t max,
                      const char **why)
{
    static rk_jent ta[TAPE_MAX], tb[TAPE_MAX];
    rk_jv v;
    obj oa, ob;
    size_t na = 0, nb = 0, i;
    int f;

    *why = "";
    if (!shape_read(kind, body, len, tb, max, &nb, &ob))
        return 0;
    if (nb > max) {
        *why = "more entries than max";
        return -1;
    }
    if (rk_jv_parse_tape((const char *)body, len, &v, ta, max, &na, NULL) != RK_OK) {
        *why = "accepted a text the generic check rejects";
        return -1;
    }
    if (v.type != RK_JV_OBJECT) {
        *why = "accepted something other than an object";
        return -1;
    }
    if (na != nb) {
        *why = "another number of entries";
        return -1;
    }
    for (i = 0; i < na; i++) {
        if (!shape_jv_same(&ta[i].key, &tb[i].key) || !shape_jv_same(&ta[i].val, &tb[i].val) ||
            ta[i].next != tb[i].next) {
            *why = "another tape entry";
            return -1;
        }
    }
    obj_load_tape(&oa, ta, 0, na);
    if (oa.has != ob.has || ob.tape != tb) {
        *why = "other top-level fields";
        return -1;
    }
    for (f = 0; f < F__COUNT; f++) {
        if (!((oa.has >> f) & 1))
            continue;
        if (oa.ent[f] != ob.ent[f] || ob.val[f] != &tb[ob.ent[f]].val ||
            oa.val[f] != &ta[oa.ent[f]].val) {
            *why = "another entry for a field";
            return -1;
        }
    }
    return 1;
}

#endif
