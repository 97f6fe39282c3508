"""Edits beside bench/load.sh's reads: take an organization's instructor away and give it back,
with If-Match from a read just before, on one kept-alive connection, until SECONDS have passed.
Prints the edits made and every answer that was not 200."""
import http.client, json, os, random, sys, time

port, token, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
pairs = [tuple(line.split(",")) for line in sys.stdin.read().split()]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
auth = {"Authorization": "Bearer " + token}
edits, errors, latencies = 0, {}, []
end = time.time() + seconds
while time.time() < end:
    org, instructor = random.choice(pairs)
    conn.request("GET", "/api/orgs/" + org, headers=auth)
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        errors[r.status] = errors.get(r.status, 0) + 1
        continue
    o = json.loads(body)
    headers = dict(auth, **{"If-Match": str(o["version"]), "Content-Type": "application/json"})
    t0 = time.time()
    if o["instructor_id"] is None:
        conn.request("PUT", "/api/orgs/%s/instructor" % org, body=json.dumps({"instructor_id": instructor}), headers=headers)
    else:
        conn.request("DELETE", "/api/orgs/%s/instructor" % org, headers=headers)
    r = conn.getresponse()
    r.read()
    latencies.append(time.time() - t0)
    if r.status == 200:
        edits += 1
    else:
        errors[r.status] = errors.get(r.status, 0) + 1
latencies.sort()
p99 = latencies[int(len(latencies) * 0.99)] * 1000 if latencies else 0
print("edits: %d acknowledged, errors %s, edit p99 %.1f ms" % (edits, errors or "none", p99))
