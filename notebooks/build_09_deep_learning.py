"""Cells of notebook 09: deep-learning graphs (an MLP with dropout and batch norm trained on
generated data, its inference graph, fused attention shown by the rewrite stepper).
Discovered by build_notebooks.py."""


def cells():
    # Imported here, not at the top: build_notebooks imports this module while it loads.
    from build_notebooks import IGNORE, code, md, preamble

    return [
        md("""
        # 9. Deep-learning graphs

        A network is a graph like any other: layers are ops (`pt.nnet`), training is a compiled
        function with updates, and the changes a framework makes by hand -- switching dropout off,
        using running statistics, fusing attention -- are **rewrites** of that graph.

        **In this notebook you will learn**

        * how to build and train a small MLP with `dropout` and `batch_norm` (one compiled training step);
        * how `to_inference` turns the training graph into the prediction graph (dropout gone, batch
          norm on its running statistics, no random generator left);
        * how the `fused_attention` rewrite replaces `softmax(q @ k.T / sqrt(d)) @ v` by one
          `FusedAttention` node, step by step in the `RewriteStepper`.
        """),
        preamble("""
        from opgraph.gradient import grad
        from opgraph.tensor.nnet import fuse_attention, to_inference

        nn = pt.nnet
        """),
        md("""
        ## A generated data set

        Two classes in the plane, separated by a circle: a linear model cannot fit it, one hidden
        layer can.
        """),
        code("""
        X = rng.normal(size=(256, 2))
        Y = (np.sum(X ** 2, axis=1) > 1.2).astype(np.int64)
        print(X.shape, np.bincount(Y))
        """),
        md("""
        ## The training graph

        Parameters and running statistics are shared variables. `batch_norm(..., return_updates=True)`
        also returns the updates of the running statistics; the dropout masks come from a
        `RandomStream`, whose updates advance it at every call.
        """),
        code("""
        H = 16
        params = {
            "w1": opgraph.shared(rng.normal(size=(2, H)) * 0.5, name="w1"), "b1": opgraph.shared(np.zeros(H), name="b1"),
            "gamma": opgraph.shared(np.ones(H), name="gamma"), "beta": opgraph.shared(np.zeros(H), name="beta"),
            "w2": opgraph.shared(rng.normal(size=(H, 2)) * 0.5, name="w2"), "b2": opgraph.shared(np.zeros(2), name="b2"),
        }
        running_mean = opgraph.shared(np.zeros(H), name="running_mean")
        running_var = opgraph.shared(np.ones(H), name="running_var")
        srng = pt.random.RandomStream(seed=9)

        x, y = pt.dmatrix("x"), pt.lvector("y")
        h, bn_updates = nn.batch_norm(x @ params["w1"] + params["b1"], params["gamma"], params["beta"],
                                      running_mean, running_var, return_updates=True)
        h = nn.dropout(nn.relu(h), 0.2, rng=srng)
        probs = pt.special.softmax(h @ params["w2"] + params["b2"], axis=-1)
        loss = -pt.mean(pt.log(probs[pt.arange(y.shape[0]), y]))
        opgraph.dprint(probs, depth=4)
        """),
        code("""
        trainable = list(params.values())
        updates = {p: p - 0.5 * g for p, g in zip(trainable, grad(loss, trainable))}
        updates.update(bn_updates)
        updates.update(srng.updates())
        train_step = opgraph.function([x, y], loss, updates=updates, mode="PYTHON")
        losses = [float(train_step(X, Y)) for _ in range(300)]
        print(f"loss: first {losses[0]:.3f}, last {losses[-1]:.3f}")
        """),
        md("""
        ## Training graph -> inference graph

        `to_inference(probs)` is a rewrite (tag `inference`): every `Dropout` node becomes its input,
        so the mask draw and its generator update have no client left; `BatchNorm` is replaced by the
        normalization with the running statistics. The training graph is not changed.
        """),
        code("""
        predict_graph = to_inference(probs)
        print("before:")
        opgraph.dprint(probs, depth=6)
        print("after:")
        opgraph.dprint(predict_graph, depth=6)
        """),
        code("""
        predict = opgraph.function([x], predict_graph, mode="PYTHON")
        p1, p2 = predict(X), predict(X)
        print("deterministic:", np.array_equal(p1, p2))
        print("training accuracy:", np.mean(p1.argmax(axis=1) == Y))
        print("generators among the inputs:",
              [str(v.type) for v in predict.maker.fgraph.inputs if "Generator" in type(v.type).__name__])
        """),
        md("""
        ## Fused attention

        Attention written the usual way builds an `n x n` matrix of scores. The `fused_attention`
        rewrite (in `fast_run`, and on its own through `fuse_attention`) recognizes
        matmul -> scale -> (mask) -> softmax -> matmul and puts one `FusedAttention` node in its place:
        its kernels walk the keys in blocks with a running max and sum per query (an online
        softmax), so the scores are never stored, and its gradient (`FusedAttentionGrad`) recomputes
        them block by block.
        """),
        code("""
        q, k, v = pt.dtensor3("q"), pt.dtensor3("k"), pt.dtensor3("v")   # (heads, sequence, features)
        attn = pt.special.softmax(q @ k.transpose(0, 2, 1) / pt.sqrt(8.0), axis=-1) @ v
        opgraph.dprint(attn)
        """),
        code("""
        fused = fuse_attention(attn)
        opgraph.dprint(fused)
        """),
        md("""
        `%%pytensor -r fused_attention` shows the same rewrite from the cell magic: the graph the
        cell defines after the rewrites of that tag.
        """),
        code("""
        %%pytensor -r fused_attention
        attn
        """),
        md("""
        The rewrite stepper shows the fusion as one step: the rule, and the graph before and after.
        (The widget only renders in a live notebook; the steps are printed below it.)
        """),
        code("""
        from opgraph.widgets import RewriteStepper

        stepper = RewriteStepper(attn, include=("fused_attention",))
        stepper
        """, IGNORE),
        code("""
        walk = RewriteStepper(attn, include=("fused_attention",))
        for step in walk.steps:
            print(step.index, step.tag, step.rule)
        fusion = next(step.index for step in walk.steps if step.rule == "fused_attention")
        walk.goto(fusion)
        opgraph.dprint(walk.step.after)
        """),
        md("""
        Same values, and the gradient of the fused graph is fused too:
        """),
        code("""
        Q, K, V = (rng.normal(size=(2, 50, 8)) for _ in range(3))
        plain = opgraph.function([q, k, v], attn, mode="PYTHON")(Q, K, V)
        fast = opgraph.function([q, k, v], fused, mode="PYTHON")(Q, K, V)
        print("max |difference|:", float(np.max(np.abs(plain - fast))) < 1e-12)
        g = grad(fused.sum(), [q, k, v])
        print(sorted({type(n.op.core_op).__name__ for n in opgraph.function([q, k, v], g, mode="PYTHON").maker.fgraph.apply_nodes
                      if hasattr(n.op, "core_op")}))
        """),
    ]
