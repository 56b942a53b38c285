/*
 * cjson_same.h - compare two cJSON trees field by field, for the tests of
 * rk_json_parse against cJSON's own parser (test_canon, fuzz_canon_parse).
 */
#ifndef RK_CJSON_SAME_H
#define RK_CJSON_SAME_H

#include <string.h>

#include <cJSON.h>

static int cjson_same_str(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

/*
 * 1 when a and b hold the same types (flags included), keys, strings,
 * valueint and valuedouble (bit for bit), children in the same order, and
 * the same links: each child's prev is the child before it and the first
 * child's prev is the last.  Number nodes' valuestring is not compared
 * (rk_json_parse keeps the literal there, cJSON leaves it NULL).
 */
static int cjson_same(const cJSON *a, const cJSON *b)
{
    const cJSON *x, *y, *lx = NULL, *ly = NULL;

    if (a->type != b->type || a->valueint != b->valueint ||
        memcmp(&a->valuedouble, &b->valuedouble, sizeof a->valuedouble) != 0 ||
        !cjson_same_str(a->string, b->string))
        return 0;
    if (!cJSON_IsNumber(a) && !cjson_same_str(a->valuestring, b->valuestring))
        return 0;
    for (x = a->child, y = b->child; x != NULL && y != NULL; x = x->next, y = y->next) {
        if (x != a->child && (x->prev != lx || y->prev != ly))
            return 0;
        if (!cjson_same(x, y))
            return 0;
        lx = x;
        ly = y;
    }
    if (x != NULL || y != NULL)
        return 0;
    return a->child == NULL || (a->child->prev == lx && b->child->prev == ly);
}

#endif
