"use strict";
// Node.js CommonJS entry: the wasm-bindgen `nodejs` build instantiates the
// module synchronously on require, so `init()` / `initSync()` are no-ops kept
// for source compatibility with the browser entry.
const wasm = require("./puratan_wasm_node.cjs");

module.exports = {
  ...wasm,
  default: async function init() {
    return wasm;
  },
  initSync: function initSync() {
    return wasm;
  },
};
