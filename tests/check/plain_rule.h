/*
 * plain_rule.h - the rule for the `plain` mark of a string view
 * (engine/canon.h), byte by byte, for test_canon.c and fuzz_canon_check.c:
 * a string is plain exactly when its bytes between the quotes are printable
 * ASCII (0x20..0x7f) other than '"' and '\\', so that its text is its value.
 */
#ifndef RK_TEST_PLAIN_RULE_H
#define RK_TEST_PLAIN_RULE_H

#include "canon.h"

static int plain_text(const rk_jv *v)
{
    size_t i;

    if (v->type != RK_JV_STRING)
        return 0;
    for (i = 1; i + 1 < v->len; i++) {
        unsigned char ch = (unsigned char)v->p[i];
        if (ch < 0x20 || ch >= 0x80 || ch == '"' || ch == '\\')
            return 0;
    }
    return 1;
}

#endif
