"""A network namespace joined to the host by a veth pair, for the production rehearsal's partition
fault: a process started in it (`prefix() + argv`) reaches the host only through the pair, and
`cut()` takes the host's end down — its packets are then dropped silently, as in a real partition
(no reset, no error: timeouts), until `heal()`. Needs root (`ip netns`, iproute2)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from stack.exceptions import StackError


def _ip(*args: str, namespace: str | None = None) -> None:
    argv = ["ip", *(("netns", "exec", namespace, "ip") if namespace else ()), *args]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise StackError(f"`{' '.join(argv)}` failed: {done.stderr.strip()} (the partition fault needs root "
                         "and iproute2)")


@dataclass(frozen=True)
class Namespace:
    name: str = "citysense-zone"
    host_address: str = "10.213.0.1"  # the host's end: a listener for the namespace binds here
    address: str = "10.213.0.2"  # the namespace's end
    prefix_len: int = 30

    @property
    def host_link(self) -> str:
        return f"{self.name[:11]}-h"

    def create(self) -> Namespace:
        """The namespace and its link, up (an earlier one of the same name is replaced)."""
        self.delete()
        inside = f"{self.name[:11]}-n"
        _ip("netns", "add", self.name)
        _ip("link", "add", self.host_link, "type", "veth", "peer", "name", inside)
        _ip("link", "set", inside, "netns", self.name)
        _ip("addr", "add", f"{self.host_address}/{self.prefix_len}", "dev", self.host_link)
        _ip("link", "set", self.host_link, "up")
        _ip("addr", "add", f"{self.address}/{self.prefix_len}", "dev", inside, namespace=self.name)
        _ip("link", "set", inside, "up", namespace=self.name)
        _ip("link", "set", "lo", "up", namespace=self.name)
        return self

    def prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.name]

    def cut(self) -> None:
        _ip("link", "set", self.host_link, "down")

    def heal(self) -> None:
        _ip("link", "set", self.host_link, "up")

    def delete(self) -> None:
        subprocess.run(["ip", "link", "del", self.host_link], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
