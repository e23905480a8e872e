"""Rules shared by several kinds: object names, Destinations (sinks, subscribers), CE overrides.

Each rule names the section of CONTRACT.md (Knative's contract, as read from its code) it comes
from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from kfn.deploy import formats
from kfn.deploy.rules._core import Report, join, mapping, rule

# Each rule below is from CONTRACT.md "Eventing Trigger" and "Trigger spec", unless it names another
# section.
# a Serving object's name is a DNS-1035 label (at most 63) (CONTRACT.md "Serving Service,
# Configuration and Revision template").
NAME_DNS1035 = rule("metadata.name-dns1035", "Serving names are DNS-1035 labels")
# eventing names follow Kubernetes: a DNS-1123 subdomain.
NAME_DNS1123 = rule("metadata.name-dns1123", "Eventing names are DNS-1123 subdomains")
# "One of name or generateName is required" (CONTRACT.md "Serving Service, Configuration and
# Revision template").
NAME_REQUIRED = rule("metadata.name-required", "every object has a name")
# a Destination has a ref or a URI.
DEST_REF_OR_URI = rule("destination.ref-or-uri", "a Destination has a ref or a uri")
# with a ref, the URI must be relative.
DEST_RELATIVE_URI = rule("destination.relative-uri", "ref + uri needs a relative uri")
# without a ref, the URI must be absolute, with a host.
DEST_ABSOLUTE_URI = rule("destination.absolute-uri", "a uri alone must be absolute")
# a ref needs name, apiVersion and kind.
DEST_REF_FIELDS = rule("destination.ref-fields", "a ref has name, apiVersion and kind")
# `group` needs the kreference-group flag (disabled by default).
DEST_REF_GROUP = rule("destination.ref-group", "ref.group needs a feature flag")
# CACerts must be PEM certificates.
DEST_CACERTS = rule("destination.cacerts-pem", "CACerts is a PEM certificate")
# ceOverrides extension names are non-empty and alphanumeric (CONTRACT.md "PingSource").
CE_OVERRIDES = rule("ceoverrides.extension-name", "ceOverrides extensions are alphanumeric")

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_PEM = re.compile(
    r"-----BEGIN CERTIFICATE-----\s+[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----", re.MULTILINE
)
_EXTENSION_NAME = re.compile(r"^[a-zA-Z0-9]+$")


def check_name(report: Report, manifest: Mapping[str, Any], serving: bool) -> None:
    metadata = mapping(manifest.get("metadata"))
    name = metadata.get("name")
    if not name and not metadata.get("generateName"):
        report.add(NAME_REQUIRED, "metadata.name", "the object has no name")
        return
    if name is None:
        return
    if serving and not formats.is_dns1035_label(name):
        report.add(
            NAME_DNS1035,
            "metadata.name",
            f"{name!r} is not a DNS-1035 label (a-z, 0-9, '-', starting with a letter, at most 63)",
        )
    elif not serving and not formats.is_dns1123_subdomain(name):
        report.add(NAME_DNS1123, "metadata.name", f"{name!r} is not a DNS-1123 subdomain")


def check_destination(report: Report, value: Any, path: str, required: bool = True) -> None:
    """A duck Destination: {ref: {apiVersion, kind, name, namespace}, uri, CACerts, audience}."""
    destination = mapping(value)
    ref = destination.get("ref")
    uri = destination.get("uri")
    if ref is None and not uri:
        if required or value is not None:
            report.add(DEST_REF_OR_URI, path, "needs a ref or a uri")
        return
    if ref is not None:
        # Deliberately stricter: Knative checks a ref only when no uri comes with it, but
        # a ref that cannot resolve leaves the resource not ready whatever the uri.
        ref_map = mapping(ref)
        missing = [key for key in ("name", "apiVersion", "kind") if not ref_map.get(key)]
        if missing:
            report.add(DEST_REF_FIELDS, join(path, "ref"), f"missing {', '.join(missing)}")
        if "group" in ref_map:
            report.add(DEST_REF_GROUP, join(join(path, "ref"), "group"), "needs kreference-group")
        if uri and (_SCHEME.match(str(uri)) or str(uri).startswith("//")):
            report.add(DEST_RELATIVE_URI, join(path, "uri"), f"{uri!r} must be relative to the ref")
    elif uri:
        parts = urlsplit(str(uri))
        if not parts.scheme or not parts.netloc:
            report.add(DEST_ABSOLUTE_URI, join(path, "uri"), f"{uri!r} is not an absolute URI")
    certs = destination.get("CACerts")
    if certs is not None and not (isinstance(certs, str) and _PEM.search(certs)):
        report.add(DEST_CACERTS, join(path, "CACerts"), "is not a PEM CERTIFICATE block")


def check_ce_overrides(report: Report, value: Any, path: str) -> None:
    extensions = mapping(mapping(value).get("extensions"))
    for key in extensions:
        if not _EXTENSION_NAME.match(str(key)):
            report.add(
                CE_OVERRIDES,
                join(join(path, "extensions"), str(key)),
                f"extension name {key!r} must be non-empty and alphanumeric",
            )
