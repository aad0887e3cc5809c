// Launcher for the local SQS emulator (npm local-aws-sqs), started by
// infra/local/stack.sh. It serves the AWS JSON 1.0 and Query protocols on
// loopback only.
//
// usage: node sqs-server.js <node_modules dir> <port>
'use strict';

const path = require('path');

const [modules, portArg] = process.argv.slice(2);
const port = Number(portArg);
if (!modules || !Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node sqs-server.js <node_modules dir> <port>');
  process.exit(2);
}

const { createSqsServer } = require(path.join(path.resolve(modules), 'local-aws-sqs'));

(async () => {
  const server = await createSqsServer({ port, hostname: '127.0.0.1', region: 'us-east-1' });
  server.on('error', (err) => {
    console.error(`sqs emulator: ${err.message}`);
    process.exit(1);
  });
  console.log(`sqs emulator listening on http://127.0.0.1:${port} (pid ${process.pid})`);
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
