package amazon

import (
	"os"
	"testing"

	"github.com/shiprelay/shiprelay/infra/testenv"
)

// sharedFile finds ../shared/<dir>/<rel> (see testenv.SharedPath).
func sharedFile(t *testing.T, dir, rel string) string {
	return testenv.SharedPath(t, dir, rel)
}

func readShared(t *testing.T, dir, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(sharedFile(t, dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
