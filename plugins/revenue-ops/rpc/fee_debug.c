/* revenue-fee-debug: decide every channel (or one) now, as the next fee
 * cycle would, without acting or persisting, and show every step of
 * each decision with its numbers (read only). The decisions draw from a
 * PRNG forked from the plugin's, so the plugin's own sequence, and so
 * the next real cycle, is untouched; no forward sync runs (that writes
 * the store), so the store is at most one notification behind. */
#include "common/clock.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/node.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/fee_obs.h"
#include "plugins/revenue-ops/cycle/params.h"
#include "plugins/revenue-ops/cycle/pipeline.h"
#include "plugins/revenue-ops/rpc/rpc.h"
#include "plugins/revenue-ops/store/fee_state.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

struct fee_debug {
	struct fee_inputs in;
	struct command *cmd;
	char only[72]; /* the channel asked for, "" for all */
	struct rng rng; /* forked from the plugin's */
	const char *block; /* why nothing would be sent, or NULL */
};

static void debug_free(struct fee_debug *j)
{
	fee_inputs_release(&j->in);
	free(j);
}

static char *why_text(const struct fee_ctl_decision *d)
{
	const char *by = fee_ctl_step_name(d->decided_by);
	switch (d->action) {
	case FEE_CTL_SET:
		return xfmt(
		    "fee %lld -> %lld ppm: decided by %s (%s), within "
		    "floor %lld / ceiling %lld%s",
		    (long long)d->current_fee_ppm, (long long)d->fee_ppm, by,
		    d->reason ? d->reason : "", (long long)d->floor_ppm,
		    (long long)d->ceiling_ppm,
		    d->enforce_limits ? ""
				      : " (a policy, probe or fire-sale "
					"fee: not clamped to the "
					"dynamic range)");
	case FEE_CTL_ADOPT_EXTERNAL:
		return xfmt("the live fee %lld ppm was set outside the "
			    "controller (the operator, CLBOSS or another "
			    "tool): adopted as ours and held instead of "
			    "fighting it",
			    (long long)d->current_fee_ppm);
	case FEE_CTL_NO_CHANGE:
		break;
	}
	return xfmt("fee kept at %lld ppm: %s (decided by %s: %s)",
		    (long long)d->current_fee_ppm,
		    d->skip_reason ? d->skip_reason : "no change", by,
		    d->reason ? d->reason : "");
}

/* The operator's anchor, when the Thompson step blended one in. */
static char *with_anchor(const struct fee_ctl_decision *d, char *why)
{
	double target =
	    fee_ctl_step_num(d, FEE_STEP_THOMPSON, "anchor_target_ppm");
	char *out;

	if (!isfinite(target))
		return why;
	out = xfmt("%s; the sample %.0f ppm was pulled toward the fee anchor "
		   "%.0f ppm (weight %g) to %.0f ppm",
		   why,
		   fee_ctl_step_num(d, FEE_STEP_THOMPSON, "sampled_ppm"),
		   target,
		   fee_ctl_step_num(d, FEE_STEP_THOMPSON, "anchor_weight"),
		   fee_ctl_step_num(d, FEE_STEP_THOMPSON, "anchored_ppm"));
	free(why);
	return out;
}

/* A decision as JSON: action, class, fees, bounds, decided_by, reason,
 * skip_reason, every step with its numbers, and a sentence saying why the
 * final fee was chosen. */
static json_t *fee_decision_json(const struct fee_ctl_decision *d)
{
	json_t *steps = json_array();
	char *why = with_anchor(d, why_text(d));
	json_t *o;

	for (size_t i = 0; i < FEE_STEP_NUM; i++) {
		const struct fee_ctl_step_rec *s = &d->steps[i];
		json_t *nums = json_object();
		json_t *so;
		for (size_t k = 0; k < s->n_nums; k++) {
			double v = s->nums[k].value;
			json_object_set_new(nums, s->nums[k].name,
					    isfinite(v) ? json_real(v)
							: json_null());
		}
		so = json_pack("{s:s,s:b,s:b,s:s,s:I,s:I,s:o}", "step",
			       fee_ctl_step_name((enum fee_ctl_step_id)i),
			       "reached", s->evaluated, "applied", s->applied,
			       "reason", s->reason ? s->reason : "",
			       "fee_in_ppm", (json_int_t)s->fee_in_ppm,
			       "fee_out_ppm", (json_int_t)s->fee_out_ppm,
			       "numbers", nums);
		if (!s->evaluated)
			json_object_set_new(
			    so, "preempted_by",
			    json_string(fee_ctl_step_name(s->preempted_by)));
		json_array_append_new(steps, so);
	}
	o = json_pack("{s:s,s:s,s:I,s:I,s:I,s:b,s:I,s:I,s:s,s:s,s:s?,s:s?,"
		      "s:b,s:o,s:s}",
		      "action", fee_ctl_action_name(d->action), "class",
		      fee_ctl_class_name(d->cls), "current_fee_ppm",
		      (json_int_t)d->current_fee_ppm, "fee_ppm",
		      (json_int_t)d->fee_ppm, "base_fee_msat",
		      (json_int_t)d->base_fee_msat, "enforce_limits",
		      d->enforce_limits, "floor_ppm", (json_int_t)d->floor_ppm,
		      "ceiling_ppm", (json_int_t)d->ceiling_ppm, "decided_by",
		      fee_ctl_step_name(d->decided_by), "reason",
		      d->reason ? d->reason : "", "skip_reason", d->skip_reason,
		      "aimd_event", d->aimd_event, "observation_recorded",
		      d->observation_recorded, "steps", steps, "why", why);
	free(why);
	if (d->seed_from)
		json_object_set_new(o, "seeded",
				    json_pack("{s:f,s:s}", "prior_mean_ppm",
					      d->seed_prior_ppm, "from",
					      d->seed_from));
	return o;
}

static const char *debug_status(const struct fee_ctl_decision *d)
{
	if (d->action != FEE_CTL_NO_CHANGE)
		return "ready";
	if (!d->skip_reason)
		return "ready";
	if (!strcmp(d->skip_reason, "waiting_time") ||
	    !strcmp(d->skip_reason, "waiting_forwards"))
		return "waiting";
	if (!strcmp(d->skip_reason, "external_hold"))
		return "held";
	if (str_starts_with(d->skip_reason, "policy_"))
		return "policy";
	return "ready";
}

static void debug_gathered(struct revenue *r, struct node_view *v,
			   const char *gerr, void *arg)
{
	struct fee_debug *j = arg;
	struct command *cmd = j->cmd;
	struct fee_ctl_state *st;
	struct fee_ctl_decision *d;
	json_t *chans, *res, *summary;
	unsigned n = 0, waiting_time = 0, waiting_forwards = 0, ready = 0,
		 held = 0, policy = 0, changes = 0;
	bool matched = false;
	const char *only_scid = NULL;
	char *err = NULL;

	if (gerr) {
		node_view_free(v);
		command_fail(cmd, ERR_RPC_FAILED, NULL, "%s", gerr);
		debug_free(j);
		return;
	}
	j->in.v = v;
	j->in.now = clock_wall_sec(plugin_clock(r->plugin));
	params_fee_ctl(&r->cfg, &j->in.p);
	j->block = fee_block_reason(r);
	if (!fee_inputs_load(&j->in, &err)) {
		command_fail(cmd, ERR_DATABASE, NULL, "%s", err);
		free(err);
		debug_free(j);
		return;
	}
	/* One channel asked for: only its forwards are read. */
	for (size_t i = 0; i < v->nchans && j->only[0] && !only_scid; i++)
		if (!strcmp(v->chans[i].scid, j->only) ||
		    !strcmp(v->chans[i].channel_id, j->only))
			only_scid = v->chans[i].scid;
	if ((!j->only[0] || only_scid) &&
	    !fee_inputs_prepare(&j->in, only_scid, &err)) {
		command_fail(cmd, ERR_DATABASE, NULL, "%s", err);
		free(err);
		debug_free(j);
		return;
	}
	/* Fork: the preview draws its own numbers, leaving the plugin's
	 * sequence (and so the next real cycle) exactly as it was. */
	rng_fork(&r->rng, j->in.now, &j->rng);
	chans = json_array();
	st = xmalloc(sizeof(*st));
	d = xmalloc(sizeof(*d));
	for (size_t i = 0; i < v->nchans; i++) {
		const struct chan_info *ci = &v->chans[i];
		const struct fee_last *last;
		const char *eng;
		json_t *o, *stored = NULL;
		double hours;

		if (j->only[0] && strcmp(ci->scid, j->only) &&
		    strcmp(ci->channel_id, j->only))
			continue;
		matched = true;
		if (!ci->active)
			continue;
		if (!fee_decide(&j->in, ci, st, d, &j->rng, &stored, &eng,
				&err)) {
			json_decref(chans);
			command_fail(cmd, ERR_DATABASE, NULL, "%s", err);
			free(err);
			goto out;
		}
		n++;
		o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:b}", "channel_id",
			      ci->scid, "full_channel_id", ci->channel_id,
			      "peer_id", ci->peer_id, "state", ci->state,
			      "live_fee_ppm", (json_int_t)ci->fee_ppm,
			      "live_base_msat", (json_int_t)ci->fee_base_msat,
			      "dry_run", cfg_b(&r->cfg, CFG_DRY_RUN));
		/* The state as stored, before this preview's step. */
		json_object_set_new(o, "state", stored);
		if (eng) {
			json_object_set_new(o, "status", json_string("error"));
			json_object_set_new(o, "error", json_string(eng));
			json_array_append_new(chans, o);
			continue;
		}
		{
			json_int_t lu = json_integer_value(
			    json_object_get(stored, "last_update"));
			uint64_t now = j->in.now;
			hours = lu > 0 && now > (uint64_t)lu
				    ? (double)(now - (uint64_t)lu) / 3600.0
				    : 0;
		}
		json_object_set_new(o, "status", json_string(debug_status(d)));
		json_object_set_new(o, "skip_reason",
				    d->skip_reason ? json_string(d->skip_reason)
						   : json_null());
		json_object_set_new(o, "is_sleeping", json_false());
		json_object_set_new(o, "hours_since_update", json_real(hours));
		{
			double wf = fee_ctl_step_num(d, FEE_STEP_THOMPSON,
						     "window_forwards");
			json_object_set_new(
			    o, "forwards_since_update",
			    json_integer(isfinite(wf) ? (json_int_t)wf : 0));
		}
		json_object_set_new(o, "last_broadcast_fee_ppm",
				    stored ? json_incref(json_object_get(
						 stored, "last_set_fee_ppm"))
					   : json_null());
		json_object_set_new(
		    o, "last_revenue_rate",
		    stored ? json_incref(json_object_get(
				 stored, "ema_revenue_sat_per_hour"))
			   : json_null());
		json_object_set_new(
		    o, "would_apply",
		    json_boolean(d->action == FEE_CTL_SET && !j->block));
		if (j->block)
			json_object_set_new(o, "not_applied_because",
					    json_string(j->block));
		json_object_set_new(o, "decision", fee_decision_json(d));
		last = pipeline_fee_last(r, ci->scid);
		if (last) {
			json_t *lc = json_pack(
			    "{s:I,s:s,s:s,s:s,s:s?,s:s,s:I,s:I,s:s?}", "time",
			    (json_int_t)last->time_sec, "action",
			    fee_ctl_action_name(last->action), "decided_by",
			    fee_ctl_step_name(last->decided_by), "reason",
			    last->reason ? last->reason : "", "skip_reason",
			    last->skip_reason, "outcome",
			    last->outcome ? last->outcome : "", "old_fee_ppm",
			    (json_int_t)last->old_fee_ppm, "new_fee_ppm",
			    (json_int_t)last->new_fee_ppm, "error",
			    last->error[0] ? last->error : NULL);
			json_object_set_new(
			    lc, "time_intensity",
			    isfinite(last->time_intensity)
				? json_real(last->time_intensity)
				: json_null());
			json_object_set_new(o, "last_cycle", lc);
		}
		json_object_set_new(o, "recent_fee_changes",
				    fee_changes_recent(r, ci->scid, 5));
		if (d->action != FEE_CTL_NO_CHANGE)
			changes++;
		if (d->skip_reason && !strcmp(d->skip_reason, "waiting_time"))
			waiting_time++;
		else if (d->skip_reason &&
			 !strcmp(d->skip_reason, "waiting_forwards"))
			waiting_forwards++;
		else if (!strcmp(debug_status(d), "held"))
			held++;
		else if (!strcmp(debug_status(d), "policy"))
			policy++;
		else
			ready++;
		json_array_append_new(chans, o);
	}
	if (j->only[0] && !matched) {
		json_decref(chans);
		command_fail(cmd, ERR_NOT_FOUND,
			     json_pack("{s:s}", "channel_id", j->only),
			     "Unknown channel %s", j->only);
		goto out;
	}
	summary = json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "total", n,
			    "sleeping", 0, "waiting_time", waiting_time,
			    "waiting_forwards", waiting_forwards, "held", held,
			    "policy", policy, "ready", ready, "would_change",
			    changes);
	res = json_pack(
	    "{s:I,s:{s:I,s:f,s:I,s:f,s:b},s:o,s:o,s:b,s:b,s:s?}", "timestamp",
	    (json_int_t)j->in.now, "config", "fee_interval_seconds",
	    (json_int_t)cfg_i(&r->cfg, CFG_FEE_INTERVAL),
	    "min_observation_hours", j->in.p.min_observation_sec / 3600.0,
	    "min_forwards_for_signal",
	    (json_int_t)j->in.p.min_forwards_for_signal,
	    "max_observation_hours", j->in.p.max_observation_sec / 3600.0,
	    "enable_dynamic_windows", true, "channels", chans, "summary",
	    summary, "dry_run", cfg_b(&r->cfg, CFG_DRY_RUN),
	    "fee_authority_enabled", cfg_b(&r->cfg, CFG_FEE_AUTHORITY_ENABLED),
	    "not_applied_because", j->block);
	json_object_set_new(
	    res, "controller_contract",
	    json_pack("{s:s,s:[s,s,s,s,s,s,s,s,s,s,s,s,s,s]}", "algorithm",
		      "thompson_aimd_v1", "stage_order", "policy", "external",
		      "bounds", "congestion", "vegas", "probe", "fire_sale",
		      "thompson", "cold_start", "scarcity", "min_change",
		      "hysteresis", "idempotent", "refresh"));
	if (r->pipe->summary.time_sec)
		json_object_set_new(res, "last_cycle_decision",
				    fee_cycle_summary_json(&r->pipe->summary));
	command_ok(cmd, res);
out:
	free(st);
	free(d);
	debug_free(j);
}

static void fee_debug_start(struct revenue *r, struct command *cmd,
		     const char *only_scid)
{
	struct fee_debug *j = xzalloc(sizeof(*j));
	j->in.r = r;
	j->cmd = cmd;
	if (only_scid)
		snprintf(j->only, sizeof(j->only), "%s", only_scid);
	/* Read-only: no forward sync (that writes the store); the store is
	 * at most one notification behind. */
	fee_inputs_gather(&j->in, r, command_id(cmd), debug_gathered, j);
}

void json_revenue_fee_debug(struct command *cmd, const json_t *params)
{
	struct revenue *r = plugin_app(command_plugin(cmd));
	const char *ref = NULL;
	const struct param spec[] = {
	    {"channel_id", PARAM_STRING, false, &ref},
	    {NULL},
	};
	char *norm;

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
	norm = ref ? chan_ref_normalise(ref) : NULL;
	fee_debug_start(r, cmd, norm);
	free(norm);
}
