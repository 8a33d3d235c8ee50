"""Cells of notebook 08: probability from graphs (logp derivation, a mixture with marginalized
indicators fitted by gradient-based MAP, an HMM and the forward algorithm).  Discovered by
build_notebooks.py."""


def cells():
    # Imported here, not at the top: build_notebooks imports this module while it loads.
    from build_notebooks import IGNORE, code, md, preamble

    return [
        md("""
        # 8. Probability from graphs

        A graph that *draws* random numbers describes a data-generating process. `opgraph.logprob`
        (PyMC's `pymc.logprob` names) turns it around: from the generative graph it derives the graph
        of the **log-probability** of observed values, another graph that can be rewritten,
        differentiated and compiled like any other.

        **In this notebook you will learn**

        * how `logp(rv, value)` derives a log-density graph, and what the `Check{sigma > 0}` node on top is;
        * how `marginalize` sums a discrete variable out of a joint density (a mixture model: n
          indicators cost O(n K), not K^n), and how to fit the result by gradient ascent with one
          compiled function;
        * how a hidden Markov chain (`DiscreteMarkovChain`) is marginalized by the **forward
          algorithm** (a scan: O(states x steps) instead of states^steps), and how `recover_marginals`
          gives the posterior of the hidden states (forward-backward).
        """),
        preamble("""
        import matplotlib.pyplot as plt
        import scipy.stats

        from opgraph.gradient import grad
        from opgraph.logprob import DiscreteMarkovChain, logp, marginalize, recover_marginals
        """),
        md("""
        ## From a generative model to its logp

        `pt.random.normal(mu, sigma)` is a node that draws. Its graph shows the random generator it
        consumes, the (empty) size and the parameters.
        """),
        code("""
        z = pt.random.normal(np.array([0, 0]), np.array([1, 2]), name="z")
        opgraph.dprint(z)
        """),
        md("""
        `logp(rv=z, value=z_value)` walks from `z` to the random variable that generates it and
        returns the log-density at a new symbolic value. Nothing is computed yet: it is a graph,
        topped by a `Check{sigma > 0}` node whose second input is the `All` of the parameter
        conditions. At run time a violated condition raises `ParameterValueError` naming it.
        """),
        code("""
        z_value = pt.vector(name="z_value")
        z_logp = logp(rv=z, value=z_value)
        opgraph.dprint(z_logp)
        """),
        code("""
        z_logp.owner
        """),
        code("""
        z_logp.eval({z_value: [0, 0]})
        """),
        md("""
        The same numbers as SciPy's:
        """),
        code("""
        scipy.stats.norm.logpdf(x=np.array([0, 0]), loc=np.array([0, 0]), scale=np.array([1, 2]))
        """),
        md("""
        ## A mixture model with marginalized indicators

        Each data point belongs to one of two groups: an indicator `z_i ~ Categorical(w)` picks the
        mean and the scale of `y_i`. The indicators are discrete, so gradient-based fitting cannot
        move them; `marginalize` sums them out of the joint density with a stable `logsumexp`:
        `log p(y_i) = logsumexp_k(log w_k + log N(y_i | mu_k, sigma_k))`. Independence is read from
        the graph: each `z_i` only touches `y_i`, so the marginal costs O(n K).

        The parameters live on unconstrained scales (a logit for the weight, logs for the scales).
        """),
        md("""
        The smallest case first, one Bernoulli switch and one observation, shown by the `%%pytensor`
        magic: the marginal is a `logsumexp` over the two values of `b`, stacked on a new axis.
        """),
        code("""
        %%pytensor --format text
        b = pt.random.bernoulli(0.3, name="b")
        y_one = pt.random.normal(pt.switch(b, 2.0, 0.0), 1.0, name="y")
        marginalize({b: pt.lscalar("b_value"), y_one: pt.scalar("y_value")}, [b])
        """),
        code("""
        n = 500
        true_z = rng.random(n) < 0.65
        y_obs = np.where(true_z, rng.normal(2.0, 0.7, n), rng.normal(-1.5, 1.0, n))

        w_logit = pt.scalar("w_logit")
        mus = pt.vector("mus", shape=(2,))
        log_sigmas = pt.vector("log_sigmas", shape=(2,))
        w = pt.sigmoid(w_logit)
        z_mix = pt.random.categorical(pt.stack([1.0 - w, w]), size=(n,), name="z")
        y_mix = pt.random.normal(mus[z_mix], pt.exp(log_sigmas)[z_mix], name="y")

        mix_logp = marginalize({z_mix: pt.lvector("z_value"), y_mix: pt.constant(y_obs)}, [z_mix])
        params = [w_logit, mus, log_sigmas]
        # One compiled function returns the logp and its gradient; the fit calls it in a loop.
        logp_and_grad = opgraph.function(params, [mix_logp, *grad(mix_logp, params)], mode="PYTHON")
        """),
        md("""
        Gradient ascent with a fixed step (the maximum a posteriori estimate under flat priors).
        `mode="PYTHON"` keeps this notebook quick to execute; `mode="NUMBA"` compiles the same graph.
        """),
        code("""
        theta = [np.array(0.0), np.array([-0.5, 0.5]), np.array([0.0, 0.0])]
        trace = []
        for step in range(300):
            value, *grads = logp_and_grad(*theta)
            trace.append(value)
            theta = [t + 0.5 / n * g for t, g in zip(theta, grads)]
        w_hat, mus_hat, sigmas_hat = 1 / (1 + np.exp(-theta[0])), theta[1], np.exp(theta[2])
        print(f"weight of group 1: {w_hat:.3f}")
        print("means:", np.round(mus_hat, 3), " scales:", np.round(sigmas_hat, 3))
        print(f"logp: {trace[0]:.2f} -> {trace[-1]:.2f}")
        """),
        md("""
        The fitted density over the data, and each point's posterior probability of belonging to
        the second group, `recover_marginals` (the per-component joint normalized over the
        components), evaluated at the fitted parameters.
        """),
        code("""
        membership = recover_marginals({z_mix: pt.lvector("z_value"), y_mix: pt.constant(y_obs)}, [z_mix])[z_mix]
        p_group = opgraph.function(params, membership, mode="PYTHON")(*theta)[:, 1]

        grid = np.linspace(-5, 5, 400)
        density = ((1 - w_hat) * scipy.stats.norm.pdf(grid, mus_hat[0], sigmas_hat[0])
                   + w_hat * scipy.stats.norm.pdf(grid, mus_hat[1], sigmas_hat[1]))
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.2))
        axes[0].plot(trace)
        axes[0].set(title="logp during the fit", xlabel="step")
        axes[1].hist(y_obs, bins=40, density=True, alpha=0.5)
        axes[1].plot(grid, density)
        axes[1].set(title="data and fitted mixture", xlabel="y")
        axes[2].scatter(y_obs, p_group, s=6, c=true_z, cmap="coolwarm")
        axes[2].set(title="p(z = 1 | y), colour: true group", xlabel="y")
        plt.tight_layout()
        """, IGNORE),
        code("""
        print(f"points assigned to their true group: {np.mean((p_group > 0.5) == true_z):.1%}")
        """),
        md("""
        ## A hidden Markov model and the forward algorithm

        Now the hidden states are *not* independent: `DiscreteMarkovChain(P, steps)` draws
        `x_0 ~ Categorical(init)` then `x_t ~ Categorical(P[x_{t-1}])` in one scan, and each
        observation `y_t` depends on `x_t`. Enumerating the chains would cost `3^T` terms; marginalizing
        the chain gives the forward algorithm instead, one scan carrying
        `log alpha_t = logsumexp_i(log alpha_{t-1}[i] + log P[i, :]) + log p(y_t | x_t = :)`.
        """),
        code("""
        P_true = np.array([[0.95, 0.04, 0.01], [0.03, 0.94, 0.03], [0.02, 0.05, 0.93]])
        means = np.array([-2.0, 0.0, 2.5])
        T = 300
        states = [0]
        for _ in range(T - 1):
            states.append(rng.choice(3, p=P_true[states[-1]]))
        states = np.array(states)
        y_seq = means[states] + rng.normal(0.0, 0.8, T)

        P = pt.matrix("P", shape=(3, 3))
        chain = DiscreteMarkovChain(P, steps=T - 1, init_probs=np.full(3, 1 / 3), name="x")
        y_hmm = pt.random.normal(pt.constant(means)[chain], 0.8, name="y")
        hmm_values = {chain: pt.lvector("x_value"), y_hmm: pt.constant(y_seq)}
        hmm_logp = marginalize(hmm_values, [chain])
        """),
        md("""
        The marginal graph does not grow with `T`: the loop is one `Scan` node whose inner graph is
        one step. Here the number of nodes for chains of 10 and 300 steps:
        """),
        code("""
        from opgraph.graph.traversal import ancestors


        def n_nodes(var):
            return sum(1 for v in ancestors([var]) if v.owner is not None)


        def hmm_graph(T_):
            c = DiscreteMarkovChain(P, steps=T_ - 1, init_probs=np.full(3, 1 / 3))
            y_ = pt.random.normal(pt.constant(means)[c], 0.8)
            return marginalize({c: pt.lvector(), y_: pt.vector()}, [c])


        n_nodes(hmm_graph(10)), n_nodes(hmm_graph(300))
        """),
        md("""
        The value agrees with a hand-written NumPy forward algorithm, and the gradient with respect
        to the transition matrix comes from `grad` through the scan.
        """),
        code("""
        hmm_fn = opgraph.function([P], [hmm_logp, grad(hmm_logp, P)], mode="PYTHON")
        value, dP = hmm_fn(P_true)

        emissions = scipy.stats.norm.logpdf(y_seq[:, None], means[None, :], 0.8)
        alpha = np.log(np.full(3, 1 / 3)) + emissions[0]
        for t in range(1, T):
            alpha = scipy.special.logsumexp(alpha[:, None] + np.log(P_true), axis=0) + emissions[t]
        print(f"opgraph: {value:.8f}   numpy: {scipy.special.logsumexp(alpha):.8f}")
        print("d logp / dP:")
        print(np.round(dP, 2))
        """),
        md("""
        `recover_marginals` runs forward-backward: the posterior probability of each hidden state
        at each step given all the observations.
        """),
        code("""
        posterior = recover_marginals(hmm_values, [chain])[chain]
        post = opgraph.function([P], posterior, mode="PYTHON")(P_true)
        print(f"steps whose most probable state is the true one: {np.mean(post.argmax(axis=1) == states):.1%}")
        print("rows sum to one:", np.allclose(post.sum(axis=1), 1.0))
        """),
        code("""
        fig, axes = plt.subplots(2, 1, figsize=(12, 5), sharex=True)
        axes[0].plot(y_seq, ".", ms=3)
        axes[0].plot(means[states], lw=1.5, label="true state mean")
        axes[0].set(title="observations", ylabel="y")
        axes[0].legend(loc="upper right")
        axes[1].stackplot(np.arange(T), post.T, labels=["state 0", "state 1", "state 2"], alpha=0.8)
        axes[1].set(title="p(x_t = k | y) by forward-backward", xlabel="t", ylabel="probability")
        axes[1].legend(loc="upper right")
        plt.tight_layout()
        """, IGNORE),
        md("""
        **Summary.** `logp` derives densities from generative graphs (with parameter checks as
        graph nodes), `marginalize` removes finite discrete variables (independent indicators in
        O(n K), Markov chains by the forward algorithm in one scan), and `recover_marginals`
        brings their posterior back. All of them return ordinary graphs: `grad`, rewrites and
        `function` apply unchanged.
        """),
    ]
