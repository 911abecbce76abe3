"""The production rehearsal's Kafka: a 3-node KRaft cluster on loopback (each node controller and
broker), replication 3, min.insync.replicas 2, unclean leader election off; nodes and the admin
authenticate by certificate (mutual TLS, the local CA), services by SCRAM-SHA-512 over TLS, one user
each (created at format time); StandardAuthorizer with nothing allowed unless an ACL says so.
Data, configs and pid files in `<stack>/cluster/`; started and stopped by pid file, node by node (the
fault suite kills and restarts them)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from stack import kafka
from stack.exceptions import ServiceStartError
from stack.passwords import stored_password
from stack.process import log_tail, running_pid, spawn, stop_pid_file, wait_until
from stack.settings import StackSettings
from stack.tls import ensure_ca, issue_peer

NODES = (1, 2, 3)
USERS = ("citysense-gateway", "citysense-streams", "citysense-sink", "citysense-api")
BASE_PORT = 19290  # node n: clients 19290+n (SASL_SSL), peers 19300+n (SSL), controllers 19310+n (SSL),
ZONE_PORT = 19330  # and, with a zone address, clients of a network namespace 19330+n (SASL_SSL)


@dataclass(frozen=True)
class Cluster:
    settings: StackSettings
    # The host's end of a network namespace (stack/netns.py): a second client listener there, so a
    # service in the namespace reaches the cluster — and can be cut off from it (the partition fault)
    zone_address: str | None = None

    @property
    def root(self) -> Path:
        return self.settings.root / "cluster"

    def client_port(self, node: int) -> int:
        return BASE_PORT + node

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{self.client_port(n)}" for n in NODES)

    @property
    def zone_bootstrap(self) -> str:
        return ",".join(f"{self.zone_address}:{ZONE_PORT + n}" for n in NODES)

    @property
    def admin_bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{BASE_PORT + 10 + n}" for n in NODES)

    def pid_file(self, node: int) -> Path:
        return self.root / f"node-{node}.pid"

    def log_file(self, node: int) -> Path:
        return self.root / f"node-{node}" / "server.log"

    def password(self, user: str) -> str:
        return stored_password(self.root / "users" / user)

    def _pem(self, name: str, addresses: tuple[str, ...] = ()) -> Path:
        """Key and certificate in one PEM file, as Kafka's PEM keystores take them."""
        cert, key = issue_peer(self.settings, name, addresses)
        out = self.root / "tls" / f"{cert.stem.removeprefix('peer-')}.pem"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(key.read_text() + cert.read_text())
        out.chmod(0o600)
        return out

    def admin_config(self) -> Path:
        """Client properties of the certificate-authenticated admin (Kafka's own tools)."""
        path = self.root / "admin.properties"
        path.write_text(f"security.protocol=SSL\nssl.truststore.type=PEM\n"
                        f"ssl.truststore.location={ensure_ca(self.settings) / 'ca.crt'}\n"
                        f"ssl.keystore.type=PEM\nssl.keystore.location={self._pem('admin')}\n")
        return path

    def _config(self, node: int) -> Path:
        voters = ",".join(f"{n}@127.0.0.1:{BASE_PORT + 20 + n}" for n in NODES)
        ca = ensure_ca(self.settings) / "ca.crt"
        data = self.root / f"node-{node}"
        data.mkdir(parents=True, exist_ok=True)
        path = data / "server.properties"
        zone = f",ZONE://{self.zone_address}:{ZONE_PORT + node}" if self.zone_address else ""
        # a node's certificate names the zone address too (a new name for each address)
        pem = self._pem(f"kafka-{node}", (self.zone_address,) if self.zone_address else ())
        path.write_text(f"""# citysense production rehearsal: node {node} of 3 (stack/cluster.py)
process.roles=broker,controller
node.id={node}
controller.quorum.voters={voters}
listeners=CLIENT://127.0.0.1:{self.client_port(node)},PEER://127.0.0.1:{BASE_PORT + 10 + node},CONTROLLER://127.0.0.1:{BASE_PORT + 20 + node}{zone}
advertised.listeners=CLIENT://127.0.0.1:{self.client_port(node)},PEER://127.0.0.1:{BASE_PORT + 10 + node}{zone}
listener.security.protocol.map=CLIENT:SASL_SSL,PEER:SSL,CONTROLLER:SSL,ZONE:SASL_SSL
inter.broker.listener.name=PEER
controller.listener.names=CONTROLLER
listener.name.peer.ssl.client.auth=required
listener.name.controller.ssl.client.auth=required
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.zone.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.zone.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location={pem}
ssl.truststore.type=PEM
ssl.truststore.location={ca}
ssl.principal.mapping.rules=RULE:^.*CN=([^,]+).*$/$1/,DEFAULT
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin;User:kafka-1;User:kafka-2;User:kafka-3
log.dirs={data / "data"}
num.partitions=12
default.replication.factor=3
min.insync.replicas=2
unclean.leader.election.enable=false
offsets.topic.replication.factor=3
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
log.segment.bytes=67108864
""")
        return path

    def _format(self, node: int, config: Path, cluster_id: str) -> None:
        if (self.root / f"node-{node}" / "data" / "meta.properties").exists():
            return
        scram = [arg for user in USERS for arg in ("--add-scram", f"SCRAM-SHA-512=[name={user},password={self.password(user)}]")]
        out = subprocess.run([kafka.java(), "-cp", kafka.classpath(self.settings), "kafka.tools.StorageTool", "format",
                              "-t", cluster_id, "-c", str(config), *scram], capture_output=True, text=True)
        if out.returncode != 0:
            raise ServiceStartError("Kafka rehearsal", self.bootstrap, str(config), "storage format failed: " + out.stderr)

    def pid(self, node: int) -> int | None:
        return running_pid(self.pid_file(node), kafka.MAIN_CLASS)

    def start(self, node: int) -> None:
        """Start one node (formatted already by `up`); returns when its process runs."""
        if self.pid(node):
            return
        config = self.root / f"node-{node}" / "server.properties"
        log4j = self.root / "log4j.properties"
        argv = [kafka.java(), "-Xms256m", "-Xmx1g", "-XX:+UseG1GC", "-Djava.awt.headless=true",
                f"-Dlog4j.configuration=file:{log4j}", f"-Dkafka.logs.file={self.log_file(node)}",
                "-cp", kafka.classpath(self.settings), kafka.MAIN_CLASS, str(config)]
        spawn(argv, self.pid_file(node), self.root / f"node-{node}" / "stdout.log")

    def kill(self, node: int, sig: int) -> None:
        stop_pid_file(self.pid_file(node), expect_in_cmdline=kafka.MAIN_CLASS, sig=sig, timeout_s=60)

    def up(self, timeout_s: float = 180) -> str:
        """Every node formatted and running, the cluster answering its admin over TLS."""
        if all(self.pid(n) for n in NODES) and self.answers():
            return "already running"
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "log4j.properties").write_text((kafka.TEMPLATES / "log4j.properties").read_text())
        id_file = self.root / "cluster-id"
        if not id_file.exists():
            id_file.write_text(subprocess.run([kafka.java(), "-cp", kafka.classpath(self.settings),
                                               "kafka.tools.StorageTool", "random-uuid"], check=True,
                                              capture_output=True, text=True).stdout.strip().splitlines()[-1])
        for node in NODES:
            self._format(node, self._config(node), id_file.read_text())
        for node in NODES:
            self.start(node)
        if not wait_until(self.answers, timeout_s, 1.0):
            raise ServiceStartError("Kafka rehearsal", self.admin_bootstrap, str(self.log_file(1)),
                                    "the 3 nodes did not form a cluster\n" + log_tail(self.log_file(1)))
        return "started"

    def down(self) -> None:
        for node in NODES:
            stop_pid_file(self.pid_file(node), expect_in_cmdline=kafka.MAIN_CLASS, timeout_s=60)

    def answers(self) -> bool:
        """All three brokers registered, asked over the admin's TLS listener."""
        out = self.tool("kafka.admin.BrokerApiVersionsCommand", timeout_s=30)
        return out is not None and out.count("(id: ") >= 3

    def tool(self, main: str, *args: str, timeout_s: float = 60) -> str | None:
        """One of Kafka's command-line tools as the admin; its output, or None when it failed."""
        try:
            out = subprocess.run([kafka.java(), "-Xmx256m", "-cp", kafka.classpath(self.settings), main,
                                  "--bootstrap-server", self.admin_bootstrap, "--command-config",
                                  str(self.admin_config()), *args], capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None
        return out.stdout if out.returncode == 0 else None

    def allow(self, user: str, operations: tuple[str, ...], resources: tuple[str, ...], prefixed: bool = False) -> None:
        """ACLs: `user` may do `operations` on `resources` ("--topic", name, "--group", name, "--cluster")."""
        args = [f"--allow-principal=User:{user}", "--add", "--force"]
        args += [f"--operation={op}" for op in operations] + list(resources)
        if prefixed:
            args.append("--resource-pattern-type=prefixed")
        if self.tool("kafka.admin.AclCommand", *args) is None:
            raise ServiceStartError("Kafka rehearsal", self.admin_bootstrap, str(self.log_file(1)),
                                    f"adding ACLs for {user} failed")

    def client_env(self, user: str, zone: bool = False) -> dict[str, str]:
        """The variables a service needs to reach the cluster as `user` (from the namespace: `zone`)."""
        return {"CITYSENSE_KAFKA_BOOTSTRAP_SERVERS": self.zone_bootstrap if zone else self.bootstrap, "CITYSENSE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "CITYSENSE_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "CITYSENSE_KAFKA_SASL_USERNAME": user,
                "CITYSENSE_KAFKA_SASL_PASSWORD": self.password(user),
                "CITYSENSE_KAFKA_SSL_CAFILE": str(ensure_ca(self.settings) / "ca.crt"),
                "CITYSENSE_KAFKA_REPLICATION_FACTOR": "3", "CITYSENSE_KAFKA_MIN_INSYNC_REPLICAS": "2"}
