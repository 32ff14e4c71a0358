"""Schemathesis against the OpenAPI document: no server error, no answer that breaks the schema.

Every operation runs with generated data (valid and invalid) on the demo data, with a token of
the role the operation is for, so the generated calls reach the services and not only the
401 of a missing token.
"""

from __future__ import annotations

import itertools
import random

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from portal.auth import tokens
from portal.extensions import db
from portal.models import Role, User


@pytest.fixture
def api_schema(app, demo):
    from portal.search import get_backend

    get_backend().apply_pending(wait=True)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def role_tokens(app, demo) -> dict[Role, str]:
    found = {}
    for role in (Role.liaison, Role.drafter):
        user = db.session.scalars(db.select(User).where(User.role == role)).first()
        _row, found[role] = tokens.create_token(user, "schemathesis")
    db.session.commit()
    return found


@pytest.fixture
def real_values(app, demo, role_tokens) -> dict[str, list[str]]:
    """Path values that exist: the demo's slugs (open first), its batches, its receipt codes."""
    from portal.models import Comment, Draft, Submission

    open_first = db.select(Draft.slug).order_by(Draft.status != "consulting", Draft.id)
    codes = db.select(Comment.tracking_code).where(Comment.tracking_code.is_not(None)).limit(3)
    return {
        "slug": list(db.session.scalars(open_first)),
        "submission_id": [str(i) for i in db.session.scalars(db.select(Submission.id))],
        "code": list(db.session.scalars(codes)),
    }


schema = schemathesis.pytest.from_fixture("api_schema")
CASE_NUMBERS = itertools.count()

# What the issue asks: no server error, and nothing outside the documented statuses, media
# types, headers and bodies. Two of schemathesis' checks are left out on purpose: "positive data
# acceptance" (a schema-valid request can still break a rule only the database knows: a draft
# slug that does not exist, an article the draft lacks; a 4xx problem is then the answer) and
# "negative data rejection" (unknown query parameters are ignored, as HTTP APIs usually do).
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


def _role_for(path: str) -> Role | None:
    if path.startswith(("/api/v1/assignments", "/api/v1/submissions")):
        return Role.liaison
    if path.startswith("/api/v1/search"):
        return Role.drafter
    return None


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_openapi_document(case, role_tokens, real_values):
    # Hypothesis resets `random` to one state per example; Whoosh names index segments with it.
    random.seed(next(CASE_NUMBERS))
    role = _role_for(case.path)
    headers = {"Authorization": f"Bearer {role_tokens[role]}"} if role else {}
    case.call_and_validate(headers=headers, checks=CHECKS)
    # Generated slugs, ids and codes all miss, so the services behind them would only ever see
    # a 404: the same case again with real path values (and a real draft in a body) reaches them.
    if _use_real_values(case, real_values):
        case.call_and_validate(headers=headers, checks=CHECKS)


def _use_real_values(case, real_values: dict[str, list[str]]) -> bool:
    changed = False
    for name, value in dict(case.path_parameters or {}).items():
        pool = real_values.get(name)
        if pool:
            case.path_parameters[name] = pool[len(str(value)) % len(pool)]
            changed = True
    if isinstance(case.body, dict) and isinstance(case.body.get("draft"), str):
        case.body["draft"] = real_values["slug"][len(case.body["draft"]) % 3]
        changed = True
    return changed


def test_the_document_is_valid_openapi_3(client):
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    assert document["openapi"].startswith("3.")
    assert set(document["components"]["securitySchemes"]) == {"bearerAuth"}
