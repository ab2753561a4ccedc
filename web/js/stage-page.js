// The stage page (/stage/{name}): join as a host, an audio-only guest or a viewer, see and hear
// everyone in a grid, mute, switch devices, leave. Built only on the public Web SDK (the global
// IVSBroadcastClient from /sdk/troupe.js) and the demo backend (api.js), as an app would be.
//
// Deep link: /stage/{name}?name={displayName}&join=1[&role=audio|viewer] joins at once.

import { getOrCreateStage, mintToken } from './api.js';
import { listDevices, fillPicker, openDevice, openDevices } from './devices.js';
import { keepLaidOut } from './grid.js';
import { Action, backendProblem, deviceProblem, leftProblem, stageProblem } from './messages.js';
import { SpeakingMeter } from './speaking.js';
import { Tile } from './tile.js';

const {
  Stage, StageEvents, SubscribeType, LocalStageStream, StreamType, StageConnectionState,
  StageParticipantCapability, StageErrorCategory,
} = IVSBroadcastClient;

const ROLES = ['host', 'audio', 'viewer'];
const $ = (id) => document.getElementById(id);

const stageName = decodeURIComponent(location.pathname.split('/')[2] ?? '');
const params = new URLSearchParams(location.search);

/** Everything about this page's time on the stage; reset by each join. */
const session = {
  role: 'host',
  userName: '',
  stage: undefined,
  /** The local streams by kind ('audio', 'video'): what the strategy publishes. */
  local: new Map(),
  localTile: undefined,
  /** Remote participants by id: { info, tile (when shown), streams: Map(kind → stream) }. */
  remote: new Map(),
  joined: false,
  /** Whether the stage was connected once: connecting again is reconnecting. */
  wasConnected: false,
  /** Set once the stage is over for this page (left, or an error ended it): nothing more is shown. */
  over: false,
};

const meter = new SpeakingMeter((id, speaking) => tileOf(id)?.setSpeaking(speaking));

function tileOf(id) {
  return id === 'local' ? session.localTile : session.remote.get(id)?.tile;
}

// ---------------------------------------------------------------------------------------------
// Joining

async function join(role, userName) {
  leaveQuietly();
  Object.assign(session, { role, userName, over: false, joined: false, wasConnected: false, remote: new Map(), local: new Map() });
  localStorage.setItem('troupe-demo-name', userName);
  $('prejoin').hidden = true;
  $('stage-view').hidden = false;
  $('grid').replaceChildren();
  configureControls();
  setConnection('connecting', role === 'viewer' ? 'Connecting…' : 'Starting your devices…');

  let tracks;
  try {
    tracks = await openDevices(role);
  } catch (e) {
    return showProblem(deviceProblem(e, role));
  }
  for (const track of tracks) session.local.set(track.kind, new LocalStageStream(track));
  if (role !== 'viewer') {
    session.localTile = new Tile('local', userName, { local: true });
    $('grid').append(session.localTile.root);
    showLocal();
    void refreshPickers();
  }

  let token;
  try {
    await getOrCreateStage(stageName);
    token = (await mintToken(stageName, userName, role)).token;
  } catch (e) {
    return showProblem(backendProblem(e));
  }

  const stage = new Stage(token, {
    stageStreamsToPublish: () => [...session.local.values()],
    shouldPublishParticipant: () => session.role !== 'viewer',
    shouldSubscribeToParticipant: () => SubscribeType.AUDIO_VIDEO,
  });
  session.stage = stage;
  listen(stage);
  try {
    await stage.join();
    session.joined = true;
    updateCount();
  } catch (e) {
    if (session.stage === stage) showProblem(stageProblem(e) ?? backendProblem(e));
  }
}

function listen(stage) {
  const mine = (handler) => (...args) => {
    if (session.stage === stage && !session.over) handler(...args);
  };
  stage.on(StageEvents.STAGE_CONNECTION_STATE_CHANGED, mine(onConnectionState));
  stage.on(StageEvents.STAGE_PARTICIPANT_JOINED, mine((p) => p.isLocal || upsertRemote(p)));
  stage.on(StageEvents.STAGE_PARTICIPANT_METADATA_CHANGED, mine((p) => p.isLocal || upsertRemote(p)));
  stage.on(StageEvents.STAGE_PARTICIPANT_PUBLISH_STATE_CHANGED, mine((p) => p.isLocal || upsertRemote(p)));
  stage.on(StageEvents.STAGE_PARTICIPANT_LEFT, mine((p) => p.isLocal || removeRemote(p.id)));
  stage.on(StageEvents.STAGE_PARTICIPANT_STREAMS_ADDED, mine((p, streams) => p.isLocal || addStreams(p, streams)));
  stage.on(StageEvents.STAGE_PARTICIPANT_STREAMS_REMOVED, mine((p, streams) => p.isLocal || removeStreams(p, streams)));
  stage.on(StageEvents.STAGE_STREAM_MUTE_CHANGED, mine((p, stream) => p.isLocal || muteChanged(p, stream)));
  stage.on(StageEvents.STAGE_LEFT, mine((reason) => showProblem(leftProblem(reason))));
  stage.on(StageEvents.ERROR, mine((error) => {
    // Join and publish refusals come back from join() too, where they are shown.
    if (!session.joined && error.category !== StageErrorCategory.SUBSCRIBE_ERROR) return;
    if (error.category === StageErrorCategory.SUBSCRIBE_ERROR) {
      session.remote.get(error.participantId)?.tile?.setStatus('cannot receive this participant');
      return;
    }
    const problem = stageProblem(error);
    if (problem) showProblem(problem);
  }));
}

// ---------------------------------------------------------------------------------------------
// Remote participants

/** Whether a participant gets a tile: anyone who can publish. Viewers are only counted. */
function onCamera(info) {
  return info.isPublishing || info.capabilities.has(StageParticipantCapability.PUBLISH);
}

function displayName(info) {
  return info.attributes?.name || info.userId || 'Guest';
}

function upsertRemote(info) {
  const entry = session.remote.get(info.id) ?? { info, tile: undefined, streams: new Map() };
  entry.info = info;
  session.remote.set(info.id, entry);
  if (onCamera(info) && !entry.tile) {
    entry.tile = new Tile(info.id, displayName(info));
    entry.tile.setStatus('connecting…');
    $('grid').append(entry.tile.root);
  }
  if (entry.tile) {
    entry.tile.setName(displayName(info));
    entry.tile.setMicMuted(info.audioMuted);
    entry.tile.setCameraOff(info.videoStopped);
    if (!info.isPublishing) entry.tile.setStatus('not sending yet');
    else if (entry.streams.size === 0) entry.tile.setStatus('connecting…');
  }
  updateCount();
}

function removeRemote(id) {
  const entry = session.remote.get(id);
  if (!entry) return;
  meter.unwatch(id);
  entry.tile?.remove();
  session.remote.delete(id);
  updateCount();
}

function addStreams(info, streams) {
  upsertRemote(info);
  const entry = session.remote.get(info.id);
  for (const stream of streams) entry.streams.set(stream.streamType, stream);
  const tile = entry.tile;
  if (!tile) return;
  tile.setStatus(undefined);
  const video = entry.streams.get(StreamType.VIDEO);
  const audio = entry.streams.get(StreamType.AUDIO);
  tile.setVideo(video?.mediaStreamTrack);
  if (audio && streams.includes(audio)) {
    void tile.setAudio(audio.mediaStreamTrack).then((playing) => {
      if (!playing) $('sound').hidden = false;
    });
    meter.watch(info.id, audio.mediaStreamTrack);
  }
  tile.setMicMuted(info.audioMuted);
  tile.setCameraOff(info.videoStopped);
}

function removeStreams(info, streams) {
  const entry = session.remote.get(info.id);
  if (!entry) return;
  for (const stream of streams) {
    entry.streams.delete(stream.streamType);
    if (stream.streamType === StreamType.VIDEO) entry.tile?.setVideo(undefined);
    if (stream.streamType === StreamType.AUDIO) {
      void entry.tile?.setAudio(undefined);
      meter.unwatch(info.id);
    }
  }
  if (entry.streams.size === 0 && entry.tile && info.isPublishing) entry.tile.setStatus('reconnecting…');
}

function muteChanged(info, stream) {
  const tile = session.remote.get(info.id)?.tile;
  if (stream.streamType === StreamType.AUDIO) tile?.setMicMuted(stream.isMuted);
  else tile?.setCameraOff(stream.isMuted);
}

function updateCount() {
  let onStage = session.role === 'viewer' ? 0 : 1;
  let watching = session.role === 'viewer' ? 1 : 0;
  for (const { info } of session.remote.values()) {
    if (onCamera(info)) onStage += 1;
    else watching += 1;
  }
  const people = (n, one, many) => `${n} ${n === 1 ? one : many}`;
  $('count').textContent = watching > 0
    ? `${people(onStage, 'on stage', 'on stage')} · ${people(watching, 'watching', 'watching')}`
    : people(onStage, 'on stage', 'on stage');
  $('count').dataset.onStage = String(onStage);
  $('count').dataset.watching = String(watching);
}

// ---------------------------------------------------------------------------------------------
// The local participant: preview, mute, devices

function showLocal() {
  const tile = session.localTile;
  if (!tile) return;
  const video = session.local.get('video');
  const audio = session.local.get('audio');
  tile.setVideo(video?.mediaStreamTrack);
  tile.setCameraOff(session.role === 'host' && Boolean(video?.isMuted));
  tile.setMicMuted(Boolean(audio?.isMuted));
  if (audio) meter.watch('local', audio.mediaStreamTrack);
  const mic = $('mic');
  const micMuted = Boolean(audio?.isMuted);
  mic.setAttribute('aria-pressed', String(micMuted));
  mic.querySelector('.text').textContent = micMuted ? 'Unmute' : 'Mute';
  mic.setAttribute('aria-label', micMuted ? 'Unmute microphone' : 'Mute microphone');
  const camera = $('camera');
  const cameraOff = Boolean(video?.isMuted);
  camera.setAttribute('aria-pressed', String(cameraOff));
  camera.querySelector('.text').textContent = cameraOff ? 'Start camera' : 'Stop camera';
}

function toggle(kind) {
  const stream = session.local.get(kind);
  if (!stream) return;
  stream.setMuted(!stream.isMuted);
  showLocal();
}

/** Swaps in the device picked for `kind`, keeping the mute state; the SDK replaces the track
 *  on the same connection. */
async function switchDevice(kind, deviceId) {
  const old = session.local.get(kind);
  if (!old || old.mediaStreamTrack.getSettings().deviceId === deviceId) return;
  let track;
  try {
    track = await openDevice(kind, deviceId);
  } catch (e) {
    toast(`Could not switch: ${deviceProblem(e, kind === 'video' ? 'host' : 'audio').title.toLowerCase()}`);
    return refreshPickers();
  }
  const stream = new LocalStageStream(track);
  if (old.isMuted) stream.setMuted(true);
  session.local.set(kind, stream);
  session.stage?.refreshStrategy();
  old.mediaStreamTrack.stop();
  showLocal();
  toast(`Switched to ${track.label || 'the new device'}`);
}

async function refreshPickers() {
  const { cameras, microphones } = await listDevices().catch(() => ({ cameras: [], microphones: [] }));
  const current = (kind) => session.local.get(kind)?.mediaStreamTrack.getSettings().deviceId;
  fillPicker($('camera-select'), cameras, current('video'), 'Camera');
  fillPicker($('microphone-select'), microphones, current('audio'), 'Microphone');
}

function configureControls() {
  const { role } = session;
  $('mic').hidden = role === 'viewer';
  $('camera').hidden = role !== 'host';
  $('devices').hidden = role === 'viewer';
  $('camera-select').hidden = role !== 'host';
  document.querySelector('label[for="camera-select"]').hidden = role !== 'host';
  $('sound').hidden = true;
  document.body.dataset.role = role;
}

// ---------------------------------------------------------------------------------------------
// Connection state, messages, leaving

function onConnectionState(state) {
  const again = session.wasConnected;
  if (state === StageConnectionState.CONNECTED) session.wasConnected = true;
  const words = {
    [StageConnectionState.CONNECTED]: 'Connected',
    [StageConnectionState.CONNECTING]: again ? 'Reconnecting…' : 'Connecting…',
    [StageConnectionState.ERRORED]: 'Connection problem',
    [StageConnectionState.DISCONNECTED]: 'Not connected',
  };
  setConnection(state, words[state] ?? state);
}

function setConnection(state, text) {
  const el = $('connection');
  el.dataset.state = state;
  el.textContent = text;
}

/** Ends this page's stay after a failure and shows what happened, with what to do next. */
function showProblem(problem) {
  if (!problem || session.over) return;
  session.over = true;
  leaveQuietly();
  setConnection('disconnected', 'Not connected');
  const dialog = $('notice');
  $('notice-title').textContent = problem.title;
  $('notice-text').textContent = problem.text;
  const labels = {
    [Action.REJOIN]: 'Try again',
    [Action.VIEWER]: 'Watch as a viewer',
    [Action.AUDIO]: 'Join with microphone only',
    [Action.HOME]: 'Back to the start page',
  };
  $('notice-actions').replaceChildren(...problem.actions.map((action, i) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = labels[action];
    button.className = i === 0 ? 'primary' : 'quiet';
    button.dataset.action = action;
    button.addEventListener('click', () => act(action));
    return button;
  }));
  if (!dialog.open) dialog.showModal();
  dialog.querySelector('button')?.focus();
}

function act(action) {
  $('notice').close();
  if (action === Action.HOME) location.href = '/';
  else if (action === Action.VIEWER) void join('viewer', session.userName);
  else if (action === Action.AUDIO) void join('audio', session.userName);
  else void join(session.role, session.userName);
}

/** Leaves the stage (if on one) and releases the devices, without any message. */
function leaveQuietly() {
  const stage = session.stage;
  session.stage = undefined;
  stage?.leave();
  for (const stream of session.local.values()) stream.mediaStreamTrack.stop();
  session.local.clear();
  meter.stop();
  for (const { tile } of session.remote.values()) tile?.remove();
  session.remote.clear();
  session.localTile?.remove();
  session.localTile = undefined;
}

function leave() {
  if (session.over) return;
  showProblem({
    title: 'You left the stage',
    text: 'The others no longer see or hear you.',
    actions: [Action.REJOIN, Action.HOME],
  });
  $('notice-actions').querySelector('[data-action="rejoin"]').textContent = 'Rejoin';
}

let toastTimer;
function toast(text) {
  const el = $('toast');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 3000);
}

async function copyInvite() {
  const link = `${location.origin}/stage/${encodeURIComponent(stageName)}`;
  try {
    await navigator.clipboard.writeText(link);
    toast('Invite link copied');
  } catch {
    // No clipboard access (an insecure origin, a refused permission): show the link instead.
    toast(`Invite link: ${link}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Start

function start() {
  for (const el of document.querySelectorAll('.stage-name')) el.textContent = stageName;
  document.title = `${stageName} · Troupe`;
  keepLaidOut($('grid'));
  $('mic').addEventListener('click', () => toggle('audio'));
  $('camera').addEventListener('click', () => toggle('video'));
  $('leave').addEventListener('click', leave);
  $('invite').addEventListener('click', () => void copyInvite());
  $('sound').addEventListener('click', async () => {
    await meter.resume();
    const results = await Promise.all([...session.remote.values()].map((e) => e.tile?.playAudio() ?? true));
    $('sound').hidden = results.every(Boolean);
  });
  $('camera-select').addEventListener('change', (e) => void switchDevice('video', e.target.value));
  $('microphone-select').addEventListener('change', (e) => void switchDevice('audio', e.target.value));
  navigator.mediaDevices?.addEventListener?.('devicechange', () => {
    if (session.local.size > 0) void refreshPickers();
  });
  // The device panel closes with Escape (focus back on its toggle) and with a click elsewhere.
  const devices = $('devices');
  devices.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || !devices.open) return;
    devices.open = false;
    devices.querySelector('summary').focus();
  });
  document.addEventListener('click', (e) => {
    if (devices.open && !devices.contains(e.target)) devices.open = false;
  });
  // Dialog closes with Escape: keep the message up (its buttons are the ways on).
  $('notice').addEventListener('cancel', (e) => e.preventDefault());
  // Closing the tab ends the sessions at once instead of after the server's grace period.
  addEventListener('pagehide', () => session.stage?.leave());

  const valid = /^[A-Za-z0-9_-]{1,128}$/.test(stageName);
  const role = ROLES.includes(params.get('role')) ? params.get('role') : 'host';
  const name = (params.get('name') ?? '').trim();
  if (!valid) {
    return showProblem({
      title: 'That is not a stage name',
      text: 'Stage names are up to 128 letters, digits, dashes and underscores.',
      actions: [Action.HOME],
    });
  }
  if (params.get('join') === '1' && name) return void join(role, name);

  // The form: prefilled from the link, or from the last name used here.
  $('prejoin').hidden = false;
  $('prejoin-name').value = name || localStorage.getItem('troupe-demo-name') || '';
  for (const radio of document.querySelectorAll('input[name="role"]')) radio.checked = radio.value === role;
  $('prejoin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    void meter.resume();
    void join(String(form.get('role')), String(form.get('name')).trim());
  });
  $('prejoin-name').focus();
}

start();
