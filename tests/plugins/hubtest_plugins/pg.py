"""PostgreSQL made unavailable for real, for the outage tests: a database switched off and on as an operator
(or a failover) would, a proxy that stops forwarding like a network partition, and a throwaway cluster of
the test's own that it can freeze (SIGSTOP) like a hung server and stop and start again."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import asyncpg

from hub_core.testing.pytest_plugin import PG_ADMIN_URL
from hub_core.testing.server import free_port


class Database:
    """Switch one PostgreSQL database off and on: it stops accepting connections and every open connection
    is terminated, as in a failover or a restart of the server."""

    def __init__(self, url: str) -> None:
        self.name = url.rsplit("/", 1)[1]

    async def _admin(self, *statements: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
        try:
            for sql in statements:
                await conn.execute(sql)
        finally:
            await conn.close()

    def down(self) -> None:
        asyncio.run(
            self._admin(
                f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false',
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.name}'",
            )
        )

    def up(self) -> None:
        asyncio.run(self._admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true'))


class FreezableProxy:
    """A TCP proxy to PostgreSQL, in its own thread, that can stop forwarding: connections stay open and new
    ones are accepted, but no byte goes through, as in a network partition or a server stuck in failover
    (as opposed to one that refuses connections, which fails fast by itself)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 5432) -> None:
        self.target = (host, port)
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._flowing: asyncio.Event | None = None
        started = threading.Event()
        self._thread = threading.Thread(target=self._main, args=(started,), daemon=True)
        self._thread.start()
        started.wait(10)

    def url(self, database_url: str) -> str:
        """`database_url` with this proxy as its host and port."""
        scheme, rest = database_url.split("://", 1)
        userinfo, hostpath = rest.rsplit("@", 1) if "@" in rest else ("", rest)
        path = hostpath.split("/", 1)[1]
        return f"{scheme}://{userinfo + '@' if userinfo else ''}127.0.0.1:{self.port}/{path}"

    def freeze(self) -> None:
        self.loop.call_soon_threadsafe(self._flowing.clear)  # type: ignore[union-attr]

    def thaw(self) -> None:
        self.loop.call_soon_threadsafe(self._flowing.set)  # type: ignore[union-attr]

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

    async def _stop(self) -> None:
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _main(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        started.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        await self._flowing.wait()
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()


# --- a throwaway cluster ---------------------------------------------------------------------------------

SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
SQL_TIMEOUT = 5.0  # for the test's own SQL on the cluster (never while it is frozen or stopped)


def find_bindir() -> Path | None:
    """The directory of this machine's PostgreSQL server programs: $AIGNE_HUB_PG_BINDIR, else what
    `pg_config --bindir` says (on Debian that can be a client-only libpq-dev of another version), else the
    newest /usr/lib/postgresql/*/bin, else wherever `initdb` on PATH really lives; None when none has all
    of initdb, pg_ctl and postgres."""
    candidates: list[Path] = []
    if override := os.environ.get("AIGNE_HUB_PG_BINDIR"):
        candidates.append(Path(override))
    if pg_config := shutil.which("pg_config"):
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10)
            candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += [Path(d) for d in sorted(versions, key=_version_key, reverse=True)]
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).resolve().parent)
    for bindir in candidates:
        if all(os.access(bindir / name, os.X_OK) for name in SERVER_PROGRAMS):
            return bindir
    return None


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path))


class Cluster:
    """A PostgreSQL cluster of its own in a temporary directory, on a free loopback port, that a test can
    freeze (SIGSTOP of the postmaster and every backend: connections stay open, nothing answers), stop
    (`pg_ctl stop -m immediate|fast`) and start again on the same port. initdb and postgres refuse to run
    as root, so under root (the tests' usual case here and in CI) the server runs as the `postgres` user
    (or `nobody`), which owns the directory. `close()` always leaves no process behind."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="aigne-hub-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as_user = _unprivileged_user()
        if self._as_user is not None:
            os.chown(self.root, self._as_user.pw_uid, self._as_user.pw_gid)
        self.proc: subprocess.Popen[bytes] | None = None
        self.frozen: list[int] = []

    @property
    def admin_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    # --- running as the server's user ---------------------------------------------------------------------

    def _user_args(self) -> dict[str, Any]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C"}
        args: dict[str, Any] = {"cwd": self.root, "env": {**env, "HOME": str(self.root)}}
        if self._as_user is not None:
            args.update(user=self._as_user.pw_uid, group=self._as_user.pw_gid, extra_groups=[])
        return args

    def _run(self, program: str, *args: str, timeout: float = 60) -> None:
        done = subprocess.run(
            [str(self.bindir / program), *args], capture_output=True, text=True, timeout=timeout,
            **self._user_args(),
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr or done.stdout}")

    # --- life cycle -------------------------------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> Cluster:
        """Start the server (our child, in its own session; initdb first the first time) and wait until it
        accepts a query."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        if not self.data.exists():
            self._run(
                "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C",
                "--no-sync",
            )  # fmt: skip
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port),
                    "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.root}",
                    # a process crash (immediate stop) loses nothing without fsync; an OS crash is not tested
                    "-c", "fsync=off", "-c", "full_page_writes=off",
                ],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                **self._user_args(),
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            try:
                asyncio.run(self.execute("SELECT 1"))
                return self
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"postgres did not start ({exc}):\n{self.log_tail()}") from exc
                time.sleep(0.05)

    def stop(self, mode: str = "fast") -> None:
        """`pg_ctl stop -m mode` (immediate: like a crash, recovery at the next start; fast: a clean
        shutdown that ends the sessions), waiting until the server has exited."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "30")
        self.proc.wait(30)

    def freeze(self) -> None:
        """SIGSTOP the postmaster first (so it forks nothing new), then each of its children."""
        assert self.proc is not None and self.proc.poll() is None
        os.kill(self.proc.pid, signal.SIGSTOP)
        self.frozen = [self.proc.pid]
        for pid in _children(self.proc.pid):  # backends are session leaders of their own: no killpg
            try:
                os.kill(pid, signal.SIGSTOP)
                self.frozen.append(pid)
            except ProcessLookupError:
                pass

    def thaw(self) -> None:
        for pid in reversed(self.frozen):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self.frozen = []

    def close(self) -> None:
        """Thaw, stop and delete, whatever state the test left it in; SIGKILL as the last resort."""
        self.thaw()
        with contextlib.suppress(Exception):
            self.stop("immediate")
        if self.proc is not None and self.proc.poll() is None:
            for pid in [*_children(self.proc.pid), self.proc.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.proc.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # --- SQL ---------------------------------------------------------------------------------------------

    async def execute(self, sql: str, database: str = "postgres") -> None:
        conn = await asyncpg.connect(self.url(database), timeout=SQL_TIMEOUT)
        try:
            await conn.execute(sql, timeout=SQL_TIMEOUT)
        finally:
            await conn.close(timeout=SQL_TIMEOUT)

    def fetch(self, sql: str, database: str = "postgres") -> list[asyncpg.Record]:
        """The rows of one query, read straight from the cluster (not through a hub)."""

        async def go() -> list[asyncpg.Record]:
            conn = await asyncpg.connect(self.url(database), timeout=SQL_TIMEOUT)
            try:
                return list(await conn.fetch(sql, timeout=SQL_TIMEOUT))
            finally:
                await conn.close(timeout=SQL_TIMEOUT)

        return asyncio.run(go())

    def create_database(self, name: str) -> str:
        """A new database in this cluster; its URL."""
        asyncio.run(self.execute(f'CREATE DATABASE "{name}"'))
        return self.url(name)


def _unprivileged_user() -> pwd.struct_passwd | None:
    """Who runs the server when we are root (initdb and postgres refuse root); None when we are not."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a postgres nor a nobody user exists")


def _children(parent: int) -> list[int]:
    """The processes whose parent is `parent` (Linux /proc)."""
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            text = Path(stat).read_text()
        except OSError:  # gone meanwhile
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")"
        if int(text.rsplit(")", 1)[1].split()[1]) == parent:
            found.append(int(text.split(" ", 1)[0]))
    return found
