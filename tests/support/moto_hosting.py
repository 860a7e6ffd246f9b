"""Two gaps of moto 5.2's SageMaker hosting, filled for the tests that need them (SageMaker's
documented behaviour, nothing looser):

- moto has no UpdateEndpoint: added. The endpoint switches to the new config at once (moto's
  CreateEndpoint is InService at once too); an unknown endpoint or config is the same
  ValidationException "Could not find ..." SageMaker answers.
- moto's UpdateModelPackage drops a package's CustomerMetadataProperties when the call does
  not name them; SageMaker keeps them (only CustomerMetadataPropertiesToRemove removes any).
"""

from __future__ import annotations

from typing import Any

import pytest
from moto.core.responses import ActionResult
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse


def _update_endpoint(
    self: SageMakerModelBackend, endpoint_name: str, endpoint_config_name: str
) -> Any:
    config = self.describe_endpoint_config(endpoint_config_name)  # raises when unknown
    self.describe_endpoint(endpoint_name)  # raises when unknown
    endpoint = self.endpoints[endpoint_name]
    endpoint.endpoint_config_name = endpoint_config_name
    endpoint.production_variants = endpoint._process_production_variants(
        config["ProductionVariants"]
    )
    endpoint.endpoint_status = "InService"
    return endpoint


def _update_endpoint_response(self: SageMakerResponse) -> Any:
    backend: Any = self.sagemaker_backend  # update_endpoint is ours, added below
    endpoint = backend.update_endpoint(
        endpoint_name=self._get_param("EndpointName"),
        endpoint_config_name=self._get_param("EndpointConfigName"),
    )
    return ActionResult({"EndpointArn": endpoint.arn})


_original_update_package = SageMakerModelBackend.update_model_package


def _update_model_package_keeping_metadata(
    self: SageMakerModelBackend, model_package_arn: str, *args: Any, **kwargs: Any
) -> Any:
    name = self.model_package_name_mapping.get(model_package_arn, model_package_arn)
    package = self.model_packages.get(name)
    kept = dict(package.customer_metadata_properties or {}) if package is not None else {}
    arn = _original_update_package(self, model_package_arn, *args, **kwargs)
    if package is not None:
        given = kwargs.get("customer_metadata_properties") or {}
        removed = kwargs.get("customer_metadata_properties_to_remove") or []
        merged = {k: v for k, v in {**kept, **given}.items() if k not in removed}
        package.customer_metadata_properties = merged
    return arn


def patch_moto_hosting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SageMakerModelBackend, "update_endpoint", _update_endpoint, raising=False)
    monkeypatch.setattr(
        SageMakerResponse, "update_endpoint", _update_endpoint_response, raising=False
    )
    monkeypatch.setattr(
        SageMakerModelBackend, "update_model_package", _update_model_package_keeping_metadata
    )
