/* Linear-probing hash map with backward-shift deletion; see u64map.h. */
#include "common/u64map.h"
#include "common/util.h"

struct slot {
	uint64_t key;
	void *val; /* NULL = empty */
};

struct u64map {
	struct slot *slots;
	size_t cap, count; /* cap is a power of two */
};

static size_t hash(uint64_t k, size_t cap)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)k & (cap - 1);
}

struct u64map *u64map_new(void)
{
	struct u64map *m = xzalloc(sizeof(*m));
	m->cap = 16;
	m->slots = xzalloc(m->cap * sizeof(*m->slots));
	return m;
}

void u64map_free(struct u64map *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

static void rehash(struct u64map *m, size_t ncap)
{
	struct slot *old = m->slots;
	size_t ocap = m->cap;

	m->slots = xzalloc(ncap * sizeof(*m->slots));
	m->cap = ncap;
	m->count = 0;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].val)
			u64map_put(m, old[i].key, old[i].val);
	free(old);
}

void u64map_put(struct u64map *m, uint64_t key, void *val)
{
	size_t i;

	if ((m->count + 1) * 4 > m->cap * 3)
		rehash(m, m->cap * 2);
	for (i = hash(key, m->cap); m->slots[i].val; i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].key == key) {
			m->slots[i].val = val;
			return;
		}
	}
	m->slots[i].key = key;
	m->slots[i].val = val;
	m->count++;
}

static size_t find(const struct u64map *m, uint64_t key)
{
	for (size_t i = hash(key, m->cap); m->slots[i].val;
	     i = (i + 1) & (m->cap - 1))
		if (m->slots[i].key == key)
			return i;
	return SIZE_MAX;
}

void *u64map_get(const struct u64map *m, uint64_t key)
{
	size_t i = find(m, key);
	return i == SIZE_MAX ? NULL : m->slots[i].val;
}

static void *remove_at(struct u64map *m, size_t i)
{
	void *val = m->slots[i].val;
	size_t j = i;

	m->slots[i].val = NULL;
	m->count--;
	/* Shift later members of the probe run back so lookups still find
	 * them without tombstones. */
	for (;;) {
		j = (j + 1) & (m->cap - 1);
		if (!m->slots[j].val)
			break;
		size_t h = hash(m->slots[j].key, m->cap);
		bool between = (i <= j) ? (i < h && h <= j) : (i < h || h <= j);
		if (between)
			continue;
		m->slots[i] = m->slots[j];
		m->slots[j].val = NULL;
		i = j;
	}
	return val;
}

void *u64map_del(struct u64map *m, uint64_t key)
{
	size_t i = find(m, key);
	return i == SIZE_MAX ? NULL : remove_at(m, i);
}

size_t u64map_count(const struct u64map *m)
{
	return m->count;
}

void *u64map_pop_any(struct u64map *m, uint64_t *key)
{
	for (size_t i = 0; i < m->cap; i++) {
		if (m->slots[i].val) {
			if (key)
				*key = m->slots[i].key;
			return remove_at(m, i);
		}
	}
	return NULL;
}
