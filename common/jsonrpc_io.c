/* Incremental JSON framing and buffered fd I/O; see jsonrpc_io.h. */
#include "common/jsonrpc_io.h"
#include "common/loop.h"
#include "common/util.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

struct jsonrpc_framer {
	char *buf;
	size_t len, cap;
	size_t start;	/* first byte of the value being scanned */
	size_t scan;	/* next byte to look at */
	int depth;	/* nesting depth; 0 = between values */
	bool in_str, esc;
	bool skipping;	/* inside stray bytes already reported */
};

struct jsonrpc_framer *jsonrpc_framer_new(void)
{
	return xzalloc(sizeof(struct jsonrpc_framer));
}

void jsonrpc_framer_free(struct jsonrpc_framer *f)
{
	if (!f)
		return;
	free(f->buf);
	free(f);
}

void jsonrpc_framer_feed(struct jsonrpc_framer *f, const char *data,
			 size_t len)
{
	/* Reclaim consumed space before growing. */
	if (f->start > 0 && (f->start == f->len || f->start > f->cap / 2)) {
		memmove(f->buf, f->buf + f->start, f->len - f->start);
		f->len -= f->start;
		f->scan -= f->start;
		f->start = 0;
	}
	xgrow(&f->buf, &f->cap, f->len + len + 1, 1);
	memcpy(f->buf + f->len, data, len);
	f->len += len;
}

size_t jsonrpc_framer_pending(const struct jsonrpc_framer *f)
{
	size_t n = 0;
	for (size_t i = f->start; i < f->len; i++)
		if (!strchr(" \t\r\n", f->buf[i]))
			n = f->len - i;
	return n ? f->len - f->start : 0;
}

static void reset_scan(struct jsonrpc_framer *f, size_t at)
{
	f->start = f->scan = at;
	f->depth = 0;
	f->in_str = f->esc = false;
}

enum framer_result jsonrpc_framer_next(struct jsonrpc_framer *f, json_t **out,
				       char **err)
{
	*out = NULL;
	*err = NULL;
	if (f->depth == 0) {
		/* Skip whitespace between values. */
		while (f->start < f->len && strchr(" \t\r\n", f->buf[f->start]))
			f->start++;
		/* The rest of a stray stretch already reported: drop it
		 * quietly, so one stretch gives one report however the
		 * reads happen to split it. */
		while (f->skipping && f->start < f->len &&
		       f->buf[f->start] != '{' && f->buf[f->start] != '[')
			f->start++;
		f->scan = f->start;
		if (f->start == f->len)
			return FRAMER_NEED_MORE;
		if (f->buf[f->start] != '{' && f->buf[f->start] != '[') {
			/* Not a JSON-RPC message: drop up to the next value
			 * start so one stray line cannot wedge the stream. */
			size_t i = f->start, q = 0;
			while (i < f->len && f->buf[i] != '{' && f->buf[i] != '[')
				i++;
			/* Quote at most 40 bytes and one line: the text ends
			 * up in a log entry. */
			while (q < 40 && f->start + q < i &&
			       f->buf[f->start + q] != '\n' &&
			       f->buf[f->start + q] != '\r')
				q++;
			*err = xfmt("unexpected data before a JSON value: "
				    "'%.*s'",
				    (int)q, f->buf + f->start);
			reset_scan(f, i);
			f->skipping = true;
			return FRAMER_BAD;
		}
		f->skipping = false;
	}

	for (; f->scan < f->len; f->scan++) {
		char c = f->buf[f->scan];
		if (f->in_str) {
			if (f->esc)
				f->esc = false;
			else if (c == '\\')
				f->esc = true;
			else if (c == '"')
				f->in_str = false;
			continue;
		}
		if (c == '"')
			f->in_str = true;
		else if (c == '{' || c == '[')
			f->depth++;
		else if (c == '}' || c == ']') {
			if (--f->depth == 0) {
				size_t end = f->scan + 1;
				json_error_t jerr;
				json_t *v = json_loadb(f->buf + f->start,
						       end - f->start, 0,
						       &jerr);
				reset_scan(f, end);
				if (!v) {
					*err = xfmt("malformed JSON: %s "
						    "(line %d column %d)",
						    jerr.text, jerr.line,
						    jerr.column);
					return FRAMER_BAD;
				}
				*out = v;
				return FRAMER_MESSAGE;
			}
		}
	}
	return FRAMER_NEED_MORE;
}

struct jsonrpc_conn {
	struct loop *loop;
	int in_fd, out_fd;
	bool close_fds;
	const struct jsonrpc_conn_ops *ops;
	void *arg;
	struct jsonrpc_framer *framer;
	char *out;
	size_t out_len, out_off, out_cap;
	bool reading, paused, out_failed;
	int busy; /* >0 while inside a callback */
	bool free_pending;
	struct loop_timer *resume_timer;
};

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void conn_update_watch(struct jsonrpc_conn *c);
static void conn_io(struct loop *loop, int fd, short rev, void *arg);

static void conn_destroy(struct jsonrpc_conn *c)
{
	if (c->resume_timer)
		loop_cancel_timer(c->loop, c->resume_timer);
	loop_remove_fd(c->loop, c->in_fd);
	if (c->out_fd != c->in_fd)
		loop_remove_fd(c->loop, c->out_fd);
	if (c->close_fds) {
		close(c->in_fd);
		if (c->out_fd != c->in_fd)
			close(c->out_fd);
	}
	jsonrpc_framer_free(c->framer);
	free(c->out);
	free(c);
}

void jsonrpc_conn_free(struct jsonrpc_conn *c)
{
	if (!c)
		return;
	if (c->busy) {
		c->free_pending = true;
		c->reading = false;
		return;
	}
	conn_destroy(c);
}

struct jsonrpc_conn *jsonrpc_conn_new(struct loop *loop, int in_fd,
				      int out_fd, bool close_fds,
				      const struct jsonrpc_conn_ops *ops,
				      void *arg)
{
	struct jsonrpc_conn *c = xzalloc(sizeof(*c));

	c->loop = loop;
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->close_fds = close_fds;
	c->ops = ops;
	c->arg = arg;
	c->framer = jsonrpc_framer_new();
	c->reading = true;
	set_nonblock(in_fd);
	set_nonblock(out_fd);
	if (!loop_add_fd(loop, in_fd, POLLIN, conn_io, c)) {
		/* fd already watched: a programming error in the caller. */
		abort();
	}
	if (out_fd != in_fd && !loop_add_fd(loop, out_fd, 0, conn_io, c))
		abort();
	return c;
}

static void conn_update_watch(struct jsonrpc_conn *c)
{
	bool want_out = c->out_len > c->out_off && !c->out_failed;
	short in_ev = (c->reading && !c->paused) ? POLLIN : 0;

	if (c->in_fd == c->out_fd) {
		loop_set_events(c->loop, c->in_fd,
				in_ev | (want_out ? POLLOUT : 0));
	} else {
		loop_set_events(c->loop, c->in_fd, in_ev);
		loop_set_events(c->loop, c->out_fd, want_out ? POLLOUT : 0);
	}
}

/* Write as much as the fd takes now. */
static void conn_write_some(struct jsonrpc_conn *c)
{
	while (c->out_off < c->out_len && !c->out_failed) {
		ssize_t n = write(c->out_fd, c->out + c->out_off,
				  c->out_len - c->out_off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->out_failed = true;
			break;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	conn_update_watch(c);
}

bool jsonrpc_conn_send_raw(struct jsonrpc_conn *c, const char *data,
			   size_t len)
{
	if (c->out_failed)
		return false;
	if (c->out_off > 0 && c->out_off > c->out_cap / 2) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	xgrow(&c->out, &c->out_cap, c->out_len + len, 1);
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	conn_write_some(c);
	return !c->out_failed;
}

bool jsonrpc_conn_send(struct jsonrpc_conn *c, json_t *msg)
{
	char *s = json_dumps(msg, JSON_COMPACT | JSON_REAL_PRECISION(15));
	bool ok;

	json_decref(msg);
	if (!s)
		return false;
	/* Re-use the allocation: dump + "\n\n" is one append. */
	size_t n = strlen(s);
	s = xrealloc(s, n + 3);
	memcpy(s + n, "\n\n", 3);
	ok = jsonrpc_conn_send_raw(c, s, n + 2);
	free(s);
	return ok;
}

bool jsonrpc_conn_flush(struct jsonrpc_conn *c, int timeout_ms)
{
	while (c->out_len > c->out_off && !c->out_failed) {
		struct pollfd p = {.fd = c->out_fd, .events = POLLOUT};
		if (poll(&p, 1, timeout_ms) <= 0)
			return false;
		conn_write_some(c);
	}
	return !c->out_failed;
}

size_t jsonrpc_conn_queued(const struct jsonrpc_conn *c)
{
	return c->out_len - c->out_off;
}

static void conn_deliver(struct jsonrpc_conn *c);

static void conn_resume(struct loop *loop UNUSED, void *arg)
{
	struct jsonrpc_conn *c = arg;

	c->resume_timer = NULL;
	c->busy++;
	conn_deliver(c);
	c->busy--;
	if (c->free_pending)
		conn_destroy(c);
}

void jsonrpc_conn_pause(struct jsonrpc_conn *c, bool paused)
{
	c->paused = paused;
	conn_update_watch(c);
	/* Messages already buffered when the pause began would otherwise wait
	 * for the next read: deliver them from the loop, not from inside the
	 * caller's stack. */
	if (!paused && !c->resume_timer)
		c->resume_timer = loop_add_timer(c->loop, 0, conn_resume, c);
}

static void conn_deliver(struct jsonrpc_conn *c)
{
	json_t *msg;
	char *err;

	for (;;) {
		if (c->free_pending || c->paused)
			return;
		enum framer_result r = jsonrpc_framer_next(c->framer, &msg,
							   &err);
		if (r == FRAMER_NEED_MORE)
			return;
		if (r == FRAMER_BAD) {
			if (c->ops->on_bad)
				c->ops->on_bad(c, err, c->arg);
			free(err);
			continue;
		}
		c->ops->on_message(c, msg, c->arg);
		json_decref(msg);
	}
}

static void conn_read(struct jsonrpc_conn *c)
{
	char chunk[65536];
	ssize_t n = read(c->in_fd, chunk, sizeof(chunk));

	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		c->reading = false;
		conn_update_watch(c);
		char *e = xfmt("read failed: %s", strerror(errno));
		c->ops->on_close(c, e, c->arg);
		free(e);
		return;
	}
	if (n == 0) {
		size_t left = jsonrpc_framer_pending(c->framer);
		c->reading = false;
		conn_update_watch(c);
		if (left) {
			char *e = xfmt("connection closed inside a message "
				       "(%zu bytes of truncated JSON)", left);
			c->ops->on_close(c, e, c->arg);
			free(e);
		} else {
			c->ops->on_close(c, NULL, c->arg);
		}
		return;
	}
	jsonrpc_framer_feed(c->framer, chunk, (size_t)n);
	conn_deliver(c);
}

static void conn_io(struct loop *loop UNUSED, int fd, short rev, void *arg)
{
	struct jsonrpc_conn *c = arg;

	c->busy++;
	if (fd == c->out_fd && (rev & (POLLOUT | POLLERR)) &&
	    c->out_len > c->out_off)
		conn_write_some(c);
	if (fd == c->in_fd && c->reading && !c->free_pending &&
	    (rev & (POLLIN | POLLHUP | POLLERR)))
		conn_read(c);
	else if (fd == c->out_fd && fd != c->in_fd && (rev & POLLERR))
		c->out_failed = true;
	c->busy--;
	if (c->free_pending && !c->busy)
		conn_destroy(c);
}
