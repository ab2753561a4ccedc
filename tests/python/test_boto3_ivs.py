"""Troupe's channel API with boto3's `ivs` client (botocore's own low-latency streaming model):
channels, stream keys, streams, stream sessions, recording configurations, tags, and each
error as boto3 reports it (code, message, HTTP status); and `troupe channel create`."""

import json
import re
import subprocess

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import DEV_KEY, DEV_SECRET, TROUPE_BIN

ACCOUNT_ARN = "arn:aws:ivs:us-east-1:000000000000"
MISSING_CHANNEL = f"{ACCOUNT_ARN}:channel/doesNotExist"


@pytest.fixture(scope="module")
def channels(troupe_url):
    """A boto3 `ivs` client with the dev credentials, pointed at the module's server."""
    return boto3.client(
        "ivs",
        endpoint_url=troupe_url,
        region_name="us-east-1",
        aws_access_key_id=DEV_KEY,
        aws_secret_access_key=DEV_SECRET,
    )


def expect_error(call, code, status, **kwargs):
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    err = info.value
    assert err.response["Error"]["Code"] == code, err.response
    assert err.response["Error"]["Message"], f"{code} has a message: {err.response}"
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == status, err.response
    return err


def test_create_get_update_delete_channel(channels, troupe_url):
    out = channels.create_channel(name="boto-show", latencyMode="NORMAL", tags={"team": "video"})
    channel, key = out["channel"], out["streamKey"]
    assert re.fullmatch(rf"{ACCOUNT_ARN}:channel/[A-Za-z0-9]{{12}}", channel["arn"])
    channel_id = channel["arn"].rsplit("/", 1)[1]
    assert channel["latencyMode"] == "NORMAL"
    assert channel["type"] == "STANDARD"
    assert channel["authorized"] is False
    assert channel["recordingConfigurationArn"] == ""
    assert channel["ingestEndpoint"] == "127.0.0.1"
    assert channel["playbackUrl"] == f"{troupe_url}/playback/{channel_id}/index.m3u8"
    assert re.fullmatch(r"sk_us-east-1_[A-Za-z0-9]{32}", key["value"])
    assert channels.get_channel(arn=channel["arn"])["channel"] == channel

    updated = channels.update_channel(arn=channel["arn"], name="renamed", insecureIngest=True)["channel"]
    assert (updated["name"], updated["insecureIngest"], updated["latencyMode"]) == ("renamed", True, "NORMAL")

    deleted = channels.delete_channel(arn=channel["arn"])
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error(channels.get_channel, "ResourceNotFoundException", 404, arn=channel["arn"])
    expect_error(channels.get_stream_key, "ResourceNotFoundException", 404, arn=key["arn"])


def test_channel_errors_name_the_member(channels):
    for kwargs, member in [
        ({"latencyMode": "FAST"}, "latencyMode"),
        ({"type": "PREMIUM"}, "type"),
        ({"name": "bad name"}, "name"),
        ({"recordingConfigurationArn": "arn:aws:ivs:us-east-1:000000000000:stage/abc"}, "recordingConfigurationArn"),
    ]:
        err = expect_error(channels.create_channel, "ValidationException", 400, **kwargs)
        assert member in err.response["Error"]["Message"], err.response
    expect_error(
        channels.create_channel, "ResourceNotFoundException", 404,
        recordingConfigurationArn=f"{ACCOUNT_ARN}:recording-configuration/missing",
    )
    expect_error(channels.get_channel, "ResourceNotFoundException", 404, arn=MISSING_CHANNEL)
    expect_error(channels.delete_channel, "ResourceNotFoundException", 404, arn=MISSING_CHANNEL)
    expect_error(
        channels.list_channels, "ConflictException", 409,
        filterByName="a", filterByRecordingConfigurationArn=f"{ACCOUNT_ARN}:recording-configuration/x",
    )


def test_batch_get_and_paginated_list(channels):
    arns = [channels.create_channel(name="paged")["channel"]["arn"] for _ in range(3)]
    batch = channels.batch_get_channel(arns=[arns[0], MISSING_CHANNEL])
    assert [c["arn"] for c in batch["channels"]] == [arns[0]]
    assert batch["errors"][0]["code"] == "ResourceNotFoundException"
    paginator = channels.get_paginator("list_channels")
    seen = [c["arn"] for page in paginator.paginate(filterByName="paged", PaginationConfig={"PageSize": 2}) for c in page["channels"]]
    assert seen == arns


def test_stream_key_quota_and_rotation(channels):
    out = channels.create_channel(name="keyed")
    channel_arn, key = out["channel"]["arn"], out["streamKey"]
    err = expect_error(channels.create_stream_key, "ServiceQuotaExceededException", 402, channelArn=channel_arn)
    assert "stream key" in err.response["Error"]["Message"]
    listed = channels.list_stream_keys(channelArn=channel_arn)["streamKeys"]
    assert listed == [{"arn": key["arn"], "channelArn": channel_arn, "tags": {}}]
    channels.delete_stream_key(arn=key["arn"])
    fresh = channels.create_stream_key(channelArn=channel_arn)["streamKey"]
    assert fresh["value"] != key["value"]
    expect_error(channels.create_stream_key, "ResourceNotFoundException", 404, channelArn=MISSING_CHANNEL)


def test_streams_when_offline(channels):
    channel_arn = channels.create_channel(name="quiet")["channel"]["arn"]
    expect_error(channels.get_stream, "ChannelNotBroadcasting", 404, channelArn=channel_arn)
    expect_error(channels.stop_stream, "ChannelNotBroadcasting", 404, channelArn=channel_arn)
    streams = channels.list_streams(filterBy={"health": "HEALTHY"})["streams"]
    assert all(s["channelArn"] != channel_arn for s in streams)
    expect_error(channels.list_streams, "ValidationException", 400, filterBy={"health": "GREAT"})
    assert channels.list_stream_sessions(channelArn=channel_arn)["streamSessions"] == []
    expect_error(channels.get_stream_session, "ResourceNotFoundException", 404, channelArn=channel_arn)


def test_recording_configurations(channels):
    rc = channels.create_recording_configuration(
        name="vod", destinationConfiguration={"s3": {"bucketName": "boto-recordings"}},
        thumbnailConfiguration={"recordingMode": "DISABLED"},
    )["recordingConfiguration"]
    assert rc["state"] == "ACTIVE"
    assert rc["thumbnailConfiguration"]["recordingMode"] == "DISABLED"
    assert channels.get_recording_configuration(arn=rc["arn"])["recordingConfiguration"] == rc
    channel_arn = channels.create_channel(recordingConfigurationArn=rc["arn"])["channel"]["arn"]
    expect_error(channels.delete_recording_configuration, "ConflictException", 409, arn=rc["arn"])
    channels.update_channel(arn=channel_arn, recordingConfigurationArn="")
    assert channels.delete_recording_configuration(arn=rc["arn"])["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error(
        channels.create_recording_configuration, "ValidationException", 400,
        destinationConfiguration={"s3": {"bucketName": "Not_Valid"}},
    )


def test_tags_on_channel_resources(channels):
    out = channels.create_channel(name="tags", tags={"a": "1"})
    for arn in [out["channel"]["arn"], out["streamKey"]["arn"]]:
        channels.tag_resource(resourceArn=arn, tags={"b": "2"})
        channels.untag_resource(resourceArn=arn, tagKeys=["a"])
        tags = channels.list_tags_for_resource(resourceArn=arn)["tags"]
        assert tags == {"b": "2"}, arn
    expect_error(channels.tag_resource, "ResourceNotFoundException", 404, resourceArn=MISSING_CHANNEL, tags={"a": "b"})


def test_troupe_channel_create_prints_what_to_stream_to(start_troupe, tmp_path):
    """The CLI writes to the node's store; a server on the same data directory serves it."""
    data_dir = tmp_path / "data"
    run = subprocess.run(
        [TROUPE_BIN, "channel", "create", "--dev", "--data-dir", str(data_dir), "--name", "cli-show", "--json"],
        capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    channel_id = out["channelId"]
    assert out["rtmpServer"].startswith("rtmp://") and out["rtmpServer"].endswith("/app/")
    assert out["rtmpUrl"] == out["rtmpServer"] + out["streamKey"]
    assert out["whipUrl"].endswith("/ingest/whip")
    assert out["playbackUrl"].endswith(f"/playback/{channel_id}/index.m3u8")
    assert out["watchUrl"].endswith(f"/watch/{channel_id}")

    text = subprocess.run(
        [TROUPE_BIN, "channel", "create", "--dev", "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=60,
    )
    assert text.returncode == 0, text.stderr
    for label in ["RTMP server", "Stream key", "WHIP ingest", "Playback", "Watch page"]:
        assert label in text.stdout, text.stdout

    server = start_troupe(data_dir=data_dir)
    client = boto3.client(
        "ivs", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=DEV_KEY, aws_secret_access_key=DEV_SECRET,
    )
    channel = client.get_channel(arn=out["channelArn"])["channel"]
    assert channel["name"] == "cli-show"
    keys = client.list_stream_keys(channelArn=out["channelArn"])["streamKeys"]
    assert client.get_stream_key(arn=keys[0]["arn"])["streamKey"]["value"] == out["streamKey"]
