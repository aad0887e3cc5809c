// Command redact is shiprelay's hourly redaction sweep (Amazon buyer data). It only wires the adapters
// (shared/app) and hands the handler to the Lambda runtime.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shiprelay/shiprelay/shared/app"
)

func main() {
	lambda.Start(app.Must(app.Build(context.Background(), "redact", os.Getenv)))
}
