// Package sandbox simulates the two external APIs shiprelay talks to first:
// the BigCommerce REST API (V2 orders and shipments, V3 hooks and channels)
// and the ShipStation V1 API (orders, shipments, webhooks). Production code
// reaches them through configurable base URLs, so both simulators speak the
// vendors' wire formats: paths, field names, JSON types, status codes,
// rate-limit headers and error bodies (see
// ../shared/reference/api-contracts.md §1, §4 and §6 and the BigCommerce
// OpenAPI files in ../shared/specs/bigcommerce).
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
// The ShipStation side also has a warehouse (Options.WarehouseEnabled, off
// by default) that labels orders once they have been awaiting_shipment for
// Options.WarehouseDelay: sometimes in several packages, sometimes one label
// for several orders, sometimes voiding and re-labelling (WarehouseFaults).
// Each batch of labels fires an unsigned SHIP_NOTIFY whose resource_url
// points back at the sandbox's GET /shipments?batchId=...; see warehouse.go
// and sswebhooks.go. Tests can ship deterministically with ShipOrder,
// ShipCombined, VoidShipment, Relabel and WarehouseTick.
//
// Everything here is simulated: names, addresses, e-mails and phone numbers
// of generated orders are fake and carry a random token (see
// BCOrder.PIIValues) so tests can prove that none of them reaches a log.
package sandbox
