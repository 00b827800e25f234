// Loaded into the Continue CLI by the tests (NODE_OPTIONS=--require <this file>): Node's global
// fetch ignores HTTP(S)_PROXY (Node 20), and @continuedev/cli 1.5.47 fetches
// https://api.continue.dev/cn/info?id=<machine id> when its version module loads, with no
// setting to turn it off (src/version.ts, getLatestVersion). Any fetch to a host other than the
// loopback is refused here and its origin and path (never the query) appended to
// $AIGW_TEST_BLOCKED_FETCH, one line each, for the test to read.
"use strict";
const fs = require("node:fs");
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);
const original = globalThis.fetch;
globalThis.fetch = function (input, init) {
  const raw = typeof input === "string" || input instanceof URL ? String(input) : input.url;
  let url;
  try {
    url = new URL(raw);
  } catch {
    return original(input, init);
  }
  if (!["http:", "https:"].includes(url.protocol) || LOOPBACK.has(url.hostname)) {
    // data: and file: URLs (Continue fetches its WebAssembly from data: URLs) stay local
    return original(input, init);
  }
  const log = process.env.AIGW_TEST_BLOCKED_FETCH;
  if (log) {
    fs.appendFileSync(log, `${url.origin}${url.pathname}\n`);
  }
  return Promise.reject(new TypeError("fetch failed: blocked by the aigw tests (not loopback)"));
};
