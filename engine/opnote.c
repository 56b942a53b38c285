/* opnote.c - operator notes as operator_note records. */
#include <string.h>

#include <cJSON.h>

#include "canon.h"
#include "opnote.h"
#include "record.h"

static int has_control(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

rk_err rk_opnote_body(const char *author, const char *ref, const char *text,
                      const char *via, const char *key_id, rk_buf *out, char *err)
{
    cJSON *o;
    size_t n;
    rk_err rc;

    if (author == NULL || author[0] == '\0' || strlen(author) > RK_OPNOTE_AUTHOR_MAX ||
        has_control(author) || !rk_utf8_valid((const uint8_t *)author, strlen(author)))
        return rk_seterr(err, RK_ERR_INVALID,
                         "author must be 1 to %d bytes of UTF-8 without control characters",
                         RK_OPNOTE_AUTHOR_MAX);
    if (ref == NULL || ref[0] == '\0' || strlen(ref) > RK_REF_MAX ||
        !rk_utf8_valid((const uint8_t *)ref, strlen(ref)))
        return rk_seterr(err, RK_ERR_INVALID, "ref must be 1 to %d bytes of UTF-8",
                         RK_REF_MAX);
    n = text == NULL ? 0 : strlen(text);
    if (n == 0)
        return rk_seterr(err, RK_ERR_INVALID, "note text is empty");
    if (n > RK_OPNOTE_TEXT_MAX)
        return rk_seterr(err, RK_ERR_TOOBIG, "note text is longer than %d bytes",
                         RK_OPNOTE_TEXT_MAX);
    if (!rk_utf8_valid((const uint8_t *)text, n))
        return rk_seterr(err, RK_ERR_INVALID, "note text is not valid UTF-8");
    if (via == NULL || (strcmp(via, "cli") != 0 && strcmp(via, "api") != 0) ||
        (strcmp(via, "api") == 0) != (key_id != NULL))
        return rk_seterr(err, RK_ERR_INVALID, "via must be \"cli\", or \"api\" with a key id");
    o = cJSON_CreateObject();
    if (o == NULL || cJSON_AddStringToObject(o, "author", author) == NULL ||
        (key_id != NULL && cJSON_AddStringToObject(o, "key_id", key_id) == NULL) ||
        cJSON_AddStringToObject(o, "ref", ref) == NULL ||
        cJSON_AddStringToObject(o, "text", text) == NULL ||
        cJSON_AddNumberToObject(o, "v", 1) == NULL ||
        cJSON_AddStringToObject(o, "via", via) == NULL) {
        cJSON_Delete(o);
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    }
    rc = rk_canon_write(o, 0, out, err);
    cJSON_Delete(o);
    return rc;
}

rk_err rk_opnote_append(rk_ledger *l, const char *author, const char *ref,
                        const char *text, const char *via, const char *key_id,
                        uint64_t *seq, char *err)
{
    rk_buf body = RK_BUF_INIT;
    rk_append_item it;
    rk_err rc;

    rc = rk_opnote_body(author, ref, text, via, key_id, &body, err);
    if (rc != RK_OK)
        goto out;
    memset(&it, 0, sizeof it);
    it.kind = RK_KIND_OPERATOR_NOTE;
    it.ref = ref;
    it.body = body.data;
    it.body_len = body.len;
    rc = rk_ledger_append(l, &it, 1, err);
    if (rc == RK_OK && seq != NULL)
        *seq = it.seq;
out:
    rk_buf_free(&body);
    return rc;
}
