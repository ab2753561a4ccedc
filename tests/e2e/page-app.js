// A small app on the Web SDK, written as one would for IVS (global IVSBroadcastClient), loaded
// into test pages. It records every event in window.events and renders remote videos, and
// exposes `window.app` for the tests to drive.
(() => {
  const { Stage, StageEvents, SubscribeType, LocalStageStream, StreamType } = IVSBroadcastClient;
  const events = [];
  window.events = events;
  const remote = new Map(); // participant id → { info, streams: Map(kind → stream), video element }
  window.remote = remote;

  function record(name, ...args) {
    const entry = { name, t: Date.now() };
    for (const a of args) {
      if (a && typeof a === 'object' && 'isLocal' in a) entry.participant = { id: a.id, userId: a.userId, isLocal: a.isLocal, isPublishing: a.isPublishing, audioMuted: a.audioMuted, videoStopped: a.videoStopped, attributes: { ...a.attributes }, capabilities: [...a.capabilities] };
      else if (Array.isArray(a)) entry.streams = a.map((s) => ({ kind: s.streamType, muted: s.isMuted, live: s.mediaStreamTrack.readyState === 'live' }));
      else if (a && typeof a === 'object' && 'streamType' in a) entry.stream = { kind: a.streamType, muted: a.isMuted };
      else if (a && typeof a === 'object' && 'code' in a) entry.error = { code: a.code, category: a.category, message: a.message, name: a.name };
      else entry.value = a;
    }
    events.push(entry);
  }

  window.app = {
    stage: undefined,
    local: [],
    /**
     * Joins with `token`. publish: 'av' | 'audio' | 'video' | 'none'; subscribe: SubscribeType
     * value or a map id → type; video: getUserMedia video constraints.
     */
    async join(token, { publish = 'av', subscribe = SubscribeType.AUDIO_VIDEO, video = { width: 320, height: 180, frameRate: 15 } } = {}) {
      const wantAudio = publish === 'av' || publish === 'audio';
      const wantVideo = publish === 'av' || publish === 'video';
      if (wantAudio || wantVideo) {
        const media = await navigator.mediaDevices.getUserMedia({ audio: wantAudio, video: wantVideo ? video : false });
        this.local = media.getTracks().map((t) => new LocalStageStream(t));
      }
      const strategy = {
        stageStreamsToPublish: () => this.local,
        shouldPublishParticipant: () => this.local.length > 0,
        shouldSubscribeToParticipant: (p) => (typeof subscribe === 'string' ? subscribe : subscribe[p.userId] ?? SubscribeType.AUDIO_VIDEO),
      };
      this.strategy = strategy;
      const stage = new Stage(token, strategy);
      this.stage = stage;
      for (const name of Object.values(StageEvents)) stage.on(name, (...args) => record(name, ...args));
      stage.on(StageEvents.STAGE_PARTICIPANT_STREAMS_ADDED, (p, streams) => {
        if (p.isLocal) return;
        const entry = remote.get(p.id) ?? { info: p, streams: new Map() };
        entry.info = p;
        for (const s of streams) {
          entry.streams.set(s.streamType, s);
          if (s.streamType === StreamType.VIDEO) {
            const el = document.createElement('video');
            el.muted = true;
            el.autoplay = true;
            el.playsInline = true;
            el.dataset.participant = p.id;
            el.srcObject = new MediaStream([s.mediaStreamTrack]);
            document.body.append(el);
            entry.video = el;
          }
        }
        remote.set(p.id, entry);
      });
      stage.on(StageEvents.STAGE_PARTICIPANT_STREAMS_REMOVED, (p, streams) => {
        const entry = remote.get(p.id);
        if (!entry) return;
        for (const s of streams) {
          entry.streams.delete(s.streamType);
          if (s.streamType === StreamType.VIDEO) {
            entry.video?.remove();
            entry.video = undefined;
          }
        }
        if (entry.streams.size === 0) remote.delete(p.id);
      });
      try {
        await stage.join();
        return { ok: true };
      } catch (e) {
        return { ok: false, error: { code: e.code, category: e.category, message: e.message, name: e.name } };
      }
    },
    /** Per remote participant: kinds received, frames decoded, audio packets, rendered size. */
    async remoteStats() {
      const out = {};
      for (const [id, entry] of remote) {
        const row = { userId: entry.info.userId, kinds: [...entry.streams.keys()], framesDecoded: 0, audioPackets: 0, videoPackets: 0, width: entry.video?.videoWidth ?? 0 };
        for (const s of entry.streams.values()) {
          for (const q of await s.requestQualityStats()) {
            if (q.kind === 'video') {
              row.framesDecoded += q.frames ?? 0;
              row.videoPackets += q.packets;
            } else row.audioPackets += q.packets;
          }
        }
        out[id] = row;
      }
      return out;
    },
    async localStats() {
      const out = [];
      for (const s of this.local) out.push(...(await s.requestQualityStats()));
      return out;
    },
    setMuted(kind, muted) {
      for (const s of this.local) if (s.streamType === kind) s.setMuted(muted);
    },
    leave() {
      this.stage.leave();
    },
    named(name) {
      return events.filter((e) => e.name === name);
    },
  };
})();
