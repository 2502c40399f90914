#!/usr/bin/env python3
"""Print `reg add` arguments that put PEM roots into a Wine prefix's machine
Root store, the way CryptoAPI keeps a registry store: one key per
certificate, named by its SHA-1 thumbprint, whose `Blob` value is the
serialized element (property CERT_CERT_PROP_ID = 0x20: the DER certificate).

  wine_root.py ROOTS.pem    ->  lines "KEY<TAB>HEX" (one per certificate)

For `scripts/windows.sh test` only: the test PKI's roots become roots of
the Wine prefix, so the OS chain engine can judge the stand-in's chain
as it judges Microsoft's on a real server.
"""
import base64
import hashlib
import re
import struct
import sys

STORE = r"HKLM\SOFTWARE\Microsoft\SystemCertificates\Root\Certificates"
CERT_CERT_PROP_ID = 0x20


def main():
    pem = open(sys.argv[1], encoding="ascii").read()
    for b64 in re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", pem, re.S):
        der = base64.b64decode("".join(b64.split()))
        thumb = hashlib.sha1(der).hexdigest().upper()
        blob = struct.pack("<III", CERT_CERT_PROP_ID, 1, len(der)) + der
        print(f"{STORE}\\{thumb}\t{blob.hex().upper()}")


if __name__ == "__main__":
    main()
