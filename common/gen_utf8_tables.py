#!/usr/bin/env python3
"""Generates common/hret_utf8_tables.h from this Python's own Unicode behaviour.

HRET's normalisation is Python's str.lower(), str.split(), str.isspace() and re.IGNORECASE, so
the tables are taken from those functions directly (not from the UCD files), which makes the C
side agree with the Python that produced the parity corpus:

    python3 common/gen_utf8_tables.py > common/hret_utf8_tables.h
    python3 common/gen_utf8_tables.py --check   # also verifies the fold against re, slow

Every table is sorted and non-overlapping, for binary search.
"""
import re
import sys
import unicodedata

import _sre  # the engine's own simple lower-casing, as re.IGNORECASE uses it
from re import _casefix  # pylint: disable=no-name-in-module

MAX = 0x110000
SIGMA = 0x3A3


def chars():
    for c in range(MAX):
        if not 0xD800 <= c < 0xE000:
            yield c


def ranges(pred):
    out = []
    for c in chars():
        if pred(c):
            if out and out[-1][1] == c - 1:
                out[-1][1] = c
            else:
                out.append([c, c])
    return out


def lower_map():
    """Code point -> single-code-point str.lower(); the one multi-char case is handled in C."""
    m = {}
    for c in chars():
        low = chr(c).lower()
        # hret_utf8_lower() sizes its output for at most 3 bytes out per 2 bytes in.
        assert 2 * len(low.encode()) <= 3 * len(chr(c).encode()), hex(c)
        if len(low) == 1 and ord(low) != c:
            m[c] = ord(low)
        elif len(low) != 1:
            assert c == 0x130, hex(c)  # 'İ' -> "i̇", written out in hret_utf8.c
    return m


def runs(mapping):
    """[lo, hi, delta, stride]: mapping[c] = c + delta for c in lo..hi step stride."""
    out = []
    for c in sorted(mapping):
        d = mapping[c] - c
        if out:
            lo, hi, delta, stride = out[-1]
            step = c - hi
            if delta == d and step in (1, 2) and (stride == step or lo == hi):
                out[-1] = [lo, c, d, step]
                continue
        out.append([c, c, d, 1])
    return out


def fold_map():
    """re.IGNORECASE compares _sre.unicode_tolower() of both sides, widened by _casefix's
    groups of characters that share an upper case; the key is the group's smallest member."""
    canon = {}
    for k, others in _casefix._EXTRA_CASES.items():
        group = {k, *others}
        for c in group:
            canon[c] = min(group | {canon.get(c, c)})
    m = {}
    for c in chars():
        low = _sre.unicode_tolower(c)
        key = canon.get(low, low)
        if key != c:
            m[c] = key
    return m


def sigma_context():
    """Cased / Case_Ignorable as str.lower()'s final-sigma rule sees them (CPython's
    handle_capital_sigma): probed through str.lower() itself."""
    ignorable, cased = set(), set()
    for c in chars():
        ch = chr(c)
        if c == SIGMA:
            cased.add(c)
            continue
        if (ch + "\u03a3").lower()[-1] == "\u03c2":
            cased.add(c)  # cased and not ignorable
        elif ("A" + ch + "\u03a3").lower()[-1] == "\u03c2":
            ignorable.add(c)
    return ignorable, cased


def emit_ranges(name, rs, comment):
    print(f"/* {comment} */")
    print(f"static const struct hret_utf8_range {name}[] = {{")
    line = "   "
    for lo, hi in rs:
        item = f" {{0x{lo:X}, 0x{hi:X}}},"
        if len(line) + len(item) > 99:
            print(line)
            line = "   "
        line += item
    print(line)
    print("};\n")


def emit_runs(name, rs, comment):
    print(f"/* {comment} */")
    print(f"static const struct hret_utf8_run {name}[] = {{")
    line = "   "
    for lo, hi, delta, stride in rs:
        item = f" {{0x{lo:X}, 0x{hi:X}, {delta}, {stride}}},"
        if len(line) + len(item) > 99:
            print(line)
            line = "   "
        line += item
    print(line)
    print("};\n")


def check(fold):
    letters = set("AnswerFinalJawabanRéponseRespostaJibuIdahunÌdáhùnÀmọ̀nàÀdáhùnÀnúgọÀṣàyàn")
    letters |= {chr(c) for c in range(0x370, 0x400)} | {"ſ", "K", "ß", "µ"}
    for lit in sorted(letters):
        pat = re.compile("(?i)" + re.escape(lit))
        key = fold.get(ord(lit), ord(lit))
        for c in chars():
            want = pat.fullmatch(chr(c)) is not None
            got = fold.get(c, c) == key
            assert want == got, (lit, hex(c), want, got)
    print("fold agrees with re.IGNORECASE", file=sys.stderr)


# hret_utf8.c skips the tables for these blocks: they must have no case mapping.
CASELESS = [(0x1100, 0x11FF), (0x3000, 0x318F), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3)]


def main():
    fold = fold_map()
    lower = lower_map()
    for lo, hi in CASELESS:
        for c in range(lo, hi + 1):
            assert c not in fold and c not in lower and _sre.unicode_tolower(c) == c, hex(c)
    if "--check" in sys.argv:
        check(fold)
        return
    ignorable, cased = sigma_context()
    ver = sys.version.split()[0]
    print(f"/* Generated by common/gen_utf8_tables.py from Python {ver} (Unicode "
          f"{unicodedata.unidata_version}); do not edit. */")
    print("#ifndef HRET_UTF8_TABLES_H\n#define HRET_UTF8_TABLES_H\n\n#include <stdint.h>\n")
    print("/* clang-format off */")
    print("struct hret_utf8_range {\n    uint32_t lo, hi;\n};\n")
    print("struct hret_utf8_run {\n    uint32_t lo, hi;\n    int32_t delta;\n"
          "    uint32_t stride;\n};\n")
    emit_runs("hret_utf8_lower_runs", runs(lower),
              "str.lower() for single code points (U+0130 and final sigma are special)")
    emit_runs("hret_utf8_fold_runs", runs(fold), "re.IGNORECASE key: simple lower + _casefix")
    emit_ranges("hret_utf8_space", ranges(lambda c: chr(c).isspace()), "str.isspace()")
    emit_ranges("hret_utf8_alpha", ranges(lambda c: chr(c).isalpha()), "str.isalpha(): L*")
    emit_ranges("hret_utf8_decimal", ranges(lambda c: chr(c).isdecimal()), "re \\d: Nd")
    emit_ranges("hret_utf8_alnum", ranges(lambda c: chr(c).isalnum()), "re \\w less '_'")
    emit_ranges("hret_utf8_case_ignorable", ranges(lambda c: c in ignorable),
                "Case_Ignorable, as the final-sigma rule sees it")
    emit_ranges("hret_utf8_cased", ranges(lambda c: c in cased),
                "Cased and not Case_Ignorable")
    print("/* clang-format on */\n\n#endif")


if __name__ == "__main__":
    main()
