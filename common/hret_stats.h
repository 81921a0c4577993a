/* Pure statistics for comparing accuracies: exact binomial (McNemar) test, normal CDF and
 * quantile, pooled two-proportion z-test, Holm step-down adjustment, a seeded bootstrap of the
 * accuracy difference and minimum detectable effects. No evaluation knowledge, no I/O, no
 * global state: every function is deterministic for its arguments.
 *
 * Counts are uint64_t or double and the arithmetic is done in log space where it could
 * overflow, so n up to 10^6 (and well beyond) is fine. Values are checked against SciPy and
 * statsmodels in tests/unit/test_stats.c (fixture tests/data/stats/scipy_values.json). */
#ifndef HRET_STATS_H
#define HRET_STATS_H

#include <stddef.h>
#include <stdint.h>

#define HRET_STATS_ALPHA 0.05 /* two-sided significance level used by default */
#define HRET_STATS_POWER 0.80 /* power for minimum detectable effects */
#define HRET_STATS_BOOTSTRAP 10000

/* Standard normal CDF, as scipy.stats.norm.cdf (via erfc, accurate in both tails). */
double hret_stats_norm_cdf(double x);
/* Standard normal quantile, as scipy.stats.norm.ppf: Wichura's AS241 (PPND16), ~1e-16
 * relative. -inf at 0, +inf at 1, NaN outside [0, 1]. */
double hret_stats_norm_ppf(double p);

/* Two-sided exact binomial test of k successes in n trials against p = 0.5, as
 * scipy.stats.binomtest(k, n, 0.5).pvalue: the probability of outcomes no more likely than k.
 * For p = 0.5 that is min(1, 2 P(X <= min(k, n - k))). The pmf is Loader's saddle-point form
 * (stirlerr + bd0) in log space and the tail is summed by the pmf ratio, so it is accurate to
 * ~1e-13 relative and underflows to 0 only when the true value is below ~1e-308.
 * n = 0 gives 1 (nothing observed; SciPy refuses n = 0). k > n gives NaN. */
double hret_stats_binom_test(uint64_t k, uint64_t n);

/* McNemar's exact test on the discordant pairs b (A right, B wrong) and c (A wrong, B right):
 * the binomial test of b in b + c trials. 1 when b + c = 0. */
double hret_stats_mcnemar_exact(uint64_t b, uint64_t c);

/* Two-sided pooled two-proportion z-test of k1/n1 against k2/n2, as
 * statsmodels.stats.proportion.proportions_ztest([k1, k2], [n1, n2]): z = (p1 - p2) /
 * sqrt(p(1-p)(1/n1 + 1/n2)) with p = (k1+k2)/(n1+n2). z_out (nullable) gets z. Returns 1
 * (and z = 0) when a group is empty or the pooled proportion is 0 or 1 (statsmodels: NaN). */
double hret_stats_two_prop_z(double k1, double n1, double k2, double n2, double *z_out);

/* Holm's step-down adjustment of m p-values (borrowed) into adj (caller-owned, m entries; may
 * alias p): sorted ascending, adj_(i) = max_{j <= i} min(1, (m - j) p_(j)) with j from 0.
 * Monotone in the original order of the p-values and capped at 1, as
 * statsmodels.stats.multitest.multipletests(p, method="holm"). */
void hret_stats_holm(const double *p, double *adj, size_t m);

/* A seeded splitmix64 generator: the whole state is one word, so a (seed) reproduces a run. */
struct hret_stats_rng {
    uint64_t state;
};

void hret_stats_rng_seed(struct hret_stats_rng *rng, uint64_t seed);
uint64_t hret_stats_rng_next(struct hret_stats_rng *rng);
/* Uniform in the open interval (0, 1) with 53 random bits. */
double hret_stats_rng_uniform(struct hret_stats_rng *rng);
/* A Binomial(n, p) variate, exact: inversion by geometric gaps when n min(p, 1-p) < 10,
 * otherwise Hormann's BTRS transformed rejection (1993). */
uint64_t hret_stats_rng_binomial(struct hret_stats_rng *rng, uint64_t n, double p);

/* Paired outcomes of two runs on the same items. */
struct hret_stats_paired {
    uint64_t both;    /* right in A and in B */
    uint64_t a_only;  /* right in A, wrong in B (discordant "b") */
    uint64_t b_only;  /* wrong in A, right in B (discordant "c") */
    uint64_t neither; /* wrong in both */
};

/* Paired bootstrap of the accuracy difference B - A: each replicate resamples the n items
 * with replacement and records (c* - b*) / n. Resampling n items is a multinomial draw over
 * the four cells, done as two binomials (c* ~ Bin(n, c/n), b* ~ Bin(n - c*, b/(n - c))), so a
 * replicate costs O(1) whatever n is, and the result is the same as resampling items one by
 * one in distribution. Fills out (caller-owned, replicates entries); all zeros when n = 0. */
void hret_stats_bootstrap_paired(const struct hret_stats_paired *t, size_t replicates,
                                 uint64_t seed, double *out);

/* Independent bootstrap of k2/n2 - k1/n1 for runs without shared items: each replicate draws
 * Bin(n1, k1/n1) and Bin(n2, k2/n2). Fills out (caller-owned, replicates entries). */
void hret_stats_bootstrap_unpaired(double k1, double n1, double k2, double n2, size_t replicates,
                                   uint64_t seed, double *out);

/* Minimum detectable effect of a paired (McNemar) design with n pairs of which a fraction
 * psi is discordant, at two-sided alpha and the given power (Connor 1987):
 *
 *     n = (z_a sqrt(psi) + z_b sqrt(psi - d^2))^2 / d^2,  z_a = Phi^-1(1 - alpha/2),
 *                                                          z_b = Phi^-1(power)
 *
 * solved for the difference in accuracy d (a fraction, not points) by bisection on (0, psi].
 * Returns NaN when psi = 0 or n = 0 (the runs never disagree: nothing to scale from) or when
 * even d = psi would not be detectable (too few discordant pairs). */
double hret_stats_mde_paired(double n, double psi, double alpha, double power);

/* Minimum detectable difference of two independent proportions around a common accuracy p
 * with n1 and n2 items: d = (z_a + z_b) sqrt(p (1 - p) (1/n1 + 1/n2)), the normal
 * approximation behind statsmodels' NormalIndPower with effect size d / sqrt(p(1-p)) (the
 * negligible far-tail term left out). NaN when a group is empty or p is 0 or 1. */
double hret_stats_mde_two_prop(double n1, double n2, double p, double alpha, double power);

#endif
