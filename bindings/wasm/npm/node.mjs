// Node.js ES module entry: same API as the browser entry (`puratan_wasm.js`).
// The module is instantiated synchronously on import; `init()` is a no-op.
import wasm from "./puratan_wasm_node.cjs";

export const { Catalog, bindingsVersion } = wasm;

/** No-op under Node.js (already initialised); kept for the browser-style `await init()`. */
export default async function init() {
  return wasm;
}

/** No-op under Node.js (already initialised). */
export function initSync() {
  return wasm;
}
