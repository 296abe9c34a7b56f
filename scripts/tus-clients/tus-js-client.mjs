// Drives the official tus-js-client (its Node build, unchanged) against a
// tus server, for crates/puratan-server/tests/api/uploads.rs.
//
//   node tus-js-client.mjs '<json>'
//
// JSON fields:
//   modules        dir holding node_modules/tus-js-client
//                  (scripts/services/tus-clients.sh installs it)
//   endpoint       e.g. http://127.0.0.1:PORT/files/
//   token          access token, sent as `Authorization: Bearer …`
//   file           path of the file to upload
//   chunkSize      bytes per PATCH (default: whole file)
//   uploadDataDuringCreation   creation-with-upload (default false)
//   retryDelays    ms between retries (default [] = no retries)
//   urlStorage     path of a FileUrlStorage file: fingerprint → upload URL
//   metadata       Upload-Metadata object
//   mode           "upload" (default): one upload to its end or error;
//                  "abort-resume": upload, abort() after `abortAfterChunks`
//                  acknowledged chunks, then a *new* Upload of the same
//                  file finds the stored URL by fingerprint and resumes
//   abortAfterChunks
//
// Prints one JSON object: per phase `ok`, `url`, `error` ({message,
// status, body}) and `requests` (every answered request: method, request
// Upload-Offset, status, response Upload-Offset), plus
// `previousUploads` for the resume phase.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const opts = JSON.parse(process.argv[2]);
const require = createRequire(path.join(opts.modules, 'package.json'));
const tus = require('tus-js-client');

function options(extra) {
  return {
    endpoint: opts.endpoint,
    headers: { Authorization: `Bearer ${opts.token}` },
    chunkSize: opts.chunkSize ?? Number.POSITIVE_INFINITY,
    uploadDataDuringCreation: opts.uploadDataDuringCreation ?? false,
    retryDelays: opts.retryDelays ?? [],
    metadata: opts.metadata ?? {},
    urlStorage: opts.urlStorage ? new tus.FileUrlStorage(opts.urlStorage) : undefined,
    ...extra,
  };
}

// One Upload until success, error, or abort after `abortAfter` chunks.
function run({ abortAfter = null, resume = false } = {}) {
  return new Promise((resolve) => {
    const requests = [];
    let chunks = 0;
    let previousUploads = null;
    let upload = null;
    const done = (result) =>
      resolve({ ...result, url: upload.url, requests, chunks, previousUploads });
    const o = options({
      onAfterResponse(req, res) {
        requests.push({
          method: req.getMethod(),
          offset: req.getHeader('Upload-Offset') ?? null,
          status: res.getStatus(),
          responseOffset: res.getHeader('Upload-Offset') ?? null,
        });
      },
      onChunkComplete() {
        chunks += 1;
        if (abortAfter !== null && chunks === abortAfter) {
          upload.abort().then(() => done({ ok: false, aborted: true }));
        }
      },
      onSuccess() {
        done({ ok: true });
      },
      onError(err) {
        const res = err.originalResponse ?? null;
        done({
          ok: false,
          error: {
            message: String(err.message ?? err),
            status: res ? res.getStatus() : null,
            body: res ? res.getBody() : null,
          },
        });
      },
    });
    if (o.urlStorage === undefined) delete o.urlStorage;
    upload = new tus.Upload(fs.createReadStream(opts.file), o);
    if (!resume) {
      upload.start();
      return;
    }
    upload.findPreviousUploads().then((previous) => {
      previousUploads = previous.length;
      if (previous.length > 0) upload.resumeFromPreviousUpload(previous[0]);
      upload.start();
    });
  });
}

let out;
if ((opts.mode ?? 'upload') === 'abort-resume') {
  const first = await run({ abortAfter: opts.abortAfterChunks });
  const second = await run({ resume: true });
  out = { first, second };
} else {
  out = { first: await run() };
}
process.stdout.write(`${JSON.stringify(out)}\n`);
