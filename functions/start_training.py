"""Launcher Lambda: S3 "Object Created" (data.yaml) -> validated SageMaker training job.

Fed by LaunchQueue (SQS; each record's body is one EventBridge S3 event) and answers with
a partial batch response; a bare EventBridge event (``sam local invoke -e``) is one record.
Thin by design: Powertools decorators and one call into ``yolo_pipeline.launcher.service``.
Settings are parsed at cold start, so a missing env var fails loudly before any event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from yolo_pipeline.aws.observability import logger, metrics, tracer
from yolo_pipeline.launcher.service import Launcher
from yolo_pipeline.launcher.settings import LauncherSettings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

launcher = Launcher(LauncherSettings.from_env())


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return launcher.handle(event, context)
