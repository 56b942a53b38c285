/*
 * check_main.c - the one main() shared by every check suite.
 *
 * Each tests/check/test_<module>.c defines rk_test_suite(); this file runs it
 * in fork mode (CK_FORK=no under valgrind, set by tests/check.sh) and exits
 * non-zero on any failure.  The summary line is what CI reads.
 */
#include <check.h>
#include <stdlib.h>

#include "check_main.h"

int main(void)
{
    SRunner *sr = srunner_create(rk_test_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#include <stdio.h>
#include <string.h>

char *rk_test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    char *d;

    snprintf(tmpl, sizeof tmpl, "%s/reckon-test-XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    d = mkdtemp(tmpl);
    return d == NULL ? NULL : strdup(d);
}
