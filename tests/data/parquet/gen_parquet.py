#!/usr/bin/env python3
"""Parquet files written by pyarrow for the reader's tests (tests/integration/test_parquet.c).

    gen_parquet.py OUT      (run with deploy/local/pyvenv.sh pyarrow's venv)
    gen_parquet.py --corpus tests/fuzz/corpus/parquet   (the fuzz seeds: small files)

Writes OUT/<case>.parquet for every supported combination (format version 1.0 / 2.6, data pages
v1 / v2, dictionary on / off, codec none / snappy / gzip / zstd) of one table holding every
supported column kind (required and optional strings, int32, int64, uint32, uint64, float,
double, bool, a dictionary-typed string, large_string, list<string> and large_list<string>
with null and empty lists and null elements), in several row groups of several pages each; files
pyarrow writes that the reader must refuse (refuse_<feature>.parquet); and OUT/manifest.json:
  {"tables": [{"file", "columns", "rows": [[text or null, ...], ...]}],
   "refusals": [{"file", "column", "feature"}]}
where each cell is the text the reader must give: str() of an int, repr() of a float, True/False,
a string as is, a list as compact JSON with non-ASCII kept.
"""
import json
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq

ROWS = 53  # --corpus: 6
TEXTS = ["한국어 질문", "plain", "with \"quotes\", commas", "tab\there", "new\nline",
         "back\\slash", "emoji 🙂", "", "ctrl \x01\x1f end"]


def table():
    s = [None if i % 5 == 3 else TEXTS[i % len(TEXTS)] + f" {i}" for i in range(ROWS)]
    s_req = [TEXTS[(i * 7) % len(TEXTS)] for i in range(ROWS)]
    i32 = [None if i % 6 == 0 else (i * 37) % 1000 - 500 for i in range(ROWS)]
    i64 = [(1 << 40) + i if i % 2 else -i for i in range(ROWS)]
    u32 = [4000000000 - i for i in range(ROWS)]
    u64 = [(1 << 63) + i for i in range(ROWS)]
    f32 = [None if i % 4 == 1 else [0.5, 1.25, -3.0, 1024.0, 0.0][i % 5] for i in range(ROWS)]
    f64 = [None if i % 9 == 2 else [0.1, 2.5e-7, 1e16, 123456.0, -0.0, 3.141592653589793][i % 6]
           for i in range(ROWS)]
    b = [None if i % 7 == 4 else i % 3 == 0 for i in range(ROWS)]
    cat = ["(A)", "(B)", "(C)", "(D)"]
    d = [cat[i % 4] for i in range(ROWS)]

    def lst(i):
        if i % 8 == 5:
            return None
        if i % 8 == 6:
            return []
        return [TEXTS[(i + k) % len(TEXTS)] if k != 1 or i % 3 else None for k in range(i % 4 + 1)]

    lists = [lst(i) for i in range(ROWS)]
    cols = {
        "s": pa.array(s, pa.string()),
        "s_req": pa.array(s_req, pa.string()),
        "i32": pa.array(i32, pa.int32()),
        "i64": pa.array(i64, pa.int64()),
        "u32": pa.array(u32, pa.uint32()),
        "u64": pa.array(u64, pa.uint64()),
        "f32": pa.array(f32, pa.float32()),
        "f64": pa.array(f64, pa.float64()),
        "b": pa.array(b, pa.bool_()),
        "cat": pa.array(d, pa.string()).dictionary_encode(),
        "big": pa.array(s, pa.large_string()),
        "lst": pa.array(lists, pa.list_(pa.string())),
        "big_lst": pa.array(lists, pa.large_list(pa.large_string())),
    }
    schema = pa.schema([pa.field(k, v.type, nullable=(k != "s_req")) for k, v in cols.items()])
    return pa.Table.from_arrays(list(cols.values()), schema=schema)


def text(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, list):
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    return str(v)


def expected(t):
    rows = [[text(v) for v in row.values()] for row in t.to_pylist()]
    return {"columns": t.column_names, "rows": rows}


def supported(out, t, manifest):
    for version, page in (("1.0", "1.0"), ("2.6", "1.0"), ("2.6", "2.0")):
        for codec in ("none", "snappy", "gzip", "zstd"):
            for dictionary in (True, False):
                name = f"v{version}_page{page}_{codec}_{'dict' if dictionary else 'plain'}.parquet"
                pq.write_table(t, os.path.join(out, name), version=version,
                               data_page_version=page, compression=codec,
                               use_dictionary=dictionary, row_group_size=16,
                               data_page_size=512, write_batch_size=5, write_statistics=False)
                manifest["tables"].append({"file": name, **expected(t)})
    one = pa.table({"only": pa.array(["a", None, "c"], pa.string())})
    pq.write_table(one, os.path.join(out, "single_column.parquet"))
    manifest["tables"].append({"file": "single_column.parquet", **expected(one)})
    empty = pa.table({"x": pa.array([], pa.string()), "n": pa.array([], pa.int64())})
    pq.write_table(empty, os.path.join(out, "empty.parquet"))
    manifest["tables"].append({"file": "empty.parquet", **expected(empty)})


def refusals(out, manifest):
    ok = pa.array(["x", "y"], pa.string())

    def write(feature, column, arr, **kw):
        name = f"refuse_{len(manifest['refusals']):02d}_{column}.parquet"
        pq.write_table(pa.table({"ok": ok, column: arr}), os.path.join(out, name), **kw)
        # a codec applies to every column: the first one read is named
        named = "ok" if "compression" in kw else column
        manifest["refusals"].append({"file": name, "column": named, "feature": feature})

    write("DELTA_BINARY_PACKED", "n", pa.array([1, 2], pa.int64()), use_dictionary=False,
          column_encoding={"n": "DELTA_BINARY_PACKED"})
    write("BYTE_STREAM_SPLIT", "f", pa.array([1.5, 2.5], pa.float64()), use_dictionary=False,
          column_encoding={"f": "BYTE_STREAM_SPLIT"})
    write("DELTA_BYTE_ARRAY", "t", ok, use_dictionary=False,
          column_encoding={"t": "DELTA_BYTE_ARRAY"})
    write("struct", "st", pa.array([{"a": 1}, {"a": 2}]))
    write("map", "m", pa.array([[("k", 1)], []], pa.map_(pa.string(), pa.int64())))
    write("list of structs or lists", "nested", pa.array([[["a"]], []], pa.list_(pa.list_(pa.string()))))
    write("list of non-strings", "ints", pa.array([[1], [2, 3]], pa.list_(pa.int64())))
    write("logical type", "ts", pa.array([1, 2], pa.timestamp("us")))
    write("logical type", "day", pa.array([1, 2], pa.date32()))
    write("INT96", "old_ts", pa.array([1, 2], pa.timestamp("ns")),
          use_deprecated_int96_timestamps=True)
    write("FIXED_LEN_BYTE_ARRAY", "fx", pa.array([b"ab", b"cd"], pa.binary(2)))
    write("LZ4", "z", ok, compression="lz4")
    write("BROTLI", "z", ok, compression="brotli")


def broken(out, manifest):
    with open(os.path.join(out, "refuse_not_parquet.parquet"), "w") as f:
        f.write("question,answer\nq,a\n")
    manifest["refusals"].append({"file": "refuse_not_parquet.parquet", "column": "",
                                 "feature": "not a Parquet file"})
    src = os.path.join(out, "v2.6_page2.0_zstd_dict.parquet")
    data = open(src, "rb").read()
    with open(os.path.join(out, "refuse_truncated.parquet"), "wb") as f:
        f.write(data[: len(data) // 2])
    manifest["refusals"].append({"file": "refuse_truncated.parquet", "column": "",
                                 "feature": "PAR1"})


def corpus(out):
    global ROWS
    ROWS = 6
    t = table()
    os.makedirs(out, exist_ok=True)
    for version, page, codec, dictionary in (("1.0", "1.0", "none", True),
                                             ("2.6", "1.0", "gzip", False),
                                             ("2.6", "2.0", "snappy", True),
                                             ("2.6", "2.0", "zstd", False)):
        name = f"seed_v{version}_page{page}_{codec}_{'dict' if dictionary else 'plain'}.parquet"
        pq.write_table(t, os.path.join(out, name), version=version, data_page_version=page,
                       compression=codec, use_dictionary=dictionary, row_group_size=4,
                       data_page_size=64, write_batch_size=2, write_statistics=False)
    pq.write_table(pa.table({"st": pa.array([{"a": 1}])}), os.path.join(out, "seed_struct.parquet"))


def main():
    if sys.argv[1] == "--corpus":
        corpus(sys.argv[2])
        return
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    manifest = {"tables": [], "refusals": []}
    supported(out, table(), manifest)
    refusals(out, manifest)
    broken(out, manifest)
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
