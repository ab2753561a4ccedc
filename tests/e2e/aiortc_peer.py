"""A WHIP peer that is not a browser, for the Web SDK interop tests (interop.test.mjs): aiortc
publishes a test pattern (left half red, right half blue) and a 400 Hz tone, or subscribes to a
publisher and reports what it decoded. Reuses the media of tests/python/test_aiortc_interop.py.

  aiortc_peer.py publish   WHIP_URL TOKEN              runs until stdin closes
  aiortc_peer.py subscribe WHIP_URL TOKEN PUBLISHER    prints one JSON line of results

Progress and results are JSON lines on stdout.
"""

import asyncio
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))

from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import MediaStreamError  # noqa: E402

from test_aiortc_interop import PatternTrack, ToneTrack, connected, whip  # noqa: E402

RECEIVE_TIMEOUT = 30


def say(**fields):
    print(json.dumps(fields), flush=True)


async def session(url, token, pc):
    await pc.setLocalDescription(await pc.createOffer())
    status, headers, answer = await whip("POST", url, token, pc.localDescription.sdp)
    if status != 201:
        say(event="refused", status=status, body=answer)
        sys.exit(1)
    await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    return headers["Location"]


async def publish(whip_url, token):
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(ToneTrack())
    sender = pc.addTrack(PatternTrack())
    transceiver = next(t for t in pc.getTransceivers() if t.sender is sender)
    transceiver.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == "video/VP8"])
    location = await session(whip_url, token, pc)
    await connected(pc, "aiortc publisher")
    say(event="published")
    await asyncio.to_thread(sys.stdin.read)  # until the test closes our stdin
    await whip("DELETE", whip_url.rsplit("/whip", 1)[0] + location, token)
    await pc.close()


async def subscribe(whip_url, token, publisher):
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("audio", direction="recvonly")
    pc.addTransceiver("video", direction="recvonly")
    tracks = {}
    pc.on("track", lambda track: tracks.setdefault(track.kind, track))
    await session(f"{whip_url}/subscribe/{publisher}", token, pc)
    await connected(pc, "aiortc subscriber")
    say(event="subscribed")
    result = {"video_frames": 0, "audio_frames": 0, "width": 0, "height": 0}

    async def count(kind, wanted):
        while result[f"{kind}_frames"] < wanted:
            try:
                frame = await tracks[kind].recv()
            except MediaStreamError:
                return
            result[f"{kind}_frames"] += 1
            if kind == "video":
                result["width"], result["height"] = frame.width, frame.height

    try:
        await asyncio.wait_for(asyncio.gather(count("video", 30), count("audio", 50)), RECEIVE_TIMEOUT)
    except asyncio.TimeoutError:
        pass
    say(event="result", **result)
    await pc.close()


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "publish":
        asyncio.run(publish(*args))
    elif mode == "subscribe":
        asyncio.run(subscribe(*args))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
