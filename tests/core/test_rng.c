/* Philox4x32-10 against the Random123 known-answer vectors, plus the
 * properties scorr relies on: streams are pure functions of their key and
 * counter, permutations are permutations, uniforms are in range. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scorr/rng.h"

int main(void)
{
    static const uint32_t kat[3][10] = {
        /* ctr[4], key[2], expected[4] */
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
         0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
         0x94fdcceb, 0x5001e420, 0x24126ea1},
    };
    for (int t = 0; t < 3; t++) {
        uint32_t out[4];
        scorr_philox4x32(&kat[t][4], &kat[t][0], out);
        for (int i = 0; i < 4; i++)
            CHECK(out[i] == kat[t][6 + i], "KAT %d word %d: got %08x want %08x", t, i, out[i],
                  kat[t][6 + i]);
    }

    /* Same key and counter, same numbers; another sample index, other numbers. */
    struct scorr_rng a, b, c;
    scorr_rng_init(&a, 42, SCORR_RNG_AUGMENT, 3, 17, 0);
    scorr_rng_init(&b, 42, SCORR_RNG_AUGMENT, 3, 17, 0);
    scorr_rng_init(&c, 42, SCORR_RNG_AUGMENT, 3, 18, 0);
    int same = 1, differ = 0;
    for (int i = 0; i < 100; i++) {
        uint32_t x = scorr_rng_u32(&a), y = scorr_rng_u32(&b), z = scorr_rng_u32(&c);
        same &= x == y;
        differ += x != z;
    }
    CHECK(same, "identical streams diverged");
    CHECK(differ > 95, "neighbouring streams too similar (%d of 100 differ)", differ);

    /* Streams with another stream id differ from the first word. */
    scorr_rng_init(&a, 42, SCORR_RNG_ORDER, 3, 17, 0);
    scorr_rng_init(&b, 42, SCORR_RNG_AUGMENT, 3, 17, 0);
    CHECK(scorr_rng_u32(&a) != scorr_rng_u32(&b), "stream id does not change the numbers");

    /* Uniform range and mean; normal mean/variance. */
    scorr_rng_init(&a, 7, SCORR_RNG_TEST, 0, 0, 0);
    double sum = 0, sn = 0, sn2 = 0;
    int in_range = 1;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        float u = scorr_rng_uniform(&a);
        in_range &= u >= 0.0f && u < 1.0f;
        sum += u;
        float g = scorr_rng_normal(&a);
        sn += g;
        sn2 += (double)g * g;
    }
    CHECK(in_range, "uniform out of [0,1)");
    CHECK(fabs(sum / n - 0.5) < 0.005, "uniform mean %f", sum / n);
    CHECK(fabs(sn / n) < 0.01 && fabs(sn2 / n - 1.0) < 0.02, "normal mean %f var %f", sn / n,
          sn2 / n);

    /* below(n) is in range and hits every value. */
    int hist[7] = {0};
    for (int i = 0; i < 7000; i++) hist[scorr_rng_below(&a, 7)]++;
    for (int k = 0; k < 7; k++) CHECK(hist[k] > 800 && hist[k] < 1200, "below(7) bin %d: %d", k, hist[k]);

    /* Permutation is a permutation and depends only on the key/counter. */
    int32_t p[1000], q[1000];
    char seen[1000];
    scorr_rng_init(&a, 9, SCORR_RNG_ORDER, 5, 0, 0);
    scorr_rng_permutation(&a, p, 1000);
    scorr_rng_init(&b, 9, SCORR_RNG_ORDER, 5, 0, 0);
    scorr_rng_permutation(&b, q, 1000);
    memset(seen, 0, sizeof seen);
    int perm_ok = 1;
    for (int i = 0; i < 1000; i++) {
        if (p[i] < 0 || p[i] >= 1000 || seen[p[i]]) perm_ok = 0;
        else seen[p[i]] = 1;
    }
    CHECK(perm_ok, "not a permutation");
    CHECK(memcmp(p, q, sizeof p) == 0, "permutation not reproducible");
    return scorr_test_finish("test_core_rng");
}
