/* Node keys for simulated nodes: real secp256k1 keys (node id = compressed
 * public key in hex), and Core Lightning's signmessage / checkmessage
 * (recoverable ECDSA over sha256d("Lightning Signed Message:" || msg),
 * zbase32 encoded), so plugins that sign and verify do real cryptography. */
#ifndef HIVE_SIM_KEYS_H
#define HIVE_SIM_KEYS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct node_key {
	uint8_t secret[32];
	uint8_t pubkey[33];
	char id_hex[67];
};

/* Library context; call once before anything else, free at exit. */
bool keys_init(void) __attribute__((warn_unused_result));
void keys_cleanup(void);

/* Derive a valid key deterministically from @seed and @index. */
void node_key_derive(struct node_key *k, uint64_t seed, uint64_t index);

/* Sign like `signmessage`: fills 64-byte compact @sig, @recid, and a new
 * zbase32 string (caller frees). */
bool node_sign_message(const struct node_key *k, const char *msg,
		       uint8_t sig[64], int *recid, char **zbase)
	__attribute__((warn_unused_result));

/* Recover the signer's node id (hex, 67 bytes) from a zbase32 signature
 * of @msg. False if the signature is malformed or does not recover. */
bool node_recover_signer(const char *msg, const char *zbase, char id_hex[67])
	__attribute__((warn_unused_result));

char *zbase32_encode(const uint8_t *data, size_t len);
bool zbase32_decode(const char *s, uint8_t *out, size_t outlen);

#endif
