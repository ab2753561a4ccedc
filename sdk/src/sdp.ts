// The little SDP handling WHIP needs: ICE credentials out of an offer, the trickle-ICE fragment
// of an ICE restart (RFC 8840, RFC 9725 §4.3), and the server's restart answer folded back into
// the remote description. Pure; unit-tested.

export interface IceCredentials {
  ufrag: string;
  pwd: string;
}

/** The first a=ice-ufrag and a=ice-pwd of an SDP (one BUNDLE transport: all are the same). */
export function iceCredentials(sdp: string): IceCredentials | undefined {
  const ufrag = /^a=ice-ufrag:(\S+)\s*$/m.exec(sdp)?.[1];
  const pwd = /^a=ice-pwd:(\S+)\s*$/m.exec(sdp)?.[1];
  return ufrag && pwd ? { ufrag, pwd } : undefined;
}

/** The PATCH body that restarts ICE with the offer's new credentials. */
export function restartFragment(credentials: IceCredentials): string {
  return `a=ice-ufrag:${credentials.ufrag}\r\na=ice-pwd:${credentials.pwd}\r\n`;
}

/** What the server's answer to a restart says: new credentials and candidates. */
export interface RestartAnswer extends IceCredentials {
  candidates: string[];
}

export function parseRestartAnswer(fragment: string): RestartAnswer | undefined {
  const credentials = iceCredentials(fragment);
  if (!credentials) return undefined;
  const candidates = fragment
    .split(/\r?\n/)
    .filter((l) => l.startsWith('a=candidate:'))
    .map((l) => l.trim());
  return { ...credentials, candidates };
}

/**
 * The previous remote description with the restart answer's credentials (and, when it has any,
 * its candidates in place of the old ones), to set as the answer to the restart offer.
 */
export function applyRestartAnswer(remoteSdp: string, restart: RestartAnswer): string {
  const lines = remoteSdp.split(/\r?\n/).filter((l) => l !== '');
  const out: string[] = [];
  for (const line of lines) {
    if (line.startsWith('a=ice-ufrag:')) out.push(`a=ice-ufrag:${restart.ufrag}`);
    else if (line.startsWith('a=ice-pwd:')) out.push(`a=ice-pwd:${restart.pwd}`);
    else if (line.startsWith('a=candidate:') && restart.candidates.length > 0) continue;
    else if (line === 'a=end-of-candidates' && restart.candidates.length > 0) continue;
    else {
      out.push(line);
      // Candidates go at the end of each media section's transport lines: after its c= line.
      if (line.startsWith('c=') && restart.candidates.length > 0 && out.some((l) => l.startsWith('m='))) {
        out.push(...restart.candidates, 'a=end-of-candidates');
      }
    }
  }
  return out.join('\r\n') + '\r\n';
}
