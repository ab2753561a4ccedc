// The demo's calls to its backend (/demo/api/…), the part a real app keeps on its own server:
// it owns the AWS credentials and decides who may join a stage and how.

/** A refusal from the demo backend: its HTTP status, code and message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

async function request(path, body) {
  let response;
  try {
    response = await fetch(path, body === undefined ? {} : {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'NETWORK', `cannot reach the server (${e.message})`);
  }
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, json.code ?? 'INTERNAL', json.message ?? response.statusText);
  return json;
}

/** The stage named `name`, created when it does not exist yet: `{stageArn, name, created}`. */
export const getOrCreateStage = (name) => request('/demo/api/stage', { name });

/** A participant token for `userName` on the stage named `stageName`, as `role`
 *  (`host`, `audio` or `viewer`): `{token, participantId, …}`. */
export const mintToken = (stageName, userName, role) => request('/demo/api/token', { stageName, userName, role });

/** The stages with people on them: `[{name, stageArn, participants}]`, busiest first. */
export const activeStages = async () => (await request('/demo/api/stages')).stages;
