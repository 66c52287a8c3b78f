"""What ``levers campaign run`` reads: the bundle, the clients, the output folder, all checked.

Every problem is one :class:`~advisor.errors.CampaignError` line, raised before the run:
two sources at once, data without the bundle's features, data the bundle's constraint file
cannot bind to (the first problem of the binding, and how many there are), an output folder
that holds results (without ``--force`` / ``--resume``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from advisor._console import inert
from advisor.campaigns import Campaign, CampaignError, segment_mask
from advisor.datasets import index_clients, make_demo_portfolio, read_clients
from advisor.errors import AdvisorError, DatasetError
from advisor.models import (
    DemoBundleSettings,
    ModelBundle,
    ProductRecommender,
    build_demo_bundle,
    load_bundle,
)
from constraints import ConstraintFileError

__all__ = [
    "CHECKPOINTS",
    "CSV",
    "MANIFEST",
    "PARQUET",
    "Loaded",
    "check_out",
    "check_sources",
    "first_clients",
    "load_demo",
    "load_from_bundle",
]

PARQUET, CSV, CHECKPOINTS = "levers.parquet", "levers.csv", "checkpoints"
MANIFEST = "manifest.json"  # of a campaign checkpoint (advisor.campaigns)
_OURS = (PARQUET, CSV, CHECKPOINTS, "campaign.json")


@dataclass(frozen=True, slots=True, kw_only=True)
class Loaded:
    """What a run needs: the campaign, the clients to run it on, and what it is called."""

    campaign: Campaign
    clients: pd.DataFrame
    label: str
    currency: str | None
    demo_seed: int | None = None


def check_sources(demo: bool, bundle: Path | None, data: str | None, reference: str | None) -> None:
    """Refuse both sources at once (the demo and a bundle) or neither, in one line."""
    if demo and (bundle is not None or data is not None or reference is not None):
        raise CampaignError(
            "--demo: runs on the demo bundle and portfolio; --bundle, --data and --reference "
            "do not apply. Got --demo with them. Hint: drop --demo, or the other options."
        )
    if not demo and (bundle is None or data is None):
        raise CampaignError(
            "campaign run: needs --bundle and --data (a bundle and the clients to run it on), "
            "or --demo. Got "
            + ("only --bundle." if bundle is not None else "only --data." if data else "neither.")
        )


def _indexed(
    source: str,
    id_column: str | None,
    recorded: str | None,
    encoding: str | None = None,
    decimal: str | None = None,
) -> pd.DataFrame:
    """Read clients and index them by their ids (as ``levers advise`` and the app do)."""
    frame = read_clients(source, encoding=encoding, decimal=decimal)
    try:
        return index_clients(frame, id_column, recorded=recorded)
    except DatasetError as exc:  # name the command's option
        message = str(exc)
        if message.startswith("id_column"):
            message = "--id-column" + message.removeprefix("id_column")
        raise CampaignError(message) from exc


def _check_features(bundle: ModelBundle, frame: pd.DataFrame, option: str, given: str) -> None:
    """Refuse data without the bundle's features in one line (before any binding)."""
    missing = [f for f in bundle.card.features if f not in frame.columns]
    if missing:
        shown_names = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise CampaignError(
            f"{option} {given}: must hold every feature of the bundle {bundle.path}. Got none "
            f"for {shown_names} ({len(missing)} of {len(bundle.card.features)} missing). Hint: "
            f"give the data the bundle was trained on (levers models show {bundle.path} lists "
            "its features)."
        )


def _binding_error(exc: AdvisorError, option: str, given: str) -> CampaignError:
    """Say in one line why the bundle's constraint file does not bind to the data."""
    cause = exc.__cause__
    if not isinstance(cause, ConstraintFileError):
        return CampaignError(str(exc))
    errors = [p for p in cause.problems if p.severity == "error"] or list(cause.problems)
    first = errors[0]
    count = f"{len(errors)} problems, the first" if len(errors) > 1 else "1 problem"
    hint = f" Hint: {first.hint}" if first.hint else ""
    return CampaignError(
        f"{option} {given}: must match the bundle's constraint file. Got {count}: "
        f"{first.path}: {first.message}{hint}"
    )


def load_demo(product: str | None, options: dict[str, Any]) -> Loaded:
    settings = DemoBundleSettings.from_env()
    if not (settings.out / "model_card.json").is_file():
        build_demo_bundle(settings, overwrite=False)
    portfolio = make_demo_portfolio(n_clients=settings.n_clients, seed=settings.seed)
    portfolio = index_clients(portfolio, "client_id")
    campaign = Campaign.from_bundle(settings.out, portfolio, product=product, **options)
    return _described(campaign, portfolio, demo_seed=settings.seed)


def load_from_bundle(
    folder: Path,
    data: str,
    reference: str | None,
    id_column: str | None,
    product: str | None,
    *,
    encoding: str | None = None,
    decimal: str | None = None,
    **options: Any,
) -> Loaded:
    bundle = load_bundle(folder)
    recorded = bundle.id_column
    clients = _indexed(data, id_column, recorded, encoding, decimal)
    _check_features(bundle, clients, "--data", inert(data))
    if reference is None:
        frame = clients
    else:
        frame = _indexed(reference, id_column, recorded, encoding, decimal)
    if reference is not None:
        _check_features(bundle, frame, "--reference", inert(reference))
    try:
        campaign = Campaign.from_bundle(bundle, frame, product=product, **options)
    except CampaignError:
        raise
    except AdvisorError as exc:
        option = "--data" if reference is None else "--reference"
        raise _binding_error(exc, option, inert(reference or data)) from exc
    return _described(campaign, clients)


def _described(campaign: Campaign, clients: pd.DataFrame, demo_seed: int | None = None) -> Loaded:
    model = campaign.advisor.model
    currency = model.catalog.currency if isinstance(model, ProductRecommender) else None
    return Loaded(
        campaign=campaign,
        clients=clients,
        label=campaign.info.label.get("en", campaign.product),
        currency=currency,
        demo_seed=demo_seed,
    )


def first_clients(clients: pd.DataFrame, segment: str | None, limit: int | None) -> pd.DataFrame:
    """Return the first ``limit`` clients of the segment (all of them without a limit)."""
    if limit is None:
        return clients
    return clients.loc[segment_mask(segment, clients)].head(limit)


# ---------------------------------------------------------------------------- output folder
def check_out(out: Path, *, force: bool, resume: bool) -> None:
    """Refuse an output folder that cannot be used, before any work."""
    where = f"--out {inert(out)}"
    if force and resume:
        raise CampaignError(
            "--force and --resume: give one (--force starts again, --resume finishes a stopped "
            "run). Got both."
        )
    if out.exists() and not out.is_dir():
        raise CampaignError(f"{where}: must be a folder. Got a file.")
    if not out.parent.is_dir():
        raise CampaignError(
            f"{where}: must be in an existing folder. Got no folder {inert(out.parent)}. "
            "Hint: create the folder first."
        )
    target = out if out.is_dir() else out.parent
    if not os.access(target, os.W_OK | os.X_OK):
        raise CampaignError(f"{where}: must be a folder you can write to. Got a read-only one.")
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not (force or resume):
        raise CampaignError(
            f"{where}: must be a new or empty folder. Got a folder with files. Hint: pass "
            "--force to replace its results, or --resume to finish a stopped run."
        )
    if not any((out / name).exists() for name in _OURS):
        raise CampaignError(
            f"{where}: must be a new or empty folder, or a campaign's folder with --force or "
            f"--resume. Got a folder without {', '.join(_OURS)}. Hint: choose another --out."
        )
