/* Checked reading of "traffic"/"generate" fields; see pay_cfg.h. */
#include "sim/pay_cfg.h"
#include "common/util.h"
#include <math.h>
#include <stdarg.h>
#include <string.h>

bool cfg_fail(struct cfg *c, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *what;

	if (c->err)
		return false;
	va_start(ap, fmt);
	what = xvfmt(fmt, ap);
	va_end(ap);
	c->err = key ? xfmt("%s.%s: %s", c->base, key, what)
		     : xfmt("%s: %s", c->base, what);
	free(what);
	return false;
}

bool cfg_open(struct cfg *c, const json_t *obj, const char *base,
	      const char *const *known)
{
	const char *key;
	json_t *v;

	c->obj = obj;
	c->base = base;
	c->err = NULL;
	if (!obj)
		return true;
	if (!json_is_object(obj))
		return cfg_fail(c, NULL, "must be an object");
	json_object_foreach((json_t *)obj, key, v) {
		bool ok = false;
		for (size_t i = 0; known[i]; i++)
			ok |= !strcmp(known[i], key);
		if (!ok)
			return cfg_fail(c, key, "unknown field (a typo?)");
	}
	return true;
}

static const json_t *field(const struct cfg *c, const char *key)
{
	return c->obj ? json_object_get(c->obj, key) : NULL;
}

bool cfg_num(struct cfg *c, const char *key, double def, double min,
	     bool min_open, double max, double *out)
{
	const json_t *v = field(c, key);
	double x;

	*out = def;
	if (!v)
		return !c->err;
	x = json_is_number(v) ? json_number_value(v) : NAN;
	if (!json_is_number(v) || !isfinite(x) ||
	    (min_open ? x <= min : x < min) || x > max) {
		if (min_open && min == 0 && isinf(max))
			return cfg_fail(c, key, "must be a positive number");
		if (isinf(max))
			return cfg_fail(c, key, "must be a number %s %g",
					min_open ? ">" : ">=", min);
		return cfg_fail(c, key, "must be a number in %s%g, %g]",
				min_open ? "(" : "[", min, max);
	}
	*out = x;
	return !c->err;
}

bool cfg_u64(struct cfg *c, const char *key, uint64_t def, uint64_t min,
	     uint64_t max, uint64_t *out)
{
	const json_t *v = field(c, key);

	*out = def;
	if (!v)
		return !c->err;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) < min ||
	    (uint64_t)json_integer_value(v) > max)
		return cfg_fail(c, key, "must be an integer in [%llu, %llu]",
				(unsigned long long)min,
				(unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
	return !c->err;
}

bool cfg_bool(struct cfg *c, const char *key, bool def, bool *out)
{
	const json_t *v = field(c, key);

	*out = def;
	if (!v)
		return !c->err;
	if (!json_is_boolean(v))
		return cfg_fail(c, key, "must be true or false");
	*out = json_is_true(v);
	return !c->err;
}

bool cfg_mix(struct cfg *c, const char *key, const char *const *names,
	     size_t n, const double *def, double *out)
{
	const json_t *v = field(c, key);
	const char *name;
	json_t *w;
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		out[i] = def[i];
	if (!v)
		return !c->err;
	if (!json_is_object(v))
		return cfg_fail(c, key, "must be an object of weights");
	for (size_t i = 0; i < n; i++)
		out[i] = 0;
	json_object_foreach((json_t *)v, name, w) {
		size_t i;
		for (i = 0; i < n && strcmp(names[i], name); i++)
			;
		if (i == n) {
			char *k = xfmt("%s.%s", key, name);
			char *list = xstrdup("");
			for (size_t j = 0; j < n; j++) {
				char *t = xfmt("%s%s%s", list, j ? ", " : "",
					       names[j]);
				free(list);
				list = t;
			}
			cfg_fail(c, k, "unknown name (one of %s)", list);
			free(list);
			free(k);
			return false;
		}
		if (!json_is_number(w) || json_number_value(w) < 0 ||
		    !isfinite(json_number_value(w))) {
			char *k = xfmt("%s.%s", key, name);
			cfg_fail(c, k, "must be a non-negative number");
			free(k);
			return false;
		}
		out[i] = json_number_value(w);
		sum += out[i];
	}
	if (!(sum > 0))
		return cfg_fail(c, key, "weights must not all be zero");
	for (size_t i = 0; i < n; i++)
		out[i] /= sum;
	return !c->err;
}
