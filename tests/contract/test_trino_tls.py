"""Trino's TLS material and Airflow's Trino connection with real software: the JDK reads the rendered
coordinator PEM the way Trino's PEM reader does, and Airflow's TrinoHook, from the rendered
`AIRFLOW_CONN_TRINO_DEFAULT`, queries a stand-in coordinator serving that PEM over HTTPS."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness import StackRun
from trino_standin import StandIn

pytestmark = pytest.mark.contract
COORDINATOR = "compute-trino-container"
JDK = "apt-get install -y default-jdk-headless (in `bash .ci/contract-deps`)"


@pytest.fixture(scope="module")
def files(contract_run: StackRun, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("trino-tls")
    keystore, ca = root / "coordinator.pem", root / "ca.pem"
    keystore.write_text(contract_run.uploads(COORDINATOR)["/etc/trino/coordinator.pem"])
    ca.write_text(contract_run.outputs["caCertificatePem"])
    return {"keystore": keystore, "ca": ca, "root": root}


@pytest.fixture(scope="module")
def coordinator(files) -> StandIn:
    standin = StandIn(files["keystore"])
    yield standin
    standin.stop()


def _hook_query(connection: dict, airflow_home: Path) -> subprocess.CompletedProcess:
    script = textwrap.dedent("""
        from airflow.providers.trino.hooks.trino import TrinoHook
        print(TrinoHook(trino_conn_id="trino_default").get_records("SELECT 1"))
    """)
    # requests lets these override the session's `verify` (psf/requests#3829); the image sets neither.
    inherited = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    env = {**inherited, "AIRFLOW_HOME": str(airflow_home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW_CONN_TRINO_DEFAULT": json.dumps(connection)}
    return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)


def test_airflow_trino_default_uses_https_its_login_and_the_stack_ca(contract_run: StackRun, files, coordinator):
    rendered = json.loads(contract_run.envs("apps-airflow-scheduler-container")["AIRFLOW_CONN_TRINO_DEFAULT"])
    password = contract_run.password("compute-trino-airflow-password")
    assert (rendered["port"], rendered["login"], rendered["password"]) == (8443, "airflow", password)
    assert rendered["extra"]["verify"] == "/opt/airflow/lakehouse-ca.pem"
    assert contract_run.uploads("apps-airflow-scheduler-container")[rendered["extra"]["verify"]] == files["ca"].read_text()
    # Only the address changes: the stand-in listens on loopback (a name in the certificate).
    local = {**rendered, "host": "127.0.0.1", "port": coordinator.port,
             "extra": {**rendered["extra"], "verify": str(files["ca"])}}
    result = _hook_query(local, files["root"] / "airflow-ok")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "[[1]]"
    assert ("airflow", password) in coordinator.logins



JAVA_CHECK = r"""
import java.nio.file.*; import java.security.*; import java.security.cert.*; import java.security.spec.*;
import java.util.*; import java.util.regex.*;
public class PemCheck {
  public static void main(String[] a) throws Exception {
    String pem = Files.readString(Path.of(a[0]));
    Matcher k = Pattern.compile("-+BEGIN PRIVATE KEY-+\\s+([A-Za-z0-9+/=\\r\\n]+)-+END PRIVATE KEY-+").matcher(pem);
    if (!k.find()) throw new Exception("no PKCS#8 key");
    // airlift PemReader: an unnamed PRIVATE KEY goes to KeyFactory RSA, EC or DSA as PKCS8EncodedKeySpec
    PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(
        new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(k.group(1))));
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    List<X509Certificate> chain = new ArrayList<>();
    Matcher c = Pattern.compile("-+BEGIN CERTIFICATE-+\\s+([A-Za-z0-9+/=\\r\\n]+)-+END CERTIFICATE-+").matcher(pem);
    while (c.find()) chain.add((X509Certificate) cf.generateCertificate(
        new java.io.ByteArrayInputStream(Base64.getMimeDecoder().decode(c.group(1)))));
    Signature s = Signature.getInstance("SHA256withECDSA");
    s.initSign(key); s.update(new byte[20]); byte[] sig = s.sign();
    s.initVerify(chain.get(0).getPublicKey()); s.update(new byte[20]);
    if (!s.verify(sig)) throw new Exception("key does not match the first certificate");
    X509Certificate ca = chain.get(chain.size() - 1);
    PKIXParameters p = new PKIXParameters(Set.of(new TrustAnchor(ca, null)));
    p.setRevocationEnabled(false);
    CertPathValidator.getInstance("PKIX").validate(cf.generateCertPath(chain.subList(0, 1)), p);
    System.out.println("ok " + chain.get(0).getSubjectAlternativeNames().size());
  }
}
"""


def test_the_jdk_reads_the_coordinator_pem_and_validates_it_against_the_ca(contract_run: StackRun, tmp_path: Path):
    java = shutil.which("java")
    if not java:
        pytest.fail(f"the JDK is missing (Trino reads the PEM with its classes): {JDK}", pytrace=False)
    (tmp_path / "PemCheck.java").write_text(JAVA_CHECK)
    (tmp_path / "coordinator.pem").write_text(contract_run.uploads(COORDINATOR)["/etc/trino/coordinator.pem"])
    result = subprocess.run([java, str(tmp_path / "PemCheck.java"), str(tmp_path / "coordinator.pem")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok 4"
