/* Unit tests for common/json_util.c: typed getters (missing members and
 * wrong types leave *out alone), msat as an integer or "<n>msat" string,
 * short_channel_id parsing with the overflow of each part, and node id
 * validation. */
#include "common/json_util.h"
#include "tests/check.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct msat_case {
	const char *json; /* the value, as JSON text */
	bool ok;
	uint64_t want;
};

static void test_msat(void)
{
	static const struct msat_case cases[] = {
		{.json = "0", .ok = true, .want = 0},
		{.json = "123", .ok = true, .want = 123},
		{.json = "9223372036854775807", .ok = true,
		 .want = 9223372036854775807ULL},
		{.json = "\"123msat\"", .ok = true, .want = 123},
		{.json = "\"123\"", .ok = true, .want = 123},
		{.json = "\"0msat\"", .ok = true, .want = 0},
		{.json = "\"18446744073709551615msat\"", .ok = true,
		 .want = UINT64_MAX},
		{.json = "\"18446744073709551616msat\"", .ok = false},
		{.json = "\"msat\"", .ok = false},
		{.json = "\"\"", .ok = false},
		{.json = "\"12x\"", .ok = false},
		{.json = "\"12 msat\"", .ok = false},
		{.json = "\"12sat\"", .ok = false},
		{.json = "\"12msatmsat\"", .ok = false},
		{.json = "\"-5msat\"", .ok = false},
		{.json = "\" -5msat\"", .ok = false},
		{.json = "\"-5\"", .ok = false},
		{.json = "-1", .ok = false},
		{.json = "1.5", .ok = false},
		{.json = "true", .ok = false},
		{.json = "null", .ok = false},
		{.json = "{}", .ok = false},
		{.json = "[1]", .ok = false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct msat_case *c = &cases[i];
		json_error_t jerr;
		json_t *v = json_loads(c->json, JSON_DECODE_ANY, &jerr);
		json_t *obj = json_object();
		uint64_t out = 4242, out2 = 4242;
		bool ok, ok2;

		if (!v) {
			CHECK(false, "bad test JSON %s: %s", c->json, jerr.text);
			continue;
		}
		ok = json_value_msat(v, &out);
		json_object_set_new(obj, "amount_msat", v);
		ok2 = json_get_msat(obj, "amount_msat", &out2);
		CHECK_EQ_INT(ok, c->ok, "json_value_msat(%s) ok", c->json);
		CHECK_EQ_INT(ok2, c->ok, "json_get_msat({amount_msat: %s}) ok",
			     c->json);
		CHECK(out == (c->ok ? c->want : 4242) && out2 == out,
		      "msat(%s) = %" PRIu64 " / %" PRIu64 " (want %" PRIu64 ")",
		      c->json, out, out2, c->ok ? c->want : 4242);
		json_decref(obj);
	}
	{
		json_t *obj = json_object();
		uint64_t out = 7;
		CHECK(!json_get_msat(obj, "missing", &out) && out == 7,
		      "json_get_msat of a missing member");
		CHECK(!json_get_msat(NULL, "x", &out) && out == 7,
		      "json_get_msat of NULL object");
		json_decref(obj);
	}
}

struct scid_case {
	const char *s;
	bool ok;
	uint32_t block, tx;
	uint16_t out;
};

static void test_scid(void)
{
	static const struct scid_case cases[] = {
		{.s = "103x1x0", .ok = true, .block = 103, .tx = 1, .out = 0},
		{.s = "0x0x0", .ok = true},
		{.s = "812345x2048x3", .ok = true, .block = 812345,
		 .tx = 2048, .out = 3},
		{.s = "16777215x16777215x65535", .ok = true,
		 .block = 16777215, .tx = 16777215, .out = 65535},
		/* Each part one past its width. */
		{.s = "16777216x0x0", .ok = false},
		{.s = "0x16777216x0", .ok = false},
		{.s = "0x0x65536", .ok = false},
		/* Parts too large even for 64 bits. */
		{.s = "99999999999999999999x1x1", .ok = false},
		{.s = "1x99999999999999999999x1", .ok = false},
		{.s = "1x1x99999999999999999999", .ok = false},
		/* 2^32 + 5: would truncate to 5 if range-checked after a
		 * 32-bit cast. */
		{.s = "4294967301x1x1", .ok = false},
		{.s = "1x1x65541", .ok = false},
		{.s = "", .ok = false},
		{.s = "x1x1", .ok = false},
		{.s = "1x1", .ok = false},
		{.s = "1x1x", .ok = false},
		{.s = "1xx1", .ok = false},
		{.s = "1x1x1x1", .ok = false},
		{.s = "1:1:1", .ok = false},
		{.s = "1X1X1", .ok = false},
		{.s = "-1x1x1", .ok = false},
		{.s = "1x-1x1", .ok = false},
		{.s = "1x1x-1", .ok = false},
		{.s = "+1x1x1", .ok = false},
		{.s = "1x+1x1", .ok = false},
		{.s = " 1x1x1", .ok = false},
		{.s = "1x 1x1", .ok = false},
		{.s = "1x1x1 ", .ok = false},
		{.s = "1x1x1a", .ok = false},
		{.s = NULL, .ok = false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct scid_case *c = &cases[i];
		uint32_t block = 0xAAAA, tx = 0xBBBB;
		uint16_t out = 0xCCC;
		const char *name = c->s ? c->s : "(null)";
		bool ok = scid_parse(c->s, &block, &tx, &out);

		CHECK_EQ_INT(ok, c->ok, "scid_parse('%s') ok", name);
		CHECK_EQ_INT(scid_valid(c->s), c->ok, "scid_valid('%s')", name);
		if (c->ok)
			CHECK(block == c->block && tx == c->tx &&
				      out == c->out,
			      "scid_parse('%s') = %" PRIu32 "x%" PRIu32
			      "x%u",
			      name, block, tx, out);
		else
			CHECK(block == 0xAAAA && tx == 0xBBBB && out == 0xCCC,
			      "scid_parse('%s') failure leaves outputs", name);
	}
}

static void test_pubkey(void)
{
	char good2[67], good3[67], upper[67], buf[70];

	memset(good2, 'a', 66);
	good2[66] = '\0';
	good2[0] = '0';
	good2[1] = '2';
	strcpy(good3, good2);
	good3[1] = '3';
	strcpy(upper, good2);
	for (int i = 2; i < 66; i++)
		upper[i] = "0123456789ABCDEF"[i % 16];

	CHECK(pubkey_hex_valid(good2), "02 + 64 hex digits");
	CHECK(pubkey_hex_valid(good3), "03 + 64 hex digits");
	CHECK(pubkey_hex_valid(upper), "uppercase hex digits: %s", upper);
	strcpy(buf, good2);
	buf[1] = '4';
	CHECK(!pubkey_hex_valid(buf), "04 prefix (uncompressed) refused");
	buf[0] = '1';
	buf[1] = '2';
	CHECK(!pubkey_hex_valid(buf), "12 prefix refused");
	strcpy(buf, good2);
	buf[65] = '\0';
	CHECK(!pubkey_hex_valid(buf), "65 characters refused");
	strcpy(buf, good2);
	strcat(buf, "a");
	CHECK(!pubkey_hex_valid(buf), "67 characters refused");
	strcpy(buf, good2);
	buf[40] = 'g';
	CHECK(!pubkey_hex_valid(buf), "non-hex digit refused");
	strcpy(buf, good2);
	buf[65] = ' ';
	CHECK(!pubkey_hex_valid(buf), "trailing space refused");
	CHECK(!pubkey_hex_valid(""), "empty refused");
	CHECK(!pubkey_hex_valid(NULL), "NULL refused");
}

static void test_getters(void)
{
	json_error_t jerr;
	json_t *o = json_loads("{\"s\":\"str\",\"i\":-7,\"u\":4294967296,"
			       "\"u32\":4294967295,\"d\":2.5,\"b\":true,"
			       "\"f\":false,\"n\":null}",
			       0, &jerr);
	int64_t i64 = 1;
	uint64_t u64 = 1;
	uint32_t u32 = 1;
	double d = 1;
	bool b = false;
	char *text;

	CHECK_EQ_STR(json_str(o, "s"), "str", "json_str");
	CHECK(json_str(o, "i") == NULL, "json_str of a number is NULL");
	CHECK(json_str(o, "nope") == NULL, "json_str of missing is NULL");

	CHECK(json_get_i64(o, "i", &i64) && i64 == -7, "i64 -7");
	i64 = 1;
	CHECK(!json_get_i64(o, "s", &i64) && i64 == 1, "i64 of a string");
	CHECK(!json_get_i64(o, "d", &i64) && i64 == 1, "i64 of a real");
	CHECK(!json_get_i64(o, "nope", &i64) && i64 == 1, "i64 missing");

	CHECK(!json_get_u64(o, "i", &u64) && u64 == 1, "u64 of negative");
	CHECK(json_get_u64(o, "u", &u64) && u64 == 4294967296ULL,
	      "u64 2^32");
	CHECK(!json_get_u32(o, "u", &u32) && u32 == 1,
	      "u32 of 2^32 refused");
	CHECK(json_get_u32(o, "u32", &u32) && u32 == 4294967295U,
	      "u32 max");
	u32 = 1;
	CHECK(!json_get_u32(o, "i", &u32) && u32 == 1, "u32 of negative");

	CHECK(json_get_double(o, "d", &d) && d == 2.5, "double 2.5");
	CHECK(json_get_double(o, "i", &d) && d == -7.0,
	      "double accepts an integer");
	d = 1;
	CHECK(!json_get_double(o, "s", &d) && d == 1, "double of string");

	CHECK(json_get_bool(o, "b", &b) && b, "bool true");
	CHECK(json_get_bool(o, "f", &b) && !b, "bool false");
	b = true;
	CHECK(!json_get_bool(o, "i", &b) && b, "bool of an integer");
	CHECK(!json_get_bool(o, "n", &b) && b, "bool of null");

	text = json_to_text(o);
	CHECK(text && strchr(text, ' ') == NULL && text[0] == '{',
	      "json_to_text is compact: %s", text);
	free(text);
	text = json_to_text(NULL);
	CHECK_EQ_STR(text, "null", "json_to_text(NULL)");
	free(text);
	{
		json_t *s = json_string("a\"b");
		text = json_to_text(s);
		CHECK_EQ_STR(text, "\"a\\\"b\"", "json_to_text of a string");
		free(text);
		json_decref(s);
	}
	json_decref(o);
}

int main(void)
{
	test_msat();
	test_scid();
	test_pubkey();
	test_getters();
	return check_done();
}
