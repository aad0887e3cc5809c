// Package sandbox simulates the two external APIs shiprelay talks to first:
// the BigCommerce REST API (V2 orders, V3 hooks and channels) and the
// ShipStation V1 API (orders). Production code reaches them through
// configurable base URLs, so both simulators speak the vendors' wire formats:
// paths, field names, JSON types, status codes, rate-limit headers and error
// bodies (see ../shared/reference/api-contracts.md §1 and §4 and the
// BigCommerce OpenAPI files in ../shared/specs/bigcommerce).
//
// A Sandbox holds the state of both simulators and exposes each as its own
// http.Handler, to be served on its own loopback port:
//
//	sb := sandbox.New(sandbox.Options{Seed: 7})
//	defer sb.Close()
//	bc := httptest.NewServer(sb.BigCommerce()) // base URL: bc.URL + "/stores/" + sb.DefaultStoreHash()
//	ss := httptest.NewServer(sb.ShipStation())
//
// Besides the vendor endpoints each server answers admin requests under
// /_sandbox/ (statistics, fault knobs, rate-limit settings, order generation,
// webhook destinations); the same operations exist as Go methods.
//
// Faults (injected 429s and 5xx, added latency, lost responses, dropped and
// duplicated webhooks) are decided by a math/rand/v2 generator seeded from
// Options.Seed, so a run is reproducible for a given sequence of requests.
//
// Everything here is simulated: names, addresses, e-mails and phone numbers
// of generated orders are fake and carry a random token (see
// BCOrder.PIIValues) so tests can prove that none of them reaches a log.
package sandbox
