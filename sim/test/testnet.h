/* Hand-built networks for the simulator's unit tests: nodes with demand
 * weights and channels with a chosen balance and fee on each side. */
#ifndef HIVE_SIM_TEST_TESTNET_H
#define HIVE_SIM_TEST_TESTNET_H
#include "sim/net.h"
#include <stdio.h>
#include <stdlib.h>

#define T0_SEC 1767225600ULL
#define T0_MS (T0_SEC * 1000)
#define HOUR_MS 3600000ULL
#define DAY_MS 86400000ULL

static inline uint32_t add_node(struct net *net, const char *alias,
				bool fleet, double send_w, double recv_w)
{
	struct net_node *n = net_add_node(net, alias, fleet);
	n->send_weight = send_w;
	n->recv_weight = recv_w;
	return n->idx;
}

/* A channel with @a_sat on a's side and each side's fee rate (base 0),
 * already gossiped. */
static inline struct net_channel *add_chan(struct net *net, uint32_t a,
					   uint32_t b, uint64_t cap_sat,
					   uint64_t a_sat, uint32_t a_ppm,
					   uint32_t b_ppm)
{
	char *err = NULL;
	struct net_channel *ch = net_add_channel(net, a, b, cap_sat,
						 a_sat * 1000, a, 899000, &err);
	if (!ch) {
		printf("# add_chan: %s\n", err);
		free(err);
		abort();
	}
	for (int e = 0; e < 2; e++) {
		int s = net_channel_side(ch, e ? b : a);
		ch->pol[s].base_msat = ch->pol[s].seen_base_msat = 0;
		ch->pol[s].ppm = ch->pol[s].seen_ppm = e ? b_ppm : a_ppm;
	}
	return ch;
}

#endif
