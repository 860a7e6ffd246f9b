"""Assertions on the transformed template: least privilege, event patterns, env wiring."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.template.resolve import Resolver
from yolo_pipeline.aws.env import JOB_NAME_PREFIX_PATTERN
from yolo_pipeline.launcher.service import QUOTA_NOTICE_WINDOW_SECONDS
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
STAR_RESOURCE_ACTIONS = {"ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"}
TRAINING_JOBS = {
    "Fn::Sub": "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}"
    ":training-job/${JobNamePrefix}-*"
}
BUCKET_ARN = {"Fn::GetAtt": ["DatasetBucket", "Arn"]}
DLQ_ARN = {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
TOPIC = {"Ref": "NotificationTopic"}
TABLE_ARN = {"Fn::GetAtt": ["IdempotencyTable", "Arn"]}
ITEM_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(role: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for policy in role["Properties"].get("Policies", []):
        yield from as_list(policy["PolicyDocument"]["Statement"])


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
    (get,) = statements_with(resources, "StartTrainingFunction", "s3:GetObject")
    assert as_list(get["Action"]) == ["s3:GetObject"]
    assert get["Resource"] == {"Fn::Sub": "${DatasetBucket.Arn}/${DatasetPrefix}*"}
    (listing,) = statements_with(resources, "StartTrainingFunction", "s3:ListBucket")
    assert listing["Resource"] == BUCKET_ARN
    assert listing["Condition"] == {"StringLike": {"s3:prefix": {"Fn::Sub": "${DatasetPrefix}*"}}}
    (publish,) = statements_with(resources, "StartTrainingFunction", "sns:Publish")
    assert publish["Resource"] == TOPIC
    (items,) = statements_with(resources, "StartTrainingFunction", "dynamodb:PutItem")
    assert as_list(items["Action"]) == ITEM_ACTIONS and items["Resource"] == TABLE_ARN


def test_notifier_permissions(resources: Resources) -> None:
    (describe,) = statements_with(
        resources, "NotifyStatusFunction", "sagemaker:DescribeTrainingJob"
    )
    # ListTags: the notifier's fallback for the dataset tag when the event has no Tags.
    assert as_list(describe["Action"]) == ["sagemaker:DescribeTrainingJob", "sagemaker:ListTags"]
    assert describe["Resource"] == TRAINING_JOBS
    (publish,) = statements_with(resources, "NotifyStatusFunction", "sns:Publish")
    assert publish["Resource"] == TOPIC
    (items,) = statements_with(resources, "NotifyStatusFunction", "dynamodb:PutItem")
    assert as_list(items["Action"]) == ITEM_ACTIONS and items["Resource"] == TABLE_ARN
    actions = {
        a
        for s in role_statements(function_role(resources, "NotifyStatusFunction"))
        for a in as_list(s["Action"])
    }
    assert not {a for a in actions if a.startswith(("s3:", "iam:", "sagemaker:Create"))}
    assert {a for a in actions if a.startswith("sagemaker:")} == {
        "sagemaker:DescribeTrainingJob",
        "sagemaker:ListTags",
    }


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
    assert reads == {"${DatasetBucket.Arn}/${DatasetPrefix}*", "${DatasetBucket.Arn}/checkpoints/*"}


# ----------------------------------------------------------------------------- no lost events


def test_every_function_has_an_on_failure_destination(resources: Resources) -> None:
    for function in FUNCTIONS:
        configs = [
            r["Properties"]
            for r in resources.values()
            if r["Type"] == "AWS::Lambda::EventInvokeConfig"
            and r["Properties"]["FunctionName"] == {"Ref": function}
        ]
        dlq = resources[function]["Properties"].get("DeadLetterConfig")
        assert configs or dlq, f"{function} has neither a DLQ nor an on-failure destination"
        for config in configs:
            assert config["DestinationConfig"]["OnFailure"]["Destination"] == DLQ_ARN
            assert 0 <= config["MaximumRetryAttempts"] <= 2


def test_launcher_retries_end_inside_the_quota_email_window(resources: Resources) -> None:
    # Lambda retries a failed event only while it is younger than MaximumEventAgeInSeconds;
    # the launcher's quota email marker must outlive that, or retries email again.
    (config,) = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
        and r["Properties"]["FunctionName"] == {"Ref": "StartTrainingFunction"}
    ]
    assert 0 < config["MaximumEventAgeInSeconds"] <= QUOTA_NOTICE_WINDOW_SECONDS


def test_rules_retry_then_dead_letter(resources: Resources) -> None:
    rules = {n: r for n, r in resources.items() if r["Type"] == "AWS::Events::Rule"}
    assert set(rules) == {
        "StartTrainingFunctionDatasetUploaded",
        "NotifyStatusFunctionTrainingJobFinished",
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
    upload = resources["StartTrainingFunctionDatasetUploaded"]["Properties"]
    assert upload["EventPattern"] == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [{"Ref": "DatasetBucket"}]},
            "object": {"key": [{"wildcard": {"Fn::Sub": "${DatasetPrefix}*/data.yaml"}}]},
        },
    }
    assert upload["Targets"][0]["Arn"] == {"Fn::GetAtt": ["StartTrainingFunction", "Arn"]}
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
    "SAGEMAKER_ROLE_ARN": {"Fn::GetAtt": ["SageMakerExecutionRole", "Arn"]},
    "NOTIFICATION_TOPIC_ARN": TOPIC,
    "IDEMPOTENCY_TABLE": {"Ref": "IdempotencyTable"},
    "JOB_NAME_PREFIX": {"Ref": "JobNamePrefix"},
    "OUTPUT_S3_URI": {"Fn::Sub": "s3://${DatasetBucket}/models/"},
    "CHECKPOINT_S3_URI": {"Fn::Sub": "s3://${DatasetBucket}/checkpoints/"},
    "DATASET_PREFIX": {"Ref": "DatasetPrefix"},
    "INSTANCE_TYPE": {"Ref": "DefaultInstanceType"},
    "ALLOWED_INSTANCE_TYPES": {"Fn::Join": [",", {"Ref": "AllowedInstanceTypes"}]},
    "USE_SPOT": {"Ref": "UseSpot"},
    "MAX_RUNTIME_SECONDS": {
        "Fn::FindInMap": ["RuntimeSeconds", {"Ref": "MaxRuntimeHours"}, "Seconds"]
    },
    "VOLUME_SIZE_GB": {"Ref": "VolumeSizeGB"},
    "INPUT_MODE": {"Ref": "InputMode"},
}
NOTIFIER_ENV = {
    "NOTIFICATION_TOPIC_ARN": TOPIC,
    "IDEMPOTENCY_TABLE": {"Ref": "IdempotencyTable"},
    "JOB_NAME_PREFIX": {"Ref": "JobNamePrefix"},
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
    assert launcher.sagemaker_role_arn == resolver.get_att("SageMakerExecutionRole", "Arn")
    assert launcher.notification_topic_arn == resolver.ref("NotificationTopic")
    hours = int(resolver.params["MaxRuntimeHours"])
    assert launcher.max_runtime_seconds == hours * 3600
    assert launcher.instance_type in launcher.allowed_instance_types
    assert launcher.dataset_prefix == resolver.params["DatasetPrefix"]
    assert launcher.use_spot is (resolver.params["UseSpot"] == "true")
    image = overrides.get("TrainingImageUri") or (
        resolver.get_att("TrainingImageRepository", "RepositoryUri") + ":latest"
    )
    assert launcher.training_image_uri == image
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
        ("Errors", str({"Ref": "StartTrainingFunction"})),
        ("Errors", str({"Ref": "NotifyStatusFunction"})),
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


# ------------------------------------------------------------ defence in depth (issue 13)


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
    pattern = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]["Fn::Sub"]
    assert pattern.endswith(":log-group:/aws/lambda/${AWS::StackName}-*")
    groups = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Logs::LogGroup"]
    assert groups and all(
        g["KmsKeyId"] == {"Fn::GetAtt": ["NotificationKey", "Arn"]} for g in groups
    )
