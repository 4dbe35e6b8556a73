"""The few Dagster GraphQL reads the browser tests use to know when to look (run status,
backfill status, materialized partitions). Every action under test is done in the browser."""

from __future__ import annotations

from fraud_assets.ui_command import LOCATION_NAME
from fraud_assets_tests.ui.server import UIServer

REPOSITORY = "__repository__"
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


def run_status(ui: UIServer, run_id: str) -> str | None:
    data = ui.graphql(
        "query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status } } }",
        {"id": run_id},
    )["runOrError"]
    return data.get("status")


def runs_for_partition(ui: UIServer, partition: str) -> list[dict]:
    data = ui.graphql(
        'query($d: String!) { runsOrError(filter: {tags: [{key: "dagster/partition", '
        "value: $d}]}) { ... on Runs { results { runId status tags { key value } } } } }",
        {"d": partition},
    )
    return data["runsOrError"]["results"]


def backfills(ui: UIServer) -> list[dict]:
    data = ui.graphql(
        "{ partitionBackfillsOrError { ... on PartitionBackfills { results { id status "
        "partitionNames } } } }"
    )
    return data["partitionBackfillsOrError"]["results"]


def materialized_partitions(ui: UIServer, asset: str, partitions: list[str]) -> set[str]:
    data = ui.graphql(
        "query($k: AssetKeyInput!, $p: [String!]) { assetOrError(assetKey: $k) { ... on Asset "
        "{ assetMaterializations(partitions: $p) { partition } } } }",
        {"k": {"path": [asset]}, "p": partitions},
    )
    return {m["partition"] for m in data["assetOrError"]["assetMaterializations"]}


def schedule_status(ui: UIServer, name: str) -> str:
    data = ui.graphql(
        "query($s: ScheduleSelector!) { scheduleOrError(scheduleSelector: $s) { "
        "... on Schedule { scheduleState { status } } } }",
        {
            "s": {
                "repositoryLocationName": LOCATION_NAME,
                "repositoryName": REPOSITORY,
                "scheduleName": name,
            }
        },
    )
    return data["scheduleOrError"]["scheduleState"]["status"]
