/*
 * fuzz_planes_shape.c - the known-shape reader of record bodies (planes.c,
 * shape_read, and the event or row built from what it lists) against the
 * generic path (rk_jv_parse_tape + obj_load_tape, pev_parse / crow_parse /
 * frow_parse): whenever the reader accepts a body, the generic path must
 * accept it too, list the same members and build an equal event or row, or
 * give the same reason (tests/check/shape_same.h).  Input: one byte choosing
 * the record kind (provider event, commerce row, finance row, or another
 * kind), one byte choosing the generic path's tape size (small tapes make
 * it read with a cursor), then the body.  planes.c is compiled here (run.sh links the target without it).
 */
#include "planes.c"

#include "../check/shape_same.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned kinds[4] = { RK_KIND_PROVIDER_EVENT, RK_KIND_COMMERCE_ROW,
                                       RK_KIND_FINANCE_ROW, RK_KIND_POLICY };
    const char *why;
    size_t max;

    if (size < 2)
        return 0;
    max = data[1] < 0xf0 ? TAPE_MAX : (size_t)(data[1] - 0xf0) * 3;
    if (shape_same(kinds[data[0] & 3], data + 2, size - 2, max, &why) < 0) {
        fprintf(stderr, "fuzz_planes_shape: %s: %.*s\n", why, (int)(size - 2),
                (const char *)data + 2);
        abort();
    }
    return 0;
}
