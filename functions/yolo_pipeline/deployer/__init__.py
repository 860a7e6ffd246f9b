"""The deployer: a model version approved in a dataset's model package group becomes that
dataset's endpoint ``<prefix>-<dataset slug>`` (created once, then updated in place), and one
email says when it serves or why it failed. See docs/serving.md, "Deploy on approval".

Modules: ``settings`` (env, once), ``events`` (the two EventBridge events), ``decisions`` (the
pure decision table), ``requests`` (the SageMaker requests), ``emails``, ``service`` (the AWS
calls and the idempotency around them).
"""
