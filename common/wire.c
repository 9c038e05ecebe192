/* Big-endian wire codec and hex; see wire.h. */
#include "common/wire.h"
#include "common/util.h"
#include <string.h>

void wire_writer_init(struct wire_writer *w)
{
	w->buf = NULL;
	w->len = w->cap = 0;
}

uint8_t *wire_writer_take(struct wire_writer *w, size_t *len)
{
	uint8_t *b = w->buf ? w->buf : xzalloc(1);
	*len = w->len;
	wire_writer_init(w);
	return b;
}

void wire_writer_free(struct wire_writer *w)
{
	free(w->buf);
	wire_writer_init(w);
}

void wire_put_bytes(struct wire_writer *w, const void *p, size_t n)
{
	xgrow(&w->buf, &w->cap, w->len + n, 1);
	if (n)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void wire_put_u8(struct wire_writer *w, uint8_t v)
{
	wire_put_bytes(w, &v, 1);
}

void wire_put_u16(struct wire_writer *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	wire_put_bytes(w, b, 2);
}

void wire_put_u32(struct wire_writer *w, uint32_t v)
{
	uint8_t b[4];
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (24 - 8 * i));
	wire_put_bytes(w, b, 4);
}

void wire_put_u64(struct wire_writer *w, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	wire_put_bytes(w, b, 8);
}

bool wire_put_var(struct wire_writer *w, const void *p, size_t n)
{
	if (n > 0xFFFF)
		return false;
	wire_put_u16(w, (uint16_t)n);
	wire_put_bytes(w, p, n);
	return true;
}

void wire_reader_init(struct wire_reader *r, const void *p, size_t n)
{
	r->p = p;
	r->left = n;
	r->failed = false;
}

static const uint8_t *take(struct wire_reader *r, size_t n)
{
	const uint8_t *p;
	if (r->failed || r->left < n) {
		r->failed = true;
		return NULL;
	}
	p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

uint8_t wire_get_u8(struct wire_reader *r)
{
	const uint8_t *p = take(r, 1);
	return p ? p[0] : 0;
}

uint16_t wire_get_u16(struct wire_reader *r)
{
	const uint8_t *p = take(r, 2);
	return p ? (uint16_t)((p[0] << 8) | p[1]) : 0;
}

uint32_t wire_get_u32(struct wire_reader *r)
{
	const uint8_t *p = take(r, 4);
	uint32_t v = 0;
	if (p)
		for (int i = 0; i < 4; i++)
			v = (v << 8) | p[i];
	return v;
}

uint64_t wire_get_u64(struct wire_reader *r)
{
	const uint8_t *p = take(r, 8);
	uint64_t v = 0;
	if (p)
		for (int i = 0; i < 8; i++)
			v = (v << 8) | p[i];
	return v;
}

void wire_get_bytes(struct wire_reader *r, void *out, size_t n)
{
	const uint8_t *p = take(r, n);
	if (p)
		memcpy(out, p, n);
	else
		memset(out, 0, n);
}

const uint8_t *wire_get_var(struct wire_reader *r, size_t *n)
{
	uint16_t len = wire_get_u16(r);
	const uint8_t *p = take(r, len);
	*n = p ? len : 0;
	return p;
}

bool wire_reader_done(const struct wire_reader *r)
{
	return !r->failed && r->left == 0;
}

char *hex_encode(const void *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = p;
	char *s = xmalloc(n * 2 + 1);
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[b[i] >> 4];
		s[2 * i + 1] = digits[b[i] & 0xF];
	}
	s[n * 2] = '\0';
	return s;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool hex_decode_fixed(const char *hex, void *out, size_t n)
{
	uint8_t *b = out;
	if (!hex || strlen(hex) != n * 2)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		b[i] = (uint8_t)((hi << 4) | lo);
	}
	return true;
}

bool hex_decode(const char *hex, uint8_t **out, size_t *n)
{
	size_t len = hex ? strlen(hex) : 1;
	uint8_t *b;

	if (len % 2)
		return false;
	b = xmalloc(len / 2 + 1);
	if (!hex_decode_fixed(hex, b, len / 2)) {
		free(b);
		return false;
	}
	*out = b;
	*n = len / 2;
	return true;
}
