/* cl-revenue-ops: the routing "CFO" of one node. This file holds the
 * tables lightningd sees and the plugin's lifecycle; behaviour lives in
 * the modules beside it. */
#include "common/clock.h"
#include "common/loop.h"
#include "common/plugin.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/accounting.h"
#include "plugins/revenue-ops/cycle/fee.h"
#include "plugins/revenue-ops/cycle/flow.h"
#include "plugins/revenue-ops/cycle/forwards_sync.h"
#include "plugins/revenue-ops/cycle/pipeline.h"
#include "plugins/revenue-ops/rpc/rpc.h"
#include "plugins/revenue-ops/store/config_overrides.h"
#include "plugins/revenue-ops/store/schema.h"
#include <string.h>

static const struct plugin_subscription subscriptions[] = {
	{"forward_event", on_forward_event},
	{"channel_state_changed", accounting_on_channel_state},
	{"connect", on_peer_connect},
	{"disconnect", on_peer_disconnect},
};

static const struct plugin_method methods[] = {
	{"revenue-profitability", json_revenue_profitability,
	 "[channel_id] [refresh]",
	 "Per-channel P&L: class, ROI, marginal ROI, bleeders (read only)."},
	{"revenue-dashboard", json_revenue_dashboard, "[window_days]",
	 "Financial health and P&L over a window of 1..365 days."},
	{"revenue-report", json_revenue_report,
	 "[report_type] [peer_id] [window_days]",
	 "Reports: summary, peer <peer_id>, costs, policies or hive."},
	{"revenue-history", json_revenue_history, "",
	 "Lifetime P&L, closed channels included, and daily snapshots."},
	{"revenue-forward-history", json_revenue_forward_history,
	 "[history_since] [history_until] [channel_id] [limit]",
	 "Routing per UTC day (count, volume, fees, failures), all channels "
	 "or one; defaults to the last 30 days (read only)."},
	{"revenue-capacity-report", json_revenue_capacity_report, "",
	 "Winners, losers and capacity recommendations (read only)."},
	{"revenue-cleanup-closed", json_revenue_cleanup_closed, "",
	 "Archive closed channels and remove their operational rows."},
	{"revenue-portfolio", json_revenue_portfolio, "[risk_aversion]",
	 "Mean-variance analysis of where our liquidity earns (read only)."},
	{"revenue-portfolio-summary", json_revenue_portfolio_summary, "",
	 "The portfolio analysis in brief."},
	{"revenue-portfolio-rebalance", json_revenue_portfolio_rebalance,
	 "[max_recommendations]",
	 "Liquidity moves toward the mean-variance optimal allocation."},
	{"revenue-portfolio-correlations", json_revenue_portfolio_correlations,
	 "[min_correlation]",
	 "Correlations of daily channel returns: hedges and concentration."},
	{"revenue-status", json_revenue_status, "",
	 "Plugin status: version, mode, fee range, channel counts, recent "
	 "decisions."},
	{"revenue-health", json_revenue_health, "",
	 "One-call health: today's and the week's P&L, channel classes, fee "
	 "convergence, budget, top routes, and whether every cycle is alive "
	 "(read only)."},
	{"revenue-config", json_revenue_config,
	 "[action] [key] [value]",
	 "Runtime settings: get [key] | set key value | reset key | "
	 "list-mutable. Changes persist and apply at once."},
	{"revenue-hive-status", json_revenue_hive_status, "",
	 "Standalone or hive mode: is cl-hive running and is this node a "
	 "member."},
	{"revenue-fee-authority-status", json_revenue_fee_authority_status,
	 "",
	 "Whether the fee controller may change fees, and how often that "
	 "switch has flipped since start."},
	{"revenue-analyze", json_revenue_analyze, "[channel_id]",
	 "Flow analysis of one channel or all, with each channel's hourly "
	 "temporal profile, computed now (read only)."},
	{"revenue-wake-all", json_revenue_wake_all, "",
	 "Run the flow and fee cycles now and report what they decided."},
	{"revenue-cycle", json_revenue_cycle, "[subsystem]",
	 "Run a cycle now and report what it decided: fees, flow or all "
	 "(the default)."},
	{"revenue-fee-cycle", json_revenue_fee_cycle, "",
	 "Run the fee cycle now (revenue-cycle fees)."},
	{"revenue-set-fee", json_revenue_set_fee,
	 "channel_id fee_ppm [base_msat] [force]",
	 "Set a channel's fee by hand (clamped to the fee range unless "
	 "force=true); the controller holds it before adjusting again."},
	{"revenue-fee-debug", json_revenue_fee_debug, "[channel_id]",
	 "Every step of the fee decision for each channel, with its numbers "
	 "and why the fee was chosen (read only)."},
	{"revenue-fee-anchor", json_revenue_fee_anchor,
	 "action [channel_id] [target_fee_ppm] [confidence] [base_weight] "
	 "[ttl_hours] [reason]",
	 "Fee anchors: set | get | list | clear | clear-all. An anchor pulls "
	 "the controller's sampled fee toward a target for up to 7 days."},
	{"revenue-policy", json_revenue_policy,
	 "[action] [peer_id] [strategy] [rebalance] [fee_ppm] [tag] "
	 "[fee_multiplier_min] [fee_multiplier_max] [expires_in_hours]",
	 "Per-peer policies: list | get | find | changes | set | delete | "
	 "tag | untag | batch."},
	{"revenue-ignore", json_revenue_ignore, "peer_id [reason]",
	 "Leave a peer alone: passive fees, no rebalancing (a policy)."},
	{"revenue-unignore", json_revenue_unignore, "peer_id",
	 "Manage an ignored peer again (dynamic fees, rebalancing)."},
	{"revenue-list-ignored", json_revenue_list_ignored, "",
	 "Peers with passive fees and rebalancing disabled."},
	{"revenue-ban", json_revenue_ban, "peer_id [reason]",
	 "Ban a peer durably: passive fees, no rebalancing, no expiry (tag "
	 "`banned`)."},
	{"revenue-unban", json_revenue_unban, "peer_id",
	 "Lift a ban: dynamic fees and rebalancing again."},
	{"revenue-list-banned", json_revenue_list_banned, "",
	 "Peers carrying the `banned` tag."},
	{"revenue-clboss-status", json_revenue_clboss_status, "",
	 "Is CLBOSS running, and which peers it leaves to us."},
	{"revenue-remanage", json_revenue_remanage, "peer_id [tag]",
	 "Hand a peer back to CLBOSS (all tags, or lnfee, balance, open, "
	 "close)."},
};

static char *expand_path(const char *path)
{
	const char *home = getenv("HOME");
	if (path[0] == '~' && path[1] == '/' && home)
		return xfmt("%s%s", home, path + 1);
	return xstrdup(path);
}

static char *revenue_init(struct plugin *p, const json_t *config)
{
	struct revenue *r = plugin_app(p);
	json_t *warnings;
	char *err;
	size_t i;
	json_t *w;

	r->plugin = p;
	r->started_at = clock_wall_sec(plugin_clock(p));
	rng_seed(&r->rng, plugin_seed(p));
	config_init_defaults(&r->cfg);
	r->cfg_ready = true;
	err = config_from_options(&r->cfg, p);
	if (err)
		return err;
	r->db_path = expand_path(cfg_s(&r->cfg, CFG_DB_PATH));
	r->db = revenue_db_open(r->db_path, &err);
	if (!r->db)
		return err;
	if (!config_load_overrides(&r->cfg, r->db, &warnings, &err)) {
		json_decref(warnings);
		return err;
	}
	json_array_foreach(warnings, i, w)
		plugin_log(p, PLOG_WARN, "%s", json_string_value(w));
	json_decref(warnings);
	/* Versions count changes made while running. */
	r->cfg.version = 1;
	r->fee_authority.enabled = cfg_b(&r->cfg, CFG_FEE_AUTHORITY_ENABLED);
	r->fee_authority.transitioned_at = r->started_at;
	r->fee_authority.reason = "init";
	revenue_apply_rpc_timeout(r);
	/* Hydrate: bring the forward store up to date from listforwards. */
	forwards_sync(r, NULL, NULL);
	/* The flow and fee cycles (their timers start them). */
	pipeline_init(r);
	flow_cycle_start(r);
	fee_cycle_start(r);
	/* Lifecycle accounting and the daily snapshots. */
	accounting_start(r);
	plugin_log(p, PLOG_INFO,
		   "cl-revenue-ops %s started (database %s, schema v%d%s)",
		   REVENUE_OPS_VERSION, r->db_path, store_schema_version(r->db),
		   cfg_b(&r->cfg, CFG_DRY_RUN) ? ", DRY RUN: nothing will be "
						 "changed"
					       : "");
	(void)config;
	return NULL;
}

static void revenue_shutdown(struct plugin *p)
{
	struct revenue *r = plugin_app(p);

	if (r->sync_timer)
		loop_cancel_timer(plugin_loop(p), r->sync_timer);
	r->sync_timer = NULL;
	pipeline_free(r);
	accounting_stop(r);
	forwards_state_free(r);
	store_close(r->db);
	r->db = NULL;
	free(r->db_path);
	r->db_path = NULL;
	if (r->cfg_ready)
		config_free(&r->cfg);
	r->cfg_ready = false;
}

int main(int argc, char **argv)
{
	struct revenue r = {0};
	size_t nopts;
	struct plugin_option *opts = config_plugin_options(&nopts);
	struct plugin_spec spec = {
		.name = "cl-revenue-ops",
		.options = opts,
		.num_options = nopts,
		.methods = methods,
		.num_methods = ARRAY_SIZE(methods),
		.subscriptions = subscriptions,
		.num_subscriptions = ARRAY_SIZE(subscriptions),
		.dynamic = true,
		.lenient_option_types = true,
		.init = revenue_init,
		.on_setconfig = revenue_on_setconfig,
		.shutdown = revenue_shutdown,
	};
	int rc = plugin_main(&spec, argc, argv, &r);

	free(opts);
	return rc;
}
