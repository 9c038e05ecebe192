/* Kalman flow filter; see kalman.h for the model. Constant-velocity
 * dynamics with F = [[1, dt], [0, 1]] and observation H = [1, 0]. */
#include "engine/kalman.h"
#include "engine/num.h"
#include <math.h>

void kalman_params_default(struct kalman_params *p)
{
	p->velocity_max_per_hour = 0.5 / 24;
	p->process_noise = 0.01 / 24;
	p->velocity_process_noise = 0.005 / 24;
	p->process_noise_min = 0.001 / 24;
	p->process_noise_max = 0.1 / 24;
	p->measurement_noise = 0.05;
	p->measurement_noise_min = 0.01;
	p->measurement_noise_max = 0.5;
	p->initial_variance = 0.1;
	p->volatility_scaling = 2.0;
	p->confidence_scaling = 0.8;
	p->convergence_uncertainty = 0.25;
	p->min_observations = 5;
	p->min_update_interval_sec = 300;
	p->first_dt_hours = 24;
	p->max_dt_hours = 168;
	p->regime_sigma = 2.5;
}

/* The velocity is bounded, so a variance beyond the bound squared says
 * nothing more; capping it keeps a long gap from blowing P up. */
static double p11_max(const struct kalman_params *p)
{
	return p->velocity_max_per_hour * p->velocity_max_per_hour;
}

void kalman_init(const struct kalman_params *p, struct kalman_state *st)
{
	st->ratio = 0;
	st->velocity_per_hour = 0;
	st->p00 = p->initial_variance;
	st->p01 = 0;
	st->p11 = fmin(p->initial_variance, p11_max(p));
	st->innovation_variance = 0.001;
	st->last_innovation = 0;
	st->observation_count = 0;
	st->last_update_sec = 0;
}

/* Keep P symmetric positive-definite: the ratio lives in [-1, 1], so a
 * variance above 1 is meaningless; the off-diagonal stays strictly inside
 * the Cauchy-Schwarz bound. */
static void clamp_cov(const struct kalman_params *p, struct kalman_state *st)
{
	double lim;

	st->p00 = clampd(st->p00, 1e-9, 1.0);
	st->p11 = clampd(st->p11, 1e-12, p11_max(p));
	lim = 0.99 * sqrt(st->p00 * st->p11);
	st->p01 = clampd(st->p01, -lim, lim);
}

static void clamp_x(const struct kalman_params *p, struct kalman_state *st)
{
	st->ratio = clampd(st->ratio, -1, 1);
	st->velocity_per_hour =
	    clampd(st->velocity_per_hour, -p->velocity_max_per_hour,
		   p->velocity_max_per_hour);
}

static bool state_finite(const struct kalman_state *st)
{
	return isfinite(st->ratio) && isfinite(st->velocity_per_hour) &&
	       isfinite(st->p00) && isfinite(st->p01) && isfinite(st->p11) &&
	       isfinite(st->innovation_variance) &&
	       isfinite(st->last_innovation);
}

double kalman_measurement(int64_t net_out_msat_24h, uint64_t capacity_sat)
{
	if (capacity_sat == 0)
		return 0;
	return clampd((double)net_out_msat_24h / 1000.0 / (double)capacity_sat,
		      -1, 1);
}

double kalman_volatility(const int64_t *daily_net_sat, size_t n_days)
{
	double sum_abs = 0, sum_diff = 0, cv;

	if (!daily_net_sat || n_days < 3)
		return 1.0;
	for (size_t i = 0; i < n_days; i++)
		sum_abs += fabs((double)daily_net_sat[i]);
	for (size_t i = 1; i < n_days; i++)
		sum_diff += fabs((double)daily_net_sat[i] -
				 (double)daily_net_sat[i - 1]);
	if (sum_abs / (double)n_days < 1000)
		cv = 0.5;
	else
		cv = (sum_diff / (double)(n_days - 1)) /
		     (sum_abs / (double)n_days);
	return 0.5 + fmin(1.5, 3 * cv);
}

void kalman_predict(const struct kalman_params *p, struct kalman_state *st,
		    double dt_hours, double volatility, double *q_r,
		    double *q_v)
{
	double dt = dt_hours, qr, qv, p00, p01, p11;

	if (!(dt > 0)) {
		if (q_r)
			*q_r = 0;
		if (q_v)
			*q_v = 0;
		return;
	}
	st->ratio += st->velocity_per_hour * dt;
	clamp_x(p, st);

	qr = clampd(p->process_noise * volatility * p->volatility_scaling,
		    p->process_noise_min, p->process_noise_max);
	qv = clampd(p->velocity_process_noise * volatility,
		    p->process_noise_min / 10, p->process_noise_max / 10);
	/* F P F^T + Q for the constant-velocity model, from the old P. */
	p00 = st->p00 + 2 * dt * st->p01 + dt * dt * st->p11 + qr * dt +
	      qv * dt * dt * dt / 3;
	p01 = st->p01 + dt * st->p11 + qv * dt * dt / 2;
	p11 = st->p11 + qv * dt;
	st->p00 = p00;
	st->p01 = p01;
	st->p11 = p11;
	clamp_cov(p, st);
	if (q_r)
		*q_r = qr;
	if (q_v)
		*q_v = qv;
}

void kalman_update(const struct kalman_params *p, struct kalman_state *st,
		   double z, double confidence, struct kalman_result *out)
{
	double r, y, s, k0, k1, a, p00, p01, p11;

	r = clampd(p->measurement_noise /
		       fmax(0.1, confidence * p->confidence_scaling),
		   p->measurement_noise_min, p->measurement_noise_max);
	y = z - st->ratio;
	s = fmax(st->p00 + r, 1e-10);
	k0 = st->p00 / s;
	k1 = st->p01 / s;
	st->ratio += k0 * y;
	st->velocity_per_hour += k1 * y;
	clamp_x(p, st);

	/* Joseph form: (I - K H) P (I - K H)^T + K R K^T, which stays
	 * positive-definite under rounding where (I - K H) P may not. */
	a = 1 - k0;
	p00 = a * a * st->p00 + r * k0 * k0;
	p01 = a * (st->p01 - k1 * st->p00) + r * k0 * k1;
	p11 = k1 * k1 * st->p00 - 2 * k1 * st->p01 + st->p11 + r * k1 * k1;
	st->p00 = p00;
	st->p01 = p01;
	st->p11 = p11;
	clamp_cov(p, st);

	st->innovation_variance =
	    fmax(0.001, 0.9 * st->innovation_variance + 0.1 * y * y);
	st->last_innovation = y;
	st->observation_count++;
	if (out) {
		out->measurement_noise = r;
		out->innovation = y;
		out->gain_ratio = k0;
		out->gain_velocity = k1;
	}
}

double kalman_uncertainty(const struct kalman_state *st)
{
	return sqrt(fmax(0, st->p00));
}

bool kalman_converged(const struct kalman_params *p,
		      const struct kalman_state *st)
{
	return kalman_uncertainty(st) < p->convergence_uncertainty &&
	       st->observation_count >= p->min_observations;
}

bool kalman_regime_change(const struct kalman_params *p,
			  const struct kalman_state *st)
{
	if (st->observation_count == 0)
		return false;
	return fabs(st->last_innovation) >
	       p->regime_sigma * sqrt(fmax(0.001, st->innovation_variance));
}

const char *kalman_step(const struct kalman_params *p, struct kalman_state *st,
			const struct kalman_obs *obs, uint64_t now,
			struct kalman_result *out)
{
	double dt, vol;

	*out = (struct kalman_result){0};
	if (obs->has_measurement &&
	    (!isfinite(obs->z) || !(obs->confidence >= 0) ||
	     !(obs->confidence <= 1)))
		return "kalman: measurement or confidence out of range";
	vol = isfinite(obs->volatility) && obs->volatility > 0
		  ? obs->volatility
		  : 1.0;

	if (!state_finite(st)) {
		kalman_init(p, st);
		out->reset = true;
	}
	if (st->last_update_sec != 0 && now >= st->last_update_sec &&
	    now - st->last_update_sec < p->min_update_interval_sec) {
		out->reason = "too_soon";
		out->uncertainty = kalman_uncertainty(st);
		out->converged = kalman_converged(p, st);
		out->regime_change = kalman_regime_change(p, st);
		return NULL;
	}
	if (st->last_update_sec == 0)
		dt = p->first_dt_hours;
	else if (now <= st->last_update_sec)
		dt = 0; /* clock went back: update without predicting */
	else
		dt = (double)(now - st->last_update_sec) / 3600.0;
	dt = fmin(dt, p->max_dt_hours);
	out->dt_hours = dt;

	kalman_predict(p, st, dt, vol, &out->q_ratio, &out->q_velocity);
	if (obs->has_measurement) {
		kalman_update(p, st, clampd(obs->z, -1, 1), obs->confidence,
			      out);
		out->reason = "updated";
	} else {
		out->reason = "predict_only";
	}
	if (now > st->last_update_sec)
		st->last_update_sec = now;
	out->uncertainty = kalman_uncertainty(st);
	out->converged = kalman_converged(p, st);
	out->regime_change =
	    obs->has_measurement && kalman_regime_change(p, st);
	return NULL;
}
