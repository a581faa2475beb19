// duban's services called by Node's grpc-js (a gRPC stack written in JavaScript, sharing no code
// with tonic or with grpcio's C core), with the stubs made at run time from proto/ by
// proto-loader: CJK text, int64 and enum fields, bytes, timestamps, field masks, paging, the
// rich error details in grpc-status-details-bin, idempotent retries and a server stream.
//
// node client.js --suite interop|over-budget --proto DIR --seed FILE --ingest ADDR
//                --targets ADDR --assignments ADDR --reporting ADDR
// Prints one line per check and exits 1 when one failed.
'use strict';

const path = require('path');
const fs = require('fs');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');
const googleProtoFiles = require('google-proto-files');

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    args[key] = argv[i + 1];
  }
  for (const key of ['suite', 'proto', 'seed', 'ingest', 'targets', 'assignments', 'reporting']) {
    if (!args[key]) {
      throw new Error(`--${key} is required`);
    }
  }
  return args;
}

const checks = { count: 0, failures: [] };

function ok(name, condition, detail) {
  checks.count += 1;
  if (condition) {
    console.log(`ok   ${name}`);
  } else {
    console.log(`FAIL ${name}: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`);
    checks.failures.push(name);
  }
}

// google.rpc.Status and its detail types, from Google's own proto files.
const rpcRoot = new protobuf.Root();
rpcRoot.resolvePath = (origin, target) => {
  const fromGoogle = path.join(googleProtoFiles.getProtoPath('..'), target);
  return fs.existsSync(fromGoogle) ? fromGoogle : protobuf.util.path.resolve(origin, target);
};
rpcRoot.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto']);
const Status = rpcRoot.lookupType('google.rpc.Status');
const DETAIL_TYPES = ['BadRequest', 'ResourceInfo', 'ErrorInfo', 'RetryInfo'];

/** The rich error details an error carries, by type name. */
function detailsOf(err) {
  const raw = err.metadata && err.metadata.get('grpc-status-details-bin');
  const decoded = {};
  if (!raw || raw.length === 0) {
    return decoded;
  }
  const status = Status.decode(raw[0]);
  for (const any of status.details) {
    for (const name of DETAIL_TYPES) {
      if (any.type_url === `type.googleapis.com/google.rpc.${name}`) {
        decoded[name] = rpcRoot.lookupType(`google.rpc.${name}`).decode(any.value);
      }
    }
  }
  return decoded;
}

function unary(client, method, request, deadlineSeconds = 60) {
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + deadlineSeconds * 1000);
    client[method](request, { deadline }, (err, response) => (err ? reject(err) : resolve(response)));
  });
}

async function accepted(name, client, method, request) {
  try {
    const response = await unary(client, method, request);
    ok(`${name}: OK`, true);
    return response;
  } catch (err) {
    ok(`${name}: OK`, false, `${grpc.status[err.code]}: ${err.details}`);
    return null;
  }
}

async function refused(name, client, method, request, code, details = []) {
  try {
    await unary(client, method, request);
    ok(`${name}: ${code}`, false, 'the call succeeded');
    return {};
  } catch (err) {
    ok(`${name}: ${code}`, grpc.status[err.code] === code, `got ${grpc.status[err.code]}: ${err.details}`);
    const decoded = detailsOf(err);
    for (const type of details) {
      ok(`${name}: ${type} decodes`, type in decoded, `details carried: ${Object.keys(decoded)}`);
    }
    return decoded;
  }
}

function clients(args) {
  const definition = protoLoader.loadSync(
    ['ingest', 'targets', 'assignments', 'reporting'].map((s) => path.join(args.proto, 'duban/v1', `${s}.proto`)),
    { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [args.proto] },
  );
  const v1 = grpc.loadPackageDefinition(definition).duban.v1;
  const insecure = grpc.credentials.createInsecure();
  return {
    ingest: new v1.IngestService(args.ingest, insecure),
    targets: new v1.TargetsService(args.targets, insecure),
    assignments: new v1.AssignmentsService(args.assignments, insecure),
    reporting: new v1.ReportingService(args.reporting, insecure),
  };
}

async function waitDelivered(ingest, name, seconds) {
  const until = Date.now() + seconds * 1000;
  let document = null;
  while (Date.now() < until) {
    document = await unary(ingest, 'GetDocument', { name });
    if (document.delivery_state !== 'PENDING') {
      return document;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return document;
}

/** The events of a plan from the beginning, read from the stream until `count` or the deadline. */
function firstEvents(reporting, plan, count, seconds) {
  return new Promise((resolve) => {
    const events = [];
    const call = reporting.SubscribeEvents({ after: '0', plan }, { deadline: new Date(Date.now() + seconds * 1000) });
    call.on('data', (event) => {
      events.push(event);
      if (events.length >= count) {
        call.cancel();
      }
    });
    // a cancelled or timed-out stream ends with an error: what arrived is the answer
    call.on('error', (err) => resolve({ events, code: grpc.status[err.code] }));
    call.on('end', () => resolve({ events, code: 'OK' }));
  });
}

async function interop(args) {
  const { ingest, targets, assignments, reporting } = clients(args);
  const seed = fs.readFileSync(args.seed);

  // ingest: bytes in, a document out; the same request_id answers with the same document
  const request = { content: seed, filename: '分解通知.txt', request_id: 'js-doc-1' };
  const document = await accepted('CreateDocument', ingest, 'CreateDocument', request);
  const again = await accepted('CreateDocument retried with its request_id', ingest, 'CreateDocument', request);
  ok('CreateDocument retried: the same document', document && again && document.name === again.name, [document && document.name, again && again.name]);
  if (!document) {
    return;
  }
  ok('the document is read as a decomposition notice', document.kind === 'DECOMPOSITION', document.kind);
  const bad = await refused('CreateDocument without content', ingest, 'CreateDocument', { filename: 'empty.txt' }, 'INVALID_ARGUMENT', ['BadRequest']);
  if (bad.BadRequest) {
    const fields = bad.BadRequest.fieldViolations.map((v) => v.field);
    ok('CreateDocument without content: names the field', fields.includes('content'), fields);
  }
  const missing = await refused('GetDocument of a missing document', ingest, 'GetDocument', { name: 'documents/999999' }, 'NOT_FOUND', ['ResourceInfo']);
  if (missing.ResourceInfo) {
    ok('GetDocument of a missing document: names it', missing.ResourceInfo.resourceName === 'documents/999999', missing.ResourceInfo);
  }
  const done = await waitDelivered(ingest, document.name, 60);
  ok('the document is delivered', done && done.delivery_state === 'DELIVERED', done && done.delivery_state);

  // targets: CJK text, enums and int64 come back as written; pages follow their tokens
  const plans = await accepted('ListPlans of the document', targets, 'ListPlans', { filter: `source_document="${document.name}"` });
  ok('the document made plans', plans && plans.plans.length > 0, plans);
  if (!plans || plans.plans.length === 0) {
    return;
  }
  const plan = plans.plans[0];
  ok('a plan title in Chinese', /[\u4e00-\u9fff]/.test(plan.title), plan.title);
  const first = await accepted('ListTasks, first page', targets, 'ListTasks', { parent: plan.name, page_size: 3 });
  const second = first && first.next_page_token
    ? await accepted('ListTasks, next page', targets, 'ListTasks', { parent: plan.name, page_size: 3, page_token: first.next_page_token })
    : null;
  ok('pages of three tasks, the next after the first', first && second && first.tasks.length === 3 && second.tasks.length > 0
    && !second.tasks.some((t) => first.tasks.some((f) => f.name === t.name)), [first && first.tasks.map((t) => t.name), second && second.tasks.map((t) => t.name)]);
  const long = await refused('ListTasks with a megabyte filter', targets, 'ListTasks', { parent: 'plans/-', filter: `text:"${'区'.repeat(1 << 20)}"` }, 'INVALID_ARGUMENT', ['BadRequest']);
  ok('ListTasks with a megabyte filter: a bounded answer', JSON.stringify(long).length < 16 * 1024, JSON.stringify(long).length);

  // assignments and reporting: a report made, signed and submitted, then seen on the stream
  const listed = await accepted('ListAssignments of the plan', assignments, 'ListAssignments', { filter: `plan="${plan.name}" AND role=LEAD`, page_size: 1 });
  const lead = listed && listed.assignments[0];
  ok('the plan has a lead assignment', Boolean(lead), listed);
  if (!lead) {
    return;
  }
  const report = await accepted('CreateReport', reporting, 'CreateReport', {
    report: { assignment: lead.name, period: '2025Q2', status: 'ON_PACE', progress: '按序时推进,完成投资12.5亿元' },
    request_id: 'js-report-1',
  });
  if (!report) {
    return;
  }
  ok('the report keeps its Chinese text', report.progress === '按序时推进,完成投资12.5亿元', report.progress);
  const evidence = await accepted('CreateEvidence', reporting, 'CreateEvidence', {
    parent: report.name,
    evidence: { filename: '现场照片说明.txt', media_type: 'text/plain', content: Buffer.from('现场照片说明', 'utf8') },
    request_id: 'js-evidence-1',
  });
  if (evidence) {
    const back = await accepted('GetEvidence', reporting, 'GetEvidence', { name: evidence.name });
    ok('the evidence bytes come back as sent', back && Buffer.from(back.content).toString('utf8') === '现场照片说明', back && back.content);
  }
  await refused('SubmitReport before it is signed', reporting, 'SubmitReport', { name: report.name, submitter: { name: '王芳' } }, 'FAILED_PRECONDITION', ['ErrorInfo']);
  await accepted('SignReport', reporting, 'SignReport', { name: report.name, signer: { name: '张明', role: '局长' }, request_id: 'js-sign-1' });
  const submitted = await accepted('SubmitReport', reporting, 'SubmitReport', { name: report.name, submitter: { name: '王芳' }, as_of: '2025-07-05', request_id: 'js-submit-1' });
  ok('the submitted report: its state, its date and an int64 timestamp', submitted && submitted.state === 'SUBMITTED' && submitted.submit_date === '2025-07-05'
    && Number(submitted.update_time.seconds) >= Number(report.create_time.seconds), submitted && [submitted.state, submitted.submit_date, submitted.update_time]);
  const { events, code } = await firstEvents(reporting, plan.name, 1, 20);
  ok('SubscribeEvents streams the submission', events.length >= 1 && events.some((e) => e.report === report.name), [code, events.map((e) => [e.position, e.kind, e.report])]);
  ok('the stream ended by the client, not the server', code === 'CANCELLED', code);
}

// A document over the ingest service's extraction budget (the set runs with 1 ms):
// RESOURCE_EXHAUSTED with an ErrorInfo whose metadata names the document kept as FAILED, the
// budget and the setting, the same under retry; nothing of it delivered (issue 29).
async function overBudget(args) {
  const { ingest } = clients(args);
  const seed = fs.readFileSync(args.seed, 'utf8');
  // the notice sixteen times over on one line: far more than a millisecond of work
  const content = Buffer.from(seed.replace(/\n/g, ' ').repeat(16), 'utf8');
  const request = { content, filename: 'long.txt', request_id: 'js-over-budget' };
  for (const attempt of ['first', 'retried']) {
    const name = `CreateDocument over the extraction budget (${attempt})`;
    const details = await refused(name, ingest, 'CreateDocument', request, 'RESOURCE_EXHAUSTED', ['ErrorInfo']);
    const info = details.ErrorInfo;
    if (info) {
      ok(`${name}: reason`, info.reason === 'EXTRACTION_BUDGET_EXCEEDED', info.reason);
      ok(`${name}: metadata`, info.metadata.document === 'documents/1' && info.metadata.budget_ms === '1'
        && info.metadata.setting === 'DUBAN_INGEST_EXTRACT_BUDGET_MS', info.metadata);
    }
  }
  const failed = await accepted('ListDocuments of FAILED documents', ingest, 'ListDocuments', { filter: 'delivery_state=FAILED' });
  ok('the document is kept as FAILED, once, holding nothing read', failed && failed.documents.length === 1
    && failed.documents[0].name === 'documents/1' && failed.documents[0].item_count === 0, failed);
  const delivered = await accepted('ListDocuments of DELIVERED documents', ingest, 'ListDocuments', { filter: 'delivery_state=DELIVERED' });
  ok('no document is delivered', delivered && delivered.documents.length === 0, delivered);
}

const SUITES = { interop, 'over-budget': overBudget };

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const suite = SUITES[args.suite];
  if (!suite) {
    throw new Error(`--suite is one of ${Object.keys(SUITES)}`);
  }
  await suite(args);
  console.log(`${checks.count - checks.failures.length} of ${checks.count} checks passed`);
  if (checks.failures.length > 0) {
    console.log(`failed: ${checks.failures.join('; ')}`);
    process.exit(1);
  }
  process.exit(0);
}

main().catch((err) => {
  console.log(`FAIL the suite stopped: ${err.stack || err}`);
  process.exit(1);
});
