"""A tiny published workspace for the retrain, registry and monitoring tests.

``base`` holds a warehouse loaded from ``part1.csv`` (2019-01 … 2025-03) through the inbox,
one published run and its CSV reports; ``part2.csv`` (2025-04 … 2025-12) is new data for a
second retrain. Tests copy the workspace (:func:`clone`) so each can change it freely.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from pipeline_fixtures import FAST_MODELS, small_demo_frame
from typer.testing import CliRunner

from forecast.cli import app

runner = CliRunner()
SPLIT = "2025-03"


@dataclass(frozen=True)
class Workspace:
    """Paths of a workspace and the environment that points the CLI at it."""

    root: Path

    @property
    def env(self) -> dict[str, str]:
        r = self.root
        return {
            "FORECAST_WAREHOUSE": str(r / "data" / "wh.duckdb"),
            "FORECAST_MODELS_DIR": str(r / "models"),
            "FORECAST_REPORTS_DIR": str(r / "reports"),
            "FORECAST_INBOX": str(r / "inbox"),
            "FORECAST_LOG_FILE": str(r / "logs" / "forecast.jsonl"),
            "FORECAST_MODELS": ",".join(FAST_MODELS),
        }

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    def latest(self) -> str:
        return (self.models / "LATEST").read_text().strip()

    def link(self) -> str:
        import os

        return os.readlink(self.reports / "latest")

    def run_dirs(self) -> list[str]:
        return sorted(p.name for p in self.models.iterdir() if p.is_dir() and p.name[0] != ".")

    def leftovers(self) -> list[str]:
        return sorted(
            p.name
            for folder in (self.models, self.reports)
            for p in folder.iterdir()
            if p.name.startswith((".tmp-", ".trash-", ".latest-"))
        )

    def retrain(self, *args: str):
        return runner.invoke(app, ["retrain", "--format", "csv", *args], env=self.env)


def make_parts(folder: Path) -> tuple[Path, Path]:
    """Two CSV files of tiny demo data split at :data:`SPLIT`."""
    frame = small_demo_frame(n_provinces=2, n_categories=1, n_destinations=0)
    period = frame["period"].astype(str)
    folder.mkdir(parents=True, exist_ok=True)
    part1, part2 = folder / "part1.csv", folder / "part2.csv"
    frame[period <= SPLIT].to_csv(part1, index=False)
    frame[period > SPLIT].to_csv(part2, index=False)
    return part1, part2


def published_workspace(root: Path) -> tuple[Workspace, Path]:
    """A workspace with ``part1`` ingested and published; returns it and ``part2.csv``."""
    part1, part2 = make_parts(root / "parts")
    ws = Workspace(root / "ws")
    ws.inbox.mkdir(parents=True)
    shutil.copy(part1, ws.inbox / part1.name)
    result = ws.retrain("--source", "synthetic-demo")
    assert result.exit_code == 0, result.output
    return ws, part2


def clone(ws: Workspace, dest: Path) -> Workspace:
    """A full copy of ``ws`` (warehouse, runs, reports, links) at ``dest``."""
    shutil.copytree(ws.root, dest, symlinks=True)
    return Workspace(dest)
