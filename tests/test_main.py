"""`python -m bot` as the operator runs it: missing token, bad settings, backups."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_bot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("DISCORD_", "OPENAI_"))}
    clean.update(env)
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "bot", *args], env=clean, cwd=cwd, capture_output=True, text=True,
                          timeout=60, check=False)


def test_without_a_token_it_exits_2_with_one_line_saying_where_to_put_it(tmp_path: Path) -> None:
    result = run_bot(env={}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "DISCORD_TOKEN" in lines[0] and ".env" in lines[0] and "developers" in lines[0]


def test_invalid_settings_print_one_line_per_bad_field_and_no_traceback(tmp_path: Path) -> None:
    secret = "MTIzNDU2Nzg5MDEyMzQ1Njc4.abcdef.secret-value-that-must-not-leak"
    result = run_bot(env={"DISCORD_TOKEN": secret, "DEV_GUILD_ID": "abc", "LOG_LEVEL": "loud"}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert any("DEV_GUILD_ID" in line for line in lines) and any("LOG_LEVEL" in line for line in lines)
    assert "Traceback" not in result.stderr and secret not in result.stderr + result.stdout


def test_backup_copies_a_database_that_is_open_for_writing(tmp_path: Path) -> None:
    database = tmp_path / "club.db"
    live = sqlite3.connect(database)
    live.execute("PRAGMA journal_mode = WAL")
    live.execute("CREATE TABLE t (x INTEGER)")
    live.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(1000)])
    live.commit()
    live.execute("INSERT INTO t VALUES (-1)")  # an open, uncommitted transaction must not end up in the copy
    try:
        result = run_bot("backup", str(tmp_path / "copy.db"), env={"DATABASE_PATH": str(database)}, cwd=tmp_path)
    finally:
        live.rollback()
        live.close()
    assert result.returncode == 0, result.stderr
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("SELECT COUNT(*), MIN(x) FROM t").fetchone() == (1000, 0)
    copy.close()


def test_backup_leaves_one_self_contained_file_and_no_wal_or_shm_files(tmp_path: Path) -> None:
    live, copies = tmp_path / "live", tmp_path / "copies"
    live.mkdir()
    with contextlib.closing(sqlite3.connect(live / "club.db")) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE t (x INTEGER)")
        conn.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(100)])
        conn.commit()
    assert sorted(path.name for path in live.iterdir()) == ["club.db"]
    result = run_bot("backup", str(copies / "club.db"), env={"DATABASE_PATH": str(live / "club.db")}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in copies.iterdir()) == ["club.db"]
    assert sorted(path.name for path in live.iterdir()) == ["club.db"]
    with contextlib.closing(sqlite3.connect(f"{(copies / 'club.db').as_uri()}?mode=ro", uri=True)) as copy:
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert copy.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 100
    assert sorted(path.name for path in copies.iterdir()) == ["club.db"]


def test_backup_of_a_missing_database_fails_clearly(tmp_path: Path) -> None:
    result = run_bot("backup", str(tmp_path / "copy.db"), env={"DATABASE_PATH": str(tmp_path / "none.db")},
                     cwd=tmp_path)
    assert result.returncode == 1
    assert "no database" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(("error", "said"), [
    ("database is locked", "Cannot start: another program held the database"),
    ("attempt to write a readonly database", "Cannot start: the database"),
])
def test_a_database_failing_during_start_up_ends_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: str, said: str
) -> None:
    import bot.__main__ as entry

    async def held_mid_start(settings: object, token: str, integrity: object) -> None:
        raise sqlite3.OperationalError(error)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_TOKEN", "token-value-that-must-not-leak")
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "club.db"))
    monkeypatch.setattr(sys, "argv", ["bot"])
    monkeypatch.setattr(entry, "run", held_mid_start)
    monkeypatch.setattr(entry, "setup_logging", lambda level, secrets: None)
    with pytest.raises(SystemExit) as stopped:
        entry.main()
    assert stopped.value.code == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(said) and "club.db" in line and "Traceback" not in line


def test_a_database_path_that_cannot_be_used_ends_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a folder")
    (tmp_path / "club.db").write_text("not a database either")
    for path in ("notes.txt/bookclub.db", "club.db"):
        result = run_bot(env={"DISCORD_TOKEN": "token-value", "DATABASE_PATH": str(tmp_path / path)}, cwd=tmp_path)
        assert result.returncode == 1
        assert result.stderr.strip().splitlines() == [
            line for line in result.stderr.strip().splitlines() if line.startswith("Cannot start: the database")]
        assert "Check DATABASE_PATH." in result.stderr and "Traceback" not in result.stderr


def test_discord_out_of_reach_ends_with_one_line_and_no_token(tmp_path: Path) -> None:
    secret = "MTIzNDU2Nzg5MDEyMzQ1Njc4.abcdef.unreachable-token"
    result = run_bot(env={"DISCORD_TOKEN": secret, "DATABASE_PATH": str(tmp_path / "club.db"),
                          # Nothing listens on port 9 of this machine: the connection is refused at once.
                          "DISCORD_API_BASE": "http://127.0.0.1:9/api/v10", "LOG_LEVEL": "WARNING"}, cwd=tmp_path)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Cannot reach Discord (") and "DISCORD_API_BASE" in last
    assert "Traceback" not in result.stderr and secret not in result.stderr + result.stdout


def test_a_database_server_out_of_reach_ends_with_one_line_and_no_password(tmp_path: Path) -> None:
    # Nothing listens on port 9 of this machine: the server's connection is refused at once.
    url = "postgresql://bookclub:hunter2-secret@127.0.0.1:9/bookclub"
    result = run_bot(env={"DISCORD_TOKEN": "token-value", "DATABASE_URL": url,
                          "DISCORD_API_BASE": "http://127.0.0.1:9/api/v10"}, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        line for line in result.stderr.strip().splitlines() if line.startswith("Cannot start: the database")]
    assert "postgresql://bookclub:***@127.0.0.1:9/bookclub" in result.stderr
    assert "Check DATABASE_URL." in result.stderr and "Traceback" not in result.stderr
    assert "hunter2-secret" not in result.stderr + result.stdout
    assert list(tmp_path.iterdir()) == [], "no SQLite file is made beside a PostgreSQL setting"


def test_a_database_url_of_another_engine_is_refused_without_echoing_it(tmp_path: Path) -> None:
    result = run_bot(env={"DISCORD_TOKEN": "token-value", "DATABASE_URL": "mysql://club:hunter2-secret@db/club"},
                     cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Invalid setting DATABASE_URL: Value error, must start with sqlite:/// (a file) or postgresql:// (a server)"
    ]
