// Command reconcile is shiprelay's reconcile Lambda function (wiring: shared/app).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shiprelay/shiprelay/shared/app"
)

func main() {
	lambda.Start(app.Must(app.Build(context.Background(), "reconcile", os.Getenv)))
}
