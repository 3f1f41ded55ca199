"""One report from one parameter file: the pipeline's steps (:mod:`~evaltools.run.pipeline`),
notebook execution (:mod:`~evaltools.run.execute`) with warm kernels
(:mod:`~evaltools.run.warm_kernels`, :mod:`~evaltools.run.kernel_server`,
:mod:`~evaltools.run.kernel_client`), provenance and verification.
"""
