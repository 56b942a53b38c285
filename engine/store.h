/*
 * store.h - the storage layer: the only module that includes rocksdb/c.h.
 *
 * A store is a RocksDB database with the column families of
 * formats/storage.md.  Everything else in the engine sees keys, values,
 * batches and iterators through this header, and RocksDB's `char **errptr`
 * is converted to rk_err in exactly one helper (store.c: take_error).
 */
#ifndef RK_STORE_H
#define RK_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "error.h"

/* Column families; the names are in formats/storage.md. */
typedef enum rk_cf {
    RK_CF_META = 0,    /* "default": ledger meta data */
    RK_CF_RECORDS = 1, /* "records": seq -> record bytes */
    RK_CF_MERKLE = 2,  /* "merkle": (level, index) -> perfect subtree hash */
    RK_CF_REF = 3,     /* "ref": reference || 0x00 || seq -> empty */
    RK_CF_EVENT = 4,   /* "event": event key -> seq */
    RK_CF__COUNT
} rk_cf;

typedef struct rk_store rk_store;
typedef struct rk_store_batch rk_store_batch;
typedef struct rk_store_iter rk_store_iter;

#define RK_STORE_CREATE 1u   /* create the directory and database; fail if it exists */
#define RK_STORE_READONLY 2u /* open without taking the write lock */

/* Name of a column family ("records"). */
const char *rk_store_cf_name(rk_cf cf);

/*
 * Open (or create) the store in dir.  RK_ERR_NOTFOUND when dir does not
 * exist, RK_ERR_EXISTS when creating over an existing store, RK_ERR_IO for
 * anything RocksDB reports (a lock held by another process, damage).
 */
rk_err rk_store_open(const char *dir, unsigned flags, rk_store **out, char *err);
void rk_store_close(rk_store *s); /* accepts NULL */

/*
 * Read one value into val (replacing its contents).  RK_ERR_NOTFOUND when
 * the key is absent (err is then left untouched).
 */
rk_err rk_store_get(rk_store *s, rk_cf cf, const void *key, size_t klen,
                    rk_buf *val, char *err);

/* A write batch for s: applied atomically by rk_store_write. */
rk_store_batch *rk_store_batch_new(rk_store *s); /* NULL when out of memory */
void rk_store_batch_put(rk_store_batch *b, rk_cf cf, const void *key, size_t klen,
                        const void *val, size_t vlen);
void rk_store_batch_delete(rk_store_batch *b, rk_cf cf, const void *key, size_t klen);
void rk_store_batch_clear(rk_store_batch *b);
void rk_store_batch_free(rk_store_batch *b); /* accepts NULL */

/*
 * Apply b atomically.  With sync != 0 the call returns only once the write
 * ahead log is synced to stable storage.
 */
rk_err rk_store_write(rk_store *s, rk_store_batch *b, int sync, char *err);

/*
 * Write the memtables of every column family to table files and wait.  A
 * ledger calls it on close so that the next open, and read-only opens by
 * verifiers, need not replay a long write-ahead log.
 */
rk_err rk_store_flush(rk_store *s, char *err);

/*
 * Iterate cf in key order from the first key >= start (klen 0: from the
 * beginning).  key/value pointers are valid until the next call on it.
 */
rk_err rk_store_iter_new(rk_store *s, rk_cf cf, const void *start, size_t klen,
                         rk_store_iter **out, char *err);
int rk_store_iter_valid(const rk_store_iter *it);
void rk_store_iter_next(rk_store_iter *it);
const uint8_t *rk_store_iter_key(const rk_store_iter *it, size_t *len);
const uint8_t *rk_store_iter_value(const rk_store_iter *it, size_t *len);
/* After the iterator stopped being valid: RK_OK at the end, else the error. */
rk_err rk_store_iter_status(const rk_store_iter *it, char *err);
void rk_store_iter_free(rk_store_iter *it); /* accepts NULL */

#endif
