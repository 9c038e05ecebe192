/* hive-sim: command line.
 *
 *   hive-sim serve SCENARIO.json [--dir DIR] [options]
 *   hive-sim cli [--dir DIR] NODE METHOD [PARAMS...]
 *   hive-sim run SCENARIO.json [--days N] [--seed S] [--out DIR] ...
 */
#include "common/jsonrpc_io.h"
#include "common/loop.h"
#include "common/util.h"
#include "sim/compare.h"
#include "sim/keys.h"
#include "sim/lightningd.h"
#include "sim/net.h"
#include "sim/payments.h"
#include "sim/run.h"
#include "sim/scenario.h"
#include "sim/sim.h"
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint64_t wall_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static const char *default_dir(void)
{
	const char *d = getenv("HIVE_SIM_DIR");
	static char buf[64];
	if (d)
		return d;
	snprintf(buf, sizeof(buf), "/tmp/hive-sim-%u", (unsigned)getuid());
	return buf;
}

static char *self_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0)
		return xstrdup(".");
	buf[n] = '\0';
	return xstrdup(dirname(buf));
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage:\n"
		"  hive-sim run SCENARIO.json [--days N] [--seed S] [--out DIR]\n"
		"               [--baseline [KIND]] [--disable-plugin NAME]...\n"
		"               [--plugin-opt NAME=VALUE]... [--warmup-days N]\n"
		"               [--sensitivity low|default|high]\n"
		"               [--competitor-share X] [--oracle-cache FILE]\n"
		"               [--jobs N]\n"
		"     KIND: stock (the default), market-median,\n"
		"           balance-proportional, oracle\n"
		"  hive-sim compare SCENARIO.json [--days N] [--seeds 1,2,3]\n"
		"               [--sensitivity LIST|all] [--baselines LIST]\n"
		"               [--competitor-share X] [--jobs N] [--out DIR]\n"
		"  hive-sim serve SCENARIO.json [--dir DIR] [--sim-clock] [--speed X]\n"
		"               [--disable-plugin NAME]... [--plugin-opt N=V]...\n"
		"  hive-sim cli [--dir DIR] NODE METHOD [PARAMS...]\n"
		"\n"
		"Common options: --plugin-dir DIR (where plugin binaries are;\n"
		"default: beside hive-sim), --verbose (echo plugin logs).\n"
		"DIR defaults to $HIVE_SIM_DIR or /tmp/hive-sim-$UID.\n");
}

/* Parse NAME=VALUE into @obj; the value is JSON if it parses as such. */
static bool add_kv(json_t *obj, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char *name;
	json_t *v;

	if (!eq || eq == kv)
		return false;
	name = xstrndup(kv, (size_t)(eq - kv));
	v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
	if (!v || json_is_object(v) || json_is_array(v)) {
		json_decref(v);
		v = json_string(eq + 1);
	}
	json_object_set_new(obj, name, v);
	free(name);
	return true;
}

/* ---------- cli ---------- */

static json_t *cli_value(const char *arg)
{
	/* As lightning-cli does: numbers, booleans, null, objects and
	 * arrays as JSON, everything else as a string. */
	json_t *v = json_loads(arg, JSON_DECODE_ANY, NULL);
	return v ? v : json_string(arg);
}

static char *resolve_node_dir(const char *dir, const char *node)
{
	char *path = xfmt("%s/%s/lightning-rpc", dir, node);
	char *nodes;
	json_t *map;

	if (access(path, F_OK) == 0)
		return path;
	free(path);
	/* A node id: look it up in the index serve wrote. */
	nodes = xfmt("%s/nodes.json", dir);
	map = json_load_file(nodes, 0, NULL);
	free(nodes);
	if (map) {
		size_t i;
		json_t *n;
		json_array_foreach(map, i, n) {
			const char *id = json_string_value(json_object_get(n, "id"));
			const char *alias =
				json_string_value(json_object_get(n, "alias"));
			if (id && alias && !strcasecmp(id, node)) {
				path = xfmt("%s/%s/lightning-rpc", dir, alias);
				json_decref(map);
				return path;
			}
		}
		json_decref(map);
	}
	return NULL;
}

static int cmd_cli(int argc, char **argv)
{
	const char *dir = default_dir();
	int i = 0;
	char *sock;
	json_t *params, *req, *resp = NULL;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd, rc = 1;
	char *text;

	if (argc > 1 && !strcmp(argv[0], "--dir")) {
		dir = argv[1];
		i = 2;
	}
	if (argc - i < 2) {
		usage(stderr);
		return 2;
	}
	sock = resolve_node_dir(dir, argv[i]);
	if (!sock) {
		fprintf(stderr, "hive-sim cli: no node '%s' under %s (is "
				"`hive-sim serve` running?)\n",
			argv[i], dir);
		return 1;
	}
	/* key=value arguments make an object, others a positional array. */
	bool named = argc - i > 2 && strchr(argv[i + 2], '=') != NULL;
	params = named ? json_object() : json_array();
	for (int k = i + 2; k < argc; k++) {
		if (named) {
			if (!add_kv(params, argv[k])) {
				fprintf(stderr, "hive-sim cli: '%s' is not "
						"name=value\n",
					argv[k]);
				json_decref(params);
				free(sock);
				return 2;
			}
		} else {
			json_array_append_new(params, cli_value(argv[k]));
		}
	}
	req = json_pack("{s:s,s:s,s:s,s:o}", "jsonrpc", "2.0", "id",
			"hive-sim-cli:1", "method", argv[i + 1], "params",
			params);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		fprintf(stderr, "hive-sim cli: connect %s: %s\n", sock,
			strerror(errno));
		json_decref(req);
		free(sock);
		if (fd >= 0)
			close(fd);
		return 1;
	}
	free(sock);
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (write(fd, text, strlen(text)) < 0) {
		free(text);
		close(fd);
		return 1;
	}
	free(text);

	struct jsonrpc_framer *fr = jsonrpc_framer_new();
	for (;;) {
		char buf[65536];
		ssize_t n = read(fd, buf, sizeof(buf));
		char *err;
		if (n <= 0)
			break;
		jsonrpc_framer_feed(fr, buf, (size_t)n);
		enum framer_result r = jsonrpc_framer_next(fr, &resp, &err);
		if (r == FRAMER_BAD) {
			fprintf(stderr, "hive-sim cli: bad reply: %s\n", err);
			free(err);
			break;
		}
		if (r == FRAMER_MESSAGE)
			break;
	}
	jsonrpc_framer_free(fr);
	close(fd);
	if (!resp) {
		fprintf(stderr, "hive-sim cli: no reply\n");
		return 1;
	}
	json_t *out = json_object_get(resp, "result");
	if (out) {
		rc = 0;
	} else {
		out = json_object_get(resp, "error");
		rc = 1;
	}
	text = json_dumps(out, JSON_INDENT(2) | JSON_ENCODE_ANY |
				  JSON_REAL_PRECISION(15));
	printf("%s\n", text);
	free(text);
	json_decref(resp);
	return rc;
}

/* ---------- shared option parsing for run/serve ---------- */

struct cmdline {
	const char *scenario;
	const char *dir, *out;
	char *plugin_dir;
	const char *disabled[16];
	size_t ndisabled;
	json_t *plugin_opts;
	double days, warmup_days, speed;
	uint64_t seed;
	enum baseline_kind baseline;
	double competitor_share; /* < 0: the scenario's */
	const char *sensitivity, *oracle_cache;
	bool verbose, sim_clock;
	int timeout_ms, jobs;
};

static bool parse_common(int argc, char **argv, struct cmdline *cl)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned long long u;
		double d;
		if (!strcmp(a, "--baseline")) {
			/* A bare --baseline is the stock one, as it always
			 * was; a kind follows unless the next word is an
			 * option or the scenario file. */
			cl->baseline = BASELINE_STOCK;
			if (v && v[0] != '-' && !strstr(v, ".json")) {
				if (!baseline_parse(v, &cl->baseline)) {
					fprintf(stderr,
						"hive-sim: --baseline: unknown "
						"baseline '%s' (stock, "
						"market-median, "
						"balance-proportional or "
						"oracle)\n",
						v);
					return false;
				}
				i++;
			}
		} else if (!strncmp(a, "--baseline=", 11)) {
			if (!baseline_parse(a + 11, &cl->baseline)) {
				fprintf(stderr,
					"hive-sim: --baseline: unknown baseline "
					"'%s' (stock, market-median, "
					"balance-proportional or oracle)\n",
					a + 11);
				return false;
			}
		} else if (!strcmp(a, "--verbose")) {
			cl->verbose = true;
		} else if (!strcmp(a, "--sim-clock")) {
			cl->sim_clock = true;
		} else if (a[0] != '-' && !cl->scenario) {
			cl->scenario = a;
		} else if (!v) {
			fprintf(stderr, "hive-sim: %s needs a value\n", a);
			return false;
		} else if (!strcmp(a, "--dir")) {
			cl->dir = v, i++;
		} else if (!strcmp(a, "--out")) {
			cl->out = v, i++;
		} else if (!strcmp(a, "--plugin-dir")) {
			free(cl->plugin_dir);
			cl->plugin_dir = xstrdup(v), i++;
		} else if (!strcmp(a, "--disable-plugin")) {
			if (cl->ndisabled == ARRAY_SIZE(cl->disabled))
				return false;
			cl->disabled[cl->ndisabled++] = v, i++;
		} else if (!strcmp(a, "--plugin-opt")) {
			if (!add_kv(cl->plugin_opts, v)) {
				fprintf(stderr, "hive-sim: --plugin-opt wants "
						"NAME=VALUE, not '%s'\n",
					v);
				return false;
			}
			i++;
		} else if (!strcmp(a, "--days") || !strcmp(a, "--warmup-days") ||
			   !strcmp(a, "--speed")) {
			if (!str_to_double(v, &d) || d < 0 || d > 3650) {
				fprintf(stderr, "hive-sim: %s: bad number '%s'\n",
					a, v);
				return false;
			}
			if (!strcmp(a, "--days"))
				cl->days = d;
			else if (!strcmp(a, "--warmup-days"))
				cl->warmup_days = d;
			else
				cl->speed = d;
			i++;
		} else if (!strcmp(a, "--seed")) {
			if (!str_to_u64(v, &u)) {
				fprintf(stderr, "hive-sim: --seed: bad number "
						"'%s'\n",
					v);
				return false;
			}
			cl->seed = u, i++;
		} else if (!strcmp(a, "--competitor-share")) {
			if (!str_to_double(v, &d) || !(d >= 0 && d <= 1)) {
				fprintf(stderr, "hive-sim: --competitor-share: "
						"'%s' is not a share in [0, 1]\n",
					v);
				return false;
			}
			cl->competitor_share = d, i++;
		} else if (!strcmp(a, "--sensitivity")) {
			if (!payments_sensitivity_parse(v, NULL)) {
				fprintf(stderr, "hive-sim: --sensitivity: "
						"'%s' is not low, default or "
						"high\n",
					v);
				return false;
			}
			cl->sensitivity = v, i++;
		} else if (!strcmp(a, "--oracle-cache")) {
			cl->oracle_cache = v, i++;
		} else if (!strcmp(a, "--jobs")) {
			if (!str_to_u64(v, &u) || u < 1 || u > 256) {
				fprintf(stderr, "hive-sim: --jobs: '%s' is not "
						"1..256\n",
					v);
				return false;
			}
			cl->jobs = (int)u, i++;
		} else if (!strcmp(a, "--timeout-ms")) {
			if (!str_to_u64(v, &u) || u > 3600000)
				return false;
			cl->timeout_ms = (int)u, i++;
		} else {
			fprintf(stderr, "hive-sim: unknown option %s\n", a);
			return false;
		}
	}
	if (!cl->scenario) {
		fprintf(stderr, "hive-sim: missing SCENARIO.json\n");
		return false;
	}
	return true;
}

static void write_index(const struct sim *sim)
{
	json_t *arr = json_array();
	char *path = xfmt("%s/nodes.json", sim->opts.dir);

	for (size_t i = 0; i < sim->net->nnodes; i++) {
		const struct net_node *n = &sim->net->nodes[i];
		if (!sim->lnds[i])
			continue;
		char *dir = xfmt("%s/%s", sim->opts.dir, n->alias);
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "alias",
						     n->alias, "id",
						     n->key.id_hex, "dir", dir));
		free(dir);
	}
	json_dump_file(arr, path, JSON_INDENT(2));
	json_decref(arr);
	free(path);
}

static int cmd_serve(int argc, char **argv)
{
	struct cmdline cl = {
		.dir = default_dir(), .speed = -1, .competitor_share = -1};
	struct scenario *sc;
	struct sim *sim;
	char *err = NULL, *report;
	int rc = 0;

	cl.plugin_opts = json_object();
	cl.plugin_dir = self_dir();
	if (!parse_common(argc, argv, &cl)) {
		usage(stderr);
		json_decref(cl.plugin_opts);
		free(cl.plugin_dir);
		return 2;
	}
	if (cl.baseline > BASELINE_STOCK) {
		fprintf(stderr, "hive-sim serve: --baseline %s is for `run`; "
				"serve takes a bare --baseline (no plugins)\n",
			baseline_name(cl.baseline));
		json_decref(cl.plugin_opts);
		free(cl.plugin_dir);
		return 2;
	}
	sc = scenario_load(cl.scenario, &err);
	if (!sc) {
		fprintf(stderr, "hive-sim: %s\n", err);
		free(err);
		json_decref(cl.plugin_opts);
		free(cl.plugin_dir);
		return 1;
	}
	if (cl.sensitivity)
		scenario_set_traffic(sc, "fee_sensitivity",
				     json_string(cl.sensitivity));
	struct sim_opts so = {
		.dir = cl.dir,
		.plugin_dir = cl.plugin_dir,
		.sim_clock = cl.sim_clock,
		.baseline = cl.baseline != BASELINE_NONE,
		.competitor_share = cl.competitor_share,
		.disabled = cl.disabled,
		.ndisabled = cl.ndisabled,
		.plugin_opts = cl.plugin_opts,
		.echo_logs = cl.verbose,
		.plugin_timeout_ms = cl.timeout_ms ? cl.timeout_ms : 30000,
		.seed = cl.seed,
	};
	sim = sim_new(sc, &so, &err);
	if (!sim || !sim_start(sim, &err)) {
		fprintf(stderr, "hive-sim: %s\n", err);
		free(err);
		rc = 1;
		goto out;
	}
	write_index(sim);
	for (size_t i = 0; i < sim->net->nnodes; i++) {
		if (!sim->lnds[i])
			continue;
		printf("%s %s %s\n", sim->net->nodes[i].alias,
		       sim->net->nodes[i].key.id_hex, lnd_dir(sim->lnds[i]));
	}
	printf("ready\n");
	fflush(stdout);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* Simulated time follows the wall clock times --speed (default: 1
	 * with --sim-clock, where plugins run on simulated time; 0 without,
	 * where plugins keep the wall clock and the network moves only by
	 * dev-sim-advance), plus whatever dev-sim-advance jumped. */
	if (cl.speed < 0)
		cl.speed = cl.sim_clock ? 1 : 0;
	uint64_t sim0 = sim->now_ms, wall0 = wall_ms();
	while (!stop_requested) {
		loop_run_once(sim->loop, 100);
		sim_serve_pending(sim);
		uint64_t target = sim0 + sim->offset_ms +
				  (uint64_t)((double)(wall_ms() - wall0) * cl.speed);
		if (target > sim->now_ms && !sim_advance(sim, target, &err)) {
			fprintf(stderr, "hive-sim: %s\n", err);
			free(err);
			err = NULL;
			rc = 1;
			break;
		}
	}
out:
	report = sim_free(sim);
	if (report) {
		fprintf(stderr, "hive-sim: %s\n", report);
		free(report);
		rc = 1;
	}
	scenario_free(sc);
	json_decref(cl.plugin_opts);
	free(cl.plugin_dir);
	return rc;
}

static int cmd_run(int argc, char **argv)
{
	struct cmdline cl = {.out = "sim-out",
			     .days = 30,
			     .warmup_days = 3,
			     .competitor_share = -1};
	struct run_opts ro;
	int rc;

	cl.plugin_opts = json_object();
	cl.plugin_dir = self_dir();
	if (!parse_common(argc, argv, &cl)) {
		usage(stderr);
		json_decref(cl.plugin_opts);
		free(cl.plugin_dir);
		return 2;
	}
	ro = (struct run_opts){
		.scenario_path = cl.scenario,
		.out_dir = cl.out,
		.plugin_dir = cl.plugin_dir,
		.days = cl.days,
		.warmup_days = cl.warmup_days,
		.seed = cl.seed,
		.baseline = cl.baseline,
		.competitor_share = cl.competitor_share,
		.sensitivity = cl.sensitivity,
		.oracle_cache = cl.oracle_cache,
		.jobs = cl.jobs,
		.disabled = cl.disabled,
		.ndisabled = cl.ndisabled,
		.plugin_opts = cl.plugin_opts,
		.verbose = cl.verbose,
		.plugin_timeout_ms = cl.timeout_ms ? cl.timeout_ms : 60000,
	};
	rc = sim_run(&ro);
	json_decref(cl.plugin_opts);
	free(cl.plugin_dir);
	return rc;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!keys_init()) {
		fprintf(stderr, "hive-sim: cannot initialise crypto\n");
		return 1;
	}
	if (!strcmp(argv[1], "cli"))
		rc = cmd_cli(argc - 2, argv + 2);
	else if (!strcmp(argv[1], "serve"))
		rc = cmd_serve(argc - 2, argv + 2);
	else if (!strcmp(argv[1], "run"))
		rc = cmd_run(argc - 2, argv + 2);
	else if (!strcmp(argv[1], "compare")) {
		char self[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0) {
			fprintf(stderr, "hive-sim: cannot find myself\n");
			rc = 1;
		} else {
			self[n] = '\0';
			rc = sim_compare(argc - 2, argv + 2, self);
		}
	}
	else {
		usage(stderr);
		rc = 2;
	}
	keys_cleanup();
	return rc;
}
