/* A command's parameters, parsed against a table of struct param as
 * lightningd's plugins do: by position or by name, numbers also given as
 * strings, every problem failing the command with ERR_INVALID_PARAMS and
 * the parameter's name (see command_params in plugin.h). Uses only the
 * public interface of the plugin runtime. */
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include <string.h>

static const char *param_type_name(enum param_type t)
{
	static const char *const n[] = {
		[PARAM_STRING] = "a string",
		[PARAM_INT] = "an integer",
		[PARAM_UINT] = "a non-negative integer",
		[PARAM_BOOL] = "true or false",
		[PARAM_DOUBLE] = "a number",
		[PARAM_MSAT] = "an amount in msat",
		[PARAM_SCID] = "a short_channel_id (BLOCKxTXxOUT)",
		[PARAM_PUBKEY] = "a node id (66 hex characters)",
		[PARAM_JSON] = "a JSON value",
	};
	return n[t];
}

static bool param_convert(const struct param *s, const json_t *v)
{
	const char *str = json_string_value(v);

	switch (s->type) {
	case PARAM_STRING:
		if (!str)
			return false;
		*(const char **)s->out = str;
		return true;
	case PARAM_SCID:
		if (!str || !scid_valid(str))
			return false;
		*(const char **)s->out = str;
		return true;
	case PARAM_PUBKEY:
		if (!str || !pubkey_hex_valid(str))
			return false;
		*(const char **)s->out = str;
		return true;
	case PARAM_INT: {
		long long i;
		if (json_is_integer(v))
			i = json_integer_value(v);
		else if (!str || !str_to_i64(str, &i))
			return false;
		*(int64_t *)s->out = i;
		return true;
	}
	case PARAM_UINT: {
		unsigned long long u;
		if (json_is_integer(v) && json_integer_value(v) >= 0)
			u = (unsigned long long)json_integer_value(v);
		else if (!str || !str_to_u64(str, &u))
			return false;
		*(uint64_t *)s->out = u;
		return true;
	}
	case PARAM_MSAT:
		return json_value_msat(v, (uint64_t *)s->out);
	case PARAM_DOUBLE: {
		double d;
		if (json_is_number(v))
			d = json_number_value(v);
		else if (!str || !str_to_double(str, &d))
			return false;
		*(double *)s->out = d;
		return true;
	}
	case PARAM_BOOL:
		if (json_is_boolean(v))
			*(bool *)s->out = json_is_true(v);
		else if (str && !strcmp(str, "true"))
			*(bool *)s->out = true;
		else if (str && !strcmp(str, "false"))
			*(bool *)s->out = false;
		else
			return false;
		return true;
	case PARAM_JSON:
		*(const json_t **)s->out = v;
		return true;
	}
	return false;
}

static bool param_one(struct command *cmd, const struct param *s,
		      const json_t *v)
{
	if (!v || json_is_null(v)) {
		if (s->required) {
			command_fail(cmd, ERR_INVALID_PARAMS, NULL,
				     "missing required parameter: %s",
				     s->name);
			return false;
		}
		return true;
	}
	if (!param_convert(s, v)) {
		char *got = json_to_text(v);
		command_fail(cmd, ERR_INVALID_PARAMS, NULL,
			     "%s: should be %s, not %.60s", s->name,
			     param_type_name(s->type), got);
		free(got);
		return false;
	}
	if (s->present)
		*s->present = true;
	return true;
}

bool command_params(struct command *cmd, const json_t *params,
		    const struct param *specs)
{
	size_t n = 0;

	while (specs[n].name)
		n++;
	if (!params || json_is_null(params))
		params = NULL;
	if (params && json_is_array(params)) {
		if (json_array_size(params) > n) {
			command_fail(cmd, ERR_INVALID_PARAMS, NULL,
				     "too many parameters: %s takes at most "
				     "%zu",
				     command_method(cmd), n);
			return false;
		}
		for (size_t i = 0; i < n; i++)
			if (!param_one(cmd, &specs[i],
				       json_array_get(params, i)))
				return false;
		return true;
	}
	if (params && !json_is_object(params)) {
		command_fail(cmd, ERR_INVALID_PARAMS, NULL,
			     "params must be an array or an object");
		return false;
	}
	if (params) {
		const char *key;
		json_t *v;
		json_object_foreach((json_t *)params, key, v) {
			bool known = false;
			for (size_t i = 0; i < n; i++)
				known |= !strcmp(specs[i].name, key);
			if (!known) {
				command_fail(cmd, ERR_INVALID_PARAMS, NULL,
					     "unknown parameter: %s", key);
				return false;
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!param_one(cmd, &specs[i],
			       params ? json_object_get(params, specs[i].name)
				      : NULL))
			return false;
	return true;
}
