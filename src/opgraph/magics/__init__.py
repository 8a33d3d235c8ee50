"""The ``%%pytensor`` cell magic and ``%pytensor`` line magic (registered by ``%load_ext opgraph``)."""

from opgraph.magics.pytensor_magic import PytensorMagics  # noqa: F401
