/*
 * reckon.c - the command dispatcher (git's layout: one file per command,
 * one table here).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reckon.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    { "init", cmd_init, "create a ledger with its genesis record" },
    { "append", cmd_append, "append one record (low level, for scripts and tests)" },
    { "log", cmd_log, "print records as JSON lines" },
    { "checkpoint", cmd_checkpoint, "sign, print and record a checkpoint" },
    { "proof", cmd_proof, "inclusion proof of a record (C2SP tlog-proof)" },
    { "verify", cmd_verify, "verify a whole ledger: hashes, links, tree, checkpoints" },
    { "import", cmd_import, "import commerce or finance rows, or provider API reads" },
    { "policy", cmd_policy, "check, record or show the rail policy (policy check|set|show)" },
    { "keygen", cmd_keygen, "generate an Ed25519 key pair (PREFIX.key, PREFIX.pub)" },
    { "sign-file", cmd_sign_file, "write FILE.minisig, a minisign signature of FILE" },
    { "webhook", cmd_webhook, "verify or sign a webhook delivery's signature" },
    { "replay", cmd_replay, "three-plane state as of a record or a time" },
    { "timeline", cmd_timeline, "every record that touched one payment, state before and after" },
    { "diff", cmd_diff, "what changed in the three-plane state between two points" },
    { "serve", cmd_serve, "run the webhook receiver and operator API" },
    { "keys", cmd_keys, "add, list or revoke HTTP API keys" },
    { "note", cmd_note, "record an operator note about a reference" },
    { "help", cmd_help, "list the commands" },
    { "version", cmd_version, "print the version" },
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

void rk_tool_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "reckon %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int rk_tool_fail(const char *cmd, rk_err rc, const char *err)
{
    rk_tool_error(cmd, "%s", err != NULL && err[0] != '\0' ? err : rk_strerror(rc));
    return RK_EXIT_USAGE;
}

int rk_opt_value(const char *cmd, int argc, char **argv, int *i,
                 const char *name, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);

    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        rk_tool_error(cmd, "option '%s' needs a value", name);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

int rk_parse_u64(const char *s, unsigned long long *out)
{
    char *end = NULL;

    if (s == NULL || s[0] < '0' || s[0] > '9')
        return -1;
    *out = strtoull(s, &end, 10);
    return *end == '\0' ? 0 : -1;
}

int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("reckon 0.1.0\n");
    return RK_EXIT_OK;
}

int cmd_help(int argc, char **argv)
{
    size_t i;

    (void)argc;
    (void)argv;
    printf("usage: reckon <command> [options]\n\ncommands:\n");
    for (i = 0; i < NCOMMANDS; i++)
        printf("  %-12s %s\n", commands[i].name, commands[i].summary);
    printf("\nexit codes: 0 success, 1 a check found a problem, "
           "2 usage or I/O error\n");
    return RK_EXIT_OK;
}

int main(int argc, char **argv)
{
    size_t i;

    if (argc < 2) {
        cmd_help(0, NULL);
        return RK_EXIT_USAGE;
    }
    for (i = 0; i < NCOMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cmd_help(0, NULL);
    rk_tool_error(argv[1], "not a reckon command; see 'reckon help'");
    return RK_EXIT_USAGE;
}
