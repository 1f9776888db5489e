#!/usr/bin/env node
// Adds lock entries for the other platforms' binary packages of @foundry-rs/anvil and @foundry-rs/cast.
//
// The registry these machines reach serves only the linux-amd64 binary packages, so `npm install`
// cannot record the other optional platform packages and `npm ci` then refuses the lock as out of
// sync. Each added entry is optional and limited to its os/cpu, so npm skips it on Linux x64 and a
// developer on another platform gets the real package from the public registry. Run after changing
// package.json: `npm install --package-lock-only && node tools/npm/complete-lock.js`.
'use strict';
const fs = require('fs');
const path = require('path');

const lockPath = path.join(__dirname, '..', '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
const platforms = {
  'darwin-amd64': ['darwin', 'x64'], 'darwin-arm64': ['darwin', 'arm64'],
  'linux-amd64': ['linux', 'x64'], 'linux-arm64': ['linux', 'arm64'], 'win32-amd64': ['win32', 'x64'],
};
for (const tool of ['anvil', 'cast']) {
  const wrapper = lock.packages[`node_modules/@foundry-rs/${tool}`];
  if (!wrapper) continue;
  for (const [name, version] of Object.entries(wrapper.optionalDependencies || {})) {
    const key = `node_modules/${name}`;
    if (lock.packages[key]) continue;
    const [os, cpu] = platforms[name.replace(`@foundry-rs/${tool}-`, '')];
    lock.packages[key] = {
      version, cpu: [cpu], license: wrapper.license, optional: true, os: [os],
      bin: { [tool]: os === 'win32' ? `bin/${tool}.exe` : `bin/${tool}` }, engines: { node: '>=20' },
    };
  }
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => a.localeCompare(b)));
fs.writeFileSync(lockPath, JSON.stringify(lock, null, 2) + '\n');
