"""One builder per Knative kind; each returns a plain dict with its keys in manifest order.

The builders only translate: the decisions (which units, which timeouts, which
delivery) are made in `units` and `settings`, and the result is checked by `rules`.
"""
