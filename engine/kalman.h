/* Kalman flow filter (spec §4.3): a two-state filter per channel that
 * smooths the daily net-outflow ratio and estimates how fast it moves.
 *
 *   state x = [r, v]: r = net outflow over 24 h / capacity, in [-1, 1]
 *                     (positive: liquidity leaves our side, a source),
 *                     v = its rate of change per hour;
 *   covariance P = [[p00, p01], [p01, p11]].
 *
 * The caller persists struct kalman_state (plain numbers, no pointers) and
 * calls kalman_step() once per flow cycle with the last 24 h measurement.
 * Uncertainty below 0.25 with at least 5 observations is "converged", and
 * the flow classifier then trusts the filtered ratio (engine/flow.h). A big
 * innovation relative to its running variance flags a regime change, which
 * the fee controller answers by exploring more widely. */
#ifndef HIVE_ENGINE_KALMAN_H
#define HIVE_ENGINE_KALMAN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kalman_params {
	double velocity_max_per_hour;	 /* |v| bound: 0.5/24 */
	double process_noise;		 /* ratio noise per hour: 0.01/24 */
	double velocity_process_noise;	 /* 0.005/24 */
	double process_noise_min;	 /* 0.001/24 (velocity: /10) */
	double process_noise_max;	 /* 0.1/24 (velocity: /10) */
	double measurement_noise;	 /* 0.05 */
	double measurement_noise_min;	 /* 0.01 */
	double measurement_noise_max;	 /* 0.5 */
	double initial_variance;	 /* 0.1 */
	double volatility_scaling;	 /* 2.0 */
	double confidence_scaling;	 /* 0.8 */
	double convergence_uncertainty;	 /* 0.25 (on sqrt(p00)) */
	uint32_t min_observations;	 /* 5 */
	uint64_t min_update_interval_sec; /* 300 */
	double first_dt_hours; /* 24: prediction span of a new filter */
	double max_dt_hours;		 /* 168 */
	double regime_sigma;		 /* 2.5 */
};

/* Fill @p with the reference constants listed above. */
void kalman_params_default(struct kalman_params *p);

/* Persisted per channel by the caller. All fields are plain numbers so the
 * struct stores as a row; velocity is per hour (multiply by 24 for the
 * "per_day" unit the reference stores). */
struct kalman_state {
	double ratio;
	double velocity_per_hour;
	double p00, p01, p11;
	double innovation_variance;
	double last_innovation;
	uint32_t observation_count;
	uint64_t last_update_sec; /* 0: never updated */
};

/* Reset @st to the prior: ratio 0, velocity 0, p00 = initial variance,
 * p11 = min(initial variance, velocity bound squared), never updated. */
void kalman_init(const struct kalman_params *p, struct kalman_state *st);

struct kalman_obs {
	bool has_measurement; /* false: predict only */
	double z;	      /* kalman_measurement() */
	double confidence;    /* 0..1 (flow confidence) */
	double volatility;    /* kalman_volatility(), 0.5..2.0 */
};

struct kalman_result {
	const char *reason;	 /* "too_soon", "updated", "predict_only" */
	bool reset;		 /* non-finite state found and reset first */
	double dt_hours;	 /* prediction span used (0 if too soon) */
	double q_ratio;		 /* process noise used */
	double q_velocity;
	double measurement_noise; /* R */
	double innovation;	 /* y = z - predicted r (0 if no update) */
	double gain_ratio;	 /* K0 */
	double gain_velocity;	 /* K1 */
	double uncertainty;	 /* sqrt(p00) after the step */
	bool converged;
	bool regime_change;
};

/* The measurement: net outflow of the last 24 h (out - in, msat) over the
 * capacity, clamped to [-1, 1]. Capacity 0 gives 0. */
double kalman_measurement(int64_t net_out_msat_24h, uint64_t capacity_sat);

/* Volatility factor from daily net buckets (sat, any order of days):
 * fewer than 3 days -> 1.0; otherwise cv = mean|day-to-day change| /
 * mean|net| (0.5 when mean|net| < 1000 sat) and the result is
 * 0.5 + min(1.5, 3 cv). */
double kalman_volatility(const int64_t *daily_net_sat, size_t n_days);

/* Predict @dt_hours ahead (no-op if dt <= 0). Writes the process noise it
 * used to *q_r / *q_v (either may be NULL). */
void kalman_predict(const struct kalman_params *p, struct kalman_state *st,
		    double dt_hours, double volatility, double *q_r,
		    double *q_v);

/* Fold in measurement @z with @confidence (Joseph-form covariance update,
 * so P stays symmetric positive-definite). Writes R, innovation and gains
 * to @out if non-NULL. */
void kalman_update(const struct kalman_params *p, struct kalman_state *st,
		   double z, double confidence, struct kalman_result *out);

/* One flow-cycle step at @now: skip if the last update is less than
 * min_update_interval ago; otherwise predict over the elapsed time (24 h
 * for a new filter, capped at 168 h) and update if @obs has a measurement.
 * A state holding NaN/inf is reset first (out->reset). Fills @out (never
 * NULL). Returns NULL, or an error for bad input (NaN measurement,
 * confidence outside [0, 1]); @st is untouched on error. */
const char *kalman_step(const struct kalman_params *p, struct kalman_state *st,
			const struct kalman_obs *obs, uint64_t now,
			struct kalman_result *out)
	__attribute__((warn_unused_result));

/* sqrt(p00). */
double kalman_uncertainty(const struct kalman_state *st);
/* Uncertainty below the threshold and enough observations. */
bool kalman_converged(const struct kalman_params *p,
		      const struct kalman_state *st);
/* |last innovation| > regime_sigma * sqrt(max(0.001, innovation var)). */
bool kalman_regime_change(const struct kalman_params *p,
			  const struct kalman_state *st);

#endif
