/*
 * fuzz_canon_parse.c - rk_json_parse against cJSON's own parser.
 *
 *   - a text rk_json_parse accepts, cJSON accepts too, and the two trees
 *     are the same node for node (cjson_same: types, keys, strings, numbers
 *     bit for bit, next/prev links);
 *   - each number node keeps a literal that is one valid JSON number whose
 *     value (cJSON's) is the node's;
 *   - a text rejected for a duplicate key is otherwise valid: cJSON takes it;
 *   - every rejection says why, under "json: ", as RK_ERR_INVALID or
 *     RK_ERR_TOOBIG.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "../check/cjson_same.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every number node's literal parses alone to the node's value. */
static void check_numbers(const cJSON *n)
{
    const cJSON *c;

    if (cJSON_IsNumber(n)) {
        const char *t = rk_json_number_text(n);
        cJSON *alone = NULL;

        if (t == NULL || rk_json_parse(t, strlen(t), &alone, NULL) != RK_OK ||
            !cJSON_IsNumber(alone) ||
            memcmp(&alone->valuedouble, &n->valuedouble, sizeof n->valuedouble) != 0)
            abort();
        cJSON_Delete(alone);
    }
    for (c = n->child; c != NULL; c = c->next)
        check_numbers(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[RK_ERROR_SIZE] = "";
    cJSON *mine = NULL, *ref;
    rk_err rc;

    rc = rk_json_parse((const char *)data, size, &mine, err);
    if (rc == RK_OK) {
        ref = cJSON_ParseWithLength((const char *)data, size);
        if (ref == NULL || !cjson_same(mine, ref))
            abort();
        check_numbers(mine);
        cJSON_Delete(ref);
        cJSON_Delete(mine);
        return 0;
    }
    if (mine != NULL || (rc != RK_ERR_INVALID && rc != RK_ERR_TOOBIG) ||
        strncmp(err, "json: ", 6) != 0)
        abort();
    if (strstr(err, ": duplicate key") != NULL) {
        ref = cJSON_ParseWithLength((const char *)data, size);
        if (ref == NULL)
            abort();
        cJSON_Delete(ref);
    }
    return 0;
}
