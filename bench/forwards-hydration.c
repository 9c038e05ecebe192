/* Forward store at scale: hydrate cl-revenue-ops from a lightningd that
 * holds a million forwards, and measure how long it takes and how much
 * memory the plugin uses.
 *
 *   build/bench/forwards-hydration [PLUGIN] [N]
 *
 * Plays lightningd: runs the real plugin binary with the plugin protocol,
 * serves lightning-rpc with listforwards pages (index/start/limit, as
 * v23.11+) generated on the fly, and polls revenue-status until the
 * plugin reports N stored forwards. Targets: hydration of 1,000,000
 * forwards in under 20 s; plugin resident memory under 64 MB. */
#include "common/clock.h"
#include "common/json_util.h"
#include "common/jsonrpc_io.h"
#include "common/loop.h"
#include "common/util.h"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NCHANS 200

static uint64_t b_start;

struct bench {
	struct loop *loop;
	uint64_t total;
	int listen_fd;
	struct jsonrpc_conn *plugin;
	pid_t pid;
	int next_id;
	bool init_done;
	int64_t stored;
	bool status_pending;
	double t_init, t_done;
	uint64_t served;
};

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Forward number i (1-based created_index), deterministic. */
static json_t *forward(uint64_t i)
{
	char in[32], out[32];
	uint64_t a = i % NCHANS, b = (i * 7 + 3) % NCHANS;
	uint64_t amt = 10000000 + (i * 7919) % 500000000;
	/* The last 30 days (inside the default retention), 2.5 s apart. */
	double t = (double)b_start + (double)i * 2.5;

	if (b == a)
		b = (b + 1) % NCHANS;
	snprintf(in, sizeof(in), "800000x%llux0", (unsigned long long)a + 1);
	snprintf(out, sizeof(out), "800000x%llux0", (unsigned long long)b + 1);
	return json_pack("{s:I,s:s,s:I,s:I,s:s,s:I,s:I,s:I,s:s,s:s,s:f,s:f,"
			 "s:I}",
			 "created_index", (json_int_t)i, "in_channel", in,
			 "in_htlc_id", (json_int_t)(i / NCHANS), "in_msat",
			 (json_int_t)(amt + amt / 1000), "out_channel", out,
			 "out_htlc_id", (json_int_t)(i / NCHANS), "out_msat",
			 (json_int_t)amt, "fee_msat", (json_int_t)(amt / 1000),
			 "status", "settled", "style", "tlv", "received_time",
			 t, "resolved_time", t + 1.5, "updated_index",
			 (json_int_t)i);
}

static json_t *listforwards(struct bench *b, const json_t *params)
{
	const char *index = json_str(params, "index");
	uint64_t start = 0, limit = 1000;
	json_t *arr = json_array();

	json_get_u64(params, "start", &start);
	json_get_u64(params, "limit", &limit);
	if (start == 0)
		start = 1;
	/* Both indexes count the same forwards here. */
	(void)index;
	for (uint64_t i = start; i < start + limit && i <= b->total; i++) {
		json_array_append_new(arr, forward(i));
		b->served++;
	}
	return json_pack("{s:o}", "forwards", arr);
}

static void on_rpc(struct jsonrpc_conn *c, json_t *msg, void *arg)
{
	struct bench *b = arg;
	const char *m = json_str(msg, "method");
	json_t *id = json_object_get(msg, "id");
	json_t *res;

	if (!m || !id)
		return;
	if (!strcmp(m, "listforwards"))
		res = listforwards(b, json_object_get(msg, "params"));
	else
		res = json_object();
	jsonrpc_conn_send(c, json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id",
				       id, "result", res));
}

static void on_rpc_close(struct jsonrpc_conn *c, const char *err, void *arg)
{
	jsonrpc_conn_free(c);
	(void)err;
	(void)arg;
}

static const struct jsonrpc_conn_ops rpc_ops = {
	.on_message = on_rpc, .on_close = on_rpc_close};

static void on_accept(struct loop *loop, int fd, short rev, void *arg)
{
	int c = accept(fd, NULL, NULL);
	if (c >= 0)
		jsonrpc_conn_new(loop, c, c, true, &rpc_ops, arg);
	(void)rev;
}

static void send_req(struct bench *b, const char *method, json_t *params)
{
	jsonrpc_conn_send(b->plugin,
			  json_pack("{s:s,s:i,s:s,s:o}", "jsonrpc", "2.0", "id",
				    ++b->next_id, "method", method, "params",
				    params));
}

static void on_plugin(struct jsonrpc_conn *c, json_t *msg, void *arg)
{
	struct bench *b = arg;
	const json_t *res = json_object_get(msg, "result");
	int64_t id;

	if (!json_get_i64(msg, "id", &id))
		return; /* log notifications */
	if (id == 1) { /* getmanifest */
		send_req(b, "init",
			 json_pack("{s:{},s:{s:s,s:s,s:b,s:s}}", "options",
				   "configuration", "lightning-dir", ".",
				   "rpc-file", "lightning-rpc", "startup", 1,
				   "network", "regtest"));
		b->t_init = now_s();
	} else if (id == 2) {
		if (json_object_get(res, "disable")) {
			fprintf(stderr, "plugin disabled itself: %s\n",
				json_str(res, "disable"));
			loop_stop(b->loop, 1);
		}
		b->init_done = true;
	} else {
		b->status_pending = false;
		json_get_i64(json_object_get(res, "forwards"), "stored",
			     &b->stored);
		if (b->stored >= (int64_t)b->total) {
			b->t_done = now_s();
			loop_stop(b->loop, 0);
		}
	}
	(void)c;
}

static void on_plugin_close(struct jsonrpc_conn *c, const char *err,
			    void *arg)
{
	fprintf(stderr, "plugin exited early%s%s\n", err ? ": " : "",
		err ? err : "");
	loop_stop(((struct bench *)arg)->loop, 1);
	(void)c;
}

static const struct jsonrpc_conn_ops plugin_ops = {
	.on_message = on_plugin, .on_close = on_plugin_close};

static void poll_status(struct loop *loop, void *arg)
{
	struct bench *b = arg;
	if (b->init_done && !b->status_pending) {
		b->status_pending = true;
		send_req(b, "revenue-status", json_object());
	}
	loop_add_timer(loop, 100, poll_status, b);
}

static long status_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			sscanf(line + strlen(field), "%ld", &v);
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	const char *plugin = argc > 1 ? argv[1] : "build/cl-revenue-ops";
	struct bench b = {.total = argc > 2 ? strtoull(argv[2], NULL, 10)
					    : 1000000};
	char dir[] = "/tmp/hive-bench-fwd-XXXXXX", path[256];
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct clock *clk = clock_new();
	int in[2], out[2], rc;
	char *abs_plugin = realpath(plugin, NULL);

	signal(SIGPIPE, SIG_IGN);
	b_start = (uint64_t)time(NULL) - (uint64_t)((double)b.total * 2.5) - 60;
	if (!abs_plugin || !mkdtemp(dir) || chdir(dir) != 0) {
		fprintf(stderr, "setup failed: %s\n", strerror(errno));
		return 1;
	}
	b.loop = loop_new(clk);
	snprintf(path, sizeof(path), "%s/lightning-rpc", dir);
	strcpy(addr.sun_path, path);
	b.listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(b.listen_fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(b.listen_fd, 4) ||
	    !loop_add_fd(b.loop, b.listen_fd, POLLIN, on_accept, &b)) {
		fprintf(stderr, "listen: %s\n", strerror(errno));
		return 1;
	}
	if (pipe(in) || pipe(out))
		return 1;
	b.pid = fork();
	if (b.pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(abs_plugin, abs_plugin, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	b.plugin = jsonrpc_conn_new(b.loop, out[0], in[1], true, &plugin_ops,
				    &b);
	send_req(&b, "getmanifest", json_object());
	loop_add_timer(b.loop, 100, poll_status, &b);
	rc = loop_run(b.loop);

	long rss = status_kb(b.pid, "VmRSS:"), hwm = status_kb(b.pid, "VmHWM:");
	printf("forwards hydrated: %lld of %llu (served %llu)\n",
	       (long long)b.stored, (unsigned long long)b.total,
	       (unsigned long long)b.served);
	if (rc == 0) {
		double s = b.t_done - b.t_init;
		printf("hydration time:    %.2f s (%.0f forwards/s)   target < 20 "
		       "s: %s\n",
		       s, (double)b.total / s, s < 20 ? "met" : "NOT MET");
		printf("plugin memory:     %.1f MB resident now, %.1f MB peak   "
		       "target < 64 MB: %s\n",
		       rss / 1024.0, hwm / 1024.0,
		       hwm >= 0 && hwm < 64 * 1024 ? "met" : "NOT MET");
	}
	kill(b.pid, SIGTERM);
	waitpid(b.pid, NULL, 0);
	jsonrpc_conn_free(b.plugin);
	loop_free(b.loop);
	clock_free(clk);
	free(abs_plugin);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return rc;
}
