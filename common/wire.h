/* Big-endian codec for custom messages (BOLT 1 style: u8/u16/u32/u64,
 * fixed byte arrays and u16-length-prefixed blobs). The reader never reads
 * past its input: a short or malformed message sets a sticky failure flag
 * and every later read returns zeros, so a decoder checks once at the
 * end. */
#ifndef HIVE_COMMON_WIRE_H
#define HIVE_COMMON_WIRE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wire_writer {
	uint8_t *buf;
	size_t len, cap;
};

void wire_writer_init(struct wire_writer *w);
/* Hand over the buffer (caller frees) and reset the writer. */
uint8_t *wire_writer_take(struct wire_writer *w, size_t *len);
void wire_writer_free(struct wire_writer *w);
void wire_put_u8(struct wire_writer *w, uint8_t v);
void wire_put_u16(struct wire_writer *w, uint16_t v);
void wire_put_u32(struct wire_writer *w, uint32_t v);
void wire_put_u64(struct wire_writer *w, uint64_t v);
void wire_put_bytes(struct wire_writer *w, const void *p, size_t n);
/* u16 length then bytes; false (nothing written) if @n > 65535. */
bool wire_put_var(struct wire_writer *w, const void *p, size_t n)
	__attribute__((warn_unused_result));

struct wire_reader {
	const uint8_t *p;
	size_t left;
	bool failed;
};

void wire_reader_init(struct wire_reader *r, const void *p, size_t n);
uint8_t wire_get_u8(struct wire_reader *r);
uint16_t wire_get_u16(struct wire_reader *r);
uint32_t wire_get_u32(struct wire_reader *r);
uint64_t wire_get_u64(struct wire_reader *r);
void wire_get_bytes(struct wire_reader *r, void *out, size_t n);
/* Pointer into the input (not copied) and its u16 length. */
const uint8_t *wire_get_var(struct wire_reader *r, size_t *n);
/* True if every read succeeded and the input is fully consumed. */
bool wire_reader_done(const struct wire_reader *r);

/* Hex helpers. hex_encode returns a new string; hex_decode fills a new
 * buffer (caller frees) and returns false on odd length or bad digits. */
char *hex_encode(const void *p, size_t n);
bool hex_decode(const char *hex, uint8_t **out, size_t *n)
	__attribute__((warn_unused_result));
bool hex_decode_fixed(const char *hex, void *out, size_t n)
	__attribute__((warn_unused_result));

#endif
