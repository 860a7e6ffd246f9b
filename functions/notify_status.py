"""Notifier Lambda: EventBridge "SageMaker Training Job State Change" -> one SNS email.

Thin on purpose, wired as the launcher is: settings parsed at cold start (a missing env var
fails loudly before any event), Powertools decorators and one call into the service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from yolo_pipeline.aws.observability import logger, metrics, tracer
from yolo_pipeline.notifier.service import Notifier
from yolo_pipeline.notifier.settings import NotifierSettings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

notifier = Notifier(NotifierSettings.from_env())


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return notifier.handle(event, context)
