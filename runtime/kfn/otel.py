"""OpenTelemetry export of invocation spans over OTLP, on only when the OTEL_* variables ask.

With the `otel` extra installed and `OTEL_EXPORTER_OTLP_ENDPOINT` (or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, every span of kfn.tracing is exported
with the FaaS and CloudEvents semantic conventions. The SDK reads the rest of the
standard variables itself (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
`OTEL_TRACES_SAMPLER`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_BSP_*`...). When the
sampler drops a trace, the invocation still gets a span id and hands on the trace
with the sampled flag cleared, as any OpenTelemetry service would. Without those
variables nothing of OpenTelemetry is imported.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kfn import logs, tracing
from kfn.metrics import outcome

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def wanted(environ: Mapping[str, str]) -> bool:
    """Whether the environment asks for trace export: an OTLP endpoint, and not turned off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower()
    if exporters == "none":
        return False
    return any(environ.get(name, "").strip() for name in ENDPOINT_VARIABLES)


class SpanExporter(tracing.Observer):
    """Turns kfn's invocation spans into OpenTelemetry spans, exported in batches over OTLP."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self.tracer = provider.get_tracer("kfn")

    def started(self, span: tracing.Span) -> None:
        from opentelemetry import trace
        from opentelemetry.context import Context

        context = Context()
        if span.parent_id is not None:
            parent = trace.SpanContext(
                int(span.trace_id, 16),
                int(span.parent_id, 16),
                is_remote=True,
                trace_flags=trace.TraceFlags(span.flags),
                trace_state=trace.TraceState.from_header([span.state] if span.state else []),
            )
            context = trace.set_span_in_context(trace.NonRecordingSpan(parent))
        kind = trace.SpanKind.INTERNAL if span.trigger == "timer" else trace.SpanKind.CONSUMER
        exported = self.tracer.start_span(
            span.function,
            context=context,
            kind=kind,
            attributes=_start_attributes(span),
            start_time=span.start_ns,
        )
        # What the invocation hands on is the exported span's identity and sampling decision.
        own = exported.get_span_context()
        span.trace_id = f"{own.trace_id:032x}"
        span.span_id = f"{own.span_id:016x}"
        span.flags = int(own.trace_flags)
        span.exporter_state = exported

    def ended(self, span: tracing.Span) -> None:
        from opentelemetry.trace import Status, StatusCode

        exported = span.exporter_state
        if exported is None or span.status is None:
            return
        exported.set_attribute("http.response.status_code", span.status)
        exported.set_attribute("kfn.outcome", outcome(span.status))
        if span.reply is not None:
            exported.set_attribute("kfn.reply.type", str(span.reply.get("type")))
            exported.set_attribute("kfn.reply.id", str(span.reply.get("id")))
        if span.status >= 400:
            exported.set_attribute("error.type", span.problem or str(span.status))
            exported.set_status(Status(StatusCode.ERROR, span.problem))
        exported.end(end_time=span.end_ns)

    def shutdown(self) -> None:
        """Export what is still buffered, then stop (at the host's shutdown)."""
        self.provider.shutdown()


def _start_attributes(span: tracing.Span) -> dict[str, Any]:
    event = span.event
    attributes: dict[str, Any] = {
        "faas.name": span.function,
        "faas.trigger": span.trigger,
        "faas.coldstart": span.cold_start,
        "faas.invocation_id": str(event.get("id")),
        "cloudevents.event_id": str(event.get("id")),
        "cloudevents.event_type": str(event.get("type")),
        "cloudevents.event_source": str(event.get("source")),
        "cloudevents.event_spec_version": str(event.get("specversion", "1.0")),
    }
    if event.get("subject"):
        attributes["cloudevents.event_subject"] = str(event["subject"])
    return attributes


def start(environ: Mapping[str, str] | None = None) -> SpanExporter | None:
    """Export spans when the environment asks for it; None (and nothing imported) otherwise."""
    env = os.environ if environ is None else environ
    if not wanted(env):
        return None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        logs.event(
            logging.WARNING,
            "traces are not exported: OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry "
            "is not installed (pip install 'kfn-host[otel]')",
        )
        return None
    provider = TracerProvider(resource=_resource(Resource, env))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    exporter = SpanExporter(provider)
    tracing.watch(exporter)
    return exporter


def _resource(resource_type: Any, env: Mapping[str, str]) -> Any:
    """The SDK's resource from the environment, named after the Knative Service when it is not named."""
    detected = resource_type.create(
        {
            name: value
            for name, value in (
                ("faas.version", env.get("K_REVISION")),
                ("service.version", env.get("K_REVISION")),
            )
            if value
        }
    )
    if str(detected.attributes.get("service.name", "")).startswith("unknown_service"):
        detected = detected.merge(resource_type({"service.name": env.get("K_SERVICE") or "kfn"}))
    return detected


def stop(exporter: SpanExporter) -> None:
    """Stop watching spans and flush the exporter."""
    if exporter in tracing.observers:
        tracing.observers.remove(exporter)
    exporter.shutdown()
