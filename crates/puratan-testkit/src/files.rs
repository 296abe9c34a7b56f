//! Conformance suite for [`FileStore`].

use std::sync::Arc;

use bytes::Bytes;
use puratan_core::ErrorKind;
use puratan_core::ports::FileStore;

use crate::service::unique;

type F = Arc<dyn FileStore>;

pub async fn files_put_get_list_delete(fs: F) {
    let ns = unique("t");
    let a = format!("{ns}/a/one.pdf");
    let b = format!("{ns}/a/two.pdf");
    let c = format!("{ns}/b/three.png");
    for (k, body) in [(&a, "1"), (&b, "2"), (&c, "3")] {
        fs.put(k, Bytes::from(body.to_owned())).await.expect("put");
    }
    assert_eq!(fs.get(&a).await.expect("get"), Bytes::from_static(b"1"));
    fs.put(&a, Bytes::from_static(b"11"))
        .await
        .expect("overwrite");
    assert_eq!(fs.get(&a).await.expect("get"), Bytes::from_static(b"11"));
    assert_eq!(
        fs.list(&format!("{ns}/a/")).await.expect("list"),
        vec![a.clone(), b.clone()]
    );
    fs.delete(&a).await.expect("delete");
    assert_eq!(
        fs.get(&a).await.expect_err("gone").kind(),
        ErrorKind::NotFound
    );
    assert_eq!(fs.list(&format!("{ns}/")).await.expect("list"), vec![b, c]);
}

pub async fn files_reject_hostile_keys(fs: F) {
    for key in [
        "../etc/passwd",
        "/abs",
        "a/../../b",
        "a//b",
        "",
        "a/./b",
        "a\\b",
        "a\0b",
    ] {
        let err = fs.put(key, Bytes::from_static(b"x")).await.expect_err(key);
        assert_eq!(err.kind(), ErrorKind::Invalid, "{key:?}");
    }
}
