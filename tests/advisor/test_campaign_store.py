"""Campaign results and checkpoints on disk: lossless round trips, resume, refusals.

The oracle of a resumed run is the same campaign run once without interruption; the oracle of
"recomputed only the missing partitions" is the checkpoint folder itself (files written by the
resumed run are the partitions it computed).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.campaigns import (
    Campaign,
    CampaignError,
    CampaignResult,
    CampaignStatus,
    ClientOutcome,
    load_result,
    save_result,
)
from advisor.campaigns._store import outcomes_frame, outcomes_from_frame
from advisor.levers import Action, Advisor, Lever
from tests.conftest import DEMO_TEST_CLIENTS

PRODUCT = "life_insurance"
BATCH = 10


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
    """45 clients (5 partitions of 10, the last of 5), every fourth opted out."""
    assert advisor.reference is not None
    frame = advisor.reference.iloc[200:245].copy()
    frame["opt_out"] = np.arange(len(frame)) % 4 == 0
    return frame


@pytest.fixture(scope="module")
def result(campaign: Campaign, clients: pd.DataFrame) -> CampaignResult:
    return campaign.run(clients, exclude="opt_out", n_levers=2)


def _parts(folder: Path) -> set[str]:
    return {p.name for p in folder.glob("part-*.parquet")}


# ---------------------------------------------------------------------------- results
def test_a_saved_result_loads_equal(result: CampaignResult, tmp_path: Path) -> None:
    assert {o.status for o in result.outcomes} >= {CampaignStatus.LEVER, CampaignStatus.EXCLUDED}
    assert any(len(o.levers) == 2 for o in result.outcomes)
    folder = save_result(result, tmp_path / "saved")
    back = load_result(folder)
    assert back == result
    assert back.context is None
    pd.testing.assert_frame_equal(back.to_frame(), result.to_frame(), check_exact=True)
    assert back.totals == result.totals
    lever = next(o.levers[0] for o in back.outcomes if o.levers)
    original = next(o.levers[0] for o in result.outcomes if o.levers)
    assert lever.describe("fr") == original.describe("fr")
    assert [a.label for a in lever.actions] == [a.label for a in original.actions]
    assert dict(lever.values) == dict(original.values)


def test_a_saved_result_is_not_overwritten_and_an_edited_table_is_refused(
    result: CampaignResult, tmp_path: Path
) -> None:
    folder = save_result(result, tmp_path / "saved")
    with pytest.raises(CampaignError, match=r"^.*outcomes\.parquet: must not exist .*Hint: .*$"):
        save_result(result, folder)
    save_result(result, folder, overwrite=True)
    table = folder / "outcomes.parquet"
    frame = pd.read_parquet(table)
    frame.loc[0, "score"] = 0.5
    frame.to_parquet(table, index=False)
    with pytest.raises(CampaignError, match=r"^.*outcomes\.parquet: must match the SHA-256 .*$"):
        load_result(folder)
    (folder / "result.json").unlink()
    with pytest.raises(CampaignError, match=r"^.*result\.json: must exist in a saved campaign .*"):
        load_result(folder)
    with pytest.raises(CampaignError, match=r"^result: must be a CampaignResult\. Got str\.$"):
        save_result("result", tmp_path / "other")  # type: ignore[arg-type]


_VALUES = st.one_of(
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, width=64),
    st.booleans(),
    st.text(max_size=12),
    st.none(),
)


@settings(max_examples=60, deadline=None)
@given(
    before=_VALUES,
    after=_VALUES,
    values=st.dictionaries(st.text(min_size=1, max_size=8), _VALUES, max_size=5),
    client=st.one_of(st.integers(0, 2**62), st.text(min_size=1, max_size=10)),
    score=st.floats(0.0, 1.0),
)
def test_outcomes_round_trip_keeps_every_value_and_its_type(
    before: object, after: object, values: dict[str, object], client: object, score: float
) -> None:
    lever = Lever(
        rank=1,
        actions=(
            Action(
                feature="salary",
                label={"en": "Salary", "fr": "Salaire"},
                before=before,
                after=after,
                text={"en": "move it", "fr": "le déplacer"},
            ),
        ),
        score_before=score,
        score_after=1.0,
        cost=0.25,
        n_changes=1,
        support=None,
        values=values,
    )
    outcomes = [
        ClientOutcome(
            client=client, status=CampaignStatus.LEVER, score=score, goal=0.7, levers=(lever,)
        ),
        ClientOutcome(client="x", status=CampaignStatus.EXCLUDED, score=np.nan, goal=0.7),
    ]
    back = outcomes_from_frame(outcomes_frame(outcomes))
    assert back == outcomes
    action = back[0].levers[0].actions[0]
    assert (type(action.before), type(action.after)) == (type(before), type(after))
    assert {k: type(v) for k, v in back[0].levers[0].values.items()} == {
        k: type(v) for k, v in values.items()
    }
    assert type(back[0].client) is type(client)
    assert math.isnan(back[1].score)


def test_a_value_that_cannot_be_saved_is_named() -> None:
    lever = Lever(
        rank=1,
        actions=(
            Action(
                feature="opened",
                label={"en": "Opened", "fr": "Ouvert"},
                before=pd.Timestamp("2024-01-01"),
                after=None,
                text={"en": "a", "fr": "b"},
            ),
        ),
        score_before=0.1,
        score_after=0.9,
        cost=1.0,
        n_changes=1,
        support=None,
    )
    outcome = ClientOutcome(
        client=7, status=CampaignStatus.LEVER, score=0.1, goal=0.5, levers=(lever,)
    )
    with pytest.raises(
        CampaignError,
        match=r"^client 7 'opened' before: must be a number, a text, True/False or None to be "
        r"saved\. Got Timestamp\.$",
    ):
        outcomes_frame([outcome])


# ---------------------------------------------------------------------------- checkpoints
class _Stop(RuntimeError):
    pass


def _stop_after(n_partitions: int, seen: list[int]):  # type: ignore[no-untyped-def]
    def progress(done: int, total: int) -> None:
        seen.append(done)
        if done % BATCH == 0 and done // BATCH >= n_partitions:
            raise _Stop

    return progress


def test_a_stopped_run_resumes_without_recomputing_finished_partitions(
    campaign: Campaign, clients: pd.DataFrame, result: CampaignResult, tmp_path: Path
) -> None:
    folder = tmp_path / "checkpoint"
    seen: list[int] = []
    with pytest.raises(_Stop):
        campaign.run(
            clients,
            exclude="opt_out",
            n_levers=2,
            checkpoint=folder,
            progress=_stop_after(2, seen),
        )
    first = _parts(folder)
    assert first == {"part-000000.parquet", "part-000001.parquet"}
    stamps = {name: (folder / name).stat().st_mtime_ns for name in first}
    calls: list[tuple[int, int]] = []
    resumed = campaign.run(
        clients,
        exclude="opt_out",
        n_levers=2,
        checkpoint=folder,
        resume=True,
        progress=lambda done, total: calls.append((done, total)),
    )
    pd.testing.assert_frame_equal(resumed.to_frame(), result.to_frame(), check_exact=True)
    assert resumed.outcomes == result.outcomes
    assert [o.client for o in resumed.outcomes] == list(clients.index)
    # the three missing partitions were computed, the two finished ones only read
    assert _parts(folder) - first == {f"part-00000{i}.parquet" for i in (2, 3, 4)}
    assert {name: (folder / name).stat().st_mtime_ns for name in first} == stamps
    assert calls[0] == (2 * BATCH, len(clients))
    assert calls[-1] == (len(clients), len(clients))
    again = campaign.run(clients, exclude="opt_out", n_levers=2, checkpoint=folder, resume=True)
    assert again.outcomes == result.outcomes


def test_a_checkpoint_of_another_run_is_refused(
    campaign: Campaign, clients: pd.DataFrame, tmp_path: Path
) -> None:
    folder = tmp_path / "checkpoint"
    campaign.run(clients.iloc[:12], checkpoint=folder)
    with pytest.raises(
        CampaignError,
        match=r"^checkpoint .*: must be a new or empty folder unless resuming\. Got 3 entries\. "
        r"Hint: pass resume=True to continue a stopped run, or use another folder\.$",
    ):
        campaign.run(clients.iloc[:12], checkpoint=folder)
    with pytest.raises(
        CampaignError,
        match=r"^checkpoint .*: must be a checkpoint of this campaign and these clients\. Got "
        r"another run's \(differs in n_levers\)\. Hint: .*$",
    ):
        campaign.run(clients.iloc[:12], checkpoint=folder, resume=True, n_levers=2)
    with pytest.raises(CampaignError, match=r"^.*differs in clients \(ids, values or excl.*$"):
        campaign.run(clients.iloc[1:13], checkpoint=folder, resume=True)
    changed = clients.iloc[:12].copy()
    changed["age"] = changed["age"].where(np.arange(len(changed)) != 3, changed["age"] + 1)
    with pytest.raises(CampaignError, match=r"^.*differs in clients .*$"):
        campaign.run(changed, checkpoint=folder, resume=True)
    with pytest.raises(CampaignError, match=r"^.*differs in clients .*$"):
        campaign.run(clients.iloc[:12], checkpoint=folder, resume=True, exclude="opt_out")
    other = Campaign.from_bundle(
        campaign.source.path,  # type: ignore[union-attr]
        campaign.advisor.reference,
        product=PRODUCT,
        engine="search",
        batch_size=BATCH,
        seed=1,
    )
    with pytest.raises(CampaignError, match=r"^.*\(differs in seed\)\..*$"):
        other.run(clients.iloc[:12], checkpoint=folder, resume=True)
    # a folder that is not a checkpoint at all
    stray = tmp_path / "stray"
    stray.mkdir()
    (stray / "notes.txt").write_text("x")
    with pytest.raises(CampaignError, match=r"^checkpoint .*: must hold a campaign checkpoint .*$"):
        campaign.run(clients.iloc[:12], checkpoint=stray, resume=True)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["about"]["partition_size"] == BATCH
    assert len(manifest["partitions"]) == 2


def test_a_checkpoint_needs_a_campaign_from_a_bundle(
    advisor: Advisor, clients: pd.DataFrame, tmp_path: Path
) -> None:
    in_memory = Campaign.from_advisor(advisor, product=PRODUCT)
    with pytest.raises(
        CampaignError,
        match=r"^checkpoint: needs a campaign built from a bundle .*Hint: build it with "
        r"Campaign\.from_bundle\.$",
    ):
        in_memory.run(clients.iloc[:5], checkpoint=tmp_path / "c")
    with pytest.raises(CampaignError, match=r"^resume: must be True or False.*$"):
        in_memory.run(clients.iloc[:5], resume="yes")  # type: ignore[arg-type]


_KILLED_RUN = """
import sys, time
from pathlib import Path
import numpy as np
from advisor.campaigns import Campaign
from advisor.levers import load_demo_advisor
from advisor.models import DemoBundleSettings

bundle, folder, n_clients, batch = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), 10
advisor, _ = load_demo_advisor(DemoBundleSettings(out=bundle, n_clients=n_clients))
campaign = Campaign.from_bundle(
    bundle, advisor.reference, product="life_insurance", engine="search", batch_size=batch
)
clients = advisor.reference.iloc[200:245].copy()
clients["opt_out"] = np.arange(len(clients)) % 4 == 0

def progress(done, total):
    if done >= 2 * batch:
        time.sleep(120)  # the test kills this process here

campaign.run(clients, exclude="opt_out", n_levers=2, checkpoint=folder, progress=progress)
"""


def test_a_killed_process_resumes_from_its_checkpoint(
    demo_bundle: Path,
    campaign: Campaign,
    clients: pd.DataFrame,
    result: CampaignResult,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "checkpoint"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(_KILLED_RUN),
            str(demo_bundle),
            str(folder),
            str(DEMO_TEST_CLIENTS),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while len(_parts(folder)) < 2 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
    finally:
        child.kill()  # SIGKILL: no cleanup, no atexit
        child.wait()
    first = _parts(folder)
    assert first == {"part-000000.parquet", "part-000001.parquet"}
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no half-written file
    resumed = campaign.run(clients, exclude="opt_out", n_levers=2, checkpoint=folder, resume=True)
    assert len(_parts(folder) - first) == 3
    assert resumed.outcomes == result.outcomes
    pd.testing.assert_frame_equal(resumed.to_frame(), result.to_frame(), check_exact=True)
