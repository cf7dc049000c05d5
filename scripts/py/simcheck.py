"""Shared helpers for the conformance scripts: the simulator's control port and a tiny
check recorder that prints one PASS/FAIL line per check."""
import socket
import sys


def control(port, line, timeout=5.0):
    """Sends one command to the simulator's control port and returns its answer line."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall((line + "\n").encode())
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.decode().strip()


def sent(port, client_id, req_id):
    """The last value the simulator sent per tick type: {tickType: text}."""
    answer = control(port, f"sent {client_id} {req_id}")
    if not answer.startswith("OK"):
        raise RuntimeError(f"control port: {answer}")
    values = {}
    for part in answer.split()[1:]:
        key, _, value = part.partition("=")
        values[int(key)] = value
    return values


def computation(text):
    """`iv,delta,optPrice,pvDividend,gamma,vega,theta,undPrice` -> dict of floats/None."""
    names = ["iv", "delta", "optPrice", "pvDividend", "gamma", "vega", "theta", "undPrice"]
    return {n: (None if v == "none" else float(v)) for n, v in zip(names, text.split(","))}


class Checks:
    def __init__(self, client):
        self.client = client
        self.failed = []
        self.passed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"  PASS [{self.client}] {name}")
        else:
            self.failed.append(name)
            print(f"  FAIL [{self.client}] {name}: {detail}")
        sys.stdout.flush()
        return ok

    def finish(self):
        total = self.passed + len(self.failed)
        print(f"[{self.client}] {self.passed}/{total} checks passed")
        return 1 if self.failed else 0
