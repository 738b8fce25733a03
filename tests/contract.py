"""Every answer the test suite gets from the JSON API is held to ``GET /api/v1/openapi.json``.

:class:`ContractClient` is the test client of every app the suite makes (``make_app`` sets it), so
no test has to ask for it. For each call under ``/api/v1/`` it checks, with the ``jsonschema``
library against the document the app serves:

- the status is one the operation documents (an unknown path a 404, a method the path does not
  take a 405 with ``Allow``), and the headers it documents as required are there;
- the JSON body matches the documented schema for that status (nothing for a 204);
- a request whose body or query parameters the document refuses got a 4xx, never a success.

A finding fails the test that made the call, with what was wrong.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing import Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.test import TestResponse

API = "/api/v1"
URI = "urn:test:openapi"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class ContractViolation(AssertionError):
    """An answer of the API that its OpenAPI document does not allow."""


def _pointer(*steps: str) -> str:
    return "#/" + "/".join(step.replace("~", "~0").replace("/", "~1") for step in steps)


class Document:
    """The OpenAPI document, with a validator for any schema in it by its JSON pointer."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(URI, resource)

    def errors(self, pointer: str, instance: Any) -> list[str]:
        validator = Draft202012Validator({"$ref": URI + pointer}, registry=self.registry)
        return [
            f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
            for error in validator.iter_errors(instance)
        ]

    def resolved(self, item: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in item:
            node: Any = self.document
            for step in item["$ref"].removeprefix("#/").split("/"):
                node = node[step.replace("~1", "/").replace("~0", "~")]
            item = node
        return item


def check(
    document: Document,
    method: str,
    path: str,
    query: dict[str, str],
    body: Any,
    response: TestResponse,
) -> None:
    """Raise :class:`ContractViolation` if ``response`` breaks the document."""
    where = f"{method.upper()} {path}"
    status = response.status_code
    relative = _template(document, path.removeprefix(API))
    item = document.document["paths"].get(relative)
    if item is None:
        _expect_error(document, where, response, 404)
        return
    declared = {m for m in METHODS if m in item}
    if method not in declared:
        if method in ("head", "options") and ("get" in declared or method == "options"):
            return  # answered by Flask for every route; nothing in them to check
        _expect_error(document, where, response, 405)
        allowed = {m.strip().lower() for m in response.headers.get("Allow", "").split(",")}
        if not declared <= allowed:
            raise ContractViolation(f"{where}: a 405 without Allow naming {sorted(declared)}")
        return
    operation = item[method]
    refused = _refused_input(document, relative, method, operation, query, body)
    if refused and status < 400:
        raise ContractViolation(f"{where}: the document refuses {refused}, but it got {status}")
    responses = operation["responses"]
    if str(status) not in responses:
        raise ContractViolation(f"{where}: {status} is not documented ({sorted(responses)})")
    documented = document.resolved(responses[str(status)])
    for name, header in documented.get("headers", {}).items():
        if document.resolved(header).get("required") and name not in response.headers:
            raise ContractViolation(f"{where}: {status} without its {name} header")
    content = documented.get("content")
    if content is None:
        if response.get_data():
            raise ContractViolation(f"{where}: {status} should have no body")
        return
    if response.mimetype != "application/json":
        raise ContractViolation(f"{where}: {status} is {response.mimetype}, not JSON")
    pointer = _pointer("paths", relative, method, "responses", str(status), "content")
    errors = document.errors(pointer + "/application~1json/schema", response.get_json())
    if errors:
        raise ContractViolation(f"{where}: the {status} body breaks the document: {errors}")


def _template(document: Document, path: str) -> str:
    """The document's path for a request's path: itself, or the template it fills in
    (``/hotline/referrals/{reference}``; a parameter is one segment)."""
    if path in document.document["paths"]:
        return path
    for template in document.document["paths"]:
        pattern = re.sub(r"\\{[^/{}]+\\}", "[^/]+", re.escape(template))
        if "{" in template and re.fullmatch(pattern, path):
            return template
    return path


def _expect_error(document: Document, where: str, response: TestResponse, status: int) -> None:
    if response.status_code != status:
        raise ContractViolation(f"{where}: expected {status}, got {response.status_code}")
    errors = document.errors("#/components/schemas/Error", response.get_json())
    if errors:
        raise ContractViolation(f"{where}: the {status} body is not the error envelope: {errors}")


def _refused_input(
    document: Document,
    path: str,
    method: str,
    operation: dict[str, Any],
    query: dict[str, str],
    body: Any,
) -> list[str]:
    """What in the request the document refuses (its query parameters and JSON body)."""
    refused: list[str] = []
    for index, raw in enumerate(operation.get("parameters", ())):
        parameter = document.resolved(raw)
        if parameter["in"] == "query" and parameter["name"] in query:
            pointer = (
                raw["$ref"] + "/schema"
                if "$ref" in raw
                else _pointer("paths", path, method, "parameters", str(index), "schema")
            )
            refused += document.errors(pointer, query[parameter["name"]])
    if "requestBody" in operation and body is not _NO_JSON:
        pointer = _pointer("paths", path, method, "requestBody", "content", "application/json")
        refused += document.errors(pointer + "/schema", body)
    return refused


_NO_JSON = object()


def _json_body(kwargs: dict[str, Any]) -> Any:
    """The JSON a test sent, or _NO_JSON when it sent none (or something that is not JSON)."""
    if "json" in kwargs:
        return kwargs["json"]
    data = kwargs.get("data")
    if isinstance(data, str | bytes) and "json" in str(kwargs.get("content_type", "")):
        try:
            return json.loads(data)
        except (ValueError, RecursionError):
            return _NO_JSON
    return _NO_JSON


class ContractClient(FlaskClient):
    """A test client that checks every JSON API answer against the app's OpenAPI document."""

    _document: Document | None = None

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        request = response.request
        if not request.path.startswith(f"{API}/") or kwargs.get("follow_redirects"):
            return response
        if self._document is None:  # one per client: each app may have other limits
            self._document = Document(FlaskClient.open(self, f"{API}/openapi.json").get_json())
        check(
            self._document,
            request.method.lower(),
            request.path,
            dict(request.args),
            _json_body(kwargs),
            response,
        )
        return response
