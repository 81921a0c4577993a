/* The fake model's one decision, shared with tests so they can compute the exact expected
 * accuracy. A prompt whose answer-key hash is h (hret_hash_fnv1a64 of the prompt bytes) is
 * answered correctly iff hret_fake_decide(h, seed) < accuracy.
 *
 * decide(h, seed) = mix64(h XOR (seed * 0x9E3779B97F4A7C15)) / 2^64, where mix64 is the
 * splitmix64 finaliser and the division keeps the top 53 bits so the result is a double in
 * [0, 1) exactly: (mix64(...) >> 11) * 2^-53. In Python:
 *
 *     M = 2**64 - 1
 *     def mix64(z):
 *         z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
 *         z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
 *         return z ^ (z >> 31)
 *     def decide(h, seed):
 *         return (mix64(h ^ ((seed * 0x9E3779B97F4A7C15) & M)) >> 11) * 2.0**-53
 */
#ifndef HRET_FAKE_DECIDE_H
#define HRET_FAKE_DECIDE_H

#include <stdint.h>

/* splitmix64's output finaliser: a bijection that spreads every input bit over the output. */
static inline uint64_t hret_fake_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) for a given (prompt hash, seed); see the formula above. */
static inline double hret_fake_decide(uint64_t prompt_hash, uint64_t seed)
{
    uint64_t m = hret_fake_mix64(prompt_hash ^ (seed * 0x9E3779B97F4A7C15ULL));
    return (double)(m >> 11) * 0x1.0p-53;
}

#endif
