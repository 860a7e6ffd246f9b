"""Helpers the test tiers share: events, dataset factories, botocore request checks, worlds."""
