"""One report from one parameter file: the pipeline's named steps (:mod:`~evaltools.run.pipeline`):
checks (:mod:`~evaltools.run.check`), notebook execution (:mod:`~evaltools.run.execute`) in
kernels (:mod:`~evaltools.run.kernels`) or warm kernels (:mod:`~evaltools.run.warm_kernels`,
:mod:`~evaltools.run.kernel_server`, :mod:`~evaltools.run.kernel_client`), atomic publishing
(:mod:`~evaltools.run.publish`), the failure record (:mod:`~evaltools.run.failure`),
provenance and verification.
"""
