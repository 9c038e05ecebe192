/* revenue-set-fee, and the RPCs that run the cycles now:
 * revenue-wake-all, revenue-cycle, revenue-fee-cycle. */
#include "common/clock.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/rpc.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/clboss.h"
#include "plugins/revenue-ops/cycle/gather.h"
#include "plugins/revenue-ops/cycle/params.h"
#include "plugins/revenue-ops/cycle/pipeline.h"
#include "plugins/revenue-ops/cycle/schedule.h"
#include "plugins/revenue-ops/rpc/rpc.h"
#include "plugins/revenue-ops/store/clboss.h"
#include "plugins/revenue-ops/store/fee_state.h"
#include "plugins/revenue-ops/store/policy.h"
#include <math.h>
#include <string.h>

#define SET_FEE_MAX_BASE_MSAT 1000000
#define FORCE_RATE_LIMIT 10
#define FORCE_RATE_WINDOW_SEC 60

static uint64_t now_sec(struct revenue *r)
{
	return clock_wall_sec(plugin_clock(r->plugin));
}

/* ---- revenue-set-fee ---- */

struct setfee {
	struct command *cmd;
	struct revenue *r;
	char *ref;
	int64_t requested, fee, base;
	bool has_base, force, clamped, unmanaged;
	struct node_view *v;
	const struct chan_info *ci;
};

static void setfee_free(struct setfee *s)
{
	node_view_free(s->v);
	free(s->ref);
	free(s);
}

static json_t *setfee_result(struct setfee *s, const char *status,
			     const char *message)
{
	struct revenue *r = s->r;
	json_t *o = json_pack(
	    "{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:b,s:b,s:[I,I],s:s}",
	    "status", status, "channel", s->ci->scid, "channel_id", s->ci->scid,
	    "peer_id", s->ci->peer_id, "old_fee_ppm",
	    (json_int_t)s->ci->fee_ppm, "new_fee_ppm", (json_int_t)s->fee,
	    "fee_ppm", (json_int_t)s->fee, "requested_fee_ppm",
	    (json_int_t)s->requested, "base_fee_msat", (json_int_t)s->base,
	    "clamped", s->clamped, "forced", s->force, "clamped_to_rail",
	    (json_int_t)cfg_i(&r->cfg, CFG_MIN_FEE_PPM),
	    (json_int_t)cfg_i(&r->cfg, CFG_MAX_FEE_PPM), "message", message);
	json_object_set_new(o, "success",
			    json_boolean(strcmp(status, "error") != 0));
	return o;
}

static void setfee_record_last(struct setfee *s, const char *outcome)
{
	struct fee_last l = {0};
	l.time_sec = now_sec(s->r);
	snprintf(l.scid, sizeof(l.scid), "%s", s->ci->scid);
	snprintf(l.peer_id, sizeof(l.peer_id), "%s", s->ci->peer_id);
	l.action = FEE_CTL_SET;
	l.cls = FEE_CLASS_EXTERNAL;
	l.decided_by = FEE_STEP_EXTERNAL;
	l.reason = "manual_fee";
	l.outcome = outcome;
	l.old_fee_ppm = s->ci->fee_ppm;
	l.new_fee_ppm = s->fee;
	l.time_intensity = NAN; /* set by hand: no Thompson step */
	pipeline_set_fee_last(s->r, &l);
}

static void setfee_done(struct rpc *rpc, const struct rpc_reply *reply,
			void *arg)
{
	struct setfee *s = arg;
	struct revenue *r = s->r;
	uint64_t now = now_sec(r);
	struct fee_ctl_params p;
	struct fee_ctl_state *st;
	char *err = NULL, *msg, *reason;
	bool found;
	int64_t actual = s->fee, v;
	json_t *res;

	if (reply->error) {
		char *e = rpc_reply_errtext(reply);
		plugin_log(r->plugin, PLOG_WARN,
			   "revenue-set-fee %s: %s (nothing changed)",
			   s->ci->scid, e);
		command_fail(s->cmd, ERR_RPC_FAILED,
			     json_pack("{s:s,s:s}", "channel_id", s->ci->scid,
				       "status", "error"),
			     "setchannel failed: %s", e);
		free(e);
		setfee_free(s);
		return;
	}
	if (json_get_i64(
		json_array_get(json_object_get(reply->result, "channels"), 0),
		"fee_proportional_millionths", &v))
		actual = v;
	/* The operator's fee becomes the controller's: adopted and held as
	 * the engine does for any outside change, so the next cycle does not
	 * undo it. */
	params_fee_ctl(&r->cfg, &p);
	st = xmalloc(sizeof(*st));
	if (!fee_state_load(r, s->ci->scid, s->ci->channel_id, st, &found,
			    &err)) {
		free(err);
		err = NULL;
		found = false;
	}
	if (!found || !st->version)
		fee_ctl_state_init(&p, st, actual);
	fee_ctl_state_adopt(st, actual, s->base, now);
	reason = xfmt("manual fee%s%s", s->force ? " (forced)" : "",
		      s->clamped ? " (clamped to the fee range)" : "");
	if (!store_begin(r->db, &err) ||
	    !fee_state_save(r, s->ci->scid, s->ci->channel_id, s->ci->peer_id,
			    st, now, &err) ||
	    !fee_change_record(r, s->ci->scid, s->ci->peer_id, s->ci->fee_ppm,
			       actual, (int64_t)s->ci->fee_base_msat, s->base,
			       reason, "manual_fee", "manual", true, false,
			       true, now, &err) ||
	    (s->unmanaged &&
	     !clboss_record(r, s->ci->peer_id, CLBOSS_FEE_TAGS, now, &err)) ||
	    !store_commit(r->db, &err)) {
		if (store_in_transaction(r->db))
			store_rollback(r->db);
	}
	free(reason);
	free(st);
	s->fee = actual;
	setfee_record_last(s, "applied");
	msg = xfmt("Fee of %s set to %lld ppm%s; the controller holds it for "
		   "%llu h before adjusting again",
		   s->ci->scid, (long long)actual,
		   s->clamped ? " (clamped into the fee range; use force=true "
				"to go outside it)"
			      : "",
		   (unsigned long long)(p.external_hold_sec / 3600));
	res = setfee_result(s, "success", msg);
	json_object_set_new(
	    res, "hold_until",
	    json_integer((json_int_t)(now + p.external_hold_sec)));
	if (err) {
		/* The fee is set; only our bookkeeping failed, and the next
		 * cycle adopts the live fee anyway. */
		json_object_set_new(
		    res, "warning",
		    json_sprintf("fee set, but not recorded: %s", err));
		plugin_log(r->plugin, PLOG_WARN, "revenue-set-fee: %s", err);
		free(err);
	}
	plugin_log(r->plugin, PLOG_INFO, "revenue-set-fee: %s %u -> %lld ppm%s",
		   s->ci->scid, s->ci->fee_ppm, (long long)actual,
		   s->force ? " (forced)" : "");
	free(msg);
	command_ok(s->cmd, res);
	setfee_free(s);
	(void)rpc;
}

static void setfee_send(struct setfee *s)
{
	rpc_call(plugin_rpc(s->r->plugin), command_id(s->cmd), "setchannel",
		 json_pack("{s:s,s:I,s:I}", "id", s->ci->scid, "feebase",
			   (json_int_t)s->base, "feeppm", (json_int_t)s->fee),
		 setfee_done, s);
}

static void setfee_unmanaged(struct revenue *r, const bool *ok, void *arg)
{
	struct setfee *s = arg;
	s->unmanaged = ok[0];
	setfee_send(s);
	(void)r;
}

static void setfee_clboss(struct revenue *r, bool present, void *arg)
{
	struct setfee *s = arg;
	char *peer = s->ci->peer_id[0] ? (char *)s->ci->peer_id : NULL;

	if (!present || !peer) {
		setfee_send(s);
		return;
	}
	clboss_unmanage_peers(r, command_id(s->cmd), &peer, 1, setfee_unmanaged,
			      s);
}

static void setfee_gathered(struct revenue *r, struct node_view *v,
			    const char *gerr, void *arg)
{
	struct setfee *s = arg;
	int64_t lo = cfg_i(&r->cfg, CFG_MIN_FEE_PPM);
	int64_t hi = cfg_i(&r->cfg, CFG_MAX_FEE_PPM);
	uint64_t now = now_sec(r);
	char *err = NULL;

	s->v = v;
	if (gerr) {
		command_fail(s->cmd, ERR_RPC_FAILED, NULL, "%s", gerr);
		setfee_free(s);
		return;
	}
	s->ci = node_find_chan(v, s->ref);
	if (!s->ci) {
		command_fail(s->cmd, ERR_NOT_FOUND,
			     json_pack("{s:s}", "channel_id", s->ref),
			     "Unknown channel %s: not one of this node's "
			     "channels",
			     s->ref);
		setfee_free(s);
		return;
	}
	if (!s->ci->active) {
		command_fail(s->cmd, ERR_CONFLICT,
			     json_pack("{s:s,s:s}", "channel_id", s->ci->scid,
				       "state", s->ci->state),
			     "Channel %s is %s: its fee cannot be set now",
			     s->ci->scid, s->ci->state);
		setfee_free(s);
		return;
	}
	if (!s->has_base)
		s->base = (int64_t)s->ci->fee_base_msat;
	/* Without force the fee stays in the controller's range; with it
	 * only the absolute rail (checked already) applies. */
	s->fee = s->requested;
	if (!s->force && (s->fee < lo || s->fee > hi)) {
		s->fee = s->fee < lo ? lo : hi;
		s->clamped = true;
	}
	if (cfg_b(&r->cfg, CFG_DRY_RUN)) {
		char *msg = xfmt("Dry run - no changes made (would set %s to "
				 "%lld ppm)",
				 s->ci->scid, (long long)s->fee);
		if (!store_begin(r->db, &err) ||
		    !fee_change_record(
			r, s->ci->scid, s->ci->peer_id, s->ci->fee_ppm, s->fee,
			(int64_t)s->ci->fee_base_msat, s->base,
			"manual fee (dry run)", "manual_fee", "manual", true,
			true, false, now, &err) ||
		    !store_commit(r->db, &err)) {
			if (store_in_transaction(r->db))
				store_rollback(r->db);
			plugin_log(r->plugin, PLOG_WARN, "revenue-set-fee: %s",
				   err);
			free(err);
		}
		setfee_record_last(s, "dry_run");
		command_ok(s->cmd, setfee_result(s, "dry_run", msg));
		free(msg);
		setfee_free(s);
		return;
	}
	if (cfg_b(&r->cfg, CFG_CLBOSS_ENABLED))
		clboss_detect(r, command_id(s->cmd), setfee_clboss, s);
	else
		setfee_send(s);
}

void json_revenue_set_fee(struct command *cmd, const json_t *params)
{
	struct revenue *r = plugin_app(command_plugin(cmd));
	const char *ref = NULL;
	int64_t fee = 0, base = 0;
	bool force = false, has_base = false;
	const struct param spec[] = {
	    {"channel_id", PARAM_STRING, true, &ref},
	    {"fee_ppm", PARAM_INT, true, &fee},
	    {"base_msat", PARAM_INT, false, &base, &has_base},
	    {"force", PARAM_BOOL, false, &force},
	    {NULL},
	};
	uint64_t now = now_sec(r);
	struct setfee *s;

	if (!command_params(cmd, params, spec))
		return;
	if (!chan_ref_valid(ref)) {
		command_fail(cmd, ERR_INVALID_PARAMS,
			     json_pack("{s:s}", "channel_id", ref),
			     "channel_id: '%s' is neither a short_channel_id "
			     "nor a 64-hex channel id",
			     ref);
		return;
	}
	if (fee < 0 || fee > POLICY_MAX_FEE_PPM) {
		command_fail(cmd, ERR_OUT_OF_RANGE,
			     json_pack("{s:I}", "fee_ppm", (json_int_t)fee),
			     "fee_ppm must be 0..%d, not %lld",
			     POLICY_MAX_FEE_PPM, (long long)fee);
		return;
	}
	if (has_base && (base < 0 || base > SET_FEE_MAX_BASE_MSAT)) {
		command_fail(cmd, ERR_OUT_OF_RANGE,
			     json_pack("{s:I}", "base_msat", (json_int_t)base),
			     "base_msat must be 0..%d, not %lld",
			     SET_FEE_MAX_BASE_MSAT, (long long)base);
		return;
	}
	if (!cfg_b(&r->cfg, CFG_FEE_AUTHORITY_ENABLED)) {
		command_fail(cmd, ERR_PERMISSION,
			     json_pack("{s:s,s:s,s:s}", "status", "denied",
				       "reason", "fee_authority_disabled",
				       "operation", "revenue-set-fee"),
			     "Fee authority is disabled "
			     "(revenue-ops-fee-authority-enabled=false): no "
			     "fee is changed");
		return;
	}
	if (force) {
		if (ratelimit_would_exceed(
			&r->pipe->command_rl, "revenue-set-fee", now,
			FORCE_RATE_LIMIT, FORCE_RATE_WINDOW_SEC)) {
			command_fail(cmd, ERR_RATE_LIMITED, NULL,
				     "Rate limited: at most %d forced "
				     "revenue-set-fee calls per minute",
				     FORCE_RATE_LIMIT);
			return;
		}
		ratelimit_note(&r->pipe->command_rl, "revenue-set-fee", now);
	}
	s = xzalloc(sizeof(*s));
	s->cmd = cmd;
	s->r = r;
	s->ref = chan_ref_normalise(ref);
	s->requested = fee;
	s->base = base;
	s->has_base = has_base;
	s->force = force;
	gather_node(r, command_id(cmd), setfee_gathered, s);
}

/* ---- revenue-fee-debug ---- */

/* ---- revenue-wake-all ---- */

/* What revenue-cycle, revenue-fee-cycle and revenue-wake-all run. */
enum run_what { RUN_FLOW = 1, RUN_FEES = 2, RUN_ALL = RUN_FLOW | RUN_FEES };

struct run_req {
	struct command *cmd;
	enum run_what what;
	const char *subsystem; /* static */
};

static const char *const run_subsystems[] = {"fees", "flow", "all"};

static void run_finish(struct revenue *r, void *arg)
{
	struct run_req *q = arg;
	const struct fee_cycle_summary *s = &r->pipe->summary;
	const char *flow_err =
	    q->what & RUN_FLOW ? cycle_last_error(r->pipe->flow) : NULL;
	const char *fee_err =
	    q->what & RUN_FEES ? cycle_last_error(r->pipe->fee) : NULL;
	json_t *res;

	/* A cycle that could not run (lightningd refused a call, the
	 * database failed) is an error for the caller, not an "ok". */
	if (flow_err || fee_err) {
		command_fail(q->cmd, ERR_RPC_FAILED, NULL, "%s%s%s%s%s",
			     flow_err ? "flow cycle: " : "",
			     flow_err ? flow_err : "",
			     flow_err && fee_err ? "; " : "",
			     fee_err ? "fee cycle: " : "", fee_err ? fee_err : "");
		free(q);
		return;
	}
	res = json_pack("{s:s,s:s,s:b,s:b,s:o}", "status", "ok", "subsystem",
			q->subsystem, "fee_authority_enabled",
			cfg_b(&r->cfg, CFG_FEE_AUTHORITY_ENABLED), "dry_run",
			cfg_b(&r->cfg, CFG_DRY_RUN), "flow_cycle",
			cycle_status_json(r->pipe->flow));
	if (q->what & RUN_FEES) {
		json_object_set_new(res, "channels_woken",
				    json_integer(s->evaluated));
		json_object_set_new(res, "adjusted_channels",
				    json_integer(s->changed));
		json_object_set_new(res, "fee_cycle", fee_cycle_counts_json(s));
	}
	json_object_set_new(
	    res, "message",
	    json_sprintf("%s ran%s",
			 q->what == RUN_ALL    ? "flow and fee cycles"
			 : q->what == RUN_FEES ? "fee cycle"
					       : "flow cycle",
			 q->what & RUN_FEES && s->safety_block
			     ? "; fee changes were decided but not sent"
			     : ""));
	command_ok(q->cmd, res);
	free(q);
}

static void run_after_flow(struct revenue *r, void *arg)
{
	struct run_req *q = arg;

	if (q->what & RUN_FEES)
		pipeline_run_fee(r, run_finish, q);
	else
		run_finish(r, q);
}

/* Run @what now (joining a run in progress) and answer @cmd. */
static void run_cycles(struct command *cmd, enum run_what what,
		       const char *subsystem)
{
	struct revenue *r = plugin_app(command_plugin(cmd));
	struct run_req *q;

	if (!r->pipe) {
		command_fail(cmd, ERR_NOT_READY, NULL,
			     "cl-revenue-ops is not initialised");
		return;
	}
	q = xzalloc(sizeof(*q));
	q->cmd = cmd;
	q->what = what;
	q->subsystem = subsystem;
	if (what & RUN_FLOW)
		pipeline_run_flow(r, run_after_flow, q);
	else
		pipeline_run_fee(r, run_finish, q);
}

void json_revenue_wake_all(struct command *cmd, const json_t *params)
{
	static const struct param none[] = {{NULL}};

	if (!command_params(cmd, params, none))
		return;
	run_cycles(cmd, RUN_ALL, "all");
}

void json_revenue_fee_cycle(struct command *cmd, const json_t *params)
{
	static const struct param none[] = {{NULL}};

	if (!command_params(cmd, params, none))
		return;
	run_cycles(cmd, RUN_FEES, "fees");
}

void json_revenue_cycle(struct command *cmd, const json_t *params)
{
	const char *sub = "all";
	const struct param specs[] = {
	    {"subsystem", PARAM_STRING, false, &sub, NULL},
	    {NULL},
	};
	json_t *valid;

	if (!command_params(cmd, params, specs))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(run_subsystems); i++)
		if (!strcmp(sub, run_subsystems[i])) {
			run_cycles(cmd, i == 0	 ? RUN_FEES
					: i == 1 ? RUN_FLOW
						 : RUN_ALL,
				   run_subsystems[i]);
			return;
		}
	valid = json_array();
	for (size_t i = 0; i < ARRAY_SIZE(run_subsystems); i++)
		json_array_append_new(valid, json_string(run_subsystems[i]));
	command_fail(cmd, ERR_INVALID_PARAMS,
		     json_pack("{s:s,s:o}", "subsystem", sub,
			       "valid_subsystems", valid),
		     "Unknown subsystem '%s' for revenue-cycle. Valid "
		     "subsystems: fees, flow, all%s",
		     sub,
		     !strcmp(sub, "rebalance")
			 ? " (this version has no rebalancer)"
			 : "");
}
