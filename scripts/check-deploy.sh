#!/usr/bin/env bash
# Checks the deployment files offline, as CI can (no cluster, no AWS, no Docker):
#  - deploy/kubernetes/*.yaml against Kubernetes' schemas (kubernetes-validate, strict: unknown fields fail);
#  - deploy/github/deploy.yml against GitHub Actions' workflow schema (check-jsonschema), and for the steps the
#    README's walk-through relies on; its jq program run on sample Terraform outputs, and the .env it renders
#    read by `iceberg-ingest config --show` with the mounted job file;
#  - deploy/aws/iam-policy.json parsed, and granting each S3 and Glue action the code calls, nothing broader;
#  - the binary's shared libraries against the Dockerfile's runtime stage (scripts/check-bundle.sh).
# The job file inside job-config.yaml is checked by the Swift suite (DeployFilesTests).
# The two validators live in their own virtual environment, .venv-deploy (pinned).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-deploy
PINS=("kubernetes-validate==1.37.0" "check-jsonschema==0.39.0")
if [ "$(cat "$VENV/.requirements" 2>/dev/null)" != "${PINS[*]}" ]; then
  echo "[deploy] installing ${PINS[*]} into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PINS[@]}"
  printf '%s' "${PINS[*]}" > "$VENV/.requirements"
fi

echo "[deploy] Kubernetes manifests" >&2
"$VENV/bin/kubernetes-validate" --strict --kubernetes-version 1.31 deploy/kubernetes/*.yaml

echo "[deploy] GitHub Actions workflow" >&2
"$VENV/bin/check-jsonschema" --builtin-schema vendor.github-workflows deploy/github/deploy.yml

# The workflow's .env is also rendered (its jq program on sample Terraform outputs) and read by the binary.
export INGEST_BIN="${INGEST_BIN:-$PWD/.build/release/iceberg-ingest}"
[ -x "$INGEST_BIN" ] || swift build -c release -Xswiftc -enable-testing --product iceberg-ingest >/dev/null
"$VENV/bin/python" - <<'PY'
import json, sys, yaml
problems = []
workflow = yaml.safe_load(open("deploy/github/deploy.yml"))
steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
uses = " ".join(s.get("uses", "") for s in steps)
runs = " ".join(s.get("run", "") for s in steps)
for action in ["docker/build-push-action", "aws-actions/configure-aws-credentials", "hashicorp/setup-terraform"]:
    if action not in uses: problems.append(f"workflow: no step uses {action}")
for text in ["terraform -chdir=infra output -json", "> .env", "--from-env-file=.env", "deploy/kubernetes/cronjob.yaml", "deploy/kubernetes/deployment.yaml"]:
    if text not in runs: problems.append(f"workflow: no step runs '{text}'")
if workflow.get("permissions", {}).get("id-token") != "write": problems.append("workflow: OIDC needs permissions.id-token: write")
build = next(s for s in steps if "docker/build-push-action" in s.get("uses", ""))
if build["with"].get("file") != "deploy/Dockerfile": problems.append("workflow: the image is not built from deploy/Dockerfile")

# The workflow's own jq program, run on Terraform outputs of the documented shape: the .env it renders must
# give every ${VAR} the mounted job file needs (those without a default), and the job must read with it.
import re, subprocess, tempfile, os
render = next((s["run"] for s in steps if s.get("name") == "Render Terraform outputs into .env"), "")
program = re.search(r"jq -r '(.*?)' outputs\.json", render, re.S)
if not program:
    problems.append("workflow: no jq program renders outputs.json into .env")
else:
    outputs = {name: {"value": value, "type": "string", "sensitive": False} for name, value in {
        "source_bucket": "raw-events", "source_prefix": "clicks/", "warehouse_bucket": "lake", "glue_database": "analytics",
        "region": "eu-west-1", "ingest_role_arn": "arn:aws:iam::123456789012:role/iceberg-ingest-clicks"}.items()}
    rendered = subprocess.run(["jq", "-r", program.group(1)], input=json.dumps(outputs), capture_output=True, text=True, check=True).stdout
    env = dict(line.split("=", 1) for line in rendered.splitlines() if line)
    config = yaml.safe_load(open("deploy/kubernetes/job-config.yaml"))
    job_text = config["data"]["job.json"]
    wanted = set(re.findall(r"\$\{(\w+)\}", job_text))
    for name in sorted(wanted - env.keys()): problems.append(f"workflow: the rendered .env lacks {name}, which the job file needs")
    with tempfile.TemporaryDirectory() as tmp:
        open(os.path.join(tmp, "job.json"), "w").write(job_text)
        open(os.path.join(tmp, ".env"), "w").write(rendered)
        shown = subprocess.run([os.environ["INGEST_BIN"], "config", "--show", "--json", "--config", os.path.join(tmp, "job.json"),
                                "--env-file", os.path.join(tmp, ".env")], capture_output=True, text=True, env={"PATH": os.environ["PATH"]})
        if shown.returncode != 0: problems.append(f"workflow: the job does not read with the rendered .env: {shown.stderr.strip()}")
        elif "s3://raw-events/clicks/" not in shown.stdout: problems.append(f"workflow: config --show lacks the rendered source: {shown.stdout}")
        else: print(f"[deploy] the workflow's .env ({len(env)} variables) gives the job file all it needs", file=sys.stderr)

policy = json.load(open("deploy/aws/iam-policy.json"))
granted = set()
for statement in policy["Statement"]:
    if statement["Effect"] != "Allow": continue
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    for a in actions:
        if "*" in a: problems.append(f"policy: wildcard action {a}")
        granted.add(a)
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    if "*" in resources: problems.append(f"policy: statement {statement.get('Sid')} applies to every resource")
# What the code calls: S3 list/get/put/delete (batched deletes need s3:DeleteObject), multipart (PutObject,
# AbortMultipartUpload), and the Glue calls of GlueCatalog that ingestion makes (no deletes of tables).
needed = {"s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
          "glue:GetDatabase", "glue:GetDatabases", "glue:CreateDatabase", "glue:GetTable", "glue:GetTables",
          "glue:CreateTable", "glue:UpdateTable"}
for a in sorted(needed - granted): problems.append(f"policy: {a} is needed and not granted")
for a in sorted(granted - needed): problems.append(f"policy: {a} is granted and not needed")
if problems:
    print("\n".join("[deploy] " + p for p in problems), file=sys.stderr); sys.exit(1)
print(f"[deploy] workflow: {len(steps)} steps; policy: {len(granted)} actions, none wildcard", file=sys.stderr)
PY

scripts/check-bundle.sh
