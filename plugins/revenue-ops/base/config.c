/* Configuration values, parsing, overrides; see config.h. */
#include "plugins/revenue-ops/base/config.h"
#include "common/plugin.h"
#include "common/util.h"
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static enum plugin_opt_type popt_type(enum cfg_type t)
{
	switch (t) {
	case CT_INT:
		return POPT_INT;
	case CT_DOUBLE:
		return POPT_DOUBLE;
	case CT_BOOL:
		return POPT_BOOL;
	case CT_STR:
		return POPT_STRING;
	}
	return POPT_STRING;
}

struct plugin_option *config_plugin_options(size_t *n)
{
	struct plugin_option *opts =
		xzalloc(sizeof(*opts) * (CFG_NUM + cfg_num_compat_options));
	size_t k = 0;

	for (size_t i = 0; i < CFG_NUM; i++) {
		const struct cfg_def *d = &cfg_defs[i];
		if (!d->option)
			continue;
		opts[k++] = (struct plugin_option){
			.name = d->option,
			.type = popt_type(d->type),
			.def = d->def,
			.description = d->description,
			.dynamic = (d->flags & CF_DYNAMIC) != 0,
			.has_range = d->type == CT_INT || d->type == CT_DOUBLE,
			.min = d->min,
			.max = d->max,
			.choices = d->choices,
		};
	}
	for (size_t i = 0; i < cfg_num_compat_options; i++)
		opts[k++] = (struct plugin_option){
			.name = cfg_compat_options[i].option,
			.type = POPT_STRING,
			.def = cfg_compat_options[i].def,
			.description = cfg_compat_options[i].why,
		};
	*n = k;
	return opts;
}

static void value_free(enum cfg_key k, union cfg_value *v)
{
	if (cfg_defs[k].type == CT_STR) {
		free(v->s);
		v->s = NULL;
	}
}

void config_init_defaults(struct ro_config *c)
{
	memset(c, 0, sizeof(*c));
	for (int k = 0; k < CFG_NUM; k++) {
		char *err = config_parse(k, cfg_defs[k].def, &c->v[k]);
		if (err) {
			/* A bad built-in default is a bug in the table. */
			fprintf(stderr, "config table: %s\n", err);
			abort();
		}
	}
	c->version = 1;
}

void config_free(struct ro_config *c)
{
	for (int k = 0; k < CFG_NUM; k++)
		value_free(k, &c->v[k]);
}

char *config_parse(enum cfg_key k, const char *text, union cfg_value *out)
{
	const struct cfg_def *d = &cfg_defs[k];
	long long i;
	double x;

	switch (d->type) {
	case CT_INT:
		if (!str_to_i64(text, &i))
			return xfmt("%s: '%s' is not an integer", d->key, text);
		if ((double)i < d->min || (double)i > d->max)
			return xfmt("%s: %lld is out of range [%g, %g]", d->key,
				    i, d->min, d->max);
		out->i = i;
		return NULL;
	case CT_DOUBLE:
		if (!str_to_double(text, &x))
			return xfmt("%s: '%s' is not a number", d->key, text);
		if (x < d->min || x > d->max)
			return xfmt("%s: %g is out of range [%g, %g]", d->key, x,
				    d->min, d->max);
		out->d = x;
		return NULL;
	case CT_BOOL:
		if (!strcasecmp(text, "true") || !strcmp(text, "1") ||
		    !strcasecmp(text, "yes") || !strcasecmp(text, "on"))
			out->b = true;
		else if (!strcasecmp(text, "false") || !strcmp(text, "0") ||
			 !strcasecmp(text, "no") || !strcasecmp(text, "off"))
			out->b = false;
		else
			return xfmt("%s: '%s' is not a boolean (use true or "
				    "false)",
				    d->key, text);
		return NULL;
	case CT_STR:
		if (d->choices) {
			bool ok = false;
			for (const char *const *ch = d->choices; *ch; ch++)
				ok |= !strcasecmp(*ch, text);
			if (!ok) {
				char *list = xstrdup("");
				for (const char *const *ch = d->choices; *ch;
				     ch++) {
					char *n = xfmt("%s%s%s", list,
						       *list ? ", " : "", *ch);
					free(list);
					list = n;
				}
				char *e = xfmt("%s: '%s' is not one of: %s",
					       d->key, text, list);
				free(list);
				return e;
			}
			/* Canonical lower case, as the reference stores. */
			out->s = xstrdup(text);
			for (char *p = out->s; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p - 'A' + 'a');
			return NULL;
		}
		out->s = xstrdup(text);
		return NULL;
	}
	return xstrdup("bad type");
}

/* The value @k would have: @val for @k itself, the current one otherwise. */
static double num(const struct ro_config *c, enum cfg_key k,
		  enum cfg_key changed, const union cfg_value *val)
{
	const union cfg_value *v = k == changed ? val : &c->v[k];
	return cfg_defs[k].type == CT_INT ? (double)v->i : v->d;
}

char *config_cross_check(const struct ro_config *c, enum cfg_key k,
			 const union cfg_value *val)
{
	static const struct {
		enum cfg_key lo, hi;
		bool strict;
	} rules[] = {
		{CFG_MIN_FEE_PPM, CFG_MAX_FEE_PPM, false},
		{CFG_LOW_LIQUIDITY_THRESHOLD, CFG_HIGH_LIQUIDITY_THRESHOLD, true},
		{CFG_SINK_THRESHOLD, CFG_SOURCE_THRESHOLD, true},
		{CFG_DAILY_BUDGET_SATS, CFG_WEEKLY_BUDGET_SATS, false},
		{CFG_REBALANCE_MIN_AMOUNT, CFG_REBALANCE_MAX_AMOUNT, false},
		{CFG_FEE_MIN_OBSERVATION_HOURS, CFG_FEE_MAX_OBSERVATION_HOURS,
		 false},
	};

	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		if (k != rules[i].lo && k != rules[i].hi)
			continue;
		double lo = num(c, rules[i].lo, k, val);
		double hi = num(c, rules[i].hi, k, val);
		if (rules[i].strict ? lo < hi : lo <= hi)
			continue;
		return xfmt("%s (%g) must be %s %s (%g)",
			    cfg_defs[rules[i].lo].key, lo,
			    rules[i].strict ? "below" : "at most",
			    cfg_defs[rules[i].hi].key, hi);
	}
	return NULL;
}

void config_set(struct ro_config *c, enum cfg_key k, union cfg_value val,
		bool overridden)
{
	value_free(k, &c->v[k]);
	c->v[k] = val;
	c->overridden[k] = overridden;
	c->version++;
}

int config_key_lookup(const char *key)
{
	for (int k = 0; k < CFG_NUM; k++)
		if (!strcmp(cfg_defs[k].key, key))
			return k;
	return -1;
}

int config_option_lookup(const char *option)
{
	for (int k = 0; k < CFG_NUM; k++)
		if (cfg_defs[k].option && !strcmp(cfg_defs[k].option, option))
			return k;
	return -1;
}

json_t *config_value_json(const struct ro_config *c, enum cfg_key k)
{
	switch (cfg_defs[k].type) {
	case CT_INT:
		return json_integer(c->v[k].i);
	case CT_DOUBLE:
		return json_real(c->v[k].d);
	case CT_BOOL:
		return json_boolean(c->v[k].b);
	case CT_STR:
		return json_string(c->v[k].s ? c->v[k].s : "");
	}
	return json_null();
}

char *config_text_of(enum cfg_key k, const union cfg_value *v)
{
	switch (cfg_defs[k].type) {
	case CT_INT:
		return xfmt("%lld", (long long)v->i);
	case CT_DOUBLE:
		return xfmt("%.15g", v->d);
	case CT_BOOL:
		return xstrdup(v->b ? "true" : "false");
	case CT_STR:
		return xstrdup(v->s ? v->s : "");
	}
	return xstrdup("");
}

char *config_value_text(const struct ro_config *c, enum cfg_key k)
{
	return config_text_of(k, &c->v[k]);
}

char *config_from_options(struct ro_config *c, struct plugin *p)
{
	for (int k = 0; k < CFG_NUM; k++) {
		const struct cfg_def *d = &cfg_defs[k];
		union cfg_value v;
		if (!d->option)
			continue;
		switch (d->type) {
		case CT_INT:
			v.i = plugin_opt_int(p, d->option);
			break;
		case CT_DOUBLE:
			v.d = plugin_opt_double(p, d->option);
			break;
		case CT_BOOL:
			v.b = plugin_opt_bool(p, d->option);
			break;
		case CT_STR: {
			/* Choices are lower-cased by config_parse. */
			char *err = config_parse(k, plugin_opt_str(p, d->option),
						 &v);
			if (err)
				return err;
			break;
		}
		}
		config_set(c, k, v, false);
	}
	for (int k = 0; k < CFG_NUM; k++) {
		char *err = config_cross_check(c, k, &c->v[k]);
		if (err)
			return err;
	}
	for (size_t i = 0; i < cfg_num_compat_options; i++) {
		const struct cfg_compat_option *o = &cfg_compat_options[i];
		if (plugin_opt_is_set(p, o->option))
			plugin_log(p, PLOG_INFO,
				   "option %s=%s is accepted for compatibility "
				   "and ignored: %s",
				   o->option, plugin_opt_str(p, o->option),
				   o->why);
	}
	return NULL;
}
