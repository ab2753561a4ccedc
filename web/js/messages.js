// What went wrong, in plain words, and what the person can do about it. Every failure a person
// can meet on the stage page comes through here: the browser refusing devices, the demo backend,
// and the Stage's errors and leave reasons.

const { StageErrorCode, StageLeftReason } = IVSBroadcastClient;

/** Actions a message offers (buttons): rejoin as before, as a viewer, audio-only, or go back. */
export const Action = { REJOIN: 'rejoin', VIEWER: 'viewer', AUDIO: 'audio', HOME: 'home' };

/** A message for a DOMException from getUserMedia, when joining as `role`. */
export function deviceProblem(error, role) {
  const what = role === 'host' ? 'camera and microphone' : 'microphone';
  switch (error?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return {
        title: `Your ${what} ${role === 'host' ? 'are' : 'is'} blocked`,
        text: `The browser did not let this page use your ${what}. Allow access (the camera icon in the address bar), then try again — or join as a viewer and just watch.`,
        actions: [Action.REJOIN, Action.VIEWER],
      };
    case 'NotFoundError':
    case 'OverconstrainedError':
      return role === 'host'
        ? {
          title: 'No camera found',
          text: 'This device has no camera the browser can use. Join with your microphone only, or as a viewer.',
          actions: [Action.AUDIO, Action.VIEWER],
        }
        : {
          title: 'No microphone found',
          text: 'This device has no microphone the browser can use. Plug one in and try again, or join as a viewer.',
          actions: [Action.REJOIN, Action.VIEWER],
        };
    case 'NotReadableError':
    case 'AbortError':
      return {
        title: `Your ${what} ${role === 'host' ? 'are' : 'is'} busy`,
        text: 'Another app or tab may be using it. Close it, then try again.',
        actions: [Action.REJOIN, Action.VIEWER],
      };
    default:
      return {
        title: 'Cannot use your devices',
        text: `${error?.message ?? error}. Try again, or join as a viewer.`,
        actions: [Action.REJOIN, Action.VIEWER],
      };
  }
}

/** A message for a failed call to the demo backend. */
export function backendProblem(error) {
  if (error?.status === 0) {
    return { title: 'Cannot reach Troupe', text: 'Check that the server is running and your network is up, then try again.', actions: [Action.REJOIN, Action.HOME] };
  }
  if (error?.code === 'INVALID_INPUT') {
    return { title: 'That did not work', text: `${error.message}. Go back and change it.`, actions: [Action.HOME] };
  }
  if (error?.code === 'QUOTA_EXCEEDED') {
    return { title: 'No room for another stage', text: 'This server has as many stages as it allows. Join one of the active stages instead.', actions: [Action.HOME] };
  }
  return { title: 'Something went wrong', text: `The server said: ${error?.message ?? error}. Try again in a moment.`, actions: [Action.REJOIN, Action.HOME] };
}

/** A message for a StageError (from join() or an ERROR event), or undefined for errors the
 *  page shows elsewhere. */
export function stageProblem(error) {
  switch (error?.code) {
    case StageErrorCode.STAGE_AT_CAPACITY:
      return {
        title: 'This stage is full',
        text: 'It already has as many people on camera as it can take (12 on a standard stage). Watch as a viewer, or try again when someone leaves.',
        actions: [Action.VIEWER, Action.REJOIN],
      };
    case StageErrorCode.TOKEN_EXPIRED:
      return { title: 'Your pass to this stage expired', text: 'Rejoin to get a new one.', actions: [Action.REJOIN, Action.HOME] };
    case StageErrorCode.TOKEN_MALFORMED:
      return { title: 'Your pass to this stage was not accepted', text: 'Rejoin to get a new one.', actions: [Action.REJOIN, Action.HOME] };
    case StageErrorCode.TOKEN_NOT_ALLOWED:
      return { title: 'Your pass does not allow that', text: 'Rejoin as a viewer to watch, or ask for a pass that lets you go on camera.', actions: [Action.VIEWER, Action.HOME] };
    case StageErrorCode.STAGE_DELETED:
      return stageEnded();
    case StageErrorCode.PARTICIPANT_DISCONNECTED:
      return removed();
    case StageErrorCode.CODEC_MISMATCH:
      return { title: 'Your browser cannot play this stage', text: 'It does not support the video format the others send. Try a current Chrome, Edge, Firefox or Safari.', actions: [Action.HOME] };
    case StageErrorCode.TIMEOUT:
    case StageErrorCode.FAILED:
      return { title: 'Connection lost', text: 'Troupe could not be reached for a while. Check your network connection, then rejoin.', actions: [Action.REJOIN, Action.HOME] };
    default:
      return undefined;
  }
}

/** A message for STAGE_LEFT's reason. */
export function leftProblem(reason) {
  switch (reason) {
    case StageLeftReason.STAGE_DELETED:
      return stageEnded();
    case StageLeftReason.PARTICIPANT_DISCONNECTED:
      return removed();
    case StageLeftReason.TOKEN_EXPIRED:
      return stageProblem({ code: StageErrorCode.TOKEN_EXPIRED });
    case StageLeftReason.REPLACED:
      return { title: 'You joined from somewhere else', text: 'This pass is now in use in another tab or window. Rejoin here to move back.', actions: [Action.REJOIN, Action.HOME] };
    default:
      return stageProblem({ code: StageErrorCode.FAILED });
  }
}

function stageEnded() {
  return { title: 'This stage has ended', text: 'It was closed by whoever runs it. Start a new stage or join another one.', actions: [Action.HOME] };
}

function removed() {
  return { title: 'You were removed from the stage', text: 'Whoever runs the stage disconnected you. You can rejoin if they let you.', actions: [Action.REJOIN, Action.HOME] };
}
