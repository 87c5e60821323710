"""A throw-away PostgreSQL server on 127.0.0.1, for `make test-postgres` and the benchmarks.

`python -m tests.postgres_server COMMAND…` installs Debian's `postgresql` package when no server is on the machine,
creates a cluster in a temporary folder, starts it on a free port of 127.0.0.1 (unsafe-but-fast settings: it holds
nothing worth keeping), runs COMMAND with BOOKCLUB_TEST_POSTGRES naming it, then stops it and deletes the folder.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.databases import POSTGRES_ENV

# Debian's server and its contrib extensions (unaccent, pg_trgm), which the migrations create.
PACKAGES = ("postgresql", "postgresql-contrib")
SERVER_USER = "postgres"


def server_bindir() -> Path | None:
    """The newest installed server's programs (Debian keeps each major version apart)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).resolve().parent if on_path else None


def install() -> Path:
    """Installs the server with apt-get (as root, or through sudo) and returns its programs' folder."""
    sudo: list[str] = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"PostgreSQL is not installed; installing {' '.join(PACKAGES)} with apt-get", file=sys.stderr)
    install_command = [*sudo, "apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES]
    if subprocess.run(install_command, env=env, check=False).returncode != 0:
        subprocess.run([*sudo, "apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(install_command, env=env, check=True)
    bindir = server_bindir()
    if bindir is None:
        raise SystemExit("apt-get installed PostgreSQL, but no initdb was found under /usr/lib/postgresql")
    return bindir


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    # The server refuses to run as root: as root, it runs as the package's own `postgres` user.
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SERVER_USER, "--", *command]


class Server:
    """One throw-away cluster: `url` names its `postgres` database; `stop()` and `start()` take it down and bring
    it back on the same port, as an outage of the database server does."""

    def __init__(self, bindir: Path, folder: Path) -> None:
        self.bindir = bindir
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *arguments: str, check: bool = True) -> None:
        subprocess.run(_as_server_user([str(self.bindir / "pg_ctl"), "-D", str(self.data), *arguments]),
                       check=check, stdout=subprocess.DEVNULL)

    def create(self) -> None:
        subprocess.run(
            _as_server_user([str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                             "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]),
            check=True, stdout=subprocess.DEVNULL,
        )

    def start(self) -> None:
        # fsync off: the tests survive a crash of the server (not of the machine), and it is much faster. Commits
        # stay synchronous, so a server stopped "immediate" keeps what it committed, as a real one does.
        options = (f"-h 127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off "
                   "-c full_page_writes=off -c max_connections=500")
        self._pg_ctl("-o", options, "-l", str(self.folder / "server.log"), "-w", "start")

    def stop(self) -> None:
        """Stops at once, dropping every connection, as a crashed or unplugged server does."""
        self._pg_ctl("-m", "immediate", "stop", check=False)


@contextlib.contextmanager
def throwaway_server() -> Iterator[Server]:
    """A new, empty, running server for the block; stopped and deleted afterwards."""
    bindir = server_bindir() or install()
    folder = Path(tempfile.mkdtemp(prefix="bookclub-postgres-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam(SERVER_USER)
        os.chown(folder, user.pw_uid, user.pw_gid)
    server = Server(bindir, folder)
    try:
        server.create()
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A new, empty server for the block; yields the URL of its `postgres` database."""
    with throwaway_server() as server:
        yield server.url


def main(command: list[str]) -> int:
    if not command:
        print("Usage: python -m tests.postgres_server COMMAND [ARGUMENT…]", file=sys.stderr)
        return 2
    with throwaway_postgres() as url:
        print(f"PostgreSQL for the tests at {url}", file=sys.stderr)
        return subprocess.run(command, env={**os.environ, POSTGRES_ENV: url}, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
