"""The API's own OpenAPI document as its contract: every request's query and body are checked
against the schemas there, in this one place, with a well-kept JSON Schema validator.

What a schema refuses becomes a :class:`Problem` per field. Its code comes from the ``x-error``
the document gives the field (see :mod:`assistant.web.openapi`): the nearest one on the way from
the body to the value, by JSON Schema keyword where the codes differ. The web layer words them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema import ValidationError
from referencing import Registry
from referencing import Resource
from referencing.jsonschema import DRAFT202012

# Where the document stands in the validator's registry, so that its "#/components/..." references
# resolve.
DOCUMENT_URI = "urn:removal-request-assistant:openapi"


@dataclass(frozen=True)
class Problem:
    """What one field of a request cannot be, as an error code.

    ``field`` is a query parameter's name or a path into the body (``locations/2/kind``);
    ``request_code`` is the code the whole request is refused with because of it (a location's
    problem refuses the request as ``invalid_locations``); ``keyword`` is the JSON Schema keyword
    that refused it; ``params`` fill in the sentence (``limit``: the length it exceeded).
    """

    field: str
    code: str
    request_code: str
    keyword: str = ""
    index: int | None = None
    params: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    """One operation of the document: its path (under ``/api/v1``), method and description."""

    path: str
    method: str
    spec: Mapping[str, Any]

    def pointer(self, *more: str) -> str:
        """A JSON pointer to (a part of) this operation in the document."""
        steps = ["paths", self.path, self.method, *more]
        return "#/" + "/".join(step.replace("~", "~0").replace("/", "~1") for step in steps)


class Contract:
    """The document, ready to check requests against."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)
        # One validator per schema, made on first use (the document never changes).
        self._validators: dict[str, Draft202012Validator] = {}

    def operation(self, path: str, method: str) -> Operation | None:
        """The operation for a path (as in the document, under ``/api/v1``) and method."""
        found = self.document["paths"].get(path, {}).get(method.lower())
        return Operation(path, method.lower(), found) if isinstance(found, Mapping) else None

    def _resolved(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in schema:
            schema = self._registry.resolver().lookup(_absolute(schema["$ref"])).contents
        return schema

    def parameters(self, operation: Operation) -> list[Mapping[str, Any]]:
        return [self._resolved(item) for item in operation.spec.get("parameters", ())]

    def body_schema(self, operation: Operation) -> Mapping[str, Any] | None:
        body = operation.spec.get("requestBody")
        if body is None:
            return None
        return self._resolved(body["content"]["application/json"]["schema"])

    def query_problems(self, operation: Operation, args: Mapping[str, str]) -> list[Problem]:
        """Each query parameter the operation declares, checked when it is given."""
        problems = []
        for parameter in self.parameters(operation):
            name = parameter["name"]
            if parameter.get("in") != "query" or name not in args:
                continue
            schema = parameter["schema"]  # a parameter's schema stands on its own
            for error in Draft202012Validator(schema).iter_errors(args[name]):
                code = _code_for(schema, error.validator) or "invalid"
                problems.append(Problem(name, code, code, str(error.validator)))
        return problems

    def body_problems(self, operation: Operation, body: Any) -> list[Problem]:
        """What the operation's request body schema refuses in ``body``, field by field, in the
        order the schema lists its fields."""
        schema = self.body_schema(operation)
        if schema is None:
            return []
        validator = self._validator(
            operation.pointer("requestBody", "content", "application/json", "schema")
        )
        problems = [
            problem
            for error in validator.iter_errors(body)
            for problem in self._problems(schema, error)
        ]
        order = list(schema.get("properties", {}))
        problems.sort(key=lambda p: (_position(order, p.field), p.field))
        return problems

    def _validator(self, pointer: str) -> Draft202012Validator:
        found = self._validators.get(pointer)
        if found is None:
            found = Draft202012Validator(
                {"$ref": f"{DOCUMENT_URI}{pointer}"}, registry=self._registry
            )
            self._validators[pointer] = found
        return found

    def _problems(self, root: Mapping[str, Any], error: ValidationError) -> Iterator[Problem]:
        path = list(error.absolute_path)
        keyword = str(error.validator)
        if keyword == "required":
            missing = [name for name in error.validator_value if name not in error.instance]
            fields = [[*path, name] for name in missing[:1]]
        elif keyword == "additionalProperties":
            known = set(error.schema.get("properties", {}))
            fields = [[*path, name] for name in sorted(set(error.instance) - known)]
        else:
            fields = [path]
        for field_path in fields:
            yield self._problem(root, field_path, keyword, error)

    def _problem(
        self, root: Mapping[str, Any], path: list[Any], keyword: str, error: ValidationError
    ) -> Problem:
        schemas = self._along(root, path)
        if keyword == "additionalProperties":
            code = "unknown_field"
        else:
            code = _nearest_code(schemas, keyword)
        top = schemas[1] if len(schemas) > 1 else root
        if len(path) > 1 and isinstance(top.get("x-error"), Mapping):
            request_code = top["x-error"].get("items", code)
        else:
            request_code = code
        limit = error.validator_value if keyword in ("maxLength", "maxItems") else None
        index = path[1] if len(path) > 1 and isinstance(path[1], int) else None
        return Problem(
            "/".join(map(str, path)),
            code,
            request_code,
            keyword,
            index,
            {"limit": str(limit)} if isinstance(limit, int) else {},
        )

    def _along(self, root: Mapping[str, Any], path: Sequence[Any]) -> list[Mapping[str, Any]]:
        """The schema of the body, then of each step of ``path`` into it, as far as it goes."""
        schemas = [self._resolved(root)]
        for step in path:
            current = schemas[-1]
            if isinstance(step, int):
                child = current.get("items")
            else:
                child = current.get("properties", {}).get(step)
            if not isinstance(child, Mapping):
                break
            schemas.append(self._resolved(child))
        return schemas


def _absolute(ref: str) -> str:
    return f"{DOCUMENT_URI}{ref}" if ref.startswith("#") else ref


def _code_for(schema: Mapping[str, Any], keyword: str) -> str | None:
    """The code ``schema``'s ``x-error`` gives a value it refuses by ``keyword``."""
    codes = schema.get("x-error")
    if isinstance(codes, str):
        return codes
    if isinstance(codes, Mapping):
        found = codes.get(keyword) or codes.get("type")
        return str(found) if found else None
    return None


def _nearest_code(schemas: Sequence[Mapping[str, Any]], keyword: str) -> str:
    """The code of the innermost schema along the way that names one: by the refusing keyword
    for the schema that refused, by its ``items`` code for an array the value is inside of."""
    for depth in range(len(schemas) - 1, -1, -1):
        schema = schemas[depth]
        innermost = depth == len(schemas) - 1
        codes = schema.get("x-error")
        if innermost:
            found = _code_for(schema, keyword)
        elif isinstance(codes, Mapping):
            found = codes.get("items") or codes.get("type")
        else:
            found = codes
        if found:
            return str(found)
    return "invalid"


def _position(order: list[str], field: str) -> int:
    top = field.split("/", 1)[0]
    return order.index(top) if top in order else len(order)
