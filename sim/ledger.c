/* Per-node wallet, invoices and payments; see ledger.h. */
#include "sim/ledger.h"
#include "common/util.h"
#include <string.h>

void ledger_init(struct ledger *l)
{
	memset(l, 0, sizeof(*l));
	l->next_pay_index = 1;
}

void ledger_free(struct ledger *l)
{
	for (size_t i = 0; i < l->ninvs; i++) {
		free(l->invs[i].label);
		free(l->invs[i].description);
		free(l->invs[i].bolt11);
	}
	for (size_t i = 0; i < l->nsps; i++) {
		free(l->sps[i].label);
		free(l->sps[i].bolt11);
	}
	free(l->utxos);
	free(l->invs);
	free(l->sps);
	free(l->peers);
	memset(l, 0, sizeof(*l));
}

struct utxo *ledger_add_utxo(struct ledger *l, const char *txid,
			     uint32_t outnum, uint64_t amount_sat,
			     uint32_t conf_height)
{
	struct utxo *u;

	xgrow(&l->utxos, &l->caputxos, l->nutxos + 1, sizeof(*l->utxos));
	u = &l->utxos[l->nutxos++];
	memset(u, 0, sizeof(*u));
	memcpy(u->txid, txid, 64);
	u->txid[64] = '\0';
	u->outnum = outnum;
	u->amount_sat = amount_sat;
	u->conf_height = conf_height;
	return u;
}

uint64_t ledger_unspent_sat(const struct ledger *l)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < l->nutxos; i++)
		if (!l->utxos[i].spent)
			sum += l->utxos[i].amount_sat;
	return sum;
}

struct invoice *ledger_add_invoice(struct ledger *l, const char *label,
				   const char *description)
{
	struct invoice *inv;

	xgrow(&l->invs, &l->capinvs, l->ninvs + 1, sizeof(*l->invs));
	inv = &l->invs[l->ninvs++];
	memset(inv, 0, sizeof(*inv));
	inv->label = xstrdup(label);
	inv->description = xstrdup(description ? description : "");
	inv->created_index = l->ninvs;
	return inv;
}

struct invoice *ledger_invoice_by_label(struct ledger *l, const char *label)
{
	for (size_t i = 0; i < l->ninvs; i++)
		if (!strcmp(l->invs[i].label, label))
			return &l->invs[i];
	return NULL;
}

struct invoice *ledger_invoice_by_hash(struct ledger *l, const uint8_t hash[32])
{
	for (size_t i = 0; i < l->ninvs; i++)
		if (!memcmp(l->invs[i].hash, hash, 32))
			return &l->invs[i];
	return NULL;
}

void ledger_invoice_paid(struct ledger *l, struct invoice *inv,
			 uint64_t received_msat, uint64_t now_sec)
{
	inv->status = INV_PAID;
	inv->received_msat = received_msat;
	inv->paid_at = now_sec;
	inv->pay_index = l->next_pay_index++;
	inv->updated_index = ++l->inv_updated;
}

struct sendpay *ledger_add_sendpay(struct ledger *l)
{
	struct sendpay *sp;

	xgrow(&l->sps, &l->capsps, l->nsps + 1, sizeof(*l->sps));
	sp = &l->sps[l->nsps++];
	memset(sp, 0, sizeof(*sp));
	sp->id = l->nsps;
	sp->status = SP_PENDING;
	sp->destination = SP_NO_NODE;
	sp->erring_node = SP_NO_NODE;
	sp->erring_chan = UINT32_MAX;
	return sp;
}

void ledger_sendpay_resolve(struct ledger *l, struct sendpay *sp,
			    enum sp_status status, uint64_t now_sec)
{
	sp->status = status;
	sp->completed_at = now_sec;
	sp->updated_index = ++l->sp_updated;
}

uint64_t ledger_max_groupid(const struct ledger *l, const uint8_t hash[32])
{
	uint64_t g = 0;
	for (size_t i = 0; i < l->nsps; i++)
		if (!memcmp(l->sps[i].hash, hash, 32) && l->sps[i].groupid > g)
			g = l->sps[i].groupid;
	return g;
}

bool ledger_has_peer(const struct ledger *l, uint32_t node)
{
	for (size_t i = 0; i < l->npeers; i++)
		if (l->peers[i] == node)
			return true;
	return false;
}

void ledger_add_peer(struct ledger *l, uint32_t node)
{
	if (ledger_has_peer(l, node))
		return;
	xgrow(&l->peers, &l->cappeers, l->npeers + 1, sizeof(*l->peers));
	l->peers[l->npeers++] = node;
}

void ledger_del_peer(struct ledger *l, uint32_t node)
{
	for (size_t i = 0; i < l->npeers; i++) {
		if (l->peers[i] == node) {
			l->peers[i] = l->peers[--l->npeers];
			return;
		}
	}
}
