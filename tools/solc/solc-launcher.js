#!/usr/bin/env node
// A `solc` command line over the npm `solc` package (solc-js), for tools that expect a native binary.
//
// py-solc-x and ape-solidity cannot download native solc on these machines; they accept any executable
// that answers `--version` like solc and compiles `--standard-json` from stdin to stdout. This serves
// both, plus the path flags they pass (`--base-path`, `--include-path`, `--allow-paths`) so that
// imports not inlined in the JSON are read from disk, confined to the allowed directories.
'use strict';

const fs = require('fs');
const path = require('path');

function usage(message) {
  process.stderr.write(`solc-launcher: ${message}\n` +
    'usage: solc --version | solc --standard-json [--base-path DIR] [--include-path DIR]... [--allow-paths DIR,...]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { version: false, standardJson: false, basePath: null, includePaths: [], allowPaths: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      i += 1;
      if (i >= argv.length) usage(`${flag} needs a value`);
      return argv[i];
    };
    switch (flag) {
      case '--version': case '-v': opts.version = true; break;
      case '--standard-json': opts.standardJson = true; break;
      case '--base-path': opts.basePath = value(); break;
      case '--include-path': opts.includePaths.push(value()); break;
      case '--allow-paths': opts.allowPaths.push(...value().split(',').filter(Boolean)); break;
      case '-': break; // stdin, which --standard-json reads anyway
      default: usage(`unsupported argument ${arg}`);
    }
  }
  return opts;
}

function loadCompiler() {
  // The launcher may be copied outside the project (into ~/.solcx); EBL_SOLC_MODULE says where solc-js is.
  const modulePath = process.env.EBL_SOLC_MODULE || 'solc';
  return require(modulePath);
}

function readStdin() {
  return fs.readFileSync(0, 'utf8');
}

function makeImportReader(opts) {
  const roots = [opts.basePath || process.cwd(), ...opts.includePaths].map((p) => path.resolve(p));
  const allowed = [...roots, ...opts.allowPaths.map((p) => path.resolve(p))];
  const inside = (file) => allowed.some((dir) => file === dir || file.startsWith(dir + path.sep));
  return (importPath) => {
    const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((root) => path.join(root, importPath));
    for (const candidate of candidates) {
      const resolved = path.resolve(candidate);
      if (inside(resolved) && fs.existsSync(resolved) && fs.statSync(resolved).isFile()) {
        return { contents: fs.readFileSync(resolved, 'utf8') };
      }
    }
    return { error: `File not found inside the base, include or allowed paths: ${importPath}` };
  };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const solc = loadCompiler();
  if (opts.version) {
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return;
  }
  if (!opts.standardJson) usage('only --version and --standard-json are supported');
  const output = solc.compile(readStdin(), { import: makeImportReader(opts) });
  process.stdout.write(output);
  process.stdout.write('\n');
}

main();
