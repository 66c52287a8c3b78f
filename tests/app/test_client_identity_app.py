"""The app's service looks clients up by the id column its bundle recorded at training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from advisor.models import save_bundle, train
from tests.conftest import REPO_ROOT


def test_the_app_uses_the_bundle_s_recorded_id_column(
    german_data: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import service

    numbered = german_data.assign(numero=np.random.default_rng(3).permutation(len(german_data)) + 1)
    result = train(
        numbered,
        "credit_risk",
        REPO_ROOT / "configs" / "german-credit.yaml",
        families=("logistic",),
        positive="bad",
        n_trials=1,
        budget_s=None,
        n_folds=2,
        id_column="numero",
    )
    bundle = save_bundle(result, tmp_path / "bundle")
    data = tmp_path / "clients.csv"
    numbered.to_csv(data, index=False)
    monkeypatch.setenv("LEVERS_BUNDLE", str(bundle))
    monkeypatch.setenv("LEVERS_DATA", str(data))
    monkeypatch.delenv("LEVERS_ID_COLUMN", raising=False)
    service._source.clear()
    try:
        found = service.source()
        assert found.id_column == "numero"
        expected = numbered.loc[numbered["numero"] == 7].iloc[0]
        assert service.client_row("7").equals(expected.rename("7"))
        assert not service.client_row("7").equals(numbered.iloc[6].rename("7"))
    finally:
        service._source.clear()
