// Who is speaking: the loudness of each audio track, measured with Web Audio (an analyser per
// track, read ten times a second), with a short hold so that the highlight does not flicker
// between words.

/** RMS level (0–1) above which a track counts as speaking. Room noise sits well below. */
const THRESHOLD = 0.02;
/** How long a tile stays highlighted after the level drops. */
const HOLD_MS = 400;
const EVERY_MS = 100;

export class SpeakingMeter {
  /** `onChange(id, speaking)` is called when a track starts or stops speaking. */
  constructor(onChange) {
    this.onChange = onChange;
    this.context = undefined;
    this.tracks = new Map(); // id → { source, analyser, samples, lastLoud, speaking }
    this.timer = undefined;
  }

  /** Measures `track` as `id`'s voice (replacing what was measured for `id`). */
  watch(id, track) {
    this.unwatch(id);
    if (!track || typeof AudioContext === 'undefined') return;
    this.context ??= new AudioContext();
    const source = this.context.createMediaStreamSource(new MediaStream([track]));
    const analyser = this.context.createAnalyser();
    analyser.fftSize = 512;
    source.connect(analyser);
    this.tracks.set(id, { source, analyser, samples: new Float32Array(analyser.fftSize), lastLoud: 0, speaking: false });
    this.timer ??= setInterval(() => this.measure(), EVERY_MS);
  }

  unwatch(id) {
    const entry = this.tracks.get(id);
    if (!entry) return;
    entry.source.disconnect();
    this.tracks.delete(id);
    if (entry.speaking) this.onChange(id, false);
  }

  /** Audio contexts start suspended until the page gets a click: call from one. */
  resume() {
    return this.context?.resume();
  }

  stop() {
    for (const id of [...this.tracks.keys()]) this.unwatch(id);
    clearInterval(this.timer);
    this.timer = undefined;
    void this.context?.close();
    this.context = undefined;
  }

  measure() {
    const now = performance.now();
    for (const [id, entry] of this.tracks) {
      entry.analyser.getFloatTimeDomainData(entry.samples);
      let sum = 0;
      for (const s of entry.samples) sum += s * s;
      const level = Math.sqrt(sum / entry.samples.length);
      if (level > THRESHOLD) entry.lastLoud = now;
      const speaking = now - entry.lastLoud < HOLD_MS;
      if (speaking !== entry.speaking) {
        entry.speaking = speaking;
        this.onChange(id, speaking);
      }
    }
  }
}
