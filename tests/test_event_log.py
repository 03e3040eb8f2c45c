"""The instance's event log (pipelines.orchestration.event_log) against Dagster's own: what a
run writes is what another process reads, the webserver's watch still sees a run's events as
they are written, and the open files stay bounded."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events.log import EventLogEntry

from pipelines.orchestration import event_log
from pipelines.orchestration.event_log import KeptOpenSqliteEventLogStorage
from pipelines.project_files import DAGSTER_INSTANCE_CONFIG


@dg.asset
def numbers() -> list[int]:
    return [1, 2, 3]


@dg.asset_check(asset=numbers, blocking=True)
def numbers_are_positive() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copyfile(DAGSTER_INSTANCE_CONFIG, tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    return tmp_path


def _run(instance: dg.DagsterInstance) -> str:
    result = dg.materialize([numbers, numbers_are_positive], instance=instance)
    assert result.success
    return result.run_id


def test_a_run_is_read_whole_by_another_instance(home: Path) -> None:
    with dg.DagsterInstance.from_config(str(home)) as writer:
        assert isinstance(writer.event_log_storage, KeptOpenSqliteEventLogStorage)
        run_id = _run(writer)
        written = [e.dagster_event_type for e in writer.all_logs(run_id) if e.is_dagster_event]
        # Another process's view: its own storage object, its own connections.
        with dg.DagsterInstance.from_config(str(home)) as reader:
            read = [e.dagster_event_type for e in reader.all_logs(run_id) if e.is_dagster_event]
            assert read == written
            kinds = {
                dg.DagsterEventType.ASSET_MATERIALIZATION,
                dg.DagsterEventType.ASSET_CHECK_EVALUATION,
                dg.DagsterEventType.RUN_SUCCESS,
            }
            assert kinds <= set(read)
            # The index: the latest materialization and check evaluation, across runs.
            latest = reader.get_latest_materialization_event(dg.AssetKey("numbers"))
            assert latest is not None and latest.run_id == run_id
            check = dg.AssetCheckKey(dg.AssetKey("numbers"), "numbers_are_positive")
            records = reader.event_log_storage.get_asset_check_execution_history(check, limit=5)
            assert [r.run_id for r in records] == [run_id]
            assert reader.get_run_by_id(run_id).is_success


def test_the_webserver_watch_sees_events_as_they_are_written(home: Path) -> None:
    with (
        dg.DagsterInstance.from_config(str(home)) as writer,
        dg.DagsterInstance.from_config(str(home)) as watcher,
    ):
        run_id = _run(writer)
        seen: list[str] = []
        arrived = threading.Event()

        def on_event(entry: EventLogEntry, _cursor: str) -> None:
            seen.append(entry.user_message)
            if entry.user_message == "the last line":
                arrived.set()

        watcher.watch_event_logs(run_id, writer.get_records_for_run(run_id).cursor, on_event)
        try:
            time.sleep(0.5)  # the observer thread starts watching
            for message in ("a line", "the last line"):
                writer.handle_new_event(
                    EventLogEntry(
                        error_info=None,
                        level="INFO",
                        user_message=message,
                        run_id=run_id,
                        timestamp=time.time(),
                    )
                )
            assert arrived.wait(timeout=20), f"the watch saw {seen}"
            assert seen == ["a line", "the last line"]
        finally:
            watcher.end_watch_event_logs(run_id, on_event)


def test_open_files_stay_bounded_and_wipe_closes_them(home: Path) -> None:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, KeptOpenSqliteEventLogStorage)
        runs = [_run(instance) for _ in range(event_log.KEPT_RUN_FILES + 3)]
        assert len(storage._engines) == event_log.KEPT_RUN_FILES + 1  # and the index
        assert runs[-1] in storage._engines and runs[0] not in storage._engines
        # A run whose engine was let go is read again through a new one.
        assert instance.all_logs(runs[0])

        instance.wipe()
        assert list(storage._engines) in ([], ["index"])  # the wipe empties the index through it
        assert not list(Path(storage._base_dir).glob(f"{runs[-1]}.db*"))
        assert _run(instance)
