/* secp256k1 keys and Core Lightning-compatible message signatures. */
#include "sim/keys.h"
#include "common/util.h"
#include "common/wire.h"
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>
#include <string.h>

static secp256k1_context *ctx;

bool keys_init(void)
{
	if (sodium_init() < 0)
		return false;
	ctx = secp256k1_context_create(SECP256K1_CONTEXT_SIGN |
				       SECP256K1_CONTEXT_VERIFY);
	return ctx != NULL;
}

void keys_cleanup(void)
{
	if (ctx)
		secp256k1_context_destroy(ctx);
	ctx = NULL;
}

static void sha256(const void *p, size_t n, uint8_t out[32])
{
	crypto_hash_sha256(out, p, n);
}

void node_key_derive(struct node_key *k, uint64_t seed, uint64_t index)
{
	uint8_t buf[16 + 8];
	secp256k1_pubkey pk;
	size_t len = 33;
	char *hex;

	memcpy(buf, "hive-sim-nodekey", 16);
	for (uint64_t ctr = 0;; ctr++) {
		uint64_t mix = seed ^ (index * 0x9E3779B97F4A7C15ULL) ^
			       (ctr << 48);
		for (int i = 0; i < 8; i++)
			buf[16 + i] = (uint8_t)(mix >> (8 * i));
		sha256(buf, sizeof(buf), k->secret);
		if (secp256k1_ec_seckey_verify(ctx, k->secret) &&
		    secp256k1_ec_pubkey_create(ctx, &pk, k->secret))
			break;
	}
	secp256k1_ec_pubkey_serialize(ctx, k->pubkey, &len, &pk,
				      SECP256K1_EC_COMPRESSED);
	hex = hex_encode(k->pubkey, 33);
	memcpy(k->id_hex, hex, 67);
	free(hex);
}

static void message_hash(const char *msg, uint8_t out[32])
{
	static const char prefix[] = "Lightning Signed Message:";
	size_t n = strlen(msg);
	uint8_t *buf = xmalloc(sizeof(prefix) - 1 + n), once[32];

	memcpy(buf, prefix, sizeof(prefix) - 1);
	memcpy(buf + sizeof(prefix) - 1, msg, n);
	sha256(buf, sizeof(prefix) - 1 + n, once);
	sha256(once, 32, out);
	free(buf);
}

static const char zb32[] = "ybndrfg8ejkmcpqxot1uwisza345h769";

char *zbase32_encode(const uint8_t *data, size_t len)
{
	size_t nbits = len * 8, nchars = (nbits + 4) / 5;
	char *s = xmalloc(nchars + 1);

	for (size_t i = 0; i < nchars; i++) {
		unsigned v = 0;
		for (size_t b = 0; b < 5; b++) {
			size_t bit = i * 5 + b;
			v <<= 1;
			if (bit < nbits)
				v |= (data[bit / 8] >> (7 - bit % 8)) & 1;
		}
		s[i] = zb32[v];
	}
	s[nchars] = '\0';
	return s;
}

bool zbase32_decode(const char *s, uint8_t *out, size_t outlen)
{
	size_t n = strlen(s), bit = 0;

	if (n != (outlen * 8 + 4) / 5)
		return false;
	memset(out, 0, outlen);
	for (size_t i = 0; i < n; i++) {
		const char *p = strchr(zb32, s[i]);
		if (!p || !s[i])
			return false;
		unsigned v = (unsigned)(p - zb32);
		for (int b = 4; b >= 0; b--, bit++) {
			if (bit >= outlen * 8) {
				/* Padding bits must be zero. */
				if ((v >> b) & 1)
					return false;
				continue;
			}
			if ((v >> b) & 1)
				out[bit / 8] |= (uint8_t)(1 << (7 - bit % 8));
		}
	}
	return true;
}

bool node_sign_message(const struct node_key *k, const char *msg,
		       uint8_t sig[64], int *recid, char **zbase)
{
	secp256k1_ecdsa_recoverable_signature rsig;
	uint8_t hash[32], full[65];

	message_hash(msg, hash);
	if (!secp256k1_ecdsa_sign_recoverable(ctx, &rsig, hash, k->secret,
					      NULL, NULL))
		return false;
	secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, sig, recid,
								&rsig);
	/* lnd's format: header byte 31 + recid (compressed key), then r||s. */
	full[0] = (uint8_t)(31 + *recid);
	memcpy(full + 1, sig, 64);
	*zbase = zbase32_encode(full, 65);
	return true;
}

bool node_recover_signer(const char *msg, const char *zbase, char id_hex[67])
{
	secp256k1_ecdsa_recoverable_signature rsig;
	secp256k1_pubkey pk;
	uint8_t full[65], hash[32], ser[33];
	size_t len = 33;
	int recid;
	char *hex;

	if (!zbase32_decode(zbase, full, 65))
		return false;
	recid = (int)full[0] - 31;
	if (recid < 0 || recid > 3)
		return false;
	if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rsig,
								 full + 1,
								 recid))
		return false;
	message_hash(msg, hash);
	if (!secp256k1_ecdsa_recover(ctx, &pk, &rsig, hash))
		return false;
	secp256k1_ec_pubkey_serialize(ctx, ser, &len, &pk,
				      SECP256K1_EC_COMPRESSED);
	hex = hex_encode(ser, 33);
	memcpy(id_hex, hex, 67);
	free(hex);
	return true;
}
