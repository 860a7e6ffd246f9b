"""Notifier Lambda: EventBridge "SageMaker Training Job State Change" -> one SNS email.

Thin on purpose: Powertools decorators and one call into ``yolo_pipeline.notifier.service``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from yolo_pipeline.aws.observability import logger, metrics, tracer
from yolo_pipeline.notifier.service import handle_event


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_event(event, context)
