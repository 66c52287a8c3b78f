"""The app's service looks clients up by the id column its bundle recorded at training."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest


def test_the_app_uses_the_bundle_s_recorded_id_column(
    numbered_german: pd.DataFrame,
    recorded_german_bundle: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app import service

    numbered, bundle = numbered_german, recorded_german_bundle
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
