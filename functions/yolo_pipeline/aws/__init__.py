"""AWS adapters shared by both Lambdas: clients with the retry policy, the SNS email,
env-var settings helpers and observability."""
