"""``opgraph.link``: backends (PyTensor's ``pytensor.link``)."""
