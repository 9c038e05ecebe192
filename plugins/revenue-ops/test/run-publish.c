/* Unit tests for publish_text: what may go into lightningd's datastore
 * (an object, no error member, at most 60,000 bytes, with a timestamp). */
#include "plugins/revenue-ops/cycle/publish.h"
#include "tests/check.h"
#include <stdlib.h>
#include <string.h>

#define NOW 1700000000ULL

int main(void)
{
	const char *why = NULL;
	json_t *o = json_pack("{s:i,s:s}", "min", 10, "note", "x");
	char *text = publish_text(o, NOW, &why);

	CHECK(text && !strcmp(text, "{\"min\":10,\"note\":\"x\","
				    "\"timestamp\":1700000000}"),
	      "an object, compact, with the timestamp added: %s",
	      text ? text : "-");
	free(text);
	json_decref(o);

	o = json_pack("{s:I}", "timestamp", (json_int_t)42);
	text = publish_text(o, NOW, &why);
	CHECK(text && !strcmp(text, "{\"timestamp\":42}"),
	      "a timestamp already there is kept: %s", text ? text : "-");
	free(text);
	json_decref(o);

	o = json_array();
	CHECK(!publish_text(o, NOW, &why) && !strcmp(why, "not a JSON object"),
	      "an array is refused (%s)", why);
	json_decref(o);

	o = json_pack("{s:s}", "error", "listfunds failed");
	CHECK(!publish_text(o, NOW, &why) &&
		  !strcmp(why, "it carries an error"),
	      "an error is not data (%s)", why);
	json_decref(o);

	{
		char *big = malloc(PUBLISH_MAX_BYTES + 1);
		memset(big, 'a', PUBLISH_MAX_BYTES);
		big[PUBLISH_MAX_BYTES] = '\0';
		o = json_pack("{s:s}", "blob", big);
		CHECK(!publish_text(o, NOW, &why) &&
			  !strcmp(why, "over 60,000 bytes"),
		      "over 60,000 bytes refused (%s)", why);
		json_decref(o);
		/* {"blob":"...","timestamp":1700000000}: 34 bytes of
		 * frame. */
		big[PUBLISH_MAX_BYTES - 34] = '\0';
		o = json_pack("{s:s}", "blob", big);
		text = publish_text(o, NOW, &why);
		CHECK(text && strlen(text) == PUBLISH_MAX_BYTES,
		      "exactly 60,000 bytes accepted (%zu)",
		      text ? strlen(text) : 0);
		free(text);
		json_decref(o);
		free(big);
	}
	return check_done();
}
