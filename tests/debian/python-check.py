"""python3 in a Debian root: the standard library pieces programs use most."""
import json, sqlite3, subprocess, threading, socket, hashlib, os, tempfile, multiprocessing

data = json.loads(json.dumps({"a": [1, 2, {"b": None}], "c": "\u00e9"}))
db = sqlite3.connect(os.path.join(tempfile.mkdtemp(), "t.db"))
db.execute("create table t (x integer)")
db.executemany("insert into t values (?)", [(i,) for i in range(1000)])
db.commit()
total = db.execute("select sum(x) from t").fetchone()[0]
child = subprocess.run(["/bin/echo", "child"], capture_output=True, text=True, check=True).stdout.strip()
results = []
lock = threading.Lock()

def square(i):
    with lock:
        results.append(i * i)

threads = [threading.Thread(target=square, args=(i,)) for i in range(16)]
for t in threads:
    t.start()
for t in threads:
    t.join()
a, b = socket.socketpair()
a.sendall(b"ping")
pair = b.recv(4)
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)
client = socket.create_connection(server.getsockname())
conn, _ = server.accept()
client.sendall(b"tcp")
tcp = conn.recv(3)
digest = hashlib.sha256(b"berth").hexdigest()[:12]
with multiprocessing.Pool(2) as pool:
    squares = pool.map(abs, [-1, -2, -3])
assert data == {"a": [1, 2, {"b": None}], "c": "\u00e9"}, data
assert total == 499500, total
assert child == "child" and sorted(results) == [i * i for i in range(16)]
assert pair == b"ping" and tcp == b"tcp" and squares == [1, 2, 3]
print("python ok", digest)
