"""Type: static information about the values a Variable can hold."""

from __future__ import annotations

from opgraph.kernel_core.graph.basic import Constant, Variable


class Type:
    """Base class of all types.

    Subclasses define ``filter`` (validate / convert a runtime value),
    ``is_super`` (subtyping for replacement), ``short_str`` (dprint form) and
    ``variable_class`` / ``constant_class``.
    """

    variable_class = None
    constant_class = None

    def filter(self, value, strict=False, allow_downcast=None):
        raise NotImplementedError

    def is_valid_value(self, value):
        try:
            self.filter(value, strict=True)
            return True
        except (TypeError, ValueError):
            return False

    def make_variable(self, name=None):
        cls = self.variable_class or Variable
        return cls(self, None, None, name)

    def make_variable_with_tag(self, tag, name=None):
        """``make_variable(name)`` whose tag is ``tag``, for makers that already
        know it (clones, outputs built for one user line): no stack walk for the
        source line, unless a subclass changes how variables are made."""
        cls = self.variable_class or Variable
        if cls.__init__ is Variable.__init__ and type(self).make_variable is Type.make_variable:
            return cls(self, None, None, name, _tag=tag)
        var = self.make_variable(name)
        var.tag = tag
        return var

    def __call__(self, name=None):
        return self.make_variable(name)

    def make_constant(self, value, name=None):
        cls = self.constant_class or Constant
        return cls(self, value, name=name)

    def is_super(self, other):
        """True when every value of ``other`` is a valid value of self."""
        return self == other

    def convert_variable(self, var):
        """Return ``var`` viewed as this type, or None if impossible."""
        if var.type == self:
            return var
        return None

    def short_str(self):
        return str(self)

    def constant_str(self, data):
        return str(data)

    def data_key(self, data):
        return data

    def values_eq(self, a, b):
        return a == b



class GenericType(Type):
    """Any Python object (a string, None, a list, ...): no checks, no conversion.

    The type of ``shared("a string")`` and other non-array shared values; such a
    variable can be a function input, output or update, but no tensor op takes it.
    """

    def filter(self, value, strict=False, allow_downcast=None):
        return value

    def is_valid_value(self, value):
        return True

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(GenericType)

    def __str__(self):
        return "GenericType"

    __repr__ = __str__

    def short_str(self):
        return "Generic"

    def constant_str(self, data):
        return repr(data)

    def data_key(self, data):
        # Constants of this type are merged only when they are the same object.
        return (GenericType, id(data))


generic = GenericType()


# The public names: everything defined here (PyTensor's module re-exports them).
__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and getattr(_v, "__module__", None) == __name__] + ["generic"]
