/* The payment engine's payments in flight: senders' attempts and retries,
 * HTLCs held hop by hop, settlement, multi-part payments, the engine's
 * events and external liquidity upkeep. See payments.h for the model and
 * the "traffic" schema, payments_internal.h for the other parts, route.h
 * for how each wallet picks a route. */
#include "common/amount.h"
#include "common/rng.h"
#include "common/util.h"
#include "sim/evq.h"
#include "sim/fwdlog.h"
#include "sim/net.h"
#include "sim/payments_internal.h"
#include <math.h>
#include <string.h>

/* ---- pools -------------------------------------------------------------- */

static uint32_t pay_alloc(struct payments *p)
{
	uint32_t i;

	if (p->pay_free != NO_SLOT) {
		i = p->pay_free;
		p->pay_free = p->pays[i].next_free;
	} else {
		xgrow(&p->pays, &p->cappays, p->npays + 1, sizeof(*p->pays));
		i = (uint32_t)p->npays++;
		p->pays[i].gen = 0;
	}
	{
		uint32_t gen = p->pays[i].gen + 1;
		memset(&p->pays[i], 0, sizeof(p->pays[i]));
		p->pays[i].gen = gen;
	}
	p->pays[i].live = true;
	return i;
}

static void pay_release_slot(struct payments *p, uint32_t i)
{
	struct payment *pay = &p->pays[i];

	free(pay->excl);
	pay->excl = NULL;
	pay->live = false;
	pay->next_free = p->pay_free;
	p->pay_free = i;
}

static uint32_t at_alloc(struct payments *p)
{
	uint32_t i;

	if (p->at_free != NO_SLOT) {
		i = p->at_free;
		p->at_free = p->ats[i].next_free;
	} else {
		xgrow(&p->ats, &p->capats, p->nats + 1, sizeof(*p->ats));
		i = (uint32_t)p->nats++;
		p->ats[i].gen = 0;
	}
	{
		uint32_t gen = p->ats[i].gen + 1;
		memset(&p->ats[i], 0, sizeof(p->ats[i]));
		p->ats[i].gen = gen;
	}
	p->ats[i].live = true;
	return i;
}

static void at_release(struct payments *p, uint32_t i)
{
	p->ats[i].live = false;
	p->ats[i].next_free = p->at_free;
	p->at_free = i;
}

static struct mc *sender_mem(struct payments *p, uint32_t node)
{
	if (node >= p->nmem) {
		size_t n = p->net->nnodes > node ? p->net->nnodes : node + 1;
		p->mem = xrealloc(p->mem, sizeof(*p->mem) * n);
		memset(p->mem + p->nmem, 0, sizeof(*p->mem) * (n - p->nmem));
		p->nmem = n;
	}
	return &p->mem[node];
}

/* ---- payments ----------------------------------------------------------- */

static void payment_hash(const struct payments *p, uint64_t id, bool injected,
			 uint8_t out[32])
{
	uint64_t x = p->hash_salt ^ (id * 2 + injected);

	for (int i = 0; i < 4; i++) {
		uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
		z ^= z >> 31;
		memcpy(out + 8 * i, &z, 8);
	}
}

static void finish(struct payments *p, uint32_t ps, bool ok)
{
	struct payment *pay = &p->pays[ps];
	struct pay_result res = {
		.id = pay->id,
		.injected = pay->injected,
		.arrival_ms = pay->arrival_ms,
		.done_ms = p->now_ms,
		.sender = pay->d.sender,
		.receiver = pay->d.receiver,
		.sender_kind = pay->d.sender_kind,
		.amount_msat = pay->d.amount_msat,
		.fee_cap_msat = pay->d.fee_cap_msat,
		.fee_msat = ok ? pay->fee_msat : 0,
		.succeeded = ok,
		.attempts = pay->attempts,
		.parts = ok ? pay->settled : 0,
		.reason = ok ? PAY_OK
			     : pay->reason ? pay->reason : PAY_EXHAUSTED,
	};

	if (pay->arrival_ms >= p->stats_from_ms) {
		int b = payments_bucket(res.amount_msat);
		p->st.payments_attempted++;
		p->st.bucket_attempted[b]++;
		p->st.attempts += pay->attempts;
		if (ok) {
			p->st.payments_succeeded++;
			p->st.bucket_succeeded[b]++;
			p->st.volume_msat += res.amount_msat;
			p->st.fees_paid_msat += res.fee_msat;
			if (!pay->had_failure) {
				p->st.first_try_succeeded++;
				p->st.bucket_first_try[b]++;
			}
			if (pay->settled > 1)
				p->st.mpp_payments++;
		} else if (res.reason == PAY_NO_ROUTE) {
			p->st.failed_no_route++;
		} else {
			p->st.failed_exhausted++;
		}
	}
	if (p->hooks.payment_done)
		p->hooks.payment_done(p->hooks_arg, &res);
	pay_release_slot(p, ps);
}

static uint64_t back_ms(const struct attempt *at, size_t upto)
{
	uint64_t t = 0;
	for (size_t j = 0; j < upto; j++)
		t += at->hops[j].lat_ms;
	return t;
}

static void give_up(struct payments *p, uint32_t ps)
{
	struct payment *pay = &p->pays[ps];

	if (!pay->nheld) {
		finish(p, ps, false);
		return;
	}
	/* The receiver fails back the parts it holds (mpp_timeout). */
	pay->giving_up = true;
	for (uint32_t i = 0; i < pay->nheld; i++) {
		struct attempt *at = &p->ats[pay->held[i]];
		evq_push(p->q, p->now_ms + back_ms(at, at->nhops), EV_RELEASE,
			 pay->held[i], at->gen, NULL);
	}
}

static void add_excl(struct payment *pay, uint32_t edge, uint64_t min_msat)
{
	xgrow(&pay->excl, &pay->capexcl, pay->nexcl + 1, sizeof(*pay->excl));
	pay->excl[pay->nexcl++] = (struct route_excl){edge, min_msat};
}

static size_t find_route(struct payments *p, struct payment *pay,
			 uint64_t amt, struct route_hop *hops, uint64_t *fee)
{
	struct route_query q = {
		.source = pay->d.sender,
		.target = pay->d.receiver,
		.amount_msat = amt,
		.kind = pay->d.sender_kind,
		.noise_sigma = pay->injected ? 0 : p->cfg.belief_noise,
		.noise_seed = pay->d.noise_seed,
		.now_ms = p->now_ms,
		.local_balances = true,
		.mem = sender_mem(p, pay->d.sender),
		.excl = pay->excl,
		.nexcl = pay->nexcl,
		.final_cltv = 18,
		.xpay_mu = 1,
		.fee_weight = pay_fee_weight(p->cfg.sensitivity),
	};
	unsigned __int128 cap = (unsigned __int128)pay->d.fee_cap_msat * amt /
				pay->d.amount_msat;
	size_t n;

	q.fee_cap_msat = (uint64_t)cap;
	if (pay->d.sender_kind == SENDER_LDK) {
		/* LDK enforces its channel saturation limit first and drops
		 * it when no route fits. */
		q.ldk_saturation = true;
		n = router_find(p->router, &q, hops, fee);
		if (n)
			return n;
		q.ldk_saturation = false;
	}
	if (pay->d.sender_kind != SENDER_CLN_XPAY)
		return router_find(p->router, &q, hops, fee);
	/* xpay: reliability first (mu = 1); the fee weight is raised only
	 * when the flow costs more than the budget. */
	{
		static const double mus[] = {1, 10, 100};
		uint64_t budget = q.fee_cap_msat;
		for (size_t i = 0; i < ARRAY_SIZE(mus); i++) {
			q.xpay_mu = mus[i];
			q.fee_cap_msat = i + 1 < ARRAY_SIZE(mus) ? UINT64_MAX
								 : budget;
			n = router_find(p->router, &q, hops, fee);
			if (n && *fee <= budget)
				return n;
		}
	}
	return 0;
}

/* Send one part along @hops: the first hop is our own channel, checked and
 * locked now (so parts sent together do not count the same balance
 * twice); the rest happens hop by hop on the event queue. */
static bool launch(struct payments *p, uint32_t ps, uint64_t amt,
		   const struct route_hop *hops, size_t n)
{
	uint32_t ai = at_alloc(p);
	struct attempt *at = &p->ats[ai];
	struct payment *pay = &p->pays[ps];
	struct net_channel *ch0 = &p->net->chans[hops[0].chan];
	uint16_t code;

	at->pay = ps;
	at->nhops = (uint8_t)n;
	at->amount_msat = amt;
	for (size_t i = 0; i < n; i++) {
		uint64_t span = p->cfg.hop_latency_max_ms -
				p->cfg.hop_latency_min_ms + 1;
		at->hops[i] = (struct ahop){
			.chan = hops[i].chan,
			.side = hops[i].side,
			.lat_ms = (uint16_t)(p->cfg.hop_latency_min_ms +
					     rng_below(&pay->rng, span)),
			.amt = hops[i].amount_msat,
		};
	}
	pay->attempts++;
	code = pay_htlc_check(p, ch0, hops[0].side, hops[0].amount_msat, false, 0);
	if (code) {
		/* Our own channel refused (a slot or balance taken since
		 * the route was found): no network round trip. */
		add_excl(pay, route_edge(hops[0].chan, hops[0].side),
			 hops[0].amount_msat);
		pay->had_failure = true;
		at_release(p, ai);
		return false;
	}
	pay_htlc_lock(ch0, hops[0].side, hops[0].amount_msat);
	at->next = 1;
	pay->inflight++;
	pay->unassigned_msat -= amt;
	evq_push(p->q, p->now_ms + at->hops[0].lat_ms, EV_HOP, ai, at->gen,
		 NULL);
	return true;
}

static void pay_continue(struct payments *p, uint32_t ps)
{
	struct payment *pay = &p->pays[ps];
	const struct sender_model *m = &pay_models[pay->d.sender_kind];
	struct route_hop hops[ROUTE_MAX_HOPS];

	while (pay->unassigned_msat > 0 && !pay->completing &&
	       !pay->giving_up) {
		uint64_t amt = pay->unassigned_msat, fee;
		size_t n;

		if (p->now_ms >= pay->deadline_ms ||
		    pay->attempts >= p->cfg.max_attempts) {
			pay->reason = PAY_EXHAUSTED;
			break;
		}
		/* Every part slot taken: wait for one to resolve. */
		if (pay->inflight + pay->nheld >= m->max_parts)
			break;
		for (;;) {
			uint64_t half = (amt + 1) / 2, pieces;
			n = find_route(p, pay, amt, hops, &fee);
			if (n)
				break;
			/* MPP: split when no single route carries it (lnd
			 * halves; others split similarly), within the
			 * model's smallest part and part count. */
			pieces = (pay->unassigned_msat + half - 1) / half;
			if (!p->cfg.mpp || half < m->min_shard_msat ||
			    pay->inflight + pay->nheld + pieces > m->max_parts)
				break;
			amt = half;
		}
		if (!n) {
			pay->reason = PAY_NO_ROUTE;
			break;
		}
		pay->reason = PAY_OK;
		launch(p, ps, amt, hops, n);
		pay = &p->pays[ps];
	}
	if (pay->unassigned_msat > 0 && !pay->inflight && !pay->giving_up &&
	    !pay->completing)
		give_up(p, ps);
}

static void start_payment(struct payments *p, uint64_t id, bool injected,
			  const struct pay_demand *d)
{
	uint32_t ps = pay_alloc(p);
	struct payment *pay = &p->pays[ps];

	pay->id = id;
	pay->injected = injected;
	pay->d = *d;
	pay->arrival_ms = p->now_ms;
	pay->deadline_ms = p->now_ms + p->cfg.retry_budget_sec * 1000;
	pay->unassigned_msat = d->amount_msat;
	rng_seed(&pay->rng, d->dyn_seed);
	payment_hash(p, id, injected, pay->hash);
	pay_continue(p, ps);
}

/* ---- event handlers ----------------------------------------------------- */

static struct attempt *event_attempt(struct payments *p, const struct event *ev)
{
	struct attempt *at;

	if (ev->a >= p->nats)
		return NULL;
	at = &p->ats[ev->a];
	return at->live && at->gen == ev->b ? at : NULL;
}

static void on_hop(struct payments *p, uint32_t ai)
{
	struct attempt *at = &p->ats[ai];
	struct payment *pay = &p->pays[at->pay];
	size_t i = at->next;

	if (i == at->nhops) {
		/* The part reached the receiver, which holds it until the
		 * whole amount is there (all parts or none). */
		pay->inflight--;
		pay->held[pay->nheld++] = ai;
		pay->held_msat += at->amount_msat;
		if (pay->held_msat == pay->d.amount_msat) {
			pay->completing = true;
			for (uint32_t k = 0; k < pay->nheld; k++) {
				struct attempt *h = &p->ats[pay->held[k]];
				evq_push(p->q,
					 p->now_ms + back_ms(h, h->nhops),
					 EV_SETTLE, pay->held[k], h->gen, NULL);
			}
		} else if (pay->giving_up) {
			evq_push(p->q, p->now_ms + back_ms(at, at->nhops),
				 EV_RELEASE, ai, at->gen, NULL);
		} else if (!pay->inflight && pay->unassigned_msat) {
			pay_continue(p, at->pay);
		}
		return;
	}
	{
		struct ahop *h = &at->hops[i];
		struct net_channel *ch = &p->net->chans[h->chan];
		uint32_t node = ch->node[h->side];
		uint16_t code = pay_htlc_check(p, ch, h->side, h->amt, true,
					   at->hops[i - 1].amt);

		if (code) {
			pay_fwd_open(p, node, at->hops[i - 1].chan, h->chan,
				 at->hops[i - 1].amt, h->amt, FWD_LOCAL_FAILED,
				 code, p->now_ms, pay->hash);
			p->net->nodes[node].forwards_local_failed++;
			at->fail_hop = (uint8_t)i;
			at->failcode = code;
			evq_push(p->q, p->now_ms + back_ms(at, i), EV_BACK, ai,
				 at->gen, NULL);
			return;
		}
		pay_htlc_lock(ch, h->side, h->amt);
		h->fwd_ci = pay_fwd_open(p, node, at->hops[i - 1].chan, h->chan,
				     at->hops[i - 1].amt, h->amt, FWD_OFFERED, 0,
				     p->now_ms, pay->hash);
		at->next = (uint8_t)(i + 1);
		evq_push(p->q, p->now_ms + h->lat_ms, EV_HOP, ai, at->gen,
			 NULL);
	}
}

/* Unlock the hops an attempt holds, failing its forwards. */
static void fail_back(struct payments *p, struct attempt *at, size_t upto)
{
	for (size_t j = 0; j < upto; j++) {
		struct ahop *h = &at->hops[j];
		struct net_channel *ch = &p->net->chans[h->chan];
		pay_htlc_unlock(ch, h->side, h->amt);
		if (j > 0) {
			uint32_t node = ch->node[h->side];
			p->net->nodes[node].forwards_failed++;
			pay_fwd_close(p, node, h->fwd_ci, FWD_FAILED, p->now_ms);
		}
	}
}

static void on_back(struct payments *p, uint32_t ai)
{
	struct attempt *at = &p->ats[ai];
	uint32_t ps = at->pay;
	struct payment *pay = &p->pays[ps];
	struct mc *mem = sender_mem(p, pay->d.sender);
	size_t k = at->fail_hop, max = p->cfg.memory_max;
	const struct ahop *fh = &at->hops[k];
	uint32_t edge = route_edge(fh->chan, fh->side);
	const struct chan_policy *pol = &p->net->chans[fh->chan].pol[fh->side];

	fail_back(p, at, k);
	/* What the sender learns (as lnd's mission control): the hops
	 * before the failure carried it; the failing one did not. */
	for (size_t j = 0; j < k; j++)
		mc_success(mem, max, route_edge(at->hops[j].chan,
						at->hops[j].side),
			   at->hops[j].amt, p->now_ms);
	switch (at->failcode) {
	case WIRE_FEE_INSUFFICIENT:
		/* The error carries the channel_update: use it now. */
		mc_update(mem, max, edge, pol->base_msat, pol->ppm, p->now_ms);
		break;
	case WIRE_TEMPORARY_CHANNEL_FAILURE:
		mc_fail(mem, max, edge, fh->amt, p->now_ms);
		add_excl(pay, edge, fh->amt);
		break;
	default:
		mc_fail(mem, max, edge, 0, p->now_ms);
		add_excl(pay, edge, 0);
		break;
	}
	pay->had_failure = true;
	pay->inflight--;
	pay->unassigned_msat += at->amount_msat;
	at_release(p, ai);
	if (pay->giving_up || pay->completing) {
		if (!pay->inflight && pay->giving_up &&
		    pay->released == pay->nheld)
			finish(p, ps, false);
		return;
	}
	pay_continue(p, ps);
}

static void on_settle(struct payments *p, uint32_t ai)
{
	struct attempt *at = &p->ats[ai];
	uint32_t ps = at->pay;
	struct payment *pay = &p->pays[ps];
	struct mc *mem = sender_mem(p, pay->d.sender);

	for (size_t j = 0; j < at->nhops; j++) {
		struct ahop *h = &at->hops[j];
		struct net_channel *ch = &p->net->chans[h->chan];
		pay_htlc_settle(ch, h->side, h->amt);
		mc_success(mem, p->cfg.memory_max, route_edge(h->chan, h->side),
			   h->amt, p->now_ms);
		if (j > 0) {
			uint32_t node = ch->node[h->side];
			pay_credit_forward(p->net, ch, h->side,
				       at->hops[j - 1].amt, h->amt);
			pay_fwd_close(p, node, h->fwd_ci, FWD_SETTLED, p->now_ms);
		}
	}
	pay->fee_msat += at->hops[0].amt - at->amount_msat;
	pay->settled++;
	at_release(p, ai);
	if (pay->settled == pay->nheld)
		finish(p, ps, true);
}

static void on_release(struct payments *p, uint32_t ai)
{
	struct attempt *at = &p->ats[ai];
	uint32_t ps = at->pay;
	struct payment *pay = &p->pays[ps];

	fail_back(p, at, at->nhops);
	pay->released++;
	at_release(p, ai);
	if (pay->released == pay->nheld && !pay->inflight)
		finish(p, ps, false);
}

/* External operators keep their channels usable by means the model does
 * not play (rebalancing, swaps, closing and reopening): without them a
 * network whose demand is directional drains for good, and any liquid
 * channel becomes the last resort of every retry. So each hour every
 * channel between external nodes moves a share of the way back to its
 * opening split, as far as HTLCs in flight and the reserve allow. Fleet
 * channels are never touched: their liquidity is the plugins' business. */
static void refill(struct payments *p)
{
	struct net *net = p->net;
	double f = 1 - exp2(-(double)REFILL_MS /
			    (p->cfg.refill_half_life_days * 86400e3));

	for (size_t c = 0; c < p->nrefill && c < net->nchans; c++) {
		struct net_channel *ch = &net->chans[c];
		uint64_t target = p->refill_target_msat[c], reserve, give, room;
		int from;
		double want;

		if (ch->state != CHAN_NORMAL || net->nodes[ch->node[0]].fleet ||
		    net->nodes[ch->node[1]].fleet)
			continue;
		from = ch->balance_msat[0] > target ? 0 : 1;
		want = f * fabs((double)ch->balance_msat[0] - (double)target);
		reserve = route_reserve_msat(ch->capacity_sat);
		room = ch->htlc_out_msat[from] + reserve;
		if (ch->balance_msat[from] <= room)
			continue;
		give = (uint64_t)want;
		if (give > ch->balance_msat[from] - room)
			give = ch->balance_msat[from] - room;
		ch->balance_msat[from] -= give;
		ch->balance_msat[1 - from] += give;
	}
}

/* The next hourly refill, if it falls before the demand ends (so a
 * caller that pops events until the queue is empty stops). */
static void schedule_refill(struct payments *p)
{
	if (p->refill_scheduled || p->cfg.refill_half_life_days <= 0 ||
	    p->refill_next_ms >= p->end_ms)
		return;
	p->refill_scheduled = true;
	evq_push(p->q, p->refill_next_ms, EV_REFILL, 0, 0, NULL);
}

static void schedule_candidate(struct payments *p)
{
	struct rng r;

	/* Candidate times of a thinned Poisson process at the peak rate;
	 * each candidate's draws come from its own fork, so the stream
	 * depends only on the seed. */
	rng_fork(&p->arrival_root, p->cand, &r);
	p->cand_ms += rng_exponential(&r, 1.0 / p->rate_max_per_ms);
	if (p->cand_ms >= (double)p->end_ms) {
		p->pending = false;
		return;
	}
	p->pending = true;
	evq_push(p->q, (uint64_t)p->cand_ms, EV_ARRIVAL, p->cand,
		 p->cand_accepted, NULL);
}

static void on_arrival(struct payments *p, const struct event *ev)
{
	struct rng r;
	struct pay_demand d;
	uint64_t k;

	if (ev->a != p->cand)
		return;
	rng_fork(&p->arrival_root, p->cand, &r);
	(void)rng_exponential(&r, 1.0); /* the gap, drawn before */
	k = p->cand_accepted;
	if (rng_unit(&r) * p->rate_max_per_ms <
	    p->rate_base_per_ms * pay_rhythm(p, p->cand_ms)) {
		p->cand_accepted++;
		if (payments_demand(p, k, &d))
			start_payment(p, k, false, &d);
	}
	p->cand++;
	schedule_candidate(p);
}

bool payments_handle(struct payments *p, const struct event *ev)
{
	struct attempt *at;

	if (ev->type < PAY_EVENT_BASE || ev->type > PAY_EVENT_LAST)
		return false;
	if (ev->at_ms > p->now_ms)
		p->now_ms = ev->at_ms;
	switch (ev->type) {
	case EV_ARRIVAL:
		on_arrival(p, ev);
		break;
	case EV_INJECT:
		if (ev->a < p->ninj) {
			const struct inject *in = &p->inj[ev->a];
			struct pay_demand d = {
				.sender = in->sender,
				.receiver = in->receiver,
				.amount_msat = in->amount_msat,
				.sender_kind = in->kind,
				.fee_cap_msat =
					pay_fee_cap_rule(in->kind, in->amount_msat),
				.noise_seed = 0,
				.dyn_seed = p->hash_salt ^ ev->a,
			};
			start_payment(p, ev->a, true, &d);
		}
		break;
	case EV_HOP:
		if ((at = event_attempt(p, ev)))
			on_hop(p, (uint32_t)ev->a);
		break;
	case EV_BACK:
		if ((at = event_attempt(p, ev)))
			on_back(p, (uint32_t)ev->a);
		break;
	case EV_SETTLE:
		if ((at = event_attempt(p, ev)))
			on_settle(p, (uint32_t)ev->a);
		break;
	case EV_RELEASE:
		if ((at = event_attempt(p, ev)))
			on_release(p, (uint32_t)ev->a);
		break;
	case EV_REFILL:
		refill(p);
		p->refill_scheduled = false;
		p->refill_next_ms += REFILL_MS;
		schedule_refill(p);
		break;
	}
	return true;
}

/* ---- public ------------------------------------------------------------- */

struct payments *payments_new(struct net *net, struct evq *q,
			      const json_t *traffic, uint64_t seed,
			      const struct pay_hooks *hooks, void *hooks_arg,
			      char **err)
{
	struct payments *p;
	struct traffic_cfg cfg;
	struct rng root;

	*err = NULL;
	if (!pay_parse_traffic(traffic, &cfg, err))
		return NULL;
	p = xzalloc(sizeof(*p));
	p->net = net;
	p->q = q;
	if (hooks)
		p->hooks = *hooks;
	p->hooks_arg = hooks_arg;
	p->cfg = cfg;
	p->pay_free = p->at_free = NO_SLOT;
	rng_seed(&root, seed ^ 0x7061796d656e7473ULL); /* "payments" */
	rng_fork(&root, 1, &p->arrival_root);
	rng_fork(&root, 2, &p->demand_root);
	p->hash_salt = rng_u64(&root);
	pay_build_tables(p);
	p->router = router_new(net);
	p->nrefill = net->nchans;
	p->refill_target_msat = xmalloc(sizeof(uint64_t) * (net->nchans + 1));
	for (size_t c = 0; c < net->nchans; c++)
		p->refill_target_msat[c] = net->chans[c].balance_msat[0];
	p->now_ms = net->now_sec * 1000;
	return p;
}

void payments_free(struct payments *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->npays; i++)
		free(p->pays[i].excl);
	for (size_t i = 0; i < p->nmem; i++)
		mc_free(&p->mem[i]);
	free(p->mem);
	free(p->pays);
	free(p->ats);
	free(p->inj);
	free(p->send_nodes);
	free(p->recv_nodes);
	free(p->send_cum);
	free(p->recv_cum);
	free(p->refill_target_msat);
	router_free(p->router);
	free(p);
}

void payments_start(struct payments *p, uint64_t start_ms, uint64_t end_ms)
{
	if (!p->rate_max_per_ms)
		return;
	if (!p->started) {
		p->started = true;
		p->cand_ms = (double)start_ms;
		p->end_ms = end_ms;
		p->refill_next_ms = start_ms + REFILL_MS;
		schedule_refill(p);
		schedule_candidate(p);
		return;
	}
	if (end_ms <= p->end_ms)
		return;
	p->end_ms = end_ms;
	schedule_refill(p);
	/* The stream stopped at the candidate past the old end: it is
	 * already drawn, so schedule it rather than draw a new one. */
	if (!p->pending && p->cand_ms < (double)end_ms) {
		p->pending = true;
		evq_push(p->q, (uint64_t)p->cand_ms, EV_ARRIVAL, p->cand,
			 p->cand_accepted, NULL);
	}
}

uint64_t payments_inject(struct payments *p, uint64_t at_ms, uint32_t sender,
			 uint32_t receiver, uint64_t amount_msat,
			 int sender_kind)
{
	xgrow(&p->inj, &p->capinj, p->ninj + 1, sizeof(*p->inj));
	p->inj[p->ninj] = (struct inject){at_ms, sender, receiver, amount_msat,
					  sender_kind >= 0 &&
							  sender_kind < SENDER_NKINDS
						  ? sender_kind
						  : SENDER_LND};
	evq_push(p->q, at_ms, EV_INJECT, p->ninj, 0, NULL);
	return p->ninj++;
}

int payments_bucket(uint64_t amount_msat)
{
	uint64_t sat = amount_msat / 1000;
	return sat < 1000 ? 0 : sat < 10000 ? 1 : sat < 100000 ? 2
						: sat < 1000000 ? 3 : 4;
}

void payments_stats(const struct payments *p, struct pay_stats *out)
{
	uint64_t relax;

	*out = p->st;
	router_counters(p->router, &out->route_searches, &relax);
}

void payments_reset_stats(struct payments *p, uint64_t ms)
{
	memset(&p->st, 0, sizeof(p->st));
	p->stats_from_ms = ms;
}

enum fee_sensitivity payments_sensitivity(const struct payments *p)
{
	return p->cfg.sensitivity;
}
