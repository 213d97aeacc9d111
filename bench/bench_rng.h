/* The benchmarks' random numbers: xorshift64* (Vigna), seeded from the command line so that
 * a run can be repeated. Not for anything but picking test inputs. */
#ifndef BENCH_RNG_H
#define BENCH_RNG_H

#include <stdint.h>

static uint64_t bench_rng_state = 0x9e3779b97f4a7c15ULL;

/* Seed: any number (made odd, never zero). */
static inline void bench_rng_seed(uint64_t seed)
{
	bench_rng_state = seed | 1;
}

static inline uint64_t bench_rng(void)
{
	uint64_t x = bench_rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	bench_rng_state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [0, 1). */
static inline double bench_rng_unit(void)
{
	return (double)(bench_rng() >> 11) / (double)(1ULL << 53);
}

#endif
