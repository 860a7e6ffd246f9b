"""Assertions on the transformed template: least privilege, event patterns, env wiring."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.template.resolve import Resolver, as_list, role_statements
from yolo_pipeline.aws.env import JOB_NAME_PREFIX_PATTERN
from yolo_pipeline.aws.image_guard import checked_image
from yolo_pipeline.launcher.notices import QUOTA_NOTICE_WINDOW_SECONDS
from yolo_pipeline.launcher.settings import LauncherSettings
from yolo_pipeline.notifier.settings import NotifierSettings

Resources = dict[str, dict[str, Any]]
FUNCTIONS = {
    "StartTrainingFunction": "start_training.lambda_handler",
    "NotifyStatusFunction": "notify_status.lambda_handler",
}
# The only managed policies any role may have: what SAM attaches for logs and Tracing.
ALLOWED_MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}
# Actions that have no resource-level permissions, so `Resource: "*"` is the only option.
# Actions IAM lets take no resource but "*" (none has a resource type in the reference).
STAR_RESOURCE_ACTIONS = {
    "ecr:GetAuthorizationToken",
    "cloudwatch:PutMetricData",
    "sagemaker:ListModelPackages",
    "sagemaker:ListTrainingJobs",  # counting the jobs in progress: no resource type
}
TRAINING_JOBS = {
    "Fn::Sub": "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}"
    ":training-job/${JobNamePrefix}-*"
}
# The model registry: the dataset's group <prefix>-<slug> and its versions, nothing else.
MODEL_PACKAGE_GROUPS = {
    "Fn::Sub": "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}"
    ":model-package-group/${JobNamePrefix}-*"
}
MODEL_PACKAGES = {
    "Fn::Sub": "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}"
    ":model-package/${JobNamePrefix}-*/*"
}
REGISTRY_ACTIONS = [
    "sagemaker:CreateModelPackageGroup",
    "sagemaker:DescribeModelPackageGroup",
    "sagemaker:CreateModelPackage",
    "sagemaker:DescribeModelPackage",
]
BUCKET_ARN = {"Fn::GetAtt": ["DatasetBucket", "Arn"]}
DLQ_ARN = {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
LAUNCH_QUEUE_ARN = {"Fn::GetAtt": ["LaunchQueue", "Arn"]}
EVENT_SOURCE_MAPPING = "AWS::Lambda::EventSourceMapping"
TOPIC = {"Ref": "NotificationTopic"}
TABLE_ARN = {"Fn::GetAtt": ["IdempotencyTable", "Arn"]}
# The uploads table: item reads and writes plus Query (its indexes), never Scan or delete.
UPLOADS_TABLE_STATEMENT = {
    "Sid": "UploadsTable",
    "Effect": "Allow",
    "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
    "Resource": [
        {"Fn::GetAtt": ["UploadsTable", "Arn"]},
        {"Fn::Sub": "${UploadsTable.Arn}/index/*"},
    ],
}
ITEM_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
]


POLICY_DOCUMENT_TYPES = {
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::S3::BucketPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
}


def all_policy_statements(resources: Resources) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every identity and resource policy in the stack."""
    for name, res in resources.items():
        props = res.get("Properties", {})
        kind = res["Type"]
        if kind == "AWS::IAM::Role":
            for statement in role_statements(res):
                yield name, statement
        elif kind in POLICY_DOCUMENT_TYPES:
            for statement in as_list(props["PolicyDocument"]["Statement"]):
                yield name, statement
        elif kind == "AWS::KMS::Key":
            for statement in as_list(props["KeyPolicy"]["Statement"]):
                yield name, statement


def is_key_admin_statement(name: str, statement: dict[str, Any], resources: Resources) -> bool:
    """The KMS default statement (account root may administer its key), and only that."""
    root = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    return resources[name]["Type"] == "AWS::KMS::Key" and statement.get("Principal") == {
        "AWS": root
    }


def function_role(resources: Resources, function: str) -> dict[str, Any]:
    role_name = resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]
    return resources[role_name]


def statements_with(resources: Resources, function: str, action: str) -> list[dict[str, Any]]:
    return [
        s
        for s in role_statements(function_role(resources, function))
        if action in as_list(s["Action"])
    ]


# ----------------------------------------------------------------------------- IAM


def test_no_wildcard_actions(resources: Resources) -> None:
    checked = 0
    for name, statement in all_policy_statements(resources):
        if statement["Effect"] == "Deny" or is_key_admin_statement(name, statement, resources):
            continue  # a Deny on s3:* narrows access; the key admin statement is AWS's default
        for action in as_list(statement["Action"]):
            checked += 1
            assert action != "*", f"{name}: action *"
            assert not action.endswith(":*"), f"{name}: service-wide action {action}"
            assert "*" not in action, f"{name}: wildcard action {action}"
    assert checked > 30


def test_no_full_access_or_admin_policies(
    raw_template: dict[str, Any], resources: Resources
) -> None:
    for name, res in resources.items():
        if res["Type"] != "AWS::IAM::Role":
            continue
        managed = set(res["Properties"].get("ManagedPolicyArns", []))
        assert managed <= ALLOWED_MANAGED_POLICIES, f"{name}: {managed}"
        for arn in managed:
            assert "FullAccess" not in arn and "Admin" not in arn
    for name, res in raw_template["Resources"].items():
        for policy in res.get("Properties", {}).get("Policies", []) or []:
            names = [policy] if isinstance(policy, str) else list(policy)
            for entry in names:
                assert "FullAccess" not in entry and "Admin" not in entry, f"{name}: {entry}"


def test_star_resources_only_where_aws_allows_nothing_else(resources: Resources) -> None:
    for name, statement in all_policy_statements(resources):
        if statement["Effect"] == "Deny" or resources[name]["Type"] != "AWS::IAM::Role":
            continue
        if "*" in as_list(statement["Resource"]):
            assert set(as_list(statement["Action"])) <= STAR_RESOURCE_ACTIONS, (name, statement)
    metrics = [
        s
        for s in role_statements(resources["SageMakerExecutionRole"])
        if "cloudwatch:PutMetricData" in as_list(s["Action"])
    ]
    assert metrics and all(
        s["Condition"] == {"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/TrainingJobs"}}
        for s in metrics
    )


def test_pass_role_is_scoped_to_the_training_role_for_sagemaker(resources: Resources) -> None:
    passes = [
        (name, s)
        for name, s in all_policy_statements(resources)
        if "iam:PassRole" in as_list(s["Action"])
        and name != "DeployModelFunctionRole"  # the model role (test_serving_template.py)
    ]
    assert [name for name, _ in passes] == [
        resources["StartTrainingFunction"]["Properties"]["Role"]["Fn::GetAtt"][0]
    ]
    _, statement = passes[0]
    assert as_list(statement["Action"]) == ["iam:PassRole"]
    assert statement["Resource"] == {"Fn::GetAtt": ["SageMakerExecutionRole", "Arn"]}
    assert statement["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }


def test_launcher_permissions(resources: Resources) -> None:
    (create,) = statements_with(resources, "StartTrainingFunction", "sagemaker:CreateTrainingJob")
    assert as_list(create["Action"]) == ["sagemaker:CreateTrainingJob"]
    assert create["Resource"] == TRAINING_JOBS
    (tag,) = statements_with(resources, "StartTrainingFunction", "sagemaker:AddTags")
    assert as_list(tag["Action"]) == ["sagemaker:AddTags"] and tag["Resource"] == TRAINING_JOBS
    # Datasets, and a HeadObject of the user's starting weights.
    gets = statements_with(resources, "StartTrainingFunction", "s3:GetObject")
    assert all(as_list(g["Action"]) == ["s3:GetObject"] for g in gets)
    assert [g["Resource"] for g in gets] == [
        {"Fn::Sub": "${DatasetBucket.Arn}/${DatasetPrefix}*"},
        {"Fn::Sub": "${DatasetBucket.Arn}/${WeightsPrefix}*"},
    ]
    listings = statements_with(resources, "StartTrainingFunction", "s3:ListBucket")
    assert all(listing["Resource"] == BUCKET_ARN for listing in listings)
    assert [listing["Condition"] for listing in listings] == [
        {"StringLike": {"s3:prefix": {"Fn::Sub": "${DatasetPrefix}*"}}},
        {"StringLike": {"s3:prefix": {"Fn::Sub": "${WeightsPrefix}*"}}},
    ]
    (describe,) = statements_with(
        resources, "StartTrainingFunction", "sagemaker:DescribeTrainingJob"
    )
    assert describe["Resource"] == TRAINING_JOBS  # model: job:<name> (fine-tuning)
    (publish,) = statements_with(resources, "StartTrainingFunction", "sns:Publish")
    assert publish["Resource"] == TOPIC
    items, uploads = statements_with(resources, "StartTrainingFunction", "dynamodb:PutItem")
    assert as_list(items["Action"]) == ITEM_ACTIONS and items["Resource"] == TABLE_ARN
    assert uploads == UPLOADS_TABLE_STATEMENT
    # The image guard: DescribeImages on the stack's repository, nothing else from ECR.
    ecr = [
        s
        for s in role_statements(function_role(resources, "StartTrainingFunction"))
        if any(a.startswith("ecr:") for a in as_list(s["Action"]))
    ]
    assert [as_list(s["Action"]) for s in ecr] == [["ecr:DescribeImages"]]
    assert ecr[0]["Resource"] == {"Fn::GetAtt": ["TrainingImageRepository", "Arn"]}


def test_notifier_permissions(resources: Resources) -> None:
    (describe,) = statements_with(
        resources, "NotifyStatusFunction", "sagemaker:DescribeTrainingJob"
    )
    # ListTags: the notifier's fallback for the dataset tag when the event has no Tags.
    assert as_list(describe["Action"]) == ["sagemaker:DescribeTrainingJob", "sagemaker:ListTags"]
    assert describe["Resource"] == TRAINING_JOBS
    (publish,) = statements_with(resources, "NotifyStatusFunction", "sns:Publish")
    assert publish["Resource"] == TOPIC
    items, uploads = statements_with(resources, "NotifyStatusFunction", "dynamodb:PutItem")
    assert as_list(items["Action"]) == ITEM_ACTIONS and items["Resource"] == TABLE_ARN
    assert uploads == UPLOADS_TABLE_STATEMENT
    actions = {
        a
        for s in role_statements(function_role(resources, "NotifyStatusFunction"))
        for a in as_list(s["Action"])
    }
    assert not {a for a in actions if a.startswith("iam:")}
    assert {a for a in actions if a.startswith("s3:")} == {"s3:GetObject"}
    (results,) = statements_with(resources, "NotifyStatusFunction", "s3:GetObject")
    # metrics.json comes from the small output.tar.gz, never the model archive
    assert results["Resource"] == {"Fn::Sub": "${DatasetBucket.Arn}/models/*/output/output.tar.gz"}
    assert {a for a in actions if a.startswith("sagemaker:")} == {
        "sagemaker:DescribeTrainingJob",
        "sagemaker:ListTags",
        "sagemaker:ListModelPackages",
        *REGISTRY_ACTIONS,
    }
    (registry,) = statements_with(resources, "NotifyStatusFunction", "sagemaker:CreateModelPackage")
    assert sorted(as_list(registry["Action"])) == sorted(REGISTRY_ACTIONS)
    assert as_list(registry["Resource"]) == [MODEL_PACKAGE_GROUPS, MODEL_PACKAGES]
    # ListModelPackages has no IAM resource type: "*" is the only resource it can take, and
    # the only action of the notifier on "*".
    (listing,) = statements_with(resources, "NotifyStatusFunction", "sagemaker:ListModelPackages")
    assert as_list(listing["Action"]) == ["sagemaker:ListModelPackages"]
    assert listing["Resource"] == "*"


def test_functions_never_write_or_delete_objects(resources: Resources) -> None:
    for function in FUNCTIONS:
        for statement in role_statements(function_role(resources, function)):
            for action in as_list(statement["Action"]):
                assert not action.startswith(("s3:Put", "s3:Delete")), (function, action)


def test_sagemaker_role_reads_datasets_and_writes_only_models_and_checkpoints(
    resources: Resources,
) -> None:
    role = resources["SageMakerExecutionRole"]
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "sagemaker.amazonaws.com"}]
    writes, reads = set(), set()
    for statement in role_statements(role):
        actions = as_list(statement["Action"])
        resources_ = [
            r["Fn::Sub"] if isinstance(r, dict) and "Fn::Sub" in r else r
            for r in as_list(statement["Resource"])
        ]
        assert not any(a.startswith("s3:Delete") for a in actions)
        if "s3:PutObject" in actions:
            writes.update(resources_)
        if "s3:GetObject" in actions:
            reads.update(resources_)
        if any(a.startswith("ecr:") and a != "ecr:GetAuthorizationToken" for a in actions):
            assert statement["Resource"] == {"Fn::GetAtt": ["TrainingImageRepository", "Arn"]}
        if any(a.startswith("logs:") for a in actions):
            assert all("/aws/sagemaker/TrainingJobs" in r for r in resources_)
    assert writes == {"${DatasetBucket.Arn}/models/*", "${DatasetBucket.Arn}/checkpoints/*"}
    assert reads == {
        "${DatasetBucket.Arn}/${DatasetPrefix}*",
        "${DatasetBucket.Arn}/checkpoints/*",
        "${DatasetBucket.Arn}/${WeightsPrefix}*",  # the weights channel: a user's .pt
        "${DatasetBucket.Arn}/models/*",  # or an earlier job's model.tar.gz
    }


# ----------------------------------------------------------------------------- no lost events


def test_no_function_can_lose_an_event(resources: Resources) -> None:
    """The notifier is invoked async (on-failure destination); the launcher reads
    LaunchQueue, whose redrive policy is its way to the DLQ (no async invoke left)."""
    configs = {
        r["Properties"]["FunctionName"]["Ref"]: r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
    }
    assert set(configs) == {"NotifyStatusFunction", "DeployModelFunction"}
    for config in configs.values():
        assert config["DestinationConfig"]["OnFailure"]["Destination"] == DLQ_ARN
        assert 0 <= config["MaximumRetryAttempts"] <= 2
    redrive = resources["LaunchQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == DLQ_ARN
    assert 1 <= redrive["maxReceiveCount"] <= 5


def test_launch_queue_feeds_the_launcher_with_partial_batch_responses(
    resources: Resources,
) -> None:
    (mapping,) = [r["Properties"] for r in resources.values() if r["Type"] == EVENT_SOURCE_MAPPING]
    assert mapping["EventSourceArn"] == LAUNCH_QUEUE_ARN
    assert mapping["FunctionName"] == {"Ref": "StartTrainingFunction"}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 1 <= mapping["BatchSize"] <= 10
    queue = resources["LaunchQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    timeout = resources["StartTrainingFunction"]["Properties"]["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * timeout  # Lambda's guidance for SQS sources
    # Every receive a record may take must fit in the DLQ's retention, and the deferred
    # checks of one upload (MaxSettleSeconds at most) in the queue's own.
    dlq_retention = resources["DeadLetterQueue"]["Properties"]["MessageRetentionPeriod"]
    assert queue["MessageRetentionPeriod"] <= dlq_retention


def test_launcher_retries_end_inside_the_quota_email_window(resources: Resources) -> None:
    # A record that fails is received again after the visibility timeout, up to
    # maxReceiveCount times; the launcher's quota email marker must outlive those, or
    # retries email again.
    queue = resources["LaunchQueue"]["Properties"]
    receives = queue["RedrivePolicy"]["maxReceiveCount"]
    assert 0 < receives * queue["VisibilityTimeout"] <= QUOTA_NOTICE_WINDOW_SECONDS


def test_only_the_upload_rule_may_send_to_the_launch_queue(resources: Resources) -> None:
    policy = resources["LaunchQueuePolicy"]["Properties"]
    assert policy["Queues"] == [{"Ref": "LaunchQueue"}]
    statements = policy["PolicyDocument"]["Statement"]
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Action"] == "sqs:SendMessage" and allow["Resource"] == LAUNCH_QUEUE_ARN
    assert allow["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["DatasetUploadedRule", "Arn"]}}
    }
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_launcher_queue_and_multipart_permissions_are_scoped(resources: Resources) -> None:
    (send,) = statements_with(resources, "StartTrainingFunction", "sqs:SendMessage")
    assert as_list(send["Action"]) == ["sqs:SendMessage"]
    assert send["Resource"] == LAUNCH_QUEUE_ARN
    (poll,) = statements_with(resources, "StartTrainingFunction", "sqs:ReceiveMessage")
    assert poll["Resource"] == LAUNCH_QUEUE_ARN
    assert set(as_list(poll["Action"])) == {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
    }
    # IAM has no s3:prefix condition key for ListBucketMultipartUploads (a prefix condition
    # would deny every call): the bucket, and only this one action.
    (uploads,) = statements_with(
        resources, "StartTrainingFunction", "s3:ListBucketMultipartUploads"
    )
    assert as_list(uploads["Action"]) == ["s3:ListBucketMultipartUploads"]
    assert uploads["Resource"] == BUCKET_ARN and "Condition" not in uploads
    for statement in role_statements(function_role(resources, "StartTrainingFunction")):
        if any(str(a).startswith("sqs:") for a in as_list(statement["Action"])):
            assert statement["Resource"] == LAUNCH_QUEUE_ARN  # no DLQ, no other queue


def test_rules_retry_then_dead_letter(resources: Resources) -> None:
    rules = {n: r for n, r in resources.items() if r["Type"] == "AWS::Events::Rule"}
    assert set(rules) == {
        "DatasetUploadedRule",
        "NotifyStatusFunctionTrainingJobFinished",
        "DeployModelFunctionModelApproved",
        "DeployModelFunctionEndpointChanged",
    }
    for rule in rules.values():
        (target,) = rule["Properties"]["Targets"]
        assert target["DeadLetterConfig"] == {"Arn": DLQ_ARN}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    queue_policy = resources["DeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]
    (allow,) = [s for s in queue_policy["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Action"] == "sqs:SendMessage"
    assert sorted(allow["Condition"]["ArnEquals"]["aws:SourceArn"], key=str) == sorted(
        ({"Fn::GetAtt": [name, "Arn"]} for name in rules), key=str
    )
    assert resources["DeadLetterQueue"]["Properties"]["SqsManagedSseEnabled"] is True


def test_event_patterns_are_exact(resources: Resources) -> None:
    upload = resources["DatasetUploadedRule"]["Properties"]
    assert upload["EventPattern"] == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [{"Ref": "DatasetBucket"}]},
            "object": {
                "key": [
                    {"wildcard": {"Fn::Sub": "${DatasetPrefix}*/data.yaml"}},
                    {"wildcard": {"Fn::Sub": "${DatasetPrefix}*.zip"}},
                ]
            },
        },
    }
    assert upload["Targets"][0]["Arn"] == LAUNCH_QUEUE_ARN  # the launcher reads the queue
    finished = resources["NotifyStatusFunctionTrainingJobFinished"]["Properties"]
    assert finished["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Training Job State Change"],
        "detail": {
            "TrainingJobName": [{"prefix": {"Fn::Sub": "${JobNamePrefix}-"}}],
            "TrainingJobStatus": ["Completed", "Failed", "Stopped"],
        },
    }
    assert finished["Targets"][0]["Arn"] == {"Fn::GetAtt": ["NotifyStatusFunction", "Arn"]}


# ----------------------------------------------------------------------------- wiring


LAUNCHER_ENV = {
    "TRAINING_IMAGE_URI": {
        "Fn::If": [
            "UseOwnImage",
            {"Fn::Sub": "${TrainingImageRepository.RepositoryUri}:latest"},
            {"Ref": "TrainingImageUri"},
        ]
    },
    "TRAINING_IMAGE_REPOSITORY_URI": {"Fn::GetAtt": ["TrainingImageRepository", "RepositoryUri"]},
    "SAGEMAKER_ROLE_ARN": {"Fn::GetAtt": ["SageMakerExecutionRole", "Arn"]},
    "NOTIFICATION_TOPIC_ARN": TOPIC,
    "IDEMPOTENCY_TABLE": {"Ref": "IdempotencyTable"},
    "UPLOADS_TABLE": {"Ref": "UploadsTable"},
    "JOB_NAME_PREFIX": {"Ref": "JobNamePrefix"},
    "OUTPUT_S3_URI": {"Fn::Sub": "s3://${DatasetBucket}/models/"},
    "CHECKPOINT_S3_URI": {"Fn::Sub": "s3://${DatasetBucket}/checkpoints/"},
    "WEIGHTS_S3_URI": {"Fn::Sub": "s3://${DatasetBucket}/${WeightsPrefix}"},
    "DATASET_PREFIX": {"Ref": "DatasetPrefix"},
    "INSTANCE_TYPE": {"Ref": "DefaultInstanceType"},
    "ALLOWED_INSTANCE_TYPES": {"Fn::Join": [",", {"Ref": "AllowedInstanceTypes"}]},
    "USE_SPOT": {"Ref": "UseSpot"},
    "MAX_RUNTIME_SECONDS": {
        "Fn::FindInMap": ["RuntimeSeconds", {"Ref": "MaxRuntimeHours"}, "Seconds"]
    },
    "VOLUME_SIZE_GB": {"Ref": "VolumeSizeGB"},
    "INPUT_MODE": {"Ref": "InputMode"},
    "LAUNCH_QUEUE_URL": {"Ref": "LaunchQueue"},
    "SETTLE_SECONDS": {"Ref": "SettleSeconds"},
    "MAX_SETTLE_SECONDS": {"Ref": "MaxSettleSeconds"},
    "MAX_CONCURRENT_JOBS": {"Ref": "MaxConcurrentJobs"},
    "MAX_QUEUE_HOURS": {"Ref": "MaxQueueHours"},
    "MONTHLY_BUDGET_USD": {"Ref": "MonthlyBudgetUSD"},
}
NOTIFIER_ENV = {
    "NOTIFICATION_TOPIC_ARN": TOPIC,
    "IDEMPOTENCY_TABLE": {"Ref": "IdempotencyTable"},
    "UPLOADS_TABLE": {"Ref": "UploadsTable"},
    "JOB_NAME_PREFIX": {"Ref": "JobNamePrefix"},
    "INFERENCE_IMAGE_URI": {"Fn::Sub": "${InferenceImageRepository.RepositoryUri}:latest"},
    "LAUNCH_QUEUE_URL": {"Ref": "LaunchQueue"},
}
POWERTOOLS_ENV = {
    "POWERTOOLS_SERVICE_NAME": "yolo-on-upload",
    "POWERTOOLS_METRICS_NAMESPACE": "YoloOnUpload",
    "POWERTOOLS_LOG_LEVEL": {"Ref": "LogLevel"},
}


def env_of(resources: Resources, function: str) -> dict[str, Any]:
    env: dict[str, Any] = resources[function]["Properties"]["Environment"]["Variables"]
    return env


def test_functions_runtime_and_handlers(resources: Resources) -> None:
    for function, handler in FUNCTIONS.items():
        props = resources[function]["Properties"]
        assert props["Handler"] == handler
        assert props["Runtime"] == "python3.13"
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["MemorySize"] >= 128 and props["Timeout"] >= 30
    assert resources["StartTrainingFunction"]["Properties"]["Timeout"] == 900


def test_env_vars_are_wired_to_the_right_resources(resources: Resources) -> None:
    assert env_of(resources, "StartTrainingFunction") == POWERTOOLS_ENV | LAUNCHER_ENV
    assert env_of(resources, "NotifyStatusFunction") == POWERTOOLS_ENV | NOTIFIER_ENV


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {
            "TrainingImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/other:v1",
            "JobNamePrefix": "shapes-2",
            "DatasetPrefix": "uploads/yolo/",
            "DefaultInstanceType": "ml.m5.xlarge",
            "UseSpot": "false",
            "MaxRuntimeHours": "2",
            "InputMode": "FastFile",
            "SettleSeconds": "15",
            "MaxSettleSeconds": "600",
        },
    ],
)
def test_deployed_env_parses_with_the_real_settings(
    rendered: dict[str, Any], overrides: dict[str, str]
) -> None:
    template = rendered["transformed"]
    resolver = Resolver(template, overrides)
    launcher_env = {
        k: str(v)
        for k, v in resolver.resolve(env_of(template["Resources"], "StartTrainingFunction")).items()
    }
    launcher = LauncherSettings.from_env(launcher_env)
    bucket = resolver.ref("DatasetBucket")
    assert launcher.output_s3_uri == f"s3://{bucket}/models/"
    assert launcher.checkpoint_s3_uri == f"s3://{bucket}/checkpoints/"
    assert launcher.weights_s3_uri == f"s3://{bucket}/{resolver.params['WeightsPrefix']}"
    assert launcher.sagemaker_role_arn == resolver.get_att("SageMakerExecutionRole", "Arn")
    assert launcher.notification_topic_arn == resolver.ref("NotificationTopic")
    hours = int(resolver.params["MaxRuntimeHours"])
    assert launcher.max_runtime_seconds == hours * 3600
    assert launcher.instance_type in launcher.allowed_instance_types
    assert launcher.dataset_prefix == resolver.params["DatasetPrefix"]
    assert launcher.use_spot is (resolver.params["UseSpot"] == "true")
    assert launcher.launch_queue_url == resolver.ref("LaunchQueue")
    assert launcher.settle_seconds == int(resolver.params["SettleSeconds"])
    assert launcher.max_settle_seconds == int(resolver.params["MaxSettleSeconds"])
    image = overrides.get("TrainingImageUri") or (
        resolver.get_att("TrainingImageRepository", "RepositoryUri") + ":latest"
    )
    assert launcher.training_image_uri == image
    # The image guard checks the stack's own image, never a user-supplied one elsewhere.
    repository = resolver.get_att("TrainingImageRepository", "RepositoryUri")
    assert launcher.training_image_repository_uri == repository
    guarded = checked_image(launcher.training_image_uri, launcher.training_image_repository_uri)
    assert (guarded is not None) is ("TrainingImageUri" not in overrides)
    notifier_env = {
        k: str(v)
        for k, v in resolver.resolve(env_of(template["Resources"], "NotifyStatusFunction")).items()
    }
    notifier = NotifierSettings.from_env(notifier_env)
    assert notifier.job_name_prefix == launcher.job_name_prefix == resolver.params["JobNamePrefix"]


def test_parameters_agree_with_the_settings_contract(raw_template: dict[str, Any]) -> None:
    params = raw_template["Parameters"]
    assert params["JobNamePrefix"]["AllowedPattern"] == JOB_NAME_PREFIX_PATTERN.pattern
    mapping = raw_template["Mappings"]["RuntimeSeconds"]
    assert set(mapping) == set(params["MaxRuntimeHours"]["AllowedValues"])
    assert all(v["Seconds"] == int(k) * 3600 for k, v in mapping.items())
    assert params["DefaultInstanceType"]["Default"] in params["AllowedInstanceTypes"][
        "Default"
    ].split(",")
    assert params["TrainingImageUri"]["Default"] == ""


# ----------------------------------------------------------------------------- resources


def test_bucket_is_private_encrypted_versioned_and_tls_only(resources: Resources) -> None:
    bucket = resources["DatasetBucket"]
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain"
    assert props["NotificationConfiguration"]["EventBridgeConfiguration"] == {
        "EventBridgeEnabled": True
    }
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = props["LifecycleConfiguration"]["Rules"]
    assert any("AbortIncompleteMultipartUpload" in r for r in rules)
    assert any("NoncurrentVersionExpiration" in r for r in rules)
    policy = resources["DatasetBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy
    )


def test_topic_is_encrypted_and_every_alarm_notifies_it(resources: Resources) -> None:
    topic = resources["NotificationTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "NotificationKey"}
    key_policy = resources["NotificationKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert any(s["Principal"] == {"Service": "cloudwatch.amazonaws.com"} for s in key_policy)
    assert resources["EmailSubscription"]["Condition"] == "HasEmail"
    alarms = {
        n: r["Properties"] for n, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"
    }
    watched = {(a["MetricName"], str(a["Dimensions"][0]["Value"])) for a in alarms.values()}
    assert watched == {
        (
            "ApproximateNumberOfMessagesVisible",
            str({"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}),
        ),
        # The launch path: an upload event stuck on LaunchQueue (failing, or not consumed).
        ("ApproximateAgeOfOldestMessage", str({"Fn::GetAtt": ["LaunchQueue", "QueueName"]})),
        ("Errors", str({"Ref": "StartTrainingFunction"})),
        ("Errors", str({"Ref": "NotifyStatusFunction"})),
        ("Errors", str({"Ref": "DeployModelFunction"})),
        # The launch queue: a valid upload waiting for a slot or the budget for too long.
        ("QueueWaitSoFarSeconds", "yolo-on-upload"),
    }
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [TOPIC]


def test_table_ecr_and_logs(resources: Resources) -> None:
    table = resources["IdempotencyTable"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    repo = resources["TrainingImageRepository"]["Properties"]
    assert repo["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert "imageCountMoreThan" in repo["LifecyclePolicy"]["LifecyclePolicyText"]
    groups = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Logs::LogGroup"]
    assert sorted(g["LogGroupName"]["Fn::Sub"] for g in groups) == [
        "/aws/codebuild/${AWS::StackName}-training-image",
        "/aws/lambda/${DeployModelFunction}",
        "/aws/lambda/${NotifyStatusFunction}",
        "/aws/lambda/${StartTrainingFunction}",
    ]
    assert all(g["RetentionInDays"] > 0 for g in groups)


def test_outputs(rendered: dict[str, Any]) -> None:
    template = rendered["transformed"]
    outputs = template["Outputs"]
    for key in (
        "DatasetBucketName",
        "UploadCommand",
        "NotificationTopicArn",
        "TrainingImageRepositoryUri",
        "ImagePushCommand",
    ):
        assert key in outputs
    resolver = Resolver(template)
    upload = resolver.resolve(outputs["UploadCommand"]["Value"])
    bucket = resolver.ref("DatasetBucket")
    assert upload == f"yolo-pipeline upload ./my-dataset s3://{bucket}/datasets/my-dataset/"
    assert resolver.resolve(outputs["ImagePushCommand"]["Value"]).startswith("make image")


# ------------------------------------------------------------ defence in depth


def test_create_training_job_requires_isolation_and_an_allowed_instance_type(
    resources: Resources,
) -> None:
    (create,) = statements_with(resources, "StartTrainingFunction", "sagemaker:CreateTrainingJob")
    assert create["Condition"] == {
        "Bool": {"sagemaker:NetworkIsolation": "true"},
        "ForAllValues:StringEquals": {"sagemaker:InstanceTypes": {"Ref": "AllowedInstanceTypes"}},
        "Null": {"sagemaker:InstanceTypes": "false"},
    }


def test_the_request_the_launcher_builds_meets_those_conditions(resources: Resources) -> None:
    from yolo_pipeline.launcher.job_request import build_training_job_request
    from yolo_pipeline.training.config import SageMakerOptions

    request = build_training_job_request(
        job_name="yolo-x-1",
        dataset_uri="s3://b/datasets/x/",
        image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/i:latest",
        role_arn="arn:aws:iam::123456789012:role/r",
        output_s3_uri="s3://b/models/",
        checkpoint_s3_uri="s3://b/checkpoints/",
        options=SageMakerOptions("ml.g4dn.xlarge", True, 3600, 50, "File"),
        train_args={},
        data_yaml_etag="e",
        data_yaml_version=None,
        pipeline_name="yolo",
    )
    assert request["EnableNetworkIsolation"] is True
    assert request["ResourceConfig"]["InstanceType"] == "ml.g4dn.xlarge"


def test_topic_policy_denies_plain_http_and_other_publishers(resources: Resources) -> None:
    policies = [r for r in resources.values() if r["Type"] == "AWS::SNS::TopicPolicy"]
    assert len(policies) == 1
    props = policies[0]["Properties"]
    assert props["Topics"] == [TOPIC]
    statements = {s["Sid"]: s for s in as_list(props["PolicyDocument"]["Statement"])}
    tls = statements["DenyInsecureTransport"]
    assert tls["Effect"] == "Deny" and tls["Principal"] == "*" and tls["Action"] == "sns:Publish"
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    others = statements["OnlyTheStackPublishes"]
    assert others["Effect"] == "Deny" and others["Principal"] == "*"
    roles = [function_role(resources, f) for f in FUNCTIONS]
    assert len(roles) == 2
    assert others["Condition"] == {
        "ArnNotEquals": {
            "aws:PrincipalArn": [
                {"Fn::GetAtt": ["StartTrainingFunctionRole", "Arn"]},
                {"Fn::GetAtt": ["NotifyStatusFunctionRole", "Arn"]},
            ]
        },
        "Bool": {"aws:PrincipalIsAWSService": "false"},
    }
    alarms = statements["CloudWatchAlarmsPublish"]
    assert alarms["Effect"] == "Allow"
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    for statement in statements.values():
        assert statement["Resource"] == TOPIC


def test_sagemaker_trust_policy_names_the_stack_job_prefix(resources: Resources) -> None:
    (trust,) = resources["SageMakerExecutionRole"]["Properties"]["AssumeRolePolicyDocument"][
        "Statement"
    ]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {"aws:SourceArn": TRAINING_JOBS},
    }


def test_kms_grant_for_logs_is_scoped_to_the_stack_log_groups(resources: Resources) -> None:
    statements = resources["NotificationKey"]["Properties"]["KeyPolicy"]["Statement"]
    (logs,) = [s for s in statements if s["Sid"] == "CloudWatchLogsEncryptLogGroups"]
    patterns = [
        p["Fn::Sub"] for p in logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    ]
    # The two Lambdas' groups and the image build's own group, nothing else.
    assert [p.split(":log-group:", 1)[1] for p in patterns] == [
        "/aws/lambda/${AWS::StackName}-*",
        "/aws/codebuild/${AWS::StackName}-training-image",
    ]
    groups = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Logs::LogGroup"]
    assert groups and all(
        g["KmsKeyId"] == {"Fn::GetAtt": ["NotificationKey", "Arn"]} for g in groups
    )
