/* Small numeric helpers shared by the engine modules. */
#ifndef HIVE_ENGINE_NUM_H
#define HIVE_ENGINE_NUM_H
#include <stdint.h>

static inline double clampd(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

static inline int64_t clampi(int64_t x, int64_t lo, int64_t hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

#endif
