"""The launcher Lambda's logic: the S3 event, the job name and request, its emails, the
service that ties them together."""
