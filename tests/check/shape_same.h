/*
 * shape_same.h - the known-shape reader of record bodies (planes.c,
 * shape_read, then pev_read / crow_make / frow_parse) held against the
 * generic path (rk_jv_parse_tape, then obj_load_tape or a cursor, obj_sub,
 * pev_parse / crow_parse / frow_parse), for test_planes_shape and
 * fuzz_planes_shape.  Include it after planes.c itself (it calls planes.c's
 * static functions).
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

/* Two objs with the same known members, the same views; a read with a
 * cursor (a) leaves plain unknown (0), so then only b's may be 1. */
static int shape_obj_same(const obj *a, const obj *b, int cursor)
{
    int f;

    if (a->has != b->has)
        return 0;
    for (f = 0; f < F__COUNT; f++) {
        const rk_jv *x = a->val[f], *y = b->val[f];
        if (!((a->has >> f) & 1))
            continue;
        if (cursor ? x->p != y->p || x->len != y->len || x->type != y->type || x->plain > y->plain
                   : !shape_jv_same(x, y))
            return 0;
    }
    return 1;
}

/* Two strings alike (NULL only as NULL). */
static int shape_str_same(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

static int shape_dec_same(dec a, dec b)
{
    return a.v == b.v && a.scale == b.scale;
}

static int shape_pev_same(const struct pev *a, const struct pev *b)
{
    size_t i;

    if (a->exp_v != b->exp_v || a->occurred_at != b->occurred_at ||
        a->order_seq != b->order_seq || a->seq != b->seq || a->rank != b->rank ||
        a->implied != b->implied || a->mapped != b->mapped || a->api != b->api ||
        a->has_expected != b->has_expected || a->exp_scale != b->exp_scale ||
        a->npm != b->npm || !shape_str_same(a->provider, b->provider) ||
        !shape_str_same(a->event_id, b->event_id) ||
        !shape_str_same(a->event_type, b->event_type) || !shape_str_same(a->status, b->status) ||
        !shape_str_same(a->context, b->context) || !shape_str_same(a->pid, b->pid) ||
        !shape_str_same(a->parent, b->parent) || !shape_str_same(a->order, b->order) ||
        !shape_str_same(a->flag, b->flag) || !shape_str_same(a->reason, b->reason) ||
        !shape_str_same(a->exp_asset, b->exp_asset) ||
        !shape_str_same(a->exp_network, b->exp_network) ||
        !shape_str_same(a->exp_contract, b->exp_contract))
        return 0;
    for (i = 0; i < a->npm; i++) {
        const struct pmt *x = &a->pm[i], *y = &b->pm[i];
        if (x->amount_v != y->amount_v || x->conf != y->conf ||
            x->amount_scale != y->amount_scale || x->finalized != y->finalized ||
            !shape_str_same(x->asset, y->asset) || !shape_str_same(x->network, y->network) ||
            !shape_str_same(x->contract, y->contract) || !shape_str_same(x->tx, y->tx) ||
            !shape_str_same(x->memo, y->memo))
            return 0;
    }
    return 1;
}

static int shape_crow_same(const struct crow *a, const struct crow *b)
{
    return a->seq == b->seq && shape_str_same(a->row_id, b->row_id) &&
           shape_str_same(a->event, b->event) && shape_str_same(a->price_cur, b->price_cur) &&
           shape_str_same(a->exp_asset, b->exp_asset) &&
           shape_str_same(a->exp_network, b->exp_network) &&
           shape_str_same(a->exp_contract, b->exp_contract) &&
           shape_str_same(a->exp_memo, b->exp_memo) && a->occurred_at == b->occurred_at &&
           a->expires_at == b->expires_at && a->has_price == b->has_price &&
           a->has_expected == b->has_expected && a->has_amount == b->has_amount &&
           shape_dec_same(a->price, b->price) && shape_dec_same(a->exp, b->exp) &&
           shape_dec_same(a->amount, b->amount);
}

static int shape_frow_same(const struct frow *a, const struct frow *b)
{
    return a->seq == b->seq && shape_str_same(a->row_id, b->row_id) &&
           shape_str_same(a->account, b->account) && shape_str_same(a->currency, b->currency) &&
           shape_str_same(a->fx_rate, b->fx_rate) && shape_str_same(a->fx_source, b->fx_source) &&
           shape_str_same(a->period, b->period) && a->credit == b->credit &&
           shape_dec_same(a->amount, b->amount) && a->recognised_at == b->recognised_at;
}

/* Two preparations of one record alike: the same verdict, the same reason,
 * the same order view (plain unknown in a's after a cursor), an equal event
 * or row. */
static int shape_prep_same(unsigned kind, const rk_planes_prep *a, const rk_planes_prep *b,
                           int cursor)
{
    if (a->status != b->status || !shape_str_same(a->why, b->why) ||
        a->order.p != b->order.p || a->order.len != b->order.len ||
        a->order.type != b->order.type ||
        (cursor ? a->order.plain > b->order.plain : a->order.plain != b->order.plain) ||
        (a->parsed == NULL) != (b->parsed == NULL))
        return 0;
    if (a->parsed == NULL)
        return 1;
    switch (kind) {
    case RK_KIND_PROVIDER_EVENT: return shape_pev_same(a->parsed, b->parsed);
    case RK_KIND_COMMERCE_ROW: return shape_crow_same(a->parsed, b->parsed);
    default: return shape_frow_same(a->parsed, b->parsed);
    }
}

/*
 * Read body (len bytes) of a record of kind both ways, the generic path
 * with a tape of max entries (max <= TAPE_MAX; a body with more is read
 * with a cursor, as rk_planes_prepare does).  Returns 1 when shape_read
 * accepted it, 0 when it gave up; -1 when it accepted it and the generic
 * path disagrees in anything: the generic path rejects the text, lists
 * other members at the top level or in refs, expected or price, or builds
 * another event or row, or gives another reason.  *why says which.
 */
static int shape_same(unsigned kind, const uint8_t *body, size_t len, size_t max,
                      const char **why)
{
    static rk_jent ta[TAPE_MAX];
    static struct shape_rd rd;
    rk_planes_prep pa, pb;
    rk_record rec;
    rk_jv v;
    obj oa, sub;
    size_t na = 0;
    int same;

    *why = "";
    if (!shape_read(kind, body, len, &rd))
        return 0;
    if (rk_jv_parse_tape((const char *)body, len, &v, ta, max, &na, NULL) != RK_OK) {
        *why = "accepted a text the generic check rejects";
        return -1;
    }
    if (v.type != RK_JV_OBJECT) {
        *why = "accepted something other than an object";
        return -1;
    }
    if (na > max)
        obj_load(&oa, &v);
    else
        obj_load_tape(&oa, ta, 0, na);
    if (!shape_obj_same(&oa, &rd.top, na > max)) {
        *why = "other top-level fields";
        return -1;
    }
    obj_sub(&sub, &oa, F_REFS);
    if (kind == RK_KIND_PROVIDER_EVENT && !shape_obj_same(&sub, &rd.refs, na > max)) {
        *why = "other fields in refs";
        return -1;
    }
    obj_sub(&sub, &oa, F_EXPECTED);
    if (kind != RK_KIND_FINANCE_ROW && !shape_obj_same(&sub, &rd.expected, na > max)) {
        *why = "other fields in expected";
        return -1;
    }
    obj_sub(&sub, &oa, F_PRICE);
    if (kind == RK_KIND_COMMERCE_ROW && !shape_obj_same(&sub, &rd.price, na > max)) {
        *why = "other fields in price";
        return -1;
    }
    /* the event or row built both ways (blocks from malloc) */
    memset(&rec, 0, sizeof rec);
    rec.kind = kind;
    rec.seq = 7;
    rec.body = body;
    rec.body_len = len;
    memset(&pa, 0, sizeof pa);
    memset(&pb, 0, sizeof pb);
    prep_parse(NULL, &rec, &oa, NULL, &pa);
    prep_parse(NULL, &rec, &rd.top, &rd, &pb);
    same = shape_prep_same(kind, &pa, &pb, na > max);
    rk_planes_prep_clear(&pa);
    rk_planes_prep_clear(&pb);
    if (!same) {
        *why = "another event or row, or another reason";
        return -1;
    }
    return 1;
}

#endif
