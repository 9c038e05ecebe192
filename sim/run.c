/* `hive-sim run`: play a scenario on simulated time; see run.h.
 *
 * Time flows in two phases. Warm-up (no plugins) lets balances drift from
 * where channels opened to where traffic pushes them. Then the fleet's
 * plugins start (they hydrate from listforwards like any plugin joining a
 * node with history) and the measured period runs. Events (payment
 * attempts, blocks, samples) come off one queue in time order; plugins are
 * synchronised — notifications delivered, clocks moved, idle awaited — at
 * their own timer deadlines and at a bounded delay after anything was
 * queued for them. Nothing a plugin does can change the demand stream, so
 * a run and its --baseline face the same payments. */
#include "sim/run.h"
#include "common/clock.h"
#include "common/loop.h"
#include "common/util.h"
#include "sim/evq.h"
#include "sim/lightningd.h"
#include "sim/net.h"
#include "sim/oracle.h"
#include "sim/payments.h"
#include "sim/scenario.h"
#include "sim/sim.h"
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#define SAMPLE_MS (60 * 60 * 1000ULL)

struct node_base {
	uint64_t fees_earned_msat, rebalance_fees_paid_msat;
	uint64_t onchain_fees_paid_sat;
	uint64_t settled, failed, local_failed, fee_updates;
	uint64_t forwarded_msat;
};

struct run {
	const struct run_opts *o;
	struct scenario *sc;
	struct sim *sim;
	uint64_t t_start_ms, t_measure_ms, t_end_ms;
	struct node_base *base;
	uint64_t *chan_fee_base_msat; /* fee_out_msat[2] per channel */
	FILE *ts;
	double wall_start;
	struct oracle_result oracle; /* --baseline oracle */
};

static double wall_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void say(const char *line)
{
	printf("%s\n", line);
	fflush(stdout);
}

static void snapshot_base(struct run *rn)
{
	struct net *net = rn->sim->net;

	free(rn->chan_fee_base_msat);
	rn->chan_fee_base_msat = xzalloc(sizeof(uint64_t) * 2 * (net->nchans + 1));
	for (size_t c = 0; c < net->nchans; c++)
		for (int d = 0; d < 2; d++)
			rn->chan_fee_base_msat[2 * c + d] =
				net->chans[c].fee_out_msat[d];
	for (size_t i = 0; i < net->nnodes; i++) {
		const struct net_node *n = &net->nodes[i];
		rn->base[i] = (struct node_base){
			.fees_earned_msat = n->fees_earned_msat,
			.rebalance_fees_paid_msat = n->rebalance_fees_paid_msat,
			.onchain_fees_paid_sat = n->onchain_fees_paid_sat,
			.settled = n->forwards_settled,
			.failed = n->forwards_failed,
			.local_failed = n->forwards_local_failed,
			.fee_updates = n->fee_updates,
			.forwarded_msat = n->forwarded_msat,
		};
	}
}

static int64_t net_profit_msat(const struct run *rn, size_t i)
{
	const struct net_node *n = &rn->sim->net->nodes[i];
	const struct node_base *b = &rn->base[i];
	int64_t earned = (int64_t)(n->fees_earned_msat - b->fees_earned_msat);
	int64_t rebal = (int64_t)(n->rebalance_fees_paid_msat -
				  b->rebalance_fees_paid_msat);
	int64_t chain = (int64_t)(n->onchain_fees_paid_sat -
				  b->onchain_fees_paid_sat) *
			1000;
	return earned - rebal - chain;
}

static void sample(struct run *rn, uint64_t now_ms)
{
	struct net *net = rn->sim->net;
	struct pay_stats ps;

	if (!rn->ts || now_ms < rn->t_measure_ms)
		return;
	payments_stats(rn->sim->pay, &ps);
	fprintf(rn->ts, "%.4f", (double)(now_ms - rn->t_measure_ms) / 86400000.0);
	for (size_t i = 0; i < net->nnodes; i++) {
		const struct net_node *n = &net->nodes[i];
		if (!n->fleet)
			continue;
		fprintf(rn->ts, ",%llu,%lld,%llu",
			(unsigned long long)(n->fees_earned_msat -
					     rn->base[i].fees_earned_msat),
			(long long)net_profit_msat(rn, i),
			(unsigned long long)(n->forwards_settled -
					     rn->base[i].settled));
	}
	fprintf(rn->ts, ",%llu,%llu\n",
		(unsigned long long)ps.payments_attempted,
		(unsigned long long)ps.payments_succeeded);
}

static void open_timeseries(struct run *rn, const char *path)
{
	struct net *net = rn->sim->net;

	rn->ts = fopen(path, "w");
	if (!rn->ts)
		return;
	fprintf(rn->ts, "day");
	for (size_t i = 0; i < net->nnodes; i++)
		if (net->nodes[i].fleet)
			fprintf(rn->ts,
				",%s_fees_msat,%s_net_profit_msat,"
				"%s_forwards",
				net->nodes[i].alias, net->nodes[i].alias,
				net->nodes[i].alias);
	fprintf(rn->ts, ",payments_attempted,payments_succeeded\n");
}

/* Each channel of fleet node @node at the end: its fee rate, the market
 * median toward the same peer, its local share, and the fees it earned
 * forwarding out during the measured period. */
static json_t *fleet_channels_json(const struct run *rn, uint32_t node)
{
	const struct net *net = rn->sim->net;
	const struct net_node *n = &net->nodes[node];
	json_t *a = json_array();

	for (size_t k = 0; k < n->nchans; k++) {
		uint32_t c = n->chans[k];
		const struct net_channel *ch = &net->chans[c];
		int s = net_channel_side(ch, node);
		if (ch->state == CHAN_CLOSED)
			continue;
		json_array_append_new(
			a,
			json_pack("{s:s,s:s,s:i,s:i,s:f,s:I}", "short_channel_id",
				  ch->scid, "peer",
				  net->nodes[ch->node[1 - s]].alias, "fee_ppm",
				  (int)ch->pol[s].ppm, "market_median_ppm",
				  (int)pricing_market_median_ppm(net, c, node),
				  "local_share",
				  (double)ch->balance_msat[s] /
					  ((double)ch->capacity_sat * 1000.0),
				  "fees_earned_msat",
				  (json_int_t)(ch->fee_out_msat[s] -
					       rn->chan_fee_base_msat[2 * c + s])));
	}
	return a;
}

/* Gini coefficient of @v (mean absolute difference / twice the mean);
 * undefined (NaN) when the mean is not positive. */
static double gini(const int64_t *v, size_t n)
{
	double sum = 0, diff = 0;
	for (size_t i = 0; i < n; i++)
		sum += (double)v[i];
	if (n == 0 || sum <= 0)
		return NAN;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			diff += fabs((double)v[i] - (double)v[j]);
	return diff / (2.0 * (double)n * sum);
}

static json_t *build_report(struct run *rn)
{
	struct net *net = rn->sim->net;
	struct pay_stats ps;
	json_t *nodes = json_array(), *members = json_array();
	int64_t *profits = xzalloc(sizeof(int64_t) * (net->nnodes + 1));
	size_t nprof = 0;
	uint64_t fleet_fees = 0;
	int64_t fleet_net = 0;
	json_t *rep;

	payments_stats(rn->sim->pay, &ps);
	for (size_t i = 0; i < net->nnodes; i++) {
		const struct net_node *n = &net->nodes[i];
		const struct node_base *b = &rn->base[i];
		uint64_t cap = 0;
		unsigned chans = 0;
		for (size_t k = 0; k < n->nchans; k++) {
			const struct net_channel *ch = &net->chans[n->chans[k]];
			if (ch->state == CHAN_CLOSED)
				continue;
			chans++;
			cap += ch->capacity_sat;
		}
		int64_t np = net_profit_msat(rn, i);
		uint64_t earned = n->fees_earned_msat - b->fees_earned_msat;
		json_t *jn = json_pack(
			"{s:s,s:s,s:b,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
			"id", n->key.id_hex, "alias", n->alias, "fleet",
			n->fleet, "channels", (int)chans, "capacity_sats",
			(json_int_t)cap, "forwards_settled",
			(json_int_t)(n->forwards_settled - b->settled),
			"forwards_failed",
			(json_int_t)(n->forwards_failed - b->failed +
				     n->forwards_local_failed - b->local_failed),
			"fees_earned_msat", (json_int_t)earned,
			"rebalance_fees_paid_msat",
			(json_int_t)(n->rebalance_fees_paid_msat -
				     b->rebalance_fees_paid_msat),
			"onchain_fees_paid_msat",
			(json_int_t)((n->onchain_fees_paid_sat -
				      b->onchain_fees_paid_sat) *
				     1000),
			"net_profit_msat", (json_int_t)np, "fee_updates",
			(json_int_t)(n->fee_updates - b->fee_updates));
		json_object_set_new(jn, "forwarded_msat",
				    json_integer((json_int_t)(n->forwarded_msat -
							      b->forwarded_msat)));
		if (n->fleet)
			json_object_set_new(jn, "channel_fees",
					    fleet_channels_json(rn, (uint32_t)i));
		json_array_append_new(nodes, jn);
		if (n->fleet) {
			json_array_append_new(members, json_string(n->alias));
			fleet_fees += earned;
			fleet_net += np;
			profits[nprof++] = np;
		}
	}
	double g = gini(profits, nprof);
	free(profits);
	rep = json_pack(
		"{s:s,s:I,s:f,s:f,s:s,s:o,s:{s:o,s:I,s:I,s:o},"
		"s:{s:I,s:I,s:I,s:I,s:f}}",
		"scenario", rn->sc->name, "seed", (json_int_t)rn->sim->net->seed,
		"days", rn->o->days, "warmup_days", rn->o->warmup_days,
		"baseline", baseline_name(rn->o->baseline), "nodes", nodes, "fleet", "members",
		members, "fees_earned_msat", (json_int_t)fleet_fees,
		"net_profit_msat", (json_int_t)fleet_net, "gini_net_profit",
		isnan(g) ? json_null() : json_real(g), "network",
		"payments_attempted", (json_int_t)ps.payments_attempted,
		"payments_succeeded", (json_int_t)ps.payments_succeeded,
		"volume_sats", (json_int_t)(ps.volume_msat / 1000), "attempts",
		(json_int_t)ps.attempts, "success_rate",
		ps.payments_attempted ? (double)ps.payments_succeeded /
						(double)ps.payments_attempted
				      : 0.0);
	{
		size_t cn, cd;
		pricing_counts(rn->sim->pricing, &cn, &cd);
		json_object_set_new(rep, "competitors",
				    json_pack("{s:I,s:I}", "nodes",
					      (json_int_t)cn, "directions",
					      (json_int_t)cd));
	}
	json_object_set_new(rep, "sensitivity",
			    json_string(payments_sensitivity_name(
				    payments_sensitivity(rn->sim->pay))));
	if (rn->oracle.ppm)
		json_object_set_new(
			rep, "oracle",
			json_pack("{s:I,s:b,s:s,s:I}", "runs",
				  (json_int_t)rn->oracle.runs, "from_cache",
				  rn->oracle.from_cache, "cache",
				  rn->oracle.cache_path, "search_fees_earned_msat",
				  (json_int_t)rn->oracle.best.fees_earned_msat));
	return rep;
}

static void print_summary(struct run *rn, const json_t *rep)
{
	const json_t *nodes = json_object_get(rep, "nodes");
	const json_t *net = json_object_get(rep, "network");
	size_t i;
	json_t *n;

	printf("\n%s — %g days after %g days warm-up, seed %lld%s%s%s\n",
	       rn->sc->name, rn->o->days, rn->o->warmup_days,
	       (long long)json_integer_value(json_object_get(rep, "seed")),
	       rn->o->baseline ? " (baseline " : "",
	       rn->o->baseline ? baseline_name(rn->o->baseline) : "",
	       rn->o->baseline ? ": plugins off)" : "");
	printf("%-12s %8s %10s %10s %12s %12s %12s %8s\n", "node", "chans",
	       "settled", "failed", "fees sat", "rebal sat", "net sat",
	       "updates");
	json_array_foreach(nodes, i, n) {
		if (!json_is_true(json_object_get(n, "fleet")))
			continue;
		printf("%-12s %8lld %10lld %10lld %12.0f %12.0f %12.0f %8lld\n",
		       json_string_value(json_object_get(n, "alias")),
		       (long long)json_integer_value(json_object_get(n, "channels")),
		       (long long)json_integer_value(
			       json_object_get(n, "forwards_settled")),
		       (long long)json_integer_value(
			       json_object_get(n, "forwards_failed")),
		       (double)json_integer_value(
			       json_object_get(n, "fees_earned_msat")) /
			       1000.0,
		       (double)json_integer_value(
			       json_object_get(n, "rebalance_fees_paid_msat")) /
			       1000.0,
		       (double)json_integer_value(
			       json_object_get(n, "net_profit_msat")) /
			       1000.0,
		       (long long)json_integer_value(
			       json_object_get(n, "fee_updates")));
	}
	printf("network: %lld payments, %.1f%% succeeded, %lld sat moved\n",
	       (long long)json_integer_value(
		       json_object_get(net, "payments_attempted")),
	       json_real_value(json_object_get(net, "success_rate")) * 100.0,
	       (long long)json_integer_value(json_object_get(net, "volume_sats")));
}

static bool on_sample(void *arg, const struct event *ev)
{
	struct run *rn = arg;

	if (ev->type != SIM_EV_SAMPLE)
		return false;
	sample(rn, ev->at_ms);
	evq_push(&rn->sim->q, ev->at_ms + SAMPLE_MS, SIM_EV_SAMPLE, 0, 0, NULL);
	return true;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void mkdir_p(const char *dir)
{
	char *d = xstrdup(dir);
	for (char *p = d + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(d, 0755);
			*p = '/';
		}
	}
	mkdir(d, 0755);
	free(d);
}

int sim_run(const struct run_opts *o)
{
	struct run rn = {.o = o};
	char *err = NULL, *path, *report;
	json_t *rep;
	int rc = 1;

	rn.wall_start = wall_now();
	rn.sc = scenario_load(o->scenario_path, &err);
	if (!rn.sc) {
		fprintf(stderr, "hive-sim: %s\n", err);
		free(err);
		return 1;
	}
	if (o->sensitivity)
		scenario_set_traffic(rn.sc, "fee_sensitivity",
				     json_string(o->sensitivity));
	if (o->baseline == BASELINE_ORACLE) {
		/* Found (or read) before anything else runs, so a cache for
		 * another setup is an error up front. */
		struct oracle_setup os = {
			.sc = rn.sc,
			.seed = o->seed,
			.days = o->days,
			.warmup_days = o->warmup_days,
			.competitor_share = o->competitor_share,
			.jobs = o->jobs,
		};
		if (!oracle_find(&os, o->oracle_cache, o->quiet ? NULL : say,
				 &rn.oracle, &err)) {
			fprintf(stderr, "hive-sim: %s\n", err);
			free(err);
			scenario_free(rn.sc);
			return 1;
		}
		if (!o->quiet)
			printf("oracle: the hindsight-best static fees, searched "
			       "in %u runs%s: %s\n",
			       rn.oracle.runs,
			       rn.oracle.from_cache ? " (read from the cache)"
						    : "",
			       rn.oracle.cache_path);
	}
	mkdir_p(o->out_dir);
	char *nodes_dir = xfmt("%s/nodes", o->out_dir);
	/* A run starts from nothing: node databases from an earlier run in
	 * the same directory would make it depend on history. */
	remove_tree(nodes_dir);
	struct sim_opts so = {
		.dir = nodes_dir,
		.plugin_dir = o->plugin_dir,
		.sim_clock = true,
		.baseline = o->baseline != BASELINE_NONE,
		.competitor_share = o->competitor_share,
		.disabled = o->disabled,
		.ndisabled = o->ndisabled,
		.plugin_opts = o->plugin_opts,
		.echo_logs = o->verbose,
		.plugin_timeout_ms = o->plugin_timeout_ms,
		.seed = o->seed,
	};
	rn.sim = sim_new(rn.sc, &so, &err);
	if (!rn.sim)
		goto fail;
	rn.base = xzalloc(sizeof(*rn.base) * (rn.sim->net->nnodes + 1));
	rn.t_start_ms = rn.sim->now_ms;
	rn.t_measure_ms = rn.t_start_ms +
			  (uint64_t)(o->warmup_days * 86400000.0);
	rn.t_end_ms = rn.t_measure_ms + (uint64_t)(o->days * 86400000.0);
	payments_start(rn.sim->pay, rn.t_start_ms, rn.t_end_ms);
	evq_push(&rn.sim->q, rn.t_measure_ms + SAMPLE_MS, SIM_EV_SAMPLE, 0, 0,
		 NULL);

	/* Warm-up: traffic only. */
	if (!sim_play(rn.sim, rn.t_measure_ms, on_sample, &rn, &err))
		goto fail;
	payments_reset_stats(rn.sim->pay, rn.t_measure_ms);
	snapshot_base(&rn);
	for (size_t i = 0, k = 0; i < rn.sim->net->nnodes; i++) {
		const struct net_node *n = &rn.sim->net->nodes[i];
		if (!n->fleet)
			continue;
		pricing_set_baseline(rn.sim->pricing, (uint32_t)i, o->baseline,
				     &rn.sim->baseline_cfg,
				     rn.oracle.ppm ? rn.oracle.ppm + k : NULL);
		k += n->nchans;
	}
	if (!sim_start(rn.sim, &err))
		goto fail;
	path = xfmt("%s/timeseries.csv", o->out_dir);
	open_timeseries(&rn, path);
	free(path);
	sample(&rn, rn.t_measure_ms);
	if (!sim_play(rn.sim, rn.t_end_ms, on_sample, &rn, &err))
		goto fail;

	/* Stop the plugins first: a crash or a leak at exit fails the run. */
	for (size_t i = 0; i < rn.sim->nlnds; i++) {
		if (!rn.sim->lnds[i])
			continue;
		lnd_stop_plugins(rn.sim->lnds[i]);
		if (lnd_plugin_failure(rn.sim->lnds[i]) && !err)
			err = xstrdup(lnd_plugin_failure(rn.sim->lnds[i]));
	}
	rep = build_report(&rn);
	{
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		/* Wall-clock fields live under "wall" so comparisons of
		 * report.json can drop that one key. */
		json_object_set_new(rep, "wall",
				    json_pack("{s:f,s:I}", "seconds",
					      wall_now() - rn.wall_start,
					      "max_rss_kb",
					      (json_int_t)ru.ru_maxrss));
	}
	path = xfmt("%s/report.json", o->out_dir);
	if (json_dump_file(rep, path, JSON_INDENT(2) | JSON_SORT_KEYS |
					      JSON_REAL_PRECISION(10)) != 0) {
		if (!err)
			err = xfmt("cannot write %s", path);
	}
	free(path);
	print_summary(&rn, rep);
	json_decref(rep);
	if (!err)
		rc = 0;
fail:
	if (rn.ts)
		fclose(rn.ts);
	report = sim_free(rn.sim);
	if (report && !err)
		err = report;
	else
		free(report);
	if (err) {
		fprintf(stderr, "hive-sim: %s\n", err);
		free(err);
		rc = 1;
	}
	free(rn.base);
	free(rn.chan_fee_base_msat);
	free(nodes_dir);
	oracle_result_free(&rn.oracle);
	scenario_free(rn.sc);
	return rc;
}
