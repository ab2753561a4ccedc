"""Troupe with boto3 (botocore's own ivs-realtime model): stages, participant tokens, public
keys, tags, and every error type as boto3 reports it (code, message, HTTP status)."""

import base64
import datetime
import json
import re
import subprocess

import pytest
from botocore.exceptions import ClientError

ACCOUNT_ARN = "arn:aws:ivs:us-east-1:000000000000"
MISSING_STAGE = f"{ACCOUNT_ARN}:stage/doesNotExist"


def p384_public_pem():
    """A fresh P-384 public key as SPKI PEM (openssl; `cryptography` is not a boto3 dependency)."""
    private = subprocess.run(
        ["openssl", "ecparam", "-name", "secp384r1", "-genkey", "-noout"],
        check=True, capture_output=True,
    ).stdout
    return subprocess.run(
        ["openssl", "ec", "-pubout"], input=private, check=True, capture_output=True,
    ).stdout.decode()


def jwt_payload(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def expect_error(call, code, status, **kwargs):
    """Runs `call(**kwargs)`, expects a ClientError with `code` and `status`; returns the error."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    err = info.value
    assert err.response["Error"]["Code"] == code, err.response
    assert err.response["Error"]["Message"], f"{code} has a message: {err.response}"
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == status, err.response
    assert err.response["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-errortype") == code
    return err


# --- stages -------------------------------------------------------------------------------


def test_create_stage_with_participant_tokens(ivs, troupe_url):
    before = datetime.datetime.now(datetime.timezone.utc)
    out = ivs.create_stage(
        name="call-in-show",
        tags={"team": "video"},
        participantTokenConfigurations=[
            {"userId": "host", "capabilities": ["PUBLISH", "SUBSCRIBE"], "attributes": {"role": "host"}, "duration": 60},
            {"userId": "viewer", "capabilities": ["SUBSCRIBE"]},
        ],
    )
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert out["ResponseMetadata"]["RequestId"], "x-amzn-RequestId is read by botocore"
    stage = out["stage"]
    assert re.fullmatch(rf"{ACCOUNT_ARN}:stage/[A-Za-z0-9]{{12}}", stage["arn"]), stage["arn"]
    assert stage["name"] == "call-in-show"
    assert stage["tags"] == {"team": "video"}
    assert "activeSessionId" not in stage
    assert stage["endpoints"] == {
        "whip": f"{troupe_url}/whip",
        "events": troupe_url.replace("http://", "ws://") + "/events",
    }

    host, viewer = out["participantTokens"]
    assert host["userId"] == "host"
    assert host["capabilities"] == ["PUBLISH", "SUBSCRIBE"]
    assert host["attributes"] == {"role": "host"}
    assert host["duration"] == 60
    assert isinstance(host["expirationTime"], datetime.datetime), "expirationTime is parsed into a datetime"
    assert host["expirationTime"].tzinfo is not None
    minutes_left = (host["expirationTime"] - before).total_seconds() / 60
    assert 59 < minutes_left <= 61, minutes_left
    claims = jwt_payload(host["token"])
    assert claims["exp"] == int(host["expirationTime"].timestamp())
    assert claims["jti"] == host["participantId"]
    assert claims["resource"] == stage["arn"]
    assert viewer["capabilities"] == ["SUBSCRIBE"]
    assert viewer["duration"] == 720, "default duration is 12 hours"
    assert host["participantId"] != viewer["participantId"]


def test_get_update_delete_stage(ivs):
    stage = ivs.create_stage(name="before")["stage"]
    assert ivs.get_stage(arn=stage["arn"])["stage"] == stage
    updated = ivs.update_stage(arn=stage["arn"], name="after")["stage"]
    assert updated["name"] == "after"
    assert ivs.get_stage(arn=stage["arn"])["stage"]["name"] == "after"
    ivs.delete_stage(arn=stage["arn"])
    expect_error(ivs.get_stage, "ResourceNotFoundException", 404, arn=stage["arn"])
    expect_error(ivs.delete_stage, "ResourceNotFoundException", 404, arn=stage["arn"])
    expect_error(ivs.update_stage, "ResourceNotFoundException", 404, arn=stage["arn"], name="x")


def test_list_stages_pages(ivs):
    # botocore defines no paginator for ListStages, so follow nextToken by hand.
    assert not ivs.can_paginate("list_stages")
    created = {ivs.create_stage(name=f"page{i}")["stage"]["arn"] for i in range(7)}
    seen, pages, token = [], 0, None
    while True:
        page = ivs.list_stages(maxResults=3, **({"nextToken": token} if token else {}))
        pages += 1
        for summary in page["stages"]:
            assert "arn" in summary and "name" in summary and "tags" in summary
            seen.append(summary["arn"])
        token = page.get("nextToken")
        if not token:
            break
    assert len(seen) == len(set(seen)), "no stage listed twice"
    assert created <= set(seen)
    assert pages >= 3


def test_create_participant_token(ivs):
    stage_arn = ivs.create_stage(name="tokens")["stage"]["arn"]
    pt = ivs.create_participant_token(
        stageArn=stage_arn, userId="alice", duration=90, attributes={"seat": "3"}, capabilities=["PUBLISH"],
    )["participantToken"]
    assert isinstance(pt["expirationTime"], datetime.datetime)
    assert pt["userId"] == "alice"
    assert pt["capabilities"] == ["PUBLISH"]
    assert pt["duration"] == 90
    claims = jwt_payload(pt["token"])
    assert claims["user_id"] == "alice"
    assert claims["capabilities"] == {"allow_publish": True, "allow_subscribe": False}
    assert claims["exp"] - claims["iat"] == 90 * 60
    assert claims["exp"] == int(pt["expirationTime"].timestamp())

    default = ivs.create_participant_token(stageArn=stage_arn)["participantToken"]
    assert default["capabilities"] == ["PUBLISH", "SUBSCRIBE"]
    assert default["duration"] == 720
    expect_error(ivs.create_participant_token, "ResourceNotFoundException", 404, stageArn=MISSING_STAGE)


# --- public keys ----------------------------------------------------------------------------


def test_public_keys(ivs):
    pem = p384_public_pem()
    key = ivs.import_public_key(publicKeyMaterial=pem, name="signer", tags={"env": "test"})["publicKey"]
    assert re.fullmatch(rf"{ACCOUNT_ARN}:public-key/[A-Za-z0-9]+", key["arn"]), key["arn"]
    assert key["name"] == "signer"
    assert key["publicKeyMaterial"].strip() == pem.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", key["fingerprint"])
    assert key["tags"] == {"env": "test"}
    assert ivs.get_public_key(arn=key["arn"])["publicKey"] == key

    more = [ivs.import_public_key(publicKeyMaterial=p384_public_pem(), name=f"k{i}")["publicKey"]["arn"] for i in range(3)]
    # ListPublicKeys has a botocore paginator: it follows nextToken for us.
    assert ivs.can_paginate("list_public_keys")
    pages = list(ivs.get_paginator("list_public_keys").paginate(PaginationConfig={"PageSize": 2}))
    assert len(pages) >= 2
    listed = [k["arn"] for page in pages for k in page["publicKeys"]]
    assert all("publicKeyMaterial" not in k for page in pages for k in page["publicKeys"])
    assert len(listed) == len(set(listed))
    assert {key["arn"], *more} <= set(listed)

    ivs.delete_public_key(arn=key["arn"])
    expect_error(ivs.get_public_key, "ResourceNotFoundException", 404, arn=key["arn"])
    expect_error(ivs.delete_public_key, "ResourceNotFoundException", 404, arn=key["arn"])


# --- tags -----------------------------------------------------------------------------------


def test_tags(ivs):
    odd_key = "with space/and:colon"
    arn = ivs.create_stage(name="tagged", tags={"a": "1"})["stage"]["arn"]
    ivs.tag_resource(resourceArn=arn, tags={"b": "2", "a": "one", odd_key: "v"})
    assert ivs.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "one", "b": "2", odd_key: "v"}
    # UntagResource sends tagKeys in the query string: the odd key must survive the encoding
    # and the signature.
    ivs.untag_resource(resourceArn=arn, tagKeys=["a", odd_key, "absent"])
    assert ivs.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}
    assert ivs.get_stage(arn=arn)["stage"]["tags"] == {"b": "2"}

    key_arn = ivs.import_public_key(publicKeyMaterial=p384_public_pem())["publicKey"]["arn"]
    ivs.tag_resource(resourceArn=key_arn, tags={"owner": "backend"})
    assert ivs.list_tags_for_resource(resourceArn=key_arn)["tags"] == {"owner": "backend"}
    expect_error(ivs.list_tags_for_resource, "ResourceNotFoundException", 404, resourceArn=MISSING_STAGE)


# --- errors ---------------------------------------------------------------------------------


def test_validation_exception(ivs):
    err = expect_error(ivs.create_stage, "ValidationException", 400, name="no spaces allowed")
    assert "name" in err.response["Error"]["Message"]
    assert isinstance(err, ivs.exceptions.ValidationException), "botocore maps it to the modeled exception"
    err = expect_error(ivs.get_stage, "ValidationException", 400, arn="arn:aws:ivs:us-east-1:1:channel/x")
    assert "arn" in err.response["Error"]["Message"]
    expect_error(ivs.list_stages, "ValidationException", 400, nextToken="made-up")


def test_resource_not_found_exception(ivs):
    err = expect_error(ivs.get_stage, "ResourceNotFoundException", 404, arn=MISSING_STAGE)
    assert isinstance(err, ivs.exceptions.ResourceNotFoundException)


def test_conflict_exception_on_duplicate_public_key(ivs):
    pem = p384_public_pem()
    ivs.import_public_key(publicKeyMaterial=pem)
    err = expect_error(ivs.import_public_key, "ConflictException", 409, publicKeyMaterial=pem)
    assert isinstance(err, ivs.exceptions.ConflictException)


def test_service_quota_exceeded_exception(start_troupe):
    small = start_troupe("--max-stages", "1")
    ivs = small.client()
    ivs.create_stage(name="only")
    err = expect_error(ivs.create_stage, "ServiceQuotaExceededException", 402, name="one-too-many")
    assert isinstance(err, ivs.exceptions.ServiceQuotaExceededException)


def test_access_denied_exception_for_read_only_credentials(start_troupe, tmp_path):
    config = tmp_path / "troupe.toml"
    config.write_text(
        '[[credentials]]\naccess_key_id = "admin"\nsecret_access_key = "admin-secret"\n\n'
        '[[credentials]]\naccess_key_id = "ro"\nsecret_access_key = "s"\nread_only = true\n'
    )
    server = start_troupe("--config", str(config))
    admin = server.client("admin", "admin-secret")
    ro = server.client("ro", "s")
    arn = admin.create_stage(name="x")["stage"]["arn"]
    assert ro.get_stage(arn=arn)["stage"]["name"] == "x"
    ro.list_stages()
    err = expect_error(ro.delete_stage, "AccessDeniedException", 403, arn=arn)
    assert isinstance(err, ro.exceptions.AccessDeniedException)
    expect_error(ro.create_stage, "AccessDeniedException", 403, name="y")


def test_unrecognized_client_exception(troupe_server):
    c = troupe_server.client("nobody", "x")
    expect_error(c.list_stages, "UnrecognizedClientException", 403)


def test_invalid_signature_exception(troupe_server):
    c = troupe_server.client("devkey", "wrong")
    err = expect_error(c.list_stages, "InvalidSignatureException", 403)
    assert "signature" in err.response["Error"]["Message"].lower()
    assert err.response["ResponseMetadata"]["RetryAttempts"] == 0


def test_signed_for_any_region(troupe_server):
    for region in ("us-east-1", "eu-central-1", "ap-south-1"):
        assert isinstance(troupe_server.client(region=region).list_stages()["stages"], list)


def test_operations_not_implemented_name_themselves(ivs):
    stage_arn = ivs.create_stage(name="composed")["stage"]["arn"]
    destinations = [{"channel": {"channelArn": f"{ACCOUNT_ARN}:channel/abcdefgh1234"}}]
    err = expect_error(ivs.start_composition, "NotImplementedException", 501, stageArn=stage_arn, destinations=destinations)
    assert "StartComposition" in err.response["Error"]["Message"]
    assert err.response["ResponseMetadata"]["RetryAttempts"] == 0, "501 is not retried"
    err = expect_error(ivs.list_compositions, "NotImplementedException", 501)
    assert "ListCompositions" in err.response["Error"]["Message"]
