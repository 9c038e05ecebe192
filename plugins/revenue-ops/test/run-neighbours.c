/* Unit tests for neighbours_parse: a listchannels result (the shape of
 * Core Lightning's schema, integer msat and the pre-v23 "msat" strings)
 * turned into quotes toward one peer, our own channel and malformed
 * entries left out. */
#include "plugins/revenue-ops/cycle/neighbours.h"
#include "tests/check.h"
#include <stdlib.h>

#define US "02aa00000000000000000000000000000000000000000000000000000000000000"
#define PEER "03bb00000000000000000000000000000000000000000000000000000000000000"
#define X1 "02cc00000000000000000000000000000000000000000000000000000000000000"
#define X2 "02dd00000000000000000000000000000000000000000000000000000000000000"

static const char listchannels[] =
	"{\"channels\":["
	/* a competitor, integer amounts */
	"{\"source\":\"" X1 "\",\"destination\":\"" PEER "\","
	"\"short_channel_id\":\"100x1x0\",\"direction\":0,\"public\":true,"
	"\"amount_msat\":2000000000,\"message_flags\":1,\"channel_flags\":0,"
	"\"active\":true,\"last_update\":1700000000,"
	"\"base_fee_millisatoshi\":0,\"fee_per_millionth\":350,\"delay\":80,"
	"\"htlc_minimum_msat\":1000,\"features\":\"\"},"
	/* another, amount as a pre-v23 string, inactive */
	"{\"source\":\"" X2 "\",\"destination\":\"" PEER "\","
	"\"short_channel_id\":\"101x1x0\",\"direction\":1,\"public\":true,"
	"\"amount_msat\":\"500000000msat\",\"message_flags\":1,"
	"\"channel_flags\":1,\"active\":false,\"last_update\":1699990000,"
	"\"base_fee_millisatoshi\":1000,\"fee_per_millionth\":10,\"delay\":40,"
	"\"htlc_minimum_msat\":0,\"features\":\"\"},"
	/* ours: not a competitor */
	"{\"source\":\"" US "\",\"destination\":\"" PEER "\","
	"\"short_channel_id\":\"102x1x0\",\"direction\":0,\"public\":true,"
	"\"amount_msat\":1000000000,\"message_flags\":1,\"channel_flags\":0,"
	"\"active\":true,\"last_update\":1700000000,"
	"\"base_fee_millisatoshi\":1000,\"fee_per_millionth\":10,\"delay\":6,"
	"\"htlc_minimum_msat\":0,\"features\":\"\"},"
	/* malformed: no fee */
	"{\"source\":\"" X1 "\",\"destination\":\"" PEER "\","
	"\"short_channel_id\":\"103x1x0\",\"active\":true,"
	"\"amount_msat\":1000,\"last_update\":1},"
	/* toward someone else */
	"{\"source\":\"" X1 "\",\"destination\":\"" X2 "\","
	"\"short_channel_id\":\"104x1x0\",\"active\":true,"
	"\"amount_msat\":1000000,\"last_update\":1,"
	"\"base_fee_millisatoshi\":0,\"fee_per_millionth\":5}"
	"]}";

int main(void)
{
	json_t *res = json_loads(listchannels, 0, NULL);
	struct market_quote *q = NULL;
	size_t n = 99;
	char *err = NULL;

	CHECK(res != NULL, "fixture parses");
	CHECK(neighbours_parse(res, US, PEER, &q, &n, &err), "parsed");
	CHECK_EQ_INT(n, 2, "two competitors toward the peer");
	if (n == 2) {
		CHECK(q[0].fee_ppm == 350 && q[0].base_fee_msat == 0 &&
			  q[0].capacity_sat == 2000000 && q[0].active &&
			  q[0].last_update == 1700000000,
		      "first quote: 350 ppm, 2,000,000 sat, active");
		CHECK(q[1].fee_ppm == 10 && q[1].base_fee_msat == 1000 &&
			  q[1].capacity_sat == 500000 && !q[1].active,
		      "second: the stock pair, an msat string, inactive");
	}
	free(q);
	json_decref(res);

	res = json_loads("{\"nodes\":[]}", 0, NULL);
	CHECK(!neighbours_parse(res, US, PEER, &q, &n, &err) && err,
	      "no channels array: an error (%s)", err ? err : "-");
	CHECK(q == NULL && n == 0, "and nothing returned");
	free(err);
	json_decref(res);
	return check_done();
}
