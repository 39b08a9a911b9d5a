#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The layering of kmod/: which file may include or call which.

Documentation/design.rst says the data path runs one way (API -> mcache ->
mcentral -> mheap -> the buddy allocator) and that a lower layer never calls
up.  kmod/layers.txt writes that direction down once: the layers from top to
bottom, each file of kmod/ in one of them, and the upcalls that are still
there, each with the issue item that removes it.  This tool checks the tree
against it and draws the graph.

  tools/layers.py             check; exit 1 on a violation that is not
                              excepted, an exception that matches nothing,
                              or a file of kmod/ with no layer
  tools/layers.py --graph     the file graph of kmod/: edges with counts
                              (calls and includes), the loops (strongly
                              connected components), lines per file
  tools/layers.py --dot       the same graph in Graphviz's DOT
  --root DIR                  the tree to read (default: this one)
  --table FILE                the table (default: ROOT/kmod/layers.txt)

No compiler, no ctags: a small C tokenizer, enough for kernel style.  A
function is defined where an identifier, a parenthesised parameter list and
a "{" follow each other at file scope; a variable where a file-scope
statement without "extern" names it (DEFINE_PER_CPU(type, name) included).
A reference is any other use of a defined name outside comments and strings
(a call, a function pointer, a variable), attributed to the function it sits
in; the names after "." and "->" are members, not references.  Only names a
file can see from outside are followed: non-static definitions in .c files
and everything defined in a header (its static inlines).  The declarations
in a header (prototypes, externs) are not references: a header that
declares an upper layer's function calls nothing by that.
"""
import argparse
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---------------------------------------------------------------- the table


class TableError(Exception):
    pass


class Table:
    """kmod/layers.txt: layers (top first), files, symbol overrides, exceptions."""

    def __init__(self, path, name=None):
        self.path = name or path  # as messages name it
        self.layers = []          # top first
        self.rank = {}            # layer -> 0 for the top
        self.files = {}           # "kmod/x.c" -> layer
        self.symbols = {}         # ("kmod/x.c", "name") -> layer
        self.exceptions = []      # dicts: kind, file, target, why, line
        section = None
        with open(path) as f:
            path = self.path
            for n, raw in enumerate(f, 1):
                line = raw.split("#", 1)
                text, comment = line[0].strip(), (line[1].strip() if len(line) > 1 else "")
                if not text:
                    continue
                m = re.fullmatch(r"\[(\w+)\]", text)
                if m:
                    section = m.group(1)
                    if section not in ("layers", "files", "except"):
                        raise TableError("%s:%d: unknown section [%s]" % (path, n, section))
                    continue
                words = text.split()
                where = "%s:%d" % (path, n)
                if section == "layers":
                    if len(words) != 1 or words[0] in self.rank:
                        raise TableError("%s: one new layer name a line" % where)
                    self.rank[words[0]] = len(self.layers)
                    self.layers.append(words[0])
                elif section == "files":
                    if len(words) != 2 or words[1] not in self.rank:
                        raise TableError("%s: want 'FILE[:SYMBOL] LAYER', LAYER one of %s"
                                         % (where, " ".join(self.layers)))
                    name, layer = words
                    if ":" in name:
                        fname, sym = name.split(":", 1)
                        self.symbols[("kmod/" + fname, sym)] = layer
                    else:
                        if "kmod/" + name in self.files:
                            raise TableError("%s: %s listed twice" % (where, name))
                        self.files["kmod/" + name] = layer
                elif section == "except":
                    # FILE -> SYMBOL  # why (the issue item that removes it)
                    # FILE includes HEADER  # why
                    if len(words) != 3 or words[1] not in ("->", "includes"):
                        raise TableError("%s: want 'FILE -> SYMBOL' or 'FILE includes HEADER'"
                                         % where)
                    if not re.search(r"\bissue #?\d+", comment):
                        raise TableError("%s: an exception names the issue item that "
                                         "removes it in a comment (# issue N item M ...)"
                                         % where)
                    self.exceptions.append({
                        "kind": "call" if words[1] == "->" else "include",
                        "file": "kmod/" + words[0],
                        "target": words[2] if words[1] == "->" else "kmod/" + words[2],
                        "why": comment, "line": n})
                else:
                    raise TableError("%s: text before any [section]" % where)
        if not self.layers:
            raise TableError("%s: no [layers]" % path)

    def layer_of(self, fname, sym=None):
        if sym is not None and (fname, sym) in self.symbols:
            return self.symbols[(fname, sym)]
        return self.files.get(fname)


# ---------------------------------------------------------------- the C reader

TOKEN = re.compile(r"[A-Za-z_]\w*|->|[=!<>]=|[{}()\[\];=,.]|\S")
KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "do", "else", "case",
            "goto", "break", "continue", "default", "typeof", "__typeof__", "defined"}


def strip_c(text):
    """Comments and string/char literals blanked, newlines kept (line numbers hold)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


class Source:
    """One file of kmod/: its includes, definitions and references."""

    def __init__(self, root, rel):
        self.rel = rel
        self.header = rel.endswith(".h")
        with open(os.path.join(root, rel)) as f:
            raw = f.read()
        self.lines = raw.count("\n")
        self.includes = []        # (line, "kmod/x.h")
        self.defs = {}            # name -> (line, visible outside this file)
        self.refs = []            # (line, function or None, name)
        self.kinds = {}           # name -> "function" or "variable"
        text = strip_c(raw)
        # Directives: includes noted, the rest blanked but for #define
        # bodies, whose names are references of this file (a macro that
        # calls up calls up wherever it is expanded).
        lines = text.split("\n")
        raw_lines = raw.split("\n")
        macro_tokens = []
        i = 0
        while i < len(lines):
            s = lines[i].lstrip()
            if s.startswith("#"):
                m = re.match(r'\s*#\s*include\s+"([^"]+)"', raw_lines[i])
                if m:
                    tgt = os.path.normpath(os.path.join(os.path.dirname(rel), m.group(1)))
                    self.includes.append((i + 1, tgt))
                start = i
                while lines[i].rstrip().endswith("\\") and i + 1 < len(lines):
                    i += 1
                body = " ".join(lines[start:i + 1])
                d = re.match(r"\s*#\s*define\s+\w+(\([^)]*\))?(.*)", body, re.S)
                if d:
                    macro_tokens.extend((start + 1, t) for t in
                                        re.findall(r"[A-Za-z_]\w*", d.group(2)))
                for k in range(start, i + 1):
                    lines[k] = ""
            i += 1
        toks = []
        for ln, line in enumerate(lines, 1):
            toks.extend((ln, t) for t in TOKEN.findall(line))
        self._walk(toks)
        for ln, t in macro_tokens:
            self.refs.append((ln, None, t))

    def _walk(self, toks):
        """File-scope statements: definitions; bodies: references."""
        n, i = len(toks), 0
        while i < n:
            # One file-scope statement: up to ";" or a "{" at paren depth 0.
            j, depth, stmt = i, 0, []
            while j < n:
                t = toks[j][1]
                if t in ("(", "["):
                    depth += 1
                elif t in (")", "]"):
                    depth -= 1
                elif depth == 0 and t in (";", "{"):
                    break
                stmt.append(toks[j])
                j += 1
            if j >= n:
                break
            words = [t for _, t in stmt]
            if toks[j][1] == "{":
                close = self._match(toks, j)
                fn = self._function_name(stmt)
                if fn is not None and "=" not in words:
                    line, name = fn
                    self._define(name, line, words, "function")
                    self._refs(toks[i:j], fn=name, skip=name)
                    self._refs(toks[j + 1:close], fn=name)
                    i = close + 1
                    continue
                # struct/union/enum body, or an initializer: "= {...}" and on
                # to the ";" that ends the statement.
                k = close + 1
                while k < n and toks[k][1] != ";":
                    if toks[k][1] == "{":
                        k = self._match(toks, k)
                    k += 1
                self._statement(stmt, toks[i:k])
                i = k + 1
                continue
            self._statement(stmt, stmt)
            i = j + 1

    @staticmethod
    def _match(toks, j):
        depth = 0
        for k in range(j, len(toks)):
            if toks[k][1] == "{":
                depth += 1
            elif toks[k][1] == "}":
                depth -= 1
                if depth == 0:
                    return k
        return len(toks) - 1

    @staticmethod
    def _function_name(stmt):
        """The name before the last parenthesised group (annotations after it aside)."""
        k = len(stmt) - 1
        while k >= 0:
            if stmt[k][1] != ")":
                return None
            depth = 0
            while k >= 0:
                if stmt[k][1] == ")":
                    depth += 1
                elif stmt[k][1] == "(":
                    depth -= 1
                    if depth == 0:
                        break
                k -= 1
            k -= 1
            if k < 0 or not re.match(r"[A-Za-z_]", stmt[k][1]):
                return None
            name = stmt[k]
            # __acquires(x), __must_hold(x) and the like after the parameters.
            if name[1].startswith("__") and k > 0 and stmt[k - 1][1] == ")":
                k -= 1
                continue
            if name[1] in KEYWORDS:
                return None
            return name
        return None

    def _define(self, name, line, words, kind="variable"):
        visible = self.header or "static" not in words
        if name not in self.defs or visible:
            self.defs[name] = (line, visible)
            self.kinds[name] = kind

    def _statement(self, stmt, whole):
        """A file-scope declaration or definition that is not a function body."""
        words = [t for _, t in stmt]
        if not words or words[0] in ("struct", "union", "enum", "typedef") and \
                "=" not in words and len(words) <= 3:
            self._refs(whole)
            return
        if words[0] in ("typedef",):
            self._refs(whole)
            return
        m = re.match(r"(DEFINE|DECLARE)_PER_CPU\w*$", words[1] if words[0] == "static"
                     and len(words) > 1 else words[0])
        if m:
            # DEFINE_PER_CPU(type, name): the name is the last word inside.
            close = words.index(")") if ")" in words else len(words)
            name = [t for t in stmt[:close] if re.match(r"[A-Za-z_]", t[1])][-1]
            if m.group(1) == "DEFINE":
                self._define(name[1], name[0], words)
            self._refs(whole, skip=name[1])
            return
        eq, depth = len(words), 0
        for k, w in enumerate(words):
            if w in ("(", "["):
                depth += 1
            elif w in (")", "]"):
                depth -= 1
            elif depth == 0 and w == "=":
                eq = k
                break
        head = stmt[:eq]
        fn = self._function_name(head)
        if fn is not None:
            # A macro used at file scope (EXPORT_SYMBOL(x), module_init(f)),
            # where the name comes first: the names inside are references.
            # Or a prototype, whose name is not.
            self._refs(whole, skip=None if fn is head[0] else fn[1])
            return
        # A variable: its name is the last identifier outside brackets.
        depth, name = 0, None
        for t in head:
            if t[1] in ("(", "["):
                depth += 1
            elif t[1] in (")", "]"):
                depth -= 1
            elif depth == 0 and re.match(r"[A-Za-z_]", t[1]) and not t[1].startswith("__"):
                name = t  # __rcu, __read_mostly and the like are not names
        if name is None:
            self._refs(whole)
            return
        if "extern" not in words:
            self._define(name[1], name[0], words)
        self._refs(whole, skip=name[1])

    def _refs(self, toks, fn=None, skip=None):
        prev = None
        skipped = False
        for ln, t in toks:
            # Members (after . and ->) and tags (struct x) are not references.
            if re.match(r"[A-Za-z_]", t) and prev not in (".", "->", "struct", "union", "enum"):
                if t == skip and not skipped:
                    skipped = True
                else:
                    self.refs.append((ln, fn, t))
            prev = t


# ---------------------------------------------------------------- the model


def kmod_files(root):
    d = os.path.join(root, "kmod")
    # *.mod.c: generated by an in-tree module build.
    return sorted("kmod/" + f for f in os.listdir(d)
                  if f.endswith((".c", ".h")) and not f.endswith(".mod.c"))


class Model:
    def __init__(self, root):
        self.root = root
        self.src = {rel: Source(root, rel) for rel in kmod_files(root)}
        # Names a file can use from another: non-static in .c, all in .h.
        self.owner = {}
        for rel, s in sorted(self.src.items()):
            for name, (line, visible) in s.defs.items():
                if visible:
                    self.owner.setdefault(name, []).append((rel, line))

    def kind(self, name):
        rel = self.owner[name][0][0]
        return self.src[rel].kinds[name]

    def includes(self):
        """(file, line, header) for each #include of a kmod/ file."""
        for rel, s in sorted(self.src.items()):
            for line, tgt in s.includes:
                if tgt in self.src:
                    yield rel, line, tgt

    def calls(self):
        """(file, line, function, symbol, defining file) for each cross-file reference."""
        for rel, s in sorted(self.src.items()):
            for line, fn, name in s.refs:
                if name in s.defs or name not in self.owner:
                    continue
                for other, _ in self.owner[name]:
                    if other != rel:
                        yield rel, line, fn, name, other
                        break


# ---------------------------------------------------------------- the check


def violations(model, table):
    """Every include or reference that goes up, as dicts."""
    out = []

    def up(a, b):
        return table.rank[b] < table.rank[a]

    for rel, line, tgt in model.includes():
        la, lb = table.layer_of(rel), table.layer_of(tgt)
        if la and lb and up(la, lb):
            out.append({"kind": "include", "file": rel, "line": line, "fn": None,
                        "target": tgt, "from": la, "to": lb, "where": tgt})
    for rel, line, fn, name, other in model.calls():
        la = table.layer_of(rel, fn)
        lb = table.layer_of(other, name)
        if la and lb and up(la, lb):
            out.append({"kind": "call", "file": rel, "line": line, "fn": fn,
                        "target": name, "from": la, "to": lb, "where": other,
                        "verb": "calls" if model.kind(name) == "function" else "uses"})
    return out


def describe(v):
    if v["kind"] == "include":
        return "%s:%d: #include \"%s\" (%s -> %s)" % (
            v["file"], v["line"], os.path.basename(v["target"]), v["from"], v["to"])
    return "%s:%d: %s -> %s%s [%s] (%s %s %s)" % (
        v["file"], v["line"], v["fn"] + "()" if v["fn"] else "file scope", v["target"],
        "()" if v["verb"] == "calls" else "", v["where"], v["from"], v["verb"], v["to"])


def check(model, table, verbose):
    errors = []
    files = set(model.src)
    for rel in sorted(files - set(table.files)):
        errors.append("%s has no layer: add it to %s [files]" % (rel, table.path))
    for rel in sorted(set(table.files) - files):
        errors.append("%s is in %s but not in the tree: remove it" % (rel, table.path))
    for (rel, sym), layer in sorted(table.symbols.items()):
        if rel not in model.src or sym not in model.src[rel].defs:
            errors.append("%s: %s:%s names no definition (moved or renamed? update the table)"
                          % (table.path, rel, sym))
    vs = violations(model, table)
    used = set()
    excepted = 0
    for v in vs:
        hit = None
        for k, e in enumerate(table.exceptions):
            if e["kind"] == v["kind"] and e["file"] == v["file"] and e["target"] == v["target"]:
                hit = k
                break
        if hit is None:
            errors.append(("upcall: " if v["kind"] == "call" else "upward include: ") +
                          describe(v))
        else:
            used.add(hit)
            excepted += 1
            if verbose:
                print("excepted: %s  [%s]" % (describe(v), table.exceptions[hit]["why"]))
    for k, e in enumerate(table.exceptions):
        if k not in used:
            arrow = "->" if e["kind"] == "call" else "includes"
            errors.append("%s:%d: stale exception '%s %s %s' matches nothing: the upcall "
                          "is gone, so remove the line" % (
                              table.path, e["line"], e["file"][5:], arrow,
                              e["target"][5:] if e["kind"] == "include" else e["target"]))
    for e in errors:
        print("layers: " + e)
    print("layers: %d files, %d layers, %d upcalls excepted (%d exception lines), %d errors"
          % (len(files), len(table.layers), excepted, len(table.exceptions), len(errors)))
    return not errors


# ---------------------------------------------------------------- the graph


def file_edges(model, table):
    """{(a, b): [references, includes, upward ones]} between files of kmod/."""
    edges = {}
    for rel, _, tgt in model.includes():
        edges.setdefault((rel, tgt), [0, 0, 0])[1] += 1
    for rel, _, _, _, other in model.calls():
        edges.setdefault((rel, other), [0, 0, 0])[0] += 1
    for v in violations(model, table) if table else []:
        edges[(v["file"], v["where"])][2] += 1
    return edges


def sccs(nodes, edges):
    """Tarjan's strongly connected components with more than one node."""
    succ = {n: sorted(b for (a, b) in edges if a == n) for n in nodes}
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return sorted(out)


def path_in(comp, edges, src, dst):
    """A shortest path from src to dst inside the component."""
    prev = {src: None}
    queue = [src]
    while queue:
        a = queue.pop(0)
        if a == dst:
            path = [a]
            while prev[path[-1]] is not None:
                path.append(prev[path[-1]])
            return list(reversed(path))
        for (x, b) in sorted(edges):
            if x == a and b in comp and b not in prev:
                prev[b] = a
                queue.append(b)
    return [src, dst]


def graph(model, table, dot):
    edges = file_edges(model, table)
    nodes = sorted(model.src)
    short = lambda f: f[5:]
    lay = (lambda f: table.layer_of(f) or "?") if table else (lambda f: "?")
    if dot:
        print("digraph kmod {")
        print("\tnode [shape=box, fontname=monospace];")
        for layer in table.layers if table else []:
            members = [n for n in nodes if lay(n) == layer]
            if members:
                print('\tsubgraph "cluster_%s" { label="%s"; %s }' % (
                    layer, layer, " ".join('"%s";' % short(n) for n in members)))
        for (a, b), (c, i, up) in sorted(edges.items()):
            label = ", ".join(x for x in ("%d refs" % c if c else "",
                                          "include" if i else "",
                                          "%d UP" % up if up else "") if x)
            print('\t"%s" -> "%s" [label="%s"%s%s];' % (
                short(a), short(b), label, "" if c else ", style=dashed",
                ", color=red, fontcolor=red" if up else ""))
        print("}")
        return
    print("# files: lines, layer")
    for n in nodes:
        print("%-16s %5d  %s" % (short(n), model.src[n].lines, lay(n)))
    print("%-16s %5d" % ("total", sum(s.lines for s in model.src.values())))
    print("\n# edges: from -> to, references (calls and variables), include, "
          "UP n = n of them upcalls")
    for (a, b), (c, i, up) in sorted(edges.items()):
        print("%-16s -> %-16s %3d %s%s" % (short(a), short(b), c,
                                          "include" if i else "       ",
                                          "  UP %d (%s -> %s)" % (up, lay(a), lay(b))
                                          if up else ""))
    ues = unit_edges(model, table)
    units = sorted({u for e in ues for u in e} | {unit(table, f) for f in nodes})
    comps = sccs(units, ues)
    print("\n# loops: strongly connected components of the units (x.c with x.h; a "
          "symbol the table puts in another layer than its file's on its own): %d"
          % len(comps))
    crossing = 0
    for comp in comps:
        ups = sorted(e for e, u in ues.items() if u and e[0] in comp and e[1] in comp)
        crossing += bool(ups)
        print("%s: %s" % (" ".join(comp), "loops through upcalls" if ups else
                          "peers of one layer (no upcall)"))
        # Each upcall a -> b closes a loop: the shortest way from b down to a.
        for a, b in ups:
            print("    " + " -> ".join(path_in(comp, ues, b, a) + [b]))
        if not ups:
            print("    " + " -> ".join(path_in(comp, ues, comp[0], comp[-1]) +
                                     path_in(comp, ues, comp[-1], comp[0])[1:]))
    print("loops through upcalls: %d" % crossing)


def unit(table, rel, sym=None):
    """x.c and x.h are one unit; a symbol the table puts in another layer
    than its file's is a unit of its own (malloc[module]: goalloc_init())."""
    stem = os.path.splitext(os.path.basename(rel))[0]
    if table and sym is not None and (rel, sym) in table.symbols and \
            table.symbols[(rel, sym)] != table.layer_of(rel):
        return "%s[%s]" % (stem, table.symbols[(rel, sym)])
    return stem


def unit_edges(model, table):
    """{(unit a, unit b): whether an upcall is among them} over includes and references."""
    edges = {}

    def add(a, b, up):
        if a != b:
            edges[(a, b)] = edges.get((a, b), False) or up

    ups = {(v["file"], v["line"], v["target"]) for v in violations(model, table)} \
        if table else set()
    for rel, line, tgt in model.includes():
        add(unit(table, rel), unit(table, tgt), (rel, line, tgt) in ups)
    for rel, line, fn, name, other in model.calls():
        add(unit(table, rel, fn), unit(table, other, name), (rel, line, name) in ups)
    return edges


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=TOP)
    ap.add_argument("--table")
    ap.add_argument("--graph", action="store_true")
    ap.add_argument("--dot", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="also list the excepted upcalls")
    args = ap.parse_args()
    table_path = args.table or os.path.join(args.root, "kmod/layers.txt")
    try:
        table = Table(table_path, os.path.relpath(table_path, args.root)
                      if not args.table else None)
    except (OSError, TableError) as e:
        print("layers: %s" % e)
        if args.graph or args.dot:
            table = None
        else:
            return 1
    model = Model(args.root)
    if args.graph or args.dot:
        graph(model, table, args.dot)
        return 0
    return 0 if check(model, table, args.verbose) else 1


if __name__ == "__main__":
    sys.exit(main())
