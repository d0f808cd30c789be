#include "scorr/rng.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

static inline void mulhilo(uint32_t a, uint32_t b, uint32_t *hi, uint32_t *lo)
{
    uint64_t p = (uint64_t)a * b;
    *hi = (uint32_t)(p >> 32);
    *lo = (uint32_t)p;
}

void scorr_philox4x32(const uint32_t key[2], const uint32_t ctr[4], uint32_t out[4])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        uint32_t hi0, lo0, hi1, lo1;
        mulhilo(PHILOX_M0, c0, &hi0, &lo0);
        mulhilo(PHILOX_M1, c2, &hi1, &lo1);
        uint32_t n0 = hi1 ^ c1 ^ k0;
        uint32_t n1 = lo1;
        uint32_t n2 = hi0 ^ c3 ^ k1;
        uint32_t n3 = lo0;
        c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

void scorr_rng_init(struct scorr_rng *r, uint64_t seed, uint32_t stream,
                    uint32_t a, uint32_t b, uint32_t c)
{
    /* Mix the stream into the key so (seed, stream) pairs never collide. */
    r->key[0] = (uint32_t)seed;
    r->key[1] = (uint32_t)(seed >> 32) ^ (stream * 0x85EBCA6Bu);
    r->ctr[0] = a;
    r->ctr[1] = b;
    r->ctr[2] = c;
    r->ctr[3] = 0;
    r->left = 0;
}

uint32_t scorr_rng_u32(struct scorr_rng *r)
{
    if (r->left == 0) {
        scorr_philox4x32(r->key, r->ctr, r->buf);
        r->ctr[3]++;
        r->left = 4;
    }
    return r->buf[4 - r->left--];
}

uint64_t scorr_rng_u64(struct scorr_rng *r)
{
    uint64_t hi = scorr_rng_u32(r);
    return (hi << 32) | scorr_rng_u32(r);
}

float scorr_rng_uniform(struct scorr_rng *r)
{
    return (float)(scorr_rng_u32(r) >> 8) * (1.0f / 16777216.0f);
}

double scorr_rng_uniform_f64(struct scorr_rng *r)
{
    return (double)(scorr_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

float scorr_rng_range(struct scorr_rng *r, float lo, float hi)
{
    return lo + (hi - lo) * scorr_rng_uniform(r);
}

uint32_t scorr_rng_below(struct scorr_rng *r, uint32_t n)
{
    /* Lemire's nearly divisionless method with rejection: unbiased. */
    uint64_t m = (uint64_t)scorr_rng_u32(r) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t t = (uint32_t)(-n) % n;
        while (low < t) {
            m = (uint64_t)scorr_rng_u32(r) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

float scorr_rng_normal(struct scorr_rng *r)
{
    double u1 = scorr_rng_uniform_f64(r);
    double u2 = scorr_rng_uniform_f64(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

void scorr_rng_permutation(struct scorr_rng *r, int32_t *perm, int32_t n)
{
    for (int32_t i = 0; i < n; i++) perm[i] = i;
    for (int32_t i = n - 1; i > 0; i--) {
        int32_t j = (int32_t)scorr_rng_below(r, (uint32_t)i + 1);
        int32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}
