// One participant's tile in the grid: their video (or their initial when there is none), their
// name, a muted-microphone and a camera-off badge, and a ring while they speak. Remote tiles
// also play the participant's audio.

const MIC_OFF = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3Zm5-3a5 5 0 0 1-8.6 3.5M19 11a7 7 0 0 1-1.2 3.9M12 18v3M8 21h8M3 3l18 18" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg>';
const CAM_OFF = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M15 10l5-3v10l-5-3M3 7h9a3 3 0 0 1 3 3v4M15 17H6a3 3 0 0 1-3-3V7M3 3l18 18" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg>';

function element(tag, className, attributes = {}) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  for (const [k, v] of Object.entries(attributes)) el.setAttribute(k, v);
  return el;
}

export class Tile {
  /** `name`: what to call them; `local`: this browser's own tile (mirrored, never played). */
  constructor(id, name, { local = false } = {}) {
    this.id = id;
    this.local = local;
    this.root = element('article', local ? 'tile local' : 'tile', { 'data-participant-id': id });
    this.video = element('video', 'video', { playsinline: '', autoplay: '' });
    this.video.muted = true; // sound plays from the audio element (remote) or not at all (local)
    this.video.hidden = true;
    this.avatar = element('div', 'avatar', { 'aria-hidden': 'true' });
    const badges = element('div', 'badges');
    this.micOff = element('span', 'badge mic-off', { role: 'img', 'aria-label': 'microphone muted', title: 'microphone muted' });
    this.micOff.innerHTML = MIC_OFF;
    this.camOff = element('span', 'badge cam-off', { role: 'img', 'aria-label': 'camera off', title: 'camera off' });
    this.camOff.innerHTML = CAM_OFF;
    this.micOff.hidden = true;
    this.camOff.hidden = true;
    badges.append(this.micOff, this.camOff);
    this.label = element('div', 'name');
    this.status = element('div', 'status', { 'aria-live': 'polite' });
    this.audio = undefined;
    this.root.append(this.video, this.avatar, badges, this.label, this.status);
    this.setName(name);
  }

  setName(name) {
    this.name = name;
    const shown = this.local ? `${name} (you)` : name;
    this.label.textContent = shown;
    this.avatar.textContent = (name.trim()[0] ?? '?').toUpperCase();
    this.root.dataset.name = name;
    this.root.setAttribute('aria-label', shown);
  }

  /** Shows `track` (a video MediaStreamTrack), or the initial when undefined. */
  setVideo(track) {
    if (track) {
      if (this.video.srcObject?.getVideoTracks()[0] !== track) this.video.srcObject = new MediaStream([track]);
      this.video.hidden = false;
      void this.video.play().catch(() => {});
    } else {
      this.video.srcObject = null;
      this.video.hidden = true;
    }
    this.root.classList.toggle('has-video', Boolean(track));
  }

  /** Plays `track` (a remote audio MediaStreamTrack); resolves false when the browser
   *  blocked playback until the page gets a click. */
  async setAudio(track) {
    if (!track) {
      this.audio?.remove();
      this.audio = undefined;
      return true;
    }
    this.audio ??= this.root.appendChild(element('audio', 'audio', { autoplay: '' }));
    this.audio.srcObject = new MediaStream([track]);
    return this.playAudio();
  }

  async playAudio() {
    if (!this.audio) return true;
    try {
      await this.audio.play();
      return true;
    } catch {
      return false;
    }
  }

  setMicMuted(muted) {
    this.micOff.hidden = !muted;
    this.root.classList.toggle('mic-muted', muted);
  }

  setCameraOff(off) {
    this.camOff.hidden = !off;
    this.root.classList.toggle('camera-off', off);
  }

  setSpeaking(speaking) {
    this.root.classList.toggle('speaking', speaking);
  }

  /** A short line over the tile ("connecting…"), or nothing. */
  setStatus(text) {
    this.status.textContent = text ?? '';
    this.status.hidden = !text;
  }

  remove() {
    this.setVideo(undefined);
    void this.setAudio(undefined);
    this.root.remove();
  }
}
