/* Unit tests for common/wire.c: big-endian round trips of every width,
 * u16-length-prefixed blobs, the sticky failure flag when reading past the
 * end, and the hex helpers with bad input. */
#include "common/wire.h"
#include "tests/check.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static uint64_t prng_state = 0x1234567890ABCDEFULL;

static uint64_t prng(void)
{
	uint64_t z = (prng_state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static void test_exact_bytes(void)
{
	struct wire_writer w;
	uint8_t *buf;
	size_t len;
	static const uint8_t want[] = {
		0xAB,			/* u8 */
		0x12, 0x34,		/* u16 */
		0xDE, 0xAD, 0xBE, 0xEF, /* u32 */
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* u64 */
		'x', 'y',		/* bytes */
		0x00, 0x03, 'a', 'b', 'c', /* var */
		0x00, 0x00,		/* empty var */
	};

	wire_writer_init(&w);
	wire_put_u8(&w, 0xAB);
	wire_put_u16(&w, 0x1234);
	wire_put_u32(&w, 0xDEADBEEF);
	wire_put_u64(&w, 0x0102030405060708ULL);
	wire_put_bytes(&w, "xy", 2);
	CHECK(wire_put_var(&w, "abc", 3), "put_var of 3 bytes");
	CHECK(wire_put_var(&w, NULL, 0), "put_var of 0 bytes");
	buf = wire_writer_take(&w, &len);
	CHECK_EQ_INT(len, sizeof(want), "encoded length");
	CHECK(len == sizeof(want) && memcmp(buf, want, len) == 0,
	      "encoding is big-endian, byte for byte");
	CHECK(w.buf == NULL && w.len == 0, "take resets the writer");
	free(buf);

	/* Empty writer: take gives a freeable buffer of length 0. */
	buf = wire_writer_take(&w, &len);
	CHECK(buf != NULL && len == 0, "take of an empty writer");
	free(buf);
}

static void test_round_trips(void)
{
	static const uint64_t edges[] = {0,
					 1,
					 0x7F,
					 0x80,
					 0xFF,
					 0x100,
					 0x7FFF,
					 0x8000,
					 0xFFFF,
					 0x10000,
					 0x7FFFFFFF,
					 0x80000000,
					 0xFFFFFFFF,
					 0x100000000ULL,
					 0x7FFFFFFFFFFFFFFFULL,
					 0x8000000000000000ULL,
					 UINT64_MAX};
	size_t n = sizeof(edges) / sizeof(edges[0]);
	int mismatches = 0;

	for (size_t round = 0; round < 200; round++) {
		struct wire_writer w;
		struct wire_reader r;
		uint64_t vals[17];
		uint8_t *buf;
		size_t len;

		for (size_t i = 0; i < n; i++)
			vals[i] = round == 0 ? edges[i] : prng();
		wire_writer_init(&w);
		for (size_t i = 0; i < n; i++) {
			wire_put_u8(&w, (uint8_t)vals[i]);
			wire_put_u16(&w, (uint16_t)vals[i]);
			wire_put_u32(&w, (uint32_t)vals[i]);
			wire_put_u64(&w, vals[i]);
		}
		buf = wire_writer_take(&w, &len);
		if (len != n * 15)
			mismatches++;
		wire_reader_init(&r, buf, len);
		for (size_t i = 0; i < n; i++) {
			uint8_t a = wire_get_u8(&r);
			uint16_t b = wire_get_u16(&r);
			uint32_t c = wire_get_u32(&r);
			uint64_t d = wire_get_u64(&r);
			if (a != (uint8_t)vals[i] || b != (uint16_t)vals[i] ||
			    c != (uint32_t)vals[i] || d != vals[i]) {
				mismatches++;
				printf("# round %zu value %" PRIx64
				       ": got %x %x %" PRIx32 " %" PRIx64 "\n",
				       round, vals[i], a, b, c, d);
			}
		}
		if (!wire_reader_done(&r))
			mismatches++;
		free(buf);
	}
	CHECK_EQ_INT(mismatches, 0,
		     "u8/u16/u32/u64 round trips (edges + 199 random rounds)");
}

static void test_var(void)
{
	static const size_t sizes[] = {0, 1, 255, 256, 65534, 65535};
	uint8_t *blob = malloc(65536);

	for (size_t i = 0; i < 65536; i++)
		blob[i] = (uint8_t)(i * 7 + 3);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct wire_writer w;
		struct wire_reader r;
		const uint8_t *p;
		uint8_t *buf;
		size_t len, got;

		wire_writer_init(&w);
		wire_put_u8(&w, 0x42);
		CHECK(wire_put_var(&w, blob, sizes[k]), "put_var(%zu)",
		      sizes[k]);
		wire_put_u8(&w, 0x43);
		buf = wire_writer_take(&w, &len);
		CHECK_EQ_INT(len, sizes[k] + 4, "var(%zu) encoded size",
			     sizes[k]);
		wire_reader_init(&r, buf, len);
		CHECK_EQ_INT(wire_get_u8(&r), 0x42, "byte before var(%zu)",
			     sizes[k]);
		p = wire_get_var(&r, &got);
		CHECK(p != NULL && got == sizes[k] &&
			      memcmp(p, blob, got) == 0,
		      "var(%zu) read back (got %zu)", sizes[k], got);
		CHECK(p == buf + 3, "var(%zu) points into the input",
		      sizes[k]);
		CHECK_EQ_INT(wire_get_u8(&r), 0x43, "byte after var(%zu)",
			     sizes[k]);
		CHECK(wire_reader_done(&r), "var(%zu) reader done", sizes[k]);
		free(buf);
	}

	/* Too long: refused and nothing written. */
	{
		struct wire_writer w;
		wire_writer_init(&w);
		wire_put_u8(&w, 1);
		CHECK(!wire_put_var(&w, blob, 65536), "put_var(65536) refused");
		CHECK_EQ_INT(w.len, 1, "nothing written by a refused put_var");
		wire_writer_free(&w);
		CHECK(w.buf == NULL && w.len == 0, "writer_free resets");
	}
	free(blob);
}

static void test_past_end(void)
{
	static const uint8_t in[] = {0x01, 0x02, 0x03};
	struct wire_reader r;
	uint8_t bytes[4] = {9, 9, 9, 9};
	const uint8_t *p;
	size_t n = 77;

	wire_reader_init(&r, in, sizeof(in));
	CHECK_EQ_INT(wire_get_u16(&r), 0x0102, "u16 within input");
	CHECK(!r.failed, "not failed yet");
	CHECK_EQ_INT(wire_get_u32(&r), 0, "u32 past the end returns 0");
	CHECK(r.failed, "u32 past the end sets failed");
	/* Sticky: even a read that would fit returns zero now. */
	CHECK_EQ_INT(wire_get_u8(&r), 0, "u8 after failure returns 0");
	CHECK_EQ_INT(wire_get_u64(&r), 0, "u64 after failure returns 0");
	wire_get_bytes(&r, bytes, sizeof(bytes));
	CHECK(bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0 && bytes[3] == 0,
	      "get_bytes after failure zeroes the output");
	p = wire_get_var(&r, &n);
	CHECK(p == NULL && n == 0, "get_var after failure: NULL, length 0");
	CHECK(!wire_reader_done(&r), "reader not done after failure");

	/* Every width, one byte short. */
	for (int width = 1; width <= 8; width *= 2) {
		uint8_t buf[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
		uint64_t v;
		wire_reader_init(&r, buf, (size_t)width - 1);
		switch (width) {
		case 1: v = wire_get_u8(&r); break;
		case 2: v = wire_get_u16(&r); break;
		case 4: v = wire_get_u32(&r); break;
		default: v = wire_get_u64(&r); break;
		}
		CHECK(v == 0 && r.failed,
		      "u%d from %d bytes: 0 and failed (got %" PRIu64 ")",
		      width * 8, width - 1, v);
	}

	/* A var whose length prefix claims more than is there. */
	{
		static const uint8_t short_var[] = {0x00, 0x05, 'a', 'b'};
		wire_reader_init(&r, short_var, sizeof(short_var));
		n = 99;
		p = wire_get_var(&r, &n);
		CHECK(p == NULL && n == 0 && r.failed,
		      "var with a length past the end fails");
	}

	/* Unconsumed input: not done, though no read failed. */
	wire_reader_init(&r, in, sizeof(in));
	(void)wire_get_u8(&r);
	CHECK(!r.failed && !wire_reader_done(&r),
	      "leftover input means not done");
	(void)wire_get_u16(&r);
	CHECK(wire_reader_done(&r), "fully consumed means done");
}

struct hex_case {
	const char *hex;
	bool ok;
	const char *bytes; /* expected decoded bytes */
	size_t n;
};

static void test_hex(void)
{
	static const struct hex_case cases[] = {
		{.hex = "", .ok = true, .bytes = "", .n = 0},
		{.hex = "00", .ok = true, .bytes = "\x00", .n = 1},
		{.hex = "0aFf", .ok = true, .bytes = "\x0a\xff", .n = 2},
		{.hex = "DEADbeef", .ok = true, .bytes = "\xde\xad\xbe\xef",
		 .n = 4},
		{.hex = "0", .ok = false},
		{.hex = "abc", .ok = false},
		{.hex = "0g", .ok = false},
		{.hex = "g0", .ok = false},
		{.hex = "zz", .ok = false},
		{.hex = " 0a", .ok = false},
		{.hex = "0a ", .ok = false},
		{.hex = "0x0a", .ok = false},
		{.hex = "-1", .ok = false},
		{.hex = NULL, .ok = false},
	};
	uint8_t all[256];
	char *enc;
	uint8_t *dec;
	size_t n;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hex_case *c = &cases[i];
		uint8_t *out = NULL;
		size_t len = 12345;
		bool ok = hex_decode(c->hex, &out, &len);
		CHECK_EQ_INT(ok, c->ok, "hex_decode('%s') ok",
			     c->hex ? c->hex : "(null)");
		if (c->ok)
			CHECK(len == c->n && memcmp(out, c->bytes, len) == 0,
			      "hex_decode('%s') bytes (len %zu)", c->hex, len);
		else
			CHECK(out == NULL && len == 12345,
			      "hex_decode('%s') failure leaves outputs alone",
			      c->hex ? c->hex : "(null)");
		free(out);
	}

	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	enc = hex_encode(all, sizeof(all));
	CHECK_EQ_INT(strlen(enc), 512, "hex_encode length");
	CHECK(strncmp(enc, "000102", 6) == 0 &&
		      strcmp(enc + 506, "fdfeff") == 0,
	      "hex_encode lowercase digits: %.6s...%s", enc, enc + 506);
	CHECK(hex_decode(enc, &dec, &n) && n == 256 &&
		      memcmp(dec, all, 256) == 0,
	      "hex round trip of all byte values");
	free(dec);
	free(enc);
	enc = hex_encode(NULL, 0);
	CHECK_EQ_STR(enc, "", "hex_encode of nothing");
	free(enc);

	{
		uint8_t fixed[3] = {1, 2, 3};
		CHECK(hex_decode_fixed("a0b1c2", fixed, 3) &&
			      fixed[0] == 0xa0 && fixed[1] == 0xb1 &&
			      fixed[2] == 0xc2,
		      "hex_decode_fixed exact length");
		CHECK(!hex_decode_fixed("a0b1", fixed, 3),
		      "hex_decode_fixed too short");
		CHECK(!hex_decode_fixed("a0b1c2d3", fixed, 3),
		      "hex_decode_fixed too long");
		CHECK(!hex_decode_fixed("a0b1cx", fixed, 3),
		      "hex_decode_fixed bad digit");
		CHECK(!hex_decode_fixed(NULL, fixed, 3),
		      "hex_decode_fixed NULL");
	}
}

int main(void)
{
	test_exact_bytes();
	test_round_trips();
	test_var();
	test_past_end();
	test_hex();
	return check_done();
}
