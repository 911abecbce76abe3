"""One network thread for many paho clients, on an epoll selector (paho's external event loop).

paho's own loop (`loop_start`) is a thread per client blocked in `select()`, which cannot watch a
file descriptor numbered 1024 or above: a simulator holding a connection per device for a city of
several hundred devices (3 descriptors each with paho's threads) gets clients that connect and die
at once. Here every client's socket is registered with one `selectors.DefaultSelector` (epoll, no
such limit) and served by one thread: reads, writes when paho has packets queued, and paho's
keep-alive housekeeping once a second. Registration changes asked from other threads (a publish
queues a packet) are handed to the loop thread through a queue and a wake-up pipe.
"""

from __future__ import annotations

import os
import selectors
import threading
import time
from collections import deque

import paho.mqtt.client as mqtt


class NetworkLoop:
    def __init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self.clients: set[mqtt.Client] = set()
        self.writers: set[mqtt.Client] = set()
        self.changes: deque[tuple[str, mqtt.Client, object]] = deque()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self.selector.register(self.wake_r, selectors.EVENT_READ, None)
        self.running = True
        self.thread = threading.Thread(target=self._run, name="mqtt-network-loop", daemon=True)
        self.thread.start()

    def attach(self, client: mqtt.Client) -> None:
        """Before `client.connect`: the client's socket events come to this loop."""
        client.on_socket_open = lambda c, u, sock: self._change("open", c, sock)
        client.on_socket_close = lambda c, u, sock: self._change("close", c, sock)
        client.on_socket_register_write = lambda c, u, sock: self._change("write", c, sock)
        client.on_socket_unregister_write = lambda c, u, sock: self._change("nowrite", c, sock)

    def _change(self, what: str, client: mqtt.Client, sock) -> None:
        if not self.running:
            return  # closed: a client being collected closes its socket, nobody serves it any more
        self.changes.append((what, client, sock))
        try:
            os.write(self.wake_w, b"x")
        except BlockingIOError:
            pass  # the pipe is full: the loop is awake already

    def _apply(self) -> None:
        while self.changes:
            what, client, sock = self.changes.popleft()
            if what == "open":
                try:
                    self.selector.register(sock, selectors.EVENT_READ, client)
                    self.clients.add(client)
                except (KeyError, ValueError, OSError):  # closed meanwhile
                    pass
            elif what == "close":
                self.clients.discard(client)
                self.writers.discard(client)
                try:
                    self.selector.unregister(sock)
                except (KeyError, ValueError, OSError):  # closed meanwhile
                    pass
            elif client in self.clients:
                want = selectors.EVENT_READ | (selectors.EVENT_WRITE if what == "write" else 0)
                (self.writers.add if what == "write" else self.writers.discard)(client)
                try:
                    self.selector.modify(sock, want, client)
                except (KeyError, ValueError, OSError):  # closed meanwhile
                    pass

    def _run(self) -> None:
        housekeeping = time.monotonic()
        while self.running:
            self._apply()
            for key, events in self.selector.select(timeout=0.5):
                if key.data is None:
                    try:
                        os.read(self.wake_r, 65536)
                    except BlockingIOError:
                        pass
                    continue
                client = key.data
                if events & selectors.EVENT_READ:
                    client.loop_read()
                if events & selectors.EVENT_WRITE:
                    client.loop_write()
            if time.monotonic() - housekeeping >= 1.0:
                housekeeping = time.monotonic()
                for client in list(self.clients):
                    client.loop_misc()

    def close(self) -> None:
        self._change("stop", None, None)
        self.running = False
        self.thread.join(5)
        self.selector.close()
        os.close(self.wake_r)
        os.close(self.wake_w)
