"""The client's public surface: exported names and the one exception tree."""

from __future__ import annotations

import inspect

import pytest

import bot.mylivechat as mlc
from bot.mylivechat import _errors

EXPECTED_ERRORS = {
    400: mlc.BadRequest,
    401: mlc.AuthError,
    403: mlc.ScopeError,
    404: mlc.NotFound,
    409: mlc.Conflict,
    429: mlc.RateLimited,
    500: mlc.ServerError,
    503: mlc.ServerError,
}


def test_every_exported_name_exists_and_is_public() -> None:
    for name in mlc.__all__:
        assert hasattr(mlc, name), name
    assert not [n for n in mlc.__all__ if n.startswith("_")]


@pytest.mark.parametrize(("status", "cls"), EXPECTED_ERRORS.items())
def test_status_maps_to_one_error_class(status: int, cls: type) -> None:
    assert _errors.error_for_status(status) is cls
    assert issubclass(cls, mlc.APIStatusError) and issubclass(cls, mlc.MyLiveChatError)


def test_transport_errors_are_a_separate_branch() -> None:
    assert issubclass(mlc.APIConnectionError, mlc.MyLiveChatError)
    assert not issubclass(mlc.APIConnectionError, mlc.APIStatusError)


def test_errors_tell_code_status_and_request_id() -> None:
    err = mlc.NotFound("no tag 42", code="not_found", status=404, request_id="req_abc")
    assert str(err) == "not_found: no tag 42 | HTTP 404 | request id req_abc"
    limited = mlc.RateLimited("slow down", retry_after=7.0, status=429)
    assert limited.retry_after == 7.0 and limited.code == "rate_limited"


def test_every_client_method_is_async_and_typed() -> None:
    methods = [
        m
        for name, m in inspect.getmembers(mlc.MyLiveChatClient, inspect.isfunction)
        if not name.startswith("_")
    ]
    assert len(methods) >= 26
    for method in methods:
        assert inspect.iscoroutinefunction(method), method.__name__
        assert "return" in method.__annotations__, method.__name__
