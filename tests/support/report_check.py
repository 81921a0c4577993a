#!/usr/bin/env python3
"""Reads back what an hret report page drew (the data- attributes of its facts, bars, forest rows,
comparison sections and history points) and checks it against independent sources:

    report_check.py one PAGE RESULTS.json           facts = metrics; subset bars recomputed here
    report_check.py two PAGE COMPARE.json           the comparison = hret compare --json
    report_check.py many PAGE COMPARE.json...       each comparison, Holm across them (recomputed)
    report_check.py history PAGE HISTORY.tsv        points = stored runs (name, value), marks"""
import collections
import html.parser
import json
import math
import sys

Z95 = 1.959963984540054


class Page(html.parser.HTMLParser):
    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.elements = []  # (tag, attrs dict, open section index)
        self.scripts = 0
        self.external = []
        self.section = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        for key in ("src", "href"):
            if key in a and not a[key].startswith("#"):
                self.external.append(a[key])
        if tag == "section":
            self.section = a
        self.elements.append((tag, a, self.section))

    def all(self, tag=None, cls=None):
        return [(a, s) for t, a, s in self.elements
                if (tag is None or t == tag) and (cls is None or cls in a.get("class", "").split())]


def load(path):
    page = Page(open(path, encoding="utf-8").read())
    assert page.scripts == 0, "the page has a script"
    assert page.external == [], f"the page loads {page.external}"
    return page


def close(a, b, what):
    if a is None or b is None:
        assert a is None and b is None, f"{what}: {a} != {b}"
        return
    assert math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12), f"{what}: {a} != {b}"


def wilson(k, n):
    p = k / n
    d = 1 + Z95 * Z95 / n
    c = (p + Z95 * Z95 / (2 * n)) / d
    h = Z95 * math.sqrt(p * (1 - p) / n + Z95 * Z95 / (4 * n * n)) / d
    return c - h, c + h


def check_one(page, results_path):
    doc = json.load(open(results_path, encoding="utf-8"))
    m = doc["metrics"]
    facts = {a["data-metric"]: a.get("data-value") for a, _ in page.all("div", "fact")}
    for key in ("accuracy", "answered", "errors", "parse_failures", "macro_accuracy",
                "latency_p50_ms", "latency_p90_ms", "latency_p99_ms", "tokens_in", "tokens_out",
                "cost"):
        close(facts[key], m.get(key), key)
    samples = doc["results"][0]["samples"]
    n, k = collections.Counter(), collections.Counter()
    for s in samples:
        if "error" in s:
            continue
        n[s["_subset_name"]] += 1
        k[s["_subset_name"]] += bool(s["evaluation"]["is_correct"])
    bars = [a for a, _ in page.all("g", "bar")]
    assert len(bars) == len(n), (len(bars), len(n))
    values = [float(b["data-value"]) for b in bars]
    assert values == sorted(values), "subsets are not worst first"
    for b in bars:
        sub = b["data-label"]
        assert int(b["data-n"]) == n[sub], (sub, b["data-n"], n[sub])
        close(b["data-value"], m[f"{sub}/accuracy"], f"{sub} accuracy")
        lo, hi = wilson(k[sub], n[sub])
        close(b["data-lo"], lo, f"{sub} lo")
        close(b["data-hi"], hi, f"{sub} hi")
    wrong = [s for s in samples if "error" not in s and s["evaluation"]["is_correct"] is False]
    shown = [a["data-id"] for a, _ in page.all("details", "sample")]
    assert shown == [s["id"] for s in wrong[:7]], (shown, len(wrong))
    print(f"one: {len(facts)} facts and {len(bars)} subset bars match; {len(shown)} wrong answers")


def check_comparison(section, rows, cmp, p_family):
    o = cmp["overall"]
    close(section["data-diff"], o["difference"], "overall diff")
    close(section["data-p"], o["p_value"], "overall p")
    close(section["data-p-family"], p_family, "family p")
    forest = {r["data-label"]: r for r in rows}
    close(forest["overall"]["data-diff"], o["difference"], "forest overall")
    close(forest["overall"]["data-lo"], o["difference_ci"][0], "forest overall lo")
    close(forest["overall"]["data-hi"], o["difference_ci"][1], "forest overall hi")
    for sub in cmp["subsets"]:
        r = forest[sub["name"]]
        close(r["data-diff"], sub["difference"], sub["name"])
        close(r["data-lo"], sub["difference_ci"][0], sub["name"] + " lo")
        close(r["data-p-holm"], sub["p_holm"], sub["name"] + " holm")
        assert int(r["data-n"]) == sub["n_a"], sub["name"]
    diffs = [float(r["data-diff"]) for r in rows[1:]]
    assert diffs == sorted(diffs), "forest rows are not worst first"


def comparisons(page):
    by_section = collections.defaultdict(list)
    for a, s in page.all("g", "diff"):
        by_section[s["data-index"]].append(a)
    sections = [a for a, _ in page.all("section", "comparison")]
    return [(s, by_section[s["data-index"]]) for s in sections]


def check_two(page, cmp_path):
    cmp = json.load(open(cmp_path))
    [(section, rows)] = comparisons(page)
    check_comparison(section, rows, cmp, cmp["overall"]["p_value"])
    [t] = [a for a, _ in page.all("table", "mcnemar")]
    o = cmp["overall"]
    for attr, key in (("both", "both_right"), ("a-only", "a_right_b_wrong"),
                      ("b-only", "a_wrong_b_right"), ("neither", "both_wrong")):
        assert int(t["data-" + attr]) == o[key], key
    print(f"two: the comparison and its {len(rows)} forest rows equal hret compare --json")


def holm(p):
    order = sorted(range(len(p)), key=lambda i: p[i])
    adj, running = [0.0] * len(p), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        adj[i] = running
    return adj


def check_many(page, cmp_paths):
    cmps = [json.load(open(p)) for p in cmp_paths]
    found = comparisons(page)
    assert len(found) == len(cmps), (len(found), len(cmps))
    family = holm([c["overall"]["p_value"] for c in cmps])
    for (section, rows), cmp, pf in zip(found, cmps, family):
        check_comparison(section, rows, cmp, pf)
    runs = page.all("section", "run")
    assert len(runs) == len(cmps) + 1, len(runs)
    print(f"many: {len(cmps)} comparisons against the first, Holm across them")


def check_history(page, tsv):
    want = [line.rstrip("\n").split("\t") for line in open(tsv) if line.strip()]
    [(section, _)] = page.all("section", "history")
    assert int(section["data-points"]) == len(want), (section["data-points"], len(want))
    points = [a for a, _ in page.all("g", "point")]
    assert [p["data-label"] for p in points] == [w[0] for w in want], points
    for p, (name, value) in zip(points, want):
        close(p["data-value"], value, name)
    alerts = [p["data-label"] for p in points if "alert" in p["class"].split()]
    assert alerts == ["ckpt-2"], alerts
    marks = [(a["data-label"], float(a["data-value"])) for a, _ in page.all("g", "mark")]
    assert marks == [("floor: alert when accuracy < 0.6", 0.6)], marks
    print(f"history: {len(points)} stored runs, the threshold and the alerted run drawn")


if __name__ == "__main__":
    mode, page_path, *rest = sys.argv[1:]
    page = load(page_path)
    {"one": lambda: check_one(page, rest[0]), "two": lambda: check_two(page, rest[0]),
     "many": lambda: check_many(page, rest),
     "history": lambda: check_history(page, rest[0])}[mode]()
