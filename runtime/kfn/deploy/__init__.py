"""Knative deployment: the registry turned into Knative resources, checked before they are written.

The layout mirrors Knative's own `_types/_defaults/_validation` split:

- `table`: `[tool.kfn]` in pyproject.toml as pydantic models (keys, types, checks);
- `settings`: the table read and resolved into `types` (with `defaults`), errors named by key path;
- `units`: which functions run in which Knative Service;
- `resources/`: one builder per kind, producing plain dicts (Service, Trigger, PingSource,
  SinkBinding, EventType);
- `rules/`: the admission-webhook rules the CRD schemas do not carry (CONTRACT.md
  "Validation webhook rules that the CRD schemas do not express");
- `render`: deterministic YAML; `dockerfile`: the container image; `generate`: all of it
  for one project, as the files of `deploy/`.

Nothing on the serving path imports this package; PyYAML is imported only to render.
"""

from kfn.deploy.errors import DeployError

__all__ = ["DeployError"]
