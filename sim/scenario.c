/* Scenario parsing with path-precise errors; see scenario.h. */
#include "sim/scenario.h"
#include "common/util.h"
#include <math.h>
#include <stdarg.h>
#include <string.h>

struct ctx {
	const char *file;
	char *err;
};

static bool fail(struct ctx *c, const char *path, const char *fmt, ...)
	PRINTF_FMT(3, 4);

static bool fail(struct ctx *c, const char *path, const char *fmt, ...)
{
	va_list ap;
	char *what;

	if (c->err)
		return false;
	va_start(ap, fmt);
	what = xvfmt(fmt, ap);
	va_end(ap);
	c->err = xfmt("%s: %s: %s", c->file, path, what);
	free(what);
	return false;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

/* Optional unsigned integer member; @def when absent. */
static bool get_u64(struct ctx *c, const json_t *obj, const char *base,
		    const char *key, bool required, uint64_t def,
		    uint64_t max, uint64_t *out)
{
	const json_t *v = json_object_get(obj, key);
	char *path = xfmt("%s%s%s", base, *base ? "." : "", key);
	bool ok = true;

	if (!v) {
		if (required)
			ok = fail(c, path, "missing (a non-negative integer)");
		*out = def;
	} else if (!json_is_integer(v) || json_integer_value(v) < 0) {
		ok = fail(c, path, "must be a non-negative integer, not %s",
			  type_name(v));
	} else if ((uint64_t)json_integer_value(v) > max) {
		ok = fail(c, path, "%lld is too large (max %llu)",
			  (long long)json_integer_value(v),
			  (unsigned long long)max);
	} else {
		*out = (uint64_t)json_integer_value(v);
	}
	free(path);
	return ok;
}

static bool get_num(struct ctx *c, const json_t *obj, const char *base,
		    const char *key, double def, double min, double max,
		    double *out)
{
	const json_t *v = json_object_get(obj, key);
	char *path = xfmt("%s%s%s", base, *base ? "." : "", key);
	bool ok = true;

	if (!v) {
		*out = def;
	} else if (!json_is_number(v)) {
		ok = fail(c, path, "must be a number, not %s", type_name(v));
	} else if (json_number_value(v) < min || json_number_value(v) > max ||
		   !isfinite(json_number_value(v))) {
		ok = fail(c, path, "%g is out of range [%g, %g]",
			  json_number_value(v), min, max);
	} else {
		*out = json_number_value(v);
	}
	free(path);
	return ok;
}

static bool get_bool(struct ctx *c, const json_t *obj, const char *base,
		     const char *key, bool def, bool *out)
{
	const json_t *v = json_object_get(obj, key);
	char *path = xfmt("%s%s%s", base, *base ? "." : "", key);
	bool ok = true;

	if (!v)
		*out = def;
	else if (!json_is_boolean(v))
		ok = fail(c, path, "must be true or false, not %s",
			  type_name(v));
	else
		*out = json_is_true(v);
	free(path);
	return ok;
}

static bool check_keys(struct ctx *c, const json_t *obj, const char *path,
		       const char *const *known)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		bool ok = false;
		for (size_t i = 0; known[i]; i++)
			ok |= !strcmp(known[i], key);
		if (!ok) {
			char *p = xfmt("%s%s%s", path, *path ? "." : "", key);
			fail(c, p, "unknown field (a typo?)");
			free(p);
			return false;
		}
	}
	return true;
}

static bool parse_fee(struct ctx *c, const json_t *ch, const char *base,
		      const char *key, struct sc_fee *fee)
{
	static const char *const known[] = {"base_msat", "ppm", NULL};
	const json_t *v = json_object_get(ch, key);
	char *path = xfmt("%s.%s", base, key);
	uint64_t ppm;
	bool ok = true;

	fee->base_msat = 1000;
	fee->ppm = 10;
	fee->given = false;
	if (!v)
		goto out;
	if (!json_is_object(v)) {
		ok = fail(c, path, "must be an object {base_msat, ppm}");
		goto out;
	}
	ok = check_keys(c, v, path, known) &&
	     get_u64(c, v, path, "base_msat", false, 1000, UINT32_MAX,
		     &fee->base_msat) &&
	     get_u64(c, v, path, "ppm", false, 10, 1000000, &ppm);
	if (ok) {
		fee->ppm = (uint32_t)ppm;
		fee->given = true;
	}
out:
	free(path);
	return ok;
}

static bool parse_node(struct ctx *c, const json_t *n, size_t i,
		       struct sc_node *out)
{
	static const char *const known[] = {
		"alias", "fleet", "plugins", "options", "onchain_sat",
		"send_weight", "recv_weight", "max_htlcs",
		"generate_channels", NULL};
	char *base = xfmt("nodes[%zu]", i);
	const json_t *alias, *plugins, *opts;
	uint64_t mh;
	bool ok = false;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(n)) {
		fail(c, base, "must be an object");
		goto out;
	}
	if (!check_keys(c, n, base, known))
		goto out;
	alias = json_object_get(n, "alias");
	if (!json_is_string(alias) || !*json_string_value(alias) ||
	    strlen(json_string_value(alias)) > 32 ||
	    strspn(json_string_value(alias),
		   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789-_") != strlen(json_string_value(alias))) {
		char *p = xfmt("%s.alias", base);
		fail(c, p, alias ? "must be 1-32 characters of [A-Za-z0-9_-]"
				 : "missing");
		free(p);
		goto out;
	}
	out->alias = xstrdup(json_string_value(alias));
	if (!get_bool(c, n, base, "fleet", false, &out->fleet) ||
	    !get_u64(c, n, base, "onchain_sat", false, 0,
		     2100000000000000ULL, &out->onchain_sat) ||
	    !get_num(c, n, base, "send_weight", 1.0, 0, 1e6,
		     &out->send_weight) ||
	    !get_num(c, n, base, "recv_weight", 1.0, 0, 1e6,
		     &out->recv_weight) ||
	    !get_u64(c, n, base, "max_htlcs", false, 30, 483, &mh))
		goto out;
	out->max_htlcs = (uint16_t)mh;
	uint64_t gc;
	if (!get_u64(c, n, base, "generate_channels", false, UINT64_MAX, 10000,
		     &gc))
		goto out;
	out->generate_channels = gc == UINT64_MAX ? -1 : (int64_t)gc;
	plugins = json_object_get(n, "plugins");
	if (plugins) {
		size_t k;
		json_t *p;
		if (!json_is_array(plugins)) {
			char *path = xfmt("%s.plugins", base);
			fail(c, path, "must be an array of plugin names");
			free(path);
			goto out;
		}
		if (!out->fleet && json_array_size(plugins)) {
			char *path = xfmt("%s.plugins", base);
			fail(c, path, "only fleet nodes run plugins");
			free(path);
			goto out;
		}
		out->plugins = xzalloc(sizeof(char *) *
				       (json_array_size(plugins) + 1));
		json_array_foreach(plugins, k, p) {
			if (!json_is_string(p)) {
				char *path = xfmt("%s.plugins[%zu]", base, k);
				fail(c, path, "must be a string");
				free(path);
				goto out;
			}
			out->plugins[out->nplugins++] =
				xstrdup(json_string_value(p));
		}
	}
	opts = json_object_get(n, "options");
	if (opts && !json_is_object(opts)) {
		char *path = xfmt("%s.options", base);
		fail(c, path, "must be an object of option values");
		free(path);
		goto out;
	}
	out->options = opts ? json_deep_copy(opts) : json_object();
	ok = true;
out:
	free(base);
	return ok;
}

static bool parse_channel(struct ctx *c, const struct scenario *sc,
			  const json_t *ch, size_t i, struct sc_channel *out)
{
	static const char *const known[] = {
		"a", "b", "capacity_sat", "a_balance_sat", "opener", "a_fee",
		"b_fee", "age_days", NULL};
	char *base = xfmt("channels[%zu]", i);
	const char *ends[2] = {"a", "b"};
	size_t idx[2];
	const char *opener;
	bool ok = false;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(ch)) {
		fail(c, base, "must be an object");
		goto out;
	}
	if (!check_keys(c, ch, base, known))
		goto out;
	for (int e = 0; e < 2; e++) {
		const json_t *v = json_object_get(ch, ends[e]);
		char *path = xfmt("%s.%s", base, ends[e]);
		ssize_t k = json_is_string(v)
				    ? scenario_node_index(sc, json_string_value(v))
				    : -1;
		if (!v)
			fail(c, path, "missing (a node alias)");
		else if (!json_is_string(v))
			fail(c, path, "must be a node alias, not %s",
			     type_name(v));
		else if (k < 0)
			fail(c, path, "unknown node '%s'", json_string_value(v));
		free(path);
		if (k < 0)
			goto out;
		idx[e] = (size_t)k;
	}
	if (idx[0] == idx[1]) {
		fail(c, base, "a channel needs two different nodes");
		goto out;
	}
	out->a = idx[0];
	out->b = idx[1];
	if (!get_u64(c, ch, base, "capacity_sat", true, 0, 1000000000ULL,
		     &out->capacity_sat))
		goto out;
	if (out->capacity_sat < 20000) {
		char *p = xfmt("%s.capacity_sat", base);
		fail(c, p, "%llu sat is below the 20000 sat minimum",
		     (unsigned long long)out->capacity_sat);
		free(p);
		goto out;
	}
	opener = json_string_value(json_object_get(ch, "opener"));
	if (json_object_get(ch, "opener") &&
	    (!opener || (strcmp(opener, "a") && strcmp(opener, "b")))) {
		char *p = xfmt("%s.opener", base);
		fail(c, p, "must be \"a\" or \"b\"");
		free(p);
		goto out;
	}
	out->opener = opener && !strcmp(opener, "b") ? 1 : 0;
	/* Channels start on the opener's side unless told otherwise. */
	if (!get_u64(c, ch, base, "a_balance_sat", false,
		     out->opener == 0 ? out->capacity_sat : 0, UINT64_MAX,
		     &out->a_balance_sat))
		goto out;
	if (out->a_balance_sat > out->capacity_sat) {
		char *p = xfmt("%s.a_balance_sat", base);
		fail(c, p, "impossible balance: %llu sat exceeds the "
			   "capacity of %llu sat",
		     (unsigned long long)out->a_balance_sat,
		     (unsigned long long)out->capacity_sat);
		free(p);
		goto out;
	}
	if (!parse_fee(c, ch, base, "a_fee", &out->fee[0]) ||
	    !parse_fee(c, ch, base, "b_fee", &out->fee[1]) ||
	    !get_num(c, ch, base, "age_days", 0, 0, 36500, &out->age_days))
		goto out;
	ok = true;
out:
	free(base);
	return ok;
}

ssize_t scenario_node_index(const struct scenario *sc, const char *alias)
{
	for (size_t i = 0; i < sc->nnodes; i++)
		if (sc->nodes[i].alias && !strcmp(sc->nodes[i].alias, alias))
			return (ssize_t)i;
	return -1;
}

struct scenario *scenario_from_json(const char *path, const json_t *doc,
				    char **err)
{
	static const char *const known[] = {
		"name", "description", "seed", "start_time", "start_height",
		"nodes", "channels", "generate", "traffic", "chain", "events",
		"competitors", "baselines",
		NULL};
	struct ctx c = {.file = path};
	struct scenario *sc = xzalloc(sizeof(*sc));
	const json_t *nodes, *chans, *name;
	size_t i;
	json_t *v;

	sc->path = xstrdup(path);
	sc->raw = json_deep_copy(doc);
	if (!json_is_object(doc)) {
		fail(&c, "(top)", "must be a JSON object");
		goto bad;
	}
	if (!check_keys(&c, doc, "", known))
		goto bad;
	name = json_object_get(doc, "name");
	if (!json_is_string(name)) {
		fail(&c, "name", name ? "must be a string" : "missing");
		goto bad;
	}
	sc->name = xstrdup(json_string_value(name));
	uint64_t h;
	if (!get_u64(&c, doc, "", "seed", false, 1, UINT64_MAX, &sc->seed) ||
	    !get_u64(&c, doc, "", "start_time", false, 1767225600ULL,
		     4102444800ULL, &sc->start_time) ||
	    !get_u64(&c, doc, "", "start_height", false, 900000, 10000000,
		     &h))
		goto bad;
	sc->start_height = (uint32_t)h;

	nodes = json_object_get(doc, "nodes");
	if (!json_is_array(nodes) || json_array_size(nodes) == 0) {
		fail(&c, "nodes", nodes ? "must be a non-empty array"
					: "missing");
		goto bad;
	}
	sc->nodes = xzalloc(sizeof(*sc->nodes) * json_array_size(nodes));
	json_array_foreach(nodes, i, v) {
		if (!parse_node(&c, v, i, &sc->nodes[i])) {
			sc->nnodes = i + 1;
			goto bad;
		}
		sc->nnodes = i + 1;
		for (size_t k = 0; k < i; k++) {
			if (!strcmp(sc->nodes[k].alias, sc->nodes[i].alias)) {
				char *p = xfmt("nodes[%zu].alias", i);
				fail(&c, p, "duplicate alias '%s' (also "
					    "nodes[%zu])",
				     sc->nodes[i].alias, k);
				free(p);
				goto bad;
			}
		}
	}
	chans = json_object_get(doc, "channels");
	if (chans && !json_is_array(chans)) {
		fail(&c, "channels", "must be an array");
		goto bad;
	}
	sc->chans = xzalloc(sizeof(*sc->chans) * (json_array_size(chans) + 1));
	json_array_foreach(chans, i, v) {
		if (!parse_channel(&c, sc, v, i, &sc->chans[i]))
			goto bad;
		sc->nchans = i + 1;
	}
	v = json_object_get(doc, "generate");
	if (v && !json_is_object(v)) {
		fail(&c, "generate", "must be an object");
		goto bad;
	}
	sc->generate = v ? json_deep_copy(v) : NULL;
	v = json_object_get(doc, "traffic");
	if (v && !json_is_object(v)) {
		fail(&c, "traffic", "must be an object");
		goto bad;
	}
	sc->traffic = v ? json_deep_copy(v) : NULL;
	return sc;
bad:
	*err = c.err ? c.err : xfmt("%s: invalid scenario", path);
	scenario_free(sc);
	return NULL;
}

struct scenario *scenario_load(const char *path, char **err)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr);
	struct scenario *sc;

	if (!doc) {
		*err = xfmt("%s: line %d column %d: %s", path, jerr.line,
			    jerr.column, jerr.text);
		return NULL;
	}
	sc = scenario_from_json(path, doc, err);
	json_decref(doc);
	return sc;
}

void scenario_free(struct scenario *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; i < sc->nnodes; i++) {
		free(sc->nodes[i].alias);
		for (size_t k = 0; k < sc->nodes[i].nplugins; k++)
			free(sc->nodes[i].plugins[k]);
		free(sc->nodes[i].plugins);
		json_decref(sc->nodes[i].options);
	}
	free(sc->nodes);
	free(sc->chans);
	json_decref(sc->generate);
	json_decref(sc->traffic);
	json_decref(sc->raw);
	free(sc->path);
	free(sc->name);
	free(sc);
}

void scenario_set_traffic(struct scenario *sc, const char *key,
			  json_t *value)
{
	if (!sc->traffic)
		sc->traffic = json_object();
	json_object_set_new(sc->traffic, key, value);
}
