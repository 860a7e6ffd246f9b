"""Read-only dataset storage: base types, the local, zip and S3 backends, and the opener."""
