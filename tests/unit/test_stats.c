/* hret_stats (and hret_metrics_wilson) against values computed with SciPy and statsmodels at
 * development time: tests/data/stats/scipy_values.json, made by gen_scipy_values.py in the
 * same folder. SciPy is not needed here. HRET_STATS_FIXTURE names another fixture (the
 * integration test passes one made with live SciPy and random cases). */
#include "hret_test.h"

#include <math.h>
#include <string.h>

#include "hret_buf.h"
#include "hret_json.h"
#include "hret_metrics.h"
#include "hret_stats.h"

static cJSON *fixture;

static int load_fixture(void **state)
{
    (void)state;
    const char *path = getenv("HRET_STATS_FIXTURE");
    if (path == NULL || path[0] == '\0') {
        path = hret_test_path("tests/data/stats/scipy_values.json");
    }
    struct hret_buf b;
    struct hret_err err = HRET_ERR_INIT;
    hret_buf_init(&b, (size_t)64 << 20);
    if (hret_buf_append_file(&b, path, &err) == HRET_OK) {
        fixture = hret_json_parse(hret_buf_str(&b), b.len, b.len + 1, &err);
    }
    hret_buf_fini(&b);
    if (fixture == NULL) {
        fprintf(stderr, "cannot load %s: %s\n", path, err.msg);
        return -1;
    }
    return 0;
}

static int free_fixture(void **state)
{
    (void)state;
    cJSON_Delete(fixture);
    return 0;
}

static const cJSON *cases(const char *name)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(fixture, name);
    if (!cJSON_IsArray(c) || cJSON_GetArraySize(c) == 0) {
        fail_msg("fixture has no \"%s\" cases", name);
    }
    return c;
}

static double num(const cJSON *row, int i)
{
    const cJSON *v = cJSON_GetArrayItem(row, i);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* |got - want| <= rtol * |want| + atol; NaN only matches NaN. */
static void expect_close(const char *what, double got, double want, double rtol, double atol)
{
    if (isnan(want) || isnan(got)) {
        if (!(isnan(want) && isnan(got))) {
            fail_msg("%s: got %.17g, want %.17g", what, got, want);
        }
        return;
    }
    if (isinf(want) || isinf(got)) {
        if (got != want) {
            fail_msg("%s: got %.17g, want %.17g", what, got, want);
        }
        return;
    }
    if (fabs(got - want) > rtol * fabs(want) + atol) {
        fail_msg("%s: got %.17g, want %.17g (rel err %.3g)", what, got, want,
                 want != 0 ? fabs(got - want) / fabs(want) : fabs(got - want));
    }
}

static void test_binomtest_matches_scipy(void **state)
{
    (void)state;
    const cJSON *row;
    size_t count = 0;
    cJSON_ArrayForEach(row, cases("binomtest"))
    {
        uint64_t k = (uint64_t)num(row, 0), n = (uint64_t)num(row, 1);
        char what[80];
        snprintf(what, sizeof what, "binomtest(%llu, %llu)", (unsigned long long)k,
                 (unsigned long long)n);
        expect_close(what, hret_stats_binom_test(k, n), num(row, 2), 1e-10, 1e-305);
        count++;
    }
    assert_true(count >= 100);
}

static void test_mcnemar_matches_statsmodels(void **state)
{
    (void)state;
    const cJSON *row;
    cJSON_ArrayForEach(row, cases("mcnemar"))
    {
        uint64_t b = (uint64_t)num(row, 0), c = (uint64_t)num(row, 1);
        expect_close("mcnemar", hret_stats_mcnemar_exact(b, c), num(row, 2), 1e-10, 1e-305);
        expect_close("mcnemar symmetric", hret_stats_mcnemar_exact(c, b), num(row, 2), 1e-10,
                     1e-305);
    }
}

static void test_binomtest_edges(void **state)
{
    (void)state;
    assert_true(hret_stats_binom_test(0, 0) == 1.0); /* nothing observed */
    assert_true(isnan(hret_stats_binom_test(3, 2)));
    assert_true(hret_stats_binom_test(500000, 1000000) == 1.0);
    assert_true(hret_stats_binom_test(1, 1) == 1.0);
    assert_true(hret_stats_mcnemar_exact(0, 0) == 1.0);
    /* by hand: 2 * P(X <= 0 | n = 6) = 2 / 64; 2 * P(X <= 1 | n = 10) = 22 / 1024 */
    expect_close("binom(0,6)", hret_stats_binom_test(0, 6), 2.0 / 64, 1e-15, 0);
    expect_close("binom(1,10)", hret_stats_binom_test(1, 10), 22.0 / 1024, 1e-14, 0);
    /* extreme counts stay finite and monotone: n = 10^7 */
    double p1 = hret_stats_binom_test(4990000, 10000000);
    double p2 = hret_stats_binom_test(4980000, 10000000);
    assert_true(p1 > p2 && p2 > 0 && p1 < 1);
}

static void test_norm_matches_scipy(void **state)
{
    (void)state;
    const cJSON *row;
    cJSON_ArrayForEach(row, cases("norm_cdf"))
    {
        /* the tails are conditioned like x^2: 1e-12 relative is the double-precision limit */
        expect_close("norm.cdf", hret_stats_norm_cdf(num(row, 0)), num(row, 1), 1e-12, 1e-300);
    }
    cJSON_ArrayForEach(row, cases("norm_ppf"))
    {
        char what[64];
        snprintf(what, sizeof what, "norm.ppf(%.17g)", num(row, 0));
        expect_close(what, hret_stats_norm_ppf(num(row, 0)), num(row, 1), 1e-13, 1e-15);
    }
    assert_true(hret_stats_norm_ppf(0) == -INFINITY);
    assert_true(hret_stats_norm_ppf(1) == INFINITY);
    assert_true(isnan(hret_stats_norm_ppf(-0.1)) && isnan(hret_stats_norm_ppf(NAN)));
    expect_close("ppf(0.975)", hret_stats_norm_ppf(0.975), 1.959963984540054, 1e-15, 0);
}

static void test_wilson_matches_statsmodels(void **state)
{
    (void)state;
    const cJSON *row;
    cJSON_ArrayForEach(row, cases("wilson"))
    {
        double lo, hi;
        hret_metrics_wilson(num(row, 0), num(row, 1), hret_stats_norm_ppf(0.975), &lo, &hi);
        expect_close("wilson lo", lo, num(row, 2), 1e-12, 1e-15);
        expect_close("wilson hi", hi, num(row, 3), 1e-12, 1e-15);
    }
}

static void test_two_prop_matches_statsmodels(void **state)
{
    (void)state;
    const cJSON *row;
    cJSON_ArrayForEach(row, cases("two_prop_z"))
    {
        double z;
        double p = hret_stats_two_prop_z(num(row, 0), num(row, 1), num(row, 2), num(row, 3), &z);
        expect_close("two-proportion z", z, num(row, 4), 1e-12, 1e-14);
        expect_close("two-proportion p", p, num(row, 5), 1e-10, 1e-300);
    }
    double z = 7;
    assert_true(hret_stats_two_prop_z(0, 10, 0, 10, &z) == 1.0 && z == 0);
    assert_true(hret_stats_two_prop_z(3, 0, 1, 10, NULL) == 1.0);
}

static void test_holm_matches_statsmodels(void **state)
{
    (void)state;
    const cJSON *row;
    cJSON_ArrayForEach(row, cases("holm"))
    {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(row, "p");
        const cJSON *adj = cJSON_GetObjectItemCaseSensitive(row, "adj");
        size_t m = (size_t)cJSON_GetArraySize(p);
        double in[64], out[64];
        assert_true(m <= 64 && m == (size_t)cJSON_GetArraySize(adj));
        for (size_t i = 0; i < m; i++) {
            in[i] = num(p, (int)i);
        }
        hret_stats_holm(in, out, m);
        for (size_t i = 0; i < m; i++) {
            expect_close("holm", out[i], num(adj, (int)i), 1e-14, 1e-15);
        }
        hret_stats_holm(in, in, m); /* in place */
        for (size_t i = 0; i < m; i++) {
            assert_true(in[i] == out[i] && out[i] <= 1.0);
        }
    }
    hret_stats_holm(NULL, NULL, 0);
}

static void test_mde_matches_scipy(void **state)
{
    (void)state;
    const double a = HRET_STATS_ALPHA, pw = HRET_STATS_POWER;
    const cJSON *row;
    cJSON_ArrayForEach(row, cases("mde_two_prop"))
    {
        /* statsmodels keeps the far tail the closed form leaves out: ~1e-6 relative or less */
        expect_close("mde two-proportion",
                     hret_stats_mde_two_prop(num(row, 0), num(row, 1), num(row, 2), a, pw),
                     num(row, 3), 1e-5, 0);
    }
    cJSON_ArrayForEach(row, cases("mde_paired"))
    {
        double n = num(row, 0), psi = num(row, 1), d = hret_stats_mde_paired(n, psi, a, pw);
        expect_close("mde paired", d, num(row, 2), 1e-9, 1e-15);
        if (!isnan(d)) { /* plugs back into Connor's formula */
            double za = hret_stats_norm_ppf(1 - a / 2), zb = hret_stats_norm_ppf(pw);
            double s = za * sqrt(psi) + zb * sqrt(psi - d * d);
            expect_close("Connor n", s * s / (d * d), n, 1e-9, 0);
        }
    }
    assert_true(isnan(hret_stats_mde_paired(1000, 0, a, pw)));
    assert_true(isnan(hret_stats_mde_paired(0, 0.2, a, pw)));
    assert_true(isnan(hret_stats_mde_two_prop(100, 100, 1.0, a, pw)));
    /* more pairs, smaller detectable effect */
    assert_true(hret_stats_mde_paired(4000, 0.2, a, pw) < hret_stats_mde_paired(1000, 0.2, a, pw));
}

/* Pearson chi-square of many draws of Bin(n, p) against the exact pmf; tails merged until
 * every bin expects >= 5. Fails past the 1e-6 quantile (Wilson-Hilferty). */
static void check_binomial_sampler(uint64_t n, double p, uint64_t seed)
{
    enum { DRAWS = 200000 };
    size_t nb = (size_t)n + 1;
    double *obs = calloc(nb, sizeof *obs), *exp_ = calloc(nb, sizeof *exp_);
    assert_non_null(obs);
    assert_non_null(exp_);
    struct hret_stats_rng rng;
    hret_stats_rng_seed(&rng, seed);
    double sum = 0;
    for (int i = 0; i < DRAWS; i++) {
        uint64_t x = hret_stats_rng_binomial(&rng, n, p);
        assert_true(x <= n);
        obs[x]++;
        sum += (double)x;
    }
    for (size_t k = 0; k < nb; k++) {
        double lp = lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1) +
                    (double)k * log(p) + (double)(n - k) * log1p(-p);
        exp_[k] = DRAWS * exp(lp);
    }
    /* merge neighbouring values into bins expecting >= 5; a short tail joins the last bin */
    size_t bins = 0;
    double eo = 0, ee = 0;
    for (size_t k = 0; k < nb; k++) {
        eo += obs[k];
        ee += exp_[k];
        if (ee >= 5) {
            obs[bins] = eo;
            exp_[bins++] = ee;
            eo = ee = 0;
        }
    }
    assert_true(bins >= 2);
    obs[bins - 1] += eo;
    exp_[bins - 1] += ee;
    double chi2 = 0;
    for (size_t i = 0; i < bins; i++) {
        chi2 += (obs[i] - exp_[i]) * (obs[i] - exp_[i]) / exp_[i];
    }
    int df = (int)bins - 1;
    double h = 2.0 / (9 * df), crit = df * pow(1 - h + 4.753 * sqrt(h), 3);
    if (chi2 > crit) {
        fail_msg("Bin(%llu, %g): chi2 %.1f > %.1f on %d df", (unsigned long long)n, p, chi2, crit,
                 df);
    }
    double mean = sum / DRAWS, sd = sqrt((double)n * p * (1 - p) / DRAWS);
    assert_true(fabs(mean - (double)n * p) < 5 * sd + 1e-12);
    free(obs);
    free(exp_);
}

static void test_binomial_sampler(void **state)
{
    (void)state;
    check_binomial_sampler(50, 0.05, 1);    /* inversion */
    check_binomial_sampler(200, 0.3, 2);    /* BTRS */
    check_binomial_sampler(2000, 0.015, 3); /* BTRS, np = 30 */
    check_binomial_sampler(1000, 0.93, 4);  /* mirrored */
    check_binomial_sampler(40, 0.2, 5);     /* np = 8: inversion */
    struct hret_stats_rng rng;
    hret_stats_rng_seed(&rng, 9);
    assert_true(hret_stats_rng_binomial(&rng, 10, 0) == 0);
    assert_true(hret_stats_rng_binomial(&rng, 10, 1) == 10);
    assert_true(hret_stats_rng_binomial(&rng, 0, 0.5) == 0);
    uint64_t big = hret_stats_rng_binomial(&rng, 1000000000ULL, 0.5);
    assert_true(big > 499900000ULL && big < 500100000ULL);
}

static void test_bootstrap(void **state)
{
    (void)state;
    enum { B = 20000 };
    static double d1[B], d2[B], d3[B];
    struct hret_stats_paired t = {.both = 900, .a_only = 60, .b_only = 100, .neither = 940};
    hret_stats_bootstrap_paired(&t, B, 42, d1);
    hret_stats_bootstrap_paired(&t, B, 42, d2);
    hret_stats_bootstrap_paired(&t, B, 43, d3);
    assert_memory_equal(d1, d2, sizeof d1); /* seeded: reproducible */
    assert_true(memcmp(d1, d3, sizeof d1) != 0);
    double n = 2000, diff = 40 / n, var = ((60 + 100) / n - diff * diff) / n, mean = 0, m2 = 0;
    for (int i = 0; i < B; i++) {
        mean += d1[i] / B;
    }
    for (int i = 0; i < B; i++) {
        m2 += (d1[i] - mean) * (d1[i] - mean) / (B - 1);
    }
    expect_close("bootstrap mean", mean, diff, 0, 5 * sqrt(var / B));
    expect_close("bootstrap sd", sqrt(m2), sqrt(var), 0.03, 0);
    /* independent samples: variance of a difference of two proportions */
    hret_stats_bootstrap_unpaired(550, 1000, 700, 1000, B, 7, d1);
    var = 0.55 * 0.45 / 1000 + 0.7 * 0.3 / 1000;
    mean = m2 = 0;
    for (int i = 0; i < B; i++) {
        mean += d1[i] / B;
    }
    for (int i = 0; i < B; i++) {
        m2 += (d1[i] - mean) * (d1[i] - mean) / (B - 1);
    }
    expect_close("unpaired mean", mean, 0.15, 0, 5 * sqrt(var / B));
    expect_close("unpaired sd", sqrt(m2), sqrt(var), 0.03, 0);
    struct hret_stats_paired empty = {0};
    hret_stats_bootstrap_paired(&empty, 3, 1, d1);
    assert_true(d1[0] == 0 && d1[2] == 0);
    struct hret_stats_paired same = {.both = 5, .neither = 5};
    hret_stats_bootstrap_paired(&same, 3, 1, d1);
    assert_true(d1[0] == 0 && d1[2] == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binomtest_matches_scipy),
        cmocka_unit_test(test_mcnemar_matches_statsmodels),
        cmocka_unit_test(test_binomtest_edges),
        cmocka_unit_test(test_norm_matches_scipy),
        cmocka_unit_test(test_wilson_matches_statsmodels),
        cmocka_unit_test(test_two_prop_matches_statsmodels),
        cmocka_unit_test(test_holm_matches_statsmodels),
        cmocka_unit_test(test_mde_matches_scipy),
        cmocka_unit_test(test_binomial_sampler),
        cmocka_unit_test(test_bootstrap),
    };
    return cmocka_run_group_tests(tests, load_fixture, free_fixture);
}
