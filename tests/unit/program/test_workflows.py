"""The GitHub workflows lint clean with actionlint and do what the README's Operations section says."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness import ROOT, shipped_stacks

WORKFLOWS = ROOT / ".github" / "workflows"
INSTALL = "venv/bin/pip install -r requirements.txt -r requirements-dev.txt (requirements-dev.txt pins actionlint)"


def actionlint() -> str:
    """The actionlint binary the dev requirements install next to this Python (or on PATH)."""
    found = shutil.which("actionlint", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                             os.environ.get("PATH", "")]))
    if found is None:
        pytest.fail(f"actionlint is not installed: run {INSTALL}")
    return found


def lint(*files: Path) -> subprocess.CompletedProcess:
    # shellcheck and pyflakes are left out: whether they are on PATH differs between machines.
    return subprocess.run([actionlint(), "-no-color", "-shellcheck=", "-pyflakes=",
                           "-config-file", str(ROOT / ".github" / "actionlint.yaml"), *map(str, files)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def workflow(name: str) -> dict:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads the key `on` as true
    return document


def steps_using(job: dict, action: str) -> list[dict]:
    return [s for s in job["steps"] if s.get("uses", "").startswith(action + "@")]


def test_every_workflow_lints_clean():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} == {"tests.yml", "preview.yml", "deploy.yml", "drift.yml"}
    result = lint(*files)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_actionlint_really_checks(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: [self-hosted, nowhere]\n    steps:\n"
                      "      - run: echo ${{ github.nope }}\n")
    result = lint(broken)
    assert result.returncode != 0
    assert 'label "nowhere" is unknown' in result.stdout and "nope" in result.stdout


def test_actions_are_pinned_to_a_release():
    for path in WORKFLOWS.glob("*.yml"):
        for uses in re.findall(r"uses:\s*(\S+)", path.read_text()):
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+\.\d+\.\d+", uses), f"{path.name}: {uses}"


def test_tests_run_the_readme_command_on_every_push_and_pull_request():
    tests = workflow("tests.yml")
    assert set(tests["on"]) == {"push", "pull_request"}
    [job] = tests["jobs"].values()
    assert not str(job["runs-on"]).startswith("self-hosted") and "self-hosted" not in job["runs-on"]
    commands = "\n".join(s.get("run", "") for s in job["steps"])
    assert "pip install --disable-pip-version-check -r requirements.txt -r requirements-dev.txt" in commands
    assert "pip install --disable-pip-version-check --no-deps -r policy/requirements.txt" in commands
    assert "--no-deps -r policy/requirements.txt" in (ROOT / ".ci" / "run").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert ("bash .ci/contract-deps" in ci) == ("bash .ci/contract-deps" in commands), "the same steps as .ci/run"
    assert commands.rstrip().endswith("venv/bin/python -m pytest")
    assert "venv/bin/python -m pytest" in (ROOT / "README.md").read_text()


def _pulumi_steps(name: str) -> dict[str, dict]:
    """Per job: the `with:` of its pulumi/actions step that runs a command."""
    found = {}
    for job_name, job in workflow(name)["jobs"].items():
        assert "homelab" in job["runs-on"] and "self-hosted" in job["runs-on"], "the NAS and Proxmox are on the LAN"
        [run] = [s["with"] for s in steps_using(job, "pulumi/actions") if "command" in s.get("with", {})]
        found[job_name] = run
    return found


def test_pull_requests_preview_every_stack_with_the_policy_pack_and_a_comment():
    preview = workflow("preview.yml")
    assert set(preview["on"]) == {"pull_request"}
    job = preview["jobs"]["preview"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"], "no fork on the runner"
    assert job["strategy"]["matrix"]["stack"] == ["homelab", "local"] == shipped_stacks()
    step = _pulumi_steps("preview.yml")["preview"]
    assert step["command"] == "preview" and step["stack-name"] == "${{ matrix.stack }}"
    assert step["comment-on-pr"] is True and step["policyPacks"] == "${{ github.workspace }}/policy"
    assert preview["permissions"]["pull-requests"] == "write"


def test_main_is_deployed_only_after_approval_with_the_policy_pack():
    deploy = workflow("deploy.yml")
    assert deploy["on"]["push"] == {"branches": ["main"]}
    steps = _pulumi_steps("deploy.yml")
    assert steps["up"]["command"] == "up" and steps["up"]["stack-name"] == "homelab"
    assert all(s["policyPacks"] == "${{ github.workspace }}/policy" for s in steps.values())
    assert deploy["jobs"]["up"]["environment"]["name"] == "homelab"
    assert deploy["jobs"]["up"]["needs"] == "preview"
    assert "environment" not in deploy["jobs"]["preview"]


def test_drift_is_checked_on_a_schedule_and_fails_loudly():
    drift = workflow("drift.yml")
    assert drift["on"]["schedule"] and "workflow_dispatch" in drift["on"]
    step = _pulumi_steps("drift.yml")["drift"]
    assert (step["command"], step["refresh"], step["expect-no-changes"]) == ("preview", True, True)
    [report] = [s for s in drift["jobs"]["drift"]["steps"] if s.get("if") == "failure()"]
    assert "gh issue create" in report["run"] and drift["permissions"]["issues"] == "write"
    assert drift["concurrency"] == workflow("deploy.yml")["concurrency"], "never refresh during an up"


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml", "drift.yml"])
def test_deployments_take_backend_passphrase_and_token_from_secrets(name):
    text = (WORKFLOWS / name).read_text()
    for variable, secret in [("PULUMI_BACKEND_URL", "PULUMI_BACKEND_URL"),
                             ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE"),
                             ("PROXMOX_API_TOKEN", "PROXMOX_API_TOKEN")]:
        assert f"{variable}: ${{{{ secrets.{secret} }}}}" in text
    pins = re.findall(r'PULUMI_VERSION: "([\d.]+)"', text)
    requirements = dict(line.split("==") for line in (ROOT / "requirements.txt").read_text().splitlines() if "==" in line)
    assert pins == [requirements["pulumi"]], "the CLI the workflows install is the SDK's version"


def test_the_prepare_script_is_executable_and_reads_the_token_from_stdin():
    script = ROOT / ".github" / "scripts" / "prepare-stack"
    assert os.access(script, os.X_OK)
    text = script.read_text()
    assert '| pulumi config set --secret --stack "$stack" lakehouse:proxmoxApiToken\n' in text
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
