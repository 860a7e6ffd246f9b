"""Print template.yaml as JSON, before and after the SAM transform.

Run with the ``.venv-sam`` interpreter (it has samtranslator, which the app venv lacks):
``.venv-sam/bin/python tests/template/render_template.py template.yaml``. The tests then
assert on exactly what CloudFormation would receive, SAM-generated roles included.
"""

from __future__ import annotations

import copy
import json
import os
import sys
from typing import Any


class _NoManagedPolicies:
    """The translator only asks for managed policy ARNs when a policy is named bare."""

    def load(self) -> dict[str, str]:
        return {}


def render(path: str) -> dict[str, Any]:
    from samtranslator.translator.transform import transform  # type: ignore[import-not-found]
    from samtranslator.yaml_helper import yaml_parse  # type: ignore[import-not-found]

    with open(path, encoding="utf-8") as handle:
        raw = yaml_parse(handle.read())
    template = copy.deepcopy(raw)
    # `sam validate` does the same: local CodeUris become S3 locations before the transform.
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://bucket/key"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    transformed = transform(template, {}, _NoManagedPolicies())
    return {"raw": raw, "transformed": transformed}


if __name__ == "__main__":
    json.dump(render(sys.argv[1]), sys.stdout)
