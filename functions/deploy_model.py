"""Deployer Lambda: an approved model version becomes its dataset's endpoint; one email when
it serves or fails.

Wired like the other two: settings parsed at cold start (a missing env var fails loudly
before any event), Powertools decorators and one call into the service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from yolo_pipeline.aws.observability import logger, metrics, tracer
from yolo_pipeline.deployer.service import Deployer
from yolo_pipeline.deployer.settings import DeployerSettings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

deployer = Deployer(DeployerSettings.from_env())


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return deployer.handle(event, context)
