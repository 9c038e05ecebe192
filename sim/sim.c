/* Building a network from a scenario and starting its fleet; see sim.h. */
#include "sim/sim.h"
#include "common/clock.h"
#include "common/loop.h"
#include "common/util.h"
#include "sim/chain.h"
#include "sim/gen.h"
#include "sim/lightningd.h"
#include "sim/net.h"
#include "sim/notify.h"
#include "sim/payments.h"
#include "sim/scenario.h"
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Channel updates the plugins make reach senders after
 * net_gossip_delay_sec(), drawn from the simulation's own stream in the
 * (deterministic) order the plugins change fees. */
static uint64_t gossip_delay(void *arg, uint32_t node)
{
	struct sim *sim = arg;
	(void)node;
	return net_gossip_delay_sec(&sim->gossip_rng);
}

static bool deliver_custommsg(void *arg, uint32_t from, const char *peer_id,
			      const char *hex, char **err)
{
	struct sim *sim = arg;
	struct net_node *to = net_node_by_id(sim->net, peer_id);
	bool peers = false;

	if (!to) {
		*err = xfmt("No such peer: %s", peer_id);
		return false;
	}
	/* Custom messages travel only between connected peers: channel
	 * peers, or peers joined with `connect`. */
	peers = ledger_has_peer(&sim->net->nodes[from].led, to->idx);
	for (size_t i = 0; i < sim->net->nodes[from].nchans; i++) {
		const struct net_channel *ch =
			&sim->net->chans[sim->net->nodes[from].chans[i]];
		peers |= ch->cln_state != CLN_CLOSED &&
			 net_channel_peer(ch, from) == to->idx;
	}
	if (!peers || !to->connected) {
		*err = xfmt("Peer %s is not connected", peer_id);
		return false;
	}
	if (sim->lnds[to->idx])
		lnd_hook(sim->lnds[to->idx], "custommsg",
			 json_pack("{s:s,s:s}", "peer_id",
				   sim->net->nodes[from].key.id_hex, "payload",
				   hex));
	return true;
}

static struct payments *hook_payments(void *arg)
{
	return ((struct sim *)arg)->pay;
}

static struct lnd *hook_node_lnd(void *arg, uint32_t node)
{
	struct sim *sim = arg;
	return node < sim->nlnds ? sim->lnds[node] : NULL;
}

/* dev-sim-advance: plugins may have to be ticked, which runs the event
 * loop; so the jump is queued and made by the top-level loop
 * (sim_serve_pending), never from inside this request's callback. */
static void hook_advance(void *arg, struct lnd_req *req, uint64_t seconds)
{
	struct sim *sim = arg;
	xgrow(&sim->advances, &sim->capadvances, sim->nadvances + 1,
	      sizeof(*sim->advances));
	sim->advances[sim->nadvances++] =
		(struct sim_advance_req){req, seconds * 1000};
}

void sim_serve_pending(struct sim *sim)
{
	while (sim->nadvances) {
		struct sim_advance_req a = sim->advances[0];
		char *err = NULL;
		memmove(sim->advances, sim->advances + 1,
			--sim->nadvances * sizeof(*sim->advances));
		sim->offset_ms += a.ms;
		if (!sim_advance(sim, sim->now_ms + a.ms, &err)) {
			lnd_req_fail(a.req, -1, "%s", err ? err : "advance failed");
			free(err);
			continue;
		}
		lnd_req_ok(a.req, json_pack("{s:I,s:i}", "now",
					    (json_int_t)sim->net->now_sec,
					    "blockheight",
					    (int)sim->net->height));
	}
}

static const struct sim_hooks hooks = {
	.gossip_delay_sec = gossip_delay,
	.sendcustommsg = deliver_custommsg,
	.payments = hook_payments,
	.node_lnd = hook_node_lnd,
	.advance = hook_advance,
};

/* The engine saw a forward at a fleet node: tell that node. */
static void on_forward(void *arg, uint32_t node, const struct fwd *f)
{
	struct sim *sim = arg;

	if (node < sim->nlnds && sim->lnds[node])
		notify_forward(sim->lnds[node], sim->net, f);
}

static const struct pay_hooks pay_hooks = {
	.forward_event = on_forward,
};

/* ---------- the scenario's "chain" and "events" ---------- */

static bool bad(char **err, const struct scenario *sc, const char *path,
		const char *what)
{
	*err = xfmt("%s: %s: %s", sc->path, path, what);
	return false;
}

/* A number member in [min, max]; @def when absent. */
static bool num_field(const struct scenario *sc, const json_t *obj,
		      const char *path, const char *key, double def,
		      double min, double max, double *out, char **err)
{
	const json_t *v = json_object_get(obj, key);
	char *p;
	bool ok;

	*out = def;
	if (!v)
		return true;
	p = xfmt("%s.%s", path, key);
	if (!json_is_number(v))
		ok = bad(err, sc, p, "must be a number");
	else if (json_number_value(v) < min || json_number_value(v) > max ||
		 !isfinite(json_number_value(v))) {
		char *what = xfmt("%g is out of range [%g, %g]",
				  json_number_value(v), min, max);
		ok = bad(err, sc, p, what);
		free(what);
	} else {
		*out = json_number_value(v);
		ok = true;
	}
	free(p);
	return ok;
}

static bool only_keys(const struct scenario *sc, const json_t *obj,
		      const char *path, const char *const *known, char **err)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		bool ok = false;
		for (size_t i = 0; known[i]; i++)
			ok |= !strcmp(known[i], key);
		if (!ok) {
			char *p = xfmt("%s.%s", path, key);
			bad(err, sc, p, "unknown field (a typo?)");
			free(p);
			return false;
		}
	}
	return true;
}

static void add_fee_step(struct sim *sim, uint64_t from_ms, uint64_t to_ms,
			 uint32_t perkw, bool spike)
{
	sim->fee_steps = xrealloc(sim->fee_steps, sizeof(*sim->fee_steps) *
							  (sim->nfee_steps + 1));
	sim->fee_steps[sim->nfee_steps++] = (struct sim_fee_step){
		.from_ms = from_ms, .to_ms = to_ms, .perkw = perkw,
		.spike = spike};
}

/*   "chain": {"feerate_perkw": 2500, "daily_swing": 0.2,
 *             "block_interval_sec": 600, "funding_confirms": 3,
 *             "onchain_forget_blocks": 100,
 *             "feerate_schedule": [{"at_day": 2, "feerate_perkw": 9000}],
 *             "spikes": [{"from_day": 2, "to_day": 3,
 *                         "feerate_perkw": 40000}]}
 * Feerate at t: the last schedule step at or before t (else the base),
 * times the daily swing, raised to any spike covering t. */
static bool parse_chain(struct sim *sim, const json_t *chain, char **err)
{
	static const char *const known[] = {
		"feerate_perkw", "daily_swing", "block_interval_sec",
		"funding_confirms", "onchain_forget_blocks", "feerate_schedule",
		"spikes", NULL};
	static const char *const step_keys[] = {"at_day", "feerate_perkw",
						NULL};
	static const char *const spike_keys[] = {"from_day", "to_day",
						 "feerate_perkw", NULL};
	const struct scenario *sc = sim->sc;
	uint64_t start_ms = sim->net->start_sec * 1000;
	double v;
	size_t i;
	json_t *e;

	sim->block_interval_sec = 600;
	sim->base_feerate_perkw = sim->net->feerate_perkw;
	if (!chain)
		return true;
	if (!json_is_object(chain))
		return bad(err, sc, "chain", "must be an object");
	if (!only_keys(sc, chain, "chain", known, err) ||
	    !num_field(sc, chain, "chain", "feerate_perkw",
		       sim->base_feerate_perkw, CHAIN_FEERATE_FLOOR_PERKW, 1e7,
		       &v, err))
		return false;
	sim->base_feerate_perkw = (uint32_t)v;
	if (!num_field(sc, chain, "chain", "daily_swing", 0, 0, 0.95,
		       &sim->daily_swing, err) ||
	    !num_field(sc, chain, "chain", "block_interval_sec", 600, 1,
		       86400, &v, err))
		return false;
	sim->block_interval_sec = (uint32_t)v;
	if (!num_field(sc, chain, "chain", "funding_confirms", 3, 1, 1000, &v,
		       err))
		return false;
	sim->net->funding_confirms = (uint32_t)v;
	if (!num_field(sc, chain, "chain", "onchain_forget_blocks", 100, 1,
		       100000, &v, err))
		return false;
	sim->net->onchain_forget_blocks = (uint32_t)v;
	e = json_object_get(chain, "feerate_schedule");
	if (e && !json_is_array(e))
		return bad(err, sc, "chain.feerate_schedule",
			   "must be an array of {at_day, feerate_perkw}");
	json_array_foreach(json_object_get(chain, "feerate_schedule"), i, e) {
		char *p = xfmt("chain.feerate_schedule[%zu]", i);
		double day, rate;
		bool ok = json_is_object(e) ? true
					    : bad(err, sc, p,
						  "must be an object");
		ok = ok && only_keys(sc, e, p, step_keys, err) &&
		     num_field(sc, e, p, "at_day", -1, 0, 36500, &day, err) &&
		     num_field(sc, e, p, "feerate_perkw", -1,
			       CHAIN_FEERATE_FLOOR_PERKW, 1e7, &rate, err);
		if (ok && (day < 0 || rate < 0))
			ok = bad(err, sc, p,
				 "needs at_day and feerate_perkw");
		free(p);
		if (!ok)
			return false;
		add_fee_step(sim, start_ms + (uint64_t)(day * 86400000.0),
			     UINT64_MAX, (uint32_t)rate, false);
	}
	e = json_object_get(chain, "spikes");
	if (e && !json_is_array(e))
		return bad(err, sc, "chain.spikes",
			   "must be an array of {from_day, to_day, "
			   "feerate_perkw}");
	json_array_foreach(json_object_get(chain, "spikes"), i, e) {
		char *p = xfmt("chain.spikes[%zu]", i);
		double from, to, rate;
		bool ok = json_is_object(e) ? true
					    : bad(err, sc, p,
						  "must be an object");
		ok = ok && only_keys(sc, e, p, spike_keys, err) &&
		     num_field(sc, e, p, "from_day", -1, 0, 36500, &from,
			       err) &&
		     num_field(sc, e, p, "to_day", -1, 0, 36500, &to, err) &&
		     num_field(sc, e, p, "feerate_perkw", -1,
			       CHAIN_FEERATE_FLOOR_PERKW, 1e7, &rate, err);
		if (ok && (from < 0 || to <= from || rate < 0))
			ok = bad(err, sc, p,
				 "needs from_day < to_day and feerate_perkw");
		free(p);
		if (!ok)
			return false;
		add_fee_step(sim, start_ms + (uint64_t)(from * 86400000.0),
			     start_ms + (uint64_t)(to * 86400000.0),
			     (uint32_t)rate, true);
	}
	return true;
}

/*   "events": [{"at_day": 3.5, "node": "ext4", "offline_hours": 6}]
 * The node drops offline for its peers at at_day and comes back
 * offline_hours later. */
static bool parse_events(struct sim *sim, const json_t *events, char **err)
{
	static const char *const known[] = {"at_day", "node", "offline_hours",
					    NULL};
	const struct scenario *sc = sim->sc;
	uint64_t start_ms = sim->net->start_sec * 1000;
	size_t i;
	json_t *e;

	if (!events)
		return true;
	if (!json_is_array(events))
		return bad(err, sc, "events", "must be an array");
	json_array_foreach(events, i, e) {
		char *p = xfmt("events[%zu]", i);
		const char *alias = json_string_value(json_object_get(e, "node"));
		struct net_node *n = alias ? net_node_by_alias(sim->net, alias)
					   : NULL;
		double day, hours;
		bool ok = json_is_object(e) ? true
					    : bad(err, sc, p,
						  "must be an object");
		ok = ok && only_keys(sc, e, p, known, err) &&
		     num_field(sc, e, p, "at_day", -1, 0, 36500, &day, err) &&
		     num_field(sc, e, p, "offline_hours", -1, 0, 876000,
			       &hours, err);
		if (ok && !n) {
			char *pn = xfmt("%s.node", p);
			char *what = alias ? xfmt("unknown node '%s'", alias)
					   : xstrdup("missing (a node alias)");
			ok = bad(err, sc, pn, what);
			free(pn);
			free(what);
		}
		if (ok && (day < 0 || hours <= 0))
			ok = bad(err, sc, p,
				 "needs at_day and a positive offline_hours");
		free(p);
		if (!ok)
			return false;
		uint64_t at = start_ms + (uint64_t)(day * 86400000.0);
		evq_push(&sim->q, at, SIM_EV_PEER_OFFLINE, n->idx, 0, NULL);
		evq_push(&sim->q, at + (uint64_t)(hours * 3600000.0),
			 SIM_EV_PEER_ONLINE, n->idx, 0, NULL);
	}
	return true;
}

static uint32_t feerate_at(const struct sim *sim, uint64_t ms)
{
	double rate = sim->base_feerate_perkw;
	uint64_t best = 0;
	uint32_t spike = 0;

	for (size_t i = 0; i < sim->nfee_steps; i++) {
		const struct sim_fee_step *s = &sim->fee_steps[i];
		if (s->spike) {
			if (ms >= s->from_ms && ms < s->to_ms &&
			    s->perkw > spike)
				spike = s->perkw;
		} else if (ms >= s->from_ms && s->from_ms >= best) {
			best = s->from_ms;
			rate = s->perkw;
		}
	}
	if (sim->daily_swing > 0)
		/* Busier mempools in the (UTC) afternoon, calmer at night. */
		rate *= 1.0 + sim->daily_swing *
				      sin(2.0 * M_PI *
					  (double)(ms % 86400000ULL) /
					  86400000.0);
	if (rate < spike)
		rate = spike;
	if (rate < CHAIN_FEERATE_FLOOR_PERKW)
		rate = CHAIN_FEERATE_FLOOR_PERKW;
	return (uint32_t)rate;
}

struct sim *sim_new(const struct scenario *sc, const struct sim_opts *opts,
		    char **err)
{
	struct sim *sim = xzalloc(sizeof(*sim));
	uint64_t seed = opts->seed ? opts->seed : sc->seed;

	*err = NULL;
	sim->sc = sc;
	sim->opts = *opts;
	sim->clk = clock_new();
	sim->loop = loop_new(sim->clk);
	rng_seed(&sim->gossip_rng, seed ^ 0x676f73736970ULL);
	sim->net = net_new(seed, sc->start_time, sc->start_height);
	sim->now_ms = sc->start_time * 1000;
	evq_init(&sim->q);
	for (size_t i = 0; i < sc->nnodes; i++) {
		struct net_node *n =
			net_add_node(sim->net, sc->nodes[i].alias,
				     sc->nodes[i].fleet);
		n->gen_channels = sc->nodes[i].generate_channels;
		n->send_weight = sc->nodes[i].send_weight;
		n->recv_weight = sc->nodes[i].recv_weight;
		if (sc->nodes[i].onchain_sat) {
			/* One confirmed output holds the starting funds. */
			char txid[65];
			chain_hash_hex(sim->net, "hive-sim-wallet", i, txid);
			ledger_add_utxo(&n->led, txid, 0,
					sc->nodes[i].onchain_sat,
					sc->start_height > 10
						? sc->start_height - 10
						: 1);
			n->onchain_sat = ledger_unspent_sat(&n->led);
		}
	}
	if (!parse_chain(sim, json_object_get(sc->raw, "chain"), err) ||
	    !parse_events(sim, json_object_get(sc->raw, "events"), err)) {
		free(sim_free(sim));
		return NULL;
	}
	sim->net->feerate_perkw = sim->net->feerate_smoothed_perkw =
		feerate_at(sim, sim->now_ms);
	sim->next_block_ms = sim->now_ms + sim->block_interval_sec * 1000ULL;
	sim->traffic_until_ms = sim->now_ms;
	for (size_t i = 0; i < sc->nchans; i++) {
		const struct sc_channel *c = &sc->chans[i];
		uint32_t blocks = (uint32_t)(c->age_days * 144.0);
		uint32_t h = sc->start_height > blocks + 1
				     ? sc->start_height - blocks
				     : 1;
		struct net_channel *ch = net_add_channel(
			sim->net, (uint32_t)c->a, (uint32_t)c->b,
			c->capacity_sat, c->a_balance_sat * 1000,
			c->opener == 0 ? (uint32_t)c->a : (uint32_t)c->b, h,
			err);
		if (!ch) {
			char *e = xfmt("%s: channels[%zu]: %s", sc->path, i,
				       *err);
			free(*err);
			*err = e;
			free(sim_free(sim));
			return NULL;
		}
		ch->opened_sec = sc->start_time -
				 (uint64_t)(c->age_days * 86400.0);
		for (int e = 0; e < 2; e++) {
			size_t node = e == 0 ? c->a : c->b;
			int side = net_channel_side(ch, (uint32_t)node);
			ch->pol[side].base_msat = c->fee[e].base_msat;
			ch->pol[side].ppm = c->fee[e].ppm;
			ch->pol[side].seen_base_msat = c->fee[e].base_msat;
			ch->pol[side].seen_ppm = c->fee[e].ppm;
			ch->pol[side].last_update_sec = ch->opened_sec;
			ch->pol[side].seen_update_sec = ch->opened_sec;
			ch->max_htlcs[side] = sc->nodes[node].max_htlcs;
		}
	}
	/* Generated external nodes and channels come after the scenario's
	 * own, and before the payment engine reads the network. */
	struct gen_summary gs;
	if (!gen_expand(sim->net, json_object_get(sc->raw, "generate"), seed,
			&gs, err)) {
		char *e = xfmt("%s: %s", sc->path, *err);
		free(*err);
		*err = e;
		free(sim_free(sim));
		return NULL;
	}
	sim->nlnds = sim->net->nnodes;
	sim->lnds = xzalloc(sizeof(*sim->lnds) * (sim->nlnds + 1));
	sim->pay = payments_new(sim->net, &sim->q, sc->traffic, seed,
				&pay_hooks, sim, err);
	if (sim->pay)
		sim->pricing = pricing_new(
			sim->net, &sim->q, json_object_get(sc->raw, "competitors"),
			opts->competitor_share, seed, err);
	if (!sim->pay || !sim->pricing ||
	    !baseline_cfg_parse(json_object_get(sc->raw, "baselines"),
				&sim->baseline_cfg, err)) {
		char *e = xfmt("%s: %s", sc->path,
			       *err ? *err : "traffic: bad configuration");
		free(*err);
		*err = e;
		free(sim_free(sim));
		return NULL;
	}
	/* The market moves from the first moment, warm-up included. */
	pricing_start(sim->pricing, sim->now_ms);
	return sim;
}

char *sim_plugin_path(const struct sim *sim, const char *name)
{
	if (strchr(name, '/'))
		return xstrdup(name);
	return xfmt("%s/%s", sim->opts.plugin_dir, name);
}

static bool disabled(const struct sim *sim, const char *name)
{
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	for (size_t i = 0; i < sim->opts.ndisabled; i++)
		if (!strcmp(sim->opts.disabled[i], base))
			return true;
	return false;
}

bool sim_start(struct sim *sim, char **err)
{
	*err = NULL;
	sim->started = true;
	if (mkdir(sim->opts.dir, 0755) != 0 && errno != EEXIST) {
		*err = xfmt("cannot create %s: %s", sim->opts.dir,
			    strerror(errno));
		return false;
	}
	/* Scenario nodes come first; generated ones are never fleet. */
	for (size_t i = 0; i < sim->sc->nnodes; i++) {
		const struct sc_node *sn = &sim->sc->nodes[i];
		struct lnd_config cfg = {
			.loop = sim->loop,
			.net = sim->net,
			.node_idx = (uint32_t)i,
			.sim_clock = sim->opts.sim_clock,
			.seed = sim->net->seed,
			.hooks = &hooks,
			.hooks_arg = sim,
			.plugin_timeout_ms = sim->opts.plugin_timeout_ms,
			.echo_logs = sim->opts.echo_logs,
			.notify_log = sim->opts.notify_log ||
				      (getenv("HIVE_SIM_NOTIFY_LOG") &&
				       strcmp(getenv("HIVE_SIM_NOTIFY_LOG"), "") &&
				       strcmp(getenv("HIVE_SIM_NOTIFY_LOG"), "0")),
		};
		char **paths;
		size_t np = 0;
		json_t *opts;
		bool ok;

		if (!sn->fleet)
			continue;
		char *dir = xfmt("%s/%s", sim->opts.dir, sn->alias);
		cfg.dir = dir;
		sim->lnds[i] = lnd_new(&cfg, err);
		free(dir);
		if (!sim->lnds[i])
			return false;
		if (sim->opts.baseline)
			continue;
		paths = xzalloc(sizeof(char *) * (sn->nplugins + 1));
		for (size_t k = 0; k < sn->nplugins; k++)
			if (!disabled(sim, sn->plugins[k]))
				paths[np++] = sim_plugin_path(sim, sn->plugins[k]);
		opts = json_deep_copy(sn->options);
		if (sim->opts.plugin_opts)
			json_object_update(opts, sim->opts.plugin_opts);
		ok = lnd_start_plugins(sim->lnds[i], (const char *const *)paths,
				       np, opts, err);
		json_decref(opts);
		for (size_t k = 0; k < np; k++)
			free(paths[k]);
		free(paths);
		if (!ok)
			return false;
	}
	return true;
}

char *sim_free(struct sim *sim)
{
	char *report = NULL;

	if (!sim)
		return NULL;
	for (size_t i = 0; i < sim->nadvances; i++)
		lnd_req_fail(sim->advances[i].req, -1, "simulation shutting down");
	free(sim->advances);
	for (size_t i = 0; i < sim->nlnds; i++) {
		if (!sim->lnds[i])
			continue;
		/* Stopping may surface a failure (a non-zero exit). */
		struct lnd *l = sim->lnds[i];
		sim->lnds[i] = NULL;
		lnd_stop_plugins(l);
		if (!report && lnd_plugin_failure(l))
			report = xstrdup(lnd_plugin_failure(l));
		lnd_free(l);
	}
	free(sim->lnds);
	pricing_free(sim->pricing);
	payments_free(sim->pay);
	evq_free(&sim->q);
	free(sim->fee_steps);
	net_free(sim->net);
	loop_free(sim->loop);
	clock_free(sim->clk);
	free(sim);
	return report;
}

/* ---------- running the network ---------- */

void sim_set_time(struct sim *sim, uint64_t now_ms)
{
	if (now_ms < sim->now_ms)
		return;
	sim->now_ms = now_ms;
	sim->net->now_sec = now_ms / 1000;
	sim->net->feerate_perkw = feerate_at(sim, now_ms);
	net_apply_gossip(sim->net);
}

struct block_change {
	uint32_t chan;
	size_t k; /* index into the channel's history */
};

struct block_changes {
	struct block_change *v;
	size_t n, cap;
	struct net *net;
};

static void collect_change(void *arg, uint32_t chan,
			   const struct chan_change *c)
{
	struct block_changes *bc = arg;

	xgrow(&bc->v, &bc->cap, bc->n + 1, sizeof(*bc->v));
	bc->v[bc->n++] = (struct block_change){
		.chan = chan,
		.k = (size_t)(c - bc->net->chans[chan].changes)};
}

void sim_new_block(struct sim *sim)
{
	struct block_changes bc = {.net = sim->net};

	chain_new_block(sim->net, collect_change, &bc);
	/* lightningd announces the block, then its watchers act. */
	for (size_t i = 0; i < sim->nlnds; i++)
		if (sim->lnds[i])
			notify_block(sim->lnds[i], sim->net);
	for (size_t i = 0; i < bc.n; i++) {
		const struct net_channel *ch = &sim->net->chans[bc.v[i].chan];
		for (int d = 0; d < 2; d++)
			if (sim->lnds[ch->node[d]])
				notify_chan_state(sim->lnds[ch->node[d]],
						  sim->net, ch,
						  &ch->changes[bc.v[i].k]);
	}
	free(bc.v);
}

void sim_set_online(struct sim *sim, uint32_t node, bool online)
{
	struct net *net = sim->net;
	struct net_node *n = &net->nodes[node];
	uint32_t *peers;
	size_t np;

	if (node >= net->nnodes || n->connected == online)
		return;
	n->connected = online;
	peers = net_node_peers(net, node, &np);
	for (size_t i = 0; i < np; i++) {
		struct lnd *pl = sim->lnds[peers[i]], *me = sim->lnds[node];
		/* Back online, our nodes dial their channel peers. */
		if (pl && online)
			notify_connect(pl, net, n, false);
		else if (pl)
			notify_disconnect(pl, n);
		if (me && online)
			notify_connect(me, net, &net->nodes[peers[i]], true);
		else if (me)
			notify_disconnect(me, &net->nodes[peers[i]]);
	}
	free(peers);
}

bool sim_handle_event(struct sim *sim, const struct event *ev)
{
	switch (ev->type) {
	case SIM_EV_PEER_OFFLINE:
		sim_set_online(sim, (uint32_t)ev->a, false);
		return true;
	case SIM_EV_PEER_ONLINE:
		sim_set_online(sim, (uint32_t)ev->a, true);
		return true;
	default:
		break;
	}
	return (sim->pay && payments_handle(sim->pay, ev)) ||
	       (sim->pricing && pricing_handle(sim->pricing, ev));
}

/* A plugin hears about forwards at most this long after they happen. */
#define NOTIFY_DELAY_MS (5 * 60 * 1000ULL)

static bool sync_plugins(struct sim *sim, uint64_t now_ms, char **err)
{
	for (size_t i = 0; i < sim->nlnds; i++)
		if (sim->lnds[i] && !lnd_sync(sim->lnds[i], now_ms, err))
			return false;
	return true;
}

static uint64_t plugin_deadline(const struct sim *sim)
{
	uint64_t next = UINT64_MAX;
	for (size_t i = 0; i < sim->nlnds; i++) {
		if (!sim->lnds[i])
			continue;
		uint64_t d = lnd_next_deadline_ms(sim->lnds[i]);
		if (d < next)
			next = d;
	}
	return next;
}

bool sim_play(struct sim *sim, uint64_t until_ms,
	      bool (*other)(void *arg, const struct event *ev), void *arg,
	      char **err)
{
	bool plugins = sim->started && sim->opts.sim_clock;
	uint64_t now = sim->now_ms;
	uint64_t next_sync = plugins ? now : UINT64_MAX;

	*err = NULL;
	while (now < until_ms) {
		uint64_t t_ev = evq_next_ms(&sim->q);
		uint64_t t_block = sim->next_block_ms;
		uint64_t t_sync = UINT64_MAX, t;

		if (plugins) {
			t_sync = plugin_deadline(sim);
			if (next_sync < t_sync)
				t_sync = next_sync;
		}
		t = t_ev < t_block ? t_ev : t_block;
		if (t_sync < t)
			t = t_sync;
		if (t > until_ms)
			break;
		now = t;
		sim_set_time(sim, now);
		if (t == t_sync) {
			/* Plugins first: at equal times they act on the state
			 * before the next event, which is what they saw. */
			if (!sync_plugins(sim, now, err))
				return false;
			next_sync = UINT64_MAX;
			continue;
		}
		if (t == t_block) {
			sim_new_block(sim);
			sim->next_block_ms +=
				(uint64_t)sim->block_interval_sec * 1000;
		} else {
			struct event ev;
			evq_pop(&sim->q, &ev);
			if (!sim_handle_event(sim, &ev) &&
			    !(other && other(arg, &ev))) {
				*err = xfmt("unknown event type %d at %llu ms",
					    ev.type,
					    (unsigned long long)ev.at_ms);
				return false;
			}
		}
		/* Whatever happened reaches the plugins within the
		 * notification delay. */
		if (plugins && next_sync == UINT64_MAX)
			next_sync = now + NOTIFY_DELAY_MS;
	}
	sim_set_time(sim, until_ms);
	return !plugins || sync_plugins(sim, until_ms, err);
}

bool sim_advance(struct sim *sim, uint64_t until_ms, char **err)
{
	*err = NULL;
	if (until_ms < sim->now_ms) {
		*err = xstrdup("cannot go back in time");
		return false;
	}
	/* Demand for the new stretch of time only: a window never gets its
	 * arrivals twice. */
	if (sim->pay && until_ms > sim->traffic_until_ms) {
		payments_start(sim->pay, sim->traffic_until_ms, until_ms);
		sim->traffic_until_ms = until_ms;
	}
	return sim_play(sim, until_ms, NULL, NULL, err);
}
