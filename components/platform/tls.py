"""The stack's own certificate authority, derived from a generated seed with `cryptography`.

One `random.RandomBytes` seed (secret in the state) is the whole CA: every key is a P-256 key
derived from it by HKDF with a label of its own, and every certificate is signed with
deterministic ECDSA (RFC 6979) over fixed fields (serial from the key, fixed validity). The same
seed therefore renders the same PEM text on every preview, as the VMs' SSH host keys do, and
nothing churns. No provider plugin is involved (pulumi-tls would add one, with its schema and
its own renewal clock); the price is that certificates never renew by themselves: replacing the
seed (`pulumi up --replace <its URN>`) re-issues the CA and every certificate from it.

The CA certificate is public (a stack output); server keys reach only the container that serves
with them, as secret uploads.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import pulumi
import pulumi_random as random
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = "Lakehouse stack CA"
# Fixed validity: the certificates must not depend on the time of rendering. RFC 5280 4.1.2.5
# names 99991231235959Z for "no well-defined expiration"; rotation is a new seed.
NOT_BEFORE = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
NOT_AFTER = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc)
_CURVE = ec.SECP256R1()
_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # of P-256


def derive_key(seed: bytes, label: str) -> ec.EllipticCurvePrivateKey:
    """The P-256 key of `label` under `seed`: the same pair always gives the same key."""
    if len(seed) < 32:
        raise ValueError(f"a CA seed has at least 32 bytes, not {len(seed)}")
    okm = HKDF(algorithm=hashes.SHA256(), length=48, salt=b"lakehouse-tls", info=label.encode()).derive(seed)
    return ec.derive_private_key(int.from_bytes(okm, "big") % (_ORDER - 1) + 1, _CURVE)


def _serial(key: ec.EllipticCurvePrivateKey) -> int:
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return int.from_bytes(hashlib.sha256(public).digest()[:19], "big") | 1  # positive, at most 152 bits


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _ca(seed: bytes) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = derive_key(seed, "ca")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(_serial(key)).not_valid_before(NOT_BEFORE).not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256(), ecdsa_deterministic=True)
    )
    return key, certificate


def ca_certificate_pem(seed: bytes) -> str:
    return _pem(_ca(seed)[1])


def subject_alternative_names(names: Sequence[str]) -> list[x509.GeneralName]:
    """IP addresses as IP entries (clients compare them so), everything else as DNS names."""
    entries: list[x509.GeneralName] = []
    for name in dict.fromkeys(names):
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return entries


@dataclass(frozen=True)
class ServerTls:
    """A server's key (unencrypted PKCS#8), its certificate, and the CA certificate."""

    key_pem: str
    certificate_pem: str
    ca_pem: str

    @property
    def keystore_pem(self) -> str:
        """Key, certificate and chain in one file: what Trino's `http-server.https.keystore.path` reads."""
        return self.key_pem + self.certificate_pem + self.ca_pem


@lru_cache(maxsize=64)
def server_tls(seed: bytes, common_name: str, names: tuple[str, ...]) -> ServerTls:
    """A server certificate for `names` (every name and address clients use), issued by the seed's CA."""
    ca_key, ca = _ca(seed)
    key = derive_key(seed, f"server:{common_name}")
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca.subject).public_key(key.public_key())
        .serial_number(_serial(key)).not_valid_before(NOT_BEFORE).not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(subject_alternative_names(names)), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256(), ecdsa_deterministic=True)
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return ServerTls(key_pem=key_pem, certificate_pem=_pem(certificate), ca_pem=_pem(ca))


class CertificateAuthority(pulumi.ComponentResource):
    """The stack's CA: `certificate_pem` (public) and `issue()` for server certificates (secret)."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:platform:CertificateAuthority", name, None, opts)
        seed = random.RandomBytes(f"{name}-ca-seed", length=32, opts=pulumi.ResourceOptions(parent=self))
        self._seed = seed.base64.apply(base64.b64decode)
        # Derived from a secret, but a certificate is public: clients and the stack output show it.
        self.certificate_pem: pulumi.Output[str] = pulumi.Output.unsecret(self._seed.apply(ca_certificate_pem))
        self.register_outputs({"certificatePem": self.certificate_pem})

    def issue(self, common_name: str, names: Sequence[str]) -> pulumi.Output[ServerTls]:
        return pulumi.Output.secret(self._seed.apply(lambda seed: server_tls(seed, common_name, tuple(names))))
