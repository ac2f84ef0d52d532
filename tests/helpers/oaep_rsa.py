#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# RSA-OAEP-256 + A256GCM JWE with python3-cryptography, the cross-check test_jwe runs when
# libjose lacks RSA-OAEP-256 (jose <= 12 against OpenSSL 3, latchset/jose#145).
#   oaep_rsa.py dec KEY.jwk JWE.json OUT   decrypt a JWE of ours (checks the header)
#   oaep_rsa.py enc KEY.jwk IN JWE.json    encrypt for us
# Exits 77 when python3-cryptography is not installed.
import base64, json, os, sys
try:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
except ImportError:
    sys.exit(77)
def b64d(s): return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))
def b64e(b): return base64.urlsafe_b64encode(b).rstrip(b'=').decode()
def num(s): return int.from_bytes(b64d(s), 'big')
mode, keyf, src, dst = sys.argv[1:5]
k = json.load(open(keyf))
pub = rsa.RSAPublicNumbers(num(k['e']), num(k['n']))
priv = rsa.RSAPrivateNumbers(num(k['p']), num(k['q']), num(k['d']), num(k['dp']),
                             num(k['dq']), num(k['qi']), pub).private_key()
oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
                    label=None)
if mode == 'dec':
    j = json.load(open(src))
    assert json.loads(b64d(j['protected'])) == {'alg': 'RSA-OAEP-256', 'enc': 'A256GCM'}
    cek = priv.decrypt(b64d(j['encrypted_key']), oaep)
    pt = AESGCM(cek).decrypt(b64d(j['iv']), b64d(j['ciphertext']) + b64d(j['tag']),
                             j['protected'].encode())
    open(dst, 'wb').write(pt)
else:
    pt = open(src, 'rb').read()
    hdr = json.dumps({'alg': 'RSA-OAEP-256', 'enc': 'A256GCM'}, separators=(',', ':'))
    prot = b64e(hdr.encode())
    cek, iv = os.urandom(32), os.urandom(12)
    ct = AESGCM(cek).encrypt(iv, pt, prot.encode())
    json.dump({'protected': prot, 'encrypted_key': b64e(pub.public_key().encrypt(cek, oaep)),
               'iv': b64e(iv), 'ciphertext': b64e(ct[:-16]), 'tag': b64e(ct[-16:])},
              open(dst, 'w'))
