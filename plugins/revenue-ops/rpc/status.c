/* revenue-status and revenue-hive-status. */
#include "common/clock.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/rpc.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/forwards_sync.h"
#include "plugins/revenue-ops/cycle/pipeline.h"
#include "plugins/revenue-ops/cycle/schedule.h"
#include "plugins/revenue-ops/rpc/rpc.h"
#include "plugins/revenue-ops/store/fee_state.h"
#include "plugins/revenue-ops/store/flow_state.h"
#include "plugins/revenue-ops/store/forwards.h"
#include <string.h>

/* The pipeline's part: channel_states, recent_fee_changes (last 10),
 * recent_rebalances, fee_decision, cycles. */
static void pipeline_status_fields(struct revenue *r, json_t *res)
{
	uint64_t now = clock_wall_sec(plugin_clock(r->plugin));
	const struct fee_cycle_summary *s;

	if (!r->pipe || !r->db)
		return;
	s = &r->pipe->summary;
	json_object_set_new(res, "channel_states",
			    flow_channel_states_json(r, now));
	json_object_set_new(res, "recent_fee_changes",
			    fee_changes_recent(r, NULL, 10));
	/* The rebalancer records here once it exists. */
	json_object_set_new(res, "recent_rebalances", json_array());
	json_object_set_new(
	    res, "fee_decision",
	    s->time_sec
		? json_pack("{s:s,s:s?,s:s?,s:s?,s:I,s:o}", "action", s->action,
			    "reason", s->dominant_reason, "dominant_input",
			    s->dominant_step, "safety_block", s->safety_block,
			    "time", (json_int_t)s->time_sec, "cycle",
			    fee_cycle_counts_json(s))
		: json_pack("{s:s,s:n,s:n,s:s?}", "action", "none", "reason",
			    "dominant_input", "safety_block", NULL));
	json_object_set_new(res, "cycles",
			    json_pack("[o,o]", cycle_status_json(r->pipe->flow),
				      cycle_status_json(r->pipe->fee)));
	json_object_set_new(
	    res, "fee_authority_enabled",
	    json_boolean(cfg_b(&r->cfg, CFG_FEE_AUTHORITY_ENABLED)));
}

static void status_channels(struct rpc *rpc, const struct rpc_reply *reply,
			    void *arg)
{
	struct command *cmd = arg;
	struct revenue *r = plugin_app(command_plugin(cmd));
	const json_t *chans = json_object_get(reply->result, "channels");
	uint64_t now = clock_wall_sec(plugin_clock(r->plugin));
	json_t *res, *counts;
	size_t i, normal = 0;
	json_t *c;

	if (reply->error) {
		char *e = rpc_reply_errtext(reply);
		command_fail(cmd, ERR_RPC_FAILED, NULL, "%s", e);
		free(e);
		return;
	}
	json_array_foreach(chans, i, c) {
		const char *st = json_str(c, "state");
		if (st && (!strcmp(st, "CHANNELD_NORMAL") ||
			   !strcmp(st, "CHANNELD_AWAITING_SPLICE")))
			normal++;
	}
	counts = json_pack("{s:i,s:i}", "total", (int)json_array_size(chans),
			   "active", (int)normal);
	res = json_pack(
		"{s:s,s:s,s:{s:[I,I],s:I,s:b,s:b,s:I},s:o,s:{s:s,s:i},s:I,"
		"s:[],s:[],s:[]}",
		"status", cfg_b(&r->cfg, CFG_PAUSED) ? "paused" : "running",
		"version", REVENUE_OPS_VERSION, "config", "fee_range_ppm",
		(json_int_t)cfg_i(&r->cfg, CFG_MIN_FEE_PPM),
		(json_int_t)cfg_i(&r->cfg, CFG_MAX_FEE_PPM),
		"rebalance_min_profit_sats",
		(json_int_t)cfg_i(&r->cfg, CFG_REBALANCE_MIN_PROFIT), "dry_run",
		cfg_b(&r->cfg, CFG_DRY_RUN), "paused",
		cfg_b(&r->cfg, CFG_PAUSED), "config_version",
		(json_int_t)r->cfg.version, "channels", counts, "database",
		"path", r->db_path, "schema_version",
		store_schema_version(r->db), "uptime_seconds",
		(json_int_t)(now - r->started_at), "channel_states",
		"recent_fee_changes", "recent_rebalances");
	pipeline_status_fields(r, res);
	json_object_set_new(res, "forwards", forwards_status_json(r));
	command_ok(cmd, res);
	(void)rpc;
}

void json_revenue_status(struct command *cmd, const json_t *params)
{
	static const struct param none[] = {{NULL}};
	struct plugin *p = command_plugin(cmd);

	if (!command_params(cmd, params, none))
		return;
	rpc_call(plugin_rpc(p), command_id(cmd), "listpeerchannels", NULL,
		 status_channels, cmd);
}

/* ---- revenue-hive-status ---- */

static bool is_cl_hive(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	return !strcmp(base, "cl-hive") || !strcmp(base, "cl-hive.py");
}

static json_t *hive_result(struct revenue *r, bool available,
			   const char *tier, const char *bridge)
{
	const char *setting = cfg_s(&r->cfg, CFG_HIVE_ENABLED);
	const char *mode;
	json_t *recs = json_array();

	if (!strcmp(setting, "false")) {
		mode = "standalone";
		if (available)
			json_array_append_new(
				recs, json_string("cl-hive runs but "
						  "revenue-ops-hive-enabled="
						  "false: fleet coordination "
						  "is off"));
	} else if (available && tier) {
		mode = "hive";
	} else if (available) {
		mode = "standalone";
		json_array_append_new(recs,
				      json_string("cl-hive runs but this node "
						  "is not a hive member yet"));
	} else if (!strcmp(setting, "true")) {
		mode = "standalone_degraded";
		json_array_append_new(recs,
				      json_string("revenue-ops-hive-enabled="
						  "true but cl-hive is not "
						  "running: start it with "
						  "`lightning-cli plugin start "
						  "/path/to/cl-hive`"));
	} else {
		mode = "standalone";
	}
	return json_pack("{s:s,s:s,s:b,s:s,s:s?,s:o,s:{s:I,s:I}}",
			 "hive_enabled_setting", setting, "mode", mode,
			 "cl_hive_available", available, "bridge_status",
			 bridge, "membership_tier", tier, "recommendations",
			 recs, "hive_config", "hive_fee_ppm",
			 (json_int_t)cfg_i(&r->cfg, CFG_HIVE_FEE_PPM),
			 "hive_rebalance_tolerance",
			 (json_int_t)cfg_i(&r->cfg, CFG_HIVE_REBALANCE_TOLERANCE));
}

static void hive_status_reply(struct rpc *rpc, const struct rpc_reply *reply,
			      void *arg)
{
	struct command *cmd = arg;
	struct revenue *r = plugin_app(command_plugin(cmd));
	const char *tier = json_str(json_object_get(reply->result,
						    "membership"),
				    "tier");

	if (reply->error) {
		/* cl-hive runs but cannot answer: report, don't fail. */
		command_ok(cmd, hive_result(r, true, NULL, "degraded"));
		return;
	}
	command_ok(cmd, hive_result(r, true, tier, "enabled"));
	(void)rpc;
}

static void plugin_list_reply(struct rpc *rpc, const struct rpc_reply *reply,
			      void *arg)
{
	struct command *cmd = arg;
	struct revenue *r = plugin_app(command_plugin(cmd));
	const json_t *list = json_object_get(reply->result, "plugins");
	bool found = false;
	size_t i;
	json_t *pl;

	if (reply->error) {
		char *e = rpc_reply_errtext(reply);
		command_fail(cmd, ERR_RPC_FAILED, NULL, "%s", e);
		free(e);
		return;
	}
	json_array_foreach(list, i, pl) {
		const char *name = json_str(pl, "name");
		if (name && is_cl_hive(name) &&
		    json_is_true(json_object_get(pl, "active")))
			found = true;
	}
	if (!found || !strcmp(cfg_s(&r->cfg, CFG_HIVE_ENABLED), "false")) {
		command_ok(cmd, hive_result(r, found, NULL,
					    found ? "disabled" : "unavailable"));
		return;
	}
	rpc_call(rpc, command_id(cmd), "hive-status", NULL, hive_status_reply,
		 cmd);
}

void json_revenue_hive_status(struct command *cmd, const json_t *params)
{
	static const struct param none[] = {{NULL}};

	if (!command_params(cmd, params, none))
		return;
	rpc_call(plugin_rpc(command_plugin(cmd)), command_id(cmd), "plugin",
		 json_pack("{s:s}", "subcommand", "list"), plugin_list_reply,
		 cmd);
}
