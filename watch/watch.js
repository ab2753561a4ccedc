// The watch page: plays a channel's low-latency HLS with hls.js (bundled with Troupe, loaded
// by the page as the global `Hls`) and shows whether the channel is live and how many watch.
// The status comes from /playback/<channelId>/status.json, polled: a page left open starts
// playing by itself when the stream starts, and says so when it ends.

const channelId = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] || '');
const playlistUrl = `/playback/${encodeURIComponent(channelId)}/index.m3u8`;
const statusUrl = `/playback/${encodeURIComponent(channelId)}/status.json`;

const video = document.getElementById('video');
const stateBadge = document.getElementById('state');
const viewers = document.getElementById('viewers');
const message = document.getElementById('message');
const latency = document.getElementById('latency');
document.getElementById('playlist').href = playlistUrl;

let hls = null;
let live = false;

function showState(status) {
  live = status.state === 'LIVE';
  stateBadge.textContent = live ? 'live' : 'offline';
  stateBadge.className = `badge ${live ? 'live' : 'offline'}`;
  const n = status.viewerCount ?? 0;
  viewers.textContent = `${n} watching`;
  document.getElementById('title').textContent = status.name || channelId;
  document.title = `${live ? '● ' : ''}${status.name || channelId} — Troupe`;
}

function say(text) {
  message.textContent = text;
  message.hidden = !text;
}

function play() {
  if (hls) return;
  if (window.Hls && window.Hls.isSupported()) {
    // A player that fell behind the live edge (joined at the stream's first second, or after a
    // stall) catches up by playing a little faster instead of staying behind for good.
    hls = new window.Hls({ lowLatencyMode: true, backBufferLength: 30, maxLiveSyncPlaybackRate: 1.5 });
    hls.on(window.Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal) return;
      // The stream ended or is not there yet: start again when the status says live.
      stop();
      say(live ? 'Reconnecting…' : 'The stream has ended.');
    });
    hls.on(window.Hls.Events.MANIFEST_PARSED, () => {
      say('');
      video.play().catch(() => say('Press play to start.'));
    });
    hls.loadSource(playlistUrl);
    hls.attachMedia(video);
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    hls = { destroy() { video.removeAttribute('src'); video.load(); }, latency: undefined };
    video.src = playlistUrl;
    video.addEventListener('loadedmetadata', () => say(''), { once: true });
  } else {
    say('This browser cannot play HLS.');
  }
}

function stop() {
  if (!hls) return;
  hls.destroy();
  hls = null;
}

async function poll() {
  try {
    const response = await fetch(statusUrl, { cache: 'no-store' });
    if (response.status === 404) {
      showState({ state: 'OFFLINE', viewerCount: 0 });
      say('There is no such channel.');
      return;
    }
    const status = await response.json();
    showState(status);
    if (live) {
      play();
    } else {
      if (hls) say('The stream has ended.');
      else say('Waiting for the stream to start…');
      stop();
    }
  } catch {
    say('Cannot reach the server; trying again…');
  }
  if (hls && typeof hls.latency === 'number' && Number.isFinite(hls.latency)) {
    latency.textContent = `${hls.latency.toFixed(1)} s behind live ·`;
  } else {
    latency.textContent = '';
  }
}

poll();
setInterval(poll, 2000);
