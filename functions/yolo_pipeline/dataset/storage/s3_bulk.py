"""Many small S3 reads at a fraction of botocore's CPU cost, through obstore (Rust).

Validating a folder dataset reads one label file per image. Through botocore each small
GetObject costs ~2 ms of client CPU (its request pipeline: signing, hooks, parsing); a
1,024 MB Lambda has ~0.58 vCPU, so a COCO-sized folder (118k labels) would need ~480 s.
obstore does the same GET in ~0.6 ms, its requests in flight on its own runtime.

Only the bulk label reads come here; listing, data.yaml and every other call stay on
boto3. The connection follows boto3: credentials, region and endpoint (``AWS_ENDPOINT_URL``
included) are taken from the boto3 client the storage already uses, so a moto server,
a profile or the Lambda's role credentials (with their session token) work the same way.
Any obstore failure on a key is retried once through boto3 (``fallback``), which either
reads it or raises the ``StorageError`` a user can act on; a reader whose whole first
batch fails is switched off for the rest of the run.

``YOLO_S3_READER=boto3`` turns it off (the tests that run under in-process ``mock_aws``,
which only patches botocore, set it).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

try:  # optional: without obstore every read goes through boto3
    import obstore
    from obstore.store import S3Store
except ImportError:  # pragma: no cover - obstore is a runtime dependency
    obstore = None  # type: ignore[assignment]

T = TypeVar("T")
ENV_SWITCH = "YOLO_S3_READER"
BATCH = 256  # requests in flight per batch; the reads are small, the CPU is the limit


def enabled() -> bool:
    if os.environ.get(ENV_SWITCH, "obstore").lower() == "boto3":
        return False
    try:
        asyncio.get_running_loop()
        return False  # called from async code (a notebook): its loop is not ours to block
    except RuntimeError:
        pass
    return obstore is not None


def _is_aws_endpoint(url: str) -> bool:
    host = url.split("://", 1)[-1].split("/", 1)[0]
    return host.endswith((".amazonaws.com", ".amazonaws.com.cn"))


def store_for(client: Any, bucket: str) -> Any:
    """An obstore ``S3Store`` for ``bucket`` with the boto3 client's connection settings."""
    # The very credentials this client signs with (env, profile, role: whatever boto3 found).
    creds = getattr(getattr(client, "_request_signer", None), "_credentials", None)
    frozen = creds.get_frozen_credentials() if creds is not None else None
    config: dict[str, Any] = {"region": client.meta.region_name or "us-east-1"}
    if frozen is not None:
        config["access_key_id"] = frozen.access_key
        config["secret_access_key"] = frozen.secret_key
        if frozen.token:
            config["session_token"] = frozen.token
    else:
        config["skip_signature"] = True
    endpoint = str(client.meta.endpoint_url or "")
    client_options: dict[str, Any] = {}
    if endpoint and not _is_aws_endpoint(endpoint):  # AWS_ENDPOINT_URL, a moto server ...
        config["endpoint"] = endpoint
        client_options["allow_http"] = endpoint.startswith("http://")
    return S3Store(bucket, config=config, client_options=client_options or None)  # type: ignore[arg-type]


class ObstoreReader:
    """Bulk GETs of keys in one bucket; ``fallback`` reads a key that obstore could not."""

    def __init__(self, client: Any, bucket: str, fallback: Callable[[str], bytes]) -> None:
        self.store = store_for(client, bucket)
        self.fallback = fallback
        self.working = True

    async def _get(self, key: str) -> bytes | BaseException:
        try:
            result = await obstore.get_async(self.store, key)
            return bytes(await result.bytes_async())
        except Exception as exc:  # settled below, through boto3
            return exc

    async def _batch(self, keys: list[str]) -> list[bytes | BaseException]:
        return await asyncio.gather(*(self._get(k) for k in keys))

    def read_many(self, keys: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """``(key, body)`` for every key, in order, ``BATCH`` requests in flight at a time."""
        loop = asyncio.new_event_loop()
        try:
            batch: list[str] = []
            for key in keys:
                batch.append(key)
                if len(batch) == BATCH:
                    yield from self._settle(batch, loop)
                    batch = []
            if batch:
                yield from self._settle(batch, loop)
        finally:
            loop.close()

    def _settle(
        self, keys: list[str], loop: asyncio.AbstractEventLoop
    ) -> Iterator[tuple[str, bytes]]:
        if not self.working:
            bodies: list[bytes | BaseException] = [RuntimeError("obstore off")] * len(keys)
        else:
            bodies = loop.run_until_complete(self._batch(keys))
            if all(isinstance(b, BaseException) for b in bodies):
                self.working = False  # e.g. an endpoint obstore cannot reach: boto3 from now
        for key, body in zip(keys, bodies, strict=True):
            yield key, (self.fallback(key) if isinstance(body, BaseException) else body)


def map_read_obstore(
    reader: ObstoreReader,
    prefix: str,
    paths: Iterable[str],
    fn: Callable[[str, bytes], T],
) -> Iterator[tuple[str, T]]:
    """``storage.map_read`` through ``reader``: ``fn`` on each body as it arrives."""
    cut = len(prefix)
    for key, body in reader.read_many(prefix + p for p in paths):
        path = key[cut:]
        yield path, fn(path, body)
