/*
 * test_replay_plain.c - the replay suite again, on the renderer's plain C
 * path.
 *
 * planes.c checks and copies the strings it renders sixteen bytes at a
 * time with SSE2 where the compiler targets it, which on the machines we
 * build on is always; the plain C path (words of eight bytes, then bytes)
 * would otherwise go untested.  So this file compiles planes.c itself with
 * RK_WR_NO_SSE2 and runs every test of test_replay.c against that copy:
 * its rk_planes_* definitions stand in this binary for the library's (the
 * linker then takes nothing of planes.o from the archive), so the golden
 * output, the compaction twins and the escaping tests hold both paths to
 * the same bytes.
 */
#define RK_WR_NO_SSE2 1
#include "planes.c"

#include "test_replay.c"
