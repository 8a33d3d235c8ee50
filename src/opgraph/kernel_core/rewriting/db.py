"""The rewrite database: node / graph rewriters registered under tags.

A *node rewriter* looks at one Apply node and proposes replacements for its
outputs; it declares the Op classes (or Op instances) it ``tracks`` so the
driver only calls it on nodes it can possibly change.  A *graph rewriter* is a
whole-graph pass (fusion, inplace).  Both are registered in the single
database ``rewrite_db`` under tags; ``rewrite_graph(include=..., exclude=...)``
selects by tag.

Phases run in order of their *position*::

    canonicalize 1, stabilize 2, specialize 3, fusion 4, inplace 5

``fast_run`` selects every phase; ``fast_compile`` only the rules explicitly
tagged ``fast_compile``.  Every rule is also tagged with its own name, so
``exclude=("log1p",)`` switches one rule off.
"""

from __future__ import annotations

import itertools

PHASES = {"canonicalize": 1, "stabilize": 2, "specialize": 3, "fusion": 4, "inplace": 5}
# Tags that select whole groups of phases rather than individual rules.
META_TAGS = {"fast_run": tuple(PHASES), "fast_compile": ()}

_order = itertools.count()


class NodeRewriter:
    """A rewrite of one node: ``fn(fgraph, node)`` -> None | list | dict.

    ``tracks`` is a list of Op classes or Op instances; an ``Elemwise``
    instance matches every Elemwise node with an equal ``scalar_op`` (and an
    Elemwise *class* of scalar op, e.g. ``tracks=[Elemwise(ps.log)]``).
    ``tracks=None`` means every node.
    """

    def __init__(self, fn, tracks=None, name=None):
        self.fn = fn
        self.tracks = None if tracks is None else list(tracks)
        self.name = name or getattr(fn, "__name__", type(self).__name__)
        self.__doc__ = getattr(fn, "__doc__", None)

    def transform(self, fgraph, node):
        return self.fn(fgraph, node)

    def __call__(self, fgraph, node):
        return self.transform(fgraph, node)

    def __repr__(self):
        return f"<NodeRewriter {self.name}>"


class GraphRewriter:
    """A whole-graph pass: ``fn(fgraph)``; returns nothing (changes go through fgraph.replace)."""

    def __init__(self, fn, name=None):
        self.fn = fn
        self.name = name or getattr(fn, "__name__", type(self).__name__)
        self.__doc__ = getattr(fn, "__doc__", None)

    def apply(self, fgraph):
        return self.fn(fgraph)

    def __call__(self, fgraph):
        return self.apply(fgraph)

    def __repr__(self):
        return f"<GraphRewriter {self.name}>"


def node_rewriter(tracks, name=None):
    """Decorator: turn ``fn(fgraph, node)`` into a NodeRewriter tracking ``tracks``."""
    if tracks is not None and not isinstance(tracks, (list, tuple)):
        tracks = [tracks]

    def deco(fn):
        return NodeRewriter(fn, tracks, name=name)

    return deco


def graph_rewriter(name=None):
    """Decorator: turn ``fn(fgraph)`` into a GraphRewriter."""
    if callable(name):  # used bare: @graph_rewriter
        return GraphRewriter(name)

    def deco(fn):
        return GraphRewriter(fn, name=name)

    return deco


class Entry:
    """One registered rewrite: its tags, phase position and registration order."""

    def __init__(self, rewrite, name, tags, position):
        self.rewrite = rewrite
        self.name = name
        self.tags = frozenset(tags) | {name}
        self.position = position
        self.order = next(_order)

    @property
    def is_graph_rewriter(self):
        return isinstance(self.rewrite, GraphRewriter)

    def __repr__(self):
        return f"<Entry {self.name} @{self.position} tags={sorted(self.tags)}>"


class RewriteDatabase:
    def __init__(self):
        self._entries = {}

    def register(self, rewrite, *tags, name=None, position=None):
        if callable(rewrite) and not isinstance(rewrite, (NodeRewriter, GraphRewriter)):
            raise TypeError(
                f"register_rewrite: {rewrite!r} is a plain function; decorate it with "
                "@node_rewriter([...]) or @graph_rewriter()")
        if not isinstance(rewrite, (NodeRewriter, GraphRewriter)):
            raise TypeError(f"register_rewrite: expected a NodeRewriter or GraphRewriter, got {rewrite!r}")
        name = name or rewrite.name
        for t in tags:
            if not isinstance(t, str):
                raise TypeError(f"register_rewrite: tags must be strings, got {t!r}")
        if position is None:
            # Without a phase tag a rule runs with the canonicalizations
            # (only when one of its own tags is included).
            phase_positions = [PHASES[t] for t in tags if t in PHASES] or [PHASES["canonicalize"]]
            position = min(phase_positions)
        # Re-registering a name replaces the old rule (re-running a notebook cell).
        self._entries[name] = Entry(rewrite, name, tags, float(position))
        return rewrite

    def remove(self, name):
        self._entries.pop(name, None)

    def __contains__(self, name):
        return name in self._entries

    def __getitem__(self, name):
        return self._entries[name]

    def entries(self):
        return sorted(self._entries.values(), key=lambda e: (e.position, e.order))

    def known_tags(self):
        tags = set(PHASES) | set(META_TAGS)
        for e in self._entries.values():
            tags |= e.tags
        return tags

    def query(self, include=(), exclude=()):
        """Entries selected by ``include`` minus those carrying a tag in ``exclude``."""
        include, exclude = _as_tags(include, "include"), _as_tags(exclude, "exclude")
        known = self.known_tags()
        unknown = [t for t in include + exclude if t not in known]
        if unknown:
            raise ValueError(
                f"Unknown rewrite tag{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                f"known tags: {', '.join(sorted(known))}")
        wanted = set()
        for t in include:
            wanted.add(t)
            wanted.update(META_TAGS.get(t, ()))
        excluded = set(exclude)
        return [e for e in self.entries() if e.tags & wanted and not e.tags & excluded]


def _as_tags(tags, what):
    if tags is None:
        return []
    if isinstance(tags, str):
        return [tags]
    try:
        tags = list(tags)
    except TypeError:
        raise TypeError(f"{what} must be a tuple of tag strings, got {tags!r}") from None
    for t in tags:
        if not isinstance(t, str):
            raise TypeError(f"{what} must contain tag strings, got {t!r}")
    return tags


rewrite_db = RewriteDatabase()


def register_rewrite(rewrite, *tags, name=None, position=None):
    """Register ``rewrite`` in the global database under ``tags`` (usable as a decorator).

    ``@register_rewrite("canonicalize")`` above a ``@node_rewriter`` works too.
    """
    if isinstance(rewrite, str):  # decorator form: register_rewrite("tag", ...)
        all_tags = (rewrite,) + tags

        def deco(rw):
            rewrite_db.register(rw, *all_tags, name=name, position=position)
            return rw

        return deco
    return rewrite_db.register(rewrite, *tags, name=name, position=position)
