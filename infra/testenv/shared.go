package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvSpecs overrides where the vendor specifications are (the folder
// holding amazon/, bigcommerce/, ...).
const EnvSpecs = "SHIPRELAY_SPECS"

// SharedPath finds a path of the shared workspace that sits beside the
// repository (../shared): parts[0] is "specs" or "reference". Specs are
// looked for under $SHIPRELAY_SPECS first; otherwise the test's directory
// and its parents are searched for shared/<parts...>. When the path is
// absent the test is skipped, unless $CI is set: CI must never skip
// silently, so there it fails.
func SharedPath(t testing.TB, parts ...string) string {
	t.Helper()
	rel := filepath.Join(parts...)
	if d := os.Getenv(EnvSpecs); d != "" && len(parts) > 0 && parts[0] == "specs" {
		p := filepath.Join(append([]string{d}, parts[1:]...)...)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		t.Fatalf("%s=%s has no %s", EnvSpecs, d, filepath.Join(parts[1:]...))
	}
	if dir, err := os.Getwd(); err == nil {
		for {
			p := filepath.Join(dir, "shared", rel)
			if _, err := os.Stat(p); err == nil {
				return p
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	msg := "shared/" + filepath.ToSlash(rel) + " not found: place shared/ next to the repository"
	if len(parts) > 0 && parts[0] == "specs" {
		msg += " or set " + EnvSpecs
	}
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; required in CI")
	}
	t.Skip(msg)
	return ""
}
