/* Unit tests for sim/gen.c: a generated network has the shape asked for
 * (node count, mean degree, a large share of degree-1 nodes, hubs, the fee
 * spread, channels mostly on the opener's side, traffic roles), is the
 * same for the same seed and different for another, connects fleet nodes
 * to hubs, and gives every fleet channel competing routes. */
#include "common/util.h"
#include "sim/gen.h"
#include "sim/keys.h"
#include "sim/net.h"
#include "tests/check.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define T0_SEC 1767225600ULL

static struct net *make(uint64_t seed, const char *gen_json,
			struct gen_summary *sum)
{
	struct net *net = net_new(seed, T0_SEC, 900000);
	json_t *g = json_loads(gen_json, 0, NULL);
	char *err = NULL;

	net_add_node(net, "fleet-a", true);
	net_add_node(net, "fleet-b", true);
	if (!gen_expand(net, g, seed, sum, &err)) {
		printf("# gen_expand: %s\n", err);
		abort();
	}
	json_decref(g);
	return net;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t digest(const struct net *net)
{
	uint64_t h = 1469598103934665603ULL;
#define MIX(x) (h = (h ^ (uint64_t)(x)) * 1099511628211ULL)
	for (size_t c = 0; c < net->nchans; c++) {
		const struct net_channel *ch = &net->chans[c];
		MIX(ch->node[0]);
		MIX(ch->node[1]);
		MIX(ch->capacity_sat);
		MIX(ch->balance_msat[0]);
		MIX(ch->pol[0].ppm);
		MIX(ch->pol[1].base_msat);
		MIX(ch->max_htlcs[0]);
	}
	for (size_t i = 0; i < net->nnodes; i++)
		MIX(net->nodes[i].send_weight * 1000 +
		    net->nodes[i].recv_weight);
#undef MIX
	return h;
}

static void test_shape(void)
{
	struct gen_summary sum;
	struct net *net = make(1,
			       "{\"nodes\": 600, \"fleet_channels\": 8, "
			       "\"competing_paths\": 2}",
			       &sum);
	size_t ext = 0, deg1 = 0, maxdeg = 0, nchans_ext = 0, opener_side = 0;
	size_t sources = 0, sinks = 0, zero_base = 0, npol = 0, lnd_min = 0;
	uint32_t *ppm = xmalloc(sizeof(*ppm) * 2 * net->nchans);
	double meandeg = 0;

	for (size_t i = 2; i < net->nnodes; i++) {
		const struct net_node *n = &net->nodes[i];
		ext++;
		meandeg += (double)n->nchans;
		deg1 += n->nchans == 1;
		if (n->nchans > maxdeg)
			maxdeg = n->nchans;
		sources += n->send_weight > 1;
		sinks += n->recv_weight > 1;
	}
	meandeg /= (double)ext;
	for (size_t c = 0; c < net->nchans; c++) {
		const struct net_channel *ch = &net->chans[c];
		bool fleet = net->nodes[ch->node[0]].fleet ||
			     net->nodes[ch->node[1]].fleet;
		if (fleet)
			continue;
		nchans_ext++;
		opener_side += ch->balance_msat[ch->opener] * 2 >=
			       ch->capacity_sat * 1000;
		for (int d = 0; d < 2; d++) {
			ppm[npol++] = ch->pol[d].ppm;
			zero_base += ch->pol[d].base_msat == 0;
			lnd_min += ch->pol[d].htlc_min_msat == 1000 &&
				   ch->max_htlcs[d] == 483;
		}
	}
	qsort(ppm, npol, sizeof(*ppm), cmp_u32);
	printf("# %zu nodes, mean degree %.2f, degree-1 %.0f%%, max degree "
	       "%zu, median ppm %u, p90 %u\n",
	       ext, meandeg, 100.0 * (double)deg1 / (double)ext, maxdeg,
	       ppm[npol / 2], ppm[npol * 9 / 10]);
	CHECK_EQ_INT(sum.nodes, 600, "600 nodes generated");
	CHECK_EQ_INT(net->nnodes, 602, "added to the two fleet nodes");
	CHECK(meandeg > 5 && meandeg < 9, "mean degree ~7 (%.2f)", meandeg);
	CHECK(deg1 * 100 > ext * 30 && deg1 * 100 < ext * 50,
	      "a large share of degree-1 nodes (%zu of %zu)", deg1, ext);
	CHECK(maxdeg * 100 > ext * 4, "hubs: max degree %zu", maxdeg);
	CHECK(ppm[npol / 2] >= 55 && ppm[npol / 2] <= 120,
	      "median ppm near 85 (%u)", ppm[npol / 2]);
	CHECK(ppm[npol * 9 / 10] >= 300 && ppm[npol * 9 / 10] <= 1200,
	      "p90 ppm near 660 (%u)", ppm[npol * 9 / 10]);
	CHECK(zero_base * 100 > npol * 30 && zero_base * 100 < npol * 50,
	      "~40%% zero base fees (%zu of %zu)", zero_base, npol);
	CHECK(lnd_min * 100 > npol * 60, "lnd-like policies dominate (%zu)",
	      lnd_min);
	CHECK_EQ_INT(opener_side, nchans_ext,
		     "every channel starts mostly on the opener's side");
	CHECK(sources > 30 && sources < 100 && sinks > 30 && sinks < 100,
	      "~10%% sources (%zu) and sinks (%zu)", sources, sinks);
	CHECK(sum.fleet_channels == 16 && net->nodes[0].nchans >= 8 &&
		      net->nodes[1].nchans >= 8,
	      "each fleet node opened 8 channels");
	{
		/* Fleet nodes attach to well-connected peers. */
		double peer_deg = 0;
		for (size_t k = 0; k < net->nodes[0].nchans; k++) {
			const struct net_channel *ch =
				&net->chans[net->nodes[0].chans[k]];
			peer_deg += (double)net->nodes[net_channel_peer(ch, 0)]
					    .nchans;
		}
		peer_deg /= (double)net->nodes[0].nchans;
		CHECK(peer_deg > 2 * meandeg,
		      "fleet peers are hubs (mean degree %.1f)", peer_deg);
	}
	free(ppm);
	net_free(net);
}

/* Count F's other external peers that reach X in <= 2 hops avoiding F. */
static size_t competitors(const struct net *net, uint32_t f,
			  const struct net_channel *fc)
{
	uint32_t x = net_channel_peer(fc, f);
	size_t n = 0;

	for (size_t k = 0; k < net->nodes[f].nchans; k++) {
		uint32_t y = net_channel_peer(
			&net->chans[net->nodes[f].chans[k]], f);
		bool ok = false;
		if (y == x || net->nodes[y].fleet)
			continue;
		for (size_t i = 0; i < net->nodes[y].nchans && !ok; i++) {
			uint32_t z = net_channel_peer(
				&net->chans[net->nodes[y].chans[i]], y);
			if (z == x)
				ok = true;
			for (size_t j = 0; z != f && z != x && !ok &&
					   j < net->nodes[z].nchans;
			     j++)
				ok = net_channel_peer(
					     &net->chans[net->nodes[z].chans[j]],
					     z) == x;
		}
		n += ok;
	}
	return n;
}

static void test_competition(void)
{
	struct gen_summary sum;
	/* A sparse tree-like graph has few alternatives of its own. */
	struct net *net = make(5,
			       "{\"nodes\": 80, \"channels_per_node\": 1.2, "
			       "\"degree1_share\": 0.9, \"fleet_channels\": 6, "
			       "\"competing_paths\": 3}",
			       &sum);
	size_t short_of = 0, fleet_chans = 0;

	for (uint32_t f = 0; f < 2; f++)
		for (size_t k = 0; k < net->nodes[f].nchans; k++) {
			const struct net_channel *ch =
				&net->chans[net->nodes[f].chans[k]];
			size_t others = net->nodes[f].nchans - 1;
			size_t need = others < 3 ? others : 3;
			fleet_chans++;
			if (competitors(net, f, ch) < need) {
				short_of++;
				printf("# %s-%s: %zu competitors\n",
				       net->nodes[f].alias,
				       net->nodes[net_channel_peer(ch, f)].alias,
				       competitors(net, f, ch));
			}
		}
	CHECK(sum.competition_channels > 0,
	      "the sparse graph needed competing channels (%zu added)",
	      sum.competition_channels);
	CHECK_EQ_INT(short_of, 0,
		     "every fleet channel (%zu) has 3 competing routes",
		     fleet_chans);
	net_free(net);
}

static void test_determinism(void)
{
	const char *g = "{\"nodes\": 150, \"fleet_channels\": 5}";
	struct net *a = make(9, g, NULL), *b = make(9, g, NULL),
		   *c = make(10, g, NULL);

	CHECK(a->nchans == b->nchans && digest(a) == digest(b),
	      "same seed: same network");
	CHECK(digest(a) != digest(c), "another seed: another network");
	CHECK(strcmp(a->chans[0].scid, a->chans[1].scid) != 0,
	      "scids are distinct");
	net_free(a);
	net_free(b);
	net_free(c);
}

static void test_nothing(void)
{
	struct net *net = net_new(1, T0_SEC, 900000);
	struct gen_summary sum;
	char *err = NULL;

	net_add_node(net, "gen0001", false);
	CHECK(gen_expand(net, NULL, 1, &sum, &err) && net->nnodes == 1,
	      "no generate object: nothing added");
	{
		json_t *g = json_pack("{s:i}", "nodes", 5);
		CHECK(!gen_expand(net, g, 1, &sum, &err),
		      "an existing alias in the generated range is refused");
		CHECK(err && strstr(err, "generate.nodes") &&
			      strstr(err, "gen0001"),
		      "error names the field and alias: %s", err ? err : "");
		free(err);
		json_decref(g);
	}
	net_free(net);
}

int main(void)
{
	if (!keys_init())
		return 1;
	test_shape();
	test_competition();
	test_determinism();
	test_nothing();
	keys_cleanup();
	return check_done();
}
