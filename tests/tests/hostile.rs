//! Hostile input: each case gets its expected answer, never a panic, never INTERNAL, and a
//! rejected request stores nothing.

use std::{io::Write, time::Duration};

use duban_proto::v1::{
    CreateDocumentRequest, DeliveryState, Document, DocumentKind, ListDocumentsRequest,
    ListTasksRequest,
};
use duban_testkit::{SEED_DECOMPOSITION, TestSet, seed};
use tonic::Code;

async fn send(set: &TestSet, filename: &str, content: Vec<u8>) -> Result<Document, tonic::Status> {
    set.ingest
        .clone()
        .create_document(CreateDocumentRequest {
            content,
            filename: filename.into(),
            request_id: String::new(),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn stored(set: &TestSet) -> usize {
    set.ingest
        .clone()
        .list_documents(ListDocumentsRequest {
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .documents
        .len()
}

fn bad_field(status: &tonic::Status) -> String {
    use tonic_types::StatusExt;
    status
        .get_error_details()
        .bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()))
        .unwrap_or_default()
}

/// A DOCX whose document part inflates to 200 MB of filler.
fn zip_bomb() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("word/document.xml", options).unwrap();
    zip.write_all(b"<w:document><w:body><w:p><w:r><w:t>")
        .unwrap();
    let filler = vec![b'a'; 1024 * 1024];
    for _ in 0..200 {
        zip.write_all(&filler).unwrap();
    }
    zip.write_all(b"</w:t></w:r></w:p></w:body></w:document>")
        .unwrap();
    zip.finish().unwrap();
    out.into_inner()
}

#[tokio::test]
async fn rejected_inputs_name_the_field_and_store_nothing() {
    let set = TestSet::start().await;
    let empty = send(&set, "empty.txt", Vec::new()).await.unwrap_err();
    assert_eq!(
        (empty.code(), bad_field(&empty)),
        (Code::InvalidArgument, "content".into())
    );

    let binary: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let err = send(&set, "photo.png", binary).await.unwrap_err();
    assert_eq!(
        (err.code(), bad_field(&err)),
        (Code::InvalidArgument, "content".into())
    );
    assert!(err.message().contains("binary"));

    let huge = "一、经济增长6%左右。\n"
        .repeat(50 * 1024 * 1024 / 30)
        .into_bytes();
    assert!(huge.len() > 40 * 1024 * 1024);
    let err = send(&set, "huge.txt", huge).await.unwrap_err();
    assert_eq!(
        (err.code(), bad_field(&err)),
        (Code::InvalidArgument, "content".into())
    );
    assert!(err.message().contains("limited"));

    let err = send(&set, "../../etc/passwd", b"text".to_vec())
        .await
        .unwrap_err();
    assert_eq!(bad_field(&err), "filename");
    assert_eq!(
        stored(&set).await,
        0,
        "nothing stored from a rejected request"
    );
    set.stop().await;
}

#[tokio::test]
async fn odd_but_valid_documents_are_read_without_harm() {
    let set = TestSet::start().await;

    let bomb = send(&set, "bomb.docx", zip_bomb()).await.unwrap();
    assert_eq!(bomb.item_count, 0);
    assert!(
        !bomb.warnings.is_empty(),
        "the oversized DOCX part is reported"
    );

    let nested = format!(
        "{}正文{}",
        "<div>".repeat(100_000),
        "</div>".repeat(100_000)
    );
    let nested = send(&set, "nested.html", nested.into_bytes())
        .await
        .unwrap();
    assert_eq!(nested.kind, DocumentKind::Other as i32);

    let mut invalid = "一、城镇新增就业1万人以上。".as_bytes().to_vec();
    invalid.extend_from_slice(&[0xff, 0xfe, 0xfd, b'\n']);
    send(&set, "invalid-utf8.txt", invalid).await.unwrap();

    // The notice in GBK, no charset declared anywhere: read as the same notice.
    let utf8 = std::fs::read_to_string(seed(SEED_DECOMPOSITION)).unwrap();
    let (gbk, _, lossy) = encoding_rs::GBK.encode(&utf8);
    assert!(!lossy);
    let gbk = send(&set, "notice-gbk.txt", gbk.into_owned())
        .await
        .unwrap();
    assert_eq!(gbk.encoding, "GB18030");
    assert_eq!((gbk.plan_count, gbk.item_count), (3, 271));

    // SQL- and script-looking text is stored as text.
    let sql = "关于印发任务分解方案的通知\n1.新增就业1万人以上'); DROP TABLE documents; --。(牵头单位:区人资局\"; DELETE FROM units; --)\n";
    let sql = send(&set, "sql.txt", sql.as_bytes().to_vec())
        .await
        .unwrap();
    let script =
        "<html><body><script>alert('x')</script><p>1.<b>新建</b>口袋公园10个。</p></body></html>";
    send(&set, "script.html", script.as_bytes().to_vec())
        .await
        .unwrap();

    // Absurd numbers neither panic nor block delivery.
    let absurd = "2025年区政府工作报告\n今年主要预期目标是:地区生产总值增长99999999999999999999999999999999999999%左右,新增就业1e400人。\n";
    let absurd = send(&set, "absurd.txt", absurd.as_bytes().to_vec())
        .await
        .unwrap();

    for doc in [&sql, &absurd, &gbk] {
        let doc = set.wait_delivered(&doc.name, Duration::from_secs(60)).await;
        assert_ne!(
            doc.delivery_state,
            DeliveryState::Failed as i32,
            "{}: {}",
            doc.filename,
            doc.delivery_error
        );
    }
    assert_eq!(stored(&set).await, 7);
    let tasks = set
        .targets
        .clone()
        .list_tasks(ListTasksRequest {
            parent: "plans/-".into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .tasks;
    assert!(tasks.iter().all(|t| {
        t.indicators
            .iter()
            .all(|i| i.quantity.as_ref().unwrap().value.is_finite())
    }));
    set.stop().await;
}
