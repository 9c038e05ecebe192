/* Unit tests for common/jsonrpc_io.c.
 *
 * The framer is fed one stream under many random chunkings (fixed-seed
 * PRNG): several messages per chunk, one message over many chunks,
 * whitespace between values, strings holding braces, brackets and escaped
 * quotes, deep nesting, a 10 MB message, malformed input (garbage before a
 * value, invalid JSON inside balanced braces) that is reported and skipped
 * while the stream recovers, and truncated input left pending.
 *
 * struct jsonrpc_conn runs over socketpairs inside a struct loop: what it
 * writes ends in "\n\n", large writes finish through partial non-blocking
 * writes, EOF gives on_close(NULL), EOF inside a message gives an error. */
#include "common/clock.h"
#include "common/jsonrpc_io.h"
#include "common/loop.h"
#include "tests/check.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static uint64_t prng_state;

static uint64_t prng(void)
{
	uint64_t z = (prng_state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* One item of a test stream: the text fed, and what the framer must
 * produce for it (the expected value as JSON text, or NULL for FRAMER_BAD).
 */
struct item {
	const char *text;
	const char *want; /* NULL: a FRAMER_BAD report */
};

/* Values chosen to trip a naive scanner: braces and brackets inside
 * strings, escaped quotes and backslashes, nesting, unicode escapes. */
static const struct item good_items[] = {
	{"{}", "{}"},
	{"[]", "[]"},
	{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"getinfo\",\"params\":{}}",
	 NULL},
	{"{\"s\":\"}}}]]]{{{[[[\"}", NULL},
	{"{\"s\":\"a \\\"quoted\\\" } brace\"}", NULL},
	{"{\"s\":\"backslash at end \\\\\",\"t\":\"{\"}", NULL},
	{"{\"s\":\"\\\\\\\"}\\\\\"}", NULL},
	{"[1,[2,[3,[4,[5,{\"a\":[6,{\"b\":{}}]}]]]]]", NULL},
	{"{\"u\":\"\\u007b\\u005d caf\\u00e9 \xc3\xa9\"}", NULL},
	{"{ \"spaced\" : [ 1 , 2 , { \"x\" : null } ] , \"t\" : true }", NULL},
	{"{\"n\":-1.5e3,\"big\":9223372036854775807,\"f\":false}", NULL},
	{"[\"]\",\"[\",\"}\",\"{\",\"\\\"\"]", NULL},
};

static char *json_canon(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
	char *s;
	if (!v) {
		printf("# test bug: cannot parse %s: %s\n", text, e.text);
		abort();
	}
	s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	json_decref(v);
	return s;
}

static char *dump_sorted(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

/* Build a stream of @n items drawn from good_items with random
 * whitespace between them; @want[i] receives item i's canonical form. */
static char *build_stream(size_t n, char **want, size_t *len)
{
	static const char *const ws[] = {"", " ", "\n", "\n\n", "\r\n",
					 "\t \n  "};
	size_t cap = 1 << 16, used = 0;
	char *buf = malloc(cap);

	for (size_t i = 0; i < n; i++) {
		const struct item *it =
			&good_items[prng() % (sizeof(good_items) /
					      sizeof(good_items[0]))];
		const char *sep = ws[prng() % (sizeof(ws) / sizeof(ws[0]))];
		size_t need = strlen(it->text) + strlen(sep) + 1;
		if (used + need > cap) {
			cap = (used + need) * 2;
			buf = realloc(buf, cap);
		}
		memcpy(buf + used, it->text, strlen(it->text));
		used += strlen(it->text);
		memcpy(buf + used, sep, strlen(sep));
		used += strlen(sep);
		want[i] = json_canon(it->want ? it->want : it->text);
	}
	*len = used;
	return buf;
}

/* Feed @buf in chunks whose sizes come from @chunk_max (1..chunk_max
 * each), taking every value after each chunk. Returns the number of
 * mismatches; prints the first few. */
static int feed_and_compare(const char *buf, size_t len, size_t chunk_max,
			    char **want, size_t nwant, size_t *maxchunks)
{
	struct jsonrpc_framer *f = jsonrpc_framer_new();
	size_t off = 0, got = 0, chunks = 0;
	int bad = 0;

	while (off < len) {
		size_t n = 1 + prng() % chunk_max;
		json_t *v;
		char *err;
		enum framer_result r;

		if (n > len - off)
			n = len - off;
		jsonrpc_framer_feed(f, buf + off, n);
		off += n;
		chunks++;
		while ((r = jsonrpc_framer_next(f, &v, &err)) !=
		       FRAMER_NEED_MORE) {
			if (r == FRAMER_BAD) {
				if (bad++ < 3)
					printf("# chunk_max %zu: unexpected "
					       "FRAMER_BAD: %s\n",
					       chunk_max, err);
				free(err);
				continue;
			}
			char *s = dump_sorted(v);
			if (got >= nwant || strcmp(s, want[got]) != 0) {
				if (bad++ < 3)
					printf("# chunk_max %zu: value %zu "
					       "got %s want %s\n",
					       chunk_max, got, s,
					       got < nwant ? want[got] : "-");
			}
			free(s);
			json_decref(v);
			got++;
		}
	}
	if (got != nwant) {
		printf("# chunk_max %zu: got %zu values, want %zu\n", chunk_max,
		       got, nwant);
		bad++;
	}
	if (jsonrpc_framer_pending(f) != 0) {
		printf("# chunk_max %zu: %zu bytes pending at the end\n",
		       chunk_max, jsonrpc_framer_pending(f));
		bad++;
	}
	if (maxchunks)
		*maxchunks = chunks;
	jsonrpc_framer_free(f);
	return bad;
}

static void test_random_chunks(void)
{
	enum { N = 400 };
	static const size_t chunk_maxes[] = {1, 2, 3, 7, 16, 64, 500, 100000};
	char *want[N];
	size_t len, chunks;
	char *stream;

	prng_state = 0xC0FFEE;
	stream = build_stream(N, want, &len);
	for (size_t k = 0; k < sizeof(chunk_maxes) / sizeof(chunk_maxes[0]);
	     k++) {
		/* Several chunkings per chunk size. */
		int bad = 0;
		for (int rep = 0; rep < 5; rep++)
			bad += feed_and_compare(stream, len, chunk_maxes[k],
						want, N, &chunks);
		CHECK_EQ_INT(bad, 0,
			     "%d values over a %zu-byte stream in chunks of "
			     "1..%zu bytes (%zu chunks last time)",
			     N, len, chunk_maxes[k], chunks);
	}
	/* The whole stream as one chunk: many messages in one feed. */
	{
		struct jsonrpc_framer *f = jsonrpc_framer_new();
		json_t *v;
		char *err;
		size_t got = 0;
		int bad = 0;
		jsonrpc_framer_feed(f, stream, len);
		while (jsonrpc_framer_next(f, &v, &err) == FRAMER_MESSAGE) {
			char *s = dump_sorted(v);
			bad += strcmp(s, want[got]) != 0;
			free(s);
			json_decref(v);
			got++;
		}
		CHECK(got == N && bad == 0,
		      "whole stream in one feed: %zu values, %d wrong", got,
		      bad);
		jsonrpc_framer_free(f);
	}
	for (size_t i = 0; i < N; i++)
		free(want[i]);
	free(stream);
}

/* One message split across many feeds, value returned only after the
 * last byte; then a value that ends exactly at a chunk boundary. */
static void test_split_message(void)
{
	const char *msg = "{\"a\":\"}\",\"b\":[{\"c\":\"\\\"]\"}]}";
	struct jsonrpc_framer *f = jsonrpc_framer_new();
	size_t n = strlen(msg);
	int early = 0;
	json_t *v;
	char *err;

	for (size_t i = 0; i + 1 < n; i++) {
		jsonrpc_framer_feed(f, msg + i, 1);
		if (jsonrpc_framer_next(f, &v, &err) != FRAMER_NEED_MORE)
			early++;
		if (jsonrpc_framer_pending(f) != i + 1)
			early++;
	}
	CHECK_EQ_INT(early, 0,
		     "byte-at-a-time: no value before the last byte, pending "
		     "counts every buffered byte");
	jsonrpc_framer_feed(f, msg + n - 1, 1);
	CHECK(jsonrpc_framer_next(f, &v, &err) == FRAMER_MESSAGE,
	      "value complete after the last byte");
	CHECK_EQ_STR(json_string_value(json_object_get(
			     json_array_get(json_object_get(v, "b"), 0), "c")),
		     "\"]", "content of the split value");
	json_decref(v);
	CHECK_EQ_INT(jsonrpc_framer_pending(f), 0, "nothing pending after it");
	CHECK(jsonrpc_framer_next(f, &v, &err) == FRAMER_NEED_MORE,
	      "then NEED_MORE");
	/* Only whitespace buffered: not pending (a clean EOF). */
	jsonrpc_framer_feed(f, "\n\n \t\r\n", 6);
	CHECK_EQ_INT(jsonrpc_framer_pending(f), 0,
		     "whitespace alone is not pending");
	CHECK(jsonrpc_framer_next(f, &v, &err) == FRAMER_NEED_MORE,
	      "whitespace alone gives NEED_MORE");
	jsonrpc_framer_free(f);
	jsonrpc_framer_free(NULL);
}

static void test_huge_message(void)
{
	/* ~10 MB: an array of 100k objects with strings holding brackets,
	 * fed in 64 KiB chunks the way a socket read delivers it. */
	const size_t target = 10 * 1024 * 1024;
	size_t cap = target + 4096, len = 0, count = 0;
	char *buf = malloc(cap);
	struct jsonrpc_framer *f = jsonrpc_framer_new();
	json_t *v = NULL;
	char *err = NULL;
	int premature = 0;
	enum framer_result r = FRAMER_NEED_MORE;

	len += (size_t)sprintf(buf, "{\"jsonrpc\":\"2.0\",\"id\":\"big\","
				    "\"result\":{\"forwards\":[");
	while (len < target) {
		len += (size_t)sprintf(buf + len,
				       "%s{\"in_channel\":\"%zux1x0\","
				       "\"note\":\"[{\\\"%zu\\\"}]\","
				       "\"created_index\":%zu}",
				       count ? "," : "", count, count, count);
		count++;
	}
	len += (size_t)sprintf(buf + len, "]}}\n\n");

	for (size_t off = 0; off < len; off += 65536) {
		size_t n = len - off < 65536 ? len - off : 65536;
		jsonrpc_framer_feed(f, buf + off, n);
		r = jsonrpc_framer_next(f, &v, &err);
		if (r != FRAMER_NEED_MORE && off + n < len - 2)
			premature++;
		if (r != FRAMER_NEED_MORE)
			break;
	}
	CHECK_EQ_INT(premature, 0, "no value before the 10 MB message ends");
	CHECK(r == FRAMER_MESSAGE, "10 MB (%zu bytes) message framed", len);
	if (r == FRAMER_MESSAGE) {
		json_t *arr = json_object_get(json_object_get(v, "result"),
					      "forwards");
		json_t *last = json_array_get(arr, count - 1);
		CHECK_EQ_INT(json_array_size(arr), count,
			     "all %zu entries present", count);
		CHECK_EQ_INT(json_integer_value(
				     json_object_get(last, "created_index")),
			     count - 1, "last entry intact");
		json_decref(v);
	} else {
		free(err);
	}
	CHECK_EQ_INT(jsonrpc_framer_pending(f), 0,
		     "only the trailing newlines remain");
	jsonrpc_framer_free(f);
	free(buf);
}

/* @s with newlines shown as \n, for one-line TAP descriptions. */
static void printable(char *out, size_t outlen, const char *s)
{
	size_t o = 0;
	for (; *s && o + 3 < outlen; s++) {
		if (*s == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *s;
		}
	}
	out[o] = '\0';
}

/* Malformed input is reported once per bad stretch and the good values
 * around it still come out, under every chunking. */
static void test_malformed(void)
{
	static const struct item stream[] = {
		{"{\"ok\":1}", "{\"ok\":1}"},
		{"garbage here\n", NULL},
		{"{\"ok\":2}", "{\"ok\":2}"},
		/* Balanced braces, invalid JSON inside. */
		{"{\"jsonrpc\": \"2.0\", bad}", NULL},
		{"\n\n{\"ok\":3}", "{\"ok\":3}"},
		{"{\"a\":1,}", NULL},
		{"[1 2]", NULL},
		/* Mismatched closers still balance in depth. */
		{"{\"x\":[1}]", NULL},
		{"{\"ok\":4}", "{\"ok\":4}"},
		/* Stray closers and a bare scalar at top level. */
		{"}]} 42 \"str\" true", NULL},
		{"{\"ok\":5}", "{\"ok\":5}"},
	};
	enum { N = sizeof(stream) / sizeof(stream[0]) };
	char all[1024] = "";
	size_t len;

	for (size_t i = 0; i < N; i++)
		strcat(all, stream[i].text);
	len = strlen(all);

	prng_state = 77;
	for (size_t chunk_max = 1; chunk_max <= len; chunk_max *= 2) {
		for (int rep = 0; rep < 8; rep++) {
			struct jsonrpc_framer *f = jsonrpc_framer_new();
			char got[1024] = "";
			char firsterr[200] = "";
			size_t off = 0;
			while (off < len) {
				size_t n = 1 + prng() % chunk_max;
				json_t *v;
				char *err;
				enum framer_result r;
				if (n > len - off)
					n = len - off;
				jsonrpc_framer_feed(f, all + off, n);
				off += n;
				while ((r = jsonrpc_framer_next(f, &v, &err)) !=
				       FRAMER_NEED_MORE) {
					if (r == FRAMER_BAD) {
						strcat(got, "BAD ");
						if (!firsterr[0])
							snprintf(firsterr,
								 sizeof(firsterr),
								 "%s", err);
						free(err);
					} else {
						char *s = dump_sorted(v);
						strcat(got, s);
						strcat(got, " ");
						free(s);
						json_decref(v);
					}
				}
			}
			if (rep == 0 && (chunk_max == 1 || chunk_max >= len / 2))
				CHECK_EQ_STR(got,
					     "{\"ok\":1} BAD {\"ok\":2} BAD "
					     "{\"ok\":3} BAD BAD BAD {\"ok\":4} "
					     "BAD {\"ok\":5} ",
					     "malformed stream, chunks of "
					     "1..%zu",
					     chunk_max);
			else if (strcmp(got, "{\"ok\":1} BAD {\"ok\":2} BAD "
					     "{\"ok\":3} BAD BAD BAD {\"ok\":4} "
					     "BAD {\"ok\":5} ") != 0)
				CHECK(false, "malformed stream, chunks 1..%zu "
				      "rep %d: %s",
				      chunk_max, rep, got);
			if (jsonrpc_framer_pending(f) != 0)
				CHECK(false, "pending after malformed stream");
			jsonrpc_framer_free(f);
		}
	}

	/* The report quotes the stray bytes it dropped. */
	{
		struct jsonrpc_framer *f = jsonrpc_framer_new();
		enum framer_result r;
		json_t *v;
		char *err = NULL;
		char shown[128];
		jsonrpc_framer_feed(f, "garbage here\n{\"b\":2}", 21);
		r = jsonrpc_framer_next(f, &v, &err);
		printable(shown, sizeof(shown), err ? err : "(none)");
		CHECK(r == FRAMER_BAD && err && strstr(err, "'garbage here"),
		      "garbage reported with its text: %s", shown);
		free(err);
		CHECK(jsonrpc_framer_next(f, &v, &err) == FRAMER_MESSAGE &&
			      json_integer_value(json_object_get(v, "b")) == 2,
		      "the value after the garbage is intact");
		json_decref(v);
		jsonrpc_framer_free(f);
	}

	/* Invalid JSON inside braces gives a parse error text. */
	{
		struct jsonrpc_framer *f = jsonrpc_framer_new();
		json_t *v;
		char *err = NULL;
		jsonrpc_framer_feed(f, "{\"a\" 1}{\"b\":2}", 15);
		CHECK(jsonrpc_framer_next(f, &v, &err) == FRAMER_BAD &&
			      err && strstr(err, "malformed JSON"),
		      "invalid object reported: %s", err ? err : "(none)");
		free(err);
		CHECK(jsonrpc_framer_next(f, &v, &err) == FRAMER_MESSAGE &&
			      json_integer_value(json_object_get(v, "b")) == 2,
		      "next value after it is intact");
		json_decref(v);
		jsonrpc_framer_free(f);
	}
}

struct trunc_case {
	const char *text;
	size_t pending; /* expected jsonrpc_framer_pending() */
};

static void test_truncated(void)
{
	static const struct trunc_case cases[] = {
		{"{", 1},
		{"{\"a\":", 5},
		{"{\"a\":\"}", 7},	   /* brace inside an open string */
		{"{\"a\":\"\\\"}", 9}, /* escaped quote, string still open */
		{"[[[]]", 5},
		{"{\"ok\":1}\n\n{\"next\":[1,2", 12},
		{"{\"ok\":1}   \n", 0},
		{"{\"ok\":1}\n  {", 1}, /* leading blanks are not pending */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct trunc_case *c = &cases[i];
		struct jsonrpc_framer *f = jsonrpc_framer_new();
		char name[64];
		json_t *v;
		char *err;
		enum framer_result r;
		int values = 0;

		printable(name, sizeof(name), c->text);
		jsonrpc_framer_feed(f, c->text, strlen(c->text));
		while ((r = jsonrpc_framer_next(f, &v, &err)) == FRAMER_MESSAGE) {
			json_decref(v);
			values++;
		}
		if (r == FRAMER_BAD)
			free(err);
		CHECK(r == FRAMER_NEED_MORE, "'%s': ends in NEED_MORE", name);
		CHECK_EQ_INT(jsonrpc_framer_pending(f), c->pending,
			     "'%s': pending bytes", name);
		jsonrpc_framer_free(f);
	}
}

/* --- jsonrpc_conn over socketpairs --- */

struct side {
	const char *name;
	struct jsonrpc_conn *conn;
	json_t *msgs; /* array of received values */
	int bad, closes;
	char *close_err;
	bool free_on_close;
};

static void on_msg(struct jsonrpc_conn *c, json_t *msg, void *arg)
{
	struct side *s = arg;
	json_array_append(s->msgs, msg);
}

static void on_bad(struct jsonrpc_conn *c, const char *err, void *arg)
{
	struct side *s = arg;
	s->bad++;
}

static void on_close(struct jsonrpc_conn *c, const char *err, void *arg)
{
	struct side *s = arg;
	s->closes++;
	free(s->close_err);
	s->close_err = err ? strdup(err) : NULL;
	if (s->free_on_close) {
		/* Freeing from inside the conn's own callback is allowed. */
		jsonrpc_conn_free(c);
		s->conn = NULL;
	}
}

static const struct jsonrpc_conn_ops side_ops = {
	.on_message = on_msg, .on_bad = on_bad, .on_close = on_close};

static void side_init(struct side *s, const char *name)
{
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->msgs = json_array();
}

static void side_clear(struct side *s)
{
	json_decref(s->msgs);
	free(s->close_err);
	s->close_err = NULL;
	s->msgs = NULL;
}

/* Run the loop until @done(arg) or @max_passes, each pass waiting at most
 * one second: the bound turns a hang into a failure, it is not a delay. */
static bool run_until(struct loop *loop, bool (*done)(void *), void *arg,
		      int max_passes)
{
	for (int i = 0; i < max_passes && !done(arg); i++)
		if (!loop_run_once(loop, 1000))
			break;
	return done(arg);
}

struct want_msgs {
	struct side *s;
	size_t n;
};

static bool have_msgs(void *arg)
{
	struct want_msgs *w = arg;
	return json_array_size(w->s->msgs) >= w->n;
}

static bool have_close(void *arg)
{
	return ((struct side *)arg)->closes > 0;
}

static void test_conn_basic(void)
{
	struct clock *clk = clock_new();
	struct loop *loop = loop_new(clk);
	int sv[2];
	struct side raw_reader;
	struct jsonrpc_conn *c;
	char buf[256];
	ssize_t n;
	size_t got = 0;

	/* What a conn writes, read raw from the other end. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	side_init(&raw_reader, "writer");
	c = jsonrpc_conn_new(loop, sv[0], sv[0], true, &side_ops, &raw_reader);
	CHECK(jsonrpc_conn_send(c, json_pack("{s:s,s:i}", "method", "ping",
					     "id", 7)),
	      "send a small message");
	CHECK(jsonrpc_conn_send_raw(c, "{\"raw\":true}\n\n", 14),
	      "send raw bytes");
	CHECK(jsonrpc_conn_send(c, json_pack("[s]", "a\nb")),
	      "send a value with an escaped newline");
	CHECK_EQ_INT(jsonrpc_conn_queued(c), 0,
		     "small writes go straight to the socket");
	while (got < sizeof(buf) - 1) {
		struct pollfd p = {.fd = sv[1], .events = POLLIN};
		if (poll(&p, 1, 1000) <= 0)
			break;
		n = read(sv[1], buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		if (got >= 58)
			break;
	}
	buf[got] = '\0';
	CHECK_EQ_STR(buf,
		     "{\"method\":\"ping\",\"id\":7}\n\n{\"raw\":true}\n\n"
		     "[\"a\\nb\"]\n\n",
		     "compact JSON, each message followed by \\n\\n");

	/* Messages in, including one split across writes and garbage. */
	{
		const char *part1 = "{\"a\":1}\n\n{\"b\":\"}";
		const char *part2 = "\"}\n\nnoise {\"c\":[1,2]}\n\n";
		struct want_msgs w = {.s = &raw_reader, .n = 3};
		if (write(sv[1], part1, strlen(part1)) != (ssize_t)strlen(part1))
			abort();
		(void)loop_run_once(loop, 1000);
		CHECK_EQ_INT(json_array_size(raw_reader.msgs), 1,
			     "first complete message delivered alone");
		if (write(sv[1], part2, strlen(part2)) != (ssize_t)strlen(part2))
			abort();
		CHECK(run_until(loop, have_msgs, &w, 10),
		      "three messages delivered");
		CHECK_EQ_STR(json_string_value(json_object_get(
				     json_array_get(raw_reader.msgs, 1), "b")),
			     "}", "split message content");
		CHECK_EQ_INT(raw_reader.bad, 1, "garbage reported via on_bad");
	}

	/* Clean EOF: on_close(NULL). */
	close(sv[1]);
	CHECK(run_until(loop, have_close, &raw_reader, 10), "EOF seen");
	CHECK(raw_reader.closes == 1 && raw_reader.close_err == NULL,
	      "clean EOF gives on_close(NULL) (err %s)",
	      raw_reader.close_err ? raw_reader.close_err : "NULL");
	/* Nothing more: the conn stopped reading. */
	(void)loop_run_once(loop, 0);
	CHECK_EQ_INT(raw_reader.closes, 1, "on_close called once");
	jsonrpc_conn_free(c);
	side_clear(&raw_reader);

	/* Truncated EOF: an error naming the truncation. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	side_init(&raw_reader, "trunc");
	raw_reader.free_on_close = true;
	raw_reader.conn = jsonrpc_conn_new(loop, sv[0], sv[0], true, &side_ops,
					   &raw_reader);
	if (write(sv[1], "{\"ok\":1}\n\n{\"cut\":", 17) != 17)
		abort();
	close(sv[1]);
	CHECK(run_until(loop, have_close, &raw_reader, 10), "truncated EOF");
	CHECK_EQ_INT(json_array_size(raw_reader.msgs), 1,
		     "the complete message before the cut was delivered");
	CHECK(raw_reader.close_err &&
		      strstr(raw_reader.close_err, "truncated") &&
		      strstr(raw_reader.close_err, "7 bytes"),
	      "truncated EOF error: %s",
	      raw_reader.close_err ? raw_reader.close_err : "NULL");
	CHECK(raw_reader.conn == NULL, "conn freed inside on_close");
	side_clear(&raw_reader);

	loop_free(loop);
	clock_free(clk);
}

/* Two conns talking in one loop; a 4 MB message cannot fit the socket
 * buffer, so the writer must finish it from POLLOUT callbacks. */
static void test_conn_large(void)
{
	struct clock *clk = clock_new();
	struct loop *loop = loop_new(clk);
	int sv[2], sndbuf = 0;
	socklen_t sl = sizeof(sndbuf);
	struct side a, b;
	const size_t big = 4 * 1024 * 1024;
	char *payload = malloc(big + 1);
	struct want_msgs w = {.s = &b, .n = 3};
	size_t queued;

	for (size_t i = 0; i < big; i++)
		payload[i] = "abcdefghijklmnopqrstuvwxyz{}[]\"\\"[i % 32];
	payload[big] = '\0';

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl);
	side_init(&a, "a");
	side_init(&b, "b");
	a.conn = jsonrpc_conn_new(loop, sv[0], sv[0], true, &side_ops, &a);
	b.conn = jsonrpc_conn_new(loop, sv[1], sv[1], true, &side_ops, &b);

	CHECK(jsonrpc_conn_send(a.conn, json_pack("{s:i}", "seq", 1)),
	      "queue seq 1");
	CHECK(jsonrpc_conn_send(a.conn, json_pack("{s:i,s:s}", "seq", 2,
						  "payload", payload)),
	      "queue the 4 MB message");
	CHECK(jsonrpc_conn_send(a.conn, json_pack("{s:i}", "seq", 3)),
	      "queue seq 3 behind it");
	queued = jsonrpc_conn_queued(a.conn);
	{
		/* The escaped payload is longer than the raw one. */
		json_t *m = json_pack("{s:i,s:s}", "seq", 2, "payload", payload);
		char *s = json_dumps(m, JSON_COMPACT);
		size_t total = strlen(s) + 2 + strlen("{\"seq\":3}\n\n");
		CHECK(queued > 0 && queued < total,
		      "partial write: %zu of %zu bytes still queued (socket "
		      "buffer %d)",
		      queued, total, sndbuf);
		free(s);
		json_decref(m);
	}
	CHECK(run_until(loop, have_msgs, &w, 2000),
	      "all three messages arrive (%zu)", json_array_size(b.msgs));
	CHECK_EQ_INT(jsonrpc_conn_queued(a.conn), 0, "writer queue drained");
	if (json_array_size(b.msgs) == 3) {
		json_t *m2 = json_array_get(b.msgs, 1);
		const char *p = json_string_value(json_object_get(m2, "payload"));
		CHECK(p && strlen(p) == big && memcmp(p, payload, big) == 0,
		      "4 MB payload intact");
		CHECK(json_integer_value(json_object_get(
			      json_array_get(b.msgs, 0), "seq")) == 1 &&
			      json_integer_value(json_object_get(
				      json_array_get(b.msgs, 2), "seq")) == 3,
		      "order preserved");
	}

	/* Flush: a blocking drain of a large queue while the peer reads
	 * from the same loop is impossible, so flush a queue the peer
	 * buffer can take. */
	CHECK(jsonrpc_conn_send(a.conn, json_pack("{s:i}", "seq", 4)),
	      "send seq 4");
	CHECK(jsonrpc_conn_flush(a.conn, 1000), "flush succeeds");
	CHECK_EQ_INT(jsonrpc_conn_queued(a.conn), 0, "nothing queued after flush");

	/* Pause: data arrives but is not delivered until resumed. */
	{
		struct want_msgs w5 = {.s = &b, .n = 5};
		jsonrpc_conn_pause(b.conn, true);
		(void)loop_run_once(loop, 50);
		(void)loop_run_once(loop, 50);
		CHECK_EQ_INT(json_array_size(b.msgs), 3,
			     "paused: seq 4 not delivered");
		CHECK(jsonrpc_conn_send(a.conn, json_pack("{s:i}", "seq", 5)),
		      "send seq 5 while paused");
		jsonrpc_conn_pause(b.conn, false);
		CHECK_EQ_INT(json_array_size(b.msgs), 3,
			     "resume does not deliver from inside the call");
		CHECK(run_until(loop, have_msgs, &w5, 10),
		      "resumed: seq 4 and 5 delivered");
		CHECK_EQ_INT(json_integer_value(json_object_get(
				     json_array_get(b.msgs, 4), "seq")),
			     5, "in order");
	}

	/* The peer goes away: sending eventually fails instead of
	 * raising SIGPIPE or blocking. */
	{
		bool ok = true;
		jsonrpc_conn_free(b.conn);
		b.conn = NULL;
		for (int i = 0; i < 100 && ok; i++) {
			ok = jsonrpc_conn_send(a.conn, json_pack("{s:i}", "x", i));
			(void)loop_run_once(loop, 10);
		}
		CHECK(!ok, "send to a closed peer reports failure");
		CHECK(!jsonrpc_conn_send_raw(a.conn, "{}", 2),
		      "and keeps failing");
	}
	jsonrpc_conn_free(a.conn);
	side_clear(&a);
	side_clear(&b);
	free(payload);
	loop_free(loop);
	clock_free(clk);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* A peer closing must turn into EPIPE, not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	test_random_chunks();
	test_split_message();
	test_huge_message();
	test_malformed();
	test_truncated();
	test_conn_basic();
	test_conn_large();
	return check_done();
}
