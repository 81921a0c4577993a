#!/usr/bin/env python3
"""Lays a synthetic KMMLU-shaped set (tests/data/gen_kmmlu_synth.py) out for the peer tools.

    prepare.py DIR

Writes, beside DIR/data/*.csv:
- DIR/README.md: the dataset card with one config per subset, as on the KMMLU hub repository,
  so `datasets.load_dataset(DIR, "<Subset>", split="test")` reads the local CSV files. HRET's
  own KMMLU loader (haerae-evaluation-toolkit, dataset "kmmlu") is pointed at DIR this way.
- DIR/kmmlu_synth_test.csv: the 45 test files joined, in the answer key's order (subsets in
  KMMLU's list order), for promptfoo, whose CSV test files are read one path at a time.
Standard library only."""
import csv
import importlib.util
import os
import sys


def main():
    root = sys.argv[1]
    gen_path = os.path.join(os.path.dirname(__file__), "..", "..", "data", "gen_kmmlu_synth.py")
    spec = importlib.util.spec_from_file_location("gen_kmmlu_synth", gen_path)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    lines = ["---", "configs:"]
    with open(os.path.join(root, "kmmlu_synth_test.csv"), "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        header_written = False
        for subset, _ in gen.SUBSETS:
            stem = subset.lower() if subset in gen.LOWER_FILES else subset
            lines += [f"- config_name: {subset}", "  data_files:",
                      f"  - split: test\n    path: data/{stem}-test.csv",
                      f"  - split: dev\n    path: data/{stem}-dev.csv"]
            with open(os.path.join(root, "data", f"{stem}-test.csv"), encoding="utf-8",
                      newline="") as f:
                reader = csv.reader(f)
                header = next(reader)
                if not header_written:
                    writer.writerow(header)
                    header_written = True
                writer.writerows(reader)
    lines += ["---", "", "Synthetic KMMLU-shaped data (tests/data/gen_kmmlu_synth.py), not KMMLU.", ""]
    with open(os.path.join(root, "README.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
