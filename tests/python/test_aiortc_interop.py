"""aiortc, a WebRTC stack Troupe's authors did not write, against Troupe over WHIP.

One aiortc peer publishes audio and video into a stage (`POST /whip`), a second one subscribes to
it (`POST /whip/subscribe/{participantId}`) and decodes what Troupe forwards. The publisher sends
content the subscriber can recognise after lossy coding: a 400 Hz tone, and frames whose left
half is red and right half blue. The subscriber joins a second after the publisher started, so
its first video frame also depends on Troupe asking the publisher for a keyframe (aiortc's VP8
encoder sends one at the start and then only when asked). Run for VP8 and for H.264 (42e01f,
packetization-mode 1).

aiortc never uses 127.0.0.1 candidates, so the server advertises (`--node-ip`) this machine's
first non-loopback IPv4; only this machine's own addresses are used, and no STUN server.
"""

import array
import asyncio
import fractions
import ipaddress
import math
import re
import time
import urllib.error
import urllib.request

import av
import ifaddr
import pytest
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.mediastreams import MediaStreamError

WIDTH, HEIGHT = 320, 240
# BT.601 limited-range Y, U, V of the two halves of every published frame.
LEFT_RED = (81, 90, 240)
RIGHT_BLUE = (41, 240, 110)
# How far a decoded region's mean may be from the published value (VP8 and H.264 are lossy, but
# flat colours survive them within a few steps).
COLOUR_TOLERANCE = 20

AUDIO_RATE = 48000
AUDIO_SAMPLES = 960  # 20 ms, a whole number of periods of the tone
TONE_HZ = 400
TONE_AMPLITUDE = 8000

VIDEO_FRAMES = 30  # about a second at aiortc's 30 fps
AUDIO_FRAMES = 60  # 1.2 s
AUDIO_WARMUP_FRAMES = 10  # not analysed: the decoder's first frames may fade in
MEDIA_TIMEOUT = 30
CONNECT_TIMEOUT = 15

CODECS = {
    "VP8": lambda c: c.mimeType == "video/VP8",
    "H264": lambda c: c.mimeType == "video/H264"
    and c.parameters.get("profile-level-id") == "42e01f"
    and str(c.parameters.get("packetization-mode")) == "1",
}


def node_ipv4():
    """This machine's first non-loopback IPv4 address (the server's own default rule), read
    with ifaddr, the library aiortc gathers its host candidates with."""
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and not ipaddress.IPv4Address(ip.ip).is_loopback:
                return ip.ip
    return None


# --- what the publisher sends --------------------------------------------------------------


class PatternTrack(VideoStreamTrack):
    """320x240 frames at 30 fps (aiortc's own pacing): left half red, right half blue."""

    def __init__(self):
        super().__init__()
        self.sent = 0
        template = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        self._planes = []
        for i, plane in enumerate(template.planes):
            half = plane.width // 2
            row = bytes([LEFT_RED[i]]) * half + bytes([RIGHT_BLUE[i]]) * (plane.width - half)
            row += bytes(plane.line_size - plane.width)
            self._planes.append(row * plane.height)

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        for plane, data in zip(frame.planes, self._planes):
            plane.update(data)
        frame.pts, frame.time_base = pts, time_base
        self.sent += 1
        return frame


class ToneTrack(MediaStreamTrack):
    """A 400 Hz sine, mono, 48 kHz, in 20 ms frames paced in real time."""

    kind = "audio"

    def __init__(self):
        super().__init__()
        self._pcm = array.array(
            "h",
            (
                round(TONE_AMPLITUDE * math.sin(2 * math.pi * TONE_HZ * n / AUDIO_RATE))
                for n in range(AUDIO_SAMPLES)
            ),
        ).tobytes()
        self._start = None
        self._pts = 0

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._pts += AUDIO_SAMPLES
            await asyncio.sleep(max(0.0, self._start + self._pts / AUDIO_RATE - time.monotonic()))
        frame = av.AudioFrame(format="s16", layout="mono", samples=AUDIO_SAMPLES)
        plane = frame.planes[0]
        plane.update(self._pcm + bytes(plane.buffer_size - len(self._pcm)))
        frame.pts, frame.sample_rate = self._pts, AUDIO_RATE
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        return frame


# --- what the subscriber checks ------------------------------------------------------------


def region_mean(plane, x0, x1, y0, y1):
    data, stride = bytes(plane), plane.line_size
    total = sum(sum(data[y * stride + x0 : y * stride + x1]) for y in range(y0, y1))
    return total / ((x1 - x0) * (y1 - y0))


def frame_colours(frame):
    """The mean (Y, U, V) of the inner parts of the left and right halves of a decoded frame."""
    if frame.format.name != "yuv420p":
        frame = frame.reformat(format="yuv420p")
    left, right = [], []
    for plane in frame.planes:
        w, h = plane.width, plane.height
        y0, y1 = h // 10, h - h // 10
        left.append(region_mean(plane, w // 10, 4 * w // 10, y0, y1))
        right.append(region_mean(plane, 6 * w // 10, 9 * w // 10, y0, y1))
    return tuple(left), tuple(right)


def near(measured, expected):
    return all(abs(m - e) <= COLOUR_TOLERANCE for m, e in zip(measured, expected))


def tone_of(frames):
    """(RMS, frequency in Hz from upward zero crossings) of the first channel of decoded
    16-bit interleaved audio frames."""
    samples = array.array("h")
    for frame in frames:
        assert frame.format.name == "s16", f"aiortc decodes Opus to packed s16, got {frame.format.name}"
        channels = len(frame.layout.channels)
        pcm = array.array("h", bytes(frame.planes[0])[: frame.samples * channels * 2])
        samples.extend(pcm[::channels])
    rms = math.sqrt(sum(s * s for s in samples) / len(samples))
    crossings = sum(1 for a, b in zip(samples, samples[1:]) if a < 0 <= b)
    return rms, crossings * AUDIO_RATE / len(samples)


def answer_sections(sdp):
    """{kind: {"port": int, "codecs": {pt: "NAME/rate"}, "fmtp": {pt: str}, "candidates": [str]}}
    of an SDP answer."""
    sections, current = {}, None
    for line in sdp.splitlines():
        if line.startswith("m="):
            kind, port = line[2:].split()[:2]
            current = sections[kind] = {"port": int(port), "codecs": {}, "fmtp": {}, "candidates": []}
        elif current is None:
            continue
        elif m := re.match(r"a=rtpmap:(\d+) (\S+)", line):
            current["codecs"][int(m.group(1))] = m.group(2)
        elif m := re.match(r"a=fmtp:(\d+) (\S+)", line):
            current["fmtp"][int(m.group(1))] = m.group(2)
        elif line.startswith("a=candidate:"):
            current["candidates"].append(line)
    return sections


def codec_name(section, pt):
    name = section["codecs"].get(pt, "?").split("/")[0]
    if name.lower() == "rtx":  # a retransmission of apt=
        apt = int(section["fmtp"][pt].split("apt=")[1].split(";")[0])
        return codec_name(section, apt)
    return name


# --- WHIP over plain HTTP ------------------------------------------------------------------


def http(method, url, token, sdp=None):
    """(status, headers, body) of one request; HTTP errors are returned, not raised."""
    headers = {"Authorization": f"Bearer {token}"}
    if sdp is not None:
        headers["Content-Type"] = "application/sdp"
    request = urllib.request.Request(
        url, data=sdp.encode() if sdp is not None else None, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


async def whip(method, url, token, sdp=None):
    # In a thread: the event loop keeps running aiortc (its media and ICE) meanwhile.
    return await asyncio.to_thread(http, method, url, token, sdp)


async def connected(pc, what):
    """Waits for `pc` to reach "connected"; fails at once on "failed" or "closed"."""
    done = asyncio.get_running_loop().create_future()

    def changed():
        if pc.connectionState == "connected" and not done.done():
            done.set_result(None)
        elif pc.connectionState in ("failed", "closed") and not done.done():
            done.set_exception(AssertionError(f"{what}: connection {pc.connectionState}"))

    pc.on("connectionstatechange", changed)
    changed()
    try:
        await asyncio.wait_for(done, CONNECT_TIMEOUT)
    except asyncio.TimeoutError:
        raise AssertionError(
            f"{what}: still {pc.connectionState!r} (ICE {pc.iceConnectionState!r}) after "
            f"{CONNECT_TIMEOUT} s"
        ) from None


def record_rtp(receiver, seen):
    """Counts the payload types of the RTP packets reaching an aiortc receiver."""
    original = receiver._handle_rtp_packet

    async def handle(packet, arrival_time_ms):
        seen[packet.payload_type] = seen.get(packet.payload_type, 0) + 1
        await original(packet, arrival_time_ms=arrival_time_ms)

    receiver._handle_rtp_packet = handle


def stats_of(report, kind_type, kind):
    found = [s for s in report.values() if s.type == kind_type and s.kind == kind]
    assert found, f"no {kind_type} stats for {kind}"
    return found


# --- the test ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node_ip():
    ip = node_ipv4()
    if ip is None:
        pytest.skip("this machine has no non-loopback IPv4 address, and aiortc ignores 127.0.0.1")
    return ip


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_aiortc_publishes_and_another_aiortc_subscribes(start_troupe, node_ip, codec):
    server = start_troupe("--node-ip", node_ip)
    ivs = server.client()
    stage = ivs.create_stage(name=f"aiortc-{codec}")["stage"]

    def token(user, capability):
        return ivs.create_participant_token(
            stageArn=stage["arn"], userId=user, capabilities=[capability]
        )["participantToken"]

    publisher_token, subscriber_token = token("aiortc-pub", "PUBLISH"), token("aiortc-sub", "SUBSCRIBE")
    asyncio.run(interop(server.url, node_ip, codec, publisher_token, subscriber_token))


async def interop(url, node_ip, codec, publisher_token, subscriber_token):
    config = RTCConfiguration(iceServers=[])  # host candidates only: no STUN server
    publisher, subscriber = RTCPeerConnection(config), RTCPeerConnection(config)
    open_sessions = []  # (Location, token) to DELETE if the test fails half-way
    try:
        # Publish: sendrecv (as IVS's sample clients offer), video restricted to `codec`.
        video, tone = PatternTrack(), ToneTrack()
        publisher.addTrack(tone)
        video_sender = publisher.addTrack(video)
        video_transceiver = next(t for t in publisher.getTransceivers() if t.sender is video_sender)
        preferred = [c for c in RTCRtpSender.getCapabilities("video").codecs if CODECS[codec](c)]
        assert len(preferred) == 1, preferred
        video_transceiver.setCodecPreferences(preferred)
        await publisher.setLocalDescription(await publisher.createOffer())
        offer = publisher.localDescription.sdp
        status, headers, answer = await whip("POST", f"{url}/whip", publisher_token["token"], offer)
        assert status == 201, (status, answer)
        assert headers["Content-Type"] == "application/sdp"
        publisher_session = headers["Location"]
        assert re.fullmatch(r"/whip/session/\d+", publisher_session), publisher_session
        open_sessions.append((publisher_session, publisher_token["token"]))

        sections = answer_sections(answer)
        assert set(sections) == {"audio", "video"}, answer
        assert {codec_name(sections["video"], pt) for pt in sections["video"]["codecs"]} == {codec}, answer
        assert {codec_name(sections["audio"], pt) for pt in sections["audio"]["codecs"]} == {"opus"}, answer
        candidates = [c for s in sections.values() for c in s["candidates"]]
        assert candidates and all(f" {node_ip} " in c for c in candidates), answer
        await publisher.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        await connected(publisher, "publisher")
        # Join late: the subscriber's first keyframe must be asked of the publisher.
        await asyncio.sleep(1)
        assert video.sent >= 10, f"the publisher's encoder got only {video.sent} frames in a second"

        # Subscribe: recvonly, every codec aiortc has; Troupe picks what the publisher sends.
        subscriber.addTransceiver("audio", direction="recvonly")
        subscriber.addTransceiver("video", direction="recvonly")
        tracks = {}
        subscriber.on("track", lambda track: tracks.setdefault(track.kind, track))
        await subscriber.setLocalDescription(await subscriber.createOffer())
        offer = subscriber.localDescription.sdp
        subscribe_url = f"{url}/whip/subscribe/{publisher_token['participantId']}"
        status, headers, answer = await whip("POST", subscribe_url, subscriber_token["token"], offer)
        assert status == 201, (status, answer)
        subscriber_session = headers["Location"]
        assert subscriber_session != publisher_session
        open_sessions.append((subscriber_session, subscriber_token["token"]))
        sections = answer_sections(answer)
        await subscriber.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        assert set(tracks) == {"audio", "video"}, tracks
        seen = {"audio": {}, "video": {}}
        for transceiver in subscriber.getTransceivers():
            record_rtp(transceiver.receiver, seen[transceiver.kind])
        await connected(subscriber, "subscriber")

        # Receive and decode.
        started = time.monotonic()
        first_video = None
        video_frames, audio_frames = [], []

        async def receive_video():
            nonlocal first_video
            while len(video_frames) < VIDEO_FRAMES:
                frame = await tracks["video"].recv()
                first_video = first_video or time.monotonic() - started
                video_frames.append((frame.width, frame.height, frame_colours(frame)))

        async def receive_audio():
            while len(audio_frames) < AUDIO_FRAMES:
                audio_frames.append(await tracks["audio"].recv())

        try:
            await asyncio.wait_for(asyncio.gather(receive_video(), receive_audio()), MEDIA_TIMEOUT)
        except asyncio.TimeoutError:
            pytest.fail(
                f"in {MEDIA_TIMEOUT} s the subscriber decoded {len(video_frames)} video frames "
                f"(first after {first_video} s) and {len(audio_frames)} audio frames; "
                f"RTP payload types seen: {seen}"
            )

        # Every frame is the publisher's picture, whole and the right way round.
        for i, (width, height, (left, right)) in enumerate(video_frames):
            assert (width, height) == (WIDTH, HEIGHT), f"frame {i} is {width}x{height}"
            assert near(left, LEFT_RED) and near(right, RIGHT_BLUE), (
                f"frame {i}: left half YUV {left} (published {LEFT_RED}), "
                f"right half {right} (published {RIGHT_BLUE})"
            )
        rms, hz = tone_of(audio_frames[AUDIO_WARMUP_FRAMES:])
        # A sine's RMS is amplitude/sqrt(2); aiortc's encoder upmixes mono to stereo at -3 dB.
        expected_rms = TONE_AMPLITUDE / 2
        assert 0.75 * expected_rms < rms < 1.25 * expected_rms, (
            f"decoded audio RMS {rms:.0f}, expected {expected_rms:.0f}"
        )
        assert abs(hz - TONE_HZ) < 20, f"decoded audio is a {hz:.0f} Hz tone, published {TONE_HZ} Hz"

        # The packets came with payload types the subscriber's answer maps to the right codec.
        for kind, name in (("video", codec), ("audio", "opus")):
            assert seen[kind], f"no {kind} RTP reached the subscriber"
            names = {codec_name(sections[kind], pt) for pt in seen[kind]}
            assert names == {name}, f"{kind} payload types {seen[kind]} map to {names} in {answer}"

        # Receiver statistics: packets arrived, almost none lost (sequence numbers rewritten
        # without gaps), and no more than the publisher sent (nothing duplicated).
        subscribed = await subscriber.getStats()
        published = await publisher.getStats()
        for kind in ("audio", "video"):
            inbound = stats_of(subscribed, "inbound-rtp", kind)
            received = sum(s.packetsReceived for s in inbound)
            lost = sum(s.packetsLost for s in inbound)
            sent = sum(s.packetsSent for s in stats_of(published, "outbound-rtp", kind))
            assert received > 0, inbound
            assert lost <= max(2, received // 50), f"{kind}: {lost} lost of {received}: {inbound}"
            assert received <= sent, f"{kind}: subscriber got {received} packets, publisher sent {sent}"

        # End both sessions; the publisher is then gone from the stage.
        for location, bearer in reversed(open_sessions):
            status, _, body = await whip("DELETE", f"{url}{location}", bearer)
            assert status == 200, (location, status, body)
        open_sessions.clear()
        deadline = time.monotonic() + 10
        while True:
            status, headers, body = await whip("POST", subscribe_url, subscriber_token["token"], offer)
            if status != 201:
                break
            open_sessions.append((headers["Location"], subscriber_token["token"]))
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)  # the worker ends the session asynchronously
        assert status == 404 and '"PUBLISHER_NOT_FOUND"' in body, (status, body)
    finally:
        await subscriber.close()
        await publisher.close()
        for location, bearer in open_sessions:
            await whip("DELETE", f"{url}{location}", bearer)
