"""The deployment files under deploy/: lint them and check what they must guarantee.

No container engine or cluster is available where the tests run, so the image is not built and
the manifests are not applied. Instead: hadolint lints the Dockerfile and ShellCheck the Slurm
scripts (both from PyPI wheels in the ``test`` extra; CI must have them), and the commands the
scripts and manifests run are executed with a stand-in ``cnncourse`` / ``srun`` and parsed by
the real ``cnncourse`` command-line parser, so a renamed option breaks a test here.
"""
from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cnncourse.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SLURM = sorted((DEPLOY / "slurm").glob("*.sbatch"))


def _tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path=os.path.dirname(sys.executable))
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must lint deploy/ with {name} (pip install -e '.[test]')")
        pytest.skip(f"{name} is not installed (it comes with the test extra)")
    return path


def test_dockerfile_passes_hadolint():
    done = subprocess.run([_tool("hadolint"), str(DEPLOY / "Dockerfile")], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("script", SLURM, ids=lambda p: p.name)
def test_slurm_scripts_pass_shellcheck(script):
    done = subprocess.run([_tool("shellcheck"), str(script)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def _instructions(path: Path) -> list[tuple[str, str]]:
    text = path.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_dockerfile_essentials():
    steps = _instructions(DEPLOY / "Dockerfile")
    kinds = [kind for kind, _ in steps]
    run = " ".join(arg for kind, arg in steps if kind == "RUN")
    assert kinds[0] == "FROM" and "python:3.1" in steps[0][1]
    assert "apt-get install" in run and "bubblewrap" in run and "tini" in run
    assert "torch==" in run and "whl/cpu" in run  # never the multi-GB CUDA build
    users = [arg for kind, arg in steps if kind == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert kinds.index("USER") > max(i for i, k in enumerate(kinds) if k == "RUN")
    assert any(kind == "ENV" and "CNNCOURSE_NOTEBOOKS=" in arg for kind, arg in steps)
    entry = next(arg for kind, arg in steps if kind == "ENTRYPOINT")
    assert "tini" in entry and "cnncourse" in entry
    # Every COPY source exists and gets past the build context's ignore file.
    ignore = [line.strip() for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    for kind, arg in steps:
        if kind == "COPY":
            for source in arg.split()[:-1]:
                assert (ROOT / source).exists(), source
                kept = False
                for pattern in ignore:
                    negated = pattern.startswith("!")
                    if fnmatch.fnmatch(source, pattern.lstrip("!")):
                        kept = negated
                assert kept, f"{source} is excluded by Dockerfile.dockerignore"


def _fake_bin(tmp_path: Path, *names: str) -> Path:
    """Stand-ins that print their arguments, one per line, between markers."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).write_text('#!/bin/sh\necho "<<<"\nfor a in "$@"; do echo "$a"; done\necho ">>>"\n')
        (folder / name).chmod(0o755)
    return folder


def _calls(output: str) -> list[list[str]]:
    calls, current = [], None
    for line in output.splitlines():
        if line == "<<<":
            current = []
        elif line == ">>>":
            calls.append(current)
            current = None
        elif current is not None:
            current.append(line)
    return calls


def _cnncourse_args(argv: list[str]) -> list[str]:
    return argv[argv.index("cnncourse") + 1:] if "cnncourse" in argv else argv


@pytest.mark.parametrize("image", [None, "grader.sif"])
def test_slurm_array_task_grades_its_shard(tmp_path, image):
    fake = _fake_bin(tmp_path, "srun")
    env = {"PATH": f"{fake}:{os.environ['PATH']}", "SUBMISSIONS": str(tmp_path / "submitted"),
           "GRADES": str(tmp_path / "grades"), "SLURM_ARRAY_TASK_ID": "3",
           "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "8", "SLURM_CPUS_PER_TASK": "4",
           "SLURM_JOB_ID": "42", **({"IMAGE": image} if image else {})}
    done = subprocess.run(["bash", str(DEPLOY / "slurm" / "grade-array.sbatch")], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    (argv,) = _calls(done.stdout)
    args = build_parser().parse_args(_cnncourse_args(argv))
    assert args.command == "grade" and args.shard == "3/8" and args.jobs == 2
    if image:
        assert argv[:2] == ["apptainer", "exec"] and "--containall" in argv
        assert f"{tmp_path / 'submitted'}:/data/submitted:ro" in argv
        assert args.out == "/data/grades/shard-3"
    else:
        assert args.out == str(tmp_path / "grades" / "shard-3")
    assert not list(Path("/tmp").glob("cnncourse-42-*"))  # its temporary folder is removed


def test_slurm_merge_lists_every_shard(tmp_path):
    fake = _fake_bin(tmp_path, "srun")
    for k in (1, 2, 10):
        (tmp_path / "grades" / f"shard-{k}").mkdir(parents=True)
    env = {"PATH": f"{fake}:{os.environ['PATH']}", "GRADES": str(tmp_path / "grades")}
    done = subprocess.run(["bash", str(DEPLOY / "slurm" / "merge.sbatch")], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    (argv,) = _calls(done.stdout)
    args = build_parser().parse_args(_cnncourse_args(argv))
    assert args.submissions[0] == "merge" and args.out == str(tmp_path / "grades" / "merged")
    assert sorted(args.submissions[1:]) == sorted(str(tmp_path / "grades" / f"shard-{k}") for k in (1, 2, 10))


def _documents(name: str) -> dict[str, dict]:
    return {d["kind"]: d for d in yaml.safe_load_all((DEPLOY / "kubernetes" / name).read_text())}


def _env(container: dict) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("env", [])}


def _run_container(tmp_path: Path, container: dict, env: dict[str, str]) -> list[list[str]]:
    command = container["command"] + container["args"]
    assert command[:2] == ["/usr/bin/tini", "--"]
    fake = _fake_bin(tmp_path, "cnncourse")
    done = subprocess.run(command[2:], env={"PATH": f"{fake}:{os.environ['PATH']}",
                                            **_env(container), **env},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return _calls(done.stdout)


def test_kubernetes_indexed_job_isolates_each_shard(tmp_path):
    docs = _documents("grade-job.yaml")
    job, policy = docs["Job"], docs["NetworkPolicy"]
    spec, pod = job["spec"], job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    shards = int(_env(container)["SHARDS"])
    assert spec["completionMode"] == "Indexed" and spec["completions"] == shards
    # No network: the policy selects these pods, for both directions, with no rule allowing any.
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in policy["spec"] and "egress" not in policy["spec"]
    # An unprivileged user in its own user namespace, read-only root, no token.
    assert pod["hostUsers"] is False and pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] > 0
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False and security["readOnlyRootFilesystem"] is True
    assert security["capabilities"]["drop"] == ["ALL"] and "add" not in security["capabilities"]
    assert security["procMount"] == "Unmasked"  # bubblewrap mounts a /proc per kernel
    # The submissions read-only, twice over; /tmp writable.
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert mounts["submissions"]["readOnly"] is True
    assert volumes["submissions"]["persistentVolumeClaim"]["readOnly"] is True
    assert mounts["tmp"]["mountPath"] == "/tmp" and "emptyDir" in volumes["tmp"]
    # Pod K (index K-1) grades shard K/N into its own folder, with the real CLI's options.
    (argv,) = _run_container(tmp_path, container, {"JOB_COMPLETION_INDEX": "2"})
    args = build_parser().parse_args(argv)
    assert args.shard == f"3/{shards}" and args.out == "/data/grades/shard-3"
    assert args.submissions == [mounts["submissions"]["mountPath"]] and not args.no_sandbox


def test_kubernetes_merge_job_merges_every_shard(tmp_path):
    grade_container = _documents("grade-job.yaml")["Job"]["spec"]["template"]["spec"]["containers"][0]
    job = _documents("merge-job.yaml")["Job"]
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    shards = int(_env(grade_container)["SHARDS"])
    assert int(_env(container)["SHARDS"]) == shards
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["securityContext"]["runAsNonRoot"] is True
    (argv,) = _run_container(tmp_path, container, {})
    args = build_parser().parse_args(argv)
    assert args.submissions == ["merge", *(f"/data/grades/shard-{k}" for k in range(1, shards + 1))]
    assert args.out == "/data/grades/merged"


def test_deploy_readme_names_only_files_that_exist():
    text = (DEPLOY / "README.md").read_text() + (DEPLOY / "jupyterhub.md").read_text()
    named = set(re.findall(r"(?<![\w/])((?:deploy/)?(?:kubernetes|slurm)/[\w.-]+\.(?:yaml|sbatch))", text))
    named |= set(re.findall(r"\]\(([\w./-]+)\)", text))  # Markdown links
    assert {"kubernetes/grade-job.yaml", "slurm/grade-array.sbatch", "Dockerfile"} <= \
        {n.removeprefix("deploy/") for n in named}
    for name in named:
        assert (ROOT / name if name.startswith("deploy/") else DEPLOY / name).exists(), name
