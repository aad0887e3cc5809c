package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shiprelay/shiprelay/infra/runner"
	"github.com/shiprelay/shiprelay/shared/app"
)

// Serve runs every function against the user's own configuration and
// secrets file (no sandbox) on the local stack until ctx ends.
func Serve(ctx context.Context, configPath, secretsPath, addr string, logs, out io.Writer) error {
	tpl, err := FindTemplate()
	if err != nil {
		return err
	}
	cfgAbs, err := filepath.Abs(configPath)
	if err != nil {
		return err
	}
	getenv := os.Getenv
	if secretsPath != "" {
		abs, err := filepath.Abs(secretsPath)
		if err != nil {
			return err
		}
		getenv = func(k string) string {
			if k == app.EnvSecretsFile {
				return abs
			}
			return os.Getenv(k)
		}
	}
	r, err := runner.New(runner.Config{
		TemplatePath: tpl,
		Parameters:   map[string]string{"ConfigSecretName": "file:" + cfgAbs},
		Factory: func(fn string, fnenv func(string) string) (lambda.Handler, error) {
			d, err := app.LoadWith(ctx, fnenv, logs)
			if err != nil {
				return nil, err
			}
			return d.Handler(fn)
		},
		HTTPAddr: addr,
		Getenv:   getenv,
		Logger:   slog.New(slog.NewJSONHandler(logs, nil)),
		Stdout:   out,
	})
	if err != nil {
		return err
	}
	if err := r.Start(ctx); err != nil {
		return err
	}
	fmt.Fprintln(out, "running with", configPath, "— Ctrl-C to stop")
	return r.Wait()
}
