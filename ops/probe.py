"""The web container's health probe: `python -m ops.probe` exits 0 when /healthz answers 200.

It imports nothing from Django, so a probe costs milliseconds, and it sends as Host the first
entry of ALLOWED_HOSTS, which the server accepts. /healthz is exempt from the HTTPS redirect, so
plain HTTP on the container's own port is enough.
"""
import argparse
import http.client
import os
import sys


def host_header(allowed_hosts):
    """The first usable name of an ALLOWED_HOSTS value ("*" and ".example.org" patterns included)."""
    for entry in allowed_hosts.split(","):
        entry = entry.strip()
        if entry and entry != "*":
            return entry.lstrip(".")
    return "localhost"


def probe(host, port, timeout, allowed_hosts):
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/healthz", headers={"Host": host_header(allowed_hosts)})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description="Ask the local web server's /healthz.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    try:
        status, body = probe(args.host, args.port, args.timeout, os.environ.get("ALLOWED_HOSTS", ""))
    except OSError as exc:
        print(f"healthz: {exc}", file=sys.stderr)
        return 1
    print(f"healthz: {status} {body}")
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
