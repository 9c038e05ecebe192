/* The flow analysis' persisted state; see flow_state.h. */
#include "plugins/revenue-ops/store/flow_state.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/node.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/store/forwards.h"
#include "plugins/revenue-ops/store/sql.h"
#include <stdio.h>
#include <string.h>

void flow_lifetime_of(const struct fwd_chan_stats *cs, size_t w_all,
		      struct flow_lifetime *out)
{
	const struct fwd_totals *t = &cs->win[w_all];

	/* Rollups hold only pruned rows, so the two never overlap; a
	 * rolled-up day dates the latest forward only when no raw row
	 * does. */
	out->out_count = t->out_count;
	out->in_count = t->in_count;
	out->last_out_sec =
	    t->last_out_sec ? t->last_out_sec : cs->rolled_last_out_day;
	out->last_in_sec =
	    t->last_in_sec ? t->last_in_sec : cs->rolled_last_in_day;
}

bool flow_state_load(struct revenue *r, const struct kalman_params *kp,
		     const char *scid, struct flow_state *fst,
		     struct kalman_state *ks, char **err)
{
	sqlite3_stmt *st;

	flow_state_init(fst);
	kalman_init(kp, ks);
	st = store_stmt(r->db,
			"SELECT last_class, last_ratio, last_velocity, "
			"last_ratio_sec FROM channel_states WHERE channel_id = "
			"?1",
			err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, scid, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		int c = sqlite3_column_int(st, 0);
		fst->last_class = c >= 0 && c < FLOW_CLASS_NUM
				      ? (enum flow_class)c
				      : FLOW_UNKNOWN;
		fst->last_ratio = sqlite3_column_double(st, 1);
		fst->last_velocity = sqlite3_column_double(st, 2);
		fst->last_ratio_sec = (uint64_t)sqlite3_column_int64(st, 3);
	}
	store_done(st);
	st =
	    store_stmt(r->db,
		       "SELECT ratio, velocity_per_hour, p00, p01, p11, "
		       "innovation_variance, last_innovation, "
		       "observation_count, last_update FROM kalman_state WHERE "
		       "channel_id = ?1",
		       err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, scid, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		ks->ratio = sqlite3_column_double(st, 0);
		ks->velocity_per_hour = sqlite3_column_double(st, 1);
		ks->p00 = sqlite3_column_double(st, 2);
		ks->p01 = sqlite3_column_double(st, 3);
		ks->p11 = sqlite3_column_double(st, 4);
		ks->innovation_variance = sqlite3_column_double(st, 5);
		ks->last_innovation = sqlite3_column_double(st, 6);
		ks->observation_count = (uint32_t)sqlite3_column_int64(st, 7);
		ks->last_update_sec = (uint64_t)sqlite3_column_int64(st, 8);
	}
	store_done(st);
	return true;
}

void flow_run_free(struct flow_run *run)
{
	free(run->ch);
	free(run->peers);
	memset(run, 0, sizeof(*run));
}

static bool persist_chan(struct revenue *r, const struct flow_chan *c,
			 uint64_t now, char **err)
{
	const struct chan_info *ci = c->ci;
	const struct flow_result *res = &c->res;
	sqlite3_stmt *st = store_stmt(
	    r->db,
	    "INSERT OR REPLACE INTO channel_states (channel_id, "
	    "full_channel_id, peer_id, state, basis, flow_ratio, "
	    "daily_ratio, sats_in, sats_out, capacity, local_sats, "
	    "updated_at, confidence, velocity, flow_multiplier, ema_decay, "
	    "forward_count, in_count, out_count, last_forward, "
	    "kalman_flow_ratio, kalman_velocity, kalman_uncertainty, "
	    "kalman_regime_change, balance_position, turnover, role, "
	    "is_congested, htlc_util, last_class, last_ratio, "
	    "last_velocity, last_ratio_sec, temporal_profile_json) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
	    "?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, "
	    "?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34)",
	    err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, ci->scid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, ci->channel_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, ci->peer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, flow_class_name(res->cls), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, res->basis ? res->basis : "", -1,
			  SQLITE_STATIC);
	sqlite3_bind_double(st, 6, res->flow_ratio);
	sqlite3_bind_double(st, 7, res->daily_ratio);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)c->obs.in_sat);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)c->obs.out_sat);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)c->obs.capacity_sat);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)c->obs.local_sat);
	sqlite3_bind_int64(st, 12, (sqlite3_int64)now);
	sqlite3_bind_double(st, 13, res->confidence);
	sqlite3_bind_double(st, 14, res->velocity);
	sqlite3_bind_double(st, 15, res->flow_multiplier);
	sqlite3_bind_double(st, 16, res->ema_decay);
	sqlite3_bind_int64(st, 17,
			   (sqlite3_int64)(c->obs.in_count + c->obs.out_count));
	sqlite3_bind_int64(st, 18, (sqlite3_int64)c->obs.in_count);
	sqlite3_bind_int64(st, 19, (sqlite3_int64)c->obs.out_count);
	sqlite3_bind_int64(st, 20, (sqlite3_int64)c->obs.last_forward_sec);
	sqlite3_bind_double(st, 21, c->ks.ratio);
	sqlite3_bind_double(st, 22, c->ks.velocity_per_hour * 24.0);
	sqlite3_bind_double(st, 23, kalman_uncertainty(&c->ks));
	sqlite3_bind_int(st, 24, c->kres.regime_change);
	sqlite3_bind_double(st, 25, res->outbound_ratio);
	sqlite3_bind_double(st, 26, res->turnover_per_day);
	sqlite3_bind_text(st, 27, flow_role_name(res->role), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 28, c->cong.congested);
	sqlite3_bind_double(st, 29, c->cong.util);
	sqlite3_bind_int(st, 30, (int)c->fst.last_class);
	sqlite3_bind_double(st, 31, c->fst.last_ratio);
	sqlite3_bind_double(st, 32, c->fst.last_velocity);
	sqlite3_bind_int64(st, 33, (sqlite3_int64)c->fst.last_ratio_sec);
	/* No forwards in the window: no profile (NULL), rather than an
	 * empty one in every idle channel's row. */
	if (c->temporal.days) {
		json_t *t = flow_temporal_json(&c->temporal);
		char *tjson;

		json_object_set_new(t, "computed_at", json_integer(now));
		tjson = json_dumps(t, JSON_COMPACT | JSON_REAL_PRECISION(9));
		json_decref(t);
		if (!tjson) {
			store_done(st);
			*err = xstrdup("channel_states: temporal profile: out "
				       "of memory");
			return false;
		}
		sqlite3_bind_text(st, 34, tjson, -1, SQLITE_TRANSIENT);
		free(tjson);
	}
	if (!store_step_done(r->db, st, "channel_states", err))
		return false;

	st = store_stmt(r->db,
			"INSERT OR REPLACE INTO kalman_state (channel_id, "
			"ratio, velocity_per_hour, p00, p01, p11, "
			"innovation_variance, last_innovation, "
			"observation_count, last_update) VALUES (?1, ?2, ?3, "
			"?4, ?5, ?6, ?7, ?8, ?9, ?10)",
			err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, ci->scid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 2, c->ks.ratio);
	sqlite3_bind_double(st, 3, c->ks.velocity_per_hour);
	sqlite3_bind_double(st, 4, c->ks.p00);
	sqlite3_bind_double(st, 5, c->ks.p01);
	sqlite3_bind_double(st, 6, c->ks.p11);
	sqlite3_bind_double(st, 7, c->ks.innovation_variance);
	sqlite3_bind_double(st, 8, c->ks.last_innovation);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)c->ks.observation_count);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)c->ks.last_update_sec);
	return store_step_done(r->db, st, "kalman_state", err);
}

bool flow_persist(struct revenue *r, const struct flow_run *run, uint64_t now,
		  char **err)
{
	sqlite3_stmt *st;

	for (size_t i = 0; i < run->n; i++)
		if (run->ch[i].ok && !persist_chan(r, &run->ch[i], now, err))
			return false;
	if (!store_exec(r->db, "DELETE FROM peer_flow_states", err))
		return false;
	for (size_t i = 0; i < run->npeers; i++) {
		const struct flow_peer *p = &run->peers[i];
		st =
		    store_stmt(r->db,
			       "INSERT INTO peer_flow_states (peer_id, "
			       "n_channels, state, flow_ratio, outbound_ratio, "
			       "confidence, capacity, updated_at) VALUES (?1, "
			       "?2, ?3, ?4, ?5, ?6, ?7, ?8)",
			       err);
		if (!st)
			return false;
		sqlite3_bind_text(st, 1, p->peer_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)p->res.n_channels);
		sqlite3_bind_text(st, 3, flow_class_name(p->res.cls), -1,
				  SQLITE_STATIC);
		sqlite3_bind_double(st, 4, p->res.flow_ratio);
		sqlite3_bind_double(st, 5, p->res.outbound_ratio);
		sqlite3_bind_double(st, 6, p->res.confidence);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)p->res.capacity_sat);
		sqlite3_bind_int64(st, 8, (sqlite3_int64)now);
		if (!store_step_done(r->db, st, "peer_flow_states", err))
			return false;
	}
	return true;
}

bool flow_state_class(struct revenue *r, const char *scid,
		      enum flow_class *cls, uint64_t *in_sat, uint64_t *out_sat,
		      bool *found, char **err)
{
	sqlite3_stmt *st = store_stmt(
	    r->db,
	    "SELECT state, sats_in, sats_out FROM channel_states WHERE "
	    "channel_id = ?1",
	    err);
	*found = false;
	*cls = FLOW_UNKNOWN;
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, scid, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		for (int c = 0; c < FLOW_CLASS_NUM; c++)
			if (name && !strcmp(name, flow_class_name(c)))
				*cls = (enum flow_class)c;
		*in_sat = (uint64_t)sqlite3_column_int64(st, 1);
		*out_sat = (uint64_t)sqlite3_column_int64(st, 2);
		*found = true;
	}
	store_done(st);
	return true;
}

bool flow_state_innovation(struct revenue *r, const char *scid,
			   struct kalman_state *ks, bool *found, char **err)
{
	sqlite3_stmt *q = store_stmt(r->db,
				     "SELECT last_innovation, "
				     "innovation_variance FROM kalman_state "
				     "WHERE channel_id = ?1",
				     err);

	memset(ks, 0, sizeof(*ks));
	*found = false;
	if (!q)
		return false;
	sqlite3_bind_text(q, 1, scid, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) == SQLITE_ROW) {
		ks->last_innovation = sqlite3_column_double(q, 0);
		ks->innovation_variance = sqlite3_column_double(q, 1);
		*found = true;
	}
	store_done(q);
	return true;
}

json_t *flow_channel_states_json(struct revenue *r, uint64_t now)
{
	char *err = NULL;
	json_t *arr = json_array();
	sqlite3_stmt *st = store_stmt(
	    r->db,
	    "SELECT channel_id, peer_id, state, flow_ratio, sats_in, "
	    "sats_out, capacity, updated_at, confidence, velocity, "
	    "flow_multiplier, ema_decay, forward_count, kalman_flow_ratio, "
	    "kalman_velocity, kalman_uncertainty, balance_position, role, "
	    "is_congested, temporal_profile_json FROM channel_states ORDER BY "
	    "channel_id",
	    &err);

	if (!st) {
		free(err);
		return arr;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *tj = (const char *)sqlite3_column_text(st, 19);
		struct temporal_profile tp;
		json_t *row = json_pack(
			"{s:s,s:s,s:s,s:f,s:I,s:I,s:I,s:I,s:f,s:f,"
			"s:f,s:f,s:I,s:f,s:f,s:f,s:f,s:s,s:b}",
			"channel_id", sqlite3_column_text(st, 0), "peer_id",
			sqlite3_column_text(st, 1), "state",
			sqlite3_column_text(st, 2), "flow_ratio",
			sqlite3_column_double(st, 3), "sats_in",
			(json_int_t)sqlite3_column_int64(st, 4), "sats_out",
			(json_int_t)sqlite3_column_int64(st, 5), "capacity",
			(json_int_t)sqlite3_column_int64(st, 6), "updated_at",
			(json_int_t)sqlite3_column_int64(st, 7), "confidence",
			sqlite3_column_double(st, 8), "velocity",
			sqlite3_column_double(st, 9), "flow_multiplier",
			sqlite3_column_double(st, 10), "ema_decay",
			sqlite3_column_double(st, 11), "forward_count",
			(json_int_t)sqlite3_column_int64(st, 12),
			"kalman_flow_ratio", sqlite3_column_double(st, 13),
			"kalman_velocity", sqlite3_column_double(st, 14),
			"kalman_uncertainty", sqlite3_column_double(st, 15),
			"balance_position", sqlite3_column_double(st, 16),
			"role",
			sqlite3_column_text(st, 17)
			    ? (const char *)sqlite3_column_text(st, 17)
			    : "",
			"is_congested", sqlite3_column_int(st, 18));
		json_t *temporal = NULL;

		if (!row)
			continue;
		/* The stored profile as the fee cycle reads it, with the
		 * time intensity it would use now. */
		if (flow_temporal_parse(tj, &tp) &&
		    (temporal = json_loads(tj, 0, NULL)) != NULL)
			json_object_set_new(
			    temporal, "intensity_now",
			    json_real(temporal_intensity_at(&tp, now)));
		json_object_set_new(row, "temporal",
				    temporal ? temporal : json_null());
		json_array_append_new(arr, row);
	}
	store_done(st);
	return arr;
}

json_t *flow_state_brief_json(struct revenue *r, const char *scid)
{
	sqlite3_stmt *st = sql_try_prepare(
	    r->db, "SELECT state, flow_ratio, updated_at FROM channel_states "
		   "WHERE channel_id = ?1");
	json_t *o = json_null();

	if (!st)
		return o;
	sqlite3_bind_text(st, 1, scid, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		o = json_pack("{s:s,s:o,s:o,s:o}", "channel_id", scid, "state",
			      sql_col_json_text(st, 0), "flow_ratio",
			      sql_col_json_num(st, 1), "updated_at",
			      sql_col_json_num(st, 2));
	sqlite3_finalize(st);
	return o;
}

json_t *flow_temporal_json(const struct temporal_profile *p)
{
	json_t *hourly = json_array(), *peak = json_array(),
	       *quiet = json_array();

	for (size_t h = 0; h < TEMPORAL_HOURS; h++)
		json_array_append_new(hourly, json_real(p->hourly[h]));
	for (size_t i = 0; i < p->n_peak; i++)
		json_array_append_new(peak, json_integer(p->peak_hours[i]));
	for (size_t i = 0; i < p->n_quiet; i++)
		json_array_append_new(quiet, json_integer(p->quiet_hours[i]));
	return json_pack("{s:b,s:I,s:f,s:o,s:o,s:o,s:f,s:f}", "graduated",
			 p->graduated, "days", (json_int_t)p->days,
			 "forwards_per_day", p->forwards_per_day, "hourly",
			 hourly, "peak_hours", peak, "quiet_hours", quiet,
			 "burstiness", p->burstiness, "diurnal_strength",
			 p->diurnal_strength);
}

/* Up to TEMPORAL_QUARTILE hours 0..23 from @arr into @out. */
static size_t parse_hours(const json_t *arr, uint8_t *out)
{
	size_t n = 0, i;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		json_int_t h = json_integer_value(v);
		if (n < TEMPORAL_QUARTILE && json_is_integer(v) && h >= 0 &&
		    h < TEMPORAL_HOURS)
			out[n++] = (uint8_t)h;
	}
	return n;
}

bool flow_temporal_parse(const char *text, struct temporal_profile *out)
{
	json_t *o = text ? json_loads(text, 0, NULL) : NULL;
	json_t *g = json_object_get(o, "graduated");
	json_t *hourly = json_object_get(o, "hourly");
	json_int_t days = json_integer_value(json_object_get(o, "days"));
	bool ok = json_is_boolean(g) && json_is_array(hourly) &&
		  json_array_size(hourly) == TEMPORAL_HOURS;

	memset(out, 0, sizeof(*out));
	for (size_t h = 0; ok && h < TEMPORAL_HOURS; h++) {
		json_t *v = json_array_get(hourly, h);
		ok = json_is_number(v);
		out->hourly[h] = json_number_value(v);
	}
	if (ok) {
		out->graduated = json_is_true(g);
		out->days = days > 0 && days <= TEMPORAL_DAYS ? (uint32_t)days
							      : 0;
		out->forwards_per_day = json_number_value(
		    json_object_get(o, "forwards_per_day"));
		out->burstiness =
		    json_number_value(json_object_get(o, "burstiness"));
		out->diurnal_strength =
		    json_number_value(json_object_get(o, "diurnal_strength"));
		out->n_peak = parse_hours(json_object_get(o, "peak_hours"),
					  out->peak_hours);
		out->n_quiet = parse_hours(json_object_get(o, "quiet_hours"),
					   out->quiet_hours);
	} else {
		memset(out, 0, sizeof(*out));
	}
	json_decref(o);
	return ok;
}
