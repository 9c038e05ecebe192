/* What a plugin declares and the options it is run with: the getmanifest
 * result built from the plugin_spec tables, and each option's value,
 * parsed and range-checked from its text or JSON, from its default, from
 * init and from setconfig, and read back through plugin_opt_*(). */
#include "common/plugin.h"
#include "common/plugin_internal.h"
#include "common/util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- options ---------- */

static const char *opt_type_name(enum plugin_opt_type t)
{
	switch (t) {
	case POPT_INT:
	case POPT_INT_MULTI:
		return "int";
	case POPT_BOOL:
		return "bool";
	case POPT_FLAG:
		return "flag";
	case POPT_STRING:
	case POPT_DOUBLE:
	case POPT_STRING_MULTI:
		return "string";
	}
	return "string";
}

static bool opt_is_multi(const struct plugin_option *o)
{
	return o->type == POPT_STRING_MULTI || o->type == POPT_INT_MULTI;
}

/* Text form of a scalar JSON value as lightningd would have given it. */
static char *scalar_text(const json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xfmt("%lld", (long long)json_integer_value(v));
	if (json_is_real(v))
		return xfmt("%.17g", json_real_value(v));
	if (json_is_true(v))
		return xstrdup("true");
	if (json_is_false(v))
		return xstrdup("false");
	return NULL;
}

static char *range_error(const struct plugin_option *o, double v)
{
	if (o->has_range && (v < o->min || v > o->max))
		return xfmt("%s=%.15g is out of range: must be between %.15g "
			    "and %.15g",
			    o->name, v, o->min, o->max);
	return NULL;
}

static char *parse_scalar(const struct plugin_option *o, enum plugin_opt_type t,
			  const json_t *val, json_t **out)
{
	char *text = scalar_text(val), *err = NULL;

	if (!text)
		return xfmt("%s: expected a %s value", o->name,
			    opt_type_name(t));
	switch (t) {
	case POPT_INT:
	case POPT_INT_MULTI: {
		long long i;
		if (!str_to_i64(text, &i)) {
			err = xfmt("%s='%s' is not an integer", o->name, text);
			break;
		}
		if ((err = range_error(o, (double)i)) == NULL)
			*out = json_integer(i);
		break;
	}
	case POPT_DOUBLE: {
		double d;
		if (!str_to_double(text, &d)) {
			err = xfmt("%s='%s' is not a number", o->name, text);
			break;
		}
		if ((err = range_error(o, d)) == NULL)
			*out = json_real(d);
		break;
	}
	case POPT_BOOL:
	case POPT_FLAG:
		/* lightningd accepts these spellings for bool options. */
		if (!strcmp(text, "true") || !strcmp(text, "1") ||
		    !strcmp(text, "yes") || !strcmp(text, "on"))
			*out = json_true();
		else if (!strcmp(text, "false") || !strcmp(text, "0") ||
			 !strcmp(text, "no") || !strcmp(text, "off"))
			*out = json_false();
		else
			err = xfmt("%s='%s' is not a boolean (true/false)",
				   o->name, text);
		break;
	case POPT_STRING:
	case POPT_STRING_MULTI:
		if (o->choices) {
			bool ok = false;
			for (const char *const *c = o->choices; *c; c++)
				ok |= !strcmp(*c, text);
			if (!ok) {
				char *list = xstrdup("");
				for (const char *const *c = o->choices; *c;
				     c++) {
					char *n = xfmt("%s%s%s", list,
						       *list ? ", " : "", *c);
					free(list);
					list = n;
				}
				err = xfmt("%s='%s' must be one of: %s",
					   o->name, text, list);
				free(list);
				break;
			}
		}
		*out = json_string(text);
		break;
	}
	free(text);
	return err;
}

char *plugin_option_parse(const struct plugin_option *opt, const json_t *val,
			  json_t **out)
{
	*out = NULL;
	if (opt_is_multi(opt)) {
		json_t *arr = json_array();
		enum plugin_opt_type t =
			opt->type == POPT_INT_MULTI ? POPT_INT : POPT_STRING;
		if (!json_is_array(val)) {
			/* A single value for a multi option is one entry. */
			json_t *one;
			char *err = parse_scalar(opt, t, val, &one);
			if (err) {
				json_decref(arr);
				return err;
			}
			json_array_append_new(arr, one);
		} else {
			size_t i;
			json_t *v;
			json_array_foreach(val, i, v) {
				json_t *one;
				char *err = parse_scalar(opt, t, v, &one);
				if (err) {
					json_decref(arr);
					return err;
				}
				json_array_append_new(arr, one);
			}
		}
		*out = arr;
		return NULL;
	}
	return parse_scalar(opt, opt->type, val, out);
}

ssize_t plugin_opt_index(const struct plugin *p, const char *name)
{
	for (size_t i = 0; i < p->spec->num_options; i++)
		if (!strcmp(p->spec->options[i].name, name))
			return (ssize_t)i;
	return -1;
}

void plugin_opt_store(struct plugin *p, size_t i, json_t *val, bool set)
{
	struct optval *ov = &p->opts[i];

	json_decref(ov->val);
	free(ov->multi);
	ov->multi = NULL;
	ov->nmulti = 0;
	ov->val = val;
	ov->set = set;
	if (val && json_is_array(val)) {
		size_t j;
		json_t *v;
		ov->multi = xzalloc(sizeof(char *) * (json_array_size(val) + 1));
		json_array_foreach(val, j, v) {
			/* Int multis keep their text form for the view. */
			if (!json_is_string(v)) {
				char *t = scalar_text(v);
				json_array_set_new(val, j, json_string(t));
				free(t);
				v = json_array_get(val, j);
			}
			ov->multi[ov->nmulti++] = json_string_value(v);
		}
	}
}

static const struct optval *opt_get(const struct plugin *p, const char *name,
				    enum plugin_opt_type want)
{
	ssize_t i = plugin_opt_index(p, name);
	if (i < 0 || p->spec->options[i].type != want) {
		fprintf(stderr, "%s: option %s read as wrong type or not "
				"declared\n",
			p->spec->name, name);
		abort();
	}
	return &p->opts[i];
}

const char *plugin_opt_str(const struct plugin *p, const char *name)
{
	return json_string_value(opt_get(p, name, POPT_STRING)->val);
}

int64_t plugin_opt_int(const struct plugin *p, const char *name)
{
	return json_integer_value(opt_get(p, name, POPT_INT)->val);
}

bool plugin_opt_bool(const struct plugin *p, const char *name)
{
	ssize_t i = plugin_opt_index(p, name);
	if (i >= 0 && p->spec->options[i].type == POPT_FLAG)
		return json_is_true(p->opts[i].val);
	return json_is_true(opt_get(p, name, POPT_BOOL)->val);
}

double plugin_opt_double(const struct plugin *p, const char *name)
{
	return json_number_value(opt_get(p, name, POPT_DOUBLE)->val);
}

size_t plugin_opt_multi(const struct plugin *p, const char *name,
			const char *const **vals)
{
	ssize_t i = plugin_opt_index(p, name);
	if (i < 0 || !opt_is_multi(&p->spec->options[i]))
		abort();
	*vals = p->opts[i].multi;
	return p->opts[i].nmulti;
}

bool plugin_opt_is_set(const struct plugin *p, const char *name)
{
	ssize_t i = plugin_opt_index(p, name);
	if (i < 0)
		abort();
	return p->opts[i].set;
}

json_t *plugin_opt_json(const struct plugin *p, const char *name)
{
	ssize_t i = plugin_opt_index(p, name);
	if (i < 0)
		abort();
	return p->opts[i].val ? json_deep_copy(p->opts[i].val) : json_null();
}

/* Defaults first, so every option has its value before init overrides. */
char *plugin_opt_load_defaults(struct plugin *p)
{
	for (size_t i = 0; i < p->spec->num_options; i++) {
		const struct plugin_option *o = &p->spec->options[i];
		json_t *v = NULL;
		if (o->type == POPT_FLAG) {
			v = json_false();
		} else if (opt_is_multi(o)) {
			v = json_array();
		} else if (o->def) {
			json_t *raw = json_string(o->def);
			char *err = parse_scalar(o, o->type, raw, &v);
			json_decref(raw);
			if (err) {
				char *e = xfmt("built-in default invalid: %s",
					       err);
				free(err);
				return e;
			}
		}
		plugin_opt_store(p, i, v, false);
	}
	return NULL;
}

char *plugin_opt_apply_init(struct plugin *p, const json_t *options)
{
	const char *key;
	json_t *val;

	if (!options)
		return NULL;
	if (!json_is_object(options))
		return xstrdup("init: 'options' is not an object");
	json_object_foreach((json_t *)options, key, val) {
		ssize_t i = plugin_opt_index(p, key);
		json_t *parsed;
		char *err;

		if (i < 0)
			continue; /* not ours: ignore, as lightningd may add */
		err = plugin_option_parse(&p->spec->options[i], val, &parsed);
		if (err)
			return err;
		/* lightningd sends every option, defaults included; "set"
		 * means it differs from our default. */
		bool set = !p->opts[i].val || !json_equal(parsed, p->opts[i].val);
		plugin_opt_store(p, (size_t)i, parsed, set);
	}
	return NULL;
}

/* ---------- manifest ---------- */

static json_t *name_array(const char *const *names)
{
	json_t *a = json_array();
	for (; names && *names; names++)
		json_array_append_new(a, json_string(*names));
	return a;
}

json_t *plugin_manifest_json(const struct plugin_spec *spec)
{
	json_t *m = json_object(), *opts = json_array(), *methods = json_array(),
	       *subs = json_array(), *hooks = json_array(),
	       *notifs = json_array(), *msgs = json_array();
	bool have_shutdown = false;

	for (size_t i = 0; i < spec->num_options; i++) {
		const struct plugin_option *o = &spec->options[i];
		bool as_string = spec->lenient_option_types &&
				 o->type != POPT_FLAG;
		json_t *jo = json_pack("{s:s,s:s,s:s}", "name", o->name,
				       "type",
				       as_string ? "string"
						 : opt_type_name(o->type),
				       "description", o->description);
		if (o->def && as_string && !opt_is_multi(o)) {
			json_object_set_new(jo, "default", json_string(o->def));
		} else if (o->def && o->type != POPT_FLAG && !opt_is_multi(o)) {
			/* Typed defaults: lightningd parses them as it
			 * parses the option itself. */
			json_t *raw = json_string(o->def), *v = NULL;
			char *err = parse_scalar(o, o->type, raw, &v);
			json_decref(raw);
			if (err) {
				free(err);
				v = json_string(o->def);
			} else if (o->type == POPT_DOUBLE) {
				json_decref(v);
				v = json_string(o->def);
			}
			json_object_set_new(jo, "default", v);
		}
		if (opt_is_multi(o))
			json_object_set_new(jo, "multi", json_true());
		if (o->dynamic)
			json_object_set_new(jo, "dynamic", json_true());
		json_array_append_new(opts, jo);
	}
	for (size_t i = 0; i < spec->num_methods; i++) {
		const struct plugin_method *me = &spec->methods[i];
		json_array_append_new(
			methods,
			json_pack("{s:s,s:s,s:s}", "name", me->name, "usage",
				  me->usage ? me->usage : "", "description",
				  me->description));
	}
	for (size_t i = 0; i < spec->num_subscriptions; i++) {
		json_array_append_new(
			subs, json_string(spec->subscriptions[i].topic));
		have_shutdown |= !strcmp(spec->subscriptions[i].topic,
					 "shutdown");
	}
	/* Always: a clean exit needs it. */
	if (!have_shutdown)
		json_array_append_new(subs, json_string("shutdown"));
	for (size_t i = 0; i < spec->num_hooks; i++) {
		const struct plugin_hook *h = &spec->hooks[i];
		json_t *jh = json_pack("{s:s}", "name", h->name);
		if (h->before)
			json_object_set_new(jh, "before", name_array(h->before));
		if (h->after)
			json_object_set_new(jh, "after", name_array(h->after));
		if (h->num_filters) {
			json_t *f = json_array();
			for (size_t j = 0; j < h->num_filters; j++)
				json_array_append_new(
					f, json_integer(h->filters[j]));
			json_object_set_new(jh, "filters", f);
		}
		json_array_append_new(hooks, jh);
	}
	for (size_t i = 0; i < spec->num_notification_topics; i++)
		json_array_append_new(
			notifs, json_pack("{s:s}", "method",
					  spec->notification_topics[i]));
	for (size_t i = 0; i < spec->num_custommessages; i++)
		json_array_append_new(msgs,
				      json_integer(spec->custommessages[i]));

	json_object_set_new(m, "options", opts);
	json_object_set_new(m, "rpcmethods", methods);
	json_object_set_new(m, "subscriptions", subs);
	json_object_set_new(m, "hooks", hooks);
	json_object_set_new(m, "notifications", notifs);
	json_object_set_new(m, "custommessages", msgs);
	json_object_set_new(m, "nonnumericids", json_true());
	json_object_set_new(m, "dynamic", json_boolean(spec->dynamic));
	return m;
}
