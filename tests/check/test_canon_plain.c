/*
 * test_canon_plain.c - the canon suite again, on canon's plain C path.
 *
 * canon.c scans strings sixteen bytes at a time with SSE2 where the
 * compiler targets it, which on the machines we build on is always; the
 * plain C path (words of eight bytes, then bytes) would otherwise go
 * untested.  So this file compiles canon.c itself with RK_CANON_NO_SIMD,
 * which leaves the SSE2 loop out, and runs every test of test_canon.c
 * against that copy: its definitions of the rk_json_* / rk_canon_* /
 * rk_jv_* functions stand in this binary for the library's (the linker
 * then takes nothing of canon.o from the archive), so the suite, which
 * checks the one-pass check and the tape against rk_canon_normalize, holds
 * both paths to the same results.
 */
#define RK_CANON_NO_SIMD 1
#include "canon.c"

#include "test_canon.c"
