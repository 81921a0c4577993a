#!/usr/bin/env python3
"""Reference values for common/hret_stats.c and hret_metrics_wilson, computed with SciPy and
statsmodels (needed only to run this script, never by the unit test that reads its output).

    python3 tests/data/stats/gen_scipy_values.py --out tests/data/stats/scipy_values.json
    python3 tests/data/stats/gen_scipy_values.py --out FILE --random 300 --seed 7

The committed fixture is the default grid. --random N adds N random cases of each kind (the
integration test tests/integration/test_stats_scipy.sh does that against live SciPy).

Sources: binomtest -> scipy.stats.binomtest(k, n, 0.5).pvalue; mcnemar ->
statsmodels.stats.contingency_tables.mcnemar(exact=True); norm_cdf / norm_ppf ->
scipy.stats.norm; wilson -> statsmodels.stats.proportion.proportion_confint(method="wilson");
two_prop_z -> statsmodels.stats.proportion.proportions_ztest; holm ->
statsmodels.stats.multitest.multipletests(method="holm"); mde_two_prop -> the effect size at
which NormalIndPower().power reaches 0.8 (brentq), times sqrt(p(1-p)); mde_paired -> scipy.optimize.brentq on Connor's (1987) sample
size formula n = (z_a sqrt(psi) + z_b sqrt(psi - d^2))^2 / d^2.
"""
import argparse
import json
import math
import random

import numpy as np
import scipy
import scipy.optimize
import scipy.stats
import statsmodels
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

ALPHA, POWER = 0.05, 0.80


def binom_grid():
    cases = set()
    for n in [1, 2, 3, 4, 5, 6, 7, 10, 11, 20, 25, 50, 99, 100, 101, 1000, 5000, 100000, 1000000]:
        half, sd = n // 2, math.sqrt(n) / 2
        for k in [0, 1, 2, half - 1, half, half + 1, n - 1, n]:
            if 0 <= k <= n:
                cases.add((k, n))
        for z in [0.5, 1, 1.96, 2.5, 3, 5, 10, 20, 30, 37]:
            k = int(round(n / 2 - z * sd))
            if 0 <= k <= n:
                cases.add((k, n))
                cases.add((n - k, n))
    return sorted(cases, key=lambda c: (c[1], c[0]))


def binom_case(k, n):
    return [k, n, float(scipy.stats.binomtest(k, n, 0.5).pvalue)]


def mcnemar_case(b, c):
    table = [[10, b], [c, 7]]
    return [b, c, float(mcnemar(table, exact=True).pvalue)]


def wilson_case(k, n):
    lo, hi = proportion_confint(k, n, alpha=ALPHA, method="wilson")
    return [k, n, float(lo), float(hi)]


def two_prop_case(k1, n1, k2, n2):
    z, p = proportions_ztest([k1, k2], [n1, n2])
    return [k1, n1, k2, n2, float(z), float(p)]


def holm_case(p):
    adj = multipletests(p, alpha=ALPHA, method="holm")[1]
    return {"p": [float(x) for x in p], "adj": [float(x) for x in adj]}


def mde_two_prop_case(n1, n2, p):
    # statsmodels' own solve_power stops at ~1e-4; solve its power function tightly instead
    def short(es):
        return NormalIndPower().power(es, nobs1=n1, alpha=ALPHA, ratio=n2 / n1,
                                      alternative="two-sided") - POWER

    es = scipy.optimize.brentq(short, 1e-9, 50, xtol=1e-15, rtol=1e-14)
    return [n1, n2, p, float(es * math.sqrt(p * (1 - p)))]


def mde_paired_case(n, psi):
    za, zb = scipy.stats.norm.ppf(1 - ALPHA / 2), scipy.stats.norm.ppf(POWER)

    def excess(d):
        return (za * math.sqrt(psi) + zb * math.sqrt(max(psi - d * d, 0))) ** 2 / d ** 2 - n

    if excess(psi) > 0:  # not even d = psi is detectable
        return [n, psi, None]
    return [n, psi, float(scipy.optimize.brentq(excess, 1e-12, psi, xtol=1e-16, rtol=1e-15))]


def grid():
    out = {"binomtest": [binom_case(k, n) for k, n in binom_grid()]}
    out["mcnemar"] = [mcnemar_case(b, c) for b, c in
                      [(0, 1), (1, 1), (0, 5), (0, 6), (3, 12), (12, 3), (40, 60), (150, 100),
                       (0, 300), (1000, 1100), (20000, 20500)]]
    out["norm_cdf"] = [[x, float(scipy.stats.norm.cdf(x))] for x in
                       [-40, -38.4, -30, -20, -10, -8, -5, -3, -1.959963984540054, -1.5, -1,
                        -0.5, -1e-10, 0, 1e-10, 0.5, 1, 1.5, 1.959963984540054, 3, 5, 8, 10, 40]]
    ps = [1e-300, 1e-200, 1e-100, 1e-50, 1e-20, 1e-15, 1e-10, 1e-7, 1e-5, 1e-4, 0.001, 0.01,
          0.025, 0.05, 0.07, 0.075, 0.0751, 0.1, 0.2, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8,
          0.9, 0.924, 0.925, 0.95, 0.975, 0.99, 0.999, 1 - 1e-5, 1 - 1e-10, 1 - 1e-15]
    out["norm_ppf"] = [[p, float(scipy.stats.norm.ppf(p))] for p in ps]
    out["wilson"] = [wilson_case(k, n) for k, n in
                     [(0, 1), (1, 1), (0, 10), (3, 10), (10, 10), (55, 100), (1241, 2000),
                      (0, 5000), (4999, 5000), (35000, 100000), (123456, 1000000)]]
    out["two_prop_z"] = [two_prop_case(*c) for c in
                         [(1, 10, 5, 10), (55, 100, 70, 100), (1100, 2000, 1400, 2000),
                          (30, 50, 400, 1000), (0, 20, 3, 20), (499, 1000, 501, 1000),
                          (350000, 1000000, 351500, 1000000)]]
    out["holm"] = [holm_case(p) for p in
                   [[0.01], [0.01, 0.04, 0.03, 0.005], [0.5, 0.5, 0.5], [0.001, 0.001, 0.2, 0.9],
                    [0.04, 0.01, 0.03, 0.02, 0.05], [0.3, 0.0001, 0.6, 1.0, 0.02, 0.02],
                    [1e-10, 0.9, 0.02, 0.011, 0.012, 0.013, 0.5, 0.04, 0.03, 0.0001]]]
    out["mde_two_prop"] = [mde_two_prop_case(*c) for c in
                           [(100, 100, 0.5), (2000, 2000, 0.62), (500, 1500, 0.3),
                            (35030, 35030, 0.45), (1000000, 1000000, 0.9)]]
    out["mde_paired"] = [mde_paired_case(*c) for c in
                         [(2000, 0.15), (100, 0.3), (35030, 0.2), (1000000, 0.05), (50, 0.02),
                          (10, 0.5), (5000, 0.01)]]
    return out


def add_random(out, count, seed):
    rng = random.Random(seed)
    for _ in range(count):
        n = int(10 ** rng.uniform(0, 6))
        k = min(n, max(0, int(round(rng.gauss(n / 2, math.sqrt(n) * rng.uniform(0, 4))))))
        out["binomtest"].append(binom_case(k, n))
        out["norm_ppf"].append([rng.random(), None])
        out["norm_ppf"][-1][1] = float(scipy.stats.norm.ppf(out["norm_ppf"][-1][0]))
        x = rng.uniform(-12, 12)
        out["norm_cdf"].append([x, float(scipy.stats.norm.cdf(x))])
        out["wilson"].append(wilson_case(rng.randint(0, n), n))
        n2 = int(10 ** rng.uniform(1, 6))
        out["two_prop_z"].append(two_prop_case(rng.randint(1, n), n, rng.randint(1, n2 - 1), n2))
        m = rng.randint(1, 30)
        out["holm"].append(holm_case([rng.random() ** 3 for _ in range(m)]))
        out["mde_paired"].append(mde_paired_case(float(max(n, 10)), rng.uniform(0.01, 0.6)))
        out["mde_two_prop"].append(mde_two_prop_case(max(n, 10), n2, rng.uniform(0.05, 0.95)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--random", type=int, default=0, help="random cases of each kind to add")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    out = {"generated_by": "tests/data/stats/gen_scipy_values.py",
           "versions": {"scipy": scipy.__version__, "statsmodels": statsmodels.__version__,
                        "numpy": np.__version__},
           "alpha": ALPHA, "power": POWER}
    out.update(grid())
    if args.random:
        add_random(out, args.random, args.seed)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
