/* Neighbour medians from lightningd's gossip; see neighbours.h. */
#include "plugins/revenue-ops/cycle/neighbours.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/rpc.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/config.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/gather.h"
#include "plugins/revenue-ops/store/fee_state.h"
#include <string.h>

/* listchannels by destination walks the peer's channels in the gossip
 * store: cheap, but a first run on a big node may need hundreds. */
#define NEIGHBOURS_PARALLEL 4

struct peer_prior {
	char peer_id[67];
	int64_t median_ppm; /* -1: none */
	size_t competitors;
};

struct neighbour_priors {
	struct revenue *r;
	char *parent_id;
	char our_id[67];
	uint64_t now;
	unsigned min_competitors;
	struct peer_prior *peers;
	size_t n, next, inflight;
	bool finished;
	void (*done)(struct revenue *r, struct neighbour_priors *np,
		     const char *err, void *arg);
	void *arg;
};

bool neighbours_parse(const json_t *result, const char *our_id,
		      const char *peer_id, struct market_quote **out,
		      size_t *n, char **err)
{
	const json_t *arr = json_object_get(result, "channels");
	size_t i, cap = 0;
	json_t *c;

	*out = NULL;
	*n = 0;
	if (!json_is_array(arr)) {
		*err = xstrdup("listchannels: no channels array");
		return false;
	}
	json_array_foreach(arr, i, c) {
		const char *src = json_str(c, "source");
		const char *dst = json_str(c, "destination");
		struct market_quote q = {0};
		uint64_t cap_msat;
		if (!src || !dst || strcasecmp(dst, peer_id) ||
		    !strcasecmp(src, our_id) ||
		    !json_get_u64(c, "base_fee_millisatoshi", &q.base_fee_msat) ||
		    !json_get_u64(c, "fee_per_millionth", &q.fee_ppm) ||
		    !json_get_msat(c, "amount_msat", &cap_msat) ||
		    !json_get_u64(c, "last_update", &q.last_update) ||
		    !json_get_bool(c, "active", &q.active))
			continue;
		q.capacity_sat = cap_msat / 1000;
		xgrow(out, &cap, *n + 1, sizeof(**out));
		(*out)[(*n)++] = q;
	}
	return true;
}

static void finish(struct neighbour_priors *np, const char *err)
{
	if (np->finished)
		return;
	np->finished = true;
	np->done(np->r, np, err, np->arg);
}

static void ask_more(struct neighbour_priors *np);

struct ask {
	struct neighbour_priors *np;
	size_t idx;
};

static void got_channels(struct rpc *rpc, const struct rpc_reply *reply,
			 void *arg)
{
	struct ask *a = arg;
	struct neighbour_priors *np = a->np;
	struct peer_prior *pp = &np->peers[a->idx];
	struct market_quote *q = NULL;
	size_t nq = 0;
	char *err = NULL;

	(void)rpc;
	free(a);
	np->inflight--;
	if (reply->error) {
		plugin_log(np->r->plugin, PLOG_DEBUG,
			   "fees: no neighbour median for %s: %s", pp->peer_id,
			   reply->error_message);
	} else if (!neighbours_parse(reply->result, np->our_id, pp->peer_id,
				     &q, &nq, &err)) {
		plugin_log(np->r->plugin, PLOG_WARN, "fees: %s", err);
		free(err);
	} else if (market_neighbour_median(q, nq, np->now, np->min_competitors,
					   &pp->median_ppm, &pp->competitors)) {
		plugin_log(np->r->plugin, PLOG_INFO,
			   "fees: peer %s: other nodes charge a median %lld "
			   "ppm over %zu channels; its new channels start "
			   "there",
			   pp->peer_id, (long long)pp->median_ppm,
			   pp->competitors);
	}
	free(q);
	ask_more(np);
}

static void ask_more(struct neighbour_priors *np)
{
	while (np->next < np->n && np->inflight < NEIGHBOURS_PARALLEL) {
		struct ask *a = xmalloc(sizeof(*a));
		a->np = np;
		a->idx = np->next++;
		np->inflight++;
		rpc_call(plugin_rpc(np->r->plugin), np->parent_id,
			 "listchannels",
			 json_pack("{s:s}", "destination",
				   np->peers[a->idx].peer_id),
			 got_channels, a);
	}
	if (np->next == np->n && np->inflight == 0)
		finish(np, NULL);
}

void neighbours_fetch(struct revenue *r, const char *parent_id,
		      const struct node_view *v, uint64_t now,
		      void (*done)(struct revenue *r,
				   struct neighbour_priors *np,
				   const char *err, void *arg),
		      void *arg)
{
	struct neighbour_priors *np = xzalloc(sizeof(*np));
	size_t cap = 0;
	char *err = NULL;

	np->r = r;
	np->parent_id = parent_id ? xstrdup(parent_id) : NULL;
	snprintf(np->our_id, sizeof(np->our_id), "%s", v->our_id);
	np->now = now;
	np->min_competitors =
	    (unsigned)cfg_i(&r->cfg, CFG_NEIGHBOR_MEDIAN_MIN_COMPETITORS);
	np->done = done;
	np->arg = arg;
	for (size_t i = 0; i < v->nchans; i++) {
		const struct chan_info *ci = &v->chans[i];
		bool has, dup = false;
		if (!ci->active ||
		    !market_is_stock_fee(ci->fee_base_msat, ci->fee_ppm))
			continue;
		if (!fee_state_exists(r, ci->scid, ci->channel_id, &has,
				      &err)) {
			finish(np, err);
			free(err);
			return;
		}
		for (size_t k = 0; k < np->n && !dup; k++)
			dup = !strcmp(np->peers[k].peer_id, ci->peer_id);
		if (has || dup)
			continue;
		xgrow(&np->peers, &cap, np->n + 1, sizeof(*np->peers));
		snprintf(np->peers[np->n].peer_id,
			 sizeof(np->peers[np->n].peer_id), "%s", ci->peer_id);
		np->peers[np->n].median_ppm = -1;
		np->peers[np->n].competitors = 0;
		np->n++;
	}
	ask_more(np);
}

int64_t neighbours_prior(const struct neighbour_priors *np,
			 const char *peer_id)
{
	for (size_t i = 0; np && i < np->n; i++)
		if (!strcmp(np->peers[i].peer_id, peer_id))
			return np->peers[i].median_ppm;
	return -1;
}

void neighbours_free(struct neighbour_priors *np)
{
	if (!np)
		return;
	free(np->peers);
	free(np->parent_id);
	free(np);
}
