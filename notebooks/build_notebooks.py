"""Build the tutorial notebooks from the cell lists below, and optionally execute them.

The notebooks are *generated*: edit the cells here, not the .ipynb files, then run

    python notebooks/build_notebooks.py            # write and execute them all
    python notebooks/build_notebooks.py 03 05      # only the notebooks whose names start so
    python notebooks/build_notebooks.py --no-execute

Executing stores the outputs in the .ipynb files; ``pytest --nbval`` then re-runs each
notebook and compares every cell's output with the stored one (after the substitutions
of ``notebooks/sanitize.cfg``). Cells whose output cannot be stable (timings, profiles,
drawings whose bytes depend on the graphviz version) carry the ``nbval-ignore-output``
tag: they still have to run without error, only their output is not compared.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
IGNORE = "nbval-ignore-output"


def md(text):
    return nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip("\n"))


def code(text, *tags):
    cell = nbformat.v4.new_code_cell(textwrap.dedent(text).strip("\n"))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


# Every notebook starts the same way: the imports, the extension, a seeded RNG.
def preamble(extra_imports=""):
    imports = """
        import numpy as np

        import opgraph
        import opgraph.tensor as pt
    """
    return code(textwrap.dedent(imports).strip("\n") + ("\n" + textwrap.dedent(extra_imports).strip("\n") if extra_imports else "")
                + "\n\n%load_ext opgraph\nrng = np.random.default_rng(2024)")


# --------------------------------------------------------------------------------------
# 01 What is opgraph
# --------------------------------------------------------------------------------------
def nb01():
    return [
        md("""
        # 1. What is opgraph?

        opgraph is a library to **define**, **manipulate** and **compile** computational graphs of
        array (NumPy) programs. Its API mirrors PyTensor's, so most PyTensor snippets run with
        `pytensor` replaced by `opgraph`.

        **In this notebook you will learn**

        * how a symbolic graph differs from a NumPy computation, and how to read it with `dprint`;
        * what a graph is made of: variables, `Apply` nodes, ops and types (notebook 2 goes deeper);
        * the three kinds of graph manipulation: replacement (`graph_replace`), rewriting
          (`rewrite_graph`) and transformation (`grad`, `vectorize_graph`), and that they compose;
        * how `opgraph.function` compiles a graph into a fast callable, and how to look at the
          compiled graph;
        * how the `%%pytensor` cell magic shows all of this without extra code.
        """),
        md("""
        ## Set-up

        `%load_ext opgraph` registers the `%%pytensor` cell magic and the rich displays.
        We seed the random generator so that every number printed below is reproducible.
        """),
        preamble(),
        md("""
        ## (1) Definition

        With NumPy, every line computes numbers:
        """),
        code("""
        x = np.array([0, 1, np.e])
        y = np.log(1 + x)
        y
        """),
        md("""
        With opgraph the same code builds a *graph*. `x` is a placeholder (a symbolic vector of three
        floats) and `y` is a symbol standing for "the log of one plus x" — no number is computed yet.
        """),
        code("""
        x = pt.tensor(shape=(3,), dtype="float64")  # a placeholder
        y = pt.log(1 + x)                            # a symbolic computation
        y, type(y)
        """),
        md("""
        `dprint` ("debug print") shows the graph as a tree, output at the top. Each line is a node;
        `[id B]` labels let you spot nodes used more than once. The integer `1` became a constant of
        the smallest dtype that holds it (`int8`) and was broadcast with `ExpandDims` to add it to a vector.
        """),
        code("""
        y.dprint();
        """),
        md("""
        `y` is the output of an `Apply` node (its *owner*), which applies an `Op` (here an elementwise
        `log`) to input variables. Each variable has a *type*.
        """),
        code("""
        y.type
        """),
        code("""
        y.owner, type(y.owner)
        """),
        code("""
        y.owner.op, type(y.owner.op)
        """),
        code("""
        y.owner.outputs, y.owner.outputs == [y]
        """),
        code("""
        y.owner.inputs
        """),
        code("""
        y.owner.inputs[0].dprint();  # and the story begins again, one level up
        """),
        md("""
        A graph can be evaluated directly, which is handy to check it:
        """),
        code("""
        y.eval({x: np.array([0, 1, np.e])})
        """),
        md("""
        The same with the cell magic: `%%pytensor` runs the cell and displays the graphs it defines
        (here the last expression) as the text tree next to a drawing. `--format text|svg|both`
        chooses the views.
        """),
        code("""
        %%pytensor
        x = pt.tensor(shape=(3,), dtype="float64")
        y = pt.log(1 + x)
        y
        """),
        md("""
        ## (2) Manipulation

        Every manipulation takes graphs and returns new graphs; the input graph is never modified.

        ### Replacement

        `graph_replace` swaps a subgraph for another one.
        """),
        code("""
        from opgraph.graph.replace import graph_replace

        a = pt.tensor("a", shape=(None,))
        b = 2 * np.pi * a
        c = pt.sin(b)
        d = 1 + c
        d.dprint();
        """),
        code("""
        graph_replace(d, {c: pt.cos(b)}).dprint();
        """),
        md("""
        Replacements must keep the type: a vector cannot stand in for a scalar. The error says why.
        """),
        code("""
        s = pt.dscalar("s")
        f_of_s = pt.log(1 + s)
        s_vec = pt.tensor("s_vec", shape=(None,))
        try:
            graph_replace(f_of_s, {s: s_vec})
        except (TypeError, ValueError) as err:
            print(err)
        """),
        md("""
        ### Vectorization

        `vectorize_graph` is the replacement that *changes the meaning*: the graph is rebuilt for an
        input with more (batch) dimensions, and every op learns how to batch itself.
        """),
        code("""
        from opgraph.graph.replace import vectorize_graph

        f_of_s.dprint(print_type=True);
        """),
        code("""
        f_of_vec = vectorize_graph(f_of_s, {s: s_vec})
        f_of_vec.dprint(print_type=True);
        """),
        md("""
        ### Rewrites

        Rewrites replace patterns by equivalent, better ones. The `stabilize` rewrites turn
        `log(1 + x)` into `log1p(x)`, which is accurate for tiny `x`:
        """),
        code("""
        from opgraph.graph import rewrite_graph

        stable_y = rewrite_graph(y, include=("stabilize",))
        stable_y.dprint();
        """),
        code("""
        tiny = np.array([1e-20, 1e-10, 1.0])
        y.eval({x: tiny}), stable_y.eval({x: tiny})
        """),
        md("""
        With the magic, `-r TAGS` shows the graph before and after, and which rules fired:
        """),
        code("""
        %%pytensor -r stabilize
        y = pt.log(1 + x)
        """),
        md("""
        ### Differentiation

        `grad` is a graph-to-graph transformation too: it walks the graph backwards and returns the
        graph of the gradient. `Second(a, b)` means "`b` broadcast to the shape of `a`"
        (`np.broadcast_arrays(a, b)[1]`).
        """),
        code("""
        from opgraph.gradient import grad

        grad_y = grad(stable_y.sum(), wrt=x)
        grad_y.dprint();
        """),
        md("""
        Raw gradients are verbose; `canonicalize` simplifies them and `specialize` picks faster ops:
        the derivative of $\\log(1 + x)$ is $1 / (1 + x)$.
        """),
        code("""
        rewrite_graph(grad_y, include=("canonicalize",)).dprint();
        """),
        code("""
        rewrite_graph(grad_y, include=("canonicalize", "specialize")).dprint();
        """),
        md("""
        ### Scalarization

        Asking for one entry of a big elementwise result should not compute the whole array: the
        default rewrites push the indexing down to the input.
        """),
        code("""
        new_x = pt.matrix("new_x", shape=(2, 3))
        new_y = vectorize_graph(y, {x: new_x})
        one_entry = new_y[0, 1]
        one_entry.dprint(print_type=True);
        """),
        code("""
        rewrite_graph(one_entry).dprint(print_type=True);
        """),
        md("""
        ### Manipulations compose

        Replace `x` by `exp(x)`, then stabilize: `log(1 + exp(x))` becomes a single `Softplus`.
        """),
        code("""
        log_x = pt.vector("log_x", shape=(3,))
        y_of_exp = graph_replace(y, {x: pt.exp(log_x)})
        y_of_exp.dprint();
        """),
        code("""
        rewrite_graph(y_of_exp, include=("stabilize",)).dprint();
        """),
        md("""
        ## (3) Compilation

        `opgraph.function(inputs, outputs)` is the one graph operation that does not return a graph:
        it rewrites the graph for speed and compiles it into a callable. The default mode compiles
        with Numba.
        """),
        code("""
        x = pt.vector("x", shape=(None,))
        z = pt.exp(pt.sin(x))
        out = pt.cos((z[None, :] @ z[:, None]).squeeze())
        out.dprint();
        """),
        code("""
        y_fn = opgraph.function([x], out)
        type(y_fn)
        """),
        code("""
        y_fn(rng.normal(size=3))
        """),
        code("""
        y_fn(rng.normal(size=5))
        """),
        md("""
        The compiled graph is different from the one we wrote: `exp(sin(x))` was *fused* into one
        `Composite` loop (shown in the `Inner graphs` section) and is computed once and reused; the
        batched matrix product without batch dimensions became a plain `dot`; and `d={0: [0]}`
        marks an op that writes its output into its input's buffer (*inplace*).
        The number after each node is its position in the execution order.
        """),
        code("""
        y_fn.dprint(print_destroy_map=True);
        """),
        md("""
        The result agrees with NumPy:
        """),
        code("""
        x_val = rng.normal(size=4)
        z_val = np.exp(np.sin(x_val))
        np.allclose(y_fn(x_val), np.cos(z_val @ z_val))
        """),
        md("""
        `%%pytensor -c` compiles the cell's output and shows the compiled graph:
        """),
        code("""
        %%pytensor -c --format text
        x = pt.vector("x", shape=(None,))
        z = pt.exp(pt.sin(x))
        out = pt.cos((z[None, :] @ z[:, None]).squeeze())
        """),
        md("""
        ## Where next

        * **2. Graph structures** — variables, `Apply`, ops, types, constants, traversal.
        * **3. Rewrites** — the rewrite database, writing your own rule, the rewrite stepper.
        * **4. Gradients and vectorization** — and how they compose.
        * **5. Compilation** — modes, fusion, inplace, profiling, the disk cache.
        * **6. Logistic regression** — everything together on a real (small) problem.
        """),
    ]


# --------------------------------------------------------------------------------------
# 02 Graph structures
# --------------------------------------------------------------------------------------
def nb02():
    return [
        md("""
        # 2. Graph structures

        Every opgraph program is a graph of a few kinds of objects. Knowing them lets you read any
        graph and write code that walks or changes graphs.

        **In this notebook you will learn**

        * the four structures — `Variable`, `Apply`, `Op`, `Type` — and `Constant`;
        * how a graph links them: a bipartite, directed, acyclic graph `Variable → Apply → Variable`;
        * how to traverse a graph by hand (`owner`, `inputs`) and with the helpers of `opgraph.graph`
          (`graph_inputs`, `ancestors`, `toposort`);
        * how an op builds its `Apply` node (`make_node`) and how a type builds variables.
        """),
        preamble("""
        from opgraph.graph import Apply, Constant, Op, Type, Variable
        """),
        md("""
        ## Variables, Apply nodes, ops

        Two symbolic matrices and their sum:
        """),
        code("""
        x = pt.dmatrix("x")
        y = pt.dmatrix("y")
        z = x + y
        z
        """),
        md("""
        `z` is a `Variable`. Its `owner` is the `Apply` node that computes it: the application of
        the `Add` op to the inputs `x` and `y`. Root variables like `x` and `y` have no owner.
        """),
        code("""
        z.owner, type(z.owner)
        """),
        code("""
        x.owner is None, y.owner is None
        """),
        code("""
        z.owner.op, z.owner.inputs, z.owner.outputs
        """),
        md("""
        An `Op` is the *definition* of a computation (like `def f(x): ...` in Python); an `Apply` node
        is one *call* of it on particular inputs (like `f(4)`). The same op object is shared by every
        node that applies it.
        """),
        code("""
        w = x + x  # another call of the same op: a new Apply node, an equal Op
        w.owner is z.owner, w.owner.op == z.owner.op
        """),
        md("""
        ## Walking down a graph

        Multiply a matrix by a Python float:
        """),
        code("""
        x = pt.dmatrix("x")
        y = x * 2.0
        type(y.owner), y.owner.op
        """),
        code("""
        len(y.owner.inputs), y.owner.inputs
        """),
        md("""
        The second input is not `2.0` itself: the scalar constant was first given two broadcastable
        dimensions by a `DimShuffle` op (shown as `ExpandDims`) so that it can be multiplied with a matrix.
        """),
        code("""
        shuffled = y.owner.inputs[1]
        type(shuffled), shuffled.owner.op, type(shuffled.owner.op)
        """),
        code("""
        shuffled.owner.inputs
        """),
        md("""
        `dprint` summarises all of this walk in one tree:
        """),
        code("""
        opgraph.dprint(y);
        """),
        md("""
        The same graph as a drawing (needs graphviz's `dot`; without it opgraph prints the text tree
        and says how to install it). The drawing is not compared by the notebook tests because its
        bytes depend on the graphviz version.
        """),
        code("""
        from IPython.display import SVG
        from opgraph.printing import pydotprint

        SVG(pydotprint(y, return_image=True, format="svg"))
        """, IGNORE),
        md("""
        With the extension loaded, `%pytensor EXPR` displays one expression, and `--type` adds the types:
        """),
        code("""
        %pytensor --format text --type y
        """),
        md("""
        ## Constants

        A `Constant` is a variable with fixed, immutable `data`. Because its value is known, rewrites
        may fold computations that only involve constants.
        """),
        code("""
        two = shuffled.owner.inputs[0]
        isinstance(two, Constant), two.data, two.type
        """),
        md("""
        Python numbers become constants of the smallest dtype that holds them, as in PyTensor:
        """),
        code("""
        pt.as_tensor_variable(1).type, pt.as_tensor_variable(300).type, pt.as_tensor_variable(1.5).type
        """),
        md("""
        ## Types

        A `Type` carries static information about the values a variable can hold: for tensors the
        dtype and the static shape, `None` standing for a length known only at run time. Types also
        *build* variables.
        """),
        code("""
        row_type = pt.TensorType("int32", shape=(1, None))
        row_type
        """),
        code("""
        r = row_type("r")
        r, r.type, r.type == row_type
        """),
        code("""
        pt.irow(), pt.ivector(), pt.dscalar()
        """),
        md("""
        Each variable has four important fields: `type`, `owner`, `index` (which output of its
        owner it is) and `name`.
        """),
        code("""
        v = pt.ivector("v")
        neg_v = -v
        [(var, var.type, var.owner, var.index, var.name) for var in (v, neg_v)]
        """),
        md("""
        Types check and convert concrete values, which is how compiled functions validate their
        inputs:
        """),
        code("""
        pt.dvector().type.filter([1, 2, 3])
        """),
        code("""
        try:
            pt.dvector().type.filter(np.zeros((2, 2)))
        except (TypeError, ValueError) as err:
            print(type(err).__name__, ":", err)
        """),
        md("""
        ## Ops build Apply nodes

        Calling an op calls its `make_node`, which checks the inputs, infers the output types and
        returns an `Apply`; the call returns the node's output(s).
        """),
        code("""
        mul = y.owner.op
        node = mul.make_node(x, shuffled)
        node, node.outputs, node.outputs[0].type
        """),
        code("""
        mul(x, x).dprint();
        """),
        md("""
        ## Traversal helpers

        `opgraph.graph` offers the usual walks. They are iterative (no recursion), so graphs of
        hundreds of thousands of nodes are fine.
        """),
        code("""
        from opgraph.graph import ancestors, graph_inputs, io_toposort

        a = pt.vector("a")
        b = pt.vector("b")
        out = pt.exp(a * b) + a
        list(graph_inputs([out]))
        """),
        code("""
        list(ancestors([out]))
        """),
        code("""
        io_toposort([a, b], [out])  # Apply nodes in an order where inputs come first
        """),
        md("""
        A graph can also be evaluated without compiling it, which is handy when exploring:
        """),
        code("""
        out.eval({a: np.array([1.0, 2.0]), b: np.array([0.0, 0.5])})
        """),
        md("""
        ## A long chain

        Because every walk is iterative, a chain of 20,000 nodes — far deeper than Python's
        recursion limit — traverses and evaluates without trouble.
        """),
        code("""
        import sys

        long = pt.dscalar("long")
        acc = long
        for _ in range(20_000):
            acc = acc + 1
        sys.getrecursionlimit() < 20_000, len(io_toposort([long], [acc])), acc.eval({long: 0.0})
        """),
        md("""
        ## Random variables

        A random draw is a node too. `pt.random.normal(loc, scale, size=...)` is a
        `RandomVariable` op with a gufunc signature; its node takes a random *generator* (a
        shared variable holding a NumPy `Generator`), the size and the parameters — broadcast
        explicitly with `ExpandDims` — and returns the advanced generator and the draw:
        """),
        code("""
        x = pt.random.normal(loc=0, scale=1, size=(10,))
        y = pt.exp(x)
        y.dprint();
        """),
        md("""
        Replacing the random variable by a plain input turns the generative graph into a
        function of the values (the first step of deriving a log-density):
        """),
        code("""
        from opgraph.graph.replace import graph_replace

        x_input = pt.tensor("x_input", shape=(10,))
        y2 = graph_replace(y, {x: x_input})
        y2.dprint();
        """),
        md("""
        **Forward sampling.** A draw built without `rng=` gets a generator of its own whose
        *default update* is the advanced generator, so a compiled function draws anew at every
        call; `no_default_updates=True` repeats the same draw, and `.eval()` never advances a
        generator. A hierarchical model is sampled forward by composing draws:
        """),
        code("""
        srng = pt.random.RandomStream(seed=42)
        mu = srng.normal(0.0, 10.0)                      # one group mean
        sigma = srng.halfnormal(0.0, 1.0)
        obs = srng.normal(mu, sigma, size=(5,))          # five observations around it
        sample = opgraph.function([], [mu, sigma, obs])
        first, second = sample(), sample()
        [np.round(v, 3) for v in first], np.array_equal(first[2], second[2])
        """),
        code("""
        srng.seed(42)                                    # the same seed, the same draws again
        np.array_equal(sample()[2], first[2])
        """),
        md("""
        PyTensor 3's functional form makes the generator explicit: `rng.normal(...)` returns the
        next generator and the draw, and the update is yours to state.
        """),
        code("""
        rng_var = pt.random.shared_rng(seed=1234)
        next_rng, draw = rng_var.normal(0, 1, size=(3,))
        f = opgraph.function([], draw, updates={rng_var: next_rng})
        np.array_equal(np.concatenate([f(), f()]), np.random.default_rng(1234).normal(size=6))
        """),
    ]


# --------------------------------------------------------------------------------------
# 04 Gradients and vectorization
# --------------------------------------------------------------------------------------
def nb04():
    return [
        md("""
        # 4. Gradients and vectorization

        Differentiation and vectorization are *graph-to-graph transformations*: they take a graph and
        return a new one, which you can print, rewrite, compile — or transform again.

        **In this notebook you will learn**

        * `grad` for one or several parameters, and what a raw gradient graph looks like;
        * `jacobian`, `hessian`, and the vector–Jacobian / Jacobian–vector products `Lop` and `Rop`;
        * how to check any gradient numerically with `verify_grad`;
        * `vectorize_graph`: batching a graph written for one example, and `Blockwise` ops;
        * how the two compose: the gradient of a vectorized graph, and a vectorized gradient
          (per-example gradients).
        """),
        preamble("""
        from opgraph.graph import rewrite_graph
        from opgraph.graph.replace import vectorize_graph
        from opgraph.gradient import Lop, Rop, grad, hessian, jacobian, verify_grad
        """),
        md("""
        ## Gradients

        A scalar cost of a vector:
        """),
        code("""
        x = pt.vector("x")
        cost = (x ** 2).sum() + pt.exp(x).sum()
        g = grad(cost, wrt=x)
        g.dprint();
        """),
        md("""
        The raw gradient mirrors the pullbacks of every op (`Second` broadcasts the output gradient
        to the shape of the input). Canonicalization and specialization clean it up:
        """),
        code("""
        rewrite_graph(g, include=("canonicalize", "specialize")).dprint();
        """),
        code("""
        x_val = np.array([0.0, 1.0, 2.0])
        g.eval({x: x_val}), 2 * x_val + np.exp(x_val)
        """),
        md("""
        Gradients with respect to several parameters come back as a list:
        """),
        code("""
        w = pt.vector("w")
        b = pt.dscalar("b")
        loss = ((x * w).sum() + b) ** 2
        g_w, g_b = grad(loss, wrt=[w, b])
        inputs = {x: np.array([1.0, 2.0, 3.0]), w: np.array([0.5, -1.0, 0.25]), b: 1.0}
        g_w.eval(inputs), g_b.eval(inputs)
        """),
        md("""
        The same with the magic: `-g WRT` differentiates the cell's (scalar) output.
        """),
        code("""
        %%pytensor -g x
        x = pt.vector("x")
        cost = pt.log1p(pt.exp(x)).sum()
        """),
        md("""
        ## Jacobians, Hessians, Lop and Rop

        `jacobian` stacks the gradients of every output entry; `hessian` is the Jacobian of the gradient.
        """),
        code("""
        J = jacobian(pt.sin(x) * x, x)
        J.eval({x: np.array([0.0, 1.0])})
        """),
        code("""
        H = hessian((x ** 3).sum(), x)
        H.eval({x: np.array([1.0, 2.0])})
        """),
        md("""
        `Lop(f, wrt, u)` computes $u^T J$ (what `grad` does internally) and `Rop(f, wrt, v)` computes
        $J v$, without ever building $J$:
        """),
        code("""
        A = pt.matrix("A")
        f = A @ x
        u = pt.vector("u")
        v = pt.vector("v")
        A_val = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        vals = {A: A_val, x: np.array([1.0, -1.0]), u: np.array([1.0, 0.0, 2.0]), v: np.array([0.5, 2.0])}
        Lop(f, x, u).eval(vals), vals[u] @ A_val
        """),
        code("""
        Rop(f, x, v).eval(vals), A_val @ vals[v]
        """),
        md("""
        ## Checking gradients

        `verify_grad` compares the symbolic gradient of a function with finite differences at a point,
        and raises if they disagree. It is how every op in opgraph is tested.
        """),
        code("""
        verify_grad(lambda t: pt.tanh(t) * pt.exp(-t), [np.array([0.1, 0.5, 2.0])], rng=np.random.default_rng(0))
        "gradient verified"
        """),
        md("""
        ## Vectorization

        Write the computation for *one* example, then batch it. The scalar graph below becomes a
        matrix graph when its input is replaced by a matrix:
        """),
        code("""
        s = pt.dscalar("s")
        per_example = pt.log(1 + s) * 2
        batch = pt.matrix("batch")
        batched = vectorize_graph(per_example, {s: batch})
        batched.dprint(print_type=True);
        """),
        md("""
        Ops that are not elementwise are batched with `Blockwise`, which wraps the core op with its
        gufunc signature. A matrix–vector product written for one vector:
        """),
        code("""
        M = pt.matrix("M")
        vec = pt.vector("vec")
        mv = M @ vec
        vecs = pt.matrix("vecs")
        batched_mv = vectorize_graph(mv, {vec: vecs})
        batched_mv.dprint(print_type=True);
        """),
        code("""
        M_val = np.array([[1.0, 0.0], [1.0, 1.0]])
        vecs_val = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        batched_mv.eval({M: M_val, vecs: vecs_val})
        """),
        md("""
        ## Composition: the gradient of a vectorized graph

        Everything returns graphs, so transformations chain. Differentiate the *sum* of the batched
        graph with respect to the batch:
        """),
        code("""
        grad_of_batched = grad(batched.sum(), wrt=batch)
        rewrite_graph(grad_of_batched, include=("canonicalize", "specialize")).dprint();
        """),
        md("""
        ## Composition: a vectorized gradient (per-example gradients)

        The other way round: take the gradient for *one* example, then vectorize the gradient graph to
        get one gradient per example — what some libraries call `vmap(grad(f))`.
        """),
        code("""
        w = pt.vector("w")
        x_one = pt.vector("x_one")
        y_one = pt.dscalar("y_one")
        per_example_loss = (pt.dot(x_one, w) - y_one) ** 2
        g_one = grad(per_example_loss, wrt=w)

        X = pt.matrix("X")
        Y = pt.vector("Y")
        per_example_grads = vectorize_graph(g_one, {x_one: X, y_one: Y})
        per_example_grads.type
        """),
        code("""
        X_val = rng.normal(size=(4, 3))
        Y_val = rng.normal(size=4)
        w_val = rng.normal(size=3)
        G = per_example_grads.eval({X: X_val, Y: Y_val, w: w_val})
        G.round(6)
        """),
        md("""
        Check against the closed form $2 (x_i \\cdot w - y_i)\\, x_i$, and against the gradient of the
        *total* loss, which must be the sum of the per-example gradients:
        """),
        code("""
        expected = 2 * (X_val @ w_val - Y_val)[:, None] * X_val
        total_grad = grad(((X @ w - Y) ** 2).sum(), wrt=w)
        np.allclose(G, expected), np.allclose(G.sum(axis=0), total_grad.eval({X: X_val, Y: Y_val, w: w_val}))
        """),
        md("""
        ## Second derivatives by composition

        `grad` of a `grad` is a Hessian–vector product, again without building the Hessian:
        """),
        code("""
        t = pt.vector("t")
        direction = pt.vector("direction")
        f_t = (pt.sin(t) * t).sum()
        hvp = grad((grad(f_t, t) * direction).sum(), t)
        t_val, d_val = np.array([0.3, 1.2]), np.array([1.0, -2.0])
        hvp.eval({t: t_val, direction: d_val}), hessian(f_t, t).eval({t: t_val}) @ d_val
        """),
    ]

# --------------------------------------------------------------------------------------
# 03 Rewrites
# --------------------------------------------------------------------------------------
def nb03():
    return [
        md("""
        # 3. Rewrites

        A rewrite replaces a piece of a graph by an equivalent piece that is simpler, more accurate
        or faster. opgraph keeps all its rewrites in one database, grouped by *tags*, and
        `rewrite_graph` applies the selected ones until nothing changes any more (a fixed point).

        **In this notebook you will learn**

        * the main phases — `canonicalize`, `stabilize`, `specialize` — and what each is for;
        * scalarization: how indexing is pushed towards the inputs;
        * how to see which rules fired (`RewriteHistory`, `%%pytensor -r`);
        * how to write your own rule, as a pattern or as a function, and register it;
        * how to step through the rewrites one by one with the `RewriteStepper`.
        """),
        preamble("""
        from opgraph.graph import rewrite_graph
        from opgraph.graph.rewriting import RewriteHistory, known_tags
        """),
        md("""
        ## The phases

        Every rule carries tags. The phase tags run in this order when a function is compiled:
        `canonicalize` → `stabilize` → `specialize` → `fusion` → `inplace` (notebook 5 covers the last two).
        Besides them, every rule is tagged with its own name, so single rules can be switched on or off.
        """),
        code("""
        phases = ["canonicalize", "stabilize", "specialize", "fusion", "inplace"]
        [t for t in phases if t in known_tags()]
        """),
        md("""
        ### canonicalize: one standard form

        Canonicalization removes useless work and brings equivalent graphs to the same form, so that
        the later rules only have to recognise one shape of each pattern.
        """),
        code("""
        x = pt.vector("x")
        y = pt.vector("y")

        def show(graph, *tags):
            rewrite_graph(graph, include=tags).dprint()

        show(x * 1 + 0, "canonicalize")
        show((x - x) + y, "canonicalize")
        show(-(-x), "canonicalize")
        """),
        code("""
        show(x * 2 * 3, "canonicalize")  # constants are collected
        show((x * y) / y, "canonicalize")
        """),
        md("""
        ### stabilize: numerically safer forms

        The stabilization rules replace formulas that lose precision or overflow by dedicated ops.
        """),
        code("""
        show(pt.log(1 + x), "stabilize")
        show(pt.log(1 + pt.exp(x)), "stabilize")
        show(pt.log(1 - pt.exp(x)), "stabilize")
        show(pt.log(pt.sigmoid(x)), "stabilize")
        """),
        md("""
        It matters: for large inputs the naive softplus overflows, the rewritten one does not.
        """),
        code("""
        naive = pt.log(1 + pt.exp(x))
        stable = rewrite_graph(naive, include=("stabilize",))
        big = np.array([1.0, 100.0, 1000.0])
        with np.errstate(over="ignore"):
            print("naive :", naive.eval({x: big}))
        print("stable:", stable.eval({x: big}))
        """),
        md("""
        The same for `log(sum(exp(x)))`, which the stabilize phase rewrites to the max-shifted form
        `max(x) + log(sum(exp(x - max(x))))`:
        """),
        code("""
        lse = pt.log(pt.exp(x).sum())
        stable_lse = rewrite_graph(lse, include=("stabilize",))
        huge = np.array([1000.0, 1000.0])
        with np.errstate(over="ignore"):
            print("naive :", lse.eval({x: huge}))
        print("stable:", stable_lse.eval({x: huge}), "=", 1000 + np.log(2))
        """),
        md("""
        ### specialize: faster ops

        Specialization swaps general ops for cheaper special cases, e.g. powers by constants:
        """),
        code("""
        show(x ** 2, "canonicalize", "specialize")
        show(x ** 0.5, "canonicalize", "specialize")
        show(1 / x, "canonicalize", "specialize")
        """),
        md("""
        ## Scalarization: indexing moves to the inputs

        Taking one entry of an elementwise result only needs one entry of each input. The default
        `rewrite_graph` (canonicalization) lifts the indexing through the elementwise ops, so only a
        scalar is computed:
        """),
        code("""
        m = pt.matrix("m")
        entry = pt.exp(m * 2)[0, 1]
        entry.dprint()
        """),
        code("""
        rewrite_graph(entry).dprint()
        """),
        md("""
        ## Which rules fired?

        Pass a `RewriteHistory` to `rewrite_graph` to record every applied rule, with its tags and the
        variables it replaced:
        """),
        code("""
        history = RewriteHistory()
        rewrite_graph(pt.log(1 + pt.exp(x)), include=("stabilize",), history=history)
        for record in history.records:
            print(f"{record.rule:18} {record.tags}  {record.replaced} -> {record.new}")
        """),
        md("""
        The `%%pytensor -r TAGS` magic shows the graph before and after and the list of rules:
        """),
        code("""
        %%pytensor -r canonicalize,stabilize
        x = pt.vector("x")
        out = pt.log(1 + pt.exp(x)) * 1 + 0
        """),
        md("""
        ## Writing your own rule

        ### As a pattern

        Algebraic rules are data: a pattern on the left, a replacement on the right. `P.var("x")`
        captures any variable, `P.<name>(...)` matches the elementwise op of that name and Python
        numbers match constants (also broadcast ones). `sqrt(x) ** 2 → x` only holds for `x ≥ 0`,
        so we register it under its own tag, `my_rules`, instead of a phase that always runs.
        """),
        code("""
        from opgraph.graph.rewriting import P, pattern_rule, register_rewrite

        X = P.var("x")
        register_rewrite(pattern_rule(P.sqrt(X) ** 2, X, name="sqrt_sqr"), "my_rules")

        show(pt.sqrt(x) ** 2, "my_rules")
        """),
        md("""
        ### As a function

        Rules that need code are functions of one node, decorated with `node_rewriter(tracks)`:
        `tracks` lists the ops the rule cares about, so the driver only calls it on those nodes. It
        returns `None` (no change) or one replacement per output of the node. Here `cos(-x) → cos(x)`,
        registered with the canonicalizations so that it runs by default:
        """),
        code("""
        import opgraph.scalar as ps
        from opgraph.graph.rewriting import node_rewriter
        from opgraph.tensor.elemwise import Elemwise


        @node_rewriter([Elemwise(ps.cos)])
        def cos_of_neg(fgraph, node):
            \"\"\"cos(-x) -> cos(x): cosine is even.\"\"\"
            (arg,) = node.inputs
            if arg.owner is not None and isinstance(arg.owner.op, Elemwise) and isinstance(arg.owner.op.scalar_op, ps.Neg):
                return [pt.cos(arg.owner.inputs[0])]
            return None


        register_rewrite(cos_of_neg, "canonicalize", "my_rules")
        rewrite_graph(pt.cos(-x)).dprint()
        """),
        md("""
        A rule can be excluded by its name, and re-registering a name replaces the old rule, so
        re-running the cell above is harmless.
        """),
        code("""
        rewrite_graph(pt.cos(-x), exclude=("cos_of_neg",)).dprint()
        """),
        md("""
        Custom rules take part in compilation like the built-in ones (`canonicalize` runs in every
        compiled function):
        """),
        code("""
        f = opgraph.function([x], pt.cos(-x), mode="PYTHON")
        f.dprint()
        f(np.array([0.0, np.pi]))
        """),
        md("""
        ## The rewrite stepper

        `RewriteStepper` records every rewrite applied to a graph and lets you click through them:
        the rule and its tag, the graph before and after with the changed nodes highlighted,
        previous/next buttons, a slider, tag toggles and "run to fixed point". (The widget only
        renders in a live notebook.)
        """),
        code("""
        from opgraph.widgets import RewriteStepper

        graph = pt.log(1 + pt.exp(x)) * 1 + 0
        stepper = RewriteStepper(graph, include=("canonicalize", "stabilize"))
        stepper
        """, IGNORE),
        md("""
        The same information is available from code: the list of steps, the current position,
        `next()` / `prev()` / `goto(i)`, and the graph after any number of steps. (A second
        stepper, `walk`, so the widget above still starts at step 1 when you click it.)
        """),
        code("""
        walk = RewriteStepper(graph, include=("canonicalize", "stabilize"))
        for step in walk.steps:
            print(step.index, step.tag, step.rule)
        """),
        code("""
        walk.next()
        print(walk)
        """),
        code("""
        log1p_step = next(step.index for step in walk.steps if step.rule == "log1p")
        walk.goto(log1p_step)
        print(walk)
        opgraph.dprint(walk.step.before)
        opgraph.dprint(walk.step.after)
        """),
        code("""
        walk.run_to_fixed_point()
        opgraph.dprint(walk.graph_at(len(walk.steps)))
        """),
        md("""
        The `-s` option of the magic opens a stepper on the cell's output:
        """),
        code("""
        %%pytensor -s -r canonicalize,specialize
        x = pt.vector("x")
        out = pt.exp(x * 1) ** 2
        """, IGNORE),
    ]

# --------------------------------------------------------------------------------------
# 05 Compilation
# --------------------------------------------------------------------------------------
CACHE_DEMO = """
import time

import numpy as np
import numba  # imported before the clock starts: we time opgraph, not numba's import

import opgraph
import opgraph.tensor as pt

x = pt.vector("x")
start = time.perf_counter()
f = opgraph.function([x], pt.tanh(x) * pt.exp(-(x ** 2)) + 1, mode="NUMBA")
f(np.linspace(-1.0, 1.0, 5))  # served at once by the Python tier
f.wait_compiled()  # the Numba tier compiles in the background (or loads from the cache)
print(f"{time.perf_counter() - start:.2f}")
"""


def cache_demo_cell():
    # Built by hand: the program run in the subprocesses is shown as a readable string literal.
    head = textwrap.dedent("""
        import os
        import subprocess
        import sys
        import tempfile

        cache_dir = tempfile.mkdtemp()
        env = dict(os.environ, OPGRAPH_CACHE_DIR=cache_dir)
    """).strip("\n")
    tail = textwrap.dedent("""
        def compile_in_new_process():
            run = subprocess.run([sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True)
            if run.returncode != 0:
                raise RuntimeError("the compile process failed:\\n" + run.stderr[-3000:])
            return float(run.stdout.split()[-1])


        def cache_entries():
            return sorted(name for name in os.listdir(os.path.join(cache_dir, "numba")) if not name.endswith(".lock"))
    """).strip("\n")
    return nbformat.v4.new_code_cell(head + '\n\nPROGRAM = """' + CACHE_DEMO + '"""\n\n\n' + tail)


def nb05():
    return [
        md("""
        # 5. Compilation

        `opgraph.function(inputs, outputs)` turns a graph into a callable. On the way it copies the
        graph into a `FunctionGraph`, runs the rewrite phases of a *mode*, and hands the result to a
        *linker* that produces the code: the Python VM (each node's NumPy `perform`) or the Numba
        backend (one generated, jitted function for the whole graph).

        **In this notebook you will learn**

        * the compilation modes (`NUMBA` = `FAST_RUN`, `FAST_COMPILE`, `PYTHON`) and how they differ;
        * how to read a compiled graph: execution order, merged and truncated computations;
        * **fusion**: elementwise chains become one `Composite` loop;
        * **inplace**: outputs that reuse an input's buffer, shown by `print_destroy_map=True`;
        * shared variables and updates, and how inputs are checked;
        * **profiling** with `profile=True` and `%%pytensor -p`;
        * the **disk cache** that makes compiling the same graph in a new process cheap.
        """),
        preamble(),
        md("""
        ## Modes

        One graph, compiled three ways. `PYTHON` and `FAST_COMPILE` run only cheap rewrites and
        interpret the graph node by node; `NUMBA` (the default, also called `FAST_RUN`) runs every
        rewrite phase and compiles with Numba.
        """),
        code("""
        x = pt.vector("x")
        y = pt.vector("y")
        out = pt.exp(2 * x * y + y)

        x_val = np.array([0.0, 0.5, 1.0])
        y_val = np.array([1.0, -1.0, 0.25])
        f_python = opgraph.function([x, y], out, mode="PYTHON")
        f_python.dprint()
        f_python(x_val, y_val)
        """),
        code("""
        f_numba = opgraph.function([x, y], out, mode="NUMBA")
        f_numba.dprint()
        f_numba(x_val, y_val)
        """),
        code("""
        opgraph.config.mode, np.allclose(f_python(x_val, y_val), f_numba(x_val, y_val))
        """),
        md("""
        The number after each node in a compiled graph is its position in the execution order.
        The rewritten graph itself is available as `f.maker.fgraph`:
        """),
        code("""
        f_numba.maker.fgraph
        """),
        md("""
        ## What compilation does to the graph

        ### Shared computations are computed once, unused ones not at all

        Below, `pt.exp(a)` is built twice and `unused` is never requested. The compiled graph
        computes `exp(a)` once (*merge*) and contains nothing of `unused` (*truncation*).
        """),
        code("""
        a = pt.vector("a")
        first = pt.exp(a) * 2
        second = pt.exp(a) + 1
        unused = pt.log(a).sum()
        f = opgraph.function([a], [first, second], mode="PYTHON")
        f.dprint()
        """),
        md("""
        ### Fusion

        Chains of elementwise ops are *fused* into one `Composite` op: one loop that reads each input
        once and writes each output once, instead of one temporary array per op. The scalar program
        of each `Composite` is printed under `Inner graphs`. A fused node can have several outputs:
        """),
        code("""
        s = pt.sin(a)
        c = pt.cos(a)
        f = opgraph.function([a], [s * c, s + c])
        f.dprint()
        """),
        code("""
        a_val = np.linspace(0.0, 1.0, 4)
        [np.allclose(got, want) for got, want in zip(f(a_val), [np.sin(a_val) * np.cos(a_val), np.sin(a_val) + np.cos(a_val)])]
        """),
        md("""
        ### Inplace

        An op may write its output into the buffer of one of its inputs when nothing else needs that
        input any more. `print_destroy_map=True` shows it: `d={0: [0]}` means *output 0 overwrites
        input 0*. The graph from the first notebook:
        """),
        code("""
        v = pt.vector("v", shape=(None,))
        z = pt.exp(pt.sin(v))
        out = pt.cos((z[None, :] @ z[:, None]).squeeze())
        f = opgraph.function([v], out)
        f.dprint(print_destroy_map=True)
        """),
        md("""
        Arrays *you* pass are never overwritten, unless you declare the input mutable with `In`:
        then the fused loop may write straight into your array and skip an allocation.
        """),
        code("""
        f_safe = opgraph.function([v], pt.exp(pt.sin(v)))
        f_mutable = opgraph.function([opgraph.In(v, mutable=True)], pt.exp(pt.sin(v)))
        f_mutable.dprint(print_destroy_map=True)
        """),
        code("""
        data = np.array([0.0, 1.0, 2.0])
        f_safe(data)
        print("after f_safe:   ", data)
        f_mutable(data)
        print("after f_mutable:", data.round(6))
        """),
        md("""
        ## Shared variables and updates

        A shared variable holds a value that lives between calls; `updates` say how to change it after
        each call. This is how training loops keep parameters inside the compiled function.
        """),
        code("""
        total = opgraph.shared(np.zeros(3), name="total")
        accumulate = opgraph.function([v], total, updates={total: total + v})
        for _ in range(3):
            accumulate(np.array([1.0, 2.0, 3.0]))
        total.get_value()
        """),
        md("""
        ## Inputs are checked

        A compiled function checks each input against its type and names the input at fault:
        """),
        code("""
        try:
            f_safe(np.ones((2, 2)))
        except (TypeError, ValueError) as err:
            print(type(err).__name__, ":", err)
        """),
        md("""
        ## Profiling

        With `profile=True` the function records the compile phases and, for every call, the time
        spent in each node. `f.profile.summary()` prints tables by op class, by op and by node.
        Times differ from run to run, so the notebook tests do not compare this output.
        """),
        code("""
        p = pt.vector("p")
        cost = pt.exp(p).sum() + pt.log(p).mean()
        f_prof = opgraph.function([p], cost, profile=True)
        f_prof.wait_compiled()  # profile the Numba tier, not the first calls' Python tier
        p_val = np.linspace(1.0, 2.0, 10_000)
        for _ in range(10):
            f_prof(p_val)
        f_prof.profile.summary()
        """, IGNORE),
        md("""
        The profile is also data you can use:
        """),
        code("""
        prof = f_prof.profile
        prof.fct_callcount, sorted({str(stat.node.op) for stat in prof.node_table()})
        """),
        md("""
        `%%pytensor -p -i "..."` compiles the cell's output, calls it with the given inputs and shows
        the profile (as a table in a live notebook):
        """),
        code("""
        %%pytensor -p -i "p=np.linspace(1.0, 2.0, 10_000)"
        p = pt.vector("p")
        cost = pt.exp(p).sum() + pt.log(p).mean()
        """, IGNORE),
        md("""
        ## The disk cache

        The Numba backend writes the generated code of each rewritten graph, and Numba's machine code
        for it, to a cache directory (`~/.cache/opgraph`, or `$OPGRAPH_CACHE_DIR`), keyed by a hash of
        the graph. Another process compiling the same graph loads it instead of compiling again.

        To see it, we run the same small program twice in fresh Python processes, with an empty cache
        directory of their own:
        """),
        cache_demo_cell(),
        code("""
        cold = compile_in_new_process()
        entries_after_first = cache_entries()
        warm = compile_in_new_process()
        entries_after_second = cache_entries()
        len(entries_after_first), entries_after_first == entries_after_second
        """),
        md("""
        The first process compiled the graph and wrote one cache entry; the second found it and added
        nothing. The times (seconds, including Numba's own start-up) vary from machine to machine:
        """),
        code("""
        print(f"first process: {cold:.2f} s, second process: {warm:.2f} s")
        """, IGNORE),
        code("""
        import shutil

        shutil.rmtree(cache_dir)  # the demo's private cache is not needed any more
        """),
        md("""
        ## The compile magic

        `%%pytensor -c [MODE]` compiles the cell's output and shows the graph before and after
        compilation (and, in a live notebook, where the compile time went):
        """),
        code("""
        %%pytensor -c --format text
        x = pt.vector("x")
        y = pt.vector("y")
        out = pt.exp(2 * x * y + y)
        """),
    ]

# --------------------------------------------------------------------------------------
# 06 Logistic regression
# --------------------------------------------------------------------------------------
def nb06():
    return [
        md("""
        # 6. A full example: logistic regression by gradient descent

        Everything together: we define a model as a graph, rewrite and differentiate it, compile a
        training step and a prediction function, train, and look at the result.

        **In this notebook you will learn**

        * how to write a model's loss as a graph and read it with `dprint`;
        * how to get the gradient-descent updates with `rewrite_graph` and `grad`;
        * how one symbolic program gives *several* compiled functions (training and prediction), each
          computing only what it needs, with shared work computed once;
        * how to run the training loop, plot the training curves and compute a confusion matrix
          with NumPy.
        """),
        preamble("""
        from opgraph.graph import rewrite_graph
        from opgraph.gradient import grad
        """),
        md("""
        Plotting uses matplotlib (part of the `notebook` extra). Its first import may print a
        message while it builds its font cache, so this cell's output is not compared by the tests.
        """),
        code("""
        import matplotlib.pyplot as plt
        """, IGNORE),
        md("""
        ## The data

        A binary classification problem made with NumPy: 100 examples with 5 features, and labels
        drawn from a logistic model whose true parameters we know — so we can check what training
        finds.
        """),
        code("""
        n_samples, n_features = 100, 5
        true_alpha = -0.5
        true_beta = np.array([1.5, -2.0, 0.75, 0.0, 1.0])

        X = rng.normal(size=(n_samples, n_features))
        p_true = 1 / (1 + np.exp(-(true_alpha + X @ true_beta)))
        y = (rng.uniform(size=n_samples) < p_true).astype(np.float64)
        X.shape, float(y.mean())
        """),
        md("""
        ## The model as a graph

        $$p = \\sigma(\\alpha + X\\beta), \\qquad
        \\text{loss} = -\\frac{1}{n}\\sum_i \\big(y_i \\log p_i + (1 - y_i) \\log(1 - p_i)\\big)$$

        the binary cross-entropy (the negative log-likelihood of a Bernoulli GLM).
        """),
        code("""
        X_pt = pt.tensor("X", shape=(None, None))
        y_pt = pt.tensor("y", shape=(None,))
        alpha_pt = pt.tensor("alpha", shape=())
        beta_pt = pt.tensor("beta", shape=(None,))

        p = pt.sigmoid(alpha_pt + X_pt @ beta_pt)
        p.name = "p_class_1"
        loss = -(y_pt * pt.log(p) + (1 - y_pt) * pt.log(1 - p)).mean()
        loss.name = "cross_entropy"
        loss.dprint();
        """),
        md("""
        `log(sigmoid(z))` and `log(1 - sigmoid(z))` lose precision (and give `-inf`) for large `|z|`.
        The stabilize rewrites turn them into softplus terms; the magic shows which rules fired:
        """),
        code("""
        %%pytensor -r canonicalize,stabilize --format text --show loss
        p = pt.sigmoid(alpha_pt + X_pt @ beta_pt)
        loss = -(y_pt * pt.log(p) + (1 - y_pt) * pt.log(1 - p)).mean()
        """),
        md("""
        ## Gradient descent

        One step moves the parameters against the gradient: $\\theta' = \\theta - \\eta\\,\\nabla_\\theta \\text{loss}$.
        We simplify and stabilize the loss before differentiating it, so the gradient graph is
        built from the stable form.
        """),
        code("""
        eta_pt = pt.tensor("learning_rate", shape=())

        d_alpha, d_beta = grad(rewrite_graph(loss, include=("canonicalize", "stabilize")), wrt=[alpha_pt, beta_pt])
        alpha_next = alpha_pt - eta_pt * d_alpha
        beta_next = beta_pt - eta_pt * d_beta
        """),
        md("""
        ## Two compiled functions from one program

        Training needs the loss and the updated parameters; prediction needs the probabilities and
        labels for a threshold. We only decide this now, at compile time.
        """),
        code("""
        training_fn = opgraph.function([X_pt, y_pt, eta_pt, alpha_pt, beta_pt], [loss, alpha_next, beta_next])

        threshold = pt.tensor("threshold", shape=())
        y_hat = (p > threshold).astype("int64")
        predict_fn = opgraph.function([X_pt, alpha_pt, beta_pt, threshold], [p, y_hat])
        """),
        md("""
        The compiled prediction graph shows two things: the loss is nowhere (unused work is
        truncated), and `p` is computed once, inside a fused `Composite` with two outputs — the
        probability and the label.
        """),
        code("""
        predict_fn.dprint(print_type=True);
        """),
        md("""
        The training graph is larger; the sigmoid and softplus terms are fused, and shared
        subexpressions between the loss and the gradients are computed once:
        """),
        code("""
        training_fn.dprint(print_type=True, print_destroy_map=True);
        """),
        md("""
        ## Training
        """),
        code("""
        alpha = rng.normal()
        beta = rng.normal(size=n_features)
        learning_rate = 0.1
        n_steps = 1_000

        history = {"cross-entropy": np.empty(n_steps), "alpha": np.empty(n_steps), "beta": np.empty((n_steps, n_features))}
        for t in range(n_steps):
            loss_val, alpha, beta = training_fn(X, y, learning_rate, alpha, beta)
            history["cross-entropy"][t] = loss_val
            history["alpha"][t] = alpha
            history["beta"][t] = beta

        print(f"loss: {history['cross-entropy'][0]:.4f} -> {history['cross-entropy'][-1]:.4f}")
        print(f"alpha: {float(alpha):.3f} (true {true_alpha})")
        print("beta: ", np.round(beta, 3), "(true", true_beta, ")")
        """),
        md("""
        The estimates have the right signs and relative sizes; with only 100 noisy examples they
        cannot match the true parameters exactly. The training curves (the drawing itself is not
        compared by the tests):
        """),
        code("""
        fig, axes = plt.subplots(nrows=3, ncols=1, figsize=(8, 9), sharex=True, layout="constrained")
        for axis, (name, values) in zip(axes, history.items()):
            axis.plot(values)
            axis.set(title=name)
        axes[-1].set(xlabel="step")
        fig.suptitle("Training", fontsize=16, fontweight="bold");
        """, IGNORE),
        md("""
        ## Evaluation

        The confusion matrix, computed with NumPy: rows are the true classes, columns the predicted ones.
        """),
        code("""
        probabilities, labels = predict_fn(X, alpha, beta, 0.5)
        confusion = np.zeros((2, 2), dtype=int)
        np.add.at(confusion, (y.astype(int), labels), 1)
        confusion
        """),
        code("""
        accuracy = np.trace(confusion) / confusion.sum()
        print(f"accuracy: {accuracy:.2f}")
        """),
        md("""
        The compiled functions agree with a plain NumPy implementation of the same model:
        """),
        code("""
        z = alpha + X @ beta
        p_numpy = 1 / (1 + np.exp(-z))
        loss_numpy = -np.mean(y * np.log(p_numpy) + (1 - y) * np.log(1 - p_numpy))
        bool(np.allclose(probabilities, p_numpy)), bool(np.isclose(training_fn(X, y, 0.0, alpha, beta)[0], loss_numpy))
        """),
        md("""
        ## Taking a step back

        * The graph is built explicitly from placeholder inputs, in code that looks like NumPy.
        * Every manipulation — replacement, rewriting, differentiation, vectorization — takes graphs
          and returns graphs, so they compose.
        * Compilation happens last: from one symbolic program we compiled two functions, each
          computing exactly what it was asked for, fused and in place where possible.
        """),
    ]


NOTEBOOKS = {
    "01_what_is_opgraph": nb01,
    "02_graph_structures": nb02,
    "03_rewrites": nb03,
    "04_gradients_and_vectorization": nb04,
    "05_compilation": nb05,
    "06_logistic_regression": nb06,
}


def _discover_notebook_modules():
    """Later tutorials live in their own files, ``build_NN_name.py``, each defining
    ``cells()`` (so notebooks written in parallel never edit the same file)."""
    import importlib

    sys.path.insert(0, str(HERE))
    for path in sorted(HERE.glob("build_[0-9][0-9]_*.py")):
        module = importlib.import_module(path.stem)
        NOTEBOOKS[path.stem[len("build_"):]] = module.cells


_discover_notebook_modules()


def build(name, builder):
    nb = nbformat.v4.new_notebook()
    nb.cells = builder()
    for i, cell in enumerate(nb.cells):  # stable ids keep diffs of regenerated notebooks small
        cell.id = f"c{i:02d}"
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    path = HERE / f"{name}.ipynb"
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return path


def execute(path, allow_errors=False):
    cmd = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace",
           "--ExecutePreprocessor.timeout=300", str(path)]
    if allow_errors:
        cmd.append("--allow-errors")
    subprocess.run(cmd, check=True)
    if allow_errors:  # report every failing cell at once (development aid)
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    print(f"--- {path.name} cell {i}: {out['ename']}: {out['evalue'][:300]}")
                    print("    " + cell.source.splitlines()[0][:100])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefixes", nargs="*", help="build only notebooks whose names start with these")
    parser.add_argument("--no-execute", action="store_true", help="write the notebooks without running them")
    parser.add_argument("--allow-errors", action="store_true", help="run every cell and list the failing ones")
    args = parser.parse_args(argv)
    for name, builder in NOTEBOOKS.items():
        if args.prefixes and not any(name.startswith(p) for p in args.prefixes):
            continue
        path = build(name, builder)
        if not args.no_execute:
            execute(path, allow_errors=args.allow_errors)
        print("built", path.relative_to(HERE.parent))


if __name__ == "__main__":
    main()
