/*
 * store.c - RocksDB behind rk_store (formats/storage.md).
 *
 * The only file that includes rocksdb/c.h.  Options are chosen for an
 * append-only log that must not lose an acknowledged write: every write that
 * asks for it is WAL-synced, paranoid checks are on, and recovery stops at
 * the first damaged WAL record (kPointInTimeRecovery) instead of skipping it.
 */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <rocksdb/c.h>

static const char *const cf_names[RK_CF__COUNT] = {
    [RK_CF_META] = "default",
    [RK_CF_RECORDS] = "records",
    [RK_CF_MERKLE] = "merkle",
    [RK_CF_REF] = "ref",
    [RK_CF_EVENT] = "event",
};

struct rk_store {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_options_t *rec_opts; /* the records column family's: opts, larger blocks */
    rocksdb_options_t *ev_opts;  /* the event column family's: opts, bloom filters */
    rocksdb_column_family_handle_t *cf[RK_CF__COUNT];
    rocksdb_readoptions_t *ropts;
    rocksdb_writeoptions_t *wsync;
    rocksdb_writeoptions_t *wnosync;
};

struct rk_store_batch {
    rk_store *store;
    rocksdb_writebatch_t *wb;
};

struct rk_store_iter {
    rocksdb_iterator_t *it;
    rocksdb_readoptions_t *ropts;
};

/* The one place where RocksDB's error strings become rk_err. */
static rk_err take_error(char *rerr, char *err, const char *what)
{
    rk_err code = RK_ERR_IO;

    if (rerr == NULL)
        return RK_OK;
    if (strstr(rerr, "Corruption") != NULL)
        code = RK_ERR_CORRUPT;
    if (strstr(rerr, "lock") != NULL && strstr(rerr, "LOCK") != NULL)
        rk_seterr(err, code, "%s: the ledger is in use by another process (%s)",
                  what, rerr);
    else
        rk_seterr(err, code, "%s: %s", what, rerr);
    rocksdb_free(rerr);
    return code;
}

const char *rk_store_cf_name(rk_cf cf)
{
    return (unsigned)cf < RK_CF__COUNT ? cf_names[cf] : "?";
}

rk_err rk_store_open(const char *dir, unsigned flags, rk_store **out, char *err)
{
    rk_store *s;
    const rocksdb_options_t *cfopts[RK_CF__COUNT];
    struct stat st;
    char *rerr = NULL;
    rk_err rc;
    int i, exists = stat(dir, &st) == 0;

    *out = NULL;
    if (flags & RK_STORE_CREATE) {
        char cur[4096];
        snprintf(cur, sizeof cur, "%s/CURRENT", dir);
        if (stat(cur, &st) == 0)
            return rk_seterr(err, RK_ERR_EXISTS, "'%s' already holds a ledger", dir);
    } else if (!exists) {
        return rk_seterr(err, RK_ERR_NOTFOUND, "cannot open ledger '%s': %s", dir,
                         strerror(errno));
    }
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory opening '%s'", dir);
    s->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(s->opts, (flags & RK_STORE_CREATE) != 0);
    rocksdb_options_set_create_missing_column_families(s->opts,
                                                       (flags & RK_STORE_CREATE) != 0);
    rocksdb_options_set_paranoid_checks(s->opts, 1);
    rocksdb_options_set_wal_recovery_mode(s->opts, 2 /* point in time */);
    rocksdb_options_increase_parallelism(s->opts, 2);
    rocksdb_options_set_max_open_files(s->opts, 256);
    rocksdb_options_set_info_log_level(s->opts, 2 /* warn */);
    /* LZ4 for new SST blocks: smaller than snappy on record bodies and about a
     * third cheaper to decompress, which a whole-ledger scan pays per record
     * (formats/storage.md).  Each block names its own compression, so blocks
     * written with snappy by older versions still read. */
    rocksdb_options_set_compression(s->opts, rocksdb_lz4_compression);
    for (i = 0; i < RK_CF__COUNT; i++)
        cfopts[i] = s->opts;
    /*
     * Records are read mostly in long runs (replay, verify, scans), where
     * every data block costs a fixed amount besides its bytes (fetch,
     * checksum, decompression set-up, iterator set-up): 16 KiB blocks
     * spread that over about four times as many records as the default
     * 4 KiB, and compress better.  A single record read decompresses a
     * larger block, still a few microseconds (formats/storage.md).
     */
    s->rec_opts = rocksdb_options_create_copy(s->opts);
    {
        rocksdb_block_based_table_options_t *bb = rocksdb_block_based_options_create();
        rocksdb_block_based_options_set_block_size(bb, 16 * 1024);
        rocksdb_options_set_block_based_table_factory(s->rec_opts, bb);
        rocksdb_block_based_options_destroy(bb);
    }
    cfopts[RK_CF_RECORDS] = s->rec_opts;
    /*
     * Every delivery and every append with an event key looks its key up in
     * `event`, and nearly every look-up misses (a new event).  Bloom filters
     * answer most misses without a search: 10 bits per key in each SST
     * (about 1% false positives, so a miss rarely reads a data block) and a
     * whole-key filter over the memtable (formats/storage.md).
     */
    s->ev_opts = rocksdb_options_create_copy(s->opts);
    {
        rocksdb_block_based_table_options_t *bb = rocksdb_block_based_options_create();
        /* the table options take ownership of the policy */
        rocksdb_block_based_options_set_filter_policy(bb,
                                                      rocksdb_filterpolicy_create_bloom_full(10));
        rocksdb_block_based_options_set_whole_key_filtering(bb, 1);
        rocksdb_options_set_block_based_table_factory(s->ev_opts, bb);
        rocksdb_block_based_options_destroy(bb);
        rocksdb_options_set_memtable_whole_key_filtering(s->ev_opts, 1);
        rocksdb_options_set_memtable_prefix_bloom_size_ratio(s->ev_opts, 0.02);
    }
    cfopts[RK_CF_EVENT] = s->ev_opts;
    if (flags & RK_STORE_READONLY)
        s->db = rocksdb_open_for_read_only_column_families(
            s->opts, dir, RK_CF__COUNT, cf_names, cfopts, s->cf, 0, &rerr);
    else
        s->db = rocksdb_open_column_families(s->opts, dir, RK_CF__COUNT, cf_names,
                                             cfopts, s->cf, &rerr);
    if (rerr != NULL) {
        char what[4200];
        snprintf(what, sizeof what, "cannot open ledger '%s'", dir);
        rc = take_error(rerr, err, what);
        s->db = NULL;
        rk_store_close(s);
        return rc;
    }
    s->ropts = rocksdb_readoptions_create();
    rocksdb_readoptions_set_verify_checksums(s->ropts, 1);
    s->wsync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(s->wsync, 1);
    s->wnosync = rocksdb_writeoptions_create();
    *out = s;
    return RK_OK;
}

void rk_store_close(rk_store *s)
{
    int i;

    if (s == NULL)
        return;
    if (s->db != NULL) {
        for (i = 0; i < RK_CF__COUNT; i++)
            if (s->cf[i] != NULL)
                rocksdb_column_family_handle_destroy(s->cf[i]);
        rocksdb_close(s->db);
    }
    if (s->ropts != NULL)
        rocksdb_readoptions_destroy(s->ropts);
    if (s->wsync != NULL)
        rocksdb_writeoptions_destroy(s->wsync);
    if (s->wnosync != NULL)
        rocksdb_writeoptions_destroy(s->wnosync);
    if (s->opts != NULL)
        rocksdb_options_destroy(s->opts);
    if (s->rec_opts != NULL)
        rocksdb_options_destroy(s->rec_opts);
    if (s->ev_opts != NULL)
        rocksdb_options_destroy(s->ev_opts);
    free(s);
}

rk_err rk_store_get(rk_store *s, rk_cf cf, const void *key, size_t klen,
                    rk_buf *val, char *err)
{
    rocksdb_pinnableslice_t *ps;
    char *rerr = NULL;
    const char *v;
    size_t vlen = 0;
    rk_err rc;

    ps = rocksdb_get_pinned_cf(s->db, s->ropts, s->cf[cf], key, klen, &rerr);
    if (rerr != NULL)
        return take_error(rerr, err, "cannot read ledger");
    if (ps == NULL)
        return RK_ERR_NOTFOUND;
    v = rocksdb_pinnableslice_value(ps, &vlen);
    rk_buf_reset(val);
    rc = rk_buf_append(val, v, vlen);
    rocksdb_pinnableslice_destroy(ps);
    if (rc != RK_OK)
        return rk_seterr(err, rc, "out of memory reading ledger");
    return RK_OK;
}

rk_store_batch *rk_store_batch_new(rk_store *s)
{
    rk_store_batch *b = calloc(1, sizeof *b);

    if (b == NULL)
        return NULL;
    b->store = s;
    b->wb = rocksdb_writebatch_create();
    return b;
}

void rk_store_batch_put(rk_store_batch *b, rk_cf cf, const void *key, size_t klen,
                        const void *val, size_t vlen)
{
    rocksdb_writebatch_put_cf(b->wb, b->store->cf[cf], key, klen, val, vlen);
}

void rk_store_batch_delete(rk_store_batch *b, rk_cf cf, const void *key, size_t klen)
{
    rocksdb_writebatch_delete_cf(b->wb, b->store->cf[cf], key, klen);
}

void rk_store_batch_clear(rk_store_batch *b)
{
    rocksdb_writebatch_clear(b->wb);
}

void rk_store_batch_free(rk_store_batch *b)
{
    if (b == NULL)
        return;
    rocksdb_writebatch_destroy(b->wb);
    free(b);
}

rk_err rk_store_write(rk_store *s, rk_store_batch *b, int sync, char *err)
{
    char *rerr = NULL;

    rocksdb_write(s->db, sync ? s->wsync : s->wnosync, b->wb, &rerr);
    return take_error(rerr, err, "cannot write ledger");
}

rk_err rk_store_flush(rk_store *s, char *err)
{
    rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
    char *rerr = NULL;
    int i;

    rocksdb_flushoptions_set_wait(fo, 1);
    for (i = 0; i < RK_CF__COUNT && rerr == NULL; i++)
        rocksdb_flush_cf(s->db, fo, s->cf[i], &rerr);
    rocksdb_flushoptions_destroy(fo);
    return take_error(rerr, err, "cannot flush ledger");
}

rk_err rk_store_iter_new(rk_store *s, rk_cf cf, const void *start, size_t klen,
                         rk_store_iter **out, char *err)
{
    rk_store_iter *it = calloc(1, sizeof *it);

    *out = NULL;
    if (it == NULL)
        return rk_seterr(err, RK_ERR_NOMEM, "out of memory");
    /*
     * RocksDB counts every step of an iterator into this thread's perf
     * context unless told not to (a thread-local look-up and a few adds per
     * record, about 2% of a replay); reckon reads none of those counters.
     * The level is per thread: every thread that scans sets it here.
     */
    rocksdb_set_perf_level(rocksdb_disable);
    it->ropts = rocksdb_readoptions_create();
    rocksdb_readoptions_set_verify_checksums(it->ropts, 1);
    rocksdb_readoptions_set_fill_cache(it->ropts, 0);
    rocksdb_readoptions_set_readahead_size(it->ropts, 2 * 1024 * 1024);
    it->it = rocksdb_create_iterator_cf(s->db, it->ropts, s->cf[cf]);
    if (klen > 0)
        rocksdb_iter_seek(it->it, start, klen);
    else
        rocksdb_iter_seek_to_first(it->it);
    *out = it;
    return RK_OK;
}

int rk_store_iter_valid(const rk_store_iter *it)
{
    return rocksdb_iter_valid(it->it) != 0;
}

void rk_store_iter_next(rk_store_iter *it)
{
    rocksdb_iter_next(it->it);
}

const uint8_t *rk_store_iter_key(const rk_store_iter *it, size_t *len)
{
    return (const uint8_t *)rocksdb_iter_key(it->it, len);
}

const uint8_t *rk_store_iter_value(const rk_store_iter *it, size_t *len)
{
    return (const uint8_t *)rocksdb_iter_value(it->it, len);
}

rk_err rk_store_iter_status(const rk_store_iter *it, char *err)
{
    char *rerr = NULL;

    rocksdb_iter_get_error(it->it, &rerr);
    return take_error(rerr, err, "cannot read ledger");
}

void rk_store_iter_free(rk_store_iter *it)
{
    if (it == NULL)
        return;
    rocksdb_iter_destroy(it->it);
    rocksdb_readoptions_destroy(it->ropts);
    free(it);
}
