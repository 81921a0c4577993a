#!/usr/bin/env python3
"""The layer rule of worker/ (README, Layout): a module includes modules of its own folder or of
lower folders only, peers of one rank never include each other, common/ includes only itself,
and modules of one folder form no include cycle unless ALLOWED_CYCLES names it (each entry is
explained in the README's design notes). Prints every break as "file: includes header (why)"
and exits 1 when there is one."""
import os
import re
import sys

# Top to bottom; folders in one tuple are peers that never include each other.
RANKS = [("cli",), ("fleet", "sinks", "monitor", "api"), ("roles",), ("store",), ("pipeline",),
         ("datasets", "eval"), ("core",), ("common",)]
# Private headers of one module split over several files (README, design notes): the module's
# public header and its private one include each other. Frozensets of module stems.
ALLOWED_CYCLES = {
    frozenset({"hret_dataset", "hret_dataset_loader"}),  # registry and the loaders' interface
    frozenset({"hret_eval_regex", "hret_eval_regex_prog"}),  # compiler and matcher share the program
    frozenset({"hret_request", "hret_request_walk"}),  # parser and its field-table walker
    frozenset({"hret_run", "hret_run_state"}),  # requests and scoring share the run's state
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folders(root):
    """header name -> folder, and the list of (folder, path) of every source."""
    where, files = {}, []
    for rank in RANKS:
        for folder in rank:
            base = os.path.join(root, "common" if folder == "common" else "worker/" + folder)
            for name in sorted(os.listdir(base)):
                if name.endswith((".c", ".h")):
                    files.append((folder, os.path.join(base, name)))
                    if name.endswith(".h"):
                        where[name] = folder
    return where, files


def rank_of(folder):
    return next(i for i, rank in enumerate(RANKS) if folder in rank)


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(frozenset(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main(root):
    where, files = folders(root)
    breaks, edges = [], {}
    for folder, path in files:
        rel = os.path.relpath(path, root)
        stem = os.path.splitext(os.path.basename(path))[0]
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for header in INCLUDE.findall(text):
            target = where.get(os.path.basename(header))
            if target is None:
                breaks.append(f"{rel}: includes {header} (not a header of common/ or worker/)")
                continue
            if target == folder:
                dep = os.path.splitext(os.path.basename(header))[0]
                if dep != stem:
                    edges.setdefault((folder, stem), set()).add((folder, dep))
                continue
            if rank_of(target) < rank_of(folder):
                breaks.append(f"{rel}: includes {header} of {target}/, a higher layer")
            elif rank_of(target) == rank_of(folder):
                breaks.append(f"{rel}: includes {header} of {target}/, a peer layer")
    for comp in cycles(edges):
        stems = frozenset(stem for _, stem in comp)
        if stems not in ALLOWED_CYCLES:
            folder = next(iter(comp))[0]
            breaks.append(f"worker/{folder}: include cycle between {', '.join(sorted(stems))}")
    for b in breaks:
        print(b)
    print(f"layers: {len(files)} files in {sum(len(r) for r in RANKS)} folders, "
          f"{len(breaks)} breaks of the rule", file=sys.stderr)
    return 1 if breaks else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else
                  os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")))
