"""Unit tests of the shared AWS adapters (the SNS email rules)."""
