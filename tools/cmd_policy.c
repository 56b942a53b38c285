/*
 * cmd_policy.c - reckon policy: check a rail policy file, record it as the
 * policy in force, show the policy in force at a point of the ledger
 * (formats/policies.md).
 *
 *   reckon policy check FILE                 exit 0 valid, 1 invalid, 2 I/O
 *   reckon policy set --db DIR FILE          append a policy record, print its seq
 *   reckon policy show --db DIR [--at SEQ] [--json]
 *                                            exit 0, 1 when no policy is in force
 *                                            or the record in force is damaged
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "ledger.h"
#include "policy.h"
#include "reckon.h"
#include "record.h"

static int usage(void)
{
    fprintf(stderr, "usage: reckon policy check FILE\n"
                    "       reckon policy set --db DIR FILE\n"
                    "       reckon policy show --db DIR [--at SEQ] [--json]\n");
    return RK_EXIT_USAGE;
}

static void print_table(const rk_policy *p)
{
    uint8_t d[RK_HASH_SIZE];
    char hex[2 * RK_HASH_SIZE + 1], u[RK_AMOUNT_STR_MAX], o[RK_AMOUNT_STR_MAX];
    size_t i;

    printf("%-14s %-9s %-6s %-44s %3s %6s %-14s %-4s %-22s %-24s %-24s %s\n", "NAME",
           "NETWORK", "ASSET", "CONTRACT", "DEC", "CREDIT", "FINALITY", "MEMO", "FEE",
           "UNDER(ABS/BPS)", "OVER(ABS/BPS)", "GRACE/STALE");
    for (i = 0; i < rk_policy_count(p); i++) {
        const rk_rail *r = rk_policy_rail(p, i);
        char fin[32], under[RK_AMOUNT_STR_MAX + 16], over[RK_AMOUNT_STR_MAX + 16];

        if (r->finality_by_flag)
            snprintf(fin, sizeof fin, "flag/%u%s", r->finality_depth,
                     r->probabilistic_finality ? " P" : "");
        else
            snprintf(fin, sizeof fin, "depth/%u%s", r->finality_depth,
                     r->probabilistic_finality ? " P" : "");
        rk_amount_format(r->tol_under_abs, r->decimals, u);
        rk_amount_format(r->tol_over_abs, r->decimals, o);
        snprintf(under, sizeof under, "%s/%u", u, (unsigned)r->tol_under_bps);
        snprintf(over, sizeof over, "%s/%u", o, (unsigned)r->tol_over_bps);
        printf("%-14s %-9s %-6s %-44s %3u %6u %-14s %-4s %-22s %-24s %-24s %lld/%lld\n",
               r->name[0] ? r->name : "-", r->network, r->asset,
               r->contract[0] ? r->contract : "-", r->decimals, r->confirmations_to_credit,
               fin, r->memo_required ? "yes" : "no", rk_fee_treatment_name(r->fee), under,
               over, (long long)r->expiry_grace_s, (long long)r->stale_after_s);
    }
    if (rk_policy_digest(p, d) == RK_OK) {
        rk_hex_encode(hex, d, sizeof d);
        printf("%zu rails, sha256 %s\n", rk_policy_count(p), hex);
    }
}

static int policy_check(int argc, char **argv)
{
    char err[RK_ERROR_SIZE] = "";
    rk_policy *p = NULL;
    rk_err rc;

    if (argc != 2)
        return usage();
    rc = rk_policy_load(argv[1], &p, err);
    if (rc == RK_ERR_IO || rc == RK_ERR_NOTFOUND || rc == RK_ERR_NOMEM)
        return rk_tool_fail("policy", rc, err);
    if (rc != RK_OK) {
        rk_tool_error("policy", "%s", err);
        return RK_EXIT_PROBLEM;
    }
    print_table(p);
    rk_policy_free(p);
    return RK_EXIT_OK;
}

static int policy_set(int argc, char **argv)
{
    const char *db = NULL, *file = NULL;
    char err[RK_ERROR_SIZE] = "";
    rk_policy *p = NULL;
    rk_ledger *l = NULL;
    rk_buf body = RK_BUF_INIT;
    rk_append_item item;
    int i, r, ret = RK_EXIT_USAGE;
    rk_err rc;

    for (i = 1; i < argc; i++) {
        if ((r = rk_opt_value("policy", argc, argv, &i, "--db", &db)) != 0) {
            if (r < 0)
                return usage();
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            rk_tool_error("policy", "unknown option '%s'", argv[i]);
            return usage();
        }
        if (file != NULL)
            return usage();
        file = argv[i];
    }
    if (db == NULL || file == NULL)
        return usage();
    rc = rk_policy_load(file, &p, err);
    if (rc == RK_ERR_IO || rc == RK_ERR_NOTFOUND || rc == RK_ERR_NOMEM)
        return rk_tool_fail("policy", rc, err);
    if (rc != RK_OK) {
        rk_tool_error("policy", "%s", err);
        return RK_EXIT_PROBLEM;
    }
    rc = rk_policy_record_body(p, &body, err);
    if (rc == RK_OK)
        rc = rk_ledger_open(db, 0, &l, err);
    if (rc == RK_OK) {
        memset(&item, 0, sizeof item);
        item.kind = RK_KIND_POLICY;
        item.body = body.data;
        item.body_len = body.len;
        rc = rk_ledger_append(l, &item, 1, err);
    }
    if (rc != RK_OK) {
        ret = rk_tool_fail("policy", rc, err);
        goto out;
    }
    printf("%llu\n", (unsigned long long)item.seq);
    ret = RK_EXIT_OK;
out:
    rk_ledger_close(l);
    rk_buf_free(&body);
    rk_policy_free(p);
    return ret;
}

struct latest {
    rk_buf body;
    uint64_t seq;
    int found;
};

static rk_err keep_policy(void *ctx, const rk_record *rec, const uint8_t *bytes, size_t len)
{
    struct latest *lt = ctx;

    (void)bytes;
    (void)len;
    if (rec->kind != RK_KIND_POLICY)
        return RK_OK;
    rk_buf_reset(&lt->body);
    lt->seq = rec->seq;
    lt->found = 1;
    return rk_buf_append(&lt->body, rec->body, rec->body_len);
}

static int policy_show(int argc, char **argv)
{
    const char *db = NULL, *at = NULL;
    char err[RK_ERROR_SIZE] = "";
    unsigned long long atv = 0;
    uint64_t size;
    uint8_t head[RK_HASH_SIZE];
    struct latest lt = { RK_BUF_INIT, 0, 0 };
    rk_policy *p = NULL;
    rk_ledger *l = NULL;
    rk_buf out = RK_BUF_INIT;
    int i, r, json = 0, ret = RK_EXIT_USAGE;
    rk_err rc;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
            continue;
        }
        if ((r = rk_opt_value("policy", argc, argv, &i, "--db", &db)) != 0 ||
            (r = rk_opt_value("policy", argc, argv, &i, "--at", &at)) != 0) {
            if (r < 0)
                return usage();
            continue;
        }
        rk_tool_error("policy", "unknown option '%s'", argv[i]);
        return usage();
    }
    if (db == NULL)
        return usage();
    if (at != NULL && rk_parse_u64(at, &atv) != 0) {
        rk_tool_error("policy", "--at '%s' is not a sequence number", at);
        return RK_EXIT_USAGE;
    }
    rc = rk_ledger_open(db, RK_LEDGER_READONLY, &l, err);
    if (rc != RK_OK)
        return rk_tool_fail("policy", rc, err);
    rk_ledger_head(l, &size, head);
    if (at != NULL && atv >= size) {
        rk_tool_error("policy", "--at %llu is beyond the ledger (%llu records)", atv,
                      (unsigned long long)size);
        goto out;
    }
    rc = rk_ledger_scan(l, 0, at != NULL ? (uint64_t)atv + 1 : UINT64_MAX, keep_policy, &lt,
                        err);
    if (rc != RK_OK) {
        ret = rk_tool_fail("policy", rc, err);
        goto out;
    }
    if (!lt.found) {
        rk_tool_error("policy", "no policy in force at seq %llu",
                      at != NULL ? atv : (unsigned long long)(size - 1));
        ret = RK_EXIT_PROBLEM;
        goto out;
    }
    rc = rk_policy_from_record_body(lt.body.data, lt.body.len, &p, err);
    if (rc != RK_OK) {
        rk_tool_error("policy", "seq %llu: %s", (unsigned long long)lt.seq, err);
        ret = RK_EXIT_PROBLEM;
        goto out;
    }
    if (json) {
        rc = rk_policy_canonical(p, &out, err);
        if (rc != RK_OK) {
            ret = rk_tool_fail("policy", rc, err);
            goto out;
        }
        fwrite(out.data, 1, out.len, stdout);
        putchar('\n');
    } else {
        printf("policy record seq %llu\n", (unsigned long long)lt.seq);
        print_table(p);
    }
    ret = RK_EXIT_OK;
out:
    rk_buf_free(&out);
    rk_buf_free(&lt.body);
    rk_policy_free(p);
    rk_ledger_close(l);
    return ret;
}

int cmd_policy(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    if (strcmp(argv[1], "check") == 0)
        return policy_check(argc - 1, argv + 1);
    if (strcmp(argv[1], "set") == 0)
        return policy_set(argc - 1, argv + 1);
    if (strcmp(argv[1], "show") == 0)
        return policy_show(argc - 1, argv + 1);
    rk_tool_error("policy", "unknown subcommand '%s'", argv[1]);
    return usage();
}
