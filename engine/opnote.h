/*
 * opnote.h - operator notes: free text an operator attaches to a reference,
 * kept as an operator_note record (formats/ingestion.md, section "operator
 * notes").
 *
 * Body (canonical JSON):
 *   {"author":WHO,"ref":REF,"text":TEXT,"v":1,"via":"cli"}
 *   {"author":KEY NAME,"key_id":ID,"ref":REF,"text":TEXT,"v":1,"via":"api"}
 * The record's reference is REF, so the note shows in the payment's
 * timeline.  Through the API the author is the API key's name, never text
 * the client sent.
 */
#ifndef RK_OPNOTE_H
#define RK_OPNOTE_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "error.h"
#include "ledger.h"

#define RK_OPNOTE_TEXT_MAX (64 * 1024) /* bytes of note text */
#define RK_OPNOTE_AUTHOR_MAX 255       /* bytes of an author */

/*
 * Append the note body to out.  via is "cli" or "api"; key_id is required
 * for "api" and must be NULL for "cli".
 *   RK_ERR_INVALID  author empty, longer than RK_OPNOTE_AUTHOR_MAX or with a
 *                   control character; ref empty or longer than RK_REF_MAX;
 *                   text empty; any of them not valid UTF-8; bad via/key_id
 *   RK_ERR_TOOBIG   text longer than RK_OPNOTE_TEXT_MAX
 *   RK_ERR_NOMEM    out of memory
 */
rk_err rk_opnote_body(const char *author, const char *ref, const char *text,
                      const char *via, const char *key_id, rk_buf *out, char *err)
    __attribute__((warn_unused_result));

/*
 * Build the body and append it durably as one operator_note record with
 * reference ref.  *seq (may be NULL) receives its sequence number.  Errors
 * of rk_opnote_body and rk_ledger_append.
 */
rk_err rk_opnote_append(rk_ledger *l, const char *author, const char *ref,
                        const char *text, const char *via, const char *key_id,
                        uint64_t *seq, char *err)
    __attribute__((warn_unused_result));

#endif
