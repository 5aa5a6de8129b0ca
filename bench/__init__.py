"""Benchmarks for the atlas: detection throughput against the volunteer team's
published detector (``oco2peak==0.0.4``) on the same simulated orbits, and the
end-to-end build (per-stage wall time, peak memory, I/O floor, Dask workers).

Run ``python -m bench [detect|e2e|all]``; figures go to ``bench/results.json``
and ``docs/performance.md`` explains them.
"""
