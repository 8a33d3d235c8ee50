"""The generated-Python backend: one Python function per graph calling NumPy/SciPy per node.

``dispatch.py`` holds the per-Op rules (``python_funcify``), ``codegen.py`` writes the
graph function, ``linker.py`` links it (the fast tier of tiered execution, and the
PYTHON mode's linker).
"""
