"""Campaigns on a real Dask LocalCluster (2 worker processes): same frame, resume, refusals.

The oracle is the same campaign run in-process (``client=None``): a partition's outcomes
must not depend on where it ran. One cluster serves the module (starting worker processes
and importing the libraries in them is the slow part).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from advisor.campaigns import (
    ENV_SCHEDULER,
    Campaign,
    CampaignError,
    CampaignResult,
    _distributed,
    local_cluster,
)
from advisor.levers import Advisor

PRODUCT = "life_insurance"
BATCH = 8


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    with local_cluster(2, memory_limit="2GiB") as client:
        yield client


@pytest.fixture(scope="module")
def advisor(demo_advisor: Advisor) -> Advisor:
    return demo_advisor


@pytest.fixture(scope="module")
def campaign(demo_bundle: Path, advisor: Advisor) -> Campaign:
    return Campaign.from_bundle(
        demo_bundle, advisor.reference, product=PRODUCT, engine="search", batch_size=BATCH
    )


@pytest.fixture(scope="module")
def clients(advisor: Advisor) -> pd.DataFrame:
    """40 clients (5 partitions of 8), every fifth opted out."""
    assert advisor.reference is not None
    frame = advisor.reference.iloc[500:540].copy()
    frame["opt_out"] = np.arange(len(frame)) % 5 == 0
    return frame


@pytest.fixture(scope="module")
def in_process(campaign: Campaign, clients: pd.DataFrame) -> CampaignResult:
    return campaign.run(clients, exclude="opt_out", n_levers=2)


def _parts(folder: Path) -> set[str]:
    return {p.name for p in folder.glob("part-*.parquet")}


def test_dask_gives_the_in_process_frame_bit_for_bit(
    campaign: Campaign,
    clients: pd.DataFrame,
    in_process: CampaignResult,
    dask_client: Any,
    tmp_path: Path,
) -> None:
    seen: list[tuple[int, int]] = []
    found = campaign.run(
        clients,
        exclude="opt_out",
        n_levers=2,
        client=dask_client,
        checkpoint=tmp_path / "c",
        progress=lambda done, total: seen.append((done, total)),
    )
    assert in_process.totals.n_advised > 0
    pd.testing.assert_frame_equal(found.to_frame(), in_process.to_frame(), check_exact=True)
    assert found.outcomes == in_process.outcomes
    assert found.provenance.engines_used == in_process.provenance.engines_used
    assert (found.provenance.workers, in_process.provenance.workers) == (2, 1)
    assert found.provenance.scheduler == dask_client.scheduler.address
    assert in_process.provenance.scheduler is None
    assert found.provenance.n_partitions == in_process.provenance.n_partitions == 5
    assert found.provenance.n_resumed == 0
    assert _parts(tmp_path / "c") == {f"part-00000{i}.parquet" for i in range(5)}
    assert sorted(d for d, _ in seen) == [d for d, _ in seen]
    assert seen[-1] == (40, 40)
    # the workers run one thread each (OpenMP/BLAS and torch)
    threads = dask_client.run(
        lambda: [i["num_threads"] for i in __import__("threadpoolctl").threadpool_info()]
    )
    assert all(set(n) == {1} for n in threads.values())
    assert set(dask_client.run(lambda: __import__("torch").get_num_threads()).values()) == {1}


def test_a_run_stopped_on_dask_resumes_with_the_missing_partitions_only(
    campaign: Campaign,
    clients: pd.DataFrame,
    in_process: CampaignResult,
    dask_client: Any,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "c"

    def stop(done: int, total: int) -> None:
        raise KeyboardInterrupt  # Ctrl-C after the first finished partition

    with pytest.raises(KeyboardInterrupt):
        campaign.run(
            clients,
            exclude="opt_out",
            n_levers=2,
            client=dask_client,
            checkpoint=folder,
            progress=stop,
        )
    first = _parts(folder)
    assert len(first) == 1
    resumed = campaign.run(
        clients, exclude="opt_out", n_levers=2, client=dask_client, checkpoint=folder, resume=True
    )
    assert len(_parts(folder) - first) == 4  # recomputed: the 4 missing partitions
    assert (resumed.provenance.n_partitions, resumed.provenance.n_resumed) == (5, 1)
    pd.testing.assert_frame_equal(resumed.to_frame(), in_process.to_frame(), check_exact=True)
    assert [o.client for o in resumed.outcomes] == list(clients.index)


def test_a_bank_marketing_xgboost_campaign_gives_the_in_process_frame_on_dask(
    bank_bundle: Path, bank_data: pd.DataFrame, dask_client: Any, tmp_path: Path
) -> None:
    """Real data (text categories, integer ids) through the Parquet reference and back."""
    campaign = Campaign.from_bundle(bank_bundle, bank_data, engine="search", batch_size=10)
    clients = bank_data.iloc[:30]
    here = campaign.run(clients, n_levers=2)
    there = campaign.run(clients, n_levers=2, client=dask_client, checkpoint=tmp_path / "c")
    assert here.totals.n_advised > 0
    pd.testing.assert_frame_equal(there.to_frame(), here.to_frame(), check_exact=True)
    assert there.outcomes == here.outcomes
    assert [o.client for o in there.outcomes] == list(range(30))


def _copy_bundle(demo_bundle: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "bundle"
    shutil.copytree(demo_bundle, copy)
    return copy


def test_a_tampered_bundle_is_refused_by_the_workers(
    demo_bundle: Path,
    advisor: Advisor,
    clients: pd.DataFrame,
    dask_client: Any,
    tmp_path: Path,
) -> None:
    copy = _copy_bundle(demo_bundle, tmp_path)
    campaign = Campaign.from_bundle(
        copy, advisor.reference, product=PRODUCT, engine="search", batch_size=BATCH
    )
    card = json.loads((copy / "model_card.json").read_text())
    # a file edited after the campaign was built: refused by the card's SHA-256
    catalog = copy / "catalog.json"
    original = catalog.read_bytes()
    edited = original.replace(b'"value": 300.0', b'"value": 900.0', 1)
    assert edited != original
    catalog.write_bytes(edited)
    with pytest.raises(
        CampaignError,
        match=r"^bundle: the files shipped to a worker must pass the bundle's integrity check\. "
        r"Got [^\n]*catalog\.json[^\n]*$",
    ):
        campaign.run(clients.iloc[:8], client=dask_client)
    # the same edit with the card's hashes rewritten to match: refused by the campaign's
    # pinned model hash
    card["files"]["catalog.json"] = hashlib.sha256(edited).hexdigest()
    text = json.dumps(card, indent=2, sort_keys=True)
    (copy / "model_card.json").write_text(text)
    if (copy / "model_card.sha256").exists():
        (copy / "model_card.sha256").write_text(hashlib.sha256(text.encode()).hexdigest())
    with pytest.raises(
        CampaignError,
        match=r"^bundle: the files shipped to a worker must have the hashes of the campaign's "
        r"bundle\. Got model .* Hint: the bundle folder changed .*$",
    ):
        campaign.run(clients.iloc[:8], client=dask_client)


def test_a_campaign_of_objects_in_memory_is_not_shipped(
    advisor: Advisor, clients: pd.DataFrame, dask_client: Any
) -> None:
    in_memory = Campaign.from_advisor(advisor, product=PRODUCT, batch_size=BATCH)
    with pytest.raises(
        CampaignError,
        match=r"^client: a distributed run must ship a model bundle to its workers\. Got a "
        r"campaign built from objects in memory\. Hint: build it with Campaign\.from_bundle"
        r"\(folder, reference\)\.$",
    ):
        in_memory.run(clients.iloc[:8], client=dask_client)
    with pytest.raises(
        CampaignError, match=r"^client: must be a dask\.distributed\.Client or None\. Got str\.$"
    ):
        in_memory.run(clients.iloc[:8], client="tcp://127.0.0.1:8786")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_workers": 0}, r"^n_workers: must be a whole number from 1 to 256\. Got 0\.$"),
        (
            {"n_workers": 1, "memory_limit": "lots"},
            r"^memory_limit: must be a size such as '2GiB', a number of bytes > 0 or 'auto'\. "
            r"Got 'lots'\.$",
        ),
        ({"n_workers": 1, "memory_limit": -5}, r"^memory_limit: .* Got -5\.$"),
    ],
)
def test_local_cluster_checks_its_options(options: dict[str, Any], message: str) -> None:
    n_workers = options.pop("n_workers")
    with pytest.raises(CampaignError, match=message), local_cluster(n_workers, **options):
        pass


def test_the_scheduler_of_the_environment_is_used(
    campaign: Campaign,
    clients: pd.DataFrame,
    in_process: CampaignResult,
    dask_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from distributed import get_task_stream

    monkeypatch.setenv(ENV_SCHEDULER, dask_client.scheduler.address)
    with get_task_stream(dask_client) as stream:
        found = campaign.run(clients, exclude="opt_out", n_levers=2)
    ran = [t for t in stream.data if "partition_task" in t["key"]]
    assert len(ran) >= 5
    pd.testing.assert_frame_equal(found.to_frame(), in_process.to_frame(), check_exact=True)


def test_an_unreachable_scheduler_is_one_line(
    campaign: Campaign, clients: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_distributed, "CONNECT_TIMEOUT_S", 1.0)
    monkeypatch.setenv(ENV_SCHEDULER, "tcp://127.0.0.1:9")
    with pytest.raises(
        CampaignError,
        match=r"^LEVERS_DASK_SCHEDULER: must be the address of a running Dask scheduler "
        r"\(tcp://host:port\)\. Got 'tcp://127\.0\.0\.1:9' \(cannot connect within 1 s: "
        r"[^\n]*\)\. Hint: start one with `dask scheduler`, fix the address, or unset "
        r"LEVERS_DASK_SCHEDULER to run in-process\.$",
    ):
        campaign.run(clients.iloc[:8])


# last: the killed worker comes back without the libraries imported (slow for a next test)
def test_a_killed_worker_loses_no_client_and_a_lost_scheduler_connection_resumes(
    campaign: Campaign,
    clients: pd.DataFrame,
    in_process: CampaignResult,
    dask_client: Any,
    tmp_path: Path,
) -> None:
    import distributed

    client_type: Any = distributed.Client
    folder = tmp_path / "c"
    pids = list(dask_client.run(os.getpid).values())
    killed: list[int] = []

    def kill_one(done: int, total: int) -> None:
        if not killed:  # SIGKILL one worker process mid-run: Dask reruns its partitions
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    found = campaign.run(
        clients,
        exclude="opt_out",
        n_levers=2,
        client=dask_client,
        checkpoint=folder,
        progress=kill_one,
    )
    assert killed
    pd.testing.assert_frame_equal(found.to_frame(), in_process.to_frame(), check_exact=True)
    assert len(_parts(folder)) == 5
    # the driver loses the scheduler mid-run (its client is closed): a one-line error, then
    # a new client resumes from the finished partitions
    lost = tmp_path / "lost"
    own = client_type(dask_client.scheduler.address, set_as_default=False)

    def close(done: int, total: int) -> None:
        own.close()

    with pytest.raises(
        CampaignError,
        match=r"^client: the Dask run must finish every partition\. "
        r"Got [^\n]*Hint: [^\n]*resume=True[^\n]*$",
    ):
        campaign.run(
            clients, exclude="opt_out", n_levers=2, client=own, checkpoint=lost, progress=close
        )
    first = _parts(lost)
    assert 1 <= len(first) < 5
    resumed = campaign.run(
        clients, exclude="opt_out", n_levers=2, client=dask_client, checkpoint=lost, resume=True
    )
    assert len(_parts(lost) - first) == 5 - len(first)
    pd.testing.assert_frame_equal(resumed.to_frame(), in_process.to_frame(), check_exact=True)
