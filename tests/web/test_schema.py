"""Schemathesis against the app's own OpenAPI spec: generated requests (valid and invalid) on every
API operation, with an admin token; no response may be a 5xx. SQLite only (the API logic is shared;
the database-specific paths are covered by test_api on both engines). Examples are bounded so the
run stays within a minute on 2 cores."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from sohoa.config.signing import SigningSettings
from sohoa.web import create_app
from sohoa.web.tokens import Tokens
from tests.web.conftest import make_settings, seed, web_settings

ADMIN: dict[str, str] = {}
EXAMPLES = 25


@pytest.fixture
def app(tmp_path: Path, signing_settings: SigningSettings, case: Callable[[str], Path]) -> Iterator[FastAPI]:
    app_settings = make_settings(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'sohoa.db'}", signing_settings)
    made = create_app(app_settings, web_settings())
    seed(made.state.web.records, case("b-lt"))
    _info, ADMIN["token"] = Tokens(made.state.web.records).create("admin", "schemathesis")
    yield made
    made.state.web.records.close()


@pytest.mark.slow
def test_no_server_errors(app: FastAPI) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {ADMIN['token']}"}
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()
        checked.append(f"{operation.method.upper()} {operation.path}")

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: schemathesis.Case) -> None:
            if case.method.upper() == "DELETE" and case.path.startswith("/api/v1/tokens"):
                case.path_parameters = {"token_id": 999999}  # keep the token this run uses
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error])

        run()
    assert len(checked) >= 12, f"operations found in the spec: {checked}"
