/*
 * serve.h - the HTTP webhook receiver and operator API on libmicrohttpd
 * (formats/ingestion.md, formats/server-config.md).
 *
 *   POST /webhooks/<endpoint>   a provider delivery: read up to the body
 *                               limit, verify the signature on the raw bytes
 *                               (sig.h), then map (adapt.h) and record
 *   POST /api/notes             an operator note (Authorization: Bearer KEY,
 *                               role operator or admin; apikey.h)
 *   anything else under /api/   404 or 405
 *   GET  /healthz               200 {"head_seq":N,"size":N+1,"status":"ok"}
 *   GET  /metrics               Prometheus text format
 *
 * Every POST to /webhooks/ is one webhook_delivery record, whatever its
 * outcome, except rejects of a peer beyond its per-minute allowance, which
 * are counted into one delivery_summary record per minute.  Every request
 * under /api/ that is not answered 201 is recorded the same way, as a
 * webhook_delivery record with "via":"api" (the key redacted, never stored).  A 2xx response
 * is sent only after rk_ledger_append returned RK_OK (the records are
 * durable).  One thread, the committer, appends the records of every
 * request waiting at that moment in one rk_ledger_append call (one synced
 * write); in the event-driven pool (the default) a waiting request's
 * connection is suspended rather than holding a thread.  The server also writes signed checkpoints every N records
 * and/or T seconds when the configuration names a key.
 *
 * The engine never reads the wall clock: the caller passes a clock for
 * received_at times, signature timestamps and summary windows.  Timers use
 * CLOCK_MONOTONIC.  The engine installs no signal handler and never exits:
 * the tool waits for SIGTERM/SIGINT and calls rk_serve_stop.
 *
 * Thread safety: rk_serve_stop and rk_serve_free are called once, from one
 * thread; everything else is internal.
 */
#ifndef RK_SERVE_H
#define RK_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "adapt.h"
#include "bytes.h"
#include "config.h"
#include "error.h"
#include "ledger.h"

typedef struct rk_server rk_server;

/*
 * Same signature as rk_adapt_webhook_json (adapt.h): root is the tree
 * rk_json_parse made of the verified body, borrowed for the call.  The
 * receiver parses a body once, for its JSON check, and maps that tree.
 */
typedef rk_err (*rk_serve_adapt_fn)(const char *provider, const struct cJSON *root,
                                    rk_adapt_event *ev, char *err);

/* One line of operational log (no secrets, no bodies); may be NULL. */
typedef void (*rk_serve_log_fn)(void *ctx, const char *line);

typedef struct rk_serve_opts {
    rk_clock_fn clock;       /* required: UTC nanoseconds */
    void *clock_ctx;
    rk_serve_adapt_fn adapt; /* NULL: rk_adapt_webhook_json */
    rk_serve_log_fn log;     /* NULL: no log */
    void *log_ctx;
} rk_serve_opts;

/*
 * Start serving ledger l (opened read-write; the caller keeps ownership and
 * closes it after rk_serve_free) with configuration cfg (borrowed until
 * rk_serve_free).  Loads the checkpoint key and the API keys file when the
 * configuration names them, binds the listen address and starts the
 * threads.  *out is the running server.
 *   RK_ERR_INVALID  opts without a clock
 *   RK_ERR_IO       cannot bind or start (the message says why)
 *   errors of rk_signer_load and rk_apikeys_load (a missing keys file is
 *   RK_ERR_NOTFOUND: create it with `reckon keys add`)
 *   RK_ERR_NOMEM
 */
rk_err rk_serve_start(rk_ledger *l, const rk_config *cfg, const rk_serve_opts *opts,
                      rk_server **out, char *err)
    __attribute__((warn_unused_result));

/* The bound address, "127.0.0.1:8080" or "[::1]:8080"; valid until free. */
const char *rk_serve_address(const rk_server *s);
/* The bound port (useful with port 0 in the configuration). */
uint16_t rk_serve_port(const rk_server *s);

/*
 * Stop: refuse new connections, let requests in flight finish (at most 10
 * seconds), let the committer append what was handed to it and answer it
 * (requests handed over later are answered 503), stop the threads, write the pending delivery_summary and, when
 * checkpoints are configured and records came after the last one, a final
 * checkpoint.  Returns the first error of that last writing (the server is
 * stopped either way).  Calling it twice is harmless.
 */
rk_err rk_serve_stop(rk_server *s, char *err);

/* Stop if needed and free; accepts NULL. */
void rk_serve_free(rk_server *s);

/* Append the /metrics text to out. */
rk_err rk_serve_metrics(rk_server *s, rk_buf *out);

#endif
