// The Debian package and `meson install`, as an operator would use them.
//  - `make deb` (scripts/deb.sh; reused when newer than every source file) builds a package
//    that lintian passes without errors; unpacked into a temporary root (dpkg-deb -x), its
//    systemd unit passes `systemd-analyze verify` and runs nothing before the start; its
//    ExecStart, run from there with the packaged /etc/govhall/govhall.conf (only its paths moved
//    into the temporary root, and the port made free), serves the demo hall: the home page, a
//    service guide and the static files, with no GOVHALL_*_DIR variable.
//  - `meson install` into a DESTDIR: the installed binary, run from an empty directory, does
//    the same.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dirs = [];
const procs = new Set();
after(async () => {
  for (const p of procs) p.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
process.on('exit', () => { for (const p of procs) p.kill('SIGKILL'); });

async function tmp(prefix) {
  const d = await mkdtemp(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
}

function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 64 << 20, timeout: 20 * 60_000, ...opts }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** The environment without GOVHALL_* variables: the binary must find everything itself. */
function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GOVHALL_')) env[k] = v;
  return env;
}

/** Starts cmd (a `serve`), resolves {url, stop()} once it prints "listening on". */
function start(cmd, args, cwd) {
  const p = spawn(cmd, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  procs.add(p);
  let out = '';
  let err = '';
  p.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((resolve) => p.on('exit', (code, signal) => { procs.delete(p); resolve({ code, signal }); }));
  return new Promise((resolve, reject) => {
    p.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        resolve({
          url: m[1].replace(/\/$/, ''),
          async stop() {
            p.kill('SIGTERM');
            const e = await exited;
            assert.equal(e.code, 0, `serve exited with ${e.code} ${e.signal}\n${err}`);
          },
        });
      }
    });
    exited.then((e) => reject(new Error(`serve exited (${e.code}) before listening:\n${out}\n${err}`)));
  });
}

const ITEM = JSON.parse(readFileSync(path.join(root, 'data/catalog/services.json'), 'utf8'))[0];

/** The demo hall answers: home page, a guide, a static file, readiness. */
async function checkHall(url) {
  const home = await fetch(`${url}/`);
  assert.equal(home.status, 200);
  const text = await home.text();
  assert.match(text, /<html/);
  assert.ok(text.includes('/static/'), 'the home page links its static files');
  const guide = await fetch(`${url}/services/${ITEM.code}`);
  assert.equal(guide.status, 200);
  assert.ok((await guide.text()).includes(ITEM.name_zh), 'the guide shows its item');
  const css = await fetch(`${url}/static/css/site.css`);
  assert.equal(css.status, 200);
  assert.equal((await css.text()).length, readFileSync(path.join(root, 'static/css/site.css'), 'utf8').length);
  assert.equal((await fetch(`${url}/readyz`)).status, 200);
}

describe('the Debian package', () => {
  let deb;
  test('builds (or is reused) and lintian reports no errors', async () => {
    const b = await run(path.join(root, 'scripts/deb.sh'), ['--if-stale'], { cwd: root });
    assert.equal(b.code, 0, `${b.stdout}\n${b.stderr}`);
    deb = b.stdout.trim().split('\n').pop();
    deb = path.isAbsolute(deb) ? deb : path.join(root, deb);
    assert.ok(existsSync(deb), deb);
    const l = await run('lintian', ['--fail-on', 'error', deb]);
    assert.equal(l.code, 0, l.stdout + l.stderr);
    assert.deepEqual(l.stdout.split('\n').filter((x) => /^E: /.test(x)), []);
    const info = await run('dpkg-deb', ['--field', deb, 'Package', 'Depends']);
    assert.match(info.stdout, /Package: govhall/);
    assert.match(info.stdout, /adduser/);
  });

  test('unpacked, its unit verifies and its ExecStart serves the demo hall', async (t) => {
    if (!deb) t.skip('no package');
    const r = await tmp('govhall-deb-root-');
    const x = await run('dpkg-deb', ['-x', deb, r]);
    assert.equal(x.code, 0, x.stderr);
    for (const f of ['usr/bin/govhall', 'etc/govhall/govhall.conf', 'lib/systemd/system/govhall.service',
      'usr/share/man/man1/govhall.1.gz', 'usr/share/govhall/templates', 'usr/share/govhall/static/css/site.css',
      'usr/share/govhall/data/catalog/holidays.json', 'usr/share/doc/govhall/copyright']) {
      assert.ok(existsSync(path.join(r, f)), `${f} is not in the package`);
    }

    // The unit: hardened, nothing before the start, the state directory writable.
    const unit = await readFile(path.join(r, 'lib/systemd/system/govhall.service'), 'utf8');
    const keys = new Map();
    for (const line of unit.split('\n')) {
      const m = /^([A-Za-z]+)=(.*)$/.exec(line);
      if (m) keys.set(m[1], [...(keys.get(m[1]) ?? []), m[2]]);
    }
    assert.ok(!keys.has('ExecStartPre'), 'the unit runs something before the start');
    for (const [k, v] of [['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['PrivateTmp', 'yes'],
      ['StateDirectory', 'govhall'], ['ReadWritePaths', '/var/lib/govhall'], ['User', 'govhall'],
      ['ProtectHome', 'yes'], ['PrivateDevices', 'yes'], ['RestrictSUIDSGID', 'yes'], ['CapabilityBoundingSet', '']]) {
      assert.deepEqual(keys.get(k), [v], `${k}=${v}`);
    }
    const execStart = keys.get('ExecStart')[0].split(/\s+/);
    assert.equal(execStart[0], '/usr/bin/govhall');
    assert.deepEqual(execStart.slice(1), ['serve', '--config', '/etc/govhall/govhall.conf']);
    const workdir = keys.get('WorkingDirectory')[0];

    // systemd-analyze verify on the unit, with its files found in the unpacked root.
    const moved = (p) => path.join(r, p);
    const unitDir = await tmp('govhall-unit-');
    await writeFile(path.join(unitDir, 'govhall.service'),
      unit.replaceAll('/usr/bin/govhall', moved('/usr/bin/govhall')).replaceAll('/etc/govhall/', `${moved('/etc/govhall')}/`));
    const v = await run('systemd-analyze', ['verify', path.join(unitDir, 'govhall.service')],
      { env: { ...process.env, MANPATH: moved('/usr/share/man'), SYSTEMD_LOG_LEVEL: 'notice' } });
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.equal(v.stderr.trim(), '', v.stderr);

    // The packaged configuration: its paths point into /var/lib/govhall.
    const conf = await readFile(moved('/etc/govhall/govhall.conf'), 'utf8');
    assert.match(conf, /^db = \/var\/lib\/govhall\/govhall\.db$/m);
    assert.match(conf, /^key-file = \/var\/lib\/govhall\/govhall\.key$/m);
    await mkdir(moved(workdir), { recursive: true });
    const confPath = moved('/etc/govhall/govhall.conf');
    await writeFile(confPath, conf.replaceAll('/var/lib/govhall', moved('/var/lib/govhall'))
      .replace(/^listen = .*$/m, 'listen = 127.0.0.1:0'));
    const bin = moved(execStart[0]);
    // The first init, as postinst runs it (with the demo catalog, for a guide to show).
    const init = await run(bin, ['init', '--demo', '--config', confPath], { cwd: moved(workdir), env: cleanEnv() });
    assert.equal(init.code, 0, init.stderr);
    assert.ok(existsSync(moved('/var/lib/govhall/govhall.db')));
    const srv = await start(bin, [execStart[1], execStart[2], confPath], moved(workdir));
    await checkHall(srv.url);
    await srv.stop();
  });
});

describe('meson install', () => {
  test('the installed tree serves the demo hall from an empty directory', async () => {
    const build = path.dirname(process.env.GOVHALL_BIN ?? path.join(root, 'build/test/govhall'));
    const dest = await tmp('govhall-destdir-');
    const inst = await run('meson', ['install', '-C', build, '--destdir', dest, '--no-rebuild', '--quiet']);
    assert.equal(inst.code, 0, inst.stdout + inst.stderr);
    const prefix = (await run('meson', ['introspect', build, '--buildoptions'])).stdout;
    const p = JSON.parse(prefix).find((o) => o.name === 'prefix').value;
    const bin = path.join(dest, p, 'bin/govhall');
    assert.ok(existsSync(bin));
    for (const f of ['share/govhall/templates', 'share/govhall/static', 'share/govhall/data/i18n/zh.json',
      'share/man/man1/govhall.1', 'share/doc/govhall/govhall.conf.example']) {
      assert.ok(existsSync(path.join(dest, p, f)), `${f} was not installed`);
    }
    const empty = await tmp('govhall-empty-');
    const init = await run(bin, ['init', '--demo'], { cwd: empty, env: cleanEnv() });
    assert.equal(init.code, 0, init.stderr);
    assert.ok(existsSync(path.join(empty, 'govhall.db')) && existsSync(path.join(empty, 'govhall.key')));
    const srv = await start(bin, ['serve', '--listen', '127.0.0.1:0', '--threads', '1'], empty);
    await checkHall(srv.url);
    await srv.stop();
  });
});
