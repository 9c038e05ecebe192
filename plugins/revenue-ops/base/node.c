/* The node view's parsing; see node.h. */
#include "plugins/revenue-ops/base/node.h"
#include "common/json_util.h"
#include "common/util.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

static void copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* Our fee: v24.02+ has updates.local; older only the top level. */
static void read_policy(const json_t *c, struct chan_info *ci)
{
	const json_t *local = json_object_get(json_object_get(c, "updates"),
					      "local");
	uint64_t v;

	if (json_get_msat(c, "fee_base_msat", &v))
		ci->fee_base_msat = v;
	if (json_get_u64(c, "fee_proportional_millionths", &v))
		ci->fee_ppm = (uint32_t)v;
	if (local) {
		if (json_get_msat(local, "fee_base_msat", &v))
			ci->fee_base_msat = v;
		if (json_get_u64(local, "fee_proportional_millionths", &v))
			ci->fee_ppm = (uint32_t)v;
	}
}

bool node_parse_peerchannels(const json_t *result, struct chan_info **out,
			     size_t *n, size_t *skipped, char **err)
{
	const json_t *chans = json_object_get(result, "channels");
	struct chan_info *v;
	size_t i, k = 0;
	json_t *c;

	*out = NULL;
	*n = 0;
	*skipped = 0;
	if (!json_is_array(chans)) {
		*err = xstrdup("listpeerchannels: no 'channels' array");
		return false;
	}
	v = xzalloc(sizeof(*v) * (json_array_size(chans) + 1));
	json_array_foreach(chans, i, c) {
		struct chan_info *ci = &v[k];
		const char *scid = json_str(c, "short_channel_id");
		const char *peer = json_str(c, "peer_id");
		const char *state = json_str(c, "state");
		const char *opener = json_str(c, "opener");
		uint64_t v64;
		uint32_t block;

		if (!scid) /* unconfirmed: nothing to price yet */
			continue;
		memset(ci, 0, sizeof(*ci));
		if (!scid_parse(scid, &block, NULL, NULL) ||
		    !pubkey_hex_valid(peer) || !state ||
		    !json_get_msat(c, "total_msat", &ci->capacity_msat) ||
		    !json_get_msat(c, "to_us_msat", &ci->to_us_msat)) {
			(*skipped)++;
			continue;
		}
		copy_str(ci->scid, sizeof(ci->scid), scid);
		copy_str(ci->peer_id, sizeof(ci->peer_id), peer);
		copy_str(ci->channel_id, sizeof(ci->channel_id),
			 json_str(c, "channel_id"));
		copy_str(ci->state, sizeof(ci->state), state);
		ci->funding_height = block;
		ci->active = !strcmp(state, "CHANNELD_NORMAL") ||
			     !strcmp(state, "CHANNELD_AWAITING_SPLICE");
		ci->peer_connected =
			json_is_true(json_object_get(c, "peer_connected"));
		ci->we_opened = opener && !strcmp(opener, "local");
		json_get_msat(c, "spendable_msat", &ci->spendable_msat);
		read_policy(c, ci);
		json_get_msat(c, "our_max_htlc_value_in_flight_msat",
			      &ci->max_inflight_msat);
		if (json_get_u64(c, "max_accepted_htlcs", &v64))
			ci->max_accepted_htlcs = (uint16_t)(v64 > 483 ? 483 : v64);
		const json_t *htlcs = json_object_get(c, "htlcs");
		size_t h;
		json_t *hj;
		json_array_foreach(htlcs, h, hj) {
			uint64_t amt;
			ci->htlcs++;
			if (json_get_msat(hj, "amount_msat", &amt))
				ci->htlc_value_msat += amt;
		}
		k++;
	}
	*out = v;
	*n = k;
	return true;
}

void node_view_free(struct node_view *v)
{
	if (!v)
		return;
	free(v->chans);
	free(v);
}

uint64_t scid_key(const char *scid)
{
	uint32_t block, tx;
	uint16_t out;

	if (!scid || !scid_parse(scid, &block, &tx, &out))
		return 0;
	return ((uint64_t)block << 40) | ((uint64_t)(tx & 0xFFFFFF) << 16) |
	       out;
}

bool chan_ref_valid(const char *s)
{
	size_t n = strlen(s);
	if (scid_valid(s))
		return true;
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	return true;
}

char *chan_ref_normalise(const char *s)
{
	char *c = xstrdup(s);
	for (char *p = c; *p; p++)
		if (*p == ':')
			*p = 'x';
	return c;
}

const struct chan_info *node_find_chan(const struct node_view *v,
				       const char *ref)
{
	for (size_t i = 0; i < v->nchans; i++)
		if (!strcmp(v->chans[i].scid, ref) ||
		    !strcasecmp(v->chans[i].channel_id, ref))
			return &v->chans[i];
	return NULL;
}
