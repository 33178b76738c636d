#!/usr/bin/env python3
"""Write the fuzz targets' seed inputs (fuzz/corpus/<target>/seed-*) and the spec
dictionary (fuzz/dict/spec_check.dict), from gonogo's sources and hand-made server
answers. Run from the repository root: python3 fuzz/seeds/make_seeds.py

The committed corpora are these seeds plus what the fuzzer found, minimised with
`cargo fuzz cmin` (see bench/fuzz.md)."""

import pathlib
import re
import struct

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "fuzz" / "corpus"
SRC = ROOT / "crates" / "gonogo" / "src"


def write(target, name, data):
    out = CORPUS / target
    out.mkdir(parents=True, exist_ok=True)
    (out / f"seed-{name}").write_bytes(data)


def segments(*parts):
    """The scripted server's format: each segment is a length byte and its bytes."""
    out = b""
    for part in parts:
        while len(part) > 255:
            out += bytes([255]) + part[:255]
            part = part[255:]
        out += bytes([len(part)]) + part
    return out


# --- spec_check -----------------------------------------------------------------


def spec_seeds():
    for path in sorted((ROOT / "examples").glob("*.toml")):
        write("spec_check", f"example-{path.stem}", path.read_bytes())
    fixtures = (SRC / "plan" / "test_spec.rs").read_text()
    consts = dict(re.findall(r'const (\w+): &str = r#"(.*?)"#;', fixtures, re.S))
    service, workload, criterion = (
        consts["TESTBED_SERVICE"],
        consts["GET_WORKLOAD"],
        consts["BASELINE_P99_CRITERION"],
    )
    steady = '\n[[phase]]\nname = "baseline"\nkind = "steady"\nrate = 100\nduration = "10s"\n'
    write("spec_check", "fixture-testbed-get", (service + workload + steady + criterion).encode())
    write("spec_check", "fixture-no-phase", (service + workload).encode())
    # Every raw TOML string of the plan's tests that holds a whole spec, and every
    # plain string that holds a line of TOML, appended to the full spec of the tests.
    full = None
    n = 0
    for path in sorted((SRC / "plan").glob("*tests.rs")):
        source = path.read_text()
        for text in re.findall(r'r#"(.*?)"#', source, re.S):
            if "[service]" in text and "=" in text:
                full = full or text
                write("spec_check", f"{path.stem}-{n:03}", text.encode())
                n += 1
        for literal in re.findall(r'(?<![#\w])"((?:[^"\\]|\\.)*)"', source):
            if "=" not in literal or "\\n" not in literal or "{" in literal.replace("{port}", ""):
                continue
            text = literal.encode().decode("unicode_escape")
            write("spec_check", f"{path.stem}-{n:03}", ((full or "") + "\n" + text + "\n").encode())
            n += 1


def spec_dictionary():
    words = set()
    raw = (SRC / "spec" / "raw.rs").read_text()
    words.update(re.findall(r"pub (\w+): ", raw))
    for table in ["service", "settings", "limits"]:
        words.add(f"[{table}]")
    for table in ["workload", "phase", "criterion", "fault"]:
        words.add(f"[[{table}]]")
    metrics = (SRC / "model" / "metric" / "tests.rs").read_text()
    words.update(re.findall(r'\("[A-Za-z0-9]+", "([a-z0-9_.]+)"\)', metrics))
    plan = "\n".join(p.read_text() for p in (SRC / "plan").rglob("*.rs") if "test" not in p.name)
    words.update(re.findall(r'"([a-z_]{2,20})" =>', plan))
    words.update(["{port}", "{key}", "{seq}", "{random}", "{value}", "{n}", "auto"])
    words.update(["<=", "<", ">=", ">", "==", "true", "false", "ms", "us", "s", "m", "h"])
    words.update(["%", "/s", "/h", "/min", "KiB", "MiB", "GiB", "1e309", "-0", "nan", "inf"])
    words.update(["http://127.0.0.1:{port}/", "127.0.0.1:{port}", "[::1]", "SIGTERM"])
    words.update(['"""', "'''", "= [", "= {", "\\u0000", "\\n", "#"])
    out = ROOT / "fuzz" / "dict"
    out.mkdir(exist_ok=True)
    lines = []
    for word in sorted(words):
        escaped = word.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'"{escaped}"')
    header = "# Spec keys and values, from crates/gonogo/src (fuzz/seeds/make_seeds.py).\n"
    (out / "spec_check.dict").write_text(header + "\n".join(lines) + "\n")


# --- resp_reply -----------------------------------------------------------------

SETUP = b"+OK\r\n+OK\r\n"  # CLIENT SETINFO LIB-NAME, LIB-VER
SCAN_DONE = b"*2\r\n$1\r\n0\r\n*2\r\n$6\r\nfuzz-1\r\n$6\r\nfuzz-2\r\n"


def resp_seeds():
    get = b"$3\r\nabc\r\n"
    ok = b"+OK\r\n"
    value = b"$3\r\nv-1\r\n"
    write("resp_reply", "all-ok", segments(SETUP, get, ok, value, SCAN_DONE))
    write("resp_reply", "setinfo-unknown", segments(
        b"-ERR unknown command 'CLIENT'\r\n-ERR unknown command 'CLIENT'\r\n",
        get, ok, value, SCAN_DONE))
    write("resp_reply", "nil-and-errors", segments(
        SETUP, b"$-1\r\n", b"-READONLY You can't write against a read only replica.\r\n",
        b"$-1\r\n", b"*2\r\n$1\r\n0\r\n*0\r\n"))
    write("resp_reply", "scan-steps", segments(
        SETUP, b":1\r\n", ok, b":42\r\n",
        b"*2\r\n$2\r\n17\r\n*1\r\n$6\r\nfuzz-3\r\n", SCAN_DONE))
    write("resp_reply", "split-replies", segments(
        SETUP, b"$10\r\n01234", b"56789\r\n", b"+O", b"K\r\n", b"$3\r", b"\nv-1\r\n",
        b"*2\r\n$1\r\n0\r", b"\n*0\r\n"))
    resp3 = [
        b"%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n", b"~2\r\n+x\r\n+y\r\n", b",3.25\r\n", b",inf\r\n",
        b"(3492890328409238509324850943850943825024385\r\n", b"#t\r\n", b"_\r\n",
        b"=15\r\ntxt:Some string\r\n", b"!21\r\nSYNTAX invalid syntax\r\n",
        b"|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.1923\r\n:42\r\n",
        b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
        b"*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n-ERR inner\r\n", b"*-1\r\n", b"$0\r\n\r\n",
    ]
    for i, reply in enumerate(resp3):
        write("resp_reply", f"type-{i:02}", segments(SETUP, reply, reply, reply, reply))
    write("resp_reply", "garbage", segments(SETUP, b"?what\r\n"))
    write("resp_reply", "deep", segments(SETUP, b"*1\r\n" * 120 + b":1\r\n"))
    write("resp_reply", "eof-mid-reply", segments(SETUP, b"$100\r\nshort"))


# --- pg_backend -----------------------------------------------------------------


def msg(tag, body=b""):
    return tag + struct.pack(">i", len(body) + 4) + body


def cstr(text):
    return text.encode() + b"\0"


READY = msg(b"Z", b"I")
STARTUP = (
    msg(b"R", struct.pack(">i", 0))
    + msg(b"S", cstr("server_version") + cstr("16.2"))
    + msg(b"S", cstr("client_encoding") + cstr("UTF8"))
    + msg(b"K", struct.pack(">ii", 4242, 99))
    + READY
)
TEXT, INT4, UNKNOWN = 25, 23, 99999


def params(*oids):
    return msg(b"t", struct.pack(">h", len(oids)) + b"".join(struct.pack(">I", o) for o in oids))


def columns(*cols):
    body = struct.pack(">h", len(cols))
    for name, oid in cols:
        body += cstr(name) + struct.pack(">IhIhih", 16384, 1, oid, -1, -1, 0)
    return msg(b"T", body)


def row(*values):
    body = struct.pack(">h", len(values))
    for v in values:
        body += struct.pack(">i", -1) if v is None else struct.pack(">i", len(v)) + v
    return msg(b"D", body)


def error(severity, code, message):
    fields = b"S" + cstr(severity) + b"V" + cstr(severity) + b"C" + cstr(code)
    fields += b"M" + cstr(message) + b"P" + cstr("12") + b"F" + cstr("parse.c") + b"L" + cstr("1")
    return msg(b"E", fields + b"\0")


def prepared(oids, cols):
    return msg(b"1") + params(*oids) + (columns(*cols) if cols else msg(b"n")) + READY


def done(tag, *rows):
    return msg(b"2") + b"".join(rows) + msg(b"C", cstr(tag)) + READY


CLOSED = msg(b"3") + READY  # a dropped statement's Close


def pg_seeds():
    select = prepared([TEXT], [("v", TEXT)])
    insert = prepared([TEXT, TEXT], [])
    listing = prepared([TEXT], [("k", TEXT)])
    # Each statement replaces the connection's prepared one, which is closed.
    happy = [
        STARTUP,
        select, done("SELECT 1", row(b"abc")),
        insert, CLOSED, done("INSERT 0 1"),
        select, CLOSED, done("SELECT 1", row(b"v-1")),
        listing, CLOSED, done("SELECT 2", row(b"fuzz-1"), row(b"fuzz-2")),
    ]
    write("pg_backend", "all-ok", segments(*happy))
    write("pg_backend", "null-read", segments(
        STARTUP, select, done("SELECT 1", row(b"abc")), insert, CLOSED, done("INSERT 0 1"),
        select, CLOSED, done("SELECT 1", row(None)), listing, CLOSED,
        done("SELECT 1", row(b"fuzz-1"))))
    write("pg_backend", "errors", segments(
        STARTUP, error("ERROR", "42P01", 'relation "kv" does not exist') + READY,
        insert, error("ERROR", "23505", "duplicate key value") + READY,
        select, done("SELECT 0"),
        error("FATAL", "57P01", "terminating connection due to administrator command")))
    write("pg_backend", "notice-and-async", segments(
        STARTUP, msg(b"N", b"SNOTICE\0C00000\0Mhello\0\0") + select,
        msg(b"A", struct.pack(">i", 7) + cstr("chan") + cstr("payload"))
        + done("SELECT 1", row(b"abc")),
        msg(b"S", cstr("TimeZone") + cstr("UTC")) + insert, done("INSERT 0 1")))
    write("pg_backend", "auth-md5", segments(msg(b"R", struct.pack(">i", 5) + b"salt")))
    write("pg_backend", "auth-sasl", segments(
        msg(b"R", struct.pack(">i", 10) + cstr("SCRAM-SHA-256") + b"\0")))
    write("pg_backend", "auth-cleartext", segments(msg(b"R", struct.pack(">i", 3))))
    write("pg_backend", "startup-error", segments(
        error("FATAL", "28000", 'role "fuzz" does not exist')))
    write("pg_backend", "unknown-type", segments(
        STARTUP, prepared([UNKNOWN], [("v", TEXT)]),
        done("SELECT 1", row(b"k", b"v")), prepared([TEXT], [("v", UNKNOWN)])))
    write("pg_backend", "wide-row", segments(
        STARTUP, prepared([TEXT], [("a", INT4), ("b", TEXT)]),
        done("SELECT 1", row(b"\0\0\0\1", b"x" * 300))))
    write("pg_backend", "row-count-mismatch", segments(
        STARTUP, select, done("SELECT 1", row(b"a", b"b")), insert, done("INSERT 0 1"),
        select, done("SELECT 1", row())))
    write("pg_backend", "copy", segments(
        STARTUP, msg(b"G", b"\0" + struct.pack(">hh", 1, 0)) + msg(b"H", b"\1" + struct.pack(">hh", 1, 1))
        + msg(b"d", b"data") + msg(b"c") + READY))


# --- http_response --------------------------------------------------------------

NGINX = (
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nDate: Fri, 04 Dec 2026 05:40:03 GMT\r\n"
    b"Content-Type: text/html\r\nContent-Length: 12\r\nLast-Modified: Tue, 01 Dec 2026 10:00:00 GMT\r\n"
    b"Connection: keep-alive\r\nETag: \"6565-c\"\r\nAccept-Ranges: bytes\r\n\r\nhello world\n"
)
CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
    b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n"
)


def http_seeds():
    # flags: bit 0 HEAD, bit 1 keep the body, bits 2-4 read size index.
    def flags(head=False, keep=False, size=7):
        return bytes([int(head) | int(keep) << 1 | size << 2])

    write("http_response", "nginx", flags() + NGINX)
    write("http_response", "nginx-keep-1byte", flags(keep=True, size=0) + NGINX)
    write("http_response", "chunked", flags(keep=True, size=3) + CHUNKED)
    write("http_response", "interim-100", flags(size=4) + b"HTTP/1.1 100 Continue\r\n\r\n" + NGINX)
    write("http_response", "early-hints", flags(keep=True) + b"HTTP/1.1 103 Early Hints\r\n"
          b"Link: </style.css>; rel=preload\r\n\r\n" + CHUNKED)
    write("http_response", "head", flags(head=True) + NGINX)
    write("http_response", "no-content", flags() + b"HTTP/1.1 204 No Content\r\n\r\n"
          b"HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n" + NGINX)
    write("http_response", "until-close", flags(keep=True, size=5)
          + b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + b"body " * 100)
    write("http_response", "close", flags() + b"HTTP/1.1 503 Service Unavailable\r\n"
          b"Connection: close\r\nContent-Length: 5\r\n\r\nbusy.")
    write("http_response", "pipelined", flags(size=6) + NGINX + CHUNKED + NGINX)
    write("http_response", "switching", flags() + b"HTTP/1.1 101 Switching Protocols\r\n"
          b"Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
    write("http_response", "te-gzip-chunked", flags() + b"HTTP/1.1 200 OK\r\n"
          b"Transfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
    write("http_response", "te-gzip", flags(keep=True) + b"HTTP/1.1 200 OK\r\n"
          b"Transfer-Encoding: gzip\r\n\r\nrest")
    write("http_response", "conflicting-length", flags() + b"HTTP/1.1 200 OK\r\n"
          b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd")
    write("http_response", "bad-length", flags() + b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n")
    write("http_response", "big-chunk", flags(size=6) + b"HTTP/1.1 200 OK\r\n"
          b"Transfer-Encoding: chunked\r\n\r\n1000\r\n" + b"z" * 4096 + b"\r\n0\r\n\r\n")
    header = b"X-Big: " + b"v" * 8000 + b"\r\n"
    write("http_response", "huge-headers", flags(size=6) + b"HTTP/1.1 200 OK\r\n"
          + header + header + b"Content-Length: 0\r\n\r\n")
    many = b"".join(b"X-H%d: %d\r\n" % (i, i) for i in range(63))
    write("http_response", "64-headers", flags() + b"HTTP/1.1 200 OK\r\n" + many
          + b"Content-Length: 0\r\n\r\n")
    write("http_response", "65-headers", flags() + b"HTTP/1.1 200 OK\r\n" + many
          + b"X-One: more\r\nContent-Length: 0\r\n\r\n")
    write("http_response", "truncated", flags(size=1) + b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
    write("http_response", "garbage", flags() + b"SSH-2.0-OpenSSH_9.6\r\n")


if __name__ == "__main__":
    spec_seeds()
    spec_dictionary()
    resp_seeds()
    pg_seeds()
    http_seeds()
