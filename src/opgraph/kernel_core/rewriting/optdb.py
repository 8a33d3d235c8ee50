"""PyTensor's database vocabulary over opgraph's single tag database.

opgraph keeps one table of rewrites (``db.rewrite_db``): every entry has tags
and a phase position.  PyTensor users reach it through ``optdb`` (a
``SequenceDB`` whose items are the phases), ``optdb["canonicalize"]`` (an
``EquilibriumDB`` view of one phase), ``RewriteDatabaseQuery`` and the
``register_canonicalize`` / ``register_stabilize`` / ``register_specialize``
decorators.  These are views: registering through them writes into
``rewrite_db``, and querying them runs opgraph's driver.

A stand-alone ``EquilibriumDB()`` / ``SequenceDB()`` (not a view) holds its own
rewriters; registered into ``optdb`` it runs as one graph rewriter at its
position, applying every rewriter it holds.
"""

from __future__ import annotations

from opgraph.kernel_core.rewriting.db import (
    PHASES, GraphRewriter, NodeRewriter, _as_tags, rewrite_db, rewriter_name,
)


class RewriteDatabaseQuery:
    """Tags to select rewrites: any of ``include``, all of ``require``, none of ``exclude``."""

    def __init__(self, include=(), require=(), exclude=(), subquery=None, position_cutoff=None,
                 extra_rewrites=None, name=None):
        for arg, value in (("subquery", subquery), ("position_cutoff", position_cutoff),
                           ("extra_rewrites", extra_rewrites)):
            if value:
                raise NotImplementedError(f"RewriteDatabaseQuery({arg}=...) is not implemented in opgraph "
                                          "(tags select rewrites directly; phases run in their fixed order)")
        self.include = tuple(_as_tags(include, "include"))
        self.require = tuple(_as_tags(require, "require"))
        self.exclude = tuple(_as_tags(exclude, "exclude"))
        self.name = name

    def including(self, *tags):
        return RewriteDatabaseQuery(self.include + tags, self.require, self.exclude, name=self.name)

    def excluding(self, *tags):
        return RewriteDatabaseQuery(self.include, self.require, self.exclude + tags, name=self.name)

    def requiring(self, *tags):
        return RewriteDatabaseQuery(self.include, self.require + tags, self.exclude, name=self.name)

    def __eq__(self, other):
        return (isinstance(other, RewriteDatabaseQuery)
                and (self.include, self.require, self.exclude) == (other.include, other.require, other.exclude))

    def __hash__(self):
        return hash((self.include, self.require, self.exclude))

    def __repr__(self):
        return f"RewriteDatabaseQuery(include={self.include}, require={self.require}, exclude={self.exclude})"


def _as_query(args, kwargs):
    """``query(RewriteDatabaseQuery)``, ``query("tag", ...)`` or ``query(include=..., exclude=...)``."""
    if len(args) == 1 and isinstance(args[0], RewriteDatabaseQuery) and not kwargs:
        return args[0]
    for a in args:
        if not isinstance(a, str):
            raise TypeError(f"query: expected a RewriteDatabaseQuery or tag strings, got {a!r}")
    include = tuple(args) + tuple(_as_tags(kwargs.pop("include", ()), "include"))
    return RewriteDatabaseQuery(include=include, **kwargs)


class QueriedRewriter(GraphRewriter):
    """What querying ``optdb`` returns: the selected phases, run as ``rewrite_graph`` runs them."""

    def __init__(self, query, phase=None):
        self.query = query
        self.phase = phase
        super().__init__(None, name=query.name or (phase or "optdb"))

    def apply(self, fgraph):
        from opgraph.kernel_core.rewriting.api import rewrite_fgraph

        return rewrite_fgraph(fgraph, include=self.query.include, exclude=self.query.exclude,
                              require=self.query.require, phase=self.phase)


class _LocalDB:
    """Shared behaviour of the stand-alone databases: their own (name, rewriter, tags, position) rows."""

    def __init__(self):
        self._rows = {}

    def register(self, name, rewriter, *tags, position=None, use_db_name_as_tag=True):
        _db_name_is_a_tag(use_db_name_as_tag)
        if not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}.register(name, rewriter, *tags): name must be a string, "
                            f"got {name!r}")
        rewriter = _as_rewriter(rewriter, name)
        self._rows[name] = (rewriter, frozenset(tags) | {name}, 0.0 if position is None else float(position),
                            len(self._rows))

    def __getitem__(self, name):
        return self._rows[name][0]

    def __contains__(self, name):
        return name in self._rows

    def _selected(self, query):
        wanted, excluded, required = set(query.include), set(query.exclude), set(query.require)
        rows = sorted(self._rows.values(), key=lambda r: (r[2], r[3]))
        return [r[0] for r in rows if (not wanted or r[1] & wanted)
                and not r[1] & excluded and required <= r[1]]


class EquilibriumDB(_LocalDB):
    """Node rewriters applied together until nothing changes.

    ``optdb["canonicalize"]`` (and the other phases) are views of opgraph's
    phases; ``EquilibriumDB()`` is a fresh, stand-alone database.
    """

    def __init__(self, ignore_newtrees=True, tracks_on_change_inputs=False, phase=None):
        # ignore_newtrees / tracks_on_change_inputs only change the order nodes
        # are visited in: opgraph's worklist always runs to the same fixed point.
        super().__init__()
        if phase is not None and phase not in PHASES:
            raise KeyError(f"no rewrite phase {phase!r}; phases: {', '.join(PHASES)}")
        self.phase = phase

    def register(self, name, rewriter, *tags, position=None, use_db_name_as_tag=True):
        _db_name_is_a_tag(use_db_name_as_tag)
        if self.phase is None:
            return super().register(name, rewriter, *tags, position=position)
        rewrite_db.register(_as_rewriter(rewriter, name), self.phase, *tags, name=name,
                            position=position)
        return rewriter

    def __getitem__(self, name):
        if self.phase is None:
            return super().__getitem__(name)
        return rewrite_db[name].rewrite

    def __contains__(self, name):
        if self.phase is None:
            return super().__contains__(name)
        return name in rewrite_db and rewrite_db[name].position == PHASES[self.phase]

    def query(self, *args, **kwargs):
        query = _as_query(args, kwargs)
        if self.phase is not None:
            return QueriedRewriter(query, phase=self.phase)
        from opgraph.kernel_core.rewriting.rewriters import EquilibriumGraphRewriter, SequentialGraphRewriter

        selected = self._selected(query)
        if not selected:  # nothing matches: a rewriter that does nothing
            return SequentialGraphRewriter(name=query.name)
        return EquilibriumGraphRewriter(selected, name=query.name)

    def __repr__(self):
        return f"EquilibriumDB({self.phase!r})" if self.phase else "EquilibriumDB()"


class SequenceDB(_LocalDB):
    """Graph rewriters run in position order.  ``optdb`` is the view of opgraph's whole database."""

    def __init__(self, failure_callback=None, _global=False):
        if failure_callback is not None:
            raise NotImplementedError("SequenceDB(failure_callback=...) is not implemented in opgraph: "
                                      "an exception in a rewriter always propagates")
        super().__init__()
        self._global = _global

    def register(self, name, rewriter, *tags, position=None, use_db_name_as_tag=True):
        _db_name_is_a_tag(use_db_name_as_tag)
        if not self._global:
            return super().register(name, rewriter, *tags, position=position)
        if name in PHASES:
            raise ValueError(f"optdb.register: {name!r} is one of opgraph's phases; register rules in it "
                             f"with optdb[{name!r}].register(...) or register_{name}")
        if position is None:
            raise TypeError("optdb.register(name, rewriter, *tags, position=...) needs a position "
                            f"(phases: {', '.join(f'{k} {v}' for k, v in PHASES.items())})")
        rewrite_db.register(_as_rewriter(rewriter, name), *tags, name=name, position=position)
        return rewriter

    def __getitem__(self, name):
        if not self._global:
            return super().__getitem__(name)
        if name in PHASES:
            return _PHASE_VIEWS[name]
        if name in rewrite_db:
            return rewrite_db[name].rewrite
        raise KeyError(f"optdb has no {name!r}; phases: {', '.join(PHASES)}")

    def __contains__(self, name):
        if not self._global:
            return super().__contains__(name)
        return name in PHASES or name in rewrite_db

    def query(self, *args, **kwargs):
        query = _as_query(args, kwargs)
        if self._global:
            return QueriedRewriter(query)
        from opgraph.kernel_core.rewriting.rewriters import SequentialGraphRewriter

        return SequentialGraphRewriter(*self._selected(query), name=query.name)

    def __repr__(self):
        return "optdb" if self._global else "SequenceDB()"


def _db_name_is_a_tag(flag):
    if not flag:
        raise NotImplementedError("register(..., use_db_name_as_tag=False) is not implemented in opgraph: "
                                  "a rewrite is always selectable by its phase's name")


class _DBRewriter(GraphRewriter):
    """A stand-alone database registered as one step: runs every rewriter it holds."""

    def __init__(self, db, name):
        self.db = db
        super().__init__(None, name=name)

    def apply(self, fgraph):
        return self.db.query(RewriteDatabaseQuery()).rewrite(fgraph)


def _as_rewriter(rewriter, name):
    if isinstance(rewriter, (EquilibriumDB, SequenceDB)):
        if getattr(rewriter, "phase", None) is not None or getattr(rewriter, "_global", False):
            raise ValueError(f"cannot register {rewriter!r} inside another database")
        return _DBRewriter(rewriter, name)
    if not isinstance(rewriter, (NodeRewriter, GraphRewriter)):
        raise TypeError(f"register {name!r}: expected a NodeRewriter, GraphRewriter or database, got {rewriter!r:.60}")
    return rewriter


_PHASE_VIEWS = {name: EquilibriumDB(phase=name) for name in PHASES}
optdb = SequenceDB(_global=True)


def _registrar(phase, default_tags):
    def register(rewriter=None, *tags, name=None, position=None, use_db_name_as_tag=True):
        _db_name_is_a_tag(use_db_name_as_tag)
        if rewriter is None or isinstance(rewriter, str):  # @register_x("tag", ...) or @register_x()
            all_tags = (() if rewriter is None else (rewriter,)) + tags

            def deco(inner):
                return register(inner, *all_tags, name=name, position=position)

            return deco
        rw = _as_rewriter(rewriter, name or rewriter_name(rewriter))
        rewrite_db.register(rw, phase, *default_tags, *tags, name=name or rewriter_name(rewriter),
                            position=position)
        return rewriter

    register.__name__ = register.__qualname__ = f"register_{phase}"
    register.__doc__ = (f"Register a rewriter in the {phase} phase (tags {', '.join(default_tags)} added), "
                        f"as PyTensor's ``register_{phase}``: ``@register_{phase}``, "
                        f"``@register_{phase}(\"tag\", ...)`` or ``register_{phase}(rewriter, \"tag\")``.")
    return register


# PyTensor's defaults: canonicalizations also run in FAST_COMPILE.
register_canonicalize = _registrar("canonicalize", ("fast_run", "fast_compile"))
register_stabilize = _registrar("stabilize", ("fast_run",))
register_specialize = _registrar("specialize", ("fast_run",))

__all__ = ["RewriteDatabaseQuery", "EquilibriumDB", "SequenceDB", "optdb", "register_canonicalize",
           "register_stabilize", "register_specialize"]
