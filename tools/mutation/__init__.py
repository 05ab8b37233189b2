"""Mutation testing of the core modules (``make mutate``).

``operators`` makes one-line mutants of a module, ``tracing`` is the pytest plugin that
learns which test reaches which line, ``run`` runs each mutant against the tests that reach
it, ``cli`` reports the kill rate and the survivors.
"""
