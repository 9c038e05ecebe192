/* Unit tests for the oracle baseline (sim/oracle.c) on a tiny generated
 * network: it is at least as good as every static baseline, replays to
 * what it claims, does not depend on the number of workers, is read back
 * from its cache, and refuses a cache from another scenario or seed, or a
 * corrupt one, with an error naming the file and what differs. */
#include "common/util.h"
#include "sim/keys.h"
#include "sim/net.h"
#include "sim/oracle.h"
#include "sim/payments.h"
#include "sim/pricing.h"
#include "sim/scenario.h"
#include "sim/sim.h"
#include "tests/check.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char tiny[] =
	"{\"name\": \"%s\", \"seed\": 3, \"start_time\": 1767225600,"
	" \"start_height\": 900000,"
	" \"nodes\": [{\"alias\": \"f\", \"fleet\": true}],"
	" \"generate\": {\"nodes\": 14, \"fleet_channels\": 3},"
	" \"competitors\": {\"share\": 0.5}}";

static struct scenario *load(const char *name)
{
	char *text = xfmt(tiny, name);
	json_t *doc = json_loads(text, 0, NULL);
	char *err = NULL;
	struct scenario *sc = scenario_from_json("tiny.json", doc, &err);

	if (!sc) {
		printf("# scenario: %s\n", err);
		abort();
	}
	json_decref(doc);
	free(text);
	return sc;
}

/* The market median of each fleet channel when the measured period
 * starts, as the market-median baseline sets them. */
static uint32_t *medians(const struct oracle_setup *s, size_t n)
{
	struct sim_opts so = {.dir = "/nonexistent", .baseline = true,
			      .competitor_share = -1};
	char *err = NULL;
	struct sim *sim = sim_new(s->sc, &so, &err);
	uint64_t t = sim->now_ms + (uint64_t)(s->warmup_days * 86400000.0);
	uint32_t *m = xmalloc(sizeof(*m) * n);
	size_t k = 0;

	payments_start(sim->pay, sim->now_ms, t);
	if (!sim_play(sim, t, NULL, NULL, &err))
		abort();
	for (size_t i = 0; i < sim->net->nnodes; i++) {
		const struct net_node *nd = &sim->net->nodes[i];
		if (!nd->fleet)
			continue;
		for (size_t c = 0; c < nd->nchans && k < n; c++)
			m[k++] = pricing_market_median_ppm(sim->net, nd->chans[c],
							   (uint32_t)i);
	}
	free(sim_free(sim));
	return m;
}

int main(void)
{
	char dir[] = "/tmp/hive-oracle-test.XXXXXX";
	struct scenario *sc, *other;
	struct oracle_setup s = {.days = 1, .warmup_days = 0.5,
				 .competitor_share = -1, .jobs = 2};
	struct oracle_result r = {0}, again = {0}, one = {0};
	struct oracle_eval stock, market, replay;
	char *cache, *cache1, *err = NULL;
	uint32_t *med;
	size_t n;

	if (!keys_init() || !mkdtemp(dir))
		return 1;
	sc = load("tiny");
	s.sc = sc;
	cache = xfmt("%s/sub/oracle.json", dir);
	cache1 = xfmt("%s/oracle-1.json", dir);
	n = oracle_channels(&s, &err);
	CHECK_EQ_INT(n, 3, "the search prices the fleet's 3 channels");

	CHECK(oracle_find(&s, cache, NULL, &r, &err), "search: %s",
	      err ? err : "ok");
	free(err);
	err = NULL;
	CHECK(!r.from_cache && r.runs > 20 && r.n == 3,
	      "searched (%u runs), not read", r.runs);
	CHECK(access(cache, F_OK) == 0, "the result is cached in %s", cache);

	med = medians(&s, n);
	if (!oracle_run(&s, NULL, &stock, &err) ||
	    !oracle_run(&s, med, &market, &err) ||
	    !oracle_run(&s, r.ppm, &replay, &err))
		abort();
	printf("# fees: stock %llu, market median %llu, oracle %llu msat "
	       "(ppm %u %u %u)\n",
	       (unsigned long long)stock.fees_earned_msat,
	       (unsigned long long)market.fees_earned_msat,
	       (unsigned long long)r.best.fees_earned_msat, r.ppm[0], r.ppm[1],
	       r.ppm[2]);
	CHECK(r.best.fees_earned_msat >= stock.fees_earned_msat,
	      "the oracle earns at least the initial (stock) fees");
	CHECK(r.best.fees_earned_msat >= market.fees_earned_msat,
	      "the oracle earns at least the market median");
	CHECK(r.best.fees_earned_msat > 0, "and it earns something");
	CHECK_EQ_INT(replay.fees_earned_msat, r.best.fees_earned_msat,
		     "playing its fees again earns exactly what it claims");

	s.jobs = 1;
	CHECK(oracle_find(&s, cache1, NULL, &one, &err), "one worker: %s",
	      err ? err : "ok");
	CHECK(one.n == 3 && !memcmp(one.ppm, r.ppm, sizeof(*r.ppm) * 3) &&
		      one.runs == r.runs,
	      "one worker finds the same fees in the same runs");
	s.jobs = 2;

	CHECK(oracle_find(&s, cache, NULL, &again, &err), "cached: %s",
	      err ? err : "ok");
	CHECK(again.from_cache && again.runs == r.runs &&
		      !memcmp(again.ppm, r.ppm, sizeof(*r.ppm) * 3),
	      "the second time it is read from the cache");
	oracle_result_free(&again);

	/* A new description changes nothing the search depends on. */
	{
		struct scenario *same = load("tiny");
		json_object_set_new(same->raw, "description",
				    json_string("reworded"));
		s.sc = same;
		CHECK(oracle_find(&s, cache, NULL, &again, &err) &&
			      again.from_cache,
		      "a reworded description keeps the cache: %s",
		      err ? err : "ok");
		oracle_result_free(&again);
		free(err);
		err = NULL;
		s.sc = sc;
		scenario_free(same);
	}

	s.seed = 4;
	CHECK(!oracle_find(&s, cache, NULL, &again, &err),
	      "a cache for another seed is refused");
	CHECK(err && strstr(err, cache) && strstr(err, "seed 3, not 4"),
	      "the error names the file and the seeds: %s", err);
	free(err);
	err = NULL;
	s.seed = 0;

	other = load("tiny2");
	s.sc = other;
	CHECK(!oracle_find(&s, cache, NULL, &again, &err),
	      "a cache for another scenario is refused");
	CHECK(err && strstr(err, "scenario 'tiny', not 'tiny2'"),
	      "the error names both scenarios: %s", err);
	free(err);
	err = NULL;
	s.sc = sc;

	s.days = 2;
	CHECK(!oracle_find(&s, cache, NULL, &again, &err),
	      "a cache for other days is refused");
	CHECK(err && strstr(err, "another setup"), "... saying so: %s", err);
	free(err);
	err = NULL;
	s.days = 1;

	{
		FILE *f = fopen(cache, "w");
		fputs("{\"scenario\": ", f);
		fclose(f);
	}
	CHECK(!oracle_find(&s, cache, NULL, &again, &err),
	      "a corrupt cache is refused, not overwritten");
	CHECK(err && strstr(err, cache), "the error names the file: %s", err);
	free(err);

	oracle_result_free(&r);
	oracle_result_free(&one);
	free(med);
	unlink(cache);
	unlink(cache1);
	{
		char *sub = xfmt("%s/sub", dir);
		rmdir(sub);
		free(sub);
	}
	rmdir(dir);
	free(cache);
	free(cache1);
	scenario_free(sc);
	scenario_free(other);
	keys_cleanup();
	return check_done();
}
