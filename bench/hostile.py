"""The figures of issue #25's hostile rows against a running server (see bench/hostile.sh)."""
import http.client
import json
import socket
import statistics
import sys
import threading
import time

port, pid, admin, viewer, rows = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])


def rss_mb():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def call(method, path, token=admin, body=None, headers=None, source=None, timeout=600):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    h = {"Authorization": "Bearer " + token} if token else {}
    h.update(headers or {})
    t = time.perf_counter()
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data, time.perf_counter() - t


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] * 1000


org = json.loads(call("GET", "/api/orgs?limit=1")[1])["items"][0]["id"]
version = [json.loads(call("GET", "/api/orgs/" + org)[1])["version"]]


def edit():
    status, data, took = call("PATCH", "/api/orgs/" + org, body=json.dumps({"phone": f"0410-{version[0] % 10000}"}),
                              headers={"Content-Type": "application/json", "If-Match": str(version[0])})
    if status == 200:
        version[0] = json.loads(data)["version"]
    return took


alone = [edit() for _ in range(40)]
print(f"edits alone: p50 {pct(alone, 50):.1f} ms, p95 {pct(alone, 95):.1f} ms, max {max(alone) * 1000:.1f} ms")

# Row 1: trickled bodies from nine addresses.
rss0 = rss_mb()


def trickler(address):
    """A connection from address that announces a 1 MB sign-in body and sends its first byte."""
    s = socket.socket()
    s.bind((address, 0))
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(f"POST /api/session HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {viewer}\r\n"
                  "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{".encode())
        return s
    except OSError:
        s.close()
        return None


socks = [(f"127.0.0.{a}", trickler(f"127.0.0.{a}")) for a in range(2, 11) for _ in range(64)]
socks = [(a, s) for a, s in socks if s]
stop = threading.Event()


def trickle():
    while not stop.is_set():
        for entry in list(socks):
            address, s = entry
            try:
                s.send(b" ")
            except OSError:
                socks.remove(entry)
                s.close()
                # The attacker reconnects at once from the same address.
                if n := trickler(address):
                    socks.append((address, n))
        stop.wait(1.0)


t = threading.Thread(target=trickle)
t.start()
time.sleep(8)
health = 0
for _ in range(5):
    try:
        health += call("GET", "/health", token=None, source="127.0.0.11", timeout=5)[0] == 200
    except OSError:
        pass
rss1 = rss_mb()
stop.set()
t.join()
for _, s in socks:
    s.close()
print(f"row 1: /health from a tenth address {health}/5 (wanted 5/5) while 9 addresses trickle 576 bodies; "
      f"RSS {rss1 - rss0:+.0f} MB (wanted <= 100; {rss0:.0f} MB before)")

# Row 5: edits during a dry run of ROWS rows.
csv = ["id,name,kind,employees,party_members,status,lon,lat"]
for i in range(rows):
    csv.append(f"{700000 + i},测试企业{i},enterprise,{i % 90},0,operating,{123.80 + (i % 997) * 1e-4:.5f},"
               f"{42.25 + (i % 991) * 1e-4:.5f}")
body = ("\n".join(csv) + "\n").encode()
result = {}


def dry_run():
    result["status"], _, result["took"] = call("POST", "/api/import/orgs?format=csv&dry_run=true", body=body,
                                               headers={"Content-Type": "text/csv"})


t = threading.Thread(target=dry_run)
t.start()
during = []
while t.is_alive():
    during.append(edit())
    time.sleep(0.05)
t.join()
print(f"row 5: edits during a {rows:,}-row dry run ({len(body) / 1e6:.0f} MB, {result['took']:.1f} s, "
      f"status {result['status']}): max {max(during) * 1000:.0f} ms, p95 {pct(during, 95):.0f} ms over {len(during)} "
      f"(wanted max <= 500 ms; alone max {max(alone) * 1000:.1f} ms)")

# Row 6: edits beside four export loops.
stop.clear()


def export_loop():
    while not stop.is_set():
        call("GET", "/api/export/orgs?format=csv", token=viewer)


loops = [threading.Thread(target=export_loop) for _ in range(4)]
for x in loops:
    x.start()
time.sleep(0.5)
beside = []
for _ in range(60):
    beside.append(edit())
    time.sleep(0.05)
stop.set()
for x in loops:
    x.join()
print(f"row 6: edit p95 beside four CSV export loops {pct(beside, 95):.0f} ms, p50 {pct(beside, 50):.0f} ms "
      f"(wanted p95 <= 250 ms; alone p95 {pct(alone, 95):.1f} ms)")

# Row 12: 200 slow readers of the chart library.
index = call("GET", "/", token=None)[1].decode()
import re

lib = re.search(r'/web/vendor/echarts-[^"\']+\.mjs', index)
path = lib.group(0) if lib else "/web/vendor/echarts-6.1.0/echarts.esm.min.mjs"
rss0 = rss_mb()
readers = []
for i in range(200):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.bind((f"127.0.1.{i % 50 + 1}", 0))
    s.connect(("127.0.0.1", port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    readers.append(s)
time.sleep(3)
rss1 = rss_mb()
for s in readers:
    s.close()
print(f"row 12: 200 slow readers of {path}: RSS {rss1 - rss0:+.0f} MB (wanted <= 100; {rss0:.0f} MB before)")
print(f"after all: /health {call('GET', '/health', token=None)[0]}")
