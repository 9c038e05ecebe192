/* Open-addressing hash map from uint64_t keys to pointers (used for
 * in-flight request ids, where counts reach the tens of thousands). */
#ifndef HIVE_COMMON_U64MAP_H
#define HIVE_COMMON_U64MAP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u64map;

struct u64map *u64map_new(void);
/* Frees the table only, not the values. */
void u64map_free(struct u64map *m);
/* Insert or replace. @val must not be NULL. */
void u64map_put(struct u64map *m, uint64_t key, void *val);
void *u64map_get(const struct u64map *m, uint64_t key);
/* Remove and return the value, or NULL if absent. */
void *u64map_del(struct u64map *m, uint64_t key);
size_t u64map_count(const struct u64map *m);
/* Remove and return any one value (NULL when empty): drains the map. */
void *u64map_pop_any(struct u64map *m, uint64_t *key);

#endif
