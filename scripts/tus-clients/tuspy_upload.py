"""Drives the official tuspy client (unchanged) against a tus server, for
crates/puratan-server/tests/api/uploads.rs.

    <venv>/bin/python tuspy_upload.py '<json>'

JSON fields:
    endpoint    e.g. http://127.0.0.1:PORT/files/
    token       access token, sent as `Authorization: Bearer ...`
    file        path of the file to upload
    chunk_size  bytes per PATCH
    store       path of a tinydb file (tuspy's FileStorage): fingerprint ->
                upload URL, for resuming
    stop_after  "interrupt" after this many chunks: the uploader is dropped
                and a *new* client and uploader resume from the stored URL
                (tuspy asks the server's offset with HEAD)
    checksum    "none" (default), "sha1" (tuspy's built-in algorithm) or
                "sha256" (tuspy's Uploader with its CHECKSUM_ALGORITHM_PAIR
                class attribute set to sha256)
    metadata    Upload-Metadata dict

Prints one JSON object: ok, url, chunks (successful PATCH requests),
resumed_offset (the offset the second uploader got from HEAD), and error
({type, status, body}) on failure.
"""

import hashlib
import json
import sys

from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError, TusUploadFailed
from tusclient.storage.filestorage import FileStorage
from tusclient.uploader import Uploader


class Sha256Uploader(Uploader):
    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


def uploader(opts, storage):
    client = tus_client.TusClient(
        opts["endpoint"], headers={"Authorization": "Bearer " + opts["token"]}
    )
    checksum = opts.get("checksum", "none")
    cls = Sha256Uploader if checksum == "sha256" else Uploader
    kwargs = dict(
        file_path=opts["file"],
        client=client,
        chunk_size=opts["chunk_size"],
        metadata=opts.get("metadata", {}),
        upload_checksum=checksum != "none",
    )
    if storage is not None:
        kwargs.update(store_url=True, url_storage=storage)
    return cls(**kwargs)


def main():
    opts = json.loads(sys.argv[1])
    out = {"ok": False, "url": None, "chunks": 0, "resumed_offset": None}
    storage = FileStorage(opts["store"]) if opts.get("store") else None
    try:
        up = uploader(opts, storage)
        stop_after = opts.get("stop_after")
        if stop_after is not None:
            for _ in range(stop_after):
                up.upload_chunk()
                out["chunks"] += 1
            out["url"] = up.url
            # "The connection is gone": forget this uploader; a new client
            # and uploader find the URL by the file's fingerprint.
            del up
            up = uploader(opts, storage)
            out["resumed_offset"] = up.offset
        size = up.get_file_size()
        if up.url is None:
            up.set_url(up.create_url())
            up.offset = 0
        while up.offset < size:
            up.upload_chunk()
            out["chunks"] += 1
        out["url"] = up.url
        out["ok"] = True
    except (TusCommunicationError, TusUploadFailed) as e:
        body = e.response_content
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        out["error"] = {"type": type(e).__name__, "status": e.status_code, "body": body}
    finally:
        if storage is not None:
            storage.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
