// A small internet in network namespaces, for testing Troupe across real networks:
//
//   client ns ── veth ── nat ns (MASQUERADE, the firewall) ── veth ── server ns
//   10.231.1.2          10.231.1.1 | 10.231.2.1                      10.231.2.2 (node IP)
//                                  |                                 10.231.2.3 (TURN's own)
//   root ns 10.231.3.1 ── veth ── 10.231.3.2   (the test's own way to the API, unfiltered)
//
// Headless Chromium runs in the client namespace, `troupe serve` in the server namespace; all
// the client's traffic to the server crosses the NAT, whose FORWARD chain plays the firewall
// of each case (UDP open, UDP dropped, only TCP 443). Needs root (ip netns, iptables).

import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NET = '10.231';
export const ADDR = {
  client: `${NET}.1.2`,
  natInside: `${NET}.1.1`,
  natOutside: `${NET}.2.1`,
  server: `${NET}.2.2`,
  serverTurn: `${NET}.2.3`,
  root: `${NET}.3.1`,
  natRoot: `${NET}.3.2`,
};

function run(cmd, args, { check = true } = {}) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    if (check) throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr || e.message}`);
    return '';
  }
}

/** Builds the namespaces; `destroy()` removes everything it made. */
export function createNetwork() {
  if (process.getuid?.() !== 0) throw new Error('the network-namespace tests need root (ip netns, iptables)');
  for (const bin of ['ip', 'iptables']) run('sh', ['-c', `command -v ${bin}`]);
  const p = `tn${process.pid % 100000}`;
  const ns = { client: `${p}-client`, nat: `${p}-nat`, server: `${p}-server` };
  const dir = mkdtempSync(join(tmpdir(), 'troupe-netns-'));
  chmodSync(dir, 0o755);
  const net = {
    ns,
    dir,
    /** Removes the namespaces and links (left over from an earlier run, too). */
    clean() {
      for (const n of Object.values(ns)) run('ip', ['netns', 'del', n], { check: false });
      run('ip', ['link', 'del', `${p}m`], { check: false });
    },
    destroy() {
      net.clean();
      rmSync(dir, { recursive: true, force: true });
    },
    /** Runs a command in namespace `which` (client, nat or server). */
    exec(which, cmd, args, options) {
      return run('ip', ['netns', 'exec', ns[which], cmd, ...args], options);
    },
    /** Starts a long-running process in namespace `which`. */
    spawn(which, cmd, args, options) {
      return spawn('ip', ['netns', 'exec', ns[which], cmd, ...args], options);
    },
    /**
     * The firewall between client and server (the NAT's FORWARD chain, for what crosses its
     * client-side link only): 'open', 'no-udp' (UDP dropped both ways), or 'tcp-443-only'
     * (nothing but TCP to port 443).
     */
    firewall(policy) {
      const ipt = (...args) => net.exec('nat', 'iptables', args);
      ipt('-F', 'FORWARD');
      ipt('-P', 'FORWARD', 'ACCEPT');
      const inside = `${p}nc`;
      switch (policy) {
        case 'open':
          break;
        case 'no-udp':
          ipt('-A', 'FORWARD', '-i', inside, '-p', 'udp', '-j', 'DROP');
          ipt('-A', 'FORWARD', '-o', inside, '-p', 'udp', '-j', 'DROP');
          break;
        case 'tcp-443-only':
          ipt('-A', 'FORWARD', '-i', inside, '-p', 'tcp', '--dport', '443', '-j', 'ACCEPT');
          ipt('-A', 'FORWARD', '-o', inside, '-p', 'tcp', '--sport', '443', '-m', 'conntrack', '--ctstate', 'ESTABLISHED', '-j', 'ACCEPT');
          ipt('-A', 'FORWARD', '-i', inside, '-j', 'DROP');
          ipt('-A', 'FORWARD', '-o', inside, '-j', 'DROP');
          break;
        default:
          throw new Error(`unknown firewall policy ${policy}`);
      }
      // Connections tracked under the previous policy must not outlive it.
      net.exec('nat', 'sh', ['-c', 'command -v conntrack >/dev/null && conntrack -F || true'], { check: false });
    },
    /** A Chromium executable that runs in the client namespace (for playwright's launch). */
    chromium(path = '/usr/bin/chromium') {
      const wrapper = join(dir, 'chromium-in-client-ns');
      writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns.client} ${path} "$@"\n`);
      chmodSync(wrapper, 0o755);
      return wrapper;
    },
  };
  try {
    net.clean();
    for (const n of Object.values(ns)) {
      run('ip', ['netns', 'add', n]);
      net.exec(n === ns.client ? 'client' : n === ns.nat ? 'nat' : 'server', 'ip', ['link', 'set', 'lo', 'up']);
    }
    const veth = (a, aNs, b, bNs) => {
      run('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
      if (aNs) run('ip', ['link', 'set', a, 'netns', aNs]);
      run('ip', ['link', 'set', b, 'netns', bNs]);
    };
    veth(`${p}c`, ns.client, `${p}nc`, ns.nat);
    veth(`${p}s`, ns.server, `${p}ns`, ns.nat);
    veth(`${p}m`, null, `${p}nm`, ns.nat);
    const addr = (which, dev, cidr) => {
      net.exec(which, 'ip', ['addr', 'add', cidr, 'dev', dev]);
      net.exec(which, 'ip', ['link', 'set', dev, 'up']);
    };
    addr('client', `${p}c`, `${ADDR.client}/24`);
    addr('nat', `${p}nc`, `${ADDR.natInside}/24`);
    addr('nat', `${p}ns`, `${ADDR.natOutside}/24`);
    addr('server', `${p}s`, `${ADDR.server}/24`);
    net.exec('server', 'ip', ['addr', 'add', `${ADDR.serverTurn}/24`, 'dev', `${p}s`]);
    addr('nat', `${p}nm`, `${ADDR.natRoot}/24`);
    run('ip', ['addr', 'add', `${ADDR.root}/24`, 'dev', `${p}m`]);
    run('ip', ['link', 'set', `${p}m`, 'up']);
    run('ip', ['route', 'add', `${NET}.2.0/24`, 'via', ADDR.natRoot]);
    net.exec('client', 'ip', ['route', 'add', 'default', 'via', ADDR.natInside]);
    net.exec('server', 'ip', ['route', 'add', 'default', 'via', ADDR.natOutside]);
    net.exec('nat', 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    net.exec('nat', 'iptables', ['-t', 'nat', '-A', 'POSTROUTING', '-o', `${p}ns`, '-j', 'MASQUERADE']);
    net.firewall('open');
  } catch (e) {
    net.destroy();
    throw e;
  }
  return net;
}
