#!/usr/bin/env node
'use strict';
// Entry point installed as `fieldgate`; runs the compiled CLI (npm run build).
const { main, reportFatal } = require('../dist/src/cli/main.js');
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    reportFatal(err); // with the journal's error priority when stderr is the journal
    process.exitCode = 1;
  },
);
