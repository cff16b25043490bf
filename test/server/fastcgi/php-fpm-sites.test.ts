import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseServeConfig } from '../../../src/server/config.js';
import { DEFAULT_PHP_FPM_BINARY, fpmChildrenFor, fpmConnectionsPerWorker, killMasterAndChildren, sitesNeedingPhpFpm, startPhpFpm, startPhpFpmSites, withPhpFpmAddresses } from '../../../src/server/fastcgi/index.js';
import { createHandler } from '../../../src/server/handlers/index.js';
import { send, serveHandler } from '../handlers/harness.js';

const YAML = `
sites:
  - serverName: alice.localhost
    documentRoot: alice/public
    locations:
      - prefix: /php/
        handler: { type: fastcgi, phpFpm: true, root: alice/public }
  - serverName: bob.localhost
    documentRoot: bob/public
    locations:
      - prefix: /php/
        handler: { type: fastcgi, address: "127.0.0.1:9000", root: bob/public }
`;

function load(dir: string) {
  const result = parseServeConfig(YAML, join(dir, 'hatter.yaml'));
  assert.ok(result.config, JSON.stringify(result.diagnostics));
  return result.config;
}

describe('PHP-FPM masters for phpFpm: true handlers', () => {
  it('finds the sites that need a master and fills in their handlers’ addresses only', () => {
    const config = load('/srv/hatter');
    assert.deepEqual(sitesNeedingPhpFpm(config), ['alice.localhost']);
    const filled = withPhpFpmAddresses(config, new Map([['alice.localhost', 'unix:/run/alice/php-fpm.sock']]));
    const alice = filled.sites[0]!.locations[0]!.handler;
    const bob = filled.sites[1]!.locations[0]!.handler;
    assert.deepEqual(alice && alice.type === 'fastcgi' ? alice.address : undefined, 'unix:/run/alice/php-fpm.sock');
    assert.equal(bob && bob.type === 'fastcgi' ? bob.address : undefined, '127.0.0.1:9000');
    assert.deepEqual(sitesNeedingPhpFpm(filled), []);
    const original = config.sites[0]!.locations[0]!.handler;
    assert.equal(original && original.type === 'fastcgi' ? original.address : 'absent', undefined, 'the input is not modified');
  });

  it('chooses the children from the cores and the pool size, and gives each worker an equal share that never adds up to more', () => {
    assert.equal(fpmChildrenFor(2, 2), 4);
    assert.equal(fpmChildrenFor(4, 2), 4);
    assert.equal(fpmChildrenFor(4, 8), 16);
    assert.equal(fpmChildrenFor(3, 2), 6);
    for (let poolMax = 1; poolMax <= 16; poolMax++) {
      for (let cores = 1; cores <= 16; cores++) {
        const children = fpmChildrenFor(poolMax, cores);
        assert.ok(children >= 2 * cores && children % poolMax === 0, `${poolMax} workers, ${cores} cores: ${children}`);
        const share = fpmConnectionsPerWorker(children, poolMax);
        assert.ok(share !== undefined && share * poolMax <= children);
      }
    }
    assert.equal(fpmConnectionsPerWorker(5, 2), 2);
    assert.equal(fpmConnectionsPerWorker(2, 4), undefined, 'fewer children than workers: no kept connections');
  });

  it('fills in each handler’s connections from its master’s children and the pool size, unless configured', () => {
    const config = parseServeConfig(`pool: { min: 1, max: 3 }\n${YAML.replace('phpFpm: true, root', 'phpFpm: true, children: 7, root')}`, '/srv/hatter/hatter.yaml').config!;
    const filled = withPhpFpmAddresses(config, new Map([['alice.localhost', 'unix:/run/a.sock']]), new Map([['alice.localhost', 7]]));
    const alice = filled.sites[0]!.locations[0]!.handler;
    assert.equal(alice?.type === 'fastcgi' ? alice.connections : 'absent', 2);
    const configured = parseServeConfig(YAML.replace('phpFpm: true, root', 'phpFpm: true, connections: 1, root'), '/srv/hatter/hatter.yaml').config!;
    const kept = withPhpFpmAddresses(configured, new Map([['alice.localhost', 'unix:/run/a.sock']]), new Map([['alice.localhost', 8]])).sites[0]!.locations[0]!.handler;
    assert.equal(kept?.type === 'fastcgi' ? kept.connections : 'absent', 1);
  });

  it('refuses children on a handler that does not start PHP-FPM', () => {
    const result = parseServeConfig(YAML.replace('address: "127.0.0.1:9000", root', 'address: "127.0.0.1:9000", children: 3, root'), '/srv/hatter/hatter.yaml');
    assert.ok(result.diagnostics.some((d) => d.code === 'serve-config/invalid-value' && d.message.includes('children')), JSON.stringify(result.diagnostics));
  });

  it('starts the site master and the handler reaches it', { skip: existsSync(DEFAULT_PHP_FPM_BINARY) ? false : `${DEFAULT_PHP_FPM_BINARY} is not installed` }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hatter-fpm-sites-'));
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'alice', 'public'), { recursive: true });
    chmodSync(join(dir, 'alice'), 0o755);
    chmodSync(join(dir, 'alice', 'public'), 0o755);
    writeFileSync(join(dir, 'alice', 'public', 'who.php'), '<?php echo "alice php ", PHP_MAJOR_VERSION;');
    const config = load(dir);
    const sites = await startPhpFpmSites(config, join(dir, 'run'));
    try {
      chmodSync(join(dir, 'run'), 0o755);
      assert.deepEqual([...sites.addresses.keys()], ['alice.localhost']);
      const handlerConfig = withPhpFpmAddresses(config, sites.addresses).sites[0]!.locations[0]!.handler!;
      const harness = await serveHandler(createHandler(handlerConfig, config.configDir), { locationPrefix: '/php/' });
      try {
        const reply = await send(harness.port, 'GET', '/php/who.php');
        assert.equal(reply.status, 200);
        assert.equal(reply.text, 'alice php 8');
      } finally {
        await harness.close();
      }
    } finally {
      await sites.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('kills a master and its children, leaving no FPM process behind', { skip: existsSync(DEFAULT_PHP_FPM_BINARY) ? false : `${DEFAULT_PHP_FPM_BINARY} is not installed` }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hatter-fpm-kill-'));
    const pool = `kill${process.pid}`;
    let master: Awaited<ReturnType<typeof startPhpFpm>> | undefined;
    try {
      for (let round = 0; round < 3; round++) {
        master = await startPhpFpm({ siteName: pool, runDir: dir, workers: 2 });
        // the master listens before it has forked every static child: wait for them (the count stays exact)
        await childrenSettle(master.pid, 2);
        assert.equal(processesWithParent(master.pid).length, 2, 'pm static with 2 children');
        killMasterAndChildren(master.pid);
        await new Promise((r) => setTimeout(r, 200));
        assert.deepEqual(poolProcesses(pool), [], 'no child of the pool is left, respawned or not');
        assert.equal(alive(master.pid), false);
        await master.stop();
      }
    } finally {
      // a failed round must not leave a master behind (it would keep the test process, and CI, waiting)
      await master?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Live processes whose title is FPM's 'php-fpm: pool NAME'. */
function poolProcesses(pool: string): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).filter((e) => {
    try {
      return readFileSync(`/proc/${e}/cmdline`, 'utf8').startsWith(`php-fpm: pool ${pool}`) && alive(Number(e));
    } catch { return false; }
  }).map(Number);
}

/** Wait (at most 5 s) until `parent` has at least `count` children. */
async function childrenSettle(parent: number, count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (processesWithParent(parent).length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

function processesWithParent(parent: number): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).filter((e) => {
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent;
    } catch { return false; }
  }).map(Number);
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch { return false; }
}
