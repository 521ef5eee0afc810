"""OSCQuery: the parameter tree as JSON over HTTP, value updates over a WebSocket on the same
port (LISTEN, oscquery_ws.py), and zeroconf advertisement of it.

VDMX, Max/RNBO, Chataigne and TouchOSC's editor discover the engine this way (`_oscjson._tcp` for
the JSON, `_osc._udp` for the OSC port) and build their controls from it. The JSON comes from the
same tree as everything else. We serve it with the standard library: python-oscquery was judged
and not taken (its HTTP server binds every interface whatever it is given, its start blocks for
seconds, and it logs every request).
"""
from __future__ import annotations

import ipaddress
import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from ..base.oscwire import interface_addresses
from ..params import Param, ParamTree
from .oscquery_ws import MAX_LISTENERS, Listener, handshake, wants_upgrade
from ..base.ratelog import RateLimitedLog

log = logging.getLogger("instrument.oscquery")

_TYPES = {"float": "f", "int": "i", "bool": "T", "enum": "s", "text": "s", "trigger": "N"}
EXTENSIONS = {"ACCESS": True, "VALUE": True, "RANGE": True, "DESCRIPTION": True, "TYPE": True,
              "LISTEN": True, "PATH_CHANGED": False}


def _node(param: Param, value) -> dict:
    node = {"FULL_PATH": param.address, "TYPE": _TYPES[param.kind], "DESCRIPTION": param.doc,
            "ACCESS": 2 if param.kind == "trigger" else 1 if "status" in param.tags else 3}
    if param.kind != "trigger":
        node["VALUE"] = [value]
    if param.kind in ("float", "int"):
        node["RANGE"] = [{"MIN": param.range[0], "MAX": param.range[1]}]
    elif param.kind == "enum":
        node["RANGE"] = [{"VALS": list(param.range)}]
    return node


def namespace(params: ParamTree, description: str = "instrument") -> dict:
    """The OSCQuery tree: containers for each path segment, a leaf per parameter."""
    root = {"FULL_PATH": "/", "ACCESS": 0, "DESCRIPTION": description, "CONTENTS": {}}
    snap = params.snapshot()
    for param in params.params.values():
        parts = param.address.strip("/").split("/")
        node = root
        for depth, part in enumerate(parts[:-1]):
            path = "/" + "/".join(parts[: depth + 1])
            node = node["CONTENTS"].setdefault(part, {"FULL_PATH": path, "ACCESS": 0, "CONTENTS": {}})
        node["CONTENTS"][parts[-1]] = _node(param, snap[param.address])
    return root


ANY = ("0.0.0.0", "")


def find(tree: dict, path: str) -> dict | None:
    node = tree
    for part in filter(None, path.split("/")):
        node = node.get("CONTENTS", {}).get(part)
        if node is None:
            return None
    return node


READ_TIMEOUT = 5.0   # s a client may take to send its whole request (not each read: a byte every 3 s held a slot for ever)
MAX_CLIENTS = 32     # connections served at once; more are closed at once
MAX_PER_HOST = 8     # of them, from one host (16 idle WebSockets and 17 slow requests shut everyone out)


class _Server(ThreadingHTTPServer):
    """The standard threading server, with a cap on connections, the allow-list, and quiet about
    clients that hang up (a browser closing a tab is not a traceback)."""

    daemon_threads = True

    def __init__(self, address, handler, allowed, refused):
        super().__init__(address, handler)
        self.allowed, self.refused = allowed, refused
        self.slots = threading.BoundedSemaphore(MAX_CLIENTS)
        self.per_host: dict[str, int] = {}
        self.hosts_lock = threading.Lock()

    def verify_request(self, request, client_address) -> bool:
        ip = client_address[0]
        if not self.allowed(ip):
            self.refused.log(f"OSCQuery: {ip} is not in --osc-allow")
            return False
        with self.hosts_lock:
            if self.per_host.get(ip, 0) >= MAX_PER_HOST:
                self.refused.log(f"OSCQuery: {ip} holds {MAX_PER_HOST} connections already; refused")
                return False
            if not self.slots.acquire(blocking=False):
                self.refused.log(f"OSCQuery: {MAX_CLIENTS} clients are connected already; {ip} refused")
                return False
            self.per_host[ip] = self.per_host.get(ip, 0) + 1
        return True

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.hosts_lock:
                self.per_host[client_address[0]] -= 1
                if not self.per_host[client_address[0]]:
                    del self.per_host[client_address[0]]
            self.slots.release()

    def handle_error(self, request, client_address) -> None:
        log.debug("OSCQuery client %s went away mid-request", client_address[0])


def _close_zeroconf(zc) -> None:
    try:
        zc.unregister_all_services()
    finally:
        zc.close()


class OscQueryServer:
    """HTTP on one address (loopback by default) answering OSCQuery requests."""

    def __init__(self, params: ParamTree, osc_port: int, host: str = "127.0.0.1", port: int = 0,
                 name: str = "instrument", allow: list[str] | None = None):
        self.params, self.osc_port, self.name = params, osc_port, name
        self.allow = [ipaddress.ip_network(a, strict=False) for a in (allow or [])]
        handler = self._handler_class()
        self.httpd = _Server((host, port), handler, self.allowed, RateLimitedLog(log, "OSCQuery refusals"))
        self.address = self.httpd.server_address
        # a short poll interval so that stop() (which waits for the next poll) ends a piece promptly
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="oscquery", daemon=True)
        self._zeroconf = None
        self._zeroconf_lock = threading.Lock()
        self._stopped = False
        self._listeners: set[Listener] = set()
        self._listeners_lock = threading.Lock()
        params.add_listener(self._changed)

    def _changed(self, address: str, value, source: str) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener.changed(address, value)

    def serve_listener(self, sock) -> None:
        """A WebSocket client, on its connection's thread, until it goes."""
        listener = Listener(sock, self.params)
        with self._listeners_lock:
            self._listeners.add(listener)
        try:
            listener.serve()
        finally:
            with self._listeners_lock:
                self._listeners.discard(listener)

    def allowed(self, ip: str) -> bool:
        """The OSC server's rule: this machine, or a network named with --osc-allow."""
        addr = ipaddress.ip_address(ip)
        return addr.is_loopback or any(addr in net for net in self.allow)

    def host_info(self, reached_at: str | None = None) -> dict:
        """OSC_IP is where this client can send OSC: listening on every interface, the address
        it reached us at (0.0.0.0 would point a phone at itself)."""
        ip = self.address[0]
        if ip in ANY:
            ip = reached_at or interface_addresses()[0]
        return {"NAME": self.name, "OSC_PORT": self.osc_port, "OSC_TRANSPORT": "UDP",
                "OSC_IP": ip, "EXTENSIONS": EXTENSIONS}

    def answer(self, target: str, reached_at: str | None = None) -> tuple[int, dict]:
        """(HTTP status, JSON) for a request target such as '/mix/bible?VALUE'."""
        parts = urlsplit(target)
        if parts.query == "HOST_INFO":
            return 200, self.host_info(reached_at)
        node = find(namespace(self.params), parts.path)
        if node is None:
            return 404, {"error": f"no node at {parts.path}"}
        if parts.query:
            if parts.query not in node:
                return 204, {}
            return 200, {parts.query: node[parts.query]}
        return 200, node

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            timeout = READ_TIMEOUT  # a client that connects and says nothing is let go

            def setup(self):
                super().setup()
                self.deadline = threading.Timer(READ_TIMEOUT, self.too_slow)  # the whole request, not a read
                self.deadline.daemon = True
                self.deadline.start()

            def too_slow(self):
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)  # its read ends; the slot is freed
                except OSError:
                    pass

            def finish(self):
                self.deadline.cancel()
                super().finish()

            def do_GET(self):  # noqa: N802 (the http.server name)
                self.deadline.cancel()  # the request is in
                if wants_upgrade(self):
                    if len(server._listeners) >= MAX_LISTENERS:
                        self.send_error(503, f"OSCQuery LISTEN: {MAX_LISTENERS} clients listen already")
                    elif handshake(self):
                        server.serve_listener(self.connection)
                    self.close_connection = True
                    return
                status, body = server.answer(self.path, self.connection.getsockname()[0])
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if status != 204:
                    self.wfile.write(data)

            def log_message(self, format, *args):  # quiet: a browser polling is not news
                log.debug(format, *args)

        return Handler

    def start(self, advertise: bool = True) -> "OscQueryServer":
        self._thread.start()
        if advertise:
            threading.Thread(target=self._advertise, name="zeroconf", daemon=True).start()
        return self

    def _advertise(self) -> None:
        """Announce _oscjson._tcp and _osc._udp (in the background: announcing takes seconds)."""
        try:
            from zeroconf import InterfaceChoice, ServiceInfo, Zeroconf
        except ImportError:
            from ..base.extras import missing

            log.warning("%s: OSCQuery is served but not advertised", missing("zeroconf"))
            return
        host, zc, ok = self.address[0], None, False
        try:
            # every interface on 0.0.0.0 (zeroconf refuses None, which once silently meant no advertisement)
            zc = Zeroconf(interfaces=[host] if host not in ANY else InterfaceChoice.All)
            addresses = [socket.inet_aton(ip) for ip in self.advertised_addresses()]
            for kind, port in (("_oscjson._tcp.local.", self.address[1]), ("_osc._udp.local.", self.osc_port)):
                zc.register_service(ServiceInfo(kind, f"{self.name}.{kind}", addresses=addresses, port=port,
                                                server=f"{self.name}.local."))
            ok = True
        except Exception as e:  # no multicast here, a name clash...: discovery is a nicety
            log.warning("zeroconf advertisement failed (%s); OSCQuery is still served on %s:%d",
                        e, *self.address)
        with self._zeroconf_lock:  # a stop() during the seconds of announcing must not leave it running
            keep = ok and not self._stopped
            if keep:
                self._zeroconf = zc
        if not keep and zc is not None:
            _close_zeroconf(zc)

    def advertised_addresses(self) -> list[str]:
        """The addresses zeroconf announces: the one we listen on, or every interface's."""
        return interface_addresses() if self.address[0] in ANY else [self.address[0]]

    def stop(self) -> None:
        with self._listeners_lock:
            for listener in self._listeners:
                listener.close()
        with self._zeroconf_lock:
            self._stopped, zc, self._zeroconf = True, self._zeroconf, None
        if zc is not None:
            _close_zeroconf(zc)
        self.httpd.shutdown()
        self.httpd.server_close()
