/* Flow analysis: source / sink / balanced classification with hysteresis,
 * adaptive EMA, velocity, confidence and roles; see flow.h. */
#include "engine/flow.h"
#include "engine/num.h"
#include <math.h>

const char *flow_class_name(enum flow_class c)
{
	switch (c) {
	case FLOW_SOURCE:
		return "source";
	case FLOW_SINK:
		return "sink";
	case FLOW_BALANCED:
		return "balanced";
	case FLOW_BALANCED_ACTIVE:
		return "balanced_active";
	case FLOW_DORMANT:
		return "dormant";
	case FLOW_CONGESTED:
		return "congested";
	case FLOW_UNKNOWN:
	case FLOW_CLASS_NUM:
		break;
	}
	return "unknown";
}

const char *flow_role_name(enum flow_role r)
{
	switch (r) {
	case FLOW_ROLE_INBOUND_GATEWAY:
		return "inbound_gateway";
	case FLOW_ROLE_OUTBOUND_GATEWAY:
		return "outbound_gateway";
	case FLOW_ROLE_BALANCED:
		return "balanced";
	case FLOW_ROLE_DORMANT:
		break;
	}
	return "dormant";
}

bool flow_class_is_balanced(enum flow_class c)
{
	return c == FLOW_BALANCED || c == FLOW_BALANCED_ACTIVE;
}

void flow_params_default(struct flow_params *p)
{
	p->window_days = 7;
	p->source_threshold = 0.5;
	p->sink_threshold = -0.5;
	p->threshold_exit_frac = 0.8;
	p->kalman_source_per_day = 0.05;
	p->kalman_sink_per_day = -0.05;
	p->uncertain_posterior_var = 10000;
	p->uncertain_threshold_mult = 1.5;
	p->sink_band_enter = 0.78;
	p->sink_band_exit = 0.72;
	p->source_band_enter = 0.22;
	p->source_band_exit = 0.28;
	p->active_turnover_per_day = 0.01;
	p->dormant_ratio_per_day = 0.01;
	p->source_multiplier = 1.25;
	p->sink_multiplier = 0.80;
	p->confidence_full_count = 20;
	p->recency_half_life_days = 3;
	p->never_forwarded_recency = 0.1;
	p->ema_base_decay = 0.8;
	p->ema_min_decay = 0.65;
	p->ema_max_decay = 0.95;
	p->ema_vol_high = 0.5;
	p->ema_vol_low = 0.1;
	p->ema_min_volume_sat = 1000;
	p->velocity_min_hours = 0.5;
	p->velocity_outlier_mult = 3;
	p->velocity_max = 0.5;
	p->role_min_forwards = 10;
	p->role_share = 0.70;
	kalman_params_default(&p->kalman);
}

void flow_state_init(struct flow_state *st)
{
	st->last_class = FLOW_UNKNOWN;
	st->last_ratio = 0;
	st->last_velocity = 0;
	st->last_ratio_sec = 0;
}

static const char basis_ratio[] = "ratio";

/* Inputs of the classification rule, shared by the channel and the peer
 * aggregate so both follow exactly the same thresholds. */
struct classify_in {
	enum flow_class prev; /* hysteresis anchor; UNKNOWN for none */
	bool congested;
	bool have_capacity;
	double ratio;	      /* the directional ratio compared below */
	double source_thr;
	double sink_thr;
	double daily_ratio;   /* for the vetoes and dormancy */
	double outbound;
	double turnover;
};

static enum flow_class classify(const struct flow_params *p,
				const struct classify_in *in,
				const char **basis, bool *vetoed)
{
	double src = in->source_thr, snk = in->sink_thr;
	bool sink_band, source_band;

	*vetoed = false;
	if (in->congested) {
		*basis = "congested";
		return FLOW_CONGESTED;
	}
	if (!in->have_capacity) {
		*basis = "no_capacity";
		return FLOW_UNKNOWN;
	}
	/* Exit hysteresis: once a side is taken, a ratio hovering at the
	 * threshold does not flip the class every cycle. */
	if (in->prev == FLOW_SOURCE)
		src *= p->threshold_exit_frac;
	if (in->prev == FLOW_SINK)
		snk *= p->threshold_exit_frac;
	if (in->ratio > src) {
		*basis = basis_ratio;
		return FLOW_SOURCE;
	}
	if (in->ratio < snk) {
		*basis = basis_ratio;
		return FLOW_SINK;
	}

	sink_band =
	    in->outbound >= p->sink_band_enter ||
	    (in->prev == FLOW_SINK && in->outbound >= p->sink_band_exit);
	source_band =
	    in->outbound <= p->source_band_enter ||
	    (in->prev == FLOW_SOURCE && in->outbound <= p->source_band_exit);
	/* A full channel that is draining is not a sink, and an empty one
	 * that is filling is not a source. */
	if (sink_band && in->daily_ratio > p->kalman_source_per_day) {
		sink_band = false;
		*vetoed = true;
	}
	if (source_band && in->daily_ratio < p->kalman_sink_per_day) {
		source_band = false;
		*vetoed = true;
	}
	if (sink_band) {
		*basis = "sink_band";
		return FLOW_SINK;
	}
	if (source_band) {
		*basis = "source_band";
		return FLOW_SOURCE;
	}
	*basis = "activity";
	if (in->turnover > p->active_turnover_per_day)
		return FLOW_BALANCED_ACTIVE;
	if (fabs(in->daily_ratio) < p->dormant_ratio_per_day)
		return FLOW_DORMANT;
	return FLOW_BALANCED;
}

static double class_multiplier(const struct flow_params *p, enum flow_class c)
{
	if (c == FLOW_SOURCE)
		return p->source_multiplier;
	if (c == FLOW_SINK)
		return p->sink_multiplier;
	return 1.0;
}

/* Adaptive EMA: steady channels remember longer (decay 0.95), volatile
 * ones react faster (0.65); too little volume to judge keeps the base. */
static void ema(const struct flow_params *p, const struct flow_obs *obs,
		struct flow_result *out)
{
	double sum_net = 0, sum_net2 = 0, sum_vol = 0, mean_vol, std_net;
	double w, sw = 0, si = 0, so = 0;
	size_t n = obs->n_days;

	out->ema_decay = p->ema_base_decay;
	out->volatility = 0;
	if (n == 0) {
		out->ema_in_sat = (double)obs->in_sat / p->window_days;
		out->ema_out_sat = (double)obs->out_sat / p->window_days;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		double in = (double)obs->daily_in_sat[i];
		double o = (double)obs->daily_out_sat[i];
		sum_net += o - in;
		sum_net2 += (o - in) * (o - in);
		sum_vol += o + in;
	}
	mean_vol = sum_vol / (double)n;
	std_net =
	    sqrt(fmax(0, sum_net2 / (double)n -
			     (sum_net / (double)n) * (sum_net / (double)n)));
	if (mean_vol >= p->ema_min_volume_sat) {
		double v = std_net / mean_vol;
		out->volatility = v;
		if (v > p->ema_vol_high)
			out->ema_decay = p->ema_min_decay;
		else if (v < p->ema_vol_low)
			out->ema_decay = p->ema_max_decay;
		else
			out->ema_decay =
			    p->ema_max_decay -
			    (v - p->ema_vol_low) /
				(p->ema_vol_high - p->ema_vol_low) *
				(p->ema_max_decay - p->ema_min_decay);
	}
	w = 1;
	for (size_t i = 0; i < n; i++) {
		si += (double)obs->daily_in_sat[i] * w;
		so += (double)obs->daily_out_sat[i] * w;
		sw += w;
		w *= out->ema_decay;
	}
	out->ema_in_sat = si / sw;
	out->ema_out_sat = so / sw;
}

static enum flow_role role_of(const struct flow_params *p, uint32_t in,
			      uint32_t o)
{
	double total = (double)in + (double)o;

	if (total < p->role_min_forwards)
		return FLOW_ROLE_DORMANT;
	if ((double)in / total > p->role_share)
		return FLOW_ROLE_INBOUND_GATEWAY;
	if ((double)o / total > p->role_share)
		return FLOW_ROLE_OUTBOUND_GATEWAY;
	return FLOW_ROLE_BALANCED;
}

const char *flow_analyze(const struct flow_params *p, struct flow_state *st,
			 const struct flow_obs *obs, uint64_t now,
			 struct flow_result *out)
{
	struct classify_in ci = {0};
	double cap, n_fwd, days_since;
	bool have_prev;

	*out = (struct flow_result){0};
	if (!(p->window_days > 0))
		return "flow: window_days must be positive";
	if (obs->n_days > FLOW_MAX_DAYS)
		return "flow: too many daily buckets";
	if (obs->local_sat > obs->capacity_sat)
		return "flow: local balance above capacity";

	cap = (double)obs->capacity_sat;
	if (obs->capacity_sat) {
		out->flow_ratio =
		    ((double)obs->out_sat - (double)obs->in_sat) / cap;
		out->outbound_ratio = (double)obs->local_sat / cap;
		out->turnover_per_day =
		    ((double)obs->in_sat + (double)obs->out_sat) / cap /
		    p->window_days;
	}
	out->daily_volume_sat =
	    ((double)obs->in_sat + (double)obs->out_sat) / p->window_days;

	ci.prev = st->last_class;
	ci.congested = obs->congested;
	ci.have_capacity = obs->capacity_sat != 0;
	ci.outbound = out->outbound_ratio;
	ci.turnover = out->turnover_per_day;
	if (obs->kalman && kalman_converged(&p->kalman, obs->kalman)) {
		double mult =
		    obs->fee_posterior_var > p->uncertain_posterior_var
			? p->uncertain_threshold_mult
			: 1.0;
		out->kalman_used = true;
		ci.ratio = obs->kalman->ratio;
		ci.source_thr = p->kalman_source_per_day * mult;
		ci.sink_thr = p->kalman_sink_per_day * mult;
		out->daily_ratio = obs->kalman->ratio;
	} else {
		ci.ratio = out->flow_ratio;
		ci.source_thr = p->source_threshold;
		ci.sink_thr = p->sink_threshold;
		out->daily_ratio = out->flow_ratio / p->window_days;
	}
	ci.daily_ratio = out->daily_ratio;
	out->source_threshold = ci.source_thr;
	out->sink_threshold = ci.sink_thr;
	out->cls = classify(p, &ci, &out->basis, &out->vetoed);
	/* Say which ratio crossed its threshold. */
	if (out->kalman_used && out->basis == basis_ratio)
		out->basis = "kalman";
	out->flow_multiplier = class_multiplier(p, out->cls);

	ema(p, obs, out);

	/* Velocity of the window ratio; too short an interval keeps the last
	 * estimate (and the old baseline) rather than dividing noise. */
	have_prev = st->last_ratio_sec != 0 && now > st->last_ratio_sec;
	out->velocity = st->last_velocity;
	if (st->last_ratio_sec == 0) {
		out->velocity = 0;
		st->last_ratio = out->flow_ratio;
		st->last_ratio_sec = now;
		st->last_velocity = 0;
	} else if (have_prev) {
		double hours = (double)(now - st->last_ratio_sec) / 3600.0;
		if (hours >= p->velocity_min_hours) {
			double v = (out->flow_ratio - st->last_ratio) / hours;
			double lim = p->velocity_outlier_mult *
				     (fabs(out->flow_ratio) + 0.01);
			v = clampd(v, -lim, lim);
			v = clampd(v, -p->velocity_max, p->velocity_max);
			out->velocity = v;
			st->last_ratio = out->flow_ratio;
			st->last_ratio_sec = now;
			st->last_velocity = v;
		}
	}

	n_fwd = (double)obs->in_count + (double)obs->out_count;
	out->count_factor =
	    n_fwd >= p->confidence_full_count
		? 1.0
		: 0.1 + 0.9 * n_fwd / (double)p->confidence_full_count;
	if (obs->last_forward_sec == 0) {
		out->recency = p->never_forwarded_recency;
	} else {
		days_since =
		    now > obs->last_forward_sec
			? (double)(now - obs->last_forward_sec) / 86400.0
			: 0;
		out->recency = pow(0.5, days_since / p->recency_half_life_days);
	}
	out->confidence = clampd(out->count_factor * out->recency, 0.1, 1.0);
	out->role = role_of(p, obs->role_in_count, obs->role_out_count);

	st->last_class = out->cls;
	return NULL;
}

const char *flow_aggregate_peer(const struct flow_params *p,
				const struct flow_obs *obs,
				const struct flow_result *res, size_t n,
				struct flow_peer_result *out)
{
	struct classify_in ci = {0};
	double wconf = 0, cap;
	const char *basis;
	bool vetoed;

	*out = (struct flow_peer_result){0};
	if (n == 0)
		return "flow: peer has no channels";
	for (size_t i = 0; i < n; i++) {
		uint64_t fw = (uint64_t)obs[i].in_count + obs[i].out_count;
		if (__builtin_add_overflow(out->capacity_sat,
					   obs[i].capacity_sat,
					   &out->capacity_sat) ||
		    __builtin_add_overflow(out->local_sat, obs[i].local_sat,
					   &out->local_sat) ||
		    __builtin_add_overflow(out->in_sat, obs[i].in_sat,
					   &out->in_sat) ||
		    __builtin_add_overflow(out->out_sat, obs[i].out_sat,
					   &out->out_sat) ||
		    __builtin_add_overflow(out->forward_count, fw,
					   &out->forward_count))
			return "flow: peer sum overflows";
		wconf += (double)obs[i].capacity_sat * res[i].confidence;
		switch (res[i].cls) {
		case FLOW_SOURCE:
			out->n_source++;
			break;
		case FLOW_SINK:
			out->n_sink++;
			break;
		case FLOW_CONGESTED:
			out->n_congested++;
			break;
		case FLOW_BALANCED:
		case FLOW_BALANCED_ACTIVE:
			out->n_balanced++;
			break;
		case FLOW_DORMANT:
		case FLOW_UNKNOWN:
		case FLOW_CLASS_NUM:
			break;
		}
	}
	out->n_channels = n;
	cap = (double)out->capacity_sat;
	if (out->capacity_sat) {
		out->flow_ratio =
		    ((double)out->out_sat - (double)out->in_sat) / cap;
		out->outbound_ratio = (double)out->local_sat / cap;
		out->confidence = wconf / cap;
		ci.turnover = ((double)out->in_sat + (double)out->out_sat) /
			      cap / p->window_days;
	} else {
		out->confidence = 0.1;
	}
	ci.prev = FLOW_UNKNOWN;
	/* One free channel still carries traffic: the peer is congested only
	 * when all of its channels are. */
	ci.congested = out->n_congested == n;
	ci.have_capacity = out->capacity_sat != 0;
	ci.ratio = out->flow_ratio;
	ci.source_thr = p->source_threshold;
	ci.sink_thr = p->sink_threshold;
	ci.daily_ratio = out->flow_ratio / p->window_days;
	ci.outbound = out->outbound_ratio;
	out->cls = classify(p, &ci, &basis, &vetoed);
	out->flow_multiplier = class_multiplier(p, out->cls);
	return NULL;
}
