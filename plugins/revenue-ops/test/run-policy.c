/* Unit tests of the decision pipeline's pure helpers: policy updates and
 * their validation, batch-entry parsing, the rate limiter, scid keys,
 * channels grouped by peer, the engine parameters taken from the
 * configuration, and the fee-state BLOB round trip (with the splice
 * fallback by channel id) on :memory:. */
#include "common/errcode.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/node.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/params.h"
#include "plugins/revenue-ops/cycle/pipeline.h"
#include "plugins/revenue-ops/store/fee_state.h"
#include "plugins/revenue-ops/store/peers.h"
#include "plugins/revenue-ops/store/policy.h"
#include "plugins/revenue-ops/store/schema.h"
#include "tests/check.h"
#include <math.h>
#include <string.h>

#define PEER                                                                   \
	"02aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

struct update_case {
	const char *name;
	/* Starting policy. */
	enum fee_ctl_strategy strategy;
	int64_t target;
	/* The update. */
	struct policy_update u;
	/* Expected. */
	bool ok;
	int code;
	const char *field;
	enum fee_ctl_strategy want_strategy;
	int64_t want_target;
	uint64_t want_expires; /* relative to now; 1: "set", 0: none */
};

static void test_updates(void)
{
	static const struct update_case cases[] = {
	    {.name = "static with a target",
	     .u = {.has_strategy = true,
		   .strategy = "static",
		   .has_fee_ppm = true,
		   .fee_ppm = 7777},
	     .ok = true,
	     .want_strategy = FEE_CTL_STATIC,
	     .want_target = 7777},
	    {.name = "static without a target (defect 37)",
	     .u = {.has_strategy = true, .strategy = "static"},
	     .ok = false,
	     .code = ERR_INVALID_PARAMS,
	     .field = "fee_ppm"},
	    {.name = "static keeps an existing target",
	     .target = 50,
	     .u = {.has_strategy = true, .strategy = "STATIC"},
	     .ok = true,
	     .want_strategy = FEE_CTL_STATIC,
	     .want_target = 50},
	    {.name = "clearing the target of a static policy",
	     .strategy = FEE_CTL_STATIC,
	     .target = 50,
	     .u = {.has_fee_ppm = true, .fee_ppm = -1},
	     .ok = false,
	     .code = ERR_INVALID_PARAMS,
	     .field = "fee_ppm"},
	    {.name = "unknown strategy",
	     .u = {.has_strategy = true, .strategy = "turbo"},
	     .ok = false,
	     .code = ERR_INVALID_PARAMS,
	     .field = "strategy"},
	    {.name = "unknown rebalance mode",
	     .u = {.has_rebalance = true, .rebalance = "ignore"},
	     .ok = false,
	     .code = ERR_INVALID_PARAMS,
	     .field = "rebalance"},
	    {.name = "fee above the rail",
	     .u = {.has_fee_ppm = true, .fee_ppm = 100001},
	     .ok = false,
	     .code = ERR_OUT_OF_RANGE,
	     .field = "fee_ppm"},
	    {.name = "hive at 0 ppm",
	     .u = {.has_strategy = true, .strategy = "hive"},
	     .ok = true,
	     .want_strategy = FEE_CTL_HIVE,
	     .want_target = -1},
	    {.name = "multiplier below 0.1",
	     .u = {.has_mult_min = true, .mult_min = 0.05},
	     .ok = false,
	     .code = ERR_OUT_OF_RANGE,
	     .field = "fee_multiplier_min"},
	    {.name = "multiplier above 5",
	     .u = {.has_mult_max = true, .mult_max = 6},
	     .ok = false,
	     .code = ERR_OUT_OF_RANGE,
	     .field = "fee_multiplier_max"},
	    {.name = "min above max",
	     .u = {.has_mult_min = true,
		   .mult_min = 3,
		   .has_mult_max = true,
		   .mult_max = 2},
	     .ok = false,
	     .code = ERR_OUT_OF_RANGE,
	     .field = "fee_multiplier_min"},
	    {.name = "expiry 30 days is fine",
	     .u = {.has_expires = true, .expires_in_hours = 720},
	     .ok = true,
	     .want_strategy = FEE_CTL_DYNAMIC,
	     .want_target = -1,
	     .want_expires = 720 * 3600},
	    {.name = "expiry over 30 days",
	     .u = {.has_expires = true, .expires_in_hours = 720.5},
	     .ok = false,
	     .code = ERR_OUT_OF_RANGE,
	     .field = "expires_in_hours"},
	    {.name = "NaN expiry",
	     .u = {.has_expires = true, .expires_in_hours = NAN},
	     .ok = false,
	     .code = ERR_OUT_OF_RANGE,
	     .field = "expires_in_hours"},
	};
	const uint64_t now = 1700000000;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct update_case *c = &cases[i];
		struct policy p;
		struct policy_error e = {0};
		bool ok;

		policy_default(&p, PEER);
		p.strategy = c->strategy;
		p.fee_ppm_target = c->target ? c->target : -1;
		ok = policy_apply_update(&p, &c->u, now, &e);
		CHECK(ok == c->ok, "%s: ok=%d (%s)", c->name, ok, e.message);
		if (!c->ok) {
			CHECK_EQ_INT(e.code, c->code, "%s: code", c->name);
			CHECK_EQ_STR(e.field, c->field, "%s: field", c->name);
			/* A refused update leaves the policy as it was. */
			CHECK(p.strategy == c->strategy &&
				  p.fee_ppm_target ==
				      (c->target ? c->target : -1),
			      "%s: unchanged on error", c->name);
		} else {
			CHECK_EQ_INT(p.strategy, c->want_strategy,
				     "%s: strategy", c->name);
			CHECK_EQ_INT(p.fee_ppm_target, c->want_target,
				     "%s: target", c->name);
			CHECK_EQ_INT(p.expires_at,
				     c->want_expires ? now + c->want_expires
						     : 0,
				     "%s: expiry", c->name);
		}
		policy_clear(&p);
	}
}

static void test_from_json(void)
{
	static const struct {
		const char *json;
		bool ok;
		const char *field; /* expected in the error */
	} cases[] = {
	    {"{\"peer_id\":\"" PEER "\",\"strategy\":\"passive\"}", true, NULL},
	    {"{\"peer_id\":\"" PEER "\",\"fee_ppm\":\"x\"}", false,
	     "policies[0].fee_ppm"},
	    {"{\"peer_id\":\"" PEER "\",\"colour\":\"red\"}", false,
	     "policies[0].colour"},
	    {"{\"peer_id\":\"" PEER "\",\"tags\":[\"a\",7]}", false,
	     "policies[0].tags"},
	    {"{\"peer_id\":\"" PEER "\",\"fee_ppm\":-2}", false,
	     "policies[0].fee_ppm"},
	    {"[1,2]", false, "policies[0]"},
	    {"{\"peer_id\":\"" PEER "\",\"tags\":[\"x\",\"x\",\"y\"],"
	     "\"rebalance_mode\":\"sink_only\",\"expires_in_hours\":null}",
	     true, NULL},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *j = json_loads(cases[i].json, 0, NULL);
		struct policy_update u;
		struct policy_error e = {0};
		const char *peer;
		bool ok =
		    policy_update_from_json(j, "policies[0]", &u, &peer, &e);
		CHECK(ok == cases[i].ok, "from_json %zu: %s (%s)", i,
		      cases[i].json, e.message);
		if (!ok && cases[i].field)
			CHECK_EQ_STR(e.field, cases[i].field,
				     "from_json %zu: field named", i);
		if (ok && i == 6) {
			struct policy p;
			policy_default(&p, PEER);
			CHECK(policy_apply_update(&p, &u, 1, &e),
			      "tags applied");
			CHECK_EQ_INT(json_array_size(p.tags), 2,
				     "duplicate tags folded");
			CHECK_EQ_INT(p.rebalance, POLICY_REB_SINK_ONLY,
				     "rebalance_mode alias");
			policy_clear(&p);
		}
		json_decref(j);
	}
}

static void test_ratelimit(void)
{
	struct ratelimit rl = {0};
	unsigned allowed = 0;

	for (unsigned i = 0; i < 15; i++) {
		if (!ratelimit_would_exceed(&rl, PEER, 1000 + i, 10, 60)) {
			ratelimit_note(&rl, PEER, 1000 + i);
			allowed++;
		}
	}
	CHECK_EQ_INT(allowed, 10, "10 a minute per key");
	CHECK(!ratelimit_would_exceed(&rl, "other", 1010, 10, 60),
	      "keys are independent");
	CHECK(!ratelimit_would_exceed(&rl, PEER, 1070, 10, 60),
	      "the window slides");
	ratelimit_free(&rl);
}

static void test_keys_and_params(void)
{
	struct ro_config c;
	struct fee_ctl_params p;

	CHECK(scid_key("800000x1x0") != 0, "scid key");
	CHECK(scid_key("800000x1x0") !=
		  scid_key("800000x1x1"),
	      "distinct outputs, distinct keys");
	CHECK_EQ_INT(scid_key("garbage"), 0, "invalid scid: 0");

	config_init_defaults(&c);
	params_fee_ctl(&c, &p);
	CHECK_EQ_INT(p.min_fee_ppm, 10, "min fee from config");
	CHECK_EQ_INT(p.max_fee_ppm, 10000, "max fee from config");
	CHECK_EQ_INT(p.base_fee_msat, -1, "base fee kept by default");
	CHECK(p.damp_ratio == 0.25, "active profile damping");
	config_set(&c, CFG_FEE_PROFILE,
		   (union cfg_value){.s = xstrdup("conservative")}, true);
	params_fee_ctl(&c, &p);
	CHECK(p.damp_ratio < 0.25, "conservative profile moves less");
	config_free(&c);
}

static void test_peer_groups(void)
{
	static const char *const ids[] = {PEER "b", PEER "a", PEER "b",
					  PEER "c", PEER "a"};
	static const size_t want_first[] = {0, 1, 0, 3, 1};
	static const size_t want_next[] = {2, 4, 5, 5, 5};
	size_t first[ARRAY_SIZE(ids)], next[ARRAY_SIZE(ids)];

	peers_group(ids, ARRAY_SIZE(ids), first, next);
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		CHECK_EQ_INT(first[i], want_first[i], "channel %zu: first", i);
		CHECK_EQ_INT(next[i], want_next[i], "channel %zu: next", i);
	}
}

static void test_fee_state_blob(void)
{
	struct revenue r = {0};
	char *err = NULL;
	struct fee_ctl_params p;
	struct fee_ctl_state *a = xzalloc(sizeof(*a)), *b = xzalloc(sizeof(*b));
	bool found;

	r.db = revenue_db_open(":memory:", &err);
	CHECK(r.db != NULL, "open :memory: (%s)", err ? err : "");
	if (!r.db)
		return;
	fee_ctl_params_default(&p);
	fee_ctl_state_init(&p, a, 321);
	a->last_set_fee_ppm = 321;
	a->n_obs = 2;
	a->obs_head = 2;
	a->obs[0] = (struct fee_ctl_obs_rec){100, 5, 1, 1000, 3};
	a->obs[1] = (struct fee_ctl_obs_rec){200, 9, 0.5, 2000, 4};

	CHECK(store_begin(r.db, &err) &&
		  fee_state_save(&r, "800000x1x0", "aa00", PEER, a, 5, &err) &&
		  store_commit(r.db, &err),
	      "save");
	CHECK(fee_state_load(&r, "800000x1x0", "aa00", b, &found, &err) &&
		  found,
	      "load by scid");
	CHECK_EQ_INT(b->last_set_fee_ppm, 321, "round trip: last fee");
	CHECK_EQ_INT(b->n_obs, 2, "round trip: observations");
	CHECK(b->obs[1].fee_ppm == 200 && b->obs[1].weight == 0.5,
	      "round trip: observation values");
	/* A splice: new scid, same channel id. */
	CHECK(fee_state_load(&r, "900000x2x1", "aa00", b, &found, &err) &&
		  found && b->last_set_fee_ppm == 321,
	      "found by channel id after a splice");
	CHECK(store_begin(r.db, &err) &&
		  fee_state_save(&r, "900000x2x1", "aa00", PEER, b, 6, &err) &&
		  store_commit(r.db, &err),
	      "save under the new scid");
	CHECK(fee_state_load(&r, "800000x1x0", NULL, b, &found, &err) && !found,
	      "the old scid's row was replaced, not duplicated");
	CHECK(fee_state_load(&r, "700000x1x0", "bb", b, &found, &err) &&
		  !found && b->version == 0,
	      "unknown channel: fresh state");
	/* A corrupt row is an error that leaves a fresh state. */
	CHECK(
	    store_exec(r.db,
		       "INSERT INTO fee_state (channel_id, state, updated_at) "
		       "VALUES ('1x1x1', x'0102', 1)",
		       &err),
	    "insert a corrupt row");
	CHECK(!fee_state_load(&r, "1x1x1", NULL, b, &found, &err) && !found &&
		  b->version == 0,
	      "corrupt state reported, fresh state given");
	free(err);
	store_close(r.db);
	free(a);
	free(b);
}

int main(void)
{
	test_updates();
	test_from_json();
	test_ratelimit();
	test_keys_and_params();
	test_peer_groups();
	test_fee_state_blob();
	return check_done();
}
