"""Calls HelloService.sayHello with Python's suds and HTTP Basic: suds's
default transport (HttpAuthenticated) hands the credentials to urllib's
HTTPBasicAuthHandler, which sends them only after a 401 offering Basic.

Usage: python3 suds_basic.py ENDPOINT NAME ID SECRET

Prints the greeting and exits 0, or prints "FAULT <message>" (a SOAP fault)
or "HTTP <status>" and exits 1. Any other error exits 2.
"""
import sys
import urllib.error

from suds import WebFault
from suds.client import Client


def main():
    endpoint, name, ident, secret = sys.argv[1:5]
    client = Client(endpoint + "?wsdl", username=ident, password=secret, cache=None)
    try:
        greeting = client.service.sayHello(name)
    except WebFault as f:
        print("FAULT %s" % f.fault.faultstring)
        return 1
    except urllib.error.HTTPError as e:
        print("HTTP %d" % e.code)
        return 1
    except Exception as e:  # suds raises other HTTP answers as Exception((status, reason))
        if not (e.args and isinstance(e.args[0], tuple) and isinstance(e.args[0][0], int)):
            raise
        print("HTTP %d" % e.args[0][0])
        return 1
    print(greeting)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except Exception as e:
        print("ERROR %s: %s" % (type(e).__name__, e), file=sys.stderr)
        sys.exit(2)
