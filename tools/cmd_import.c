/*
 * cmd_import.c - reckon import <what>: the import subcommands, one table.
 * Each subcommand lives in its own file (cmd_import_<what>.c).
 */
#include <stdio.h>
#include <string.h>

#include "reckon.h"

struct subcommand {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct subcommand subcommands[] = {
    { "commerce", cmd_import_commerce, "import commerce rows (orders, fulfilment, refunds, cancels)" },
    { "finance", cmd_import_finance, "import finance rows (journal entries)" },
    { "api-read", cmd_import_api_read, "record a provider API read (poll) as evidence" },
    { NULL, NULL, NULL } /* end */
};

static int usage(void)
{
    const struct subcommand *s;

    fprintf(stderr, "usage: reckon import <what> --db DIR [options] FILE\n\n");
    for (s = subcommands; s->name != NULL; s++)
        fprintf(stderr, "  %-10s %s\n", s->name, s->summary);
    return RK_EXIT_USAGE;
}

int cmd_import(int argc, char **argv)
{
    const struct subcommand *s;

    if (argc < 2)
        return usage();
    for (s = subcommands; s->name != NULL; s++)
        if (strcmp(argv[1], s->name) == 0)
            return s->fn(argc - 1, argv + 1);
    rk_tool_error("import", "'%s' is not something reckon imports", argv[1]);
    return usage();
}
