#!/usr/bin/env bash
# What an edit costs on a running server: the demo at SCALE (default 50: 112,600
# organizations), `covermap serve` with its coverage and tiles warm. Measures, over HTTP on
# loopback:
#  - EDITS (default 100) instructor edits (take away / give back), each followed by the
#    coverage of the grid level and the street level, as the page asks after an edit:
#    p50 / p95 / max of the edit, and of the coverage request after it (the recount);
#  - the community coverage read right after an edit against the same read with nothing
#    changed, EDITS times each, alternating: p50 of each and their ratio (the peer is the read
#    itself: an edit should cost what it touches, not a recount of the city);
#  - a plan of the grid level, then accepting up to 1,000 of its proposals in one request.
# Prints the figures; the "first coverage" still locates every organization.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
scale=${SCALE:-50}
build/covermap demo --out "$work/demo.gpkg" --scale "$scale" --force >/dev/null
build/covermap serve --db "$work/demo.gpkg" --port 18411 --rate-per-client 0 --no-access-log >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 300); do grep -q serving "$work/out" && break; sleep 0.1; done
token=$(grep -m1 '^cm_' "$work/out")
/usr/bin/python3 - "$token" "$scale" "${EDITS:-100}" <<'PY'
import http.client, json, random, sys, time
token, scale, edits = sys.argv[1], sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", 18411, timeout=600)
H = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
def call(method, path, body=None, extra=None):
    t = time.perf_counter()
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers={**H, **(extra or {})})
    r = conn.getresponse(); data = r.read()
    return r.status, data, r.getheader("ETag"), time.perf_counter() - t
_, _, _, first = call("GET", "/api/coverage?level=grid")
call("GET", "/api/coverage?level=street")
orgs = json.loads(call("GET", "/api/orgs?covered=true&limit=500")[1])
pairs = []
for o in orgs["items"]:
    if o["state"] == "instructor" and len(pairs) < 200:
        pairs.append((o["id"], json.loads(call("GET", "/api/orgs/" + o["id"])[1])["instructor_id"]))
random.seed(1)
def toggle():
    """Takes an organization's instructor away, or gives it back: the edit's time."""
    org, ins = random.choice(pairs)
    s, data, etag, _ = call("GET", "/api/orgs/" + org)
    if json.loads(data)["instructor_id"]:
        s, _, _, t = call("DELETE", "/api/orgs/%s/instructor" % org, extra={"If-Match": etag})
    else:
        s, _, _, t = call("PUT", "/api/orgs/%s/instructor" % org, {"instructor_id": ins}, {"If-Match": etag})
    assert s == 200, s
    return t
edit_t, cov_t = [], []
for i in range(edits):
    edit_t.append(toggle())
    cov_t.append(call("GET", "/api/coverage?level=grid")[3] + call("GET", "/api/coverage?level=street")[3])
q = lambda v, p: sorted(v)[min(len(v) - 1, int(p * len(v)))] * 1000
print(f"demo scale {scale}; first coverage of the grid level (locates every organization): {first * 1000:.0f} ms")
print(f"{edits} instructor edits: edit p50 {q(edit_t, .5):.1f} ms, p95 {q(edit_t, .95):.1f} ms, max {max(edit_t) * 1000:.1f} ms")
print(f"  grid + street coverage after each: p50 {q(cov_t, .5):.1f} ms, p95 {q(cov_t, .95):.1f} ms, max {max(cov_t) * 1000:.1f} ms")
# The community level's read after an edit, against the same read with nothing changed.
call("GET", "/api/coverage?level=community")
same_t, after_t = [], []
for i in range(edits):
    same_t.append(call("GET", "/api/coverage?level=community")[3])
    toggle()
    after_t.append(call("GET", "/api/coverage?level=community")[3])
print(f"community coverage: unchanged p50 {q(same_t, .5):.2f} ms, right after an edit p50 {q(after_t, .5):.2f} ms "
      f"(p95 {q(same_t, .95):.2f} / {q(after_t, .95):.2f} ms): ratio {q(after_t, .5) / q(same_t, .5):.2f}")
s, data, _, t = call("POST", "/api/plan", {"level": "grid"})
plan = json.loads(data)
ids = [p["id"] for p in plan["proposals"]][:1000]
s, data, _, t = call("POST", "/api/plan/%s/accept" % plan["id"], {"proposals": ids})
res = json.loads(data)
print(f"plan: {len(plan['proposals'])} proposals; accepting {len(ids)} in one request: {t:.2f} s (status {s}, "
      f"applied {len(res.get('applied', []))}, conflicts {len(res.get('conflicts', []))})")
PY
