"""Troupe with the AWS CLI (v1, from PyPI: the `aws` command of the awscli package, driven by
botocore's ivs-realtime model): JSON output of real commands, and how errors are printed."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from test_boto3 import p384_public_pem


def aws_command():
    """The `aws` script installed next to this Python (the test virtualenv), else the one on PATH."""
    script = Path(sys.executable).parent / "aws"
    if script.exists():
        return [sys.executable, str(script)]
    found = shutil.which("aws")
    if not found:
        pytest.fail("the AWS CLI (awscli) is not installed: run scripts/test, which installs requirements-test.txt")
    return [found]


def aws(url, *args, key="devkey", secret="devsecret", check=True):
    """Runs `aws ivs-realtime ARGS` against `url` with only these credentials and no config."""
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
    }
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION"):
        env.pop(name, None)
    result = subprocess.run(
        [*aws_command(), "ivs-realtime", *args, "--endpoint-url", url, "--region", "us-east-1", "--output", "json"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    if check:
        assert result.returncode == 0, f"aws {' '.join(args)} failed ({result.returncode}):\n{result.stderr}"
    return result


def test_create_get_list_stage(troupe_url):
    created = json.loads(aws(
        troupe_url, "create-stage", "--name", "x", "--tags", "team=video",
        "--participant-token-configurations", "userId=host,duration=60,capabilities=PUBLISH",
    ).stdout)
    stage = created["stage"]
    assert stage["arn"].startswith("arn:aws:ivs:us-east-1:000000000000:stage/")
    assert stage["name"] == "x"
    assert stage["tags"] == {"team": "video"}
    assert stage["endpoints"]["whip"] == f"{troupe_url}/whip"
    (token,) = created["participantTokens"]
    assert token["userId"] == "host"
    assert token["duration"] == 60
    assert token["capabilities"] == ["PUBLISH"]
    assert token["expirationTime"].endswith("Z") or "+" in token["expirationTime"]
    assert token["token"].count(".") == 2

    got = json.loads(aws(troupe_url, "get-stage", "--arn", stage["arn"]).stdout)
    assert got["stage"] == stage
    listed = json.loads(aws(troupe_url, "list-stages").stdout)
    assert stage["arn"] in [s["arn"] for s in listed["stages"]]

    aws(troupe_url, "delete-stage", "--arn", stage["arn"])
    gone = aws(troupe_url, "get-stage", "--arn", stage["arn"], check=False)
    assert gone.returncode != 0
    assert "ResourceNotFoundException" in gone.stderr


def test_public_keys_from_a_file_and_auto_pagination(troupe_url, tmp_path):
    arns = []
    for i in range(3):
        pem_file = tmp_path / f"key{i}.pem"
        pem_file.write_text(p384_public_pem())
        out = json.loads(aws(troupe_url, "import-public-key", "--name", f"cli{i}", "--public-key-material", f"file://{pem_file}").stdout)
        assert out["publicKey"]["publicKeyMaterial"].strip() == pem_file.read_text().strip()
        arns.append(out["publicKey"]["arn"])
    # The CLI follows nextToken itself (botocore paginator), one request per page of 1.
    listed = json.loads(aws(troupe_url, "list-public-keys", "--page-size", "1").stdout)
    got = [k["arn"] for k in listed["publicKeys"]]
    assert set(arns) <= set(got)
    assert len(got) == len(set(got))
    assert "nextToken" not in listed


def test_errors_print_type_and_message(troupe_url):
    missing = "arn:aws:ivs:us-east-1:000000000000:stage/nope"
    result = aws(troupe_url, "get-stage", "--arn", missing, check=False)
    # awscli v1 exits 255 on a service error (v2 uses 254).
    assert result.returncode in (254, 255), result
    assert "An error occurred (ResourceNotFoundException) when calling the GetStage operation" in result.stderr
    assert missing in result.stderr, "the server's message is printed"
    assert result.stdout == ""

    result = aws(troupe_url, "create-stage", "--name", "no spaces", check=False)
    assert result.returncode in (254, 255)
    assert "(ValidationException)" in result.stderr

    result = aws(troupe_url, "list-stages", secret="wrong", check=False)
    assert result.returncode in (254, 255)
    assert "(InvalidSignatureException)" in result.stderr
