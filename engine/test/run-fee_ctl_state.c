/* Unit tests for engine/fee_ctl_state.c: the persisted state.
 *
 *  - Serialise / deserialise: the documented layout, an exact round trip
 *    that continues identically (a restart), malformed inputs.
 *  - A splice keeps the learned state. */
#include "engine/test/fee_ctl_cases.h"

static void test_serialisation(void)
{
	static double buf[FEE_CTL_STATE_MAX_LEN], buf2[FEE_CTL_STATE_MAX_LEN];
	struct sim s;
	struct fee_ctl_decision d, d2;
	struct fee_ctl_state copy, before;
	struct fee_ctl_obs o2;
	struct rng r1, r2;
	size_t n, n2;
	int differ = 0;
	const char *err;

	sim_init(&s, 77, 200, 20);
	for (int c = 0; c < 300; c++)
		sim_cycle(&s, &d);
	n = fee_ctl_state_serialise(&s.st, buf, FEE_CTL_STATE_MAX_LEN);
	CHECK(n == fee_ctl_state_serialised_len(&s.st) && n > 60 &&
		  buf[0] == FEE_CTL_STATE_VERSION,
	      "serialised %zu numbers (%u observations)", n, s.st.n_obs);
	CHECK(fee_ctl_state_serialise(&s.st, buf2, n - 1) == 0,
	      "a too-small buffer is refused");
	/* The documented layout is a contract with the caller's storage. */
	CHECK(n == FEE_CTL_STATE_HEADER_LEN + 5 * (size_t)s.st.n_obs &&
		  buf[1] == (double)s.st.last_set_fee_ppm &&
		  buf[4] == (double)s.st.last_update_sec &&
		  buf[9] == s.st.prior_mean_ppm &&
		  buf[12] == s.st.aimd_modifier &&
		  buf[19] == s.st.vegas_intensity &&
		  buf[28] == (double)s.st.probe_attempts &&
		  buf[31] == (double)s.st.n_obs &&
		  buf[n - 5] == s.st.obs[(s.st.obs_head + FEE_CTL_MAX_OBS - 1) %
					 FEE_CTL_MAX_OBS]
				    .fee_ppm,
	      "serialised layout: 32 + 5 n numbers, fields at their indexes, "
	      "newest observation last");

	memset(&copy, 0, sizeof(copy));
	err = fee_ctl_state_deserialise(&copy, buf, n);
	n2 = fee_ctl_state_serialise(&copy, buf2, FEE_CTL_STATE_MAX_LEN);
	CHECK(err == NULL && n2 == n &&
		  memcmp(buf, buf2, n * sizeof(double)) == 0,
	      "round trip is exact %s", err ? err : "");

	/* A restart: the reloaded state continues exactly like the live one. */
	o2 = s.o;
	r1 = s.rng;
	r2 = s.rng;
	for (int c = 0; c < 50; c++) {
		uint64_t t = s.now + (uint64_t)(c + 1) * HOUR;
		struct fee_ctl_obs o1 = s.o;
		step(&s.p, &s.st, &o1, t, &r1, &d);
		step(&s.p, &copy, &o2, t, &r2, &d2);
		if (d.action != d2.action || d.fee_ppm != d2.fee_ppm)
			differ++;
		if (d.action == FEE_CTL_SET) {
			s.o.chain_fee_ppm = d.fee_ppm;
			o2.chain_fee_ppm = d2.fee_ppm;
		}
	}
	CHECK_EQ_INT(differ, 0, "a restarted state decides like the live one");

	/* Malformed input. */
	buf2[0] = 2;
	CHECK(fee_ctl_state_deserialise(&copy, buf2, n) != NULL,
	      "unknown version refused");
	memcpy(buf2, buf, n * sizeof(double));
	CHECK(fee_ctl_state_deserialise(&copy, buf2, n - 1) != NULL,
	      "truncated refused");
	buf2[n] = 0;
	CHECK(fee_ctl_state_deserialise(&copy, buf2, n + 1) != NULL,
	      "trailing data refused");
	buf2[3] = NAN;
	CHECK(fee_ctl_state_deserialise(&copy, buf2, n) != NULL,
	      "NaN refused");
	memcpy(buf2, buf, n * sizeof(double));
	buf2[1] = 1.5; /* last_set_fee_ppm must be whole */
	CHECK(fee_ctl_state_deserialise(&copy, buf2, n) != NULL,
	      "a fractional integer field refused");
	before = copy;
	memcpy(buf2, buf, n * sizeof(double));
	buf2[n - 5 * s.st.n_obs - 1] = FEE_CTL_MAX_OBS + 1;
	CHECK(fee_ctl_state_deserialise(&copy, buf2, n) != NULL &&
		  memcmp(&before, &copy, sizeof(copy)) == 0,
	      "too many observations refused, state unchanged");
	CHECK(fee_ctl_state_deserialise(&copy, NULL, 0) != NULL,
	      "empty input refused");
}

static void test_splice(void)
{
	struct sim s;
	struct fee_ctl_decision d;
	struct fee_ctl_posterior before, after;
	uint32_t nobs;

	sim_init(&s, 88, 250, 20);
	for (int c = 0; c < 100; c++)
		sim_cycle(&s, &d);
	fee_ctl_posterior(&s.p, &s.st, s.now, &before);
	nobs = s.st.n_obs;
	/* Splice-in: the channel doubles; same state, same channel. */
	s.o.capacity_sat *= 2;
	s.o.local_sat += s.o.capacity_sat / 2;
	sim_cycle(&s, &d);
	fee_ctl_posterior(&s.p, &s.st, s.now, &after);
	CHECK(d.action != FEE_CTL_ADOPT_EXTERNAL && s.st.n_obs >= nobs &&
		  fabs(after.mean_ppm - before.mean_ppm) < 30,
	      "a splice keeps the learned state (%u -> %u obs, mean %g -> %g)",
	      nobs, s.st.n_obs, before.mean_ppm, after.mean_ppm);
}

int main(void)
{
	test_serialisation();
	test_splice();
	return check_done();
}
