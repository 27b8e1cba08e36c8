"""Kubelet exec probe: GET a path from the service's health server on 127.0.0.1; exits 0 only on HTTP 200.

Usage: python -I -S probe.py /readyz 8101. The services' health server listens on the loopback address only,
which a kubelet httpGet probe (sent to the pod IP) cannot reach; this runs inside the container instead. It
uses the standard library only and skips site-packages (-S), so a probe costs a few milliseconds.
"""

import socket
import sys

path, port = sys.argv[1], int(sys.argv[2])
try:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
        conn.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
        status_line = conn.recv(64).split(b"\r\n", 1)[0]
except OSError as exc:
    sys.exit(f"{path}: {exc}")   # the message lands in the pod's events
parts = status_line.split(b" ")
sys.exit(0 if len(parts) > 1 and parts[1] == b"200" else f"{path}: {status_line.decode(errors='replace')}")
