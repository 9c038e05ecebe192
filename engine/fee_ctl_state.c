/* The fee controller's persisted per-channel state: seeding a fresh one,
 * adopting a fee someone else set, and the flat array of numbers the
 * caller stores (layout and contract: fee_ctl.h). */
#include "engine/fee_ctl_internal.h"
#include <math.h>
#include <string.h>

/* ---- seeding and adoption ---- */

void fee_ctl_state_init(const struct fee_ctl_params *p,
			struct fee_ctl_state *st, int64_t prior_fee_ppm)
{
	memset(st, 0, sizeof(*st));
	st->version = FEE_CTL_STATE_VERSION;
	st->last_set_fee_ppm = -1;
	st->last_set_base_msat = -1;
	st->last_class = FEE_CLASS_NONE;
	st->pending_target_ppm = -1;
	st->refresh_dir = 1;
	st->prior_mean_ppm =
	    prior_fee_ppm >= 0 ? (double)prior_fee_ppm : p->prior_mean_ppm;
	st->prior_std_ppm = p->prior_std_ppm;
	st->aimd_modifier = 1.0;
	st->congestion_entry_fee_ppm = -1;
}

void fee_ctl_state_adopt(struct fee_ctl_state *st, int64_t fee_ppm,
			 int64_t base_msat, uint64_t now)
{
	st->last_set_fee_ppm = fee_ppm;
	st->last_set_base_msat = base_msat;
	st->external_adopted_sec = now;
	st->last_broadcast_sec = now;
	st->last_update_sec = now;
	st->aimd_seen_failures = 0;
	st->aimd_seen_forwards = 0;
	st->pending_target_ppm = -1;
	st->probe_started_sec = 0;
	st->congestion_active = 0;
	st->congestion_quiet = 0;
	st->last_class = FEE_CLASS_EXTERNAL;
}

/* ---- serialisation ---- */

struct ser {
	bool reading;
	double *out;	  /* writing: NULL to count */
	const double *in; /* reading */
	size_t pos, cap;
	const char *err;
};

#define EXACT_MAX 9007199254740992.0 /* 2^53 */

static bool ser_num(struct ser *s, double *v, double lo, double hi,
		    bool integral)
{
	if (s->err)
		return false;
	if (s->reading) {
		double x;
		if (s->pos >= s->cap) {
			s->err = "fee_ctl: serialised state too short";
			return false;
		}
		x = s->in[s->pos++];
		if (!isfinite(x) || x < lo || x > hi ||
		    (integral && x != floor(x))) {
			s->err = "fee_ctl: serialised value out of range";
			return false;
		}
		*v = x;
		return true;
	}
	if (s->out && s->pos < s->cap)
		s->out[s->pos] = *v;
	s->pos++;
	return true;
}

static void f_d(struct ser *s, double *v)
{
	ser_num(s, v, -1e300, 1e300, false);
}

static void f_u64(struct ser *s, uint64_t *v)
{
	double x = (double)*v;
	if (ser_num(s, &x, 0, EXACT_MAX, true) && s->reading)
		*v = (uint64_t)x;
}

static void f_i64(struct ser *s, int64_t *v)
{
	double x = (double)*v;
	if (ser_num(s, &x, -EXACT_MAX, EXACT_MAX, true) && s->reading)
		*v = (int64_t)x;
}

static void f_u32(struct ser *s, uint32_t *v)
{
	double x = (double)*v;
	if (ser_num(s, &x, 0, UINT32_MAX, true) && s->reading)
		*v = (uint32_t)x;
}

static void f_i32(struct ser *s, int32_t *v)
{
	double x = (double)*v;
	if (ser_num(s, &x, INT32_MIN, INT32_MAX, true) && s->reading)
		*v = (int32_t)x;
}

/* One walk serves both directions, so the layout cannot drift between
 * writer and reader. Writing never modifies @st. */
static void visit(struct ser *s, struct fee_ctl_state *st)
{
	uint32_t n;

	f_u32(s, &st->version);
	if (s->reading && !s->err && st->version != FEE_CTL_STATE_VERSION) {
		s->err = "fee_ctl: unknown state version";
		return;
	}
	f_i64(s, &st->last_set_fee_ppm);
	f_i64(s, &st->last_set_base_msat);
	f_u64(s, &st->last_broadcast_sec);
	f_u64(s, &st->last_update_sec);
	f_u32(s, &st->last_class);
	f_i64(s, &st->pending_target_ppm);
	f_i32(s, &st->refresh_dir);
	f_u64(s, &st->external_adopted_sec);
	f_d(s, &st->prior_mean_ppm);
	f_d(s, &st->prior_std_ppm);
	f_d(s, &st->ema_revenue_sat_per_hour);
	f_d(s, &st->aimd_modifier);
	f_u32(s, &st->aimd_active);
	f_u32(s, &st->aimd_failures);
	f_u32(s, &st->aimd_successes);
	f_u32(s, &st->aimd_seen_failures);
	f_u32(s, &st->aimd_seen_forwards);
	f_u64(s, &st->aimd_last_decrease_sec);
	f_d(s, &st->vegas_intensity);
	f_u32(s, &st->vegas_consecutive);
	f_u64(s, &st->vegas_last_sample_sec);
	f_u64(s, &st->vegas_decayed_sec);
	f_u32(s, &st->congestion_active);
	f_i64(s, &st->congestion_entry_fee_ppm);
	f_u32(s, &st->congestion_quiet);
	f_d(s, &st->htlc_util_ema);
	f_u64(s, &st->probe_started_sec);
	f_u32(s, &st->probe_attempts);
	f_u64(s, &st->probe_last_end_sec);
	f_u64(s, &st->probe_success_sec);

	n = st->n_obs;
	f_u32(s, &n);
	if (s->err)
		return;
	if (s->reading) {
		if (n > FEE_CTL_MAX_OBS) {
			s->err = "fee_ctl: too many observations";
			return;
		}
		for (uint32_t i = 0; i < n; i++) {
			f_d(s, &st->obs[i].fee_ppm);
			f_d(s, &st->obs[i].revenue_sat_per_hour);
			f_d(s, &st->obs[i].weight);
			f_d(s, &st->obs[i].time_sec);
			ser_num(s, &st->obs[i].context, 0,
				FEE_CTL_NUM_CTX - 1, true);
		}
		st->n_obs = n;
		st->obs_head = n % FEE_CTL_MAX_OBS;
		if (!s->err && s->pos != s->cap)
			s->err = "fee_ctl: serialised state has trailing data";
	} else {
		for (uint32_t i = 0; i < n; i++) {
			struct fee_ctl_obs_rec *o =
			    (struct fee_ctl_obs_rec *)obs_at(st, i);
			f_d(s, &o->fee_ppm);
			f_d(s, &o->revenue_sat_per_hour);
			f_d(s, &o->weight);
			f_d(s, &o->time_sec);
			f_d(s, &o->context);
		}
	}
}

size_t fee_ctl_state_serialised_len(const struct fee_ctl_state *st)
{
	struct ser s = {.reading = false};

	visit(&s, (struct fee_ctl_state *)st);
	return s.pos;
}

size_t fee_ctl_state_serialise(const struct fee_ctl_state *st, double *out,
			       size_t cap)
{
	struct ser s = {.reading = false, .out = out, .cap = cap};
	size_t need = fee_ctl_state_serialised_len(st);

	if (!out || cap < need)
		return 0;
	visit(&s, (struct fee_ctl_state *)st);
	return s.pos;
}

const char *fee_ctl_state_deserialise(struct fee_ctl_state *st,
				      const double *in, size_t n)
{
	struct fee_ctl_state tmp;
	struct ser s = {.reading = true, .in = in, .cap = n};

	if (!in || n == 0)
		return "fee_ctl: empty serialised state";
	memset(&tmp, 0, sizeof(tmp));
	visit(&s, &tmp);
	if (s.err)
		return s.err;
	if (tmp.aimd_modifier <= 0 || tmp.prior_std_ppm < 0)
		return "fee_ctl: serialised value out of range";
	*st = tmp;
	return NULL;
}
