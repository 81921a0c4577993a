#include "hret_stats.h"

#include <math.h>
#include <stdlib.h>

#include "hret_mem.h"

#define LN_SQRT_2PI 0.918938533204672741780329736406 /* log(sqrt(2 pi)) */
#define TWO_PI 6.283185307179586476925286766559
#define SQRT1_2 0.707106781186547524400844362104849
#define LN_2 0.693147180559945309417232121458

/* ---- normal distribution ---- */

double hret_stats_norm_cdf(double x)
{
    if (isnan(x)) {
        return x;
    }
    return 0.5 * erfc(-x * SQRT1_2); /* as SciPy's ndtr: x * (1/sqrt 2), not x / sqrt 2 */
}

static double horner(const double *c, int degree, double x)
{
    double v = c[degree];
    for (int i = degree - 1; i >= 0; i--) {
        v = v * x + c[i];
    }
    return v;
}

/* Wichura, Algorithm AS 241, Applied Statistics 37(3), 1988: PPND16. */
double hret_stats_norm_ppf(double p)
{
    static const double a[8] = {3.3871328727963666080e0,  1.3314166789178437745e+2,
                                1.9715909503065514427e+3, 1.3731693765509461125e+4,
                                4.5921953931549871457e+4, 6.7265770927008700853e+4,
                                3.3430575583588128105e+4, 2.5090809287301226727e+3};
    static const double b[8] = {1.0,
                                4.2313330701600911252e+1,
                                6.8718700749205790830e+2,
                                5.3941960214247511077e+3,
                                2.1213794301586595867e+4,
                                3.9307895800092710610e+4,
                                2.8729085735721942674e+4,
                                5.2264952788528545610e+3};
    static const double c[8] = {1.42343711074968357734e0,  4.63033784615654529590e0,
                                5.76949722146069140550e0,  3.64784832476320460504e0,
                                1.27045825245236838258e0,  2.41780725177450611770e-1,
                                2.27238449892691845833e-2, 7.74545014278341407640e-4};
    static const double d[8] = {1.0,
                                2.05319162663775882187e0,
                                1.67638483018380384940e0,
                                6.89767334985100004550e-1,
                                1.48103976427480074590e-1,
                                1.51986665636164571966e-2,
                                5.47593808499534494600e-4,
                                1.05075007164441684324e-9};
    static const double e[8] = {6.65790464350110377720e0,  5.46378491116411436990e0,
                                1.78482653991729133580e0,  2.96560571828504891230e-1,
                                2.65321895265761230930e-2, 1.24266094738807843860e-3,
                                2.71155556874348757815e-5, 2.01033439929228813265e-7};
    static const double f[8] = {1.0,
                                5.99832206555887937690e-1,
                                1.36929880922735805310e-1,
                                1.48753612908506148525e-2,
                                7.86869131145613259100e-4,
                                1.84631831751005468180e-5,
                                1.42151175831644588870e-7,
                                2.04426310338993978564e-15};
    if (isnan(p) || p < 0 || p > 1) {
        return NAN;
    }
    if (p == 0) {
        return -INFINITY;
    }
    if (p == 1) {
        return INFINITY;
    }
    double q = p - 0.5;
    if (fabs(q) <= 0.425) {
        double r = 0.180625 - q * q;
        return q * horner(a, 7, r) / horner(b, 7, r);
    }
    double r = sqrt(-log(q < 0 ? p : 1 - p));
    double v = r <= 5 ? horner(c, 7, r - 1.6) / horner(d, 7, r - 1.6)
                      : horner(e, 7, r - 5) / horner(f, 7, r - 5);
    return q < 0 ? -v : v;
}

/* ---- binomial test ---- */

/* log(n!) - log(sqrt(2 pi n) (n/e)^n), Stirling's error (Loader 2000). */
static double stirlerr(double n)
{
    static const double s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260, s3 = 1.0 / 1680,
                        s4 = 1.0 / 1188;
    if (n <= 15) { /* small: the cancellation costs ~1e-15 absolute, fine in an exponent */
        return lgamma(n + 1) - (n + 0.5) * log(n) + n - LN_SQRT_2PI;
    }
    double nn = n * n;
    if (n > 500) {
        return (s0 - s1 / nn) / n;
    }
    if (n > 80) {
        return (s0 - (s1 - s2 / nn) / nn) / n;
    }
    if (n > 35) {
        return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n;
    }
    return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n;
}

/* x log(x / np) + np - x, without cancellation when x is close to np (Loader 2000). */
static double bd0(double x, double np)
{
    if (fabs(x - np) < 0.1 * (x + np)) {
        double v = (x - np) / (x + np), s = (x - np) * v, ej = 2 * x * v, v2 = v * v;
        for (int j = 1; j < 1000; j++) {
            ej *= v2;
            double s1 = s + ej / (2 * j + 1);
            if (s1 == s) {
                return s1;
            }
            s = s1;
        }
        return s;
    }
    return x * log(x / np) + np - x;
}

/* log P(X = k) for X ~ Binomial(n, 1/2). */
static double log_pmf_half(double k, double n)
{
    if (k == 0 || k == n) {
        return -n * LN_2;
    }
    double lc = stirlerr(n) - stirlerr(k) - stirlerr(n - k) - bd0(k, n / 2) - bd0(n - k, n / 2);
    return lc + 0.5 * log(n / (TWO_PI * k * (n - k)));
}

/* log P(X <= m) for X ~ Binomial(n, 1/2), m <= n / 2: the pmf at m times the sum of the ratios
 * pmf(i) / pmf(m), i = m, m - 1, ..., which fall geometrically below the mode. */
static double log_cdf_half(uint64_t m, uint64_t n)
{
    double sum = 1, term = 1;
    for (uint64_t i = m; i > 0; i--) {
        term *= (double)i / (double)(n - i + 1); /* pmf(i - 1) / pmf(i) */
        sum += term;
        if (term < sum * 1e-17) {
            break;
        }
    }
    return log_pmf_half((double)m, (double)n) + log(sum);
}

double hret_stats_binom_test(uint64_t k, uint64_t n)
{
    if (k > n) {
        return NAN;
    }
    if (n == 0 || 2 * k == n) {
        return 1;
    }
    uint64_t m = k < n - k ? k : n - k;
    double p = 2 * exp(log_cdf_half(m, n));
    return p < 1 ? p : 1;
}

double hret_stats_mcnemar_exact(uint64_t b, uint64_t c)
{
    return hret_stats_binom_test(b < c ? b : c, b + c);
}

/* ---- two proportions ---- */

double hret_stats_two_prop_z(double k1, double n1, double k2, double n2, double *z_out)
{
    double z = 0, p = 1;
    if (n1 > 0 && n2 > 0) {
        double pooled = (k1 + k2) / (n1 + n2);
        double se = sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
        if (se > 0) {
            z = (k1 / n1 - k2 / n2) / se;
            p = erfc(fabs(z) * SQRT1_2); /* 2 (1 - Phi(|z|)) without cancellation */
        }
    }
    if (z_out != NULL) {
        *z_out = z;
    }
    return p < 1 ? p : 1;
}

/* ---- Holm ---- */

struct ranked {
    double p;
    size_t index;
};

static int cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->p != y->p) {
        return (x->p > y->p) - (x->p < y->p);
    }
    return (x->index > y->index) - (x->index < y->index); /* ties keep their order */
}

void hret_stats_holm(const double *p, double *adj, size_t m)
{
    if (m == 0) {
        return;
    }
    struct ranked *r = hret_xmalloc(m * sizeof *r);
    for (size_t i = 0; i < m; i++) {
        r[i] = (struct ranked){p[i], i};
    }
    qsort(r, m, sizeof *r, cmp_ranked);
    double running = 0;
    for (size_t j = 0; j < m; j++) {
        double v = (double)(m - j) * r[j].p;
        v = v < 1 ? v : 1;
        running = v > running ? v : running;
        adj[r[j].index] = running;
    }
    free(r);
}

/* ---- random numbers ---- */

void hret_stats_rng_seed(struct hret_stats_rng *rng, uint64_t seed)
{
    rng->state = seed;
}

uint64_t hret_stats_rng_next(struct hret_stats_rng *rng)
{
    uint64_t z = (rng->state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

double hret_stats_rng_uniform(struct hret_stats_rng *rng)
{
    return ((double)(hret_stats_rng_next(rng) >> 11) + 0.5) * 0x1.0p-53;
}

/* Number of geometric gaps that fit in n trials: Binomial(n, p), cost O(np + 1). */
static uint64_t binomial_inversion(struct hret_stats_rng *rng, uint64_t n, double p)
{
    double lq = log1p(-p), sum = 0;
    uint64_t k = 0;
    for (;;) {
        sum += ceil(log(hret_stats_rng_uniform(rng)) / lq);
        if (sum > (double)n) {
            return k;
        }
        k++;
    }
}

/* log(k!) - ((k + 1/2) log(k + 1) - (k + 1) + log sqrt(2 pi)), as Hormann tabulates it. */
static double fc(double k)
{
    static const double table[10] = {0.08106146679532726, 0.04134069595540929, 0.02767792568499834,
                                     0.02079067210376509, 0.01664469118982119, 0.01387612882307075,
                                     0.01189670994589177, 0.01041126526197209, 0.009255462182712733,
                                     0.008330563433362871};
    if (k <= 9) {
        return table[(int)k];
    }
    double k1sq = (k + 1) * (k + 1);
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / k1sq) / k1sq) / (k + 1);
}

/* Hormann, "The generation of binomial random variates", J. Stat. Comput. Simul. 46, 1993:
 * BTRS, for n p >= 10 and p <= 1/2. */
static uint64_t binomial_btrs(struct hret_stats_rng *rng, uint64_t n_int, double p)
{
    double n = (double)n_int, spq = sqrt(n * p * (1 - p));
    double b = 1.15 + 2.53 * spq, a = -0.0873 + 0.0248 * b + 0.01 * p, c = n * p + 0.5;
    double alpha = (2.83 + 5.1 / b) * spq, v_r = 0.92 - 4.2 / b, r = p / (1 - p);
    double m = floor((n + 1) * p);
    for (;;) {
        double u = hret_stats_rng_uniform(rng) - 0.5, v = hret_stats_rng_uniform(rng);
        double us = 0.5 - fabs(u), k = floor((2 * a / us + b) * u + c);
        if (k < 0 || k > n) {
            continue;
        }
        if (us >= 0.07 && v <= v_r) {
            return (uint64_t)k;
        }
        v = log(v * alpha / (a / (us * us) + b));
        double h = (m + 0.5) * log((m + 1) / (r * (n - m + 1))) +
                   (n + 1) * log((n - m + 1) / (n - k + 1)) +
                   (k + 0.5) * log(r * (n - k + 1) / (k + 1)) + fc(m) + fc(n - m) - fc(k) -
                   fc(n - k);
        if (v <= h) {
            return (uint64_t)k;
        }
    }
}

uint64_t hret_stats_rng_binomial(struct hret_stats_rng *rng, uint64_t n, double p)
{
    if (n == 0 || !(p > 0)) {
        return 0;
    }
    if (p >= 1) {
        return n;
    }
    if (p > 0.5) {
        return n - hret_stats_rng_binomial(rng, n, 1 - p);
    }
    if ((double)n * p < 10) {
        return binomial_inversion(rng, n, p);
    }
    return binomial_btrs(rng, n, p);
}

/* ---- bootstrap ---- */

void hret_stats_bootstrap_paired(const struct hret_stats_paired *t, size_t replicates,
                                 uint64_t seed, double *out)
{
    uint64_t n = t->both + t->a_only + t->b_only + t->neither;
    struct hret_stats_rng rng;
    hret_stats_rng_seed(&rng, seed);
    for (size_t i = 0; i < replicates; i++) {
        if (n == 0) {
            out[i] = 0;
            continue;
        }
        uint64_t c = hret_stats_rng_binomial(&rng, n, (double)t->b_only / (double)n);
        uint64_t rest = n - t->b_only; /* items that are not "c" in the sample */
        uint64_t b =
            rest > 0 ? hret_stats_rng_binomial(&rng, n - c, (double)t->a_only / (double)rest) : 0;
        out[i] = ((double)c - (double)b) / (double)n;
    }
}

void hret_stats_bootstrap_unpaired(double k1, double n1, double k2, double n2, size_t replicates,
                                   uint64_t seed, double *out)
{
    struct hret_stats_rng rng;
    hret_stats_rng_seed(&rng, seed);
    for (size_t i = 0; i < replicates; i++) {
        double x1 = n1 > 0 ? (double)hret_stats_rng_binomial(&rng, (uint64_t)n1, k1 / n1) : 0;
        double x2 = n2 > 0 ? (double)hret_stats_rng_binomial(&rng, (uint64_t)n2, k2 / n2) : 0;
        out[i] = (n2 > 0 ? x2 / n2 : 0) - (n1 > 0 ? x1 / n1 : 0);
    }
}

/* ---- minimum detectable effects ---- */

double hret_stats_mde_paired(double n, double psi, double alpha, double power)
{
    if (!(n > 0) || !(psi > 0) || psi > 1) {
        return NAN;
    }
    double za = hret_stats_norm_ppf(1 - alpha / 2), zb = hret_stats_norm_ppf(power);
    double sn = sqrt(n), spsi = sqrt(psi);
    /* g(d) = d sqrt(n) - z_a sqrt(psi) - z_b sqrt(psi - d^2) increases on (0, psi]. */
    double g_hi = psi * sn - za * spsi - zb * sqrt(psi - psi * psi);
    if (g_hi < 0) {
        return NAN;
    }
    double lo = 0, hi = psi;
    for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
        double mid = 0.5 * (lo + hi);
        double g = mid * sn - za * spsi - zb * sqrt(fmax(psi - mid * mid, 0));
        if (g < 0) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return 0.5 * (lo + hi);
}

double hret_stats_mde_two_prop(double n1, double n2, double p, double alpha, double power)
{
    if (!(n1 > 0) || !(n2 > 0) || !(p > 0) || !(p < 1)) {
        return NAN;
    }
    double za = hret_stats_norm_ppf(1 - alpha / 2), zb = hret_stats_norm_ppf(power);
    return (za + zb) * sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
}
