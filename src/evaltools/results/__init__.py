"""``results.json``: its typed schema and version (:mod:`~evaltools.results.schema`), writing
and reading it (:mod:`~evaltools.results.io`)."""
