"""Several Rasa instances (each with its action server) behind nginx, on PostgreSQL and Redis.

Every instance is an ordinary `rasa run` of the same model: the conversations live in the PostgreSQL
tracker store, their locks in the Redis lock store, the handoff cases and outbox in PostgreSQL
(DATABASE_URL), and socket.io rooms in Redis (SOCKETIO_REDIS_URL). nginx (deploy/nginx.conf) spreads
requests over the instances. docs/scaling.md explains the topology.

    make scale                                   # 2 instances, nginx on 127.0.0.1:8080
    .venv/bin/python scripts/scale.py --instances 3 --port 8080

Settings (environment): SCALE_PG_URL (postgresql://postgres@127.0.0.1:5432/safekids; the database is
created when missing), SCALE_REDIS_URL (redis://127.0.0.1:6379), and every variable `make run` reads
(.env). Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.servers import BIN, free_port, http_json, rasa_command, wait_until  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/safekids"
DEFAULT_REDIS = "redis://127.0.0.1:6379"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@dataclass
class Instance:
    port: int
    actions_port: int
    rasa: subprocess.Popen
    actions: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL both processes: an instance that dies, not one that shuts down politely."""
        for p in (self.rasa, self.actions):
            p.kill()
            p.wait()


@dataclass
class Cluster:
    url: str
    workdir: Path
    instances: list[Instance] = field(default_factory=list)
    nginx: subprocess.Popen | None = None

    def stop(self) -> None:
        procs = [p for i in self.instances for p in (i.rasa, i.actions)]
        procs += [self.nginx] if self.nginx else []
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def stores(pg_url: str, redis_url: str, redis_db: int) -> str:
    """endpoints.yml text: PostgreSQL tracker store (ours: redaction, deletion) and Redis lock store."""
    pg, redis = urlparse(pg_url), urlparse(redis_url)
    text = (
        "tracker_store:\n  type: bot.stores.tracker.PrivateSQLTrackerStore\n  dialect: postgresql\n"
        # a custom store gets `url` as its host (RASA_NOTES)
        f"  url: {pg.hostname}\n  port: {pg.port or 5432}\n  db: {pg.path.lstrip('/')}\n"
        f"  username: {pg.username or 'postgres'}\n"
    )
    if pg.password:
        text += "  password: ${SCALE_PG_PASSWORD}\n"  # read from the environment, never written to disk
    text += (
        f"lock_store:\n  type: redis\n  url: {redis.hostname}\n  port: {redis.port or 6379}\n"
        f"  db: {redis_db}\n"
    )
    return text


def ensure_database(pg_url: str) -> None:
    import sqlalchemy as sa

    u = urlparse(pg_url)
    name = u.path.lstrip("/")
    server = pg_url.rsplit("/", 1)[0]
    admin = sa.create_engine(server + "/postgres", isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as conn:
        if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def nginx_conf(listen: str, ports: list[int], prefix: Path) -> str:
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in ports)
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    for key, value in {"servers": servers, "listen": listen, "prefix": str(prefix)}.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def start_instance(model: str, workdir: Path, index: int, endpoints_text: str, env: dict) -> Instance:
    folder = workdir / f"instance-{index}"
    folder.mkdir(parents=True, exist_ok=True)
    port, actions_port = free_port(), free_port()
    endpoints = folder / "endpoints.yml"
    action_endpoint = f"action_endpoint:\n  url: http://127.0.0.1:{actions_port}/webhook\n"
    endpoints.write_text(endpoints_text + action_endpoint)
    actions = subprocess.Popen(
        [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(actions_port)],
        cwd=ROOT,
        stdout=open(folder / "actions.log", "w"),
        stderr=subprocess.STDOUT,
        env=env,
    )
    rasa = subprocess.Popen(
        rasa_command(model, port, endpoints),
        cwd=ROOT,
        stdout=open(folder / "rasa.log", "w"),
        stderr=subprocess.STDOUT,
        env=env,
    )
    return Instance(port, actions_port, rasa, actions)


def start_cluster(
    model: str,
    workdir: Path,
    instances: int = 2,
    port: int | None = None,
    env: dict | None = None,
    pg_url: str | None = None,
    redis_url: str | None = None,
    redis_db: int = 0,
) -> Cluster:
    """Start `instances` x (action server + Rasa) and nginx on 127.0.0.1:`port`; returns when all answer."""
    pg_url = pg_url or os.environ.get("SCALE_PG_URL", DEFAULT_PG)
    redis_url = (redis_url or os.environ.get("SCALE_REDIS_URL", DEFAULT_REDIS)).rstrip("/")
    ensure_database(pg_url)
    proc_env = {
        **os.environ,
        "DATABASE_URL": pg_url,  # handoff cases, outbox, Zalo state: shared by every instance
        "SOCKETIO_REDIS_URL": f"{redis_url}/{redis_db}",
        "SCALE_PG_PASSWORD": urlparse(pg_url).password or "",
        **(env or {}),
    }
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    cluster = Cluster(f"http://127.0.0.1:{port}", workdir)
    try:
        endpoints_text = stores(pg_url, redis_url, redis_db)
        for i in range(instances):
            cluster.instances.append(start_instance(model, workdir, i, endpoints_text, proc_env))
        for inst in cluster.instances:
            wait_until(
                lambda: http_json(f"http://127.0.0.1:{inst.actions_port}/health", timeout=2),
                "action server",
                inst.actions,
            )
            wait_until(
                lambda: http_json(f"{inst.url}/status", timeout=2).get("model_file"), "rasa", inst.rasa
            )
        prefix = workdir / "nginx"
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (prefix / "tmp" / sub).mkdir(parents=True, exist_ok=True)
        conf = nginx_conf(f"127.0.0.1:{port}", [i.port for i in cluster.instances], prefix)
        (prefix / "nginx.conf").write_text(conf)
        cluster.nginx = subprocess.Popen(
            [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
            stdout=open(prefix / "nginx.out", "w"),
            stderr=subprocess.STDOUT,
        )
        wait_until(
            lambda: http_json(f"{cluster.url}/status", timeout=2).get("model_file"), "nginx", cluster.nginx
        )
    except BaseException:
        cluster.stop()
        raise
    return cluster


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--instances", type=int, default=2)
    ap.add_argument(
        "--port", type=int, default=int(os.environ.get("SCALE_PORT", "8080")), help="nginx's port"
    )
    ap.add_argument("--model", help="model file (default: scripts/model.py, trained when missing)")
    a = ap.parse_args()
    if not Path(NGINX).exists():
        print("nginx is missing: `make scale` installs it (apt-get install -y nginx)", file=sys.stderr)
        return 2
    model = (
        a.model
        or subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "model.py")],
            cwd=ROOT,
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    workdir = ROOT / "var" / "scale"
    cluster = start_cluster(model, workdir, a.instances, a.port)
    print(f"\n  nginx          {cluster.url}   (REST, web chat, webhooks, API)")
    for i, inst in enumerate(cluster.instances):
        print(
            f"  instance {i}     Rasa {inst.url}, actions :{inst.actions_port}, logs var/scale/instance-{i}/"
        )
    print("  Ctrl-C stops everything.\n", flush=True)
    # Ctrl-C reaches every process of the terminal at once: an instance stopping then is no failure.
    stopping: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, _: stopping.append(signum))
    signal.signal(signal.SIGTERM, lambda signum, _: stopping.append(signum))
    try:
        while not stopping and all(p.poll() is None for i in cluster.instances for p in (i.rasa, i.actions)):
            time.sleep(1)
        if stopping:
            return 0
        print("an instance stopped; stopping the others", file=sys.stderr)
        return 1
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
