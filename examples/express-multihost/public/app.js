// The browser side of the tutorial, unchanged from IVS but for the SDK's <script src>: join a
// stage with a token from our backend, publish camera and microphone, show everyone else.

const { Stage, StageEvents, SubscribeType, LocalStageStream, StreamType } = IVSBroadcastClient;

let stage;
const $ = (id) => document.getElementById(id);

async function post(path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(json.error ?? res.statusText);
  return json;
}

/** The tile of a participant, created on first use. */
function tileFor(participant) {
  let tile = document.getElementById(`participant-${participant.id}`);
  if (!tile) {
    tile = document.createElement('div');
    tile.id = `participant-${participant.id}`;
    tile.className = 'participant';
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.muted = participant.isLocal;
    video.srcObject = new MediaStream();
    const name = document.createElement('span');
    name.textContent = `${participant.attributes.username ?? participant.userId}${participant.isLocal ? ' (you)' : ''}`;
    tile.append(video, name);
    $('participants').append(tile);
  }
  return tile;
}

async function join(stageName, username) {
  $('status').textContent = 'Joining…';
  await post('/ivs-stage', { name: stageName });
  const { token } = await post('/ivs-stage-token', { username, stageName });
  const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
  const streams = media.getTracks().map((track) => new LocalStageStream(track));

  stage = new Stage(token, {
    stageStreamsToPublish: () => streams,
    shouldPublishParticipant: () => true,
    shouldSubscribeToParticipant: () => SubscribeType.AUDIO_VIDEO,
  });
  stage.on(StageEvents.STAGE_PARTICIPANT_STREAMS_ADDED, (participant, added) => {
    const video = tileFor(participant).querySelector('video');
    for (const s of added) {
      // Your own audio is not played back to you.
      if (participant.isLocal && s.streamType === StreamType.AUDIO) continue;
      video.srcObject.addTrack(s.mediaStreamTrack);
    }
  });
  stage.on(StageEvents.STAGE_PARTICIPANT_STREAMS_REMOVED, (participant, removed) => {
    const video = document.querySelector(`#participant-${participant.id} video`);
    for (const s of removed) video?.srcObject.removeTrack(s.mediaStreamTrack);
  });
  stage.on(StageEvents.STAGE_PARTICIPANT_LEFT, (participant) => document.getElementById(`participant-${participant.id}`)?.remove());
  stage.on(StageEvents.STAGE_CONNECTION_STATE_CHANGED, (state) => { $('status').textContent = `Connection: ${state}`; });
  stage.on(StageEvents.ERROR, (error) => { $('status').textContent = `Error: ${error.message}`; });
  await stage.join();
  $('join-button').disabled = true;
  $('leave-button').disabled = false;
}

$('join').addEventListener('submit', (e) => {
  e.preventDefault();
  join($('stage-name').value.trim(), $('username').value.trim()).catch((err) => {
    $('status').textContent = `Could not join: ${err.message}`;
  });
});
$('leave-button').addEventListener('click', () => {
  stage?.leave();
  stage = undefined;
  $('participants').replaceChildren();
  $('join-button').disabled = false;
  $('leave-button').disabled = true;
  $('status').textContent = 'Left the stage';
});
