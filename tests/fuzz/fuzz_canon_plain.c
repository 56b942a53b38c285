/*
 * fuzz_canon_plain.c - fuzz_canon_check on canon's plain C path: canon.c
 * compiled here with RK_CANON_NO_SIMD (no SSE2 string scan), so that both
 * paths meet the same checks against rk_canon_normalize (run.sh links
 * this target without engine/canon.c).
 */
#define RK_CANON_NO_SIMD 1
#include "canon.c"

#include "fuzz_canon_check.c"
