/* The hindsight-best static fees: search and cache; see oracle.h. */
#include "sim/oracle.h"
#include "common/util.h"
#include "sim/net.h"
#include "sim/payments.h"
#include "sim/pricing.h"
#include "sim/scenario.h"
#include "sim/sim.h"
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Bump when the network model changes what a run earns: older caches
 * then no longer match. */
#define ORACLE_MODEL_VERSION "hive-sim-model-2"

/* The fee grid (ppm), roughly x1.4 apart; the coarse pass takes every
 * other point. */
static const uint32_t grid[] = {0,    1,    3,    5,    10,   15,  20,
				30,   40,   55,   75,   100,  140, 200,
				280,  400,  550,  750,  1000, 1400, 2000,
				2800, 4000, 5500, 7500};
#define NGRID (sizeof(grid) / sizeof(grid[0]))
static const double start_mults[] = {0.5, 0.75, 1, 1.5, 2, 3};
#define MAX_PASSES 6
/* Beyond this many channels a search takes hours: say so instead. */
#define MAX_CHANNELS 200

static struct sim *build(const struct oracle_setup *s, char **err)
{
	struct sim_opts so = {
		.dir = "/nonexistent",
		.baseline = true,
		.competitor_share = s->competitor_share,
		.seed = s->seed,
	};
	return sim_new(s->sc, &so, err);
}

static void fleet_channels(const struct net *net, uint32_t **chan,
			   uint32_t **node, size_t *n)
{
	*n = 0;
	*chan = *node = NULL;
	for (size_t i = 0; i < net->nnodes; i++)
		if (net->nodes[i].fleet)
			*n += net->nodes[i].nchans;
	*chan = xmalloc(sizeof(**chan) * (*n + 1));
	*node = xmalloc(sizeof(**node) * (*n + 1));
	*n = 0;
	for (size_t i = 0; i < net->nnodes; i++) {
		const struct net_node *nd = &net->nodes[i];
		if (!nd->fleet)
			continue;
		for (size_t k = 0; k < nd->nchans; k++) {
			(*chan)[*n] = nd->chans[k];
			(*node)[(*n)++] = (uint32_t)i;
		}
	}
}

size_t oracle_channels(const struct oracle_setup *s, char **err)
{
	struct sim *sim = build(s, err);
	uint32_t *c, *nd;
	size_t n;

	if (!sim)
		return 0;
	fleet_channels(sim->net, &c, &nd, &n);
	free(c);
	free(nd);
	free(sim_free(sim));
	return n;
}

bool oracle_run(const struct oracle_setup *s, const uint32_t *ppm,
		struct oracle_eval *out, char **err)
{
	struct sim *sim = build(s, err);
	uint64_t t0, t_measure, t_end;
	struct net *net;
	size_t k = 0;

	memset(out, 0, sizeof(*out));
	if (!sim)
		return false;
	net = sim->net;
	t0 = sim->now_ms;
	t_measure = t0 + (uint64_t)(s->warmup_days * 86400000.0);
	t_end = t_measure + (uint64_t)(s->days * 86400000.0);
	payments_start(sim->pay, t0, t_end);
	if (!sim_play(sim, t_measure, NULL, NULL, err))
		goto fail;
	for (size_t i = 0; i < net->nnodes; i++) {
		struct net_node *n = &net->nodes[i];
		if (!n->fleet)
			continue;
		out->fees_earned_msat -= n->fees_earned_msat;
		out->forwarded_msat -= n->forwarded_msat;
		out->forwards_settled -= n->forwards_settled;
		out->fee_updates -= n->fee_updates;
		if (ppm)
			pricing_set_baseline(sim->pricing, (uint32_t)i,
					     BASELINE_FIXED, &sim->baseline_cfg,
					     ppm + k);
		k += n->nchans;
	}
	if (!sim_play(sim, t_end, NULL, NULL, err))
		goto fail;
	/* Unsigned wrap-around: the counters only grow. */
	for (size_t i = 0; i < net->nnodes; i++) {
		const struct net_node *n = &net->nodes[i];
		if (!n->fleet)
			continue;
		out->fees_earned_msat += n->fees_earned_msat;
		out->forwarded_msat += n->forwarded_msat;
		out->forwards_settled += n->forwards_settled;
		out->fee_updates += n->fee_updates;
	}
	free(sim_free(sim));
	return true;
fail:
	free(sim_free(sim));
	return false;
}

/* ---- parallel evaluation ---------------------------------------------- */

struct slot {
	bool done, ok;
	struct oracle_eval ev;
	char err[256];
};

/* Evaluate @ncand fee vectors (@ncand x @n ppm, row-major) on
 * s->jobs workers. */
static bool eval_batch(const struct oracle_setup *s, const uint32_t *cand,
		       size_t ncand, size_t n, struct oracle_eval *out,
		       char **err)
{
	int jobs = s->jobs > 0 ? s->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
	struct slot *sl;
	bool ok = true;

	if (jobs < 1)
		jobs = 1;
	if ((size_t)jobs > ncand)
		jobs = (int)ncand;
	sl = mmap(NULL, sizeof(*sl) * ncand, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sl == MAP_FAILED) {
		*err = xfmt("oracle: mmap: %s", strerror(errno));
		return false;
	}
	memset(sl, 0, sizeof(*sl) * ncand);
	fflush(NULL);
	for (int w = 0; w < jobs; w++) {
		pid_t pid = fork();
		if (pid < 0) {
			*err = xfmt("oracle: fork: %s", strerror(errno));
			ok = false;
			jobs = w;
			break;
		}
		if (pid == 0) {
			for (size_t i = (size_t)w; i < ncand; i += (size_t)jobs) {
				char *e = NULL;
				sl[i].ok = oracle_run(s, cand + i * n, &sl[i].ev,
						      &e);
				if (e)
					snprintf(sl[i].err, sizeof(sl[i].err),
						 "%s", e);
				free(e);
				sl[i].done = true;
			}
			_exit(0);
		}
	}
	for (int w = 0; w < jobs; w++) {
		int st;
		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			ok = false;
	}
	for (size_t i = 0; ok && i < ncand; i++) {
		if (!sl[i].done || !sl[i].ok) {
			*err = xfmt("oracle: run %zu failed: %s", i,
				    sl[i].err[0] ? sl[i].err : "worker died");
			ok = false;
			break;
		}
		out[i] = sl[i].ev;
	}
	if (!ok && !*err)
		*err = xstrdup("oracle: a worker process failed");
	munmap(sl, sizeof(*sl) * ncand);
	return ok;
}

/* ---- the search --------------------------------------------------------- */

static size_t grid_index(uint32_t ppm)
{
	size_t best = 0;
	for (size_t i = 1; i < NGRID; i++)
		if (fabs(log1p(grid[i]) - log1p(ppm)) <
		    fabs(log1p(grid[best]) - log1p(ppm)))
			best = i;
	return best;
}

struct search {
	const struct oracle_setup *s;
	size_t n;
	uint32_t *cur;
	struct oracle_eval best;
	unsigned runs;
	void (*progress)(const char *line);
};

static void say(const struct search *se, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(const struct search *se, const char *fmt, ...)
{
	va_list ap;
	char *line;

	if (!se->progress)
		return;
	va_start(ap, fmt);
	line = xvfmt(fmt, ap);
	va_end(ap);
	se->progress(line);
	free(line);
}

/* Try channel @c at each of @vals (the others as they are); keep the
 * best if it beats the current one. Returns whether it moved. */
static bool try_channel(struct search *se, size_t c, const uint32_t *vals,
			size_t nv, bool *moved, char **err)
{
	uint32_t *cand = xmalloc(sizeof(*cand) * se->n * (nv + 1));
	struct oracle_eval *ev = xmalloc(sizeof(*ev) * (nv + 1));
	size_t m = 0, best = SIZE_MAX;

	*moved = false;
	for (size_t i = 0; i < nv; i++) {
		if (vals[i] == se->cur[c])
			continue;
		memcpy(cand + m * se->n, se->cur, sizeof(*cand) * se->n);
		cand[m * se->n + c] = vals[i];
		m++;
	}
	if (m && !eval_batch(se->s, cand, m, se->n, ev, err)) {
		free(cand);
		free(ev);
		return false;
	}
	se->runs += (unsigned)m;
	/* Strictly better only, the lowest fee first on a tie: the result
	 * is the same whatever the order of the workers. */
	for (size_t i = 0; i < m; i++)
		if (ev[i].fees_earned_msat >
		    (best == SIZE_MAX ? se->best.fees_earned_msat
				      : ev[best].fees_earned_msat))
			best = i;
	if (best != SIZE_MAX) {
		se->cur[c] = cand[best * se->n + c];
		se->best = ev[best];
		*moved = true;
	}
	free(cand);
	free(ev);
	return true;
}

static bool search(struct search *se, const uint32_t *initial,
		   const uint32_t *median, char **err)
{
	size_t n = se->n, ns = ARRAY_SIZE(start_mults) + 1;
	uint32_t *cand = xmalloc(sizeof(*cand) * n * ns);
	struct oracle_eval *ev = xmalloc(sizeof(*ev) * ns);
	size_t best = 0;

	/* 1. The start: the initial fees, or the market scaled. */
	memcpy(cand, initial, sizeof(*cand) * n);
	for (size_t j = 0; j < ARRAY_SIZE(start_mults); j++)
		for (size_t c = 0; c < n; c++)
			cand[(j + 1) * n + c] = (uint32_t)llround(
				median[c] * start_mults[j]);
	if (!eval_batch(se->s, cand, ns, n, ev, err)) {
		free(cand);
		free(ev);
		return false;
	}
	se->runs += (unsigned)ns;
	for (size_t j = 1; j < ns; j++)
		if (ev[j].fees_earned_msat > ev[best].fees_earned_msat)
			best = j;
	memcpy(se->cur, cand + best * n, sizeof(*cand) * n);
	se->best = ev[best];
	if (best)
		say(se, "oracle: start at the market median x%g: %.0f sat "
			"(%u runs)",
		    start_mults[best - 1], se->best.fees_earned_msat / 1000.0,
		    se->runs);
	else
		say(se, "oracle: start at the initial fees: %.0f sat (%u runs)",
		    se->best.fees_earned_msat / 1000.0, se->runs);
	free(cand);
	free(ev);

	/* 2. Coarse coordinate descent over the whole grid. */
	{
		uint32_t coarse[NGRID];
		size_t nc = 0;
		for (size_t i = 0; i < NGRID; i += 2)
			coarse[nc++] = grid[i];
		for (size_t c = 0; c < n; c++) {
			bool moved;
			if (!try_channel(se, c, coarse, nc, &moved, err))
				return false;
		}
		say(se, "oracle: coarse pass: %.0f sat (%u runs)",
		    se->best.fees_earned_msat / 1000.0, se->runs);
	}
	/* 3. Fine passes: each channel's grid neighbours. */
	for (int pass = 0; pass < MAX_PASSES; pass++) {
		bool any = false;
		for (size_t c = 0; c < n; c++) {
			size_t gi = grid_index(se->cur[c]);
			uint32_t vals[4];
			size_t nv = 0;
			bool moved;
			if (gi > 0)
				vals[nv++] = grid[gi - 1];
			if (gi + 1 < NGRID)
				vals[nv++] = grid[gi + 1];
			if (grid[gi] != se->cur[c])
				vals[nv++] = grid[gi];
			if (!try_channel(se, c, vals, nv, &moved, err))
				return false;
			any |= moved;
		}
		say(se, "oracle: fine pass %d: %.0f sat (%u runs)", pass + 1,
		    se->best.fees_earned_msat / 1000.0, se->runs);
		if (!any)
			break;
	}
	return true;
}

/* ---- the cache ---------------------------------------------------------- */

/* The share of reacting competitors the runs use. */
static double effective_share(const struct oracle_setup *s)
{
	const json_t *v = json_object_get(
		json_object_get(s->sc->raw, "competitors"), "share");

	if (s->competitor_share >= 0)
		return s->competitor_share;
	return json_is_number(v) ? json_number_value(v) : 0;
}

static char *setup_hash(const struct oracle_setup *s, uint64_t seed)
{
	/* Everything that decides the payments and the network, not the
	 * prose: editing a description does not cost a new search. */
	json_t *raw = json_deep_copy(s->sc->raw);
	char *doc, *traffic, *all;
	unsigned char h[16];
	char hex[33];

	json_object_del(raw, "description");
	doc = json_dumps(raw, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(raw);
	traffic = s->sc->traffic ? json_dumps(s->sc->traffic,
					      JSON_SORT_KEYS | JSON_COMPACT)
				 : xstrdup("null");
	all = xfmt("%s\n%s\n%s\n%llu\n%.6f\n%.6f\n%.6f\n",
		   ORACLE_MODEL_VERSION, doc, traffic, (unsigned long long)seed,
		   s->days, s->warmup_days, effective_share(s));

	crypto_generichash(h, sizeof(h), (const unsigned char *)all,
			   strlen(all), NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	free(doc);
	free(traffic);
	free(all);
	return xstrdup(hex);
}

static char *default_cache(const struct oracle_setup *s, uint64_t seed,
			   const char *hash)
{
	const char *d = getenv("HIVE_SIM_CACHE"), *x = getenv("XDG_CACHE_HOME"),
		   *home = getenv("HOME");
	char *dir = d && *d ? xstrdup(d)
		    : x && *x ? xfmt("%s/hive-sim", x)
		    : home && *home ? xfmt("%s/.cache/hive-sim", home)
				    : xstrdup("/tmp/hive-sim-cache");
	char *path = xfmt("%s/oracle-%s-seed%llu-%.12s.json", dir, s->sc->name,
			  (unsigned long long)seed, hash);
	free(dir);
	return path;
}

static void mkdirs(const char *path)
{
	char *d = xstrdup(path);
	for (char *p = d + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(d, 0755);
			*p = '/';
		}
	free(d);
}

static const char *sensitivity_of(const struct scenario *sc)
{
	const char *v = json_string_value(
		json_object_get(sc->traffic, "fee_sensitivity"));
	return v ? v : "default";
}

/* Compare the cache's key with ours: NULL when it matches, else what
 * differs (caller frees). */
static char *mismatch(const json_t *c, const struct oracle_setup *s,
		      uint64_t seed, const char *hash, size_t n)
{
	const char *name = json_string_value(json_object_get(c, "scenario"));
	json_int_t cs = json_integer_value(json_object_get(c, "seed"));
	const char *ch = json_string_value(json_object_get(c, "setup_hash"));
	const json_t *fees = json_object_get(c, "channels");

	if (!name || !ch || !json_is_array(fees))
		return xstrdup("it is not an oracle cache (no scenario, "
			       "setup_hash or channels)");
	if (strcmp(name, s->sc->name))
		return xfmt("it is for scenario '%s', not '%s'", name,
			    s->sc->name);
	if ((uint64_t)cs != seed)
		return xfmt("it is for seed %lld, not %llu", (long long)cs,
			    (unsigned long long)seed);
	if (strcmp(ch, hash))
		return xfmt("it is for another setup of '%s' seed %llu (days "
			    "%g, warm-up %g, sensitivity %s, competitor "
			    "share %g, or the scenario or model changed): "
			    "delete it to search again",
			    name, (unsigned long long)seed,
			    json_number_value(json_object_get(c, "days")),
			    json_number_value(json_object_get(c, "warmup_days")),
			    json_string_value(
				    json_object_get(c, "sensitivity")),
			    json_number_value(
				    json_object_get(c, "competitor_share")));
	if (json_array_size(fees) != n)
		return xfmt("it prices %zu channels, the scenario has %zu",
			    json_array_size(fees), n);
	return NULL;
}

static bool load_cache(const char *path, const struct oracle_setup *s,
		       uint64_t seed, const char *hash, size_t n,
		       struct oracle_result *out, bool *found, char **err)
{
	json_error_t je;
	json_t *c, *e;
	char *why;
	size_t i;

	*found = false;
	if (access(path, F_OK) != 0)
		return true;
	c = json_load_file(path, 0, &je);
	if (!c) {
		*err = xfmt("oracle cache %s: %s (line %d)", path, je.text,
			    je.line);
		return false;
	}
	why = mismatch(c, s, seed, hash, n);
	if (why) {
		*err = xfmt("oracle cache %s: %s", path, why);
		free(why);
		json_decref(c);
		return false;
	}
	out->ppm = xmalloc(sizeof(*out->ppm) * (n + 1));
	out->n = n;
	json_array_foreach(json_object_get(c, "channels"), i, e) {
		json_int_t v = json_integer_value(json_object_get(e, "ppm"));
		if (!json_is_integer(json_object_get(e, "ppm")) || v < 0 ||
		    v > 100000) {
			*err = xfmt("oracle cache %s: channels[%zu].ppm: must "
				    "be an integer in [0, 100000]",
				    path, i);
			json_decref(c);
			free(out->ppm);
			out->ppm = NULL;
			return false;
		}
		out->ppm[i] = (uint32_t)v;
	}
	out->best.fees_earned_msat = (uint64_t)json_integer_value(
		json_object_get(c, "fees_earned_msat"));
	out->runs = (unsigned)json_integer_value(json_object_get(c, "runs"));
	*found = true;
	json_decref(c);
	return true;
}

static bool save_cache(const char *path, const struct oracle_setup *s,
		       uint64_t seed, const char *hash,
		       const struct oracle_result *r, const struct net *net,
		       const uint32_t *chan, const uint32_t *median,
		       char **err)
{
	json_t *chans = json_array(), *doc;
	char *tmp = xfmt("%s.tmp.%d", path, (int)getpid());
	bool ok;

	for (size_t i = 0; i < r->n; i++)
		json_array_append_new(
			chans, json_pack("{s:s,s:i,s:i}", "short_channel_id",
					 net->chans[chan[i]].scid, "ppm",
					 (int)r->ppm[i], "market_median_ppm",
					 (int)median[i]));
	doc = json_pack("{s:s,s:s,s:I,s:f,s:f,s:s,s:f,s:s,s:I,s:I,s:I,s:o}",
			"scenario", s->sc->name, "model", ORACLE_MODEL_VERSION,
			"seed", (json_int_t)seed, "days", s->days,
			"warmup_days", s->warmup_days, "sensitivity",
			sensitivity_of(s->sc), "competitor_share",
			effective_share(s), "setup_hash", hash, "runs",
			(json_int_t)r->runs, "fees_earned_msat",
			(json_int_t)r->best.fees_earned_msat, "forwards_settled",
			(json_int_t)r->best.forwards_settled, "channels",
			chans);
	mkdirs(path);
	ok = json_dump_file(doc, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 &&
	     rename(tmp, path) == 0;
	if (!ok) {
		*err = xfmt("oracle cache %s: cannot write: %s", path,
			    strerror(errno));
		unlink(tmp);
	}
	json_decref(doc);
	free(tmp);
	return ok;
}

bool oracle_find(const struct oracle_setup *s, const char *cache_path,
		 void (*progress)(const char *line), struct oracle_result *out,
		 char **err)
{
	struct sim *sim;
	uint32_t *chan = NULL, *node = NULL, *initial = NULL, *median = NULL;
	uint64_t seed = s->seed ? s->seed : s->sc->seed;
	char *hash = NULL;
	size_t n;
	bool ok = false, found;

	*err = NULL;
	memset(out, 0, sizeof(*out));
	sim = build(s, err);
	if (!sim)
		return false;
	fleet_channels(sim->net, &chan, &node, &n);
	if (n == 0) {
		*err = xstrdup("oracle: the scenario has no fleet channel to "
			       "price");
		goto out;
	}
	if (n > MAX_CHANNELS) {
		*err = xfmt("oracle: %zu fleet channels is more than a search "
			    "can do (at most %d, ~%zu runs)",
			    n, MAX_CHANNELS, n * (NGRID / 2 + 6));
		goto out;
	}
	hash = setup_hash(s, seed);
	out->cache_path = cache_path ? xstrdup(cache_path)
				     : default_cache(s, seed, hash);
	if (!load_cache(out->cache_path, s, seed, hash, n, out, &found, err))
		goto out;
	if (found) {
		out->from_cache = true;
		ok = true;
		goto out;
	}
	/* The market as the measured period finds it, where the baselines
	 * look at it (warm-up plays the same in every run). */
	{
		uint64_t t0 = sim->now_ms,
			 t_measure = t0 + (uint64_t)(s->warmup_days *
						     86400000.0);
		payments_start(sim->pay, t0, t_measure);
		if (!sim_play(sim, t_measure, NULL, NULL, err))
			goto out;
	}
	initial = xmalloc(sizeof(*initial) * n);
	median = xmalloc(sizeof(*median) * n);
	for (size_t i = 0; i < n; i++) {
		const struct net_channel *ch = &sim->net->chans[chan[i]];
		initial[i] = ch->pol[net_channel_side(ch, node[i])].ppm;
		median[i] = pricing_market_median_ppm(sim->net, chan[i],
						      node[i]);
	}
	{
		struct search se = {.s = s, .n = n, .progress = progress};
		se.cur = xmalloc(sizeof(*se.cur) * n);
		if (!search(&se, initial, median, err)) {
			free(se.cur);
			goto out;
		}
		out->ppm = se.cur;
		out->n = n;
		out->best = se.best;
		out->runs = se.runs;
	}
	ok = save_cache(out->cache_path, s, seed, hash, out, sim->net, chan,
			median, err);
out:
	if (!ok)
		oracle_result_free(out);
	free(hash);
	free(chan);
	free(node);
	free(initial);
	free(median);
	free(sim_free(sim));
	return ok;
}

void oracle_result_free(struct oracle_result *r)
{
	free(r->ppm);
	free(r->cache_path);
	memset(r, 0, sizeof(*r));
}
