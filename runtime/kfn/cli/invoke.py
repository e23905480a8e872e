"""`kfn invoke`: send a CloudEvent (or a plain HTTP request) to a running host and show the answer.

Flags follow Knative's `func invoke`: --target, --mode, --type, --source, --id,
--subject, --data or --file, --content-type, and -e name=value for extensions.
A host that checks sender identity needs a token: --token, --token-file (as a
Kubernetes pod has its tokens) or KFN_INVOKE_TOKEN, sent as `Authorization: Bearer`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
from collections.abc import Mapping
from typing import Any

from kfn._errors import CommandError

TOKEN_ENV = "KFN_INVOKE_TOKEN"
_TOKEN = re.compile(r"[!-~]+")
"""A bearer token is one word of printable ASCII (RFC 6750's b64token, and JWTs, are)."""


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "invoke",
        help="send a CloudEvent or HTTP request and print the reply",
        description="Send a CloudEvent (binary or structured mode) or a plain HTTP request "
        "to a running host, and print the reply.",
    )
    parser.add_argument(
        "--target",
        help="URL to send to (default: http://127.0.0.1:<port>/, the port `kfn run` uses); "
        "e.g. .../events/<function>",
    )
    parser.add_argument(
        "--port", type=int, help="port on 127.0.0.1 (default: $PORT, [tool.kfn] port or 8080)"
    )
    parser.add_argument(
        "--mode",
        choices=("binary", "structured", "http"),
        default="binary",
        help="CloudEvents content mode, or 'http' for a plain request (default: binary)",
    )
    parser.add_argument(
        "--method", help="HTTP method with --mode http (default GET, POST with data)"
    )
    parser.add_argument("--type", default="kfn.invoke", help="event type (default: kfn.invoke)")
    parser.add_argument("--source", default="/kfn/cli", help="event source (default: /kfn/cli)")
    parser.add_argument("--id", help="event id (default: a new UUID)")
    parser.add_argument("--subject", help="event subject")
    data = parser.add_mutually_exclusive_group()
    data.add_argument("--data", help="event data / request body as text")
    data.add_argument("--file", help="read event data / request body from this file")
    parser.add_argument(
        "--content-type",
        default="application/json",
        help="content type of the data (default: application/json)",
    )
    parser.add_argument(
        "-e",
        "--extension",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an extension attribute; repeat for more",
    )
    token = parser.add_mutually_exclusive_group()
    token.add_argument(
        "--token",
        help=f"send `Authorization: Bearer TOKEN` (sender identity; default: ${TOKEN_ENV})",
    )
    token.add_argument(
        "--token-file",
        metavar="PATH",
        help="read the bearer token from this file (a projected service-account token, say)",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait (default 30)")
    parser.set_defaults(handler=handle)


def _body(args: argparse.Namespace) -> bytes | None:

    if args.file:
        try:
            with open(args.file, "rb") as handle:
                return handle.read()
        except OSError as error:
            raise CommandError(f"cannot read --file {args.file}: {error.strerror}") from None
    return args.data.encode() if args.data is not None else None


def bearer_token(args: argparse.Namespace, environ: Mapping[str, str]) -> str | None:
    """The token to send: --token, else --token-file's content, else $KFN_INVOKE_TOKEN."""
    token: str
    if args.token is not None:
        where, token = "--token", str(args.token)
    elif args.token_file is not None:
        where = f"--token-file {args.token_file}"
        try:
            with open(args.token_file, encoding="utf-8") as handle:
                token = handle.read()
        except OSError as error:
            raise CommandError(f"cannot read {where}: {error.strerror}") from None
        except UnicodeDecodeError:
            raise CommandError(f"{where} is not a text file") from None
    elif environ.get(TOKEN_ENV):
        where, token = TOKEN_ENV, environ[TOKEN_ENV]
    else:
        return None
    token = token.strip()
    if not token:
        raise CommandError(f"{where}: the token is empty")
    if not _TOKEN.fullmatch(token):
        raise CommandError(f"{where}: a bearer token is one word of printable ASCII")
    return token


def build_event(args: argparse.Namespace, body: bytes | None) -> Any:
    """The CloudEvent the flags describe, checked by the same rules the host applies."""
    from kfn._errors import DecodingError
    from kfn.codec.attributes import check_name
    from kfn.codec.data import STRICT_JSON_DATA
    from kfn.codec.event import new_event

    extensions: dict[str, Any] = {}
    for item in args.extension:
        name, sep, value = item.partition("=")
        try:
            check_name(name)
        except DecodingError as problem:
            raise CommandError(f"-e {item}: {problem.detail}") from None
        if not sep or not value:
            raise CommandError(f"-e {item}: write extensions as name=value")
        extensions[name] = value
    data: Any = None
    content_type = None
    if body is not None:
        content_type = args.content_type
        try:
            data = STRICT_JSON_DATA.read_data(body, content_type)
        except DecodingError as problem:
            raise CommandError(f"--data/--file: {problem.detail}") from None
    return new_event(
        args.type,
        args.source,
        data,
        content_type=content_type,
        subject=args.subject,
        id=args.id,
        extensions=extensions,
    )


def handle(args: argparse.Namespace) -> int:
    import httpx

    from kfn.cli import project
    from kfn.codec import Mode, to_http

    body = _body(args)
    token = bearer_token(args, os.environ)
    port = project.port(args.port, project.load(), os.environ)
    target = args.target or f"http://127.0.0.1:{port}/"
    headers: dict[str, str] = {}
    if args.mode == "http":
        method = (args.method or ("POST" if body is not None else "GET")).upper()
        if body is not None:
            headers["content-type"] = args.content_type
        content = body
    else:
        method = "POST"
        event = build_event(args, body)
        pairs, content = to_http(event, Mode(args.mode))
        headers = dict(pairs)
        print(f"> {args.mode} event {event.get_type()} id={event.get_id()}", file=sys.stderr)
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    try:
        response = httpx.request(
            method, target, headers=headers, content=content, timeout=args.timeout
        )
    except httpx.HTTPError as error:
        raise CommandError(f"cannot reach {target}: {error}") from None
    print_response(response)
    if response.status_code == 401:
        print(f"kfn: {refusal(response, sent_token=token is not None)}", file=sys.stderr)
    return 0 if response.is_success else 1


def refusal(response: Any, *, sent_token: bool) -> str:
    """One line for a 401: the token the host wants, or why it refused the one sent."""
    if not sent_token:
        return (
            "the host requires a sender-identity token: pass --token TOKEN or "
            f"--token-file PATH, or set {TOKEN_ENV}"
        )
    detail = ""
    with contextlib.suppress(ValueError, AttributeError):
        detail = " ".join(str(response.json().get("detail") or "").split())
    return f"the host refused the token: {detail or 'it gave no reason'}"


def print_response(response: Any) -> None:
    """The status, then the reply event's attributes and data, or the body."""
    from kfn._errors import DecodingError
    from kfn.codec import Mode, carries_event, detect_mode, from_http
    from kfn.codec.attributes import canonical_string

    print(f"{response.status_code} {response.reason_phrase}")
    content_type = response.headers.get("content-type", "")
    if response.is_success and carries_event(response.headers):
        try:
            mode = detect_mode(content_type.encode("latin-1"))
            events = from_http(response.headers.multi_items(), response.content)
        except DecodingError as problem:
            print(f"(the reply is not a valid CloudEvent: {problem.detail})")
            print(response.text)
            return
        for event in events:
            print(f"Reply event ({'batch' if mode is Mode.BATCH else mode.value}):")
            for name, value in event.get_attributes().items():
                print(f"  {name}: {canonical_string(value)}")
            data = event.get_data()
            if data is not None:
                shown = data if isinstance(data, str | bytes) else json.dumps(data, indent=2)
                print("Data:")
                print(shown if not isinstance(shown, bytes) else repr(shown))
        return
    if response.content:
        text = response.text
        if "json" in content_type:
            with contextlib.suppress(ValueError):
                text = json.dumps(response.json(), indent=2)
        print(text)
