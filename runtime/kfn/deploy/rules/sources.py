"""PingSource, SinkBinding and EventType rules.

From CONTRACT.md "PingSource", "SinkBinding" and "Eventing others, in brief".

The cron and data checks are the ones `@schedule` runs when it is declared
(runtime/kfn/schedule.py), so the decorator and the manifest agree by construction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kfn.deploy import formats
from kfn.deploy.rules._core import Report, mapping, rule
from kfn.deploy.rules.common import check_ce_overrides, check_destination, check_name
from kfn.schedule import (
    JSON_CONTENT_TYPE,
    CronError,
    check_json_object,
    check_pingsource_schedule,
    check_timezone,
    decode_base64,
)

# Each rule below is from CONTRACT.md "Eventing others, in brief" and "PingSource", unless it names
# another section.
# robfig/cron with optional seconds and descriptors, no @every.
SCHEDULE = rule("pingsource.schedule", "the schedule parses as Knative's cron")
# the time zone is an IANA name.
TIMEZONE = rule("pingsource.timezone", "timezone is an IANA name")
# data and dataBase64 are mutually exclusive.
DATA_ONE_OF = rule("pingsource.data-one-of", "data and dataBase64 are exclusive")
# dataBase64 is valid base64.
DATA_BASE64 = rule("pingsource.data-base64", "dataBase64 is base64")
# with contentType application/json, the data is a JSON object.
DATA_JSON = rule("pingsource.data-json", "JSON data is a JSON object")
# a subject has apiVersion, kind and exactly one of name/selector (also CONTRACT.md "SinkBinding").
SUBJECT = rule("sinkbinding.subject", "the subject is a valid reference")
# the subject's namespace is the binding's (also CONTRACT.md "SinkBinding").
SUBJECT_NAMESPACE = rule("sinkbinding.subject-namespace", "the subject is in the namespace")
# v1beta3 EventTypes name the type, source, specversion and id attributes (CONTRACT.md
# "SinkBinding").
EVENTTYPE_ATTRIBUTES = rule("eventtype.attributes", "type, source, specversion and id attributes")


def check_pingsource(report: Report, manifest: Mapping[str, Any]) -> None:
    check_name(report, manifest, serving=False)
    spec = mapping(manifest.get("spec"))
    schedule = spec.get("schedule", "* * * * *")  # the defaulting webhook's value
    timezone = str(spec.get("timezone") or "") or None
    if timezone is not None:
        try:
            check_timezone(timezone)
        except CronError as error:
            report.add(TIMEZONE, "spec.timezone", str(error))
            timezone = None
    try:
        # The webhook parses "CRON_TZ=<timezone> <schedule>" (CONTRACT.md "PingSource").
        check_pingsource_schedule(str(schedule), timezone)
    except CronError as error:
        report.add(SCHEDULE, "spec.schedule", str(error))
    data, data64 = spec.get("data"), spec.get("dataBase64")
    json_type = spec.get("contentType") == JSON_CONTENT_TYPE  # exact, as the webhook compares
    if data and data64:
        report.add(DATA_ONE_OF, "spec.data", "set data or dataBase64, not both")
    elif data64:
        try:
            decoded = decode_base64(str(data64))
        except ValueError as error:
            report.add(DATA_BASE64, "spec.dataBase64", str(error))
        else:
            if json_type:
                _check_json(report, decoded.decode("utf-8", "replace"), "spec.dataBase64")
    elif data and json_type:
        _check_json(report, str(data), "spec.data")
    check_destination(report, spec.get("sink"), "spec.sink")
    if "ceOverrides" in spec:
        check_ce_overrides(report, spec.get("ceOverrides"), "spec.ceOverrides")


def _check_json(report: Report, text: str, path: str) -> None:
    # Go unmarshals into a map[string]interface{}: an object passes, and so does `null`.
    if text.strip() == "null":
        return
    try:
        check_json_object(text)
    except ValueError as error:
        report.add(DATA_JSON, path, str(error))


def check_sinkbinding(report: Report, manifest: Mapping[str, Any]) -> None:
    check_name(report, manifest, serving=False)
    namespace = mapping(manifest.get("metadata")).get("namespace")
    spec = mapping(manifest.get("spec"))
    subject = mapping(spec.get("subject"))
    missing = [key for key in ("apiVersion", "kind") if not subject.get(key)]
    if missing:
        report.add(SUBJECT, "spec.subject", f"missing {', '.join(missing)}")
    name, selector = subject.get("name"), subject.get("selector")
    if (name is None) == (selector is None):
        report.add(SUBJECT, "spec.subject", "set exactly one of name or selector")
    elif name is not None and not formats.is_dns1123_label(str(name)):
        report.add(SUBJECT, "spec.subject.name", f"{name!r} is not a DNS-1123 label")
    subject_namespace = subject.get("namespace")
    if subject_namespace and namespace and subject_namespace != namespace:
        report.add(
            SUBJECT_NAMESPACE,
            "spec.subject.namespace",
            f"{subject_namespace!r} differs from the binding's namespace {namespace!r}",
        )
    check_destination(report, spec.get("sink"), "spec.sink")
    if "ceOverrides" in spec:
        check_ce_overrides(report, spec.get("ceOverrides"), "spec.ceOverrides")


def check_eventtype(report: Report, manifest: Mapping[str, Any]) -> None:
    check_name(report, manifest, serving=False)
    spec = mapping(manifest.get("spec"))
    names = {mapping(a).get("name") for a in spec.get("attributes") or () if isinstance(a, dict)}
    missing = [key for key in ("type", "source", "specversion", "id") if key not in names]
    if missing:
        report.add(EVENTTYPE_ATTRIBUTES, "spec.attributes", f"missing {', '.join(missing)}")
