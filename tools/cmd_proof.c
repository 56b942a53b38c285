/*
 * cmd_proof.c - reckon proof: an inclusion proof of one record against the
 * latest checkpoint, in the C2SP tlog-proof text format.
 */
#include <stdio.h>

#include "ledger.h"
#include "merkle.h"
#include "note.h"
#include "reckon.h"

static int usage(void)
{
    fprintf(stderr, "usage: reckon proof --db DIR --seq N\n");
    return RK_EXIT_USAGE;
}

int cmd_proof(int argc, char **argv)
{
    const char *db = NULL, *seqs = NULL;
    unsigned long long seq;
    char err[RK_ERROR_SIZE] = "";
    rk_ledger *l = NULL;
    rk_buf note = RK_BUF_INIT, out = RK_BUF_INIT;
    rk_checkpoint cp;
    uint8_t proof[RK_MERKLE_MAX_LEVELS][32], leaf[32];
    size_t n = 0, text_len = 0;
    uint64_t cpseq;
    int i, r, ret = RK_EXIT_OK;
    rk_err rc;

    for (i = 1; i < argc; i++) {
        if ((r = rk_opt_value("proof", argc, argv, &i, "--db", &db)) != 0 ||
            (r = rk_opt_value("proof", argc, argv, &i, "--seq", &seqs)) != 0) {
            if (r < 0)
                return usage();
            continue;
        }
        rk_tool_error("proof", "unknown option '%s'", argv[i]);
        return usage();
    }
    if (db == NULL || seqs == NULL || rk_parse_u64(seqs, &seq) != 0)
        return usage();
    rc = rk_ledger_open(db, RK_LEDGER_READONLY, &l, err);
    if (rc == RK_OK)
        rc = rk_ledger_latest_checkpoint(l, &note, &cpseq, err);
    if (rc == RK_OK)
        rc = rk_note_text((const char *)note.data, note.len, &text_len, err);
    if (rc == RK_OK)
        rc = rk_checkpoint_parse((const char *)note.data, text_len, &cp, err);
    if (rc == RK_OK && seq >= cp.size)
        rc = rk_seterr(err, RK_ERR_RANGE, "seq %llu is not covered by the latest "
                       "checkpoint (%llu records); run 'reckon checkpoint' first", seq,
                       (unsigned long long)cp.size);
    if (rc == RK_OK)
        rc = rk_ledger_inclusion_proof(l, seq, cp.size, proof, &n, err);
    if (rc == RK_OK)
        rc = rk_ledger_leaf(l, seq, leaf, err);
    /* never hand out a proof that does not check against the signed root */
    if (rc == RK_OK &&
        rk_merkle_verify_inclusion(leaf, seq, cp.size, (const uint8_t(*)[32])proof, n,
                                   cp.root) != RK_OK)
        rc = rk_seterr(err, RK_ERR_CORRUPT, "the stored tree does not prove seq %llu "
                       "against checkpoint seq %llu; run 'reckon verify'", seq,
                       (unsigned long long)cpseq);
    if (rc == RK_OK)
        rc = rk_tlog_proof_format(seq, (const uint8_t(*)[32])proof, n,
                                  (const char *)note.data, note.len, &out);
    if (rc != RK_OK) {
        ret = rk_tool_fail("proof", rc, err);
        goto done;
    }
    fwrite(out.data, 1, out.len, stdout);
done:
    rk_ledger_close(l);
    rk_buf_free(&note);
    rk_buf_free(&out);
    return ret;
}
