/* JSON-RPC framing over byte streams.
 *
 * struct jsonrpc_framer turns an arbitrary sequence of byte chunks into whole
 * JSON values: several messages in one chunk, one message split over many,
 * messages of any size (scanning is incremental, so a 10 MB message costs one
 * pass, not one pass per read). It is pure and has no fds, so tests feed it
 * random chunkings.
 *
 * struct jsonrpc_conn puts a framer and an output queue on a pair of fds in a
 * struct loop: non-blocking reads and writes, every message written as
 * compact JSON followed by "\n\n" as lightningd expects. */
#ifndef HIVE_COMMON_JSONRPC_IO_H
#define HIVE_COMMON_JSONRPC_IO_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct loop;
struct jsonrpc_framer;

enum framer_result {
	FRAMER_NEED_MORE, /* no complete value buffered */
	FRAMER_MESSAGE,	  /* *out holds a new reference */
	FRAMER_BAD,	  /* a malformed value was dropped; *err says why */
};

struct jsonrpc_framer *jsonrpc_framer_new(void);
void jsonrpc_framer_free(struct jsonrpc_framer *f);
void jsonrpc_framer_feed(struct jsonrpc_framer *f, const char *data,
			 size_t len);
/* Take the next value. On FRAMER_BAD, *err is a new string the caller
 * frees; the framer has already skipped past the bad bytes. */
enum framer_result jsonrpc_framer_next(struct jsonrpc_framer *f, json_t **out,
				       char **err);
/* Bytes of an incomplete value still buffered (non-zero at EOF means the
 * peer sent a truncated message). */
size_t jsonrpc_framer_pending(const struct jsonrpc_framer *f);

struct jsonrpc_conn;

struct jsonrpc_conn_ops {
	/* One complete JSON value; @msg is borrowed for the call. */
	void (*on_message)(struct jsonrpc_conn *c, json_t *msg, void *arg);
	/* A malformed value was skipped (the stream continues). */
	void (*on_bad)(struct jsonrpc_conn *c, const char *err, void *arg);
	/* The input closed: @err is NULL for a clean EOF. After this the
	 * conn no longer reads; the owner usually frees it. */
	void (*on_close)(struct jsonrpc_conn *c, const char *err, void *arg);
};

/* Takes over @in_fd and @out_fd (may be equal), makes them non-blocking
 * and closes them on free when @close_fds. */
struct jsonrpc_conn *jsonrpc_conn_new(struct loop *loop, int in_fd,
				      int out_fd, bool close_fds,
				      const struct jsonrpc_conn_ops *ops,
				      void *arg);
/* Safe to call from inside the conn's own callbacks: the memory is
 * released once the callback returns. */
void jsonrpc_conn_free(struct jsonrpc_conn *c);

/* Queue @msg (reference stolen) for writing. Returns false if the output
 * side has failed (the message is dropped). */
bool jsonrpc_conn_send(struct jsonrpc_conn *c, json_t *msg);
/* Queue raw bytes exactly as given (used by the simulator to pass a
 * plugin's answer through unchanged). */
bool jsonrpc_conn_send_raw(struct jsonrpc_conn *c, const char *data,
			   size_t len);
/* Block until everything queued is written or @timeout_ms passes. */
bool jsonrpc_conn_flush(struct jsonrpc_conn *c, int timeout_ms);
size_t jsonrpc_conn_queued(const struct jsonrpc_conn *c);
/* Stop reading (e.g. while a peer is being throttled) or resume. */
void jsonrpc_conn_pause(struct jsonrpc_conn *c, bool paused);

#endif
