#!/usr/bin/python3
"""No include or call cycle among the manager's files (issue 7): a newcomer reads the tree
from the bottom up. Calls come from the symbols each object file of the manager's library
defines and uses (nm); includes from the sources. Exits 1 and prints each cycle found.

    check-layering.py SOURCE_DIR OBJECT_DIR
"""

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


def main():
    src, obj = Path(sys.argv[1]), Path(sys.argv[2])
    if not any(obj.glob("*.o")):
        print(f"no object files in {obj}", file=sys.stderr)
        return 2
    bad = []
    for kind, graph in (("call", call_graph(obj)), ("include", include_graph(src))):
        for comp in sccs(graph):
            bad.append(f"{kind} cycle: {' <-> '.join(comp)}")
            for a in comp:
                for b in sorted(graph[a] & set(comp)):
                    bad.append(f"    {a} -> {b}")
    if bad:
        print("\n".join(bad))
        return 1
    print(f"no include or call cycle among {len(call_graph(obj))} units of {src}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
