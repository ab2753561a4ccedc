// Cameras and microphones: opening them for a role, listing them for the pickers, and opening
// another one when the person picks it.

/** What the demo asks of a camera: enough for a tile, light enough for twelve. */
export const CAMERA = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24, max: 30 } };
export const MICROPHONE = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

/** Opens what `role` publishes: camera and microphone for a host, the microphone for an
 *  audio-only guest, nothing for a viewer. Rejects with the browser's DOMException. */
export async function openDevices(role, { cameraId, microphoneId } = {}) {
  if (role === 'viewer') return [];
  const audio = microphoneId ? { ...MICROPHONE, deviceId: { exact: microphoneId } } : MICROPHONE;
  const video = role === 'host' ? (cameraId ? { ...CAMERA, deviceId: { exact: cameraId } } : CAMERA) : false;
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new DOMException('this page cannot use cameras (it needs https or localhost)', 'NotSupportedError');
  }
  const media = await navigator.mediaDevices.getUserMedia({ audio, video });
  return media.getTracks();
}

/** Opens one device of `kind` ('audio' or 'video') by id. */
export async function openDevice(kind, deviceId) {
  const constraints = kind === 'video'
    ? { video: { ...CAMERA, deviceId: { exact: deviceId } } }
    : { audio: { ...MICROPHONE, deviceId: { exact: deviceId } } };
  const media = await navigator.mediaDevices.getUserMedia(constraints);
  return kind === 'video' ? media.getVideoTracks()[0] : media.getAudioTracks()[0];
}

/** The cameras and microphones the browser lists (with names once permission was given). */
export async function listDevices() {
  const all = await navigator.mediaDevices.enumerateDevices();
  return {
    cameras: all.filter((d) => d.kind === 'videoinput' && d.deviceId),
    microphones: all.filter((d) => d.kind === 'audioinput' && d.deviceId),
  };
}

/** Fills a <select> with `devices`, selecting `currentId`. With a single device the picker
 *  still shows (and says) which one is in use. */
export function fillPicker(select, devices, currentId, noun) {
  select.replaceChildren(...devices.map((d, i) => {
    const option = new Option(d.label || `${noun} ${i + 1}`, d.deviceId);
    option.selected = d.deviceId === currentId;
    return option;
  }));
}
