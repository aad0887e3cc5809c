// Command shiprelay is the operator CLI: it lists exception records and
// dead letters, moves dead letters back to their source queues, re-drives
// the work behind one exception, and lists and resumes paused stores. It
// talks to a deployed stack with the operator's own AWS credentials (the
// default credential chain), or to the local stack.
//
//	go run ./infra/cmd/shiprelay -stack shiprelay exceptions
//	go run ./infra/cmd/shiprelay -local dlq
//	go run ./infra/cmd/shiprelay -stack shiprelay replay dlq PushDLQ -dry-run
//
// It adds no HTTP route to the deployment: everything goes through the AWS
// APIs, under the caller's IAM permissions. Run it with -h for the usage.
// Exit codes: 0 ok, 1 error, 2 usage.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
