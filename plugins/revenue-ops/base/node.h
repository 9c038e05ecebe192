/* The node as lightningd lists it, in plain structs: its channels
 * (listpeerchannels) and the few node-wide numbers the cycles use. Parsing
 * is separate from the calls that fetch it (cycle/gather.h) so it can be
 * tested on recorded or hand-written JSON, and so every layer can take a
 * view as input. Nothing here keeps JSON. */
#ifndef HIVE_REVENUE_OPS_NODE_H
#define HIVE_REVENUE_OPS_NODE_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct chan_info {
	char scid[24];
	char peer_id[67];
	char channel_id[65];
	char state[40];
	bool active;	     /* CHANNELD_NORMAL or CHANNELD_AWAITING_SPLICE */
	bool peer_connected;
	bool we_opened;
	uint64_t capacity_msat;
	uint64_t to_us_msat;
	uint64_t spendable_msat;
	/* Our live fee (what lightningd enforces now). */
	uint64_t fee_base_msat;
	uint32_t fee_ppm;
	uint16_t max_accepted_htlcs;
	uint16_t htlcs;		   /* in flight, both directions */
	uint64_t htlc_value_msat;  /* value of those HTLCs */
	uint64_t max_inflight_msat; /* our cap on value in flight; 0: unknown */
	uint32_t funding_height;   /* block of the short_channel_id */
};

/* Parse a listpeerchannels result. Entries without a short_channel_id
 * (not yet confirmed) are skipped; malformed entries are skipped and
 * counted in *skipped. Caller frees *out. */
bool node_parse_peerchannels(const json_t *result, struct chan_info **out,
			     size_t *n, size_t *skipped, char **err);

struct node_view {
	struct chan_info *chans;
	size_t nchans;
	uint32_t blockheight;
	char our_id[67];
	/* feerates (perkb): 0 when unknown. */
	uint64_t opening_perkb, mutual_close_perkb, unilateral_close_perkb;
	uint64_t floor_perkb;
	uint64_t onchain_sat; /* confirmed wallet outputs */
	size_t skipped;
};

void node_view_free(struct node_view *v);

/* An scid as one integer (block << 40 | tx << 16 | out); 0 if invalid:
 * the key of per-channel maps. */
uint64_t scid_key(const char *scid);

/* A channel reference as an RPC takes it: an scid (':' accepted for
 * 'x') or a 64-hex channel id. */
bool chan_ref_valid(const char *s);
/* @s with ':' as 'x' (new string, caller frees). */
char *chan_ref_normalise(const char *s);
/* The channel of @v that @ref (normalised) names, or NULL. */
const struct chan_info *node_find_chan(const struct node_view *v,
				       const char *ref);

#endif
