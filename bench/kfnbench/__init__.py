"""kfnbench: kfn measured against the floor and the anchors, in one run, as ratios.

`python3 bench/run.py` is the whole interface; see bench/README.md. Modules, in the
order a run uses them: bootstrap (environments, wrk) -> systems and workloads (what
is measured) -> servers (processes) -> load (wrk or the fallback) -> throughput ->
coldstart -> curves -> instructions (callgrind over asgi_driver) -> dispatch ->
profile -> targets -> report and chart.
"""
