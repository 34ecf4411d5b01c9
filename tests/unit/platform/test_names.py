"""Friendly names: every web UI gets `<service>.<domain>` at its host's address, rendered for /etc/hosts and DNS."""

from __future__ import annotations

import pytest

from components.platform.config import parse
from components.platform.names import UIS, dns_zone_records, dnsmasq_config, hosts_file, ui_names
from components.platform.services import SERVICES
from harness import StackRun
from readers import config_problems as problems

NAS = {"address": "192.168.10.20", "ssh": {"user": "lakehouse"}}


def test_each_ui_is_a_named_port_of_the_service_table():
    for service, (port, _title) in UIS.items():
        assert port in SERVICES[service].ports, service


def test_homelab_exports_the_ui_urls_at_their_hosts(homelab: StackRun):
    assert homelab.outputs["uiUrls"] == {
        "minio": "http://minio.lakehouse.lan:9001",
        "trino": "https://trino.lakehouse.lan:8443",
        "spark": "http://spark.lakehouse.lan:8081",
        "jupyter": "http://jupyter.lakehouse.lan:8888",
        "mlflow": "http://mlflow.lakehouse.lan:5000",
        "superset": "http://superset.lakehouse.lan:8088",
        "airflow": "http://airflow.lakehouse.lan:8082",
    }


def test_homelab_hosts_file_has_one_line_per_host(homelab: StackRun):
    assert homelab.outputs["hostsFile"] == (
        "# lakehouse web UIs (lakehouse.lan)\n"
        "192.168.10.20 minio.lakehouse.lan mlflow.lakehouse.lan superset.lakehouse.lan\n"
        "192.168.10.31 trino.lakehouse.lan spark.lakehouse.lan jupyter.lakehouse.lan airflow.lakehouse.lan\n")


def test_homelab_dns_records(homelab: StackRun):
    assert homelab.outputs["dnsmasqConfig"] == (
        "address=/minio.lakehouse.lan/192.168.10.20\n"
        "address=/trino.lakehouse.lan/192.168.10.31\n"
        "address=/spark.lakehouse.lan/192.168.10.31\n"
        "address=/jupyter.lakehouse.lan/192.168.10.31\n"
        "address=/mlflow.lakehouse.lan/192.168.10.20\n"
        "address=/superset.lakehouse.lan/192.168.10.20\n"
        "address=/airflow.lakehouse.lan/192.168.10.31\n")
    assert homelab.outputs["dnsZoneRecords"] == (
        "minio.lakehouse.lan. 300 IN A 192.168.10.20\n"
        "trino.lakehouse.lan. 300 IN A 192.168.10.31\n"
        "spark.lakehouse.lan. 300 IN A 192.168.10.31\n"
        "jupyter.lakehouse.lan. 300 IN A 192.168.10.31\n"
        "mlflow.lakehouse.lan. 300 IN A 192.168.10.20\n"
        "superset.lakehouse.lan. 300 IN A 192.168.10.20\n"
        "airflow.lakehouse.lan. 300 IN A 192.168.10.31\n")


def test_the_names_follow_the_endpoints_the_stack_exports(homelab: StackRun):
    urls = homelab.outputs["uiUrls"]
    exported = {"minio": "minioConsoleUrl", "trino": "trinoUrl", "spark": "sparkMasterUiUrl",
                "jupyter": "jupyterUrl", "mlflow": "mlflowUrl", "superset": "supersetUrl", "airflow": "airflowUrl"}
    addresses = {"minio.lakehouse.lan": "192.168.10.20", "trino.lakehouse.lan": "192.168.10.31"}
    for service, output in exported.items():
        scheme, _, rest = urls[service].partition("://")
        name, port = rest.split(":")
        assert homelab.outputs[output].endswith(f":{port}"), service
        if name in addresses:
            assert homelab.outputs[output] == f"{scheme}://{addresses[name]}:{port}"


def test_without_a_domain_nothing_is_exported(stack_runs):
    local = stack_runs["local"]
    assert not {"uiUrls", "hostsFile", "dnsmasqConfig", "dnsZoneRecords"} & set(local.outputs)


def test_moved_ports_and_hosts_move_the_names():
    config = parse({"storageHost": "nas", "domain": "home.arpa",
                    "hosts": {"nas": NAS, "box": {"address": "192.168.10.40", "ssh": {"user": "me"}}},
                    "computeHosts": ["box"], "services": {"superset": {"ports": {"http": 18088}},
                                                          "mlflow": {"host": "box"}}})
    urls = {n.service: n.url for n in ui_names(config)}
    assert urls["superset"] == "http://superset.home.arpa:18088"
    assert "192.168.10.40 trino.home.arpa spark.home.arpa jupyter.home.arpa mlflow.home.arpa airflow.home.arpa\n" \
        in hosts_file(config)


def test_a_host_known_by_dns_name_gets_cname_records_and_no_hosts_line():
    config = parse({"storageHost": "nas", "domain": "lakehouse.lan",
                    "hosts": {"nas": {"address": "nas.lan", "ssh": {"user": "me"}}}})
    assert "cname=minio.lakehouse.lan,nas.lan\n" in dnsmasq_config(config)
    assert "minio.lakehouse.lan. 300 IN CNAME nas.lan.\n" in dns_zone_records(config)
    hosts = hosts_file(config)
    assert "# minio.lakehouse.lan: the host is configured as nas.lan, a DNS name; use the DNS records\n" in hosts
    assert not [line for line in hosts.splitlines() if not line.startswith("#")]


def test_ipv6_hosts_get_aaaa_records():
    config = parse({"storageHost": "nas", "domain": "lakehouse.lan",
                    "hosts": {"nas": {"address": "fd00::20", "ssh": {"user": "me"}}}})
    assert "minio.lakehouse.lan. 300 IN AAAA fd00::20\n" in dns_zone_records(config)
    assert "fd00::20 minio.lakehouse.lan " in hosts_file(config)


@pytest.mark.parametrize("domain", ["Lakehouse.LAN", "lakehouse.local", "-bad.lan", "192.168.10.1", "a..b", "", 7,
                                    "under_score.lan"])
def test_bad_domains_are_rejected(domain):
    [problem] = problems({"storageHost": "nas", "hosts": {"nas": NAS}, "domain": domain})
    assert problem.startswith(f"lakehouse:domain = {domain!r}: expected a lower-case DNS domain")
