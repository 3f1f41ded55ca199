"""One report per grantee, in parallel: planning and running a round
(:mod:`~evaltools.batch.round`), what is unchanged (:mod:`~evaltools.batch.state`), the jobs
(:mod:`~evaltools.batch.jobs`) and the worker (:mod:`~evaltools.batch.worker`) on local
processes (:mod:`~evaltools.batch.local_pool`) or a Dask cluster
(:mod:`~evaltools.batch.dask_pool`), and the live display (:mod:`~evaltools.batch.display`).
"""
