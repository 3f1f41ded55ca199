"""Parameter files: the typed, frozen models (:mod:`~evaltools.params.models`), loading with
error locations (:mod:`~evaltools.params.loading`), and the scaffold that ``evaltools new``
writes (:mod:`~evaltools.params.scaffold`).
"""
