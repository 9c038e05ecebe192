/* Building a network from a scenario and starting its fleet; see sim.h. */
#include "sim/sim.h"
#include "common/clock.h"
#include "common/loop.h"
#include "common/util.h"
#include "sim/lightningd.h"
#include "sim/net.h"
#include "sim/scenario.h"
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t gossip_delay(void *arg, uint32_t node)
{
	(void)arg;
	(void)node;
	return 0;
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
	/* Custom messages travel only between connected peers. */
	for (size_t i = 0; i < sim->net->nodes[from].nchans; i++) {
		const struct net_channel *ch =
			&sim->net->chans[sim->net->nodes[from].chans[i]];
		peers |= ch->state != CHAN_CLOSED &&
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

static const struct sim_hooks hooks = {
	.gossip_delay_sec = gossip_delay,
	.sendcustommsg = deliver_custommsg,
};

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
	sim->net = net_new(seed, sc->start_time, sc->start_height);
	for (size_t i = 0; i < sc->nnodes; i++) {
		struct net_node *n =
			net_add_node(sim->net, sc->nodes[i].alias,
				     sc->nodes[i].fleet);
		n->onchain_sat = sc->nodes[i].onchain_sat;
		n->send_weight = sc->nodes[i].send_weight;
		n->recv_weight = sc->nodes[i].recv_weight;
	}
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
			ch->max_htlcs[side] = sc->nodes[node].max_htlcs;
		}
	}
	sim->nlnds = sim->net->nnodes;
	sim->lnds = xzalloc(sizeof(*sim->lnds) * (sim->nlnds + 1));
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
	if (mkdir(sim->opts.dir, 0755) != 0 && errno != EEXIST) {
		*err = xfmt("cannot create %s: %s", sim->opts.dir,
			    strerror(errno));
		return false;
	}
	for (size_t i = 0; i < sim->net->nnodes; i++) {
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
	net_free(sim->net);
	loop_free(sim->loop);
	clock_free(sim->clk);
	free(sim);
	return report;
}
