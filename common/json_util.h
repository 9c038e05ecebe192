/* Typed reads from jansson objects, tolerant of the shapes Core Lightning
 * has used across versions (amounts as integers or as "123msat" strings).
 * All getters leave *out untouched and return false when the member is
 * missing or of another type. Returned strings are borrowed from @obj. */
#ifndef HIVE_COMMON_JSON_UTIL_H
#define HIVE_COMMON_JSON_UTIL_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

const char *json_str(const json_t *obj, const char *key);
bool json_get_i64(const json_t *obj, const char *key, int64_t *out);
bool json_get_u64(const json_t *obj, const char *key, uint64_t *out);
bool json_get_u32(const json_t *obj, const char *key, uint32_t *out);
bool json_get_double(const json_t *obj, const char *key, double *out);
bool json_get_bool(const json_t *obj, const char *key, bool *out);
/* Integer msat, or a string "<n>msat" / "<n>" (pre-v23 outputs). */
bool json_get_msat(const json_t *obj, const char *key, uint64_t *out);
bool json_value_msat(const json_t *v, uint64_t *out);

/* A short_channel_id "BLOCKxTXxOUT": parses into its three parts. */
bool scid_parse(const char *s, uint32_t *block, uint32_t *tx, uint16_t *out);
bool scid_valid(const char *s);
/* 33-byte compressed public key as 66 lowercase-or-uppercase hex chars. */
bool pubkey_hex_valid(const char *s);

/* Dump compactly into a new string (caller frees); never NULL. */
char *json_to_text(const json_t *v);

#endif
