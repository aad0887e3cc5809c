package amazon

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedFile finds a file of the shared workspace beside the repository
// (dir "specs" or "reference"): under $SHIPRELAY_SPECS for specs, else by
// walking up from the test's directory to a "shared/<dir>" folder. Absent,
// the test is skipped, unless $CI is set, where it fails.
func sharedFile(t *testing.T, dir, rel string) string {
	t.Helper()
	if env := os.Getenv("SHIPRELAY_SPECS"); env != "" && dir == "specs" {
		p := filepath.Join(env, rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	} else if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			p := filepath.Join(d, "shared", dir, rel)
			if _, err := os.Stat(p); err == nil {
				return p
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("shared/%s/%s not found (set SHIPRELAY_SPECS)", dir, rel)
	}
	t.Skipf("shared/%s/%s not found; skipping", dir, rel)
	return ""
}

func readShared(t *testing.T, dir, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(sharedFile(t, dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
