/* check_main.h - what each check suite provides to check_main.c. */
#ifndef RK_CHECK_MAIN_H
#define RK_CHECK_MAIN_H

#include <check.h>

/* The suite of one engine module; defined once per test_<module>.c. */
Suite *rk_test_suite(void);

/* A fresh empty directory for a test (mkdtemp under $TMPDIR); caller frees. */
char *rk_test_tmpdir(void);

#endif
