/* What lightningd keeps in its database for one node beyond the channels:
 * the on-chain wallet's outputs, invoices (with their preimages, so a
 * payment to self settles), the payments it sent with `sendpay`, and peers
 * connected without a channel. Each list carries CLN's created_index /
 * updated_index counters, which `wait` and the paginated list methods use.
 * Plain bookkeeping: the fake lightningd's methods fill it, sim/chain.c
 * confirms outputs as blocks come. Embedded in struct net_node. */
#ifndef HIVE_SIM_LEDGER_H
#define HIVE_SIM_LEDGER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct utxo {
	char txid[65];
	uint32_t outnum;
	uint64_t amount_sat;
	/* Block that mines the tx creating it: confirmed once the chain
	 * reaches it (so nothing needs updating as blocks come). */
	uint32_t conf_height;
	bool spent;
};

enum inv_status { INV_UNPAID, INV_PAID };

struct invoice {
	char *label, *description, *bolt11; /* owned */
	uint8_t hash[32], preimage[32], secret[32];
	bool any_amount;
	uint64_t amount_msat;
	uint64_t created_sec, expires_at;
	enum inv_status status; /* expiry is judged against the clock */
	uint64_t paid_at, received_msat, pay_index;
	uint64_t created_index, updated_index;
};

enum sp_status { SP_PENDING, SP_COMPLETE, SP_FAILED };

#define SP_NO_NODE UINT32_MAX

struct sendpay {
	uint64_t id; /* = created_index */
	uint64_t updated_index;
	uint64_t groupid, partid;
	uint8_t hash[32];
	enum sp_status status;
	uint64_t amount_msat; /* delivered to the destination */
	uint64_t total_msat;  /* of the whole (multi-part) payment */
	uint64_t sent_msat;   /* first hop amount */
	uint32_t destination; /* node index */
	uint64_t created_at, completed_at;
	char *label, *bolt11; /* owned, may be NULL */
	uint8_t preimage[32];
	/* Failure as waitsendpay reports it (status failed). */
	int errcode; /* 203 or 204 */
	uint32_t erring_index;
	uint32_t erring_node; /* SP_NO_NODE if unknown */
	uint32_t erring_chan; /* net index, UINT32_MAX if none */
	int erring_dir;
	uint16_t failcode;
	const char *failcodename; /* static, may be NULL */
	const char *faildetail;	  /* static */
};

struct ledger {
	struct utxo *utxos;
	size_t nutxos, caputxos;
	uint64_t next_txn; /* for deterministic wallet txids */
	struct invoice *invs;
	size_t ninvs, capinvs;
	uint64_t inv_updated; /* last invoices updated_index */
	uint64_t next_pay_index;
	struct sendpay *sps;
	size_t nsps, capsps;
	uint64_t sp_updated; /* last sendpays updated_index */
	/* Peers connected with no channel (after `connect`). */
	uint32_t *peers;
	size_t npeers, cappeers;
};

void ledger_init(struct ledger *l);
void ledger_free(struct ledger *l);

/* Add an output; @txid hex (64). Returns it (valid until the next add). */
struct utxo *ledger_add_utxo(struct ledger *l, const char *txid,
			     uint32_t outnum, uint64_t amount_sat,
			     uint32_t conf_height);
/* Sum of unspent outputs (confirmed or not). */
uint64_t ledger_unspent_sat(const struct ledger *l);

/* New invoice with the next created_index; strings are copied. */
struct invoice *ledger_add_invoice(struct ledger *l, const char *label,
				   const char *description);
struct invoice *ledger_invoice_by_label(struct ledger *l, const char *label);
struct invoice *ledger_invoice_by_hash(struct ledger *l,
				       const uint8_t hash[32]);
/* Mark paid: bumps updated_index and pay_index. */
void ledger_invoice_paid(struct ledger *l, struct invoice *inv,
			 uint64_t received_msat, uint64_t now_sec);

/* New payment record (status pending) with the next created_index. */
struct sendpay *ledger_add_sendpay(struct ledger *l);
/* Set a final status: bumps updated_index. */
void ledger_sendpay_resolve(struct ledger *l, struct sendpay *sp,
			    enum sp_status status, uint64_t now_sec);
/* Largest groupid used for @hash (0 if none). */
uint64_t ledger_max_groupid(const struct ledger *l, const uint8_t hash[32]);

bool ledger_has_peer(const struct ledger *l, uint32_t node);
void ledger_add_peer(struct ledger *l, uint32_t node);
void ledger_del_peer(struct ledger *l, uint32_t node);

#endif
