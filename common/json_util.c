/* Typed jansson getters; see json_util.h. */
#include "common/json_util.h"
#include "common/util.h"
#include <ctype.h>
#include <string.h>

const char *json_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

bool json_get_i64(const json_t *obj, const char *key, int64_t *out)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_integer(v))
		return false;
	*out = json_integer_value(v);
	return true;
}

bool json_get_u64(const json_t *obj, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

bool json_get_u32(const json_t *obj, const char *key, uint32_t *out)
{
	uint64_t v;
	if (!json_get_u64(obj, key, &v) || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

bool json_get_double(const json_t *obj, const char *key, double *out)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_number(v))
		return false;
	*out = json_number_value(v);
	return true;
}

bool json_get_bool(const json_t *obj, const char *key, bool *out)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_boolean(v))
		return false;
	*out = json_is_true(v);
	return true;
}

bool json_value_msat(const json_t *v, uint64_t *out)
{
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return false;
		*out = (uint64_t)json_integer_value(v);
		return true;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = strlen(s);
		unsigned long long u;
		char *num;
		bool ok;
		if (n > 4 && strcmp(s + n - 4, "msat") == 0)
			n -= 4;
		num = xstrndup(s, n);
		ok = str_to_u64(num, &u);
		free(num);
		if (ok)
			*out = u;
		return ok;
	}
	return false;
}

bool json_get_msat(const json_t *obj, const char *key, uint64_t *out)
{
	return json_value_msat(json_object_get(obj, key), out);
}

bool scid_parse(const char *s, uint32_t *block, uint32_t *tx, uint16_t *out)
{
	unsigned long long b, t, o;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return false;
	b = strtoull(s, &end, 10);
	if (*end != 'x' || !isdigit((unsigned char)end[1]))
		return false;
	t = strtoull(end + 1, &end, 10);
	if (*end != 'x' || !isdigit((unsigned char)end[1]))
		return false;
	o = strtoull(end + 1, &end, 10);
	if (*end != '\0' || b > 0xFFFFFF || t > 0xFFFFFF || o > 0xFFFF)
		return false;
	if (block)
		*block = (uint32_t)b;
	if (tx)
		*tx = (uint32_t)t;
	if (out)
		*out = (uint16_t)o;
	return true;
}

bool scid_valid(const char *s)
{
	return scid_parse(s, NULL, NULL, NULL);
}

bool pubkey_hex_valid(const char *s)
{
	if (!s || strlen(s) != 66)
		return false;
	if (!(s[0] == '0' && (s[1] == '2' || s[1] == '3')))
		return false;
	for (size_t i = 0; i < 66; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

char *json_to_text(const json_t *v)
{
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	return s ? s : xstrdup("null");
}
