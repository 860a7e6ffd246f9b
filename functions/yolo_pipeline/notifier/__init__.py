"""The notifier Lambda's logic: the SageMaker event, the job email, pricing, the service."""
