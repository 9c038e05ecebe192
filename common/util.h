/* Allocation helpers that abort on out-of-memory (a plugin cannot do
 * anything useful without memory, and half-handled OOM paths are where
 * corruption hides), plus small string helpers. */
#ifndef HIVE_COMMON_UTIL_H
#define HIVE_COMMON_UTIL_H
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define UNUSED __attribute__((unused))
#define PRINTF_FMT(a, b) __attribute__((format(printf, a, b)))
#define WARN_UNUSED __attribute__((warn_unused_result))

void *xmalloc(size_t n);
void *xzalloc(size_t n);
void *xrealloc(void *p, size_t n);
/* Grow *arr to hold at least @need elements of @elem bytes; *cap tracks the
 * allocated count. */
void xgrow(void *arrp, size_t *cap, size_t need, size_t elem);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string the caller frees. */
char *xfmt(const char *fmt, ...) PRINTF_FMT(1, 2);
char *xvfmt(const char *fmt, va_list ap);

bool str_starts_with(const char *s, const char *prefix);
bool str_ends_with(const char *s, const char *suffix);

/* Parse a whole string as a signed/unsigned 64-bit integer or a finite
 * double; false on trailing garbage, overflow or empty input. */
bool str_to_i64(const char *s, long long *out) WARN_UNUSED;
bool str_to_u64(const char *s, unsigned long long *out) WARN_UNUSED;
bool str_to_double(const char *s, double *out) WARN_UNUSED;

#endif
