/* lightningd's datastore in the fake lightningd: datastore, listdatastore,
 * deldatastore and datastoreusage, with the shapes of Core Lightning's v26
 * schemas and its 1200-series error codes.
 *
 * Each fleet node has its own store, in memory for the life of the
 * simulation (nothing persists across runs). A key is an array of strings
 * forming a hierarchy (a single string is a one-element key); a key holds
 * a value or has children, never both, and parents exist only through
 * their children. Entries are kept in one array sorted by key, parts
 * compared in order and a prefix before its extensions: the order
 * lightningd's database gives (it stores parts joined by NUL bytes), so a
 * key's descendants follow it contiguously. A node holds at most a few
 * hundred keys, so inserting by moving the tail is cheap enough. */
#include "common/errcode.h"
#include "common/util.h"
#include "common/wire.h"
#include "sim/lightningd.h"
#include "sim/methods.h"
#include <string.h>

/* A key: @n parts, each owned. */
struct ds_key {
	char **part;
	size_t n;
};

struct ds_entry {
	struct ds_key key;
	uint8_t *data; /* @len bytes, owned */
	size_t len;
	uint64_t generation; /* updates since it was created */
};

struct datastore {
	struct ds_entry *v; /* sorted by key_cmp */
	size_t n, cap;
};

/* Modes as lightningd combines them: must-create is MUST_NOT_EXIST,
 * must-append MUST_EXIST | APPEND, create-or-replace none. */
enum ds_mode {
	DS_MUST_EXIST = 1,
	DS_MUST_NOT_EXIST = 2,
	DS_APPEND = 4,
};

static const struct {
	const char *name;
	enum ds_mode mode;
} ds_modes[] = {
	{"must-create", DS_MUST_NOT_EXIST},
	{"must-replace", DS_MUST_EXIST},
	{"create-or-replace", 0},
	{"must-append", DS_MUST_EXIST | DS_APPEND},
	{"create-or-append", DS_APPEND},
};

static void key_free(struct ds_key *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->part[i]);
	free(k->part);
	k->part = NULL;
	k->n = 0;
}

static void datastore_free(void *arg)
{
	struct datastore *ds = arg;

	for (size_t i = 0; i < ds->n; i++) {
		key_free(&ds->v[i].key);
		free(ds->v[i].data);
	}
	free(ds->v);
	free(ds);
}

/* The store of the node @req is for (borrowed: the node owns it). */
static struct datastore *node_datastore(struct lnd_req *req)
{
	struct lnd *lnd = lnd_req_node(req);
	struct datastore *ds = lnd_ext(lnd, LND_EXT_DATASTORE);

	if (!ds) {
		ds = xzalloc(sizeof(*ds));
		lnd_set_ext(lnd, LND_EXT_DATASTORE, ds, datastore_free);
	}
	return ds;
}

/* Parts in order; a key sorts before the keys it is a prefix of. */
static int key_cmp(const struct ds_key *a, const struct ds_key *b)
{
	for (size_t i = 0; i < a->n && i < b->n; i++) {
		int c = strcmp(a->part[i], b->part[i]);
		if (c)
			return c;
	}
	return a->n < b->n ? -1 : a->n > b->n;
}

/* Whether @k begins with the first @n parts of @prefix. */
static bool key_starts(const struct ds_key *k, const struct ds_key *prefix,
		       size_t n)
{
	if (k->n < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(k->part[i], prefix->part[i]))
			return false;
	return true;
}

/* Index of the first entry not before @k (ds->n if none). */
static size_t lower_bound(const struct datastore *ds, const struct ds_key *k)
{
	size_t lo = 0, hi = ds->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (key_cmp(&ds->v[mid].key, k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The entry holding exactly @k, or NULL (borrowed). */
static struct ds_entry *find(struct datastore *ds, const struct ds_key *k)
{
	size_t i = lower_bound(ds, k);

	return i < ds->n && key_cmp(&ds->v[i].key, k) == 0 ? &ds->v[i] : NULL;
}

/* One key part as lightningd takes it: a string, or a primitive (number,
 * true, false, null) as its JSON text. New string, or NULL. */
static char *part_text(const json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_array(v) || json_is_object(v))
		return NULL;
	return json_dumps(v, JSON_ENCODE_ANY);
}

/* The "key" parameter (a string or a non-empty array) into @out, which
 * the caller frees with key_free (also after a failure). An absent key
 * leaves @out empty and fails only if @required. False after failing
 * @req. */
static bool param_key(struct lnd_req *req, const json_t *params, bool required,
		      struct ds_key *out)
{
	const json_t *v = meth_param(params, 0, "key");
	size_t n;

	out->part = NULL;
	out->n = 0;
	if (!v) {
		if (!required)
			return true;
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "missing required parameter: key");
		return false;
	}
	if (json_is_object(v)) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "key: should be string or array");
		return false;
	}
	if (!json_is_array(v)) {
		out->part = xmalloc(sizeof(*out->part));
		out->part[0] = part_text(v);
		out->n = 1;
		return true;
	}
	n = json_array_size(v);
	if (n == 0) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "key: should not be empty");
		return false;
	}
	out->part = xmalloc(n * sizeof(*out->part));
	for (size_t i = 0; i < n; i++) {
		char *p = part_text(json_array_get(v, i));
		if (!p) {
			lnd_req_fail(req, ERR_INVALID_PARAMS,
				     "key: should be string");
			return false;
		}
		out->part[out->n++] = p;
	}
	return true;
}

/* The first @n parts of @k as a JSON array (new). */
static json_t *key_json(const struct ds_key *k, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(k->part[i]));
	return arr;
}

/* The data as a JSON string if it is valid UTF-8, else NULL (new).
 * jansson refuses overlong forms, surrogates and code points past
 * U+10FFFF, as lightningd's check does; lightningd refuses NUL too. */
static json_t *utf8_json(const uint8_t *data, size_t len)
{
	if (memchr(data, 0, len))
		return NULL;
	return json_stringn((const char *)data, len);
}

/* An entry as the methods list it (new): the first @n parts of its key
 * and, for a value, generation, hex and (if UTF-8) string. With
 * @value false it stands for a parent: the key alone. */
static json_t *entry_json(const struct ds_entry *e, size_t n, bool value)
{
	json_t *o = json_object(), *str;
	char *hex;

	json_object_set_new(o, "key", key_json(&e->key, n));
	if (!value)
		return o;
	json_object_set_new(o, "generation",
			    json_integer((json_int_t)e->generation));
	hex = hex_encode(e->data, e->len);
	json_object_set_new(o, "hex", json_string(hex));
	free(hex);
	str = utf8_json(e->data, e->len);
	if (str)
		json_object_set_new(o, "string", str);
	return o;
}

/* datastore's "string" and "hex" (exactly one of them) into a new buffer
 * *@data of *@len bytes. False after failing @req. */
static bool param_data(struct lnd_req *req, const json_t *params,
		       uint8_t **data, size_t *len)
{
	const json_t *s = meth_param(params, 1, "string");
	const json_t *h = meth_param(params, 2, "hex");
	char *hex;
	bool ok;

	if (s && !json_is_string(s)) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "string: should be a string");
		return false;
	}
	/* lightningd reads hex from the token's text, so a number whose
	 * digits are hex is taken too (lightning-cli sends hex=1234 so). */
	if (h && !json_is_string(h) && !json_is_integer(h)) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "hex: should be a hex string");
		return false;
	}
	if (s && h) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "Cannot have both hex and string");
		return false;
	}
	if (s) {
		*len = json_string_length(s);
		*data = xmalloc(*len + 1);
		memcpy(*data, json_string_value(s), *len);
		return true;
	}
	if (!h) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "Must have either hex or string");
		return false;
	}
	hex = json_is_string(h) ? xstrdup(json_string_value(h))
				: json_dumps(h, JSON_ENCODE_ANY);
	ok = hex_decode(hex, data, len);
	free(hex);
	if (!ok)
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "hex: should be a hex string");
	return ok;
}

static bool param_mode(struct lnd_req *req, const json_t *params,
		       enum ds_mode *mode)
{
	const json_t *v = meth_param(params, 3, "mode");
	const char *s = json_string_value(v);

	*mode = DS_MUST_NOT_EXIST;
	if (!v)
		return true;
	for (size_t i = 0; s && i < ARRAY_SIZE(ds_modes); i++) {
		if (!strcmp(s, ds_modes[i].name)) {
			*mode = ds_modes[i].mode;
			return true;
		}
	}
	lnd_req_fail(req, ERR_INVALID_PARAMS,
		     "mode: should be 'must-create', 'must-replace', "
		     "'create-or-replace', 'must-append', or "
		     "'create-or-append'");
	return false;
}

/* "[a,b]", as lightningd names a key in messages (new string). */
static char *key_fmt(const struct ds_key *k, size_t n)
{
	size_t size = 3;
	char *s;

	for (size_t i = 0; i < n; i++)
		size += strlen(k->part[i]) + 1;
	s = xmalloc(size);
	strcpy(s, "[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(s, ",");
		strcat(s, k->part[i]);
	}
	strcat(s, "]");
	return s;
}

/* Fails @req if the store cannot take a value at @k, which holds none:
 * @k has children, or one of its parents holds a value. */
static bool check_hierarchy(struct lnd_req *req, struct datastore *ds,
			    const struct ds_key *k, size_t at)
{
	/* Descendants follow their ancestor in the order, so the entry
	 * after where @k would be is one if any is. */
	if (at < ds->n && key_starts(&ds->v[at].key, k, k->n)) {
		lnd_req_fail(req, CLN_DATASTORE_UPDATE_HAS_CHILDREN,
			     "Key has children already");
		return false;
	}
	for (size_t n = 1; n < k->n; n++) {
		struct ds_key parent = {.part = k->part, .n = n};
		char *name;
		if (!find(ds, &parent))
			continue;
		name = key_fmt(k, n);
		lnd_req_fail(req, CLN_DATASTORE_UPDATE_NO_CHILDREN,
			     "Parent key %s exists", name);
		free(name);
		return false;
	}
	return true;
}

static void m_datastore(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"key", "string", "hex", "mode",
					    "generation", NULL};
	struct datastore *ds = node_datastore(req);
	struct ds_key key;
	struct ds_entry *e;
	uint8_t *data = NULL;
	size_t len = 0, at;
	enum ds_mode mode;
	uint64_t generation = 0;
	bool has_generation = false;

	if (!meth_check_names(req, params, names))
		return;
	/* Each check fails @req, once; then only the cleanup runs. */
	if (!param_key(req, params, true, &key) ||
	    !param_data(req, params, &data, &len) ||
	    !param_mode(req, params, &mode) ||
	    !meth_u64(req, params, 4, "generation", false, &generation,
		      &has_generation))
		goto out;
	if (has_generation && !(mode & DS_MUST_EXIST)) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "generation only valid with must-replace or "
			     "must-append");
		goto out;
	}
	at = lower_bound(ds, &key);
	e = NULL;
	if (at < ds->n && key_cmp(&ds->v[at].key, &key) == 0)
		e = &ds->v[at];
	if (!e && !check_hierarchy(req, ds, &key, at))
		goto out;
	if ((mode & DS_MUST_NOT_EXIST) && e) {
		lnd_req_fail(req, CLN_DATASTORE_UPDATE_ALREADY_EXISTS,
			     "Key already exists");
		goto out;
	}
	if ((mode & DS_MUST_EXIST) && !e) {
		lnd_req_fail(req, CLN_DATASTORE_UPDATE_DOES_NOT_EXIST,
			     "Key does not exist");
		goto out;
	}
	if (has_generation && e->generation != generation) {
		lnd_req_fail(req, CLN_DATASTORE_UPDATE_WRONG_GENERATION,
			     "generation is different");
		goto out;
	}
	if (e && (mode & DS_APPEND)) {
		e->data = xrealloc(e->data, e->len + len + 1);
		memcpy(e->data + e->len, data, len);
		e->len += len;
		e->generation++;
	} else if (e) {
		free(e->data);
		e->data = data;
		e->len = len;
		data = NULL;
		e->generation++;
	} else {
		xgrow(&ds->v, &ds->cap, ds->n + 1, sizeof(*ds->v));
		memmove(&ds->v[at + 1], &ds->v[at],
			(ds->n - at) * sizeof(*ds->v));
		ds->n++;
		e = &ds->v[at];
		*e = (struct ds_entry){.key = key, .data = data, .len = len};
		key = (struct ds_key){0};
		data = NULL;
	}
	lnd_req_ok(req, entry_json(e, e->key.n, true));
out:
	key_free(&key);
	free(data);
}

static void m_listdatastore(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"key", NULL};
	const struct datastore *ds = node_datastore(req);
	const struct ds_entry *shown = NULL;
	struct ds_key key;
	json_t *arr;

	if (!meth_check_names(req, params, names))
		return;
	if (!param_key(req, params, false, &key)) {
		key_free(&key);
		return;
	}
	/* The key itself if it holds a value, else its children; a child
	 * that has children of its own shows once, as a key alone. */
	arr = json_array();
	for (size_t i = lower_bound(ds, &key);
	     i < ds->n && key_starts(&ds->v[i].key, &key, key.n); i++) {
		const struct ds_entry *e = &ds->v[i];
		if (e->key.n <= key.n + 1) {
			json_array_append_new(arr,
					      entry_json(e, e->key.n, true));
			continue;
		}
		if (shown && key_starts(&e->key, &shown->key, key.n + 1))
			continue;
		json_array_append_new(arr, entry_json(e, key.n + 1, false));
		shown = e;
	}
	key_free(&key);
	lnd_req_ok(req, json_pack("{s:o}", "datastore", arr));
}

static void m_deldatastore(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"key", "generation", NULL};
	struct datastore *ds = node_datastore(req);
	struct ds_key key;
	struct ds_entry *e;
	uint64_t generation = 0;
	bool has_generation = false;
	size_t at;

	if (!meth_check_names(req, params, names))
		return;
	if (!param_key(req, params, true, &key) ||
	    !meth_u64(req, params, 1, "generation", false, &generation,
		      &has_generation))
		goto out;
	e = find(ds, &key);
	if (!e) {
		lnd_req_fail(req, CLN_DATASTORE_DEL_DOES_NOT_EXIST,
			     "Key does not exist");
		goto out;
	}
	if (has_generation && e->generation != generation) {
		lnd_req_fail(req, CLN_DATASTORE_DEL_WRONG_GENERATION,
			     "generation is different");
		goto out;
	}
	lnd_req_ok(req, entry_json(e, e->key.n, true));
	/* Its parents go with it when it was their last child: they exist
	 * only through their children. */
	at = (size_t)(e - ds->v);
	key_free(&e->key);
	free(e->data);
	memmove(&ds->v[at], &ds->v[at + 1], (ds->n - at - 1) * sizeof(*ds->v));
	ds->n--;
out:
	key_free(&key);
}

static void m_datastoreusage(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"key", NULL};
	const struct datastore *ds = node_datastore(req);
	struct ds_key key;
	uint64_t total = 0;
	char *name;

	if (!meth_check_names(req, params, names))
		return;
	if (!param_key(req, params, false, &key)) {
		key_free(&key);
		return;
	}
	/* As lightningd: a key starting with an empty part means the
	 * root. */
	if (key.n && !key.part[0][0])
		key_free(&key);
	/* Bytes as lightningd stores them: the data, and the key's parts
	 * joined by one separator byte each. */
	for (size_t i = lower_bound(ds, &key);
	     i < ds->n && key_starts(&ds->v[i].key, &key, key.n); i++) {
		const struct ds_entry *e = &ds->v[i];
		total += e->len + e->key.n - 1;
		for (size_t p = 0; p < e->key.n; p++)
			total += strlen(e->key.part[p]);
	}
	name = key_fmt(&key, key.n);
	lnd_req_ok(req, json_pack("{s:{s:s,s:I}}", "datastoreusage", "key",
				  name, "total_bytes", (json_int_t)total));
	free(name);
	key_free(&key);
}

const struct lnd_method meth_datastore[] = {
	{"datastore", m_datastore, "key [string] [hex] [mode] [generation]",
	 "Store {string} or {hex} data under {key} (a string or an array of "
	 "strings) in this node's datastore."},
	{"listdatastore", m_listdatastore, "[key]",
	 "List the datastore's entries directly under {key} (or the root)."},
	{"deldatastore", m_deldatastore, "key [generation]",
	 "Remove {key} from the datastore."},
	{"datastoreusage", m_datastoreusage, "[key]",
	 "Show the bytes stored under {key} (or the root), keys included."},
};
const size_t meth_datastore_n = ARRAY_SIZE(meth_datastore);
