// Launcher for the local SQS emulator (npm local-aws-sqs@2.0.2), started by
// infra/local/stack.sh. It serves the AWS JSON 1.0 and Query protocols on
// loopback only.
//
// usage: node sqs-server.js <node_modules dir> <port>
//
// Three behaviours of local-aws-sqs 2.0.2 differ from Amazon SQS in ways that
// matter to shiprelay, so the launcher patches them in memory when it loads
// the package (the files in node_modules stay as npm installed them). If the
// package changes and a patch no longer applies, the launcher refuses to
// start rather than run with the wrong semantics.
//   1. ChangeMessageVisibility counted as a receive: it raised
//      ApproximateReceiveCount, so a consumer that backs off by changing the
//      visibility reached the dead-letter queue early. SQS counts receives only.
//   2. A long poll (WaitTimeSeconds > 0) returned only once it had
//      MaxNumberOfMessages messages or the wait was over, so a consumer
//      polling for 20 s saw each message up to 20 s late. SQS returns as soon
//      as messages are available.
//   3. ApproximateNumberOfMessages counted in-flight messages too; in SQS it
//      is the messages available for retrieval (visible, not delayed).
'use strict';

const fs = require('fs');
const Module = require('module');
const path = require('path');

const [modules, portArg] = process.argv.slice(2);
const port = Number(portArg);
if (!modules || !Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node sqs-server.js <node_modules dir> <port>');
  process.exit(2);
}

const PATCHES = [
  {
    name: 'ChangeMessageVisibility is not a receive',
    from: 'let n=Number(e);return l(this,D,Wt).call(this,r,n,!0),!0}',
    // Wt (shared with ReceiveMessage) adds one to the count: take it off first.
    to: 'let n=Number(e);return r.record.attributes.ApproximateReceiveCount=String(Number(r.record.attributes.ApproximateReceiveCount)-1),l(this,D,Wt).call(this,r,n,!0),!0}',
  },
  {
    name: 'a long poll returns as soon as a message is there',
    // It waited for MaxNumberOfMessages messages or the whole WaitTimeSeconds.
    from: 'if(r.length==e){clearInterval(c),clearTimeout(n),o();break}}},10)',
    to: 'if(r.length==e)break}r.length>0&&(clearInterval(c),clearTimeout(n),o())},10)',
  },
  {
    name: 'ApproximateNumberOfMessages counts visible messages only',
    from: 'ApproximateNumberOfMessages:String(S(this,E).filter(o=>!o.delayed).length)',
    to: 'ApproximateNumberOfMessages:String(S(this,E).filter(o=>!o.delayed&&o.visible).length)',
  },
];

function load(dir) {
  const file = require.resolve(path.join(path.resolve(dir), 'local-aws-sqs'));
  let src = fs.readFileSync(file, 'utf8');
  for (const p of PATCHES) {
    const parts = src.split(p.from);
    if (parts.length !== 2) {
      console.error(`sqs emulator: patch "${p.name}" does not apply to ${file} (found ${parts.length - 1} times); ` +
        'is local-aws-sqs still at the version stack.sh pins?');
      process.exit(1);
    }
    src = parts.join(p.to);
  }
  const m = new Module(file, module);
  m.filename = file;
  m.paths = Module._nodeModulePaths(path.dirname(file));
  m._compile(src, file);
  return m.exports;
}

const { createSqsServer } = load(modules);

(async () => {
  const server = await createSqsServer({ port, hostname: '127.0.0.1', region: 'us-east-1' });
  server.on('error', (err) => {
    console.error(`sqs emulator: ${err.message}`);
    process.exit(1);
  });
  console.log(`sqs emulator listening on http://127.0.0.1:${port} (pid ${process.pid}; ${PATCHES.length} patches applied)`);
  const stop = (sig) => {
    console.log(`sqs emulator: ${sig}, closing`);
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
})().catch((err) => {
  console.error(`sqs emulator failed to start: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
});
