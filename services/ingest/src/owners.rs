//! Whose documents are, for the scope of document reads: a document belongs to its issuer's
//! government, as the plans made from it do, and like those plans a supervisor of the government
//! whose report a document decomposes reads it too (a city's supervisor reads its districts'
//! notices decomposing the city's report). The rule is here; its query is in the store.

use duban_extract::Extraction;
use duban_kit::{
    auth::{self, Identity},
    names,
};
use duban_proto::v1::Document;
use tonic::Status;

use crate::store::Store;

#[derive(Clone)]
pub struct Owners {
    store: Store,
}

impl Owners {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Keeps the documents `who` may read; all of them for open deployments, services and
    /// holders without a government.
    pub async fn keep_readable(
        &self,
        who: Option<&Identity>,
        documents: &mut Vec<Document>,
    ) -> Result<(), Status> {
        let Some(who) = who.filter(|who| !who.reads_everything()) else {
            return Ok(());
        };
        let ids: Vec<i64> = documents.iter().filter_map(id).collect();
        let reports = self.store.source_reports(&ids).await?;
        documents.retain(|document| {
            let reports = id(document).and_then(|id| reports.get(&id));
            may_read(who, document, reports.map_or(&[], Vec::as_slice))
        });
        Ok(())
    }

    /// PERMISSION_DENIED unless `who` may read `document`.
    pub async fn check(&self, who: Option<&Identity>, document: &Document) -> Result<(), Status> {
        let Some(who) = who.filter(|who| !who.reads_everything()) else {
            return Ok(());
        };
        let reports = match id(document) {
            Some(id) => self.store.source_reports(&[id]).await?.remove(&id),
            None => None,
        };
        if may_read(who, document, reports.as_deref().unwrap_or_default()) {
            return Ok(());
        }
        let whose = match auth::government_of_issuer(&document.issuer) {
            "" => "names no issuer and belongs to no government".to_string(),
            government => format!("was issued by {} ({government})", document.issuer),
        };
        Err(auth::denied(format!(
            "{} {whose}; a {} of {} may not read it",
            document.name, who.role, who.government
        )))
    }
}

/// Makes `extraction` a document of `who`'s government, or refuses it: another government's
/// document is PERMISSION_DENIED; a document that names no issuer is attributed to the
/// ingesting caller's government (a warning says so), so that its plans belong to someone who
/// can read them back. Callers without a government ingest anything as it is.
pub fn claim(
    who: Option<&Identity>,
    filename: &str,
    extraction: &mut Extraction,
) -> Result<(), Status> {
    let Some(who) = who.filter(|who| !who.reads_everything()) else {
        return Ok(());
    };
    let issuer = extraction.document.issuer.as_deref().unwrap_or_default();
    let government = auth::government_of_issuer(issuer);
    if government.is_empty() {
        extraction.document.issuer = Some(who.government.clone());
        extraction.warnings.push(format!(
            "the document names no issuer: it and its plans are attributed to {}, the government of the {} who ingested it",
            who.government, who.role
        ));
        return Ok(());
    }
    if who.may_change_plan(issuer) {
        return Ok(());
    }
    Err(auth::denied(format!(
        "{filename} was issued by {issuer} ({government}); an {} of {} may not ingest it",
        who.role, who.government
    )))
}

fn id(document: &Document) -> Option<i64> {
    names::parse("name", &document.name, "documents").ok()
}

/// The rule of plans applied to a document: readable when any plan made from it would be.
fn may_read(who: &Identity, document: &Document, source_reports: &[String]) -> bool {
    who.may_read_plan(&document.issuer, "")
        || source_reports
            .iter()
            .any(|report| who.may_read_plan(&document.issuer, report))
}
