#!/usr/bin/python3
"""No include or call cycle among the manager's files (issue 7), and no call from a file
into one above it in the layering that registry.h describes: a newcomer reads the tree from
the bottom up. Calls come from the symbols each object file of the manager's library
defines and uses (nm); includes from the sources; the layers from registry.h's table, top
first. Exits 1 and prints each cycle, each call upwards and each file the table does not
place.

    check-layering.py SOURCE_DIR OBJECT_DIR
"""

import fnmatch
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path


def sccs(graph):
    """Tarjan's strongly connected components with more than one node (or a self-loop
    that is not a file calling itself: those are ignored)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def call_graph(objdir):
    defined, used = {}, defaultdict(set)
    for obj in sorted(Path(objdir).glob("*.o")):
        unit = obj.name.split(".c.o")[0]
        text = subprocess.run(["nm", "--defined-only", str(obj)], capture_output=True,
                              text=True, check=True).stdout
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDBR":
                defined[parts[2]] = unit
        text = subprocess.run(["nm", "--undefined-only", str(obj)], capture_output=True,
                              text=True, check=True).stdout
        for line in text.splitlines():
            used[unit].add(line.split()[-1])
    graph = defaultdict(set)
    for unit, syms in used.items():
        graph[unit]
        for s in syms:
            if s in defined and defined[s] != unit:
                graph[unit].add(defined[s])
    for unit in set(defined.values()):
        graph[unit]
    return graph


def include_graph(srcdir):
    graph = defaultdict(set)
    headers = {p.name for p in Path(srcdir).glob("*.h")}
    for path in Path(srcdir).glob("*.h"):
        for m in re.finditer(r'^#include "([^"]+)"', path.read_text(), re.M):
            if m.group(1) in headers:
                graph[path.name].add(m.group(1))
        graph[path.name]
    return graph


def read_layers(registry_h):
    """The table after "Layering of manager/" in registry.h's comment, top layer first: a
    list of layers, each a list of file names or globs without ".c". A layer's names may go
    on over several lines, each but the last ending with a comma."""
    lines = registry_h.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "Layering of manager/" in line)
    layers, open_layer = [], False
    for line in lines[start + 1:]:
        if not line.startswith(" *") or line.strip() == "*/":
            break
        text = line[2:].lstrip()
        names = re.match(r"((?:[\w*.-]+\.c,?\s?)+)", text)
        if not names:
            continue
        files = [n[:-2] for n in re.findall(r"[\w*.-]+\.c", names.group(1))]
        if open_layer:
            layers[-1].extend(files)
        else:
            layers.append(files)
        open_layer = names.group(1).rstrip().endswith(",")
    return layers


def layer_of(unit, layers):
    """The index of @unit's layer: a name given as is before any glob; None if none."""
    for i, names in enumerate(layers):
        if unit in names:
            return i
    for i, names in enumerate(layers):
        if any("*" in n and fnmatch.fnmatchcase(unit, n) for n in names):
            return i
    return None


def layering_errors(graph, layers):
    bad = []
    for unit in sorted(graph):
        if layer_of(unit, layers) is None:
            bad.append(f"{unit}.c is in no layer of registry.h's table")
    for unit in sorted(graph):
        mine = layer_of(unit, layers)
        for callee in sorted(graph[unit]):
            theirs = layer_of(callee, layers)
            if None not in (mine, theirs) and theirs < mine:
                bad.append(f"upward call: {unit}.c (layer {mine + 1}) -> {callee}.c "
                           f"(layer {theirs + 1})")
    return bad


def stale_names(layers, sources):
    """Names in the table that match no source file (@sources: names without ".c"): left
    after their file went, or misspelt, they would place nothing."""
    return [f"registry.h's table names {n}.c, which is no file of manager/"
            for names in layers for n in names
            if not any(fnmatch.fnmatchcase(f, n) for f in sources)]


def main():
    src, obj = Path(sys.argv[1]), Path(sys.argv[2])
    if not any(obj.glob("*.o")):
        print(f"no object files in {obj}", file=sys.stderr)
        return 2
    layers = read_layers(src / "registry.h")
    if len(layers) < 3:
        print(f"registry.h's layering table not found or cut short: {layers}", file=sys.stderr)
        return 2
    calls = call_graph(obj)
    bad = layering_errors(calls, layers)
    bad += stale_names(layers, [p.name[:-2] for p in src.glob("*.c")])
    for kind, graph in (("call", calls), ("include", include_graph(src))):
        for comp in sccs(graph):
            bad.append(f"{kind} cycle: {' <-> '.join(comp)}")
            for a in comp:
                for b in sorted(graph[a] & set(comp)):
                    bad.append(f"    {a} -> {b}")
    if bad:
        print("\n".join(bad))
        return 1
    print(f"no include or call cycle and no call upwards among {len(calls)} units of {src} "
          f"in {len(layers)} layers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
