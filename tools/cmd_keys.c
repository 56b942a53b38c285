/*
 * cmd_keys.c - reckon keys add|list|revoke: manage the HTTP API keys file
 * (formats/api-keys.md).
 *
 *   reckon keys add    --file F --name NAME --role ROLE [--db DIR] [--author WHO]
 *   reckon keys list   --file F
 *   reckon keys revoke --file F --id ID [--db DIR] [--author WHO]
 *
 * `add` prints the new key on stdout, once; it is not stored anywhere.
 * With --db, each change is also recorded as an operator_note (ref
 * "apikey:<id>", never the key or its hash) so the ledger shows who could
 * use the API when.  The author defaults to the login name.
 *
 * Exit codes: 0 done, 2 usage or I/O error (also: no such key, revoked
 * already).
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "apikey.h"
#include "ledger.h"
#include "opnote.h"
#include "reckon.h"

#define CMD "keys"

static int usage(void)
{
    fprintf(stderr,
            "usage: reckon keys add --file F --name NAME --role operator|finance|auditor|admin\n"
            "                       [--db DIR] [--author WHO]\n"
            "       reckon keys list --file F\n"
            "       reckon keys revoke --file F --id ID [--db DIR] [--author WHO]\n");
    return RK_EXIT_USAGE;
}

static int64_t wall_clock(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static const char *login_name(void)
{
    static char buf[64];
    const char *u = getenv("USER");
    struct passwd *pw;

    if (u != NULL && u[0] != '\0')
        return u;
    pw = getpwuid(getuid());
    if (pw != NULL && pw->pw_name != NULL)
        return pw->pw_name;
    snprintf(buf, sizeof buf, "uid:%u", (unsigned)getuid());
    return buf;
}

static int do_list(const char *file)
{
    char err[RK_ERROR_SIZE] = "", created[RK_TIME_STR_MAX], revoked[RK_TIME_STR_MAX];
    rk_apikeys *ks = NULL;
    size_t i;
    rk_err rc = rk_apikeys_load(file, &ks, err);

    if (rc != RK_OK)
        return rk_tool_fail(CMD, rc, err);
    printf("%-16s  %-8s  %-30s  %-38s  %s\n", "ID", "ROLE", "CREATED", "STATUS", "NAME");
    for (i = 0; i < ks->n; i++) {
        rk_time_format(ks->keys[i].created, created);
        if (ks->keys[i].is_revoked) {
            rk_time_format(ks->keys[i].revoked, revoked);
        }
        printf("%-16s  %-8s  %-30s  %s%-*s  %s\n", ks->keys[i].id,
               rk_role_name(ks->keys[i].role), created,
               ks->keys[i].is_revoked ? "revoked " : "active",
               ks->keys[i].is_revoked ? 30 : 32, ks->keys[i].is_revoked ? revoked : "",
               ks->keys[i].name);
    }
    rk_apikeys_free(ks);
    return RK_EXIT_OK;
}

int cmd_keys(int argc, char **argv)
{
    const char *file = NULL, *name = NULL, *role = NULL, *id = NULL, *db = NULL,
               *author = NULL, *sub;
    char err[RK_ERROR_SIZE] = "", key[RK_APIKEY_TEXT_SIZE], ref[64], text[256];
    const rk_apikey *k = NULL;
    rk_apikeys *ks = NULL;
    rk_ledger *l = NULL;
    rk_role rl = RK_ROLE_OPERATOR;
    int i, r, ret = RK_EXIT_OK, add;
    rk_err rc;

    if (argc < 2)
        return usage();
    sub = argv[1];
    for (i = 2; i < argc; i++) {
        if ((r = rk_opt_value(CMD, argc, argv, &i, "--file", &file)) != 0 ||
            (r = rk_opt_value(CMD, argc, argv, &i, "--name", &name)) != 0 ||
            (r = rk_opt_value(CMD, argc, argv, &i, "--role", &role)) != 0 ||
            (r = rk_opt_value(CMD, argc, argv, &i, "--id", &id)) != 0 ||
            (r = rk_opt_value(CMD, argc, argv, &i, "--db", &db)) != 0 ||
            (r = rk_opt_value(CMD, argc, argv, &i, "--author", &author)) != 0) {
            if (r < 0)
                return usage();
            continue;
        }
        rk_tool_error(CMD, "unknown option '%s'", argv[i]);
        return usage();
    }
    if (file == NULL)
        return usage();
    if (strcmp(sub, "list") == 0)
        return name != NULL || role != NULL || id != NULL || db != NULL ? usage()
                                                                        : do_list(file);
    add = strcmp(sub, "add") == 0;
    if (!add && strcmp(sub, "revoke") != 0) {
        rk_tool_error(CMD, "'%s' is not add, list or revoke", sub);
        return usage();
    }
    if (add ? (name == NULL || role == NULL || id != NULL)
            : (id == NULL || name != NULL || role != NULL))
        return usage();
    if (add && rk_role_parse(role, &rl) != RK_OK) {
        rk_tool_error(CMD, "'%s' is not a role (operator, finance, auditor, admin)", role);
        return RK_EXIT_USAGE;
    }
    if (author == NULL)
        author = login_name();
    /* open the ledger first: a key change we cannot record is not made */
    if (db != NULL) {
        rc = rk_ledger_open(db, 0, &l, err);
        if (rc != RK_OK) {
            ret = rk_tool_fail(CMD, rc, err);
            goto out;
        }
    }
    rc = rk_apikeys_load(file, &ks, err);
    if (rc == RK_ERR_NOTFOUND && add) {
        ks = rk_apikeys_new();
        rc = ks != NULL ? RK_OK : RK_ERR_NOMEM;
    }
    if (rc == RK_OK)
        rc = add ? rk_apikeys_add(ks, name, rl, wall_clock(), key, &k, err)
                 : rk_apikeys_revoke(ks, id, wall_clock(), err);
    if (rc == RK_OK)
        rc = rk_apikeys_save(ks, file, err);
    if (rc != RK_OK) {
        ret = rk_tool_fail(CMD, rc, err);
        goto out;
    }
    if (add) {
        id = k->id;
        printf("%s\n", key);
        fflush(stdout);
        sodium_memzero(key, sizeof key);
        fprintf(stderr, "reckon keys: added key %s (%s, %s); the key above is shown only "
                        "this once\n", k->id, k->name, rk_role_name(k->role));
        snprintf(text, sizeof text, "api key %s added: name %s, role %s", k->id, k->name,
                 rk_role_name(k->role));
    } else {
        fprintf(stderr, "reckon keys: revoked key %s\n", id);
        snprintf(text, sizeof text, "api key %s revoked", id);
    }
    if (l != NULL) {
        snprintf(ref, sizeof ref, "apikey:%s", id);
        rc = rk_opnote_append(l, author, ref, text, "cli", NULL, NULL, err);
        if (rc != RK_OK) {
            rk_tool_error(CMD, "the keys file was changed but the change was not "
                               "recorded in the ledger");
            ret = rk_tool_fail(CMD, rc, err);
        }
    }
out:
    rk_apikeys_free(ks);
    rk_ledger_close(l);
    return ret;
}
