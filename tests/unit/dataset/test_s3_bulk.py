"""obstore is configured from the boto3 client: credentials, region and endpoint."""

from __future__ import annotations

import asyncio

import boto3
import pytest

from yolo_pipeline.dataset.storage import s3_bulk


def _client(**kw: str) -> object:
    session = boto3.Session(
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        aws_session_token=kw.pop("token", "") or None,
        region_name="eu-west-1",
    )
    return session.client("s3", **kw)


def test_a_custom_endpoint_and_the_session_token_are_passed_on() -> None:
    store = s3_bulk.store_for(_client(endpoint_url="http://127.0.0.1:5000", token="tok"), "b")
    config = store.config
    assert config["endpoint"] == "http://127.0.0.1:5000"
    assert config["region"] == "eu-west-1"
    assert config["access_key_id"] == "AKIDEXAMPLE"
    assert config["session_token"] == "tok"
    assert store.client_options == {"allow_http": "true"}  # obstore stores it as text


def test_on_aws_the_regional_endpoint_is_left_to_obstore() -> None:
    store = s3_bulk.store_for(_client(), "b")
    assert "endpoint" not in store.config and "session_token" not in store.config
    assert s3_bulk._is_aws_endpoint("https://s3.eu-west-1.amazonaws.com")
    assert not s3_bulk._is_aws_endpoint("http://localhost:4566")


def test_the_switch_and_a_running_event_loop_keep_reads_on_boto3(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(s3_bulk.ENV_SWITCH, "obstore")
    assert s3_bulk.enabled()

    async def inside() -> bool:
        return s3_bulk.enabled()

    assert asyncio.run(inside()) is False
    monkeypatch.setenv(s3_bulk.ENV_SWITCH, "boto3")
    assert not s3_bulk.enabled()
