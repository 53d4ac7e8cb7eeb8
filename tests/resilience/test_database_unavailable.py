"""With the database away, every request answers 503 with ``Retry-After``, never a 500 page.

The outage is real: the connection is pointed at a port that refuses connections (the
server is down), or its server process is terminated between two queries of one request
(the server restarted under it). Neither is a mock of the database.
"""

from __future__ import annotations

import socket

import pytest
from django.core.handlers.exception import convert_exception_to_response
from django.db import connection, connections
from django.test import Client

from apps.core.unavailable import RETRY_AFTER_SECONDS, DatabaseUnavailableMiddleware
from tests.api.conftest import assert_problem
from tests.conftest import as_tenant_admin

HOST = "acme.localhost"


@pytest.fixture
def database_down(live_db):
    """Call it to take the database away: the connection goes to a port nobody listens on.

    The socket is bound but never listens, so the kernel refuses every connection to it
    (at once, and no other process can take the port meanwhile).
    """
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    saved = {key: connection.settings_dict[key] for key in ("HOST", "PORT")}

    def take_down() -> None:
        connection.close()
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(holder.getsockname()[1]))

    try:
        yield take_down
    finally:
        connection.close()
        connection.settings_dict.update(saved)
        holder.close()


def client() -> Client:
    # A 500 would re-raise the exception in the test otherwise; the response is what counts.
    return Client(HTTP_HOST=HOST, raise_request_exception=False)


def assert_unavailable_page(response, *, german: bool = False) -> str:
    assert response.status_code == 503, response.content[:500]
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    for leak in ("Traceback", "OperationalError", "psycopg", "127.0.0.1"):
        assert leak not in body
    if german:
        assert "Datenbank" in body
    return body


@pytest.mark.parametrize("debug", [False, True])
def test_an_admin_page_answers_503_while_the_database_refuses_connections(
    database_down, settings, debug
):
    settings.DEBUG = debug
    editor = as_tenant_admin(client())
    # The tenant is resolved and cached; the admin reads the session and the database.
    assert editor.get("/admin/").status_code == 200
    database_down()

    response = editor.get("/admin/", HTTP_ACCEPT="text/html", HTTP_ACCEPT_LANGUAGE="de")

    assert_unavailable_page(response, german=True)


def test_the_api_answers_a_503_problem_while_the_database_refuses_connections(database_down):
    api = as_tenant_admin(client())
    assert api.get("/api/v1/nodes/").status_code == 200
    database_down()

    response = api.get("/api/v1/nodes/")

    problem = assert_problem(response, 503, "database_unavailable")
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "database" in problem["detail"]


def test_an_unresolved_tenant_answers_503_too(database_down):
    """The tenant resolver is the first to need the database when its cache is cold."""
    database_down()

    response = client().get("/api/v1/nodes/")

    assert_problem(response, 503)
    assert int(response["Retry-After"]) > 0


def _terminate(pid: int) -> None:
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            # Waits (up to 5 s) until the backend is gone.
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
            assert cursor.fetchone()[0] is True
    finally:
        other.close()


@pytest.mark.parametrize("debug", [False, True])
def test_a_connection_lost_inside_a_middleware_is_a_503_not_the_500_page(
    live_db, rf, settings, debug
):
    """A middleware further in (as sessions or authentication do) loses its connection
    between two queries: Django turns the error into its 500 (the debug page with DEBUG
    on); the 503 replaces it."""
    settings.DEBUG = debug

    def middleware_further_in(request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        _terminate(pid)
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        raise AssertionError("the query on a terminated connection went through")

    stack = DatabaseUnavailableMiddleware(convert_exception_to_response(middleware_further_in))
    try:
        response = stack(rf.get("/account/", HTTP_ACCEPT="text/html"))
    finally:
        connection.close()

    body = assert_unavailable_page(response)
    assert "500" not in body


def test_other_errors_still_reach_the_500_page(rf):
    def broken(request):
        raise ValueError("a bug, not an outage")

    stack = DatabaseUnavailableMiddleware(convert_exception_to_response(broken))

    assert stack(rf.get("/")).status_code == 500
