"""Compute VMs on Proxmox: specs from config, cloud-init, the ready gate, and the local stack without them."""

from __future__ import annotations

import base64
import copy
import json
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from cryptography.hazmat.primitives.serialization import load_ssh_private_key, load_ssh_public_key

from components.platform.config import CloudImage, parse
from components.vms.proxmox import HostKey, cloud_init, ed25519_host_key, known_hosts_command, ready_script
from harness import TEST_SECRETS, StackRun, is_secret_wrapper, run_stack, stack_config, unwrap
from readers import config_problems

VM = "proxmoxve:index/vmLegacy:VmLegacy"
IMAGE = "proxmoxve:download/file:File"
DEBIAN = "debian-13-genericcloud-amd64-20261001-2618"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITestKey me@host"
SEED = bytes(range(32))
HOST_KEY = HostKey(private_openssh="-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n",
                   public_openssh="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKey")


def test_cloud_init_user_data_parses_with_its_header():
    text = cloud_init("compute1", "lakehouse", [KEY, "ssh-rsa AAAAB3Nza other"], HOST_KEY)
    assert text.startswith("#cloud-config\n")
    document = yaml.safe_load(text)
    assert document["hostname"] == "compute1"
    [user] = document["users"]
    assert user["name"] == "lakehouse" and user["ssh_authorized_keys"] == [KEY, "ssh-rsa AAAAB3Nza other"]
    assert user["lock_passwd"] is True and user["sudo"] == "ALL=(ALL) NOPASSWD:ALL"
    assert {"qemu-guest-agent", "docker.io"} <= set(document["packages"])
    assert document["ssh_deletekeys"] is True
    assert document["ssh_keys"] == {"ed25519_private": HOST_KEY.private_openssh,
                                    "ed25519_public": HOST_KEY.public_openssh}
    assert document["runcmd"] == [
        ["usermod", "-aG", "docker", "lakehouse"],
        ["systemctl", "enable", "--now", "qemu-guest-agent"],
        ["systemctl", "enable", "--now", "docker"],
    ]


def test_the_host_key_is_a_stable_openssh_ed25519_pair():
    key = ed25519_host_key(SEED)
    assert key == ed25519_host_key(SEED), "the same seed renders the same user data"
    assert key.public_openssh.startswith("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI") and " " not in key.public_openssh[12:]
    private = load_ssh_private_key(key.private_openssh.encode(), password=None)
    assert private.public_key() == load_ssh_public_key(key.public_openssh.encode())
    with pytest.raises(ValueError):
        ed25519_host_key(SEED[:31])


def test_openssh_reads_the_private_host_key_back(tmp_path):
    assert shutil.which("ssh-keygen"), "OpenSSH's ssh-keygen is needed: apt-get install openssh-client"
    key = ed25519_host_key(SEED)
    path = tmp_path / "ssh_host_ed25519_key"
    path.write_text(key.private_openssh)
    path.chmod(0o600)
    derived = subprocess.run(["ssh-keygen", "-y", "-f", str(path)], capture_output=True, text=True, check=True)
    assert derived.stdout.split()[:2] == key.public_openssh.split()


def test_ready_script_is_bounded_and_requires_docker():
    script = ready_script("lakehouse", 600)
    assert script.startswith("timeout 600 cloud-init status --wait")
    assert "exit 1" in script
    # As the user the docker provider connects as, with its current groups: not as root.
    assert script.endswith("; sudo -n -u lakehouse docker version --format '{{.Server.Version}}'")


def test_the_image_keeps_its_name_for_import_and_becomes_img_for_iso():
    url = f"https://cloud.debian.org/images/cloud/trixie/20261001-2618/{DEBIAN}.qcow2"
    assert CloudImage(url, "0" * 128, "sha512").file_name == f"{DEBIAN}.qcow2"
    assert CloudImage(url, "0" * 128, "sha512", content="iso").file_name == f"{DEBIAN}.img"


def test_vms_are_built_from_config(homelab: StackRun):
    images = homelab.of_type(IMAGE)
    assert [(i.inputs["nodeName"], i.inputs["contentType"], i.inputs["datastoreId"], i.inputs["fileName"])
            for i in images] == [("pve", "import", "local", f"{DEBIAN}.qcow2")]
    assert images[0].inputs["checksumAlgorithm"] in ("sha256", "sha512") and images[0].inputs["checksum"]
    assert images[0].inputs["uploadTimeout"] == 1800
    assert images[0].delete_before_replace, "a new checksum keeps the file name"
    vms = {v.inputs["name"]: v for v in homelab.of_type(VM)}
    assert sorted(vms) == ["compute1", "compute2"]
    vm = vms["compute1"].inputs
    assert (vm["vmId"], vm["nodeName"], vm["cpu"]["cores"], vm["memory"]["dedicated"]) == (301, "pve", 6, 16384)
    [disk] = vm["disks"]
    assert (disk["interface"], disk["datastoreId"], disk["size"]) == ("virtio0", "local-lvm", 80)
    assert disk["importFrom"] == f"local:import/{DEBIAN}.qcow2" and "fileId" not in disk
    assert images[0].urn in vms["compute1"].dependencies
    assert vms["compute1"].property_dependencies.get("disks", []) == [], "a known volume id, not the image's output"
    assert vm["networkDevices"] == [{"bridge": "vmbr0", "model": "virtio"}]
    assert vm["agent"] == {"enabled": True}
    assert (vm["started"], vm["onBoot"], vm["stopOnDestroy"]) == (True, True, True)
    init = vm["initialization"]
    assert init["ipConfigs"] == [{"ipv4": {"address": "192.168.10.31/24", "gateway": "192.168.10.1"}}]
    assert init["dns"] == {"servers": ["192.168.10.1"], "domain": "lan"}


def test_older_proxmox_gets_the_image_as_iso_content_and_the_disk_by_file_id():
    proxmox = {**stack_config("homelab")["lakehouse:proxmox"], "image": {"content": "iso"}}
    run = run_stack("homelab", overrides={"proxmox": proxmox})
    assert run.error is None
    [image] = run.of_type(IMAGE)
    assert (image.inputs["contentType"], image.inputs["fileName"]) == ("iso", f"{DEBIAN}.img")
    assert image.inputs["url"].endswith(f"{DEBIAN}.qcow2")
    for vm in run.of_type(VM):
        [disk] = vm.inputs["disks"]
        assert disk["fileId"] == f"local:iso/{DEBIAN}.img" and "importFrom" not in disk
        assert image.urn in vm.dependencies


def test_user_data_is_a_stable_snippet_per_vm(homelab: StackRun):
    snippets = {s.name: s for s in homelab.of_type("proxmoxve:index/fileLegacy:FileLegacy")}
    snippet = snippets["vms-compute1-user-data"]
    assert snippet.inputs["contentType"] == "snippets" and snippet.delete_before_replace
    assert unwrap(snippet.inputs["sourceRaw"])["fileName"] == "lakehouse-compute1-user-data.yaml"
    assert yaml.safe_load(unwrap(snippet.inputs["sourceRaw"])["data"])["users"][0]["ssh_authorized_keys"] == stack_config(
        "homelab")["lakehouse:proxmox"]["sshPublicKeys"]
    vm = homelab.named("vms-compute1")
    assert vm.inputs["initialization"]["userDataFileId"] == "local:snippets/lakehouse-compute1-user-data.yaml"
    assert snippet.urn in vm.dependencies
    assert snippet.urn not in vm.property_dependencies.get("initialization", []), (
        "a replaced snippet's unknown id would preview (and delete-before-replace check) as a new VM")


def test_a_replaced_vm_goes_first_and_takes_its_ready_gate_with_it(homelab: StackRun):
    for name in ("compute1", "compute2"):
        vm = homelab.named(f"vms-{name}")
        assert vm.delete_before_replace, "a fixed vmId and a static address cannot exist twice"
        assert homelab.named(f"vms-{name}-ready").replace_with == [vm.urn]


def test_proxmox_provider_takes_the_secret_token_and_ssh_block(homelab: StackRun):
    provider = homelab.named("vms-proxmox").inputs
    assert provider["endpoint"] == "https://192.168.10.5:8006/"
    assert provider["apiToken"]["value"] == TEST_SECRETS["lakehouse:proxmoxApiToken"]
    assert provider["insecure"] == "true"


def test_chain_vm_then_ready_command_then_docker_provider_then_containers(homelab: StackRun):
    vm = homelab.named("vms-compute1")
    ready = homelab.named("vms-compute1-ready")
    assert vm.urn in ready.dependencies
    connection = ready.inputs["connection"]
    assert is_secret_wrapper(connection), "the provider marks connections secret"
    assert (connection["value"]["host"], connection["value"]["user"]) == ("192.168.10.31", "lakehouse")
    assert connection["value"]["hostKey"] == _host_key(homelab, "compute1").public_openssh
    assert ready.inputs["create"] == ready_script("lakehouse")
    provider = homelab.named("compute1-docker")
    assert ready.urn in provider.dependencies
    assert provider.inputs["host"] == "ssh://lakehouse@192.168.10.31:22"
    on_vm = [r for r in homelab.resources if r.provider == provider.urn]
    assert {r.name for r in on_vm} >= {"compute-trino-container", "compute-spark-container", "compute1-network"}


def _host_key(run: StackRun, vm: str) -> HostKey:
    """The key pair the stack derives from the VM's generated seed (as the mocks generated it)."""
    return ed25519_host_key(base64.b64decode(run.named(f"vms-{vm}-host-key").outputs["base64"]["value"]))


def test_each_vm_gets_a_pinned_host_key_from_a_secret_seed(homelab: StackRun):
    keys = {vm: _host_key(homelab, vm) for vm in ("compute1", "compute2")}
    assert keys["compute1"] != keys["compute2"]
    seed = homelab.named("vms-compute1-host-key")
    assert seed.inputs["length"] == 32 and is_secret_wrapper(seed.outputs["base64"])
    assert seed.dependencies == [] and seed.replace_with == [], "the key outlives a replaced VM"
    snippet = homelab.named("vms-compute1-user-data")
    assert is_secret_wrapper(snippet.inputs["sourceRaw"]), "the user data holds the private host key"
    user_data = yaml.safe_load(unwrap(snippet.inputs["sourceRaw"])["data"])
    assert user_data["ssh_keys"] == {"ed25519_private": keys["compute1"].private_openssh,
                                     "ed25519_public": keys["compute1"].public_openssh}
    secret_free = json.dumps([{k: v for k, v in r.inputs.items() if not is_secret_wrapper(v)}
                              for r in homelab.resources])
    assert keys["compute1"].private_openssh.splitlines()[1] not in secret_free


def test_vm_docker_hosts_trust_exactly_the_pinned_host_key(homelab: StackRun):
    for vm, ip in (("compute1", "192.168.10.31"), ("compute2", "192.168.10.32")):
        provider = homelab.named(f"{vm}-docker").inputs
        assert not is_secret_wrapper(provider["sshOpts"])
        assert json.loads(provider["sshOpts"]) == [
            "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=/dev/null",
            "-o", f"KnownHostsCommand=/bin/echo {ip} {_host_key(homelab, vm).public_openssh}"]


def test_ssh_takes_the_pinned_options_first_whatever_is_added():
    assert shutil.which("ssh"), "OpenSSH's ssh is needed: apt-get install openssh-client"
    proxmox = {**stack_config("homelab")["lakehouse:proxmox"], "sshOptions": ["ControlMaster=auto"]}
    options = parse(_homelab_raw(proxmox=proxmox)).hosts["compute1"].ssh.options
    assert options == ("StrictHostKeyChecking=yes", "UserKnownHostsFile=/dev/null", "ControlMaster=auto")
    pinned = known_hosts_command("192.168.10.31", ed25519_host_key(SEED).public_openssh)
    argv = [arg for option in (*options, pinned, "StrictHostKeyChecking=no", "UserKnownHostsFile=~/.ssh/known_hosts")
            for arg in ("-o", option)]
    resolved = subprocess.run(["ssh", "-G", *argv, "lakehouse@192.168.10.31"], capture_output=True, text=True,
                              check=True).stdout.splitlines()
    assert {"stricthostkeychecking true", "userknownhostsfile /dev/null", "controlmaster auto",
            f"knownhostscommand {pinned.split('=', 1)[1]}"} <= set(resolved)


def test_singletons_on_the_first_vm_and_workers_on_the_second(homelab: StackRun):
    host_of = {r.name: homelab.by_urn(r.provider).name for r in homelab.of_type("docker:index/container:Container")}
    assert host_of["compute-trino-container"] == "compute1-docker"
    assert host_of["compute-spark-container"] == "compute1-docker"
    assert host_of["compute-trino-worker-1-container"] == "compute2-docker"
    assert {host_of["compute-spark-worker-1-container"], host_of["compute-spark-worker-2-container"]} == {
        "compute2-docker"}
    assert host_of["storage-minio-container"] == "nas-docker"


def test_the_local_stack_has_no_proxmox_and_no_ssh(stack_runs):
    local = stack_runs["local"]
    assert not [r for r in local.resources if r.type.startswith(("proxmoxve:", "command:", "pulumi:providers:proxmoxve",
                                                                  "pulumi:providers:command"))]
    [provider] = local.of_type("pulumi:providers:docker")
    assert provider.inputs["host"] == "unix:///var/run/docker.sock" and "sshOpts" not in provider.inputs
    containers = local.of_type("docker:index/container:Container")
    assert {c.provider for c in containers} == {provider.urn}
    assert not any(r.retain_on_delete for r in local.resources), "a demo: destroy removes its data"
    long_running = [c for c in containers if not c.inputs.get("attach")]
    assert sum(c.inputs["memory"] for c in long_running) <= 15 * 1024, "the limits fit the declared 16g, less 1g"


def _homelab_raw(**changes: Any) -> dict[str, Any]:
    raw = {k.split(":", 1)[1]: copy.deepcopy(v) for k, v in stack_config("homelab").items()
           if k.startswith("lakehouse:")}
    raw["proxmoxApiToken"] = TEST_SECRETS["lakehouse:proxmoxApiToken"]
    raw.update(changes)
    return raw


def _vms(**second: Any) -> list[dict[str, Any]]:
    vms = copy.deepcopy(stack_config("homelab")["lakehouse:vms"])
    vms[1].update(second)
    return vms


@pytest.mark.parametrize("changes, expected", [
    ({"vms": _vms(vmId=301)}, "lakehouse:vms[1].vmId = 301: expected a value not already used by vms[0]"),
    ({"vms": _vms(name="compute1")}, "lakehouse:vms[1].name = 'compute1': expected a value not already used by vms[0]"),
    ({"vms": _vms(ip="192.168.10.31")},
     "lakehouse:vms[1].ip = '192.168.10.31': expected a value not already used by vms[0]"),
    ({"vms": _vms(ip="10.0.0.7")}, "lakehouse:vms[1].ip = '10.0.0.7': expected a host address inside "
                                   "proxmox.subnet 192.168.10.0/24"),
    ({"vms": _vms(ip="192.168.10.0")}, "lakehouse:vms[1].ip = '192.168.10.0': expected a host address inside "
                                       "proxmox.subnet 192.168.10.0/24"),
    ({"vms": _vms(ip="192.168.10.255")}, "lakehouse:vms[1].ip = '192.168.10.255': expected a host address inside "
                                         "proxmox.subnet 192.168.10.0/24"),
    ({"vms": _vms(ip="192.168.10.1")}, "lakehouse:vms[1].ip = '192.168.10.1': expected an address other than "
                                       "proxmox.gateway"),
    ({"vms": _vms(ip="192.168.10.53"), "proxmox": {**stack_config("homelab")["lakehouse:proxmox"],
                                                   "dns": ["192.168.10.1", "192.168.10.53"]}},
     "lakehouse:vms[1].ip = '192.168.10.53': expected an address other than proxmox.dns[1]"),
    ({"vms": _vms(ip="192.168.10.20")},
     "lakehouse:vms[compute2].ip = '192.168.10.20': expected an address not already used by host `nas`"),
    ({"vms": _vms(name="nas")}, "lakehouse:vms[1].name = 'nas': expected a name not already used by hosts.nas"),
    ({"services": {"trino": {"host": "compute9"}}},
     "lakehouse:services.trino.host = 'compute9': expected one of the configured hosts: compute1, compute2, nas"),
    ({"proxmox": {**stack_config("homelab")["lakehouse:proxmox"], "image": {"content": "img"}}},
     "lakehouse:proxmox.image.content = 'img': expected `import` (PVE 8.4+) or `iso` (older PVE)"),
    ({"proxmox": {**stack_config("homelab")["lakehouse:proxmox"],
                  "image": {"url": "https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img"}}},
     "lakehouse:proxmox.image.url = 'https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img': "
     "expected a URL whose file name ends in .qcow2, .raw, .vmdk: PVE stores `import` content only under those names "
     "(or set proxmox.image.content: iso)"),
    ({"proxmox": {**stack_config("homelab")["lakehouse:proxmox"], "sshOptions": ["StrictHostKeyChecking=no"]}},
     "lakehouse:proxmox.sshOptions[0] = 'StrictHostKeyChecking=no': expected an ssh option like `ControlMaster=auto`, "
     "other than the host-key options the stack pins (StrictHostKeyChecking, UserKnownHostsFile, "
     "GlobalKnownHostsFile, KnownHostsCommand)"),
    ({"proxmoxApiToken": "hunter2"}, "lakehouse:proxmoxApiToken = 'hunter2': expected a secret API token "
                                     "`user@realm!tokenid=uuid`, set with `pulumi config set --secret "
                                     "lakehouse:proxmoxApiToken ...` (required with vms)"),
])
def test_bad_vm_configs_name_the_problem(changes, expected):
    assert expected in config_problems(_homelab_raw(**changes))


def test_a_missing_token_is_a_config_error_before_anything_is_registered():
    raw = _homelab_raw()
    del raw["proxmoxApiToken"]
    assert any(p.startswith("lakehouse:proxmoxApiToken = None: expected a secret API token") for p in config_problems(raw))


def test_five_vms_evaluate_and_spread_workers():
    vms = [{"name": f"compute{i}", "vmId": 300 + i, "ip": f"192.168.10.{30 + i}", "memory": "24g"} for i in range(1, 6)]
    run = run_stack("homelab", overrides={"vms": vms, "services": {
        "trino-worker": {"replicas": 5}, "spark-worker": {"replicas": 5}}})
    assert run.error is None
    assert len(run.of_type(VM)) == 5 and len(run.of_type("command:remote:Command")) == 5
    hosts = {run.by_urn(run.named(f"compute-trino-worker-{i}-container").provider).name for i in range(1, 6)}
    assert hosts == {f"compute{i}-docker" for i in range(1, 6)}


def test_an_unrelated_problem_does_not_hide_the_vms_from_placement():
    found = config_problems(_homelab_raw(region="", services={"trino": {"host": "compute2"}}))
    assert found == ["lakehouse:region = '': expected a non-empty region name like us-east-1"]


def test_the_readme_connection_sharing_options_are_accepted_for_the_nas_and_the_vms():
    sharing = ["ControlMaster=auto", "ControlPath=~/.ssh/cm-%C", "ControlPersist=60"]
    raw = _homelab_raw(proxmox={**stack_config("homelab")["lakehouse:proxmox"], "sshOptions": sharing})
    raw["hosts"]["nas"]["ssh"]["options"] += sharing
    hosts = parse(raw).hosts
    assert hosts["nas"].ssh.options[-3:] == tuple(sharing)
    assert hosts["compute1"].ssh.options == ("StrictHostKeyChecking=yes", "UserKnownHostsFile=/dev/null", *sharing)
