"""Cells of notebook 07: looping and branching (scan, until, ifelse) and root finding with
implicit gradients (``pt.optimize``).  Discovered by build_notebooks.py."""



def cells():
    # Imported here, not at the top: build_notebooks imports this module while it loads.
    from build_notebooks import code, md, preamble

    return [
        md("""
        # 7. Looping and branching

        Graphs are static, but programs loop and branch. opgraph has PyTensor's primitives for that:
        `scan` for loops, `ifelse` for lazy branches, and `pt.optimize` for loops whose length nobody
        knows in advance: solving equations and minimising functions.

        **In this notebook you will learn**

        * how to write a recurrence with `opgraph.scan`, and how the loop appears in `dprint`
          (an op with an inner graph: the step);
        * recurrent outputs with several taps (Fibonacci), sequences and non-sequences
          (a polynomial evaluated as a scan), and while loops with `until`;
        * that `ifelse` is lazy (only the chosen branch runs) while `pt.switch` computes both;
        * how `grad` goes backwards through a loop, checked against finite differences;
        * how to find a market equilibrium with `pt.optimize.root_scalar` / `root`, and how the
          derivative of the equilibrium price with respect to a parameter comes from the implicit
          function theorem, without differentiating through the solver's iterations.
        """),
        preamble("""
        from opgraph.gradient import grad, verify_grad
        from opgraph.ifelse import ifelse
        from opgraph.scan.utils import until
        """),
        md("""
        ## A recurrence: the power of a vector

        `scan(fn, sequences=..., outputs_info=..., non_sequences=..., n_steps=...)` calls `fn` once
        *symbolically* to build the step's graph. `outputs_info` gives the initial value of each
        recurrent output; the step receives the previous value, then the non-sequences. It returns
        the whole trace (one row per step) and a dictionary of updates (empty here).
        """),
        code("""
        A = pt.vector("A")
        k = pt.iscalar("k")

        trace, updates = opgraph.scan(lambda prior, A: prior * A, outputs_info=pt.ones_like(A),
                                      non_sequences=A, n_steps=k)
        power = opgraph.function([A, k], trace[-1])
        power(np.arange(5.0), 3), updates
        """),
        md("""
        `dprint` shows the loop as one `Scan` node, and its step in the *Inner graphs* section:
        its unnamed `<Vector(float64, shape=(?,))>` input is the previous state, `A` the non-sequence.
        """),
        code("""
        opgraph.dprint(trace)
        """),
        md("""
        Only the last row is used, so the compiled loop does not keep the trace: it holds a window
        of the one previous state (`save_last`), not `k` rows.
        """),
        code("""
        [node.op.save_last for node in power.maker.fgraph.apply_nodes if isinstance(node.op, opgraph.scan.Scan)]
        """),
        md("""
        ## Several taps: Fibonacci

        A recurrent output can read several earlier values: `dict(initial=..., taps=[-2, -1])` passes
        the values two steps and one step back. The initial value then holds the first two rows.
        """),
        code("""
        f_init = pt.vector("f_init")
        n = pt.lscalar("n")
        fib, _ = opgraph.scan(lambda a, b: a + b, outputs_info=dict(initial=f_init, taps=[-2, -1]), n_steps=n)
        fib.eval({f_init: np.array([0.0, 1.0]), n: 10})
        """),
        md("""
        ## Sequences: a polynomial as a scan

        `sequences` are iterated over: step `i` receives row `i` of each. Here the coefficients and
        the powers `0, 1, 2, ...` (`pt.arange(1000)`: the loop stops at the shortest sequence), with
        `x` as a non-sequence. Each step's term is an output that is not fed back (`None` in
        `outputs_info`), and the polynomial is their sum.
        """),
        code("""
        coefficients = pt.vector("coefficients")
        x = pt.scalar("x")
        terms, _ = opgraph.scan(lambda c, power, x: c * x ** power, outputs_info=None,
                                sequences=[coefficients, pt.arange(1000)], non_sequences=x)
        polynomial = terms.sum()
        polynomial.eval({coefficients: np.array([1.0, 0.0, 2.0]), x: 3.0})   # 1 + 0*3 + 2*3**2
        """),
        md("""
        ## While loops: `until`

        A step that returns `(outputs, until(condition))` stops after the first step whose
        condition is true; `n_steps` is then an upper bound. The number of rows of the result is
        known only at run time.
        """),
        code("""
        bound = pt.scalar("bound")
        doubling, _ = opgraph.scan(lambda p, b: (p * 2, until(p * 2 > b)), outputs_info=pt.constant(1.0),
                                   non_sequences=bound, n_steps=100)
        doubling.eval({bound: 20.0}), doubling.eval({bound: 1000.0})
        """),
        md("""
        ## Branching: `ifelse` is lazy, `switch` is not

        `pt.switch(cond, a, b)` is elementwise: both `a` and `b` are computed, then one is picked.
        `ifelse(cond, then, else)` takes a scalar condition and computes **only the chosen branch**.
        Reading `v[i]` is an error when `i` is out of range; behind an `ifelse` that tests the range
        first, the out-of-range read never happens:
        """),
        code("""
        v = pt.vector("v")
        i = pt.lscalar("i")
        safe = ifelse(pt.lt(i, v.shape[0]), v[i], pt.constant(-1.0))
        eager = pt.switch(pt.lt(i, v.shape[0]), v[i], -1.0)

        short = {v: np.array([10.0, 20.0, 30.0])}
        print("ifelse, i=1:", safe.eval({**short, i: 1}), "  i=7:", safe.eval({**short, i: 7}))
        try:
            eager.eval({**short, i: 7})
        except Exception as exc:
            print("switch, i=7:", type(exc).__name__, "- the out-of-range read was computed")
        """),
        md("""
        The branches live inside the `IfElse` node as inner graphs, so the outer graph never
        schedules them; what both branches need stays outside (computed once):
        """),
        code("""
        %%pytensor --format text
        a, b = pt.scalars("a", "b")
        x, y = pt.vectors("x", "y")
        z = ifelse(pt.lt(a, b), pt.mean(x), pt.mean(y))
        z
        """),
        md("""
        ## Gradients through a loop

        `grad` differentiates through every step: the gradient of a scan is another scan, running
        backwards. Here a small recurrent network, `h_t = tanh(W h_{t-1} + u_t)`, and the gradient
        of the sum of its states with respect to `W`; `verify_grad` compares it with finite
        differences (it raises if they disagree).
        """),
        code("""
        def rnn_cost(W, u, h0):
            states, _ = opgraph.scan(lambda u_t, h, W: pt.tanh(pt.dot(W, h) + u_t), sequences=u,
                                     outputs_info=h0, non_sequences=W)
            return states.sum()

        W_val = rng.normal(scale=0.5, size=(3, 3))
        u_val = rng.normal(size=(20, 3))
        h0_val = np.zeros(3)
        verify_grad(rnn_cost, [W_val, u_val, h0_val], rng=0)

        W, u, h0 = pt.matrix("W"), pt.matrix("u"), pt.vector("h0")
        g_W = grad(rnn_cost(W, u, h0), W)
        np.round(g_W.eval({W: W_val, u: u_val, h0: h0_val}), 4)
        """),
        md("""
        ## Root finding: a market equilibrium

        A market for one good: consumers demand `q_d(p) = a - b p`, producers supply
        `q_s(p) = c p^γ`. The equilibrium price solves `q_s(p) - q_d(p) = 0`. There is no closed form
        for general `γ`, so we solve it numerically: `pt.optimize.root_scalar(equation, p)` returns
        `(solution, success)`; the value of `p` passed at run time is the starting guess.
        """),
        code("""
        p = pt.scalar("p")
        a, b, c, gamma = pt.scalars("a", "b", "c", "gamma")
        excess_supply = c * p ** gamma - (a - b * p)
        price, success = pt.optimize.root_scalar(excess_supply, p, method="newton")

        market = {a: 10.0, b: 1.0, c: 0.5, gamma: 1.5}
        equilibrium = opgraph.function([p, a, b, c, gamma], [price, success])
        p_star, ok = equilibrium(1.0, 10.0, 1.0, 0.5, 1.5)
        print(f"equilibrium price {p_star:.6f} (converged: {ok}), quantity {10.0 - p_star:.6f}")
        """),
        md("""
        **How does the price react to demand?** Differentiating the equilibrium condition
        `F(p*(a), a) = 0` gives the implicit function theorem: `dp*/da = -(∂F/∂a) / (∂F/∂p)`
        `= 1 / (c γ p*^(γ-1) + b)`. `grad` of the solution builds exactly that graph, evaluated at the
        solution: no differentiation through Newton's iterations.
        """),
        code("""
        dprice_da = grad(price, a)
        slope = opgraph.function([p, a, b, c, gamma], dprice_da)(1.0, 10.0, 1.0, 0.5, 1.5)
        closed_form = 1.0 / (0.5 * 1.5 * p_star ** 0.5 + 1.0)
        print(f"dp*/da = {slope:.8f}; closed form {closed_form:.8f}")
        """),
        md("""
        The solver node is vectorizable like any other: `vectorize_graph` turns the equilibrium for
        one demand level into the equilibria for a batch of them (one solve per entry).
        """),
        code("""
        from opgraph.graph.replace import vectorize_graph

        a_batch = pt.vector("a_batch")
        prices = vectorize_graph(price, {a: a_batch})
        prices.eval({p: 1.0, a_batch: np.array([5.0, 10.0, 20.0]), b: 1.0, c: 0.5, gamma: 1.5}).round(6)
        """),
        md("""
        ## Two goods: `root` and `minimize`

        With two goods whose demands depend on both prices, the equilibrium is a system of two
        equations, solved by `pt.optimize.root` (SciPy's `hybr` with the symbolic Jacobian). Its
        Jacobian with respect to the demand levels comes from the same theorem,
        `dp*/da = -J_p^{-1} J_a`.
        """),
        code("""
        prices2 = pt.vector("prices2", shape=(2,))
        levels = pt.vector("levels", shape=(2,))
        cross = pt.constant(np.array([[1.0, -0.3], [-0.2, 1.5]]))
        demand = levels - pt.dot(cross, prices2)
        supply = 0.5 * prices2 ** 1.5
        p2_star, ok2 = pt.optimize.root(supply - demand, prices2)
        J = opgraph.gradient.jacobian(p2_star, levels)
        solve2 = opgraph.function([prices2, levels], [p2_star, ok2, J])
        p2, ok, J_val = solve2(np.ones(2), np.array([10.0, 12.0]))
        print("prices", p2.round(6), "converged:", ok)
        J_val.round(6)
        """),
        md("""
        `minimize` works the same way, for an objective: here a least-squares fit whose optimum
        moves with the data; the gradient of the optimum uses the objective's Hessian.
        """),
        code("""
        theta = pt.vector("theta", shape=(2,))
        xs, ys = pt.vectors("xs", "ys")
        loss = ((theta[0] + theta[1] * xs - ys) ** 2).sum() + 0.1 * (theta ** 2).sum()
        theta_star, ok = pt.optimize.minimize(loss, theta, method="BFGS")
        fit = opgraph.function([theta, xs, ys], [theta_star, ok])
        x_data = np.linspace(0.0, 1.0, 20)
        y_data = 1.0 + 2.0 * x_data + rng.normal(scale=0.05, size=20)
        t_star, ok = fit(np.zeros(2), x_data, y_data)
        t_star.round(4), ok
        """),
        md("""
        ## Summary

        * `scan` builds a loop from a step function; the step is an inner graph, rewritten with the
          outer graph's phases and compiled into the same Numba function (no Python per step).
          Scans over the same sequences are merged into one loop when compiled.
        * `until` makes a while loop; `ifelse` branches lazily.
        * `grad` differentiates through loops; `pt.optimize` solves equations and minimises, and
          differentiates the *solution* through the implicit function theorem.
        """),
    ]
