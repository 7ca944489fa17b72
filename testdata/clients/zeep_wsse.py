"""Calls HelloService.sayHello with Python's zeep and a WS-Security
UsernameToken (zeep.wsse.username.UsernameToken).

Usage: python3 zeep_wsse.py ENDPOINT NAME ID SECRET text|digest [NONCE CREATED]

NONCE and CREATED (an ISO 8601 time with a zone) fix what zeep otherwise
makes fresh, so that a test can replay a token or send an old one. Prints the
greeting and exits 0, or prints "FAULT <code>: <message>" and exits 1. Any
other error exits 2.
"""
import datetime
import sys

from zeep import Client
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken


def main():
    endpoint, name, ident, secret, mode = sys.argv[1:6]
    extra = {}
    if len(sys.argv) > 6:
        extra["nonce"] = sys.argv[6]
        extra["created"] = datetime.datetime.fromisoformat(sys.argv[7])
    token = UsernameToken(ident, secret, use_digest=(mode == "digest"), **extra)
    client = Client(endpoint + "?wsdl", wsse=token)
    try:
        greeting = client.service.sayHello(name)
    except Fault as f:
        print("FAULT %s: %s" % (f.code, f.message))
        return 1
    print(greeting)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except Exception as e:  # anything but a fault: a transport error, a bug
        print("ERROR %s: %s" % (type(e).__name__, e), file=sys.stderr)
        sys.exit(2)
