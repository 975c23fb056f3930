"""The malformed-request table: each case is raw request bytes and the
status Spawning must answer with before closing the connection.

Used by check_cases.py (run by tests/bats/http_strict.bats) and, as a seed
corpus, by the fuzzer. README's table is generated from the same list:
`python3 tests/http/cases.py --markdown`."""

H = b"Host: x\r\n"
TE = b"Transfer-Encoding: chunked\r\n\r\n"

# (name, request bytes, expected status)
CASES = [
    # request line
    ("bad method token", b"G@T / HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("lowercase protocol name", b"GET / http/1.1\r\n" + H + b"\r\n", 400),
    ("misspelt protocol name", b"GET / HTTQ/1.1\r\n" + H + b"\r\n", 400),
    ("missing version", b"GET /\r\n" + H + b"\r\n", 400),
    ("two spaces before target", b"GET  / HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("control byte in target", b"GET /a\x01b HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("HTTP/2.0 request line", b"GET / HTTP/2.0\r\n" + H + b"\r\n", 505),
    ("HTTP/1.2", b"GET / HTTP/1.2\r\n" + H + b"\r\n", 505),
    ("HTTP/0.9 style", b"GET /\r\n\r\n", 400),
    # header fields
    ("whitespace before colon", b"GET / HTTP/1.1\r\n" + H + b"X-A : b\r\n\r\n", 400),
    ("space inside field name", b"GET / HTTP/1.1\r\n" + H + b"X A: b\r\n\r\n", 400),
    ("non-token field name", b"GET / HTTP/1.1\r\n" + H + b"X(A): b\r\n\r\n", 400),
    ("line without colon", b"GET / HTTP/1.1\r\n" + H + b"NoColon\r\n\r\n", 400),
    ("obs-fold continuation", b"GET / HTTP/1.1\r\n" + H + b"X-A: a\r\n b\r\n\r\n", 400),
    ("whitespace before first field", b"GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400),
    ("CR inside a value", b"GET / HTTP/1.1\r\n" + H + b"X-A: a\rb\r\n\r\n", 400),
    ("NUL inside a value", b"GET / HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n", 400),
    ("bare LF inside a value", b"GET / HTTP/1.1\r\n" + H + b"X-A: a\nb: c\r\n\r\n", 400),
    ("HTTP/1.1 without Host", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("two Host fields", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    # Content-Length
    ("Content-Length with Transfer-Encoding",
     b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("signed Content-Length +", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: +5\r\n\r\nhello", 400),
    ("signed Content-Length -", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: -5\r\n\r\nhello", 400),
    ("non-digit Content-Length", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5a\r\n\r\nhello", 400),
    ("hex Content-Length", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 0x5\r\n\r\nhello", 400),
    ("listed Content-Length", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5, 5\r\n\r\nhello", 400),
    ("repeated Content-Length, different",
     b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400),
    ("repeated Content-Length, same",
     b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400),
    ("overflowing Content-Length",
     b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 99999999999999999999999\r\n\r\n", 400),
    ("empty Content-Length", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: \r\n\r\n", 400),
    # Transfer-Encoding
    ("Transfer-Encoding in HTTP/1.0",
     b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("repeated chunked", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400),
    ("two chunked fields",
     b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("gzip, chunked", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
    ("chunked, identity", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400),
    ("unknown coding", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: foo\r\n\r\n", 501),
    ("identity alone", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: identity\r\n\r\n", 501),
    ("chunked, then an empty list element", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked,\r\n\r\n0\r\n\r\n", 400),
    ("empty Transfer-Encoding", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: \r\n\r\n", 400),
    # chunked body
    ("chunk size 0x prefix", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk size with sign", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk size with leading space", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk size not hex", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400),
    ("overflowing chunk size",
     b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk data without CRLF", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", 400),
    ("chunk extension without ';'", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5 junk\r\nhello\r\n0\r\n\r\n", 400),
    ("obs-fold in a trailer", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n0\r\nX: a\r\n b\r\n\r\n", 400),
    ("bare LF before the request line", b"\nGET / HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("chunk size line without LF", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5\rhello\r\n0\r\n\r\n", 400),
    # chunk-size lines: BWS only before a ';' extension (RFC 9112 7.1)
    ("whitespace after the last chunk size", b"POST / HTTP/1.1\r\n" + H + TE + b"0 \r\n\r\n", 400),
    ("whitespace after a chunk size", b"POST / HTTP/1.1\r\n" + H + TE + b"5\t\r\nhello\r\n0\r\n\r\n", 400),
    # trailer fields: checked like head fields, then dropped
    ("space inside a trailer field name", b"POST / HTTP/1.1\r\n" + H + TE + b"0\r\nX T: 1\r\n\r\n", 400),
    ("whitespace before colon in a trailer", b"POST / HTTP/1.1\r\n" + H + TE + b"0\r\nHost : y\r\n\r\n", 400),
    ("Content-Length in the trailers", b"POST / HTTP/1.1\r\n" + H + TE + b"0\r\nContent-Length: 5\r\n\r\n", 400),
    ("Transfer-Encoding in the trailers", b"POST / HTTP/1.1\r\n" + H + TE + b"0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    ("control byte first in a value", b"GET / HTTP/1.1\r\n" + H + b"X-A: \x01a\r\n\r\n", 400),
    ("field name that starts with Transfer-Encoding", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encodingx: chunked\r\n\r\n", 400),
    ("trailer line without colon", b"POST / HTTP/1.1\r\n" + H + TE + b"0\r\nNoColon\r\n\r\n", 400),
    # methods: any token is one (RFC 9110 9.1); what we do not implement is 501
    ("unknown method token", b"FOO / HTTP/1.1\r\n" + H + b"\r\n", 501),
    ("lowercase method", b"get / HTTP/1.1\r\n" + H + b"\r\n", 501),
    ("known method with a suffix", b"GETX / HTTP/1.1\r\n" + H + b"\r\n", 501),
    ("unknown method, head otherwise bad", b"FOO / HTTP/1.1\r\n\r\n", 400),
    ("CONNECT (authority-form)", b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 501),
    # request targets (RFC 9112 3.2)
    ("asterisk-form with GET", b"GET * HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("asterisk followed by more", b"OPTIONS *x HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("absolute-form, bad authority", b"PUT s://]x/: HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n\r\n", 400),
    ("absolute-form, empty host", b"GET http:///p HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("absolute-form, userinfo", b"GET http://user@example.com/ HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("absolute-form, port over 65535", b"GET http://example.com:65536/ HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("absolute-form, unclosed IPv6", b"GET http://[::1/ HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("authority-form with GET", b"GET example.com:80 HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("CONNECT without a port", b"CONNECT example.com HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("CONNECT with origin-form", b"CONNECT / HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("Host with a space", b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
    ("Host with userinfo", b"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400),
    # fields that must appear once
    ("two Content-Type fields", b"POST / HTTP/1.1\r\n" + H + b"Content-Type: a/b\r\nContent-Type: c/d\r\nContent-Length: 0\r\n\r\n", 400),
    ("two Authorization fields", b"GET / HTTP/1.1\r\n" + H + b"Authorization: Basic YTpi\r\nAuthorization: Basic Yzpk\r\n\r\n", 400),
    ("two Proxy-Authorization fields", b"GET / HTTP/1.1\r\n" + H + b"Proxy-Authorization: a\r\nProxy-Authorization: b\r\n\r\n", 400),
]

# Valid requests (one or more pipelined on a connection): the fuzzer's seeds
# and the differential check's other half, with what the app must see.
VALID = [
    b"GET /a%20b?x=1&y=%zz HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4, 5.6.7.8\r\n"
    b"X-Forwarded-Proto: https\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n",
    b"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"
    b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n",
    b"POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
    b"5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n",
    b"GET http://example.com/abs?q HTTP/1.1\r\nHost: example.com\r\n"
    b"Forwarded: for=\"[2001:db8::1]:80\";proto=https\r\n\r\n",
    b"\r\nOPTIONS * HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"POST /t HTTP/1.1\r\nHost: h\r\n" + TE + b"3 ;a=b\r\nabc\r\n0\r\nHost: evil\r\n"
    b"Content-Type: x/y\r\nX-T: 1\r\n\r\n",
    b"GET http://[::1]:8080/p?q HTTP/1.1\r\nHost: x\r\n\r\n",
    b"PROPFIND /dav HTTP/1.1\r\nHost: h\r\nDepth: 1\r\nContent-Length: 0\r\n\r\n"
    b"M-SEARCH /ssdp HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nContent-Type: a\r\nAuthorization: b\r\nAccept: x\r\nAccept: y\r\n\r\n",
    b"GET / HTTP/1.0\r\n\r\n",
    b"GET /x HTTP/1.1\r\nHost: [2001:db8::7]:443\r\nX-Empty:\r\nX-Ws: \t a b \t\r\n\r\n",
]



def markdown():
    lines = ["| malformed request | answer |", "|---|---|"]
    for name, _, status in CASES:
        lines.append("| %s | %d |" % (name, status))
    return "\n".join(lines)


def records():
    """Every case, then every valid request, as `STATUS LENGTH\\n` and the
    bytes (status 0: valid), for the C differential test."""
    out = []
    for _, data, status in CASES:
        out.append(b"%d %d\n" % (status, len(data)) + data)
    for data in VALID:
        out.append(b"0 %d\n" % len(data) + data)
    return b"".join(out)


if __name__ == "__main__":
    import sys
    if "--markdown" in sys.argv:
        print(markdown())
    elif "--records" in sys.argv:
        sys.stdout.buffer.write(records())
