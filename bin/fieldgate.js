#!/usr/bin/env node
'use strict';
// Entry point installed as `fieldgate`; runs the compiled CLI (npm run build).
const { main } = require('../dist/src/cli/main.js');
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`fieldgate: ${err && err.stack ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
