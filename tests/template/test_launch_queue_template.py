"""The launch queue and the budget in template.yaml: the parameters, what counting jobs
and waking the queue may do, and the alarm for a queue that does not drain."""

from __future__ import annotations

from typing import Any

from tests.template.resolve import as_list, role_statements

Resources = dict[str, dict[str, Any]]
LAUNCH_QUEUE_ARN = {"Fn::GetAtt": ["LaunchQueue", "Arn"]}


def function_role(resources: Resources, function: str) -> dict[str, Any]:
    return resources[resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]]


def test_the_queue_and_budget_parameters_have_their_defaults(raw_template: dict[str, Any]) -> None:
    parameters = raw_template["Parameters"]
    assert parameters["MaxConcurrentJobs"]["Default"] == 2
    assert parameters["MaxConcurrentJobs"]["MinValue"] == 0  # 0 = no cap
    assert parameters["MaxQueueHours"]["Default"] == 72
    assert parameters["MonthlyBudgetUSD"]["Default"] == 0  # off


def test_counting_jobs_is_read_only_and_the_only_star(resources: Resources) -> None:
    statements = list(role_statements(function_role(resources, "StartTrainingFunction")))
    (count,) = [s for s in statements if "sagemaker:ListTrainingJobs" in as_list(s["Action"])]
    assert as_list(count["Action"]) == ["sagemaker:ListTrainingJobs"]
    assert count["Resource"] == "*"  # IAM has no resource type for ListTrainingJobs


def test_the_notifier_may_wake_only_the_launch_queue(resources: Resources) -> None:
    statements = list(role_statements(function_role(resources, "NotifyStatusFunction")))
    sends = [s for s in statements if "sqs:SendMessage" in as_list(s["Action"])]
    dead_letters = {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}  # its on-failure destination
    assert sorted(map(str, (s["Resource"] for s in sends))) == sorted(
        map(str, (dead_letters, LAUNCH_QUEUE_ARN))
    )
    assert all(as_list(s["Action"]) == ["sqs:SendMessage"] for s in sends)


def test_a_queue_that_does_not_drain_raises_an_alarm(resources: Resources) -> None:
    alarm = resources["LaunchQueueNotDrainingAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("YoloOnUpload", "QueueWaitSoFarSeconds")
    assert alarm["Statistic"] == "Maximum" and alarm["Threshold"] == 12 * 3600
    assert alarm["AlarmActions"] == [{"Ref": "NotificationTopic"}]
