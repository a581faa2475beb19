//! Reporting: the quarterly report workflow, supervision (overdue items, lights, aggregates),
//! bulletins and the event stream, through the generated clients against the real services.

use std::{collections::BTreeMap, io::Read, time::Duration};

use duban_proto::v1::{
    AcceptReportRequest, Actor, AggregateGroup, AssignmentInput, BulletinFormat, Comparator,
    CreateAssignmentsRequest, CreateEvidenceRequest, CreateExtensionRequest, CreatePlanRequest,
    CreateReportRequest, DecideExtensionRequest, Event, EventKind, Evidence, Extension, Figure,
    GetAggregatesRequest, GetBulletinRequest, GetEvidenceRequest, GetReportRequest, Indicator,
    Light, ListAssignmentsRequest, ListLightsRequest, ListOverdueItemsRequest, ListPlansRequest,
    ListReportVersionsRequest, ListReportsRequest, ListTasksRequest, Pace, Plan, ProgressStatus,
    Quantity, Report, ReportState, ReportingSchedule, ReturnReportRequest, SignReportRequest,
    SubmitReportRequest, SubscribeEventsRequest, Task, TaskLight, UnitRole, UpdateReportRequest,
    UpdateReportingScheduleRequest,
};
use duban_testkit::{SEED_DECOMPOSITION, TestSet};
use tokio_stream::StreamExt;
use tonic::Code;
use tonic_types::StatusExt;

fn head() -> Actor {
    Actor {
        name: "张明".into(),
        role: "局长".into(),
    }
}

fn office() -> Actor {
    Actor {
        name: "李华".into(),
        role: "督查室主任".into(),
    }
}

fn violated_fields(status: &tonic::Status) -> Vec<String> {
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
        .unwrap_or_default()
}

async fn create(set: &TestSet, report: Report) -> Report {
    set.reporting
        .clone()
        .create_report(CreateReportRequest {
            report: Some(report),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn sign(set: &TestSet, name: &str) -> Report {
    set.reporting
        .clone()
        .sign_report(SignReportRequest {
            name: name.into(),
            signer: Some(head()),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn submit(set: &TestSet, name: &str, on: &str) -> Report {
    set.reporting
        .clone()
        .submit_report(SubmitReportRequest {
            name: name.into(),
            submitter: Some(Actor {
                name: "王芳".into(),
                role: "科员".into(),
            }),
            as_of: on.into(),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn accept(set: &TestSet, name: &str) -> Report {
    set.reporting
        .clone()
        .accept_report(AcceptReportRequest {
            name: name.into(),
            reviewer: Some(office()),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// Drafts, signs, submits on `on` and accepts one report.
async fn file(set: &TestSet, report: Report, on: &str) -> Report {
    let r = create(set, report).await;
    sign(set, &r.name).await;
    submit(set, &r.name, on).await;
    accept(set, &r.name).await
}

fn report(assignment: &str, period: &str, status: ProgressStatus, problems: &str) -> Report {
    Report {
        assignment: assignment.into(),
        period: period.into(),
        status: status as i32,
        progress: format!("{period}按计划推进各项工作"),
        problems: problems.into(),
        next_steps: "加快推进".into(),
        drafter: "王芳".into(),
        ..Default::default()
    }
}

async fn lights(set: &TestSet, plan: &str, period: &str, as_of: &str) -> Vec<TaskLight> {
    set.reporting
        .clone()
        .list_lights(ListLightsRequest {
            parent: plan.into(),
            period: period.into(),
            as_of: as_of.into(),
            page_size: 1000,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .lights
}

fn light_of(lights: &[TaskLight], task: &str) -> (Light, Vec<String>) {
    let l = lights.iter().find(|l| l.task == task).expect("a light");
    (Light::try_from(l.light).unwrap(), l.reasons.clone())
}

async fn overdue(set: &TestSet, plan: &str, as_of: &str) -> Vec<duban_proto::v1::OverdueItem> {
    set.reporting
        .clone()
        .list_overdue_items(ListOverdueItemsRequest {
            parent: plan.into(),
            as_of: as_of.into(),
            page_size: 1000,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .items
}

async fn bulletin(set: &TestSet, plan: &str, format: BulletinFormat, as_of: &str) -> Vec<u8> {
    set.reporting
        .clone()
        .get_bulletin(GetBulletinRequest {
            parent: plan.into(),
            period: "2025Q2".into(),
            format: format as i32,
            as_of: as_of.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .content
}

/// The text of a Word document as LibreOffice renders it (to PDF, read back by pdftotext),
/// without whitespace: the layout puts breaks and spaces where lines wrap. `scripts/test`
/// installs libreoffice-writer, poppler-utils and a CJK font.
fn rendered_text(docx: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("duban-render-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder to render in");
    let file = dir.join("bulletin.docx");
    std::fs::write(&file, docx).expect("writing the docx");
    let converted = std::process::Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}/profile",
            dir.display()
        ))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(&dir)
        .arg(&file)
        .output()
        .expect("soffice (libreoffice-writer): scripts/test installs it");
    assert!(
        converted.status.success() && dir.join("bulletin.pdf").exists(),
        "LibreOffice could not render the bulletin: {}",
        String::from_utf8_lossy(&converted.stderr)
    );
    let text = std::process::Command::new("pdftotext")
        .arg(dir.join("bulletin.pdf"))
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8_lossy(&text.stdout)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// A lead unit of a task carries the report; a task without lead is reported by its
/// responsible units.
fn owing(
    all: &[duban_proto::v1::Assignment],
) -> BTreeMap<String, Vec<duban_proto::v1::Assignment>> {
    let mut by_task: BTreeMap<String, Vec<duban_proto::v1::Assignment>> = BTreeMap::new();
    for a in all {
        by_task.entry(a.task.clone()).or_default().push(a.clone());
    }
    by_task
        .into_iter()
        .map(|(task, list)| {
            let leads: Vec<_> = list
                .iter()
                .filter(|a| a.role == UnitRole::Lead as i32)
                .cloned()
                .collect();
            let owed = if leads.is_empty() {
                list.into_iter()
                    .filter(|a| a.role == UnitRole::Responsible as i32)
                    .collect()
            } else {
                leads
            };
            (task, owed)
        })
        .filter(|(_, owed)| !owed.is_empty())
        .collect()
}

#[tokio::test]
async fn two_quarters_of_seed_003_from_reports_to_the_bulletin() {
    let set = TestSet::start().await;
    let doc = set.ingest_seed(SEED_DECOMPOSITION).await;
    set.wait_delivered(&doc.name, Duration::from_secs(60)).await;
    let plans = set
        .targets
        .clone()
        .list_plans(ListPlansRequest {
            page_size: 10,
            page_token: String::new(),
            filter: format!("source_document=\"{}\"", doc.name),
        })
        .await
        .unwrap()
        .into_inner()
        .plans;
    let district = plans
        .iter()
        .find(|p| p.level == "区")
        .expect("the district plan");
    let plan = district.name.clone();
    // The notice's rule starts with the second quarter.
    set.assignments
        .clone()
        .update_reporting_schedule(UpdateReportingScheduleRequest {
            schedule: Some(ReportingSchedule {
                name: format!("{plan}/reportingSchedule"),
                first_period: "2025Q2".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["first_period".into()],
            }),
            request_id: String::new(),
            allow_missing: false,
        })
        .await
        .unwrap();

    let all = set
        .assignments
        .clone()
        .list_assignments(ListAssignmentsRequest {
            page_size: 1000,
            page_token: String::new(),
            filter: format!("plan=\"{plan}\""),
        })
        .await
        .unwrap()
        .into_inner()
        .assignments;
    let owed = owing(&all);
    let owed_count: usize = owed.values().map(Vec::len).sum();
    // Tasks carried by one unit alone keep the arithmetic of this test simple.
    let single: Vec<&duban_proto::v1::Assignment> = owed
        .values()
        .filter(|o| o.len() == 1)
        .map(|o| &o[0])
        .collect();
    let tasks = set
        .targets
        .clone()
        .list_tasks(ListTasksRequest {
            parent: plan.clone(),
            page_size: 1000,
            page_token: String::new(),
            filter: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .tasks;
    // E: a task whose target is a count, held to the pro-rata pace.
    fn counted(t: &Task) -> Option<&Indicator> {
        t.indicators.iter().find(|i| {
            i.quantity.as_ref().is_some_and(|q| {
                q.value > 0.0
                    && !["%", "个百分点"].contains(&q.unit.as_str())
                    && !q.unit.is_empty()
                    && !q.unit.contains('/')
                    && !q.metric.contains("增长")
                    && !q.metric.ends_with('率')
                    && q.comparator != Comparator::AtMost as i32
            })
        })
    }
    let (e, e_indicator) = single
        .iter()
        .find_map(|a| {
            let task = tasks.iter().find(|t| t.name == a.task)?;
            counted(task).map(|i| (*a, i.clone()))
        })
        .expect("a single-lead task with a counted target");
    let others: Vec<&duban_proto::v1::Assignment> = single
        .iter()
        .copied()
        .filter(|a| a.task != e.task)
        .collect();
    let (a, b, c, d, f) = (others[0], others[1], others[2], others[3], others[4]);

    // ---- 2025Q2, due 2025-07-10 ----------------------------------------------------------
    let mut events = set
        .reporting
        .clone()
        .subscribe_events(SubscribeEventsRequest {
            after: 0,
            plan: plan.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let a2 = file(
        &set,
        report(&a.name, "2025Q2", ProgressStatus::OnPace, ""),
        "2025-07-08",
    )
    .await;
    assert_eq!(a2.state, ReportState::Accepted as i32);
    assert_eq!(
        a2.signature.as_ref().unwrap().signer.as_ref().unwrap().role,
        "局长"
    );
    assert_eq!(
        (a2.task.as_str(), a2.unit_display_name.as_str()),
        (a.task.as_str(), a.unit_display_name.as_str())
    );
    file(
        &set,
        report(&b.name, "2025Q2", ProgressStatus::Behind, "项目资金未到位"),
        "2025-07-09",
    )
    .await;
    file(
        &set,
        report(&c.name, "2025Q2", ProgressStatus::Completed, ""),
        "2025-07-15",
    )
    .await;
    // D's report is returned once, corrected, signed again and accepted.
    let d2 = create(&set, report(&d.name, "2025Q2", ProgressStatus::OnPace, "")).await;
    sign(&set, &d2.name).await;
    submit(&set, &d2.name, "2025-07-05").await;
    let returned = set
        .reporting
        .clone()
        .return_report(ReturnReportRequest {
            name: d2.name.clone(),
            reviewer: Some(office()),
            reason: "数据口径不一致，请核实后重报".into(),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(returned.state, ReportState::Returned as i32);
    let edited = set
        .reporting
        .clone()
        .update_report(UpdateReportRequest {
            report: Some(Report {
                name: d2.name.clone(),
                progress: "已按统计口径核实".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["progress".into()],
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(edited.state, ReportState::Draft as i32);
    assert!(
        edited.signature.is_none(),
        "an edited report needs a new sign-off"
    );
    sign(&set, &d2.name).await;
    submit(&set, &d2.name, "2025-07-12").await;
    assert_eq!(returned.return_reason, "数据口径不一致，请核实后重报");
    let d2 = accept(&set, &d2.name).await;
    assert_eq!(
        d2.submit_date, "2025-07-05",
        "the first submission counts for lateness"
    );
    assert_eq!(
        d2.return_reason, "",
        "the last review accepted it; the return stays in its version"
    );
    let versions = set
        .reporting
        .clone()
        .list_report_versions(ListReportVersionsRequest {
            parent: d2.name.clone(),
            page_size: 100,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .versions;
    let actions: Vec<&str> = versions.iter().map(|v| v.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "created",
            "signed",
            "submitted",
            "returned",
            "updated",
            "signed",
            "submitted",
            "accepted"
        ]
    );
    assert_eq!(versions[3].reason, "数据口径不一致，请核实后重报");
    assert_eq!(
        versions[4].report.as_ref().unwrap().progress,
        "已按统计口径核实"
    );

    // Overdue on 2025-07-14: everyone but A, B, D (C hands in on the 15th).
    let late = overdue(&set, &plan, "2025-07-14").await;
    assert_eq!(late.len(), owed_count - 3);
    assert!(
        late.iter()
            .all(|o| o.days_overdue == 4 && o.overdue_since == "2025-07-11")
    );
    assert!(late.iter().any(|o| o.assignment == c.name));
    let q2 = lights(&set, &plan, "2025Q2", "2025-07-14").await;
    assert_eq!(light_of(&q2, &a.task).0, Light::Green);
    assert_eq!(light_of(&q2, &b.task).0, Light::Yellow);
    assert_eq!(
        light_of(&q2, &c.task),
        (Light::Yellow, vec!["逾期4天未报送".to_string()])
    );

    // On 2025-07-20 the silent units are 10 days late: red.
    let late = overdue(&set, &plan, "2025-07-20").await;
    assert_eq!(late.len(), owed_count - 4);
    let q2 = lights(&set, &plan, "2025Q2", "2025-07-20").await;
    assert_eq!(light_of(&q2, &c.task).0, Light::Green);
    assert_eq!(
        light_of(&q2, &e.task),
        (Light::Red, vec!["逾期10天未报送".to_string()])
    );
    let paces: Vec<Pace> = q2.iter().map(|l| Pace::try_from(l.pace).unwrap()).collect();
    let count = |p: Pace| paces.iter().filter(|x| **x == p).count();
    assert_eq!(
        (count(Pace::Completed), count(Pace::On), count(Pace::Behind)),
        (1, 2, 1)
    );

    let rows = set
        .reporting
        .clone()
        .get_aggregates(GetAggregatesRequest {
            parent: plan.clone(),
            period: "2025Q2".into(),
            group_by: AggregateGroup::GroupPlan as i32,
            as_of: "2025-07-20".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .rows;
    let total = i32::try_from(q2.len()).unwrap();
    assert_eq!(
        (
            rows[0].total,
            rows[0].completed,
            rows[0].on_pace,
            rows[0].behind,
            rows[0].not_reported
        ),
        (total, 1, 2, 1, total - 4)
    );
    let share = |n: i32| (f64::from(n) * 1000.0 / f64::from(total)).round() / 10.0;
    assert_eq!(rows[0].behind_percent, share(1));
    assert_eq!(rows[0].on_pace_percent, share(2));
    let by_unit = set
        .reporting
        .clone()
        .get_aggregates(GetAggregatesRequest {
            parent: plan.clone(),
            period: "2025Q2".into(),
            group_by: AggregateGroup::GroupUnit as i32,
            as_of: "2025-07-20".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .rows;
    assert_eq!(
        by_unit.iter().map(|r| r.total).sum::<i32>(),
        i32::try_from(owed_count).unwrap()
    );

    // The Q2 bulletin as Word, Markdown and HTML.
    let docx = bulletin(&set, &plan, BulletinFormat::Docx, "2025-07-20").await;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(docx.clone())).expect("a zip");
    let mut xml = String::new();
    archive
        .by_name("word/document.xml")
        .expect("word/document.xml")
        .read_to_string(&mut xml)
        .unwrap();
    assert!(archive.by_name("[Content_Types].xml").is_ok());
    for expected in [
        "关于2025年第二季度《政府工作报告》目标任务落实情况的通报",
        "一、总体情况",
        "二、进度滞后的事项",
        "三、未按时报送的单位",
        "项目资金未到位",
        &b.unit_display_name,
        "迟报5天",
        &format!("欠进度1项，占{}%", share(1)),
    ] {
        assert!(xml.contains(expected), "document.xml lacks {expected}");
    }
    // What a person sees: the document as LibreOffice lays it out, read back from the PDF.
    let seen = rendered_text(&docx);
    for expected in [
        "关于2025年第二季度《政府工作报告》目标任务落实情况的通报",
        "二、进度滞后的事项",
        "存在问题：项目资金未到位",
        "迟报5天",
        "督查室",
    ] {
        assert!(
            seen.contains(&expected.replace(' ', "")),
            "the rendered bulletin lacks {expected}:\n{seen}"
        );
    }
    assert_eq!(
        docx,
        bulletin(&set, &plan, BulletinFormat::Docx, "2025-07-20").await,
        "deterministic"
    );
    let md = String::from_utf8(bulletin(&set, &plan, BulletinFormat::Markdown, "2025-07-20").await)
        .unwrap();
    assert!(md.starts_with("# 关于2025年第二季度《政府工作报告》目标任务落实情况的通报"));
    assert!(md.contains(&format!(
        "{}：应于2025年7月10日前报送，于2025年7月15日报送，迟报5天",
        c.unit_display_name
    )));
    let html =
        String::from_utf8(bulletin(&set, &plan, BulletinFormat::Html, "2025-07-20").await).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<h2>四、已完成的事项</h2>"));

    // ---- 2025Q3, due 2025-10-10 ----------------------------------------------------------
    // Report once: A's new draft starts from its Q2 report.
    let a3 = create(
        &set,
        Report {
            assignment: a.name.clone(),
            period: "2025Q3".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        (a3.status, a3.progress.as_str(), a3.state),
        (
            ProgressStatus::OnPace as i32,
            "2025Q2按计划推进各项工作",
            ReportState::Draft as i32
        )
    );
    sign(&set, &a3.name).await;
    submit(&set, &a3.name, "2025-10-09").await;
    file(
        &set,
        report(
            &b.name,
            "2025Q3",
            ProgressStatus::Behind,
            "征收工作推进缓慢",
        ),
        "2025-10-08",
    )
    .await;
    let target = e_indicator.quantity.clone().unwrap();
    let mut e3 = report(&e.name, "2025Q3", ProgressStatus::OnPace, "");
    e3.figures = vec![Figure {
        indicator: e_indicator.name.clone(),
        value: target.value * 0.1,
        as_of: "2025-09-30".into(),
    }];
    let e3 = file(&set, e3, "2025-10-09").await;
    // F asks for more time and gets it.
    let ext = set
        .reporting
        .clone()
        .create_extension(CreateExtensionRequest {
            extension: Some(Extension {
                assignment: f.name.clone(),
                period: "2025Q3".into(),
                requested_due_date: "2025-10-31".into(),
                reason: "需待三季度统计数据发布".into(),
                requester: Some(head()),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    set.reporting
        .clone()
        .decide_extension(DecideExtensionRequest {
            name: ext.name.clone(),
            approve: true,
            decider: Some(office()),
            reason: String::new(),
            request_id: String::new(),
        })
        .await
        .unwrap();

    let late = overdue(&set, &plan, "2025-10-20").await;
    let q3_late: Vec<&str> = late
        .iter()
        .filter(|o| o.period == "2025Q3")
        .map(|o| o.assignment.as_str())
        .collect();
    assert_eq!(
        q3_late.len(),
        owed_count - 4,
        "A, B, E reported; F has until 10-31"
    );
    assert!(!q3_late.contains(&f.name.as_str()));
    let q3 = lights(&set, &plan, "2025Q3", "2025-10-20").await;
    let (light, reasons) = light_of(&q3, &b.task);
    assert_eq!(light, Light::Red);
    assert!(reasons.contains(&"连续2期滞后".to_string()), "{reasons:?}");
    let (light, reasons) = light_of(&q3, &e.task);
    assert_eq!(light, Light::Red);
    assert!(
        reasons.iter().any(|r| r.contains("低于序时进度")),
        "{reasons:?}"
    );
    assert_eq!(light_of(&q3, &a.task).0, Light::Green);
    assert_eq!(light_of(&q3, &f.task).0, Light::None);

    // The event stream saw the workflow and the supervision, in order.
    let mut seen: Vec<Event> = Vec::new();
    while let Ok(Some(Ok(event))) =
        tokio::time::timeout(Duration::from_millis(1500), events.next()).await
    {
        seen.push(event);
    }
    let positions: Vec<i64> = seen.iter().map(|e| e.position).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]));
    let kinds = |k: EventKind| seen.iter().filter(|e| e.kind == k as i32).count();
    assert_eq!(kinds(EventKind::ReportReturned), 1);
    // A, B, C, D twice in Q2; A, B, E in Q3.
    assert_eq!(kinds(EventKind::ReportSubmitted), 8);
    assert!(kinds(EventKind::ItemOverdue) >= owed_count - 3);
    assert!(seen.iter().any(|e| e.kind == EventKind::LightChanged as i32
        && e.task == b.task
        && e.light == Light::Red as i32));

    // Report once: an accepted report's figure reaches targets as an observation.
    let mut observed = Vec::new();
    for _ in 0..200 {
        observed = set
            .targets
            .clone()
            .list_observations(duban_proto::v1::ListObservationsRequest {
                parent: e_indicator.name.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .observations;
        if !observed.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(observed.len(), 1, "one observation per accepted figure");
    assert_eq!(
        (observed[0].source.as_str(), observed[0].as_of.as_str()),
        (e3.name.as_str(), "2025-09-30")
    );
    let value = observed[0].quantity.as_ref().unwrap().value;
    assert!((value - target.value * 0.1).abs() < 1e-9);
    set.stop().await;
}

/// A plan of three tasks with a lead and a cooperating unit on the first, reported quarterly by
/// the 10th of the next quarter's first month.
async fn small_plan(set: &TestSet) -> (String, Vec<duban_proto::v1::Assignment>) {
    let plan = set
        .targets
        .clone()
        .create_plan(CreatePlanRequest {
            plan: Some(Plan {
                title: "2025年区《政府工作报告》目标任务责任分解方案".into(),
                year: 2025,
                level: "区".into(),
                ..Default::default()
            }),
            tasks: (0..3)
                .map(|i| Task {
                    number: (i + 1).to_string(),
                    text: format!("新增市场主体{}户以上", 1000 + i),
                    indicators: vec![Indicator {
                        quantity: Some(Quantity {
                            phrase: format!("新增市场主体{}户以上", 1000 + i),
                            metric: "新增市场主体".into(),
                            value: f64::from(1000 + i),
                            unit: "户".into(),
                            comparator: Comparator::AtLeast as i32,
                            ..Default::default()
                        }),
                        ..Default::default()
                    }],
                    ..Default::default()
                })
                .collect(),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let tasks = set
        .targets
        .clone()
        .list_tasks(ListTasksRequest {
            parent: plan.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .tasks;
    let mut assignments = Vec::new();
    for (i, task) in tasks.iter().enumerate() {
        let mut inputs = vec![AssignmentInput {
            written_name: ["区市场监管局", "区发改局", "区教育局"][i].into(),
            role: UnitRole::Lead as i32,
            ..Default::default()
        }];
        if i == 0 {
            inputs.push(AssignmentInput {
                written_name: "区财政局".into(),
                role: UnitRole::Cooperating as i32,
                ..Default::default()
            });
        }
        assignments.extend(
            set.assignments
                .clone()
                .create_assignments(CreateAssignmentsRequest {
                    task: task.name.clone(),
                    assignments: inputs,
                    request_id: String::new(),
                })
                .await
                .unwrap()
                .into_inner()
                .assignments,
        );
    }
    set.assignments
        .clone()
        .update_reporting_schedule(UpdateReportingScheduleRequest {
            schedule: Some(ReportingSchedule {
                name: format!("{}/reportingSchedule", plan.name),
                rule: "从2025年第二季度起，每个季度第1个月的10日前报送上季度工作进展".into(),
                year: 2025,
                ..Default::default()
            }),
            update_mask: None,
            request_id: String::new(),
            allow_missing: true,
        })
        .await
        .unwrap();
    (plan.name, assignments)
}

#[tokio::test]
async fn wrong_workflow_steps_and_bad_fields_are_refused_and_change_nothing() {
    let set = TestSet::start().await;
    let (plan, assignments) = small_plan(&set).await;
    let mut reporting = set.reporting.clone();
    let lead = &assignments[0];
    let draft = create(
        &set,
        report(&lead.name, "2025Q2", ProgressStatus::OnPace, ""),
    )
    .await;

    let err = reporting
        .submit_report(SubmitReportRequest {
            name: draft.name.clone(),
            submitter: Some(head()),
            as_of: "2025-07-01".into(),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{}", err.message());
    assert!(err.message().contains("sign"), "{}", err.message());
    let err = reporting
        .accept_report(AcceptReportRequest {
            name: draft.name.clone(),
            reviewer: Some(office()),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = reporting
        .sign_report(SignReportRequest {
            name: draft.name.clone(),
            signer: Some(Actor {
                name: "张明".into(),
                role: String::new(),
            }),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), violated_fields(&err)),
        (Code::InvalidArgument, vec!["signer.role".to_string()])
    );
    sign(&set, &draft.name).await;
    submit(&set, &draft.name, "2025-07-01").await;
    let err = reporting
        .return_report(ReturnReportRequest {
            name: draft.name.clone(),
            reviewer: Some(office()),
            reason: " ".into(),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["reason"]);
    let err = reporting
        .update_report(UpdateReportRequest {
            report: Some(Report {
                name: draft.name.clone(),
                progress: "改".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["progress".into()],
            }),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::FailedPrecondition,
        "a submitted report is not edited"
    );
    let stored = reporting
        .get_report(duban_proto::v1::GetReportRequest {
            name: draft.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (stored.state, stored.version, stored.progress.as_str()),
        (ReportState::Submitted as i32, 3, draft.progress.as_str())
    );

    // Not found, wrong period, figures of another task, a file too large.
    let err = reporting
        .create_report(CreateReportRequest {
            report: Some(report(
                "assignments/999999",
                "2025Q2",
                ProgressStatus::OnPace,
                "",
            )),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = reporting
        .create_report(CreateReportRequest {
            report: Some(report(
                &assignments[2].name,
                "2026Q1",
                ProgressStatus::OnPace,
                "",
            )),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["report.period"]);
    let mut wrong = report(&assignments[2].name, "2025Q2", ProgressStatus::OnPace, "");
    wrong.figures = vec![Figure {
        indicator: format!("{}/indicators/1", lead.task),
        value: 1.0,
        as_of: "2025-06-30".into(),
    }];
    let err = reporting
        .create_report(CreateReportRequest {
            report: Some(wrong),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["report.figures[0].indicator"]);
    let other = create(
        &set,
        report(&assignments[2].name, "2025Q2", ProgressStatus::OnPace, ""),
    )
    .await;
    let err = reporting
        .create_evidence(CreateEvidenceRequest {
            parent: other.name.clone(),
            evidence: Some(Evidence {
                filename: "big.pdf".into(),
                content: vec![0; 10 * 1024 * 1024 + 1],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["evidence.content"]);
    let file = reporting
        .create_evidence(CreateEvidenceRequest {
            parent: other.name.clone(),
            evidence: Some(Evidence {
                filename: "台账.xlsx".into(),
                content: b"ledger".to_vec(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (file.sha256.as_str(), file.size_bytes),
        (
            "fe14010b4fe83303852f0467c919ef9a7ca089b91e96e3aad7d426dd87079297",
            6
        )
    );
    let fetched = reporting
        .get_evidence(GetEvidenceRequest {
            name: file.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fetched.content, b"ledger");
    let listed = reporting
        .get_report(duban_proto::v1::GetReportRequest { name: other.name })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.evidence.len(), 1);
    assert!(listed.evidence[0].content.is_empty());

    // The lead sees its co-unit's input and its submission consolidates it.
    let co = &assignments[1];
    assert_eq!(co.role, UnitRole::Cooperating as i32);
    let input = file_report(&set, report(&co.name, "2025Q3", ProgressStatus::OnPace, "")).await;
    let seen = reporting
        .list_reports(ListReportsRequest {
            filter: format!(
                "task=\"{}\" AND period=2025Q3 AND role=COOPERATING",
                lead.task
            ),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .reports;
    assert_eq!(
        seen.iter().map(|r| &r.name).collect::<Vec<_>>(),
        [&input.name]
    );
    let lead3 = create(
        &set,
        report(&lead.name, "2025Q3", ProgressStatus::OnPace, ""),
    )
    .await;
    sign(&set, &lead3.name).await;
    let lead3 = submit(&set, &lead3.name, "2025-10-01").await;
    assert_eq!(lead3.contributions, std::slice::from_ref(&input.name));

    // Lists of a plan validate their arguments.
    let err = reporting
        .list_lights(ListLightsRequest {
            parent: plan.clone(),
            period: String::new(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["period"]);
    let err = reporting
        .list_overdue_items(ListOverdueItemsRequest {
            parent: plan,
            as_of: "2025/07/01".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["as_of"]);
    set.stop().await;
}

/// Draft, sign and submit (a co-unit's input is not reviewed by the office).
async fn file_report(set: &TestSet, r: Report) -> Report {
    let r = create(set, r).await;
    sign(set, &r.name).await;
    submit(set, &r.name, "2025-09-30").await
}

#[tokio::test]
async fn retried_steps_return_the_first_result_and_act_once() {
    let set = TestSet::start().await;
    let (_, assignments) = small_plan(&set).await;
    let mut reporting = set.reporting.clone();
    let request = CreateReportRequest {
        report: Some(report(
            &assignments[0].name,
            "2025Q2",
            ProgressStatus::OnPace,
            "",
        )),
        request_id: "create-1".into(),
    };
    let first = reporting
        .create_report(request.clone())
        .await
        .unwrap()
        .into_inner();
    let again = reporting
        .create_report(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, again);
    let mut changed = request.clone();
    changed.report.as_mut().unwrap().progress = "不同".into();
    let err = reporting.create_report(changed).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = reporting
        .create_report(CreateReportRequest {
            request_id: "create-2".into(),
            ..request
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::AlreadyExists,
        "one report per assignment and period"
    );
    // What the first call answered is what was stored, and its first version.
    let stored = reporting
        .get_report(GetReportRequest {
            name: first.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stored, first);
    let created = reporting
        .list_report_versions(ListReportVersionsRequest {
            parent: first.name.clone(),
            page_size: 1,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .versions
        .remove(0);
    assert_eq!(
        (created.action.as_str(), created.report.as_ref()),
        ("created", Some(&first))
    );
    // The same request_id on another assignment's report: refused, and that report not kept.
    let other = CreateReportRequest {
        report: Some(report(
            &assignments[1].name,
            "2025Q2",
            ProgressStatus::OnPace,
            "",
        )),
        request_id: "create-1".into(),
    };
    let err = reporting.create_report(other.clone()).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let kept = reporting
        .list_reports(ListReportsRequest {
            filter: format!("assignment=\"{}\"", assignments[1].name),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .reports;
    assert!(kept.is_empty(), "{kept:?}");
    // Two callers sending one new request at once: one report, both told about it.
    let fresh = CreateReportRequest {
        request_id: "create-3".into(),
        ..other
    };
    let (mut one, mut two) = (reporting.clone(), reporting.clone());
    let (x, y) = tokio::join!(one.create_report(fresh.clone()), two.create_report(fresh));
    assert_eq!(x.unwrap().into_inner(), y.unwrap().into_inner());

    let sign_request = SignReportRequest {
        name: first.name.clone(),
        signer: Some(head()),
        request_id: "sign-1".into(),
    };
    let signed = reporting
        .sign_report(sign_request.clone())
        .await
        .unwrap()
        .into_inner();
    let again = reporting
        .sign_report(sign_request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(signed, again);
    let submit_request = SubmitReportRequest {
        name: first.name.clone(),
        submitter: Some(head()),
        as_of: "2025-07-02".into(),
        request_id: "submit-1".into(),
    };
    let (mut one, mut two) = (reporting.clone(), reporting.clone());
    let (x, y) = tokio::join!(
        one.submit_report(submit_request.clone()),
        two.submit_report(submit_request)
    );
    assert_eq!(x.unwrap().into_inner(), y.unwrap().into_inner());
    let versions = reporting
        .list_report_versions(ListReportVersionsRequest {
            parent: first.name.clone(),
            page_size: 2,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(versions.versions.len(), 2);
    let rest = reporting
        .list_report_versions(ListReportVersionsRequest {
            parent: first.name.clone(),
            page_size: 2,
            page_token: versions.next_page_token,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        rest.versions
            .iter()
            .map(|v| v.action.as_str())
            .collect::<Vec<_>>(),
        ["submitted"],
        "three steps, three versions"
    );
    set.stop().await;
}

#[tokio::test]
async fn a_subscriber_resumes_from_the_last_position_it_saw() {
    let set = TestSet::start().await;
    let (plan, assignments) = small_plan(&set).await;
    let r = create(
        &set,
        report(&assignments[0].name, "2025Q2", ProgressStatus::OnPace, ""),
    )
    .await;
    sign(&set, &r.name).await;
    submit(&set, &r.name, "2025-07-01").await;

    let mut stream = set
        .reporting
        .clone()
        .subscribe_events(SubscribeEventsRequest {
            after: 0,
            plan: plan.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.kind, EventKind::ReportSigned as i32);
    drop(stream);

    // While nobody listens, the office accepts and a unit falls overdue.
    accept(&set, &r.name).await;
    overdue(&set, &plan, "2025-07-15").await;

    let mut resumed = set
        .reporting
        .clone()
        .subscribe_events(SubscribeEventsRequest {
            after: first.position,
            plan: plan.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut kinds = Vec::new();
    let mut last = first.position;
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_millis(1500), resumed.next()).await
    {
        let e = event.unwrap();
        assert!(e.position > last, "in order, none twice");
        last = e.position;
        kinds.push(EventKind::try_from(e.kind).unwrap());
    }
    assert_eq!(
        kinds[..2],
        [EventKind::ReportSubmitted, EventKind::ReportAccepted]
    );
    assert!(kinds.len() > 2);
    assert!(kinds[2..].iter().all(|k| *k == EventKind::ItemOverdue));
    // A new event reaches the open stream.
    let r2 = create(
        &set,
        report(&assignments[2].name, "2025Q2", ProgressStatus::Behind, ""),
    )
    .await;
    sign(&set, &r2.name).await;
    let live = tokio::time::timeout(Duration::from_secs(5), resumed.next())
        .await
        .expect("a live event")
        .unwrap()
        .unwrap();
    assert_eq!(
        (live.kind, live.report.as_str()),
        (EventKind::ReportSigned as i32, r2.name.as_str())
    );
    drop(resumed);
    set.stop().await;
}

#[tokio::test]
async fn the_supervision_sweep_announces_overdue_items_to_subscribers() {
    let mut config =
        duban_cli::stack::StackConfig::ephemeral(&duban_testkit::fresh_database().await);
    config.reporting_sweep_seconds = 1;
    let set = TestSet::start_with(config).await;
    let doc = set.ingest_seed(SEED_DECOMPOSITION).await;
    let doc = set.wait_delivered(&doc.name, Duration::from_secs(60)).await;
    let plan = doc.plans[2].clone();
    let mut stream = set
        .reporting
        .clone()
        .subscribe_events(SubscribeEventsRequest {
            after: 0,
            plan: plan.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    // Nobody asks for lights or overdue lists: the sweep finds the 2025 reports nobody filed.
    let event = tokio::time::timeout(Duration::from_secs(60), stream.next())
        .await
        .expect("an event within a minute")
        .unwrap()
        .unwrap();
    assert!(
        [
            EventKind::ItemOverdue as i32,
            EventKind::LightChanged as i32
        ]
        .contains(&event.kind),
        "{event:?}"
    );
    assert_eq!(event.plan, plan);
    set.stop().await;
}
