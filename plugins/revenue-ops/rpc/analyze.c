/* revenue-analyze: the flow analysis of one channel or all, with each
 * channel's temporal profile and (for one channel) its peer's
 * reputation and uptime, computed now from the stores (read only: the
 * flow cycle persists, this does not). */
#include "common/clock.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/node.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/flow.h"
#include "plugins/revenue-ops/cycle/gather.h"
#include "plugins/revenue-ops/cycle/params.h"
#include "plugins/revenue-ops/rpc/rpc.h"
#include "plugins/revenue-ops/store/flow_state.h"
#include "plugins/revenue-ops/store/peers.h"
#include <string.h>

static uint64_t now_sec(struct revenue *r)
{
	return clock_wall_sec(plugin_clock(r->plugin));
}

/* The reference's FlowMetrics object for one channel, with its temporal
 * profile as `temporal`. */
static json_t *flow_chan_json(const struct flow_chan *c, uint64_t now)
{
	const struct flow_result *res = &c->res;
	json_t *o = json_pack("{s:s,s:s,s:s}", "channel_id", c->ci->scid,
			      "full_channel_id", c->ci->channel_id, "peer_id",
			      c->ci->peer_id);
	if (!c->ok) {
		json_object_set_new(o, "error", json_string(c->error));
		return o;
	}
	json_object_update_new(
	    o,
	    json_pack("{s:I,s:I,s:I,s:f,s:s,s:s,s:f,s:b,s:f,s:f,s:f,s:f,s:I,"
		      "s:I,s:I,s:f,s:f,s:f,s:b,s:i,s:f,s:f,s:s,s:f,s:f,s:I,"
		      "s:I}",
		      "sats_in", (json_int_t)c->obs.in_sat, "sats_out",
		      (json_int_t)c->obs.out_sat, "capacity",
		      (json_int_t)c->obs.capacity_sat, "flow_ratio",
		      res->flow_ratio, "state", flow_class_name(res->cls),
		      "basis", res->basis ? res->basis : "", "daily_volume",
		      res->daily_volume_sat, "is_congested", c->cong.congested,
		      "confidence", res->confidence, "velocity", res->velocity,
		      "flow_multiplier", res->flow_multiplier, "ema_decay",
		      res->ema_decay, "forward_count",
		      (json_int_t)(c->obs.in_count + c->obs.out_count),
		      "in_count", (json_int_t)c->obs.in_count, "out_count",
		      (json_int_t)c->obs.out_count, "kalman_flow_ratio",
		      c->ks.ratio, "kalman_velocity",
		      c->ks.velocity_per_hour * 24.0, "kalman_uncertainty",
		      kalman_uncertainty(&c->ks), "kalman_regime_change",
		      c->kres.regime_change, "kalman_observations",
		      (int)c->ks.observation_count, "balance_position",
		      res->outbound_ratio, "daily_ratio", res->daily_ratio,
		      "role", flow_role_name(res->role), "htlc_util",
		      c->cong.util, "turnover_per_day", res->turnover_per_day,
		      "last_forward", (json_int_t)c->obs.last_forward_sec,
		      "updated_at", (json_int_t)now));
	{
		json_t *t = flow_temporal_json(&c->temporal);
		json_object_set_new(
		    t, "intensity_now",
		    json_real(temporal_intensity_at(&c->temporal, now)));
		json_object_set_new(o, "temporal", t);
	}
	return o;
}

static json_t *flow_peer_json(const struct flow_peer *p)
{
	const struct flow_peer_result *res = &p->res;
	return json_pack(
	    "{s:s,s:I,s:s,s:f,s:f,s:f,s:I,s:I,s:I,s:I,s:I}", "peer_id",
	    p->peer_id, "n_channels", (json_int_t)res->n_channels, "state",
	    flow_class_name(res->cls), "flow_ratio", res->flow_ratio,
	    "outbound_ratio", res->outbound_ratio, "confidence",
	    res->confidence, "capacity", (json_int_t)res->capacity_sat,
	    "n_source", (json_int_t)res->n_source, "n_sink",
	    (json_int_t)res->n_sink, "n_balanced", (json_int_t)res->n_balanced,
	    "forward_count", (json_int_t)res->forward_count);
}

struct analyze {
	struct command *cmd;
	char *ref;
};

static void analyze_gathered(struct revenue *r, struct node_view *v,
			     const char *gerr, void *arg)
{
	struct analyze *a = arg;
	struct command *cmd = a->cmd;
	uint64_t now = now_sec(r);
	struct flow_run run;
	char *err = NULL;
	const char *only = NULL;

	if (gerr) {
		command_fail(cmd, ERR_RPC_FAILED, NULL, "%s", gerr);
		goto out;
	}
	if (a->ref) {
		const struct chan_info *ci = node_find_chan(v, a->ref);
		if (!ci) {
			command_fail(cmd, ERR_NOT_FOUND,
				     json_pack("{s:s}", "channel_id", a->ref),
				     "Unknown channel %s", a->ref);
			goto out;
		}
		if (!ci->active) {
			command_ok(cmd,
				   json_pack("{s:s,s:n,s:s}", "channel",
					     ci->scid, "analysis", "message",
					     "channel is not active"));
			goto out;
		}
		only = ci->scid;
	}
	if (!flow_compute(r, v, now, only, &run, &err)) {
		command_fail(cmd, ERR_DATABASE, NULL, "%s", err);
		free(err);
		goto out;
	}
	if (only) {
		struct reputation_params rp;
		struct reputation_state rs;
		struct reputation_uptime up;
		json_t *an = flow_chan_json(&run.ch[0], now);
		bool found = false;
		params_reputation(&r->cfg, &rp);
		if (peers_reputation_get(r, run.ch[0].ci->peer_id, &rs, &found,
					 &err) &&
		    peers_uptime(r, run.ch[0].ci->peer_id,
				 run.ch[0].ci->peer_connected,
				 now > 86400 ? now - 86400 : 0, now, &up, &err))
			json_object_set_new(
			    an, "peer",
			    json_pack(
				"{s:f,s:f,s:f,s:f,s:i}", "reputation_score",
				reputation_score(&rp, found ? &rs : NULL, now),
				"successes", found ? rs.successes : 0.0,
				"failures", found ? rs.failures : 0.0,
				"uptime_24h_pct", up.uptime_pct,
				"disconnects_24h", (int)up.disconnects));
		free(err);
		command_ok(cmd, json_pack("{s:s,s:o,s:b}", "channel", only,
					  "analysis", an, "read_only", true));
	} else {
		json_t *chans = json_array(), *peers = json_array();
		json_t *by_state = json_object();
		for (size_t i = 0; i < run.n; i++) {
			json_array_append_new(chans,
					      flow_chan_json(&run.ch[i], now));
			if (run.ch[i].ok) {
				const char *k =
				    flow_class_name(run.ch[i].res.cls);
				json_t *c = json_object_get(by_state, k);
				json_object_set_new(
				    by_state, k,
				    json_integer(c ? json_integer_value(c) + 1
						   : 1));
			}
		}
		for (size_t i = 0; i < run.npeers; i++)
			json_array_append_new(peers,
					      flow_peer_json(&run.peers[i]));
		command_ok(cmd,
			   json_pack("{s:o,s:o,s:{s:i,s:o},s:b}", "channels",
				     chans, "peers", peers, "summary", "total",
				     (int)run.n, "by_state", by_state,
				     "read_only", true));
	}
	flow_run_free(&run);
out:
	node_view_free(v);
	free(a->ref);
	free(a);
}

void json_revenue_analyze(struct command *cmd, const json_t *params)
{
	struct revenue *r = plugin_app(command_plugin(cmd));
	const char *ref = NULL;
	const struct param spec[] = {
	    {"channel_id", PARAM_STRING, false, &ref},
	    {NULL},
	};
	struct analyze *a;

	if (!command_params(cmd, params, spec))
		return;
	if (ref && !chan_ref_valid(ref)) {
		command_fail(cmd, ERR_INVALID_PARAMS,
			     json_pack("{s:s}", "channel_id", ref),
			     "channel_id: '%s' is neither a short_channel_id "
			     "nor a 64-hex channel id",
			     ref);
		return;
	}
	a = xzalloc(sizeof(*a));
	a->cmd = cmd;
	a->ref = ref ? chan_ref_normalise(ref) : NULL;
	gather_node(r, command_id(cmd), analyze_gathered, a);
}
