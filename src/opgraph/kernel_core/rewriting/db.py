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

import difflib
import itertools
import types

PHASES = {"canonicalize": 1, "stabilize": 2, "specialize": 3, "fusion": 4, "inplace": 5}
# Tags that select whole groups of phases rather than individual rules.
META_TAGS = {"fast_run": tuple(PHASES), "fast_compile": ()}

_order = itertools.count()


class NodeRewriter:
    """A rewrite of one node: ``transform(fgraph, node)`` -> None/False | list | dict.

    Built from a function (``NodeRewriter(fn, tracks)``, or ``@node_rewriter``),
    or subclassed the way PyTensor documents it: override ``transform`` and,
    optionally, ``tracks()`` (subclasses need not call ``__init__``).

    ``tracks()`` returns a list of Op classes or Op instances; an ``Elemwise``
    instance (``pt.log``) matches every Elemwise node with an equal
    ``scalar_op``.  ``None`` means every node.
    """

    # Class-level defaults, so a subclass that skips __init__ still works.
    fn = None
    name = None
    _tracks = None
    requirements = ()

    def __init__(self, fn=None, tracks=None, name=None):
        self.fn = fn
        self._tracks = _as_track_list(tracks)
        self.name = name or getattr(fn, "__name__", None)
        if fn is not None:
            self.__doc__ = getattr(fn, "__doc__", None)

    def tracks(self):
        return self._tracks

    def add_requirements(self, fgraph):
        """Attach what ``transform`` needs; the drivers call it before a run."""
        for req in self.requirements:
            req(fgraph)

    def transform(self, fgraph, node):
        if self.fn is None:
            raise NotImplementedError(f"{type(self).__name__} must define transform(fgraph, node)")
        return self.fn(fgraph, node)

    def __call__(self, fgraph, node):
        return self.transform(fgraph, node)

    def __str__(self):
        return self.name or type(self).__name__

    def __repr__(self):
        return f"<NodeRewriter {self}>"


def _as_track_list(tracks):
    if tracks is None:
        return None
    if not isinstance(tracks, (list, tuple)):
        tracks = [tracks]
    return list(tracks)


def rewriter_name(rewriter):
    """The name a rewriter is registered and reported under: its ``name``, else ``str()``."""
    name = getattr(rewriter, "name", None)
    return name if isinstance(name, str) and name else str(rewriter)


class GraphRewriter:
    """A whole-graph pass: ``apply(fgraph)`` changes the graph through ``fgraph.replace``.

    Built from a function (``GraphRewriter(fn)`` / ``@graph_rewriter``) or
    subclassed as in PyTensor: override ``apply`` (and ``add_requirements`` to
    attach features); ``rewrite(fgraph)`` runs both.
    """

    fn = None
    name = None

    def __init__(self, fn=None, name=None):
        self.fn = fn
        self.name = name or getattr(fn, "__name__", None)
        if fn is not None:
            self.__doc__ = getattr(fn, "__doc__", None)

    def add_requirements(self, fgraph):
        """Attach the features ``apply`` needs (none by default)."""

    def apply(self, fgraph):
        if self.fn is None:
            raise NotImplementedError(f"{type(self).__name__} must define apply(fgraph)")
        return self.fn(fgraph)

    def rewrite(self, fgraph, *args, **kwargs):
        self.add_requirements(fgraph)
        if type(self).__module__.startswith("opgraph."):
            return self.apply(fgraph, *args, **kwargs)  # opgraph's passes print their own steps
        from opgraph.kernel_core.rewriting.verbose import printing_replacements

        with printing_replacements(fgraph, rewriter_name(self)):  # a user's pass: print what it replaces
            return self.apply(fgraph, *args, **kwargs)

    def __call__(self, fgraph):
        return self.rewrite(fgraph)

    def __str__(self):
        return self.name or type(self).__name__

    def __repr__(self):
        return f"<GraphRewriter {self}>"


def node_rewriter(tracks, name=None, inplace=False, requirements=()):
    """Decorator: turn ``fn(fgraph, node)`` into a NodeRewriter tracking ``tracks``.

    ``tracks``: Op classes, Op instances or Elemwise functions (``pt.abs``), or None.
    ``requirements``: callables ``req(fgraph)`` run before the rewriter is
    applied (to attach features it needs).
    """
    if isinstance(tracks, types.FunctionType):  # used bare: @node_rewriter
        raise TypeError("node_rewriter needs the list of Ops it tracks: @node_rewriter([pt.log]) "
                        "(or tracks=None for every node)")
    if inplace:
        # The node driver replaces without destroy-map validation; destructive
        # rewrites belong to the inplace phase, which checks every change.
        raise NotImplementedError("node_rewriter(inplace=True) is not implemented in opgraph: register a "
                                  "graph rewriter in the 'inplace' phase (see rewriting/inplace.py)")
    for req in requirements:
        if not callable(req):
            raise TypeError(f"node_rewriter: requirements must be callables req(fgraph), got {req!r}")

    if tracks is not None:
        from opgraph.kernel_core.rewriting.driver import check_tracks

        tracks = check_tracks(tracks)

    def deco(fn):
        rw = NodeRewriter(fn, tracks, name=name)
        rw.requirements = tuple(requirements)
        return rw

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
        # optimizer_verbose reports a user rewriter by its own str() (PyTensor
        # prints str(rewriter)), opgraph's rules by their registered name.
        own_str = getattr(type(rewrite).__str__, "__module__", "") or ""
        self.display = str(rewrite) if not own_str.startswith(("opgraph.", "builtins")) else name
        # A rewriter written by a user (its function or class lives outside opgraph):
        # a replacement of the wrong type is their bug and raises, where opgraph's own
        # rules may propose candidates the driver declines.
        fn = getattr(rewrite, "fn", None)
        origin = (getattr(fn, "__module__", None) if fn is not None else type(rewrite).__module__) or ""
        self.user_defined = not origin.startswith("opgraph.")

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
        name = name or rewriter_name(rewrite)
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

    def query(self, include=(), exclude=(), require=()):
        """Entries selected by ``include``, carrying every ``require`` tag, minus ``exclude``."""
        include, exclude = _as_tags(include, "include"), _as_tags(exclude, "exclude")
        require = _as_tags(require, "require")
        unknown = self.unknown_tags(include + exclude + require)
        if unknown:
            raise ValueError(unknown_tags_message(unknown, self.known_tags()))
        wanted = set()
        for t in include:
            wanted.add(t)
            wanted.update(META_TAGS.get(t, ()))
        excluded, required = set(exclude), set(require)
        return [e for e in self.entries()
                if e.tags & wanted and not e.tags & excluded and required <= e.tags]

    def unknown_tags(self, tags):
        known = self.known_tags()
        return [t for t in dict.fromkeys(tags) if t not in known]


def unknown_tags_message(unknown, known):
    """One short line: the unknown tags and, for each, the closest known ones (not all of them)."""
    parts = []
    for t in unknown:
        close = difflib.get_close_matches(t, sorted(known), n=3, cutoff=0.6)
        hint = f" (closest known tags: {', '.join(map(repr, close))})" if close else ""
        parts.append(f"{t!r}{hint}")
    return (f"Unknown rewrite tag{'s' if len(unknown) > 1 else ''} {'; '.join(parts)}; "
            "opgraph.graph.rewriting.known_tags() lists them all")


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
