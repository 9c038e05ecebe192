/* `hive-sim compare`; see compare.h. */
#include "sim/compare.h"
#include "common/util.h"
#include "sim/payments.h"
#include "sim/pricing.h"
#include "sim/scenario.h"
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_SEEDS 32
#define MAX_POLICIES 5
#define MAX_OPTS 32

/* The plugins first, then the baselines in the order asked. */
struct policy {
	enum baseline_kind kind; /* BASELINE_NONE: the plugins */
};

struct copts {
	const char *scenario, *out;
	double days, warmup_days, share;
	unsigned long long seeds[MAX_SEEDS];
	size_t nseeds;
	enum fee_sensitivity sens[3];
	size_t nsens;
	struct policy pol[MAX_POLICIES];
	size_t npol;
	const char *plugin_opts[MAX_OPTS];
	size_t nplugin_opts;
	int jobs;
};

/* What one run's report says about the fleet. */
struct measure {
	double fees_sat, net_sat, forwards, volume_share, updates_per_ch_day;
};

struct job {
	size_t sens, seed, pol;
	char *dir;
	pid_t pid;
	bool done, ok;
	struct measure m;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: hive-sim compare SCENARIO.json [--days N] "
		"[--warmup-days N]\n"
		"         [--seeds 1,2,3] [--sensitivity low,default,high|all]\n"
		"         [--baselines market-median,balance-proportional,"
		"oracle,stock]\n"
		"         [--competitor-share X] [--jobs N] [--out DIR] "
		"[--plugin-opt NAME=VALUE]...\n");
}

static bool parse_list(const char *arg, const char *what,
		       bool (*one)(const char *word, void *arg, size_t i),
		       void *out, size_t max, size_t *n)
{
	char *copy = xstrdup(arg), *save = NULL;
	bool ok = true;

	*n = 0;
	for (char *w = strtok_r(copy, ",", &save); w && ok;
	     w = strtok_r(NULL, ",", &save)) {
		if (*n == max) {
			fprintf(stderr, "hive-sim compare: %s: at most %zu\n",
				what, max);
			ok = false;
		} else if (!one(w, out, *n)) {
			ok = false;
		} else {
			(*n)++;
		}
	}
	free(copy);
	if (ok && !*n) {
		fprintf(stderr, "hive-sim compare: %s: empty list\n", what);
		ok = false;
	}
	return ok;
}

static bool one_seed(const char *w, void *arg, size_t i)
{
	unsigned long long *v = arg;
	if (!str_to_u64(w, &v[i]) || !v[i]) {
		fprintf(stderr, "hive-sim compare: --seeds: '%s' is not a "
				"positive integer\n",
			w);
		return false;
	}
	return true;
}

static bool one_sens(const char *w, void *arg, size_t i)
{
	enum fee_sensitivity *v = arg;
	if (!payments_sensitivity_parse(w, &v[i])) {
		fprintf(stderr, "hive-sim compare: --sensitivity: '%s' is not "
				"low, default, high or all\n",
			w);
		return false;
	}
	return true;
}

static bool one_baseline(const char *w, void *arg, size_t i)
{
	struct policy *v = arg;
	if (!baseline_parse(w, &v[i + 1].kind)) {
		fprintf(stderr, "hive-sim compare: --baselines: unknown "
				"baseline '%s' (stock, market-median, "
				"balance-proportional or oracle)\n",
			w);
		return false;
	}
	return true;
}

static bool parse(int argc, char **argv, struct copts *o)
{
	size_t n;

	*o = (struct copts){.out = "compare-out",
			    .days = 30,
			    .warmup_days = 3,
			    .share = -1,
			    .seeds = {1, 2, 3},
			    .nseeds = 3,
			    .sens = {SENS_DEFAULT},
			    .nsens = 1,
			    .pol = {{BASELINE_NONE},
				    {BASELINE_MARKET_MEDIAN},
				    {BASELINE_PROPORTIONAL},
				    {BASELINE_ORACLE}},
			    .npol = 4,
			    .jobs = (int)sysconf(_SC_NPROCESSORS_ONLN)};
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		double d;
		unsigned long long u;

		if (a[0] != '-' && !o->scenario) {
			o->scenario = a;
			continue;
		}
		if (!v) {
			fprintf(stderr, "hive-sim compare: %s needs a value\n",
				a);
			return false;
		}
		i++;
		if (!strcmp(a, "--days") || !strcmp(a, "--warmup-days")) {
			if (!str_to_double(v, &d) || d < 0 || d > 3650 ||
			    (!strcmp(a, "--days") && d <= 0)) {
				fprintf(stderr, "hive-sim compare: %s: bad number "
						"'%s'\n",
					a, v);
				return false;
			}
			*(strcmp(a, "--days") ? &o->warmup_days : &o->days) = d;
		} else if (!strcmp(a, "--seeds")) {
			if (!parse_list(v, "--seeds", one_seed, o->seeds,
					MAX_SEEDS, &o->nseeds))
				return false;
		} else if (!strcmp(a, "--sensitivity")) {
			if (!strcmp(v, "all")) {
				o->sens[0] = SENS_LOW;
				o->sens[1] = SENS_DEFAULT;
				o->sens[2] = SENS_HIGH;
				o->nsens = 3;
			} else if (!parse_list(v, "--sensitivity", one_sens,
					       o->sens, 3, &o->nsens)) {
				return false;
			}
		} else if (!strcmp(a, "--baselines")) {
			if (!parse_list(v, "--baselines", one_baseline, o->pol,
					MAX_POLICIES - 1, &n))
				return false;
			o->npol = n + 1;
		} else if (!strcmp(a, "--competitor-share")) {
			if (!str_to_double(v, &d) || !(d >= 0 && d <= 1)) {
				fprintf(stderr, "hive-sim compare: "
						"--competitor-share: '%s' is not "
						"a share in [0, 1]\n",
					v);
				return false;
			}
			o->share = d;
		} else if (!strcmp(a, "--jobs")) {
			if (!str_to_u64(v, &u) || u < 1 || u > 64) {
				fprintf(stderr, "hive-sim compare: --jobs: '%s' "
						"is not 1..64\n",
					v);
				return false;
			}
			o->jobs = (int)u;
		} else if (!strcmp(a, "--out")) {
			o->out = v;
		} else if (!strcmp(a, "--plugin-opt")) {
			if (o->nplugin_opts == MAX_OPTS || !strchr(v, '=')) {
				fprintf(stderr, "hive-sim compare: --plugin-opt "
						"wants NAME=VALUE\n");
				return false;
			}
			o->plugin_opts[o->nplugin_opts++] = v;
		} else {
			fprintf(stderr, "hive-sim compare: unknown option %s\n",
				a);
			return false;
		}
	}
	if (!o->scenario) {
		fprintf(stderr, "hive-sim compare: missing SCENARIO.json\n");
		return false;
	}
	if (o->jobs < 1)
		o->jobs = 1;
	return true;
}

static const char *policy_name(const struct policy *p)
{
	return p->kind == BASELINE_NONE ? "cl-revenue-ops" : baseline_name(p->kind);
}

static void mkdir_p(const char *dir)
{
	char *d = xstrdup(dir);
	for (char *p = d + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(d, 0755);
			*p = '/';
		}
	mkdir(d, 0755);
	free(d);
}

static pid_t spawn(const struct copts *o, const char *self, struct job *j,
		   int oracle_jobs)
{
	const struct policy *p = &o->pol[j->pol];
	char days[32], warm[32], seed[32], share[32], jobs[16];
	const char *args[64 + 2 * MAX_OPTS];
	size_t n = 0;
	char *log;
	pid_t pid;

	snprintf(days, sizeof(days), "%g", o->days);
	snprintf(warm, sizeof(warm), "%g", o->warmup_days);
	snprintf(seed, sizeof(seed), "%llu",
		 (unsigned long long)o->seeds[j->seed]);
	snprintf(share, sizeof(share), "%g", o->share);
	snprintf(jobs, sizeof(jobs), "%d", oracle_jobs);
	args[n++] = self;
	args[n++] = "run";
	args[n++] = o->scenario;
	args[n++] = "--days";
	args[n++] = days;
	args[n++] = "--warmup-days";
	args[n++] = warm;
	args[n++] = "--seed";
	args[n++] = seed;
	args[n++] = "--sensitivity";
	args[n++] = payments_sensitivity_name(o->sens[j->sens]);
	args[n++] = "--out";
	args[n++] = j->dir;
	if (o->share >= 0) {
		args[n++] = "--competitor-share";
		args[n++] = share;
	}
	if (p->kind != BASELINE_NONE) {
		args[n++] = "--baseline";
		args[n++] = baseline_name(p->kind);
		args[n++] = "--jobs";
		args[n++] = jobs;
	}
	for (size_t i = 0; i < o->nplugin_opts; i++) {
		args[n++] = "--plugin-opt";
		args[n++] = o->plugin_opts[i];
	}
	args[n] = NULL;
	mkdir_p(j->dir);
	log = xfmt("%s/run.log", j->dir);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		FILE *f = freopen(log, "w", stdout);
		if (!f || dup2(fileno(stdout), 2) < 0)
			_exit(127);
		execv(self, (char *const *)args);
		fprintf(stderr, "exec %s: %s\n", self, strerror(errno));
		_exit(127);
	}
	free(log);
	return pid;
}

static bool read_measure(const char *dir, double days, struct measure *m,
			 char **err)
{
	char *path = xfmt("%s/report.json", dir);
	json_error_t je;
	json_t *r = json_load_file(path, 0, &je), *n;
	double fwd_msat = 0, chans = 0, updates = 0, vol;
	size_t i;

	memset(m, 0, sizeof(*m));
	if (!r) {
		*err = xfmt("%s: %s", path, je.text);
		free(path);
		return false;
	}
	free(path);
	json_array_foreach(json_object_get(r, "nodes"), i, n) {
		if (!json_is_true(json_object_get(n, "fleet")))
			continue;
		m->forwards += (double)json_integer_value(
			json_object_get(n, "forwards_settled"));
		fwd_msat += (double)json_integer_value(
			json_object_get(n, "forwarded_msat"));
		chans += (double)json_integer_value(json_object_get(n, "channels"));
		updates += (double)json_integer_value(
			json_object_get(n, "fee_updates"));
	}
	m->fees_sat = (double)json_integer_value(json_object_get(
			      json_object_get(r, "fleet"), "fees_earned_msat")) /
		      1000.0;
	m->net_sat = (double)json_integer_value(json_object_get(
			     json_object_get(r, "fleet"), "net_profit_msat")) /
		     1000.0;
	vol = (double)json_integer_value(json_object_get(
		      json_object_get(r, "network"), "volume_sats")) *
	      1000.0;
	m->volume_share = vol > 0 ? fwd_msat / vol : 0;
	m->updates_per_ch_day = chans > 0 && days > 0 ? updates / chans / days
						      : 0;
	json_decref(r);
	return true;
}

/* Wait for one child; mark its job. */
static void reap(struct job *jobs, size_t n, const struct copts *o)
{
	int st;
	pid_t pid = wait(&st);

	for (size_t i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		char *err = NULL;
		if (j->pid != pid || j->done)
			continue;
		j->done = true;
		j->ok = WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
			read_measure(j->dir, o->days, &j->m, &err);
		if (!j->ok)
			fprintf(stderr,
				"hive-sim compare: %s, seed %llu, %s failed%s%s "
				"(log: %s/run.log)\n",
				policy_name(&o->pol[j->pol]),
				(unsigned long long)o->seeds[j->seed],
				payments_sensitivity_name(o->sens[j->sens]),
				err ? ": " : "", err ? err : "", j->dir);
		free(err);
		return;
	}
}

struct stat3 {
	double mean, lo, hi;
};

static struct stat3 stat_of(const double *v, size_t n)
{
	struct stat3 s = {0, INFINITY, -INFINITY};
	for (size_t i = 0; i < n; i++) {
		s.mean += v[i] / (double)n;
		s.lo = fmin(s.lo, v[i]);
		s.hi = fmax(s.hi, v[i]);
	}
	return s;
}

static json_t *stat_json(const double *v, size_t n)
{
	struct stat3 s = stat_of(v, n);
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_real(v[i]));
	return json_pack("{s:f,s:f,s:f,s:o}", "mean", s.mean, "min", s.lo,
			 "max", s.hi, "seeds", a);
}

/* One table per sensitivity, and its part of compare.json. */
static json_t *report(const struct copts *o, const struct job *jobs,
		      size_t si, FILE *out)
{
	json_t *js = json_object();
	const struct job *at[MAX_POLICIES][MAX_SEEDS];
	size_t mm = SIZE_MAX;

	for (size_t k = 0; k < o->nsens * o->nseeds * o->npol; k++)
		if (jobs[k].sens == si)
			at[jobs[k].pol][jobs[k].seed] = &jobs[k];
	for (size_t p = 0; p < o->npol; p++)
		if (o->pol[p].kind == BASELINE_MARKET_MEDIAN)
			mm = p;
	fprintf(out, "\nsensitivity %s — mean over seeds (lowest..highest)\n",
		payments_sensitivity_name(o->sens[si]));
	fprintf(out, "%-22s %22s %16s %20s %16s %10s %9s\n", "policy",
		"fees earned sat", "x market-median", "net profit sat",
		"forwards", "vol share", "upd/ch/d");
	for (size_t p = 0; p < o->npol; p++) {
		double fees[MAX_SEEDS], net[MAX_SEEDS], fwd[MAX_SEEDS],
			vs[MAX_SEEDS], up[MAX_SEEDS], ratio[MAX_SEEDS];
		struct stat3 f, r, nt, fw, v, u;
		json_t *jp;
		char rbuf[32] = "-";

		for (size_t s = 0; s < o->nseeds; s++) {
			const struct measure *m = &at[p][s]->m;
			fees[s] = m->fees_sat;
			net[s] = m->net_sat;
			fwd[s] = m->forwards;
			vs[s] = m->volume_share;
			up[s] = m->updates_per_ch_day;
			ratio[s] = mm != SIZE_MAX && at[mm][s]->m.fees_sat > 0
					   ? m->fees_sat / at[mm][s]->m.fees_sat
					   : NAN;
		}
		f = stat_of(fees, o->nseeds);
		r = stat_of(ratio, o->nseeds);
		nt = stat_of(net, o->nseeds);
		fw = stat_of(fwd, o->nseeds);
		v = stat_of(vs, o->nseeds);
		u = stat_of(up, o->nseeds);
		if (!isnan(r.mean))
			snprintf(rbuf, sizeof(rbuf), "%.2fx (%.2f..%.2f)",
				 r.mean, r.lo, r.hi);
		fprintf(out,
			"%-22s %8.0f (%.0f..%.0f) %16s %8.0f (%.0f..%.0f) "
			"%16.0f %9.2f%% %9.2f\n",
			policy_name(&o->pol[p]), f.mean, f.lo, f.hi, rbuf,
			nt.mean, nt.lo, nt.hi, fw.mean, 100 * v.mean, u.mean);
		jp = json_pack("{s:o,s:o,s:o,s:o,s:o}", "fees_earned_sat",
			       stat_json(fees, o->nseeds), "net_profit_sat",
			       stat_json(net, o->nseeds), "forwards_settled",
			       stat_json(fwd, o->nseeds), "volume_share",
			       stat_json(vs, o->nseeds),
			       "fee_updates_per_channel_per_day",
			       stat_json(up, o->nseeds));
		if (!isnan(r.mean))
			json_object_set_new(jp, "fees_vs_market_median",
					    stat_json(ratio, o->nseeds));
		json_object_set_new(js, policy_name(&o->pol[p]), jp);
	}
	return js;
}

int sim_compare(int argc, char **argv, const char *self)
{
	struct copts o;
	struct scenario *sc;
	struct job *jobs;
	size_t nj, running = 0, next = 0;
	char *err = NULL;
	json_t *doc, *sens;
	int rc = 0;

	if (!parse(argc, argv, &o)) {
		usage();
		return 2;
	}
	/* Every mistake in the scenario before anything runs. */
	sc = scenario_load(o.scenario, &err);
	if (!sc) {
		fprintf(stderr, "hive-sim compare: %s\n", err);
		free(err);
		return 1;
	}
	nj = o.nsens * o.nseeds * o.npol;
	jobs = xzalloc(sizeof(*jobs) * nj);
	for (size_t si = 0, k = 0; si < o.nsens; si++)
		for (size_t s = 0; s < o.nseeds; s++)
			for (size_t p = 0; p < o.npol; p++, k++) {
				jobs[k] = (struct job){.sens = si, .seed = s,
						       .pol = p};
				jobs[k].dir = xfmt(
					"%s/%s/seed%llu/%s", o.out,
					payments_sensitivity_name(o.sens[si]),
					(unsigned long long)o.seeds[s],
					o.pol[p].kind == BASELINE_NONE
						? "plugins"
						: baseline_name(o.pol[p].kind));
			}
	printf("%s: %zu runs (%zu seeds x %zu sensitivities x %zu "
	       "policies), %d at a time, in %s/\n",
	       sc->name, nj, o.nseeds, o.nsens, o.npol, o.jobs, o.out);
	fflush(stdout);
	/* The oracle searches first, one at a time with every worker
	 * (cached ones return at once); then the rest, --jobs at a time. */
	for (size_t k = 0; k < nj; k++) {
		if (o.pol[jobs[k].pol].kind != BASELINE_ORACLE)
			continue;
		jobs[k].pid = spawn(&o, self, &jobs[k], o.jobs);
		while (!jobs[k].done)
			reap(jobs, nj, &o);
	}
	while (next < nj || running) {
		while (next < nj && running < (size_t)o.jobs) {
			if (!jobs[next].done) {
				jobs[next].pid = spawn(&o, self, &jobs[next], 1);
				running++;
			}
			next++;
		}
		if (running) {
			reap(jobs, nj, &o);
			running--;
		}
	}
	for (size_t k = 0; k < nj; k++)
		if (!jobs[k].ok)
			rc = 1;
	if (rc == 0) {
		printf("\n%s, %g days after %g days warm-up, seeds", sc->name,
		       o.days, o.warmup_days);
		for (size_t s = 0; s < o.nseeds; s++)
			printf(" %llu", (unsigned long long)o.seeds[s]);
		printf("\n");
		sens = json_object();
		for (size_t si = 0; si < o.nsens; si++)
			json_object_set_new(
				sens, payments_sensitivity_name(o.sens[si]),
				report(&o, jobs, si, stdout));
		doc = json_pack("{s:s,s:f,s:f,s:o}", "scenario", sc->name,
				"days", o.days, "warmup_days", o.warmup_days,
				"sensitivity", sens);
		{
			json_t *seeds = json_array();
			for (size_t s = 0; s < o.nseeds; s++)
				json_array_append_new(
					seeds, json_integer((json_int_t)o.seeds[s]));
			json_object_set_new(doc, "seeds", seeds);
		}
		{
			char *path = xfmt("%s/compare.json", o.out);
			if (json_dump_file(doc, path, JSON_INDENT(2) |
							      JSON_SORT_KEYS)) {
				fprintf(stderr, "hive-sim compare: cannot write "
						"%s\n",
					path);
				rc = 1;
			} else {
				printf("\nevery number: %s\n", path);
			}
			free(path);
		}
		json_decref(doc);
	}
	for (size_t k = 0; k < nj; k++)
		free(jobs[k].dir);
	free(jobs);
	scenario_free(sc);
	return rc;
}
