// Package rules is shiprelay's automation rules: an ordered list per
// ShipStation account, evaluated against every order going to that account
// when it is imported (each new version of the order, after it is
// normalised and before the ledger is written), in the spirit of
// ShipStation's own automation rules. It is domain code: no AWS SDK, no HTTP.
//
// # YAML
//
// Rules live in the config file, under the ShipStation account whose orders
// they act on (the orders of the stores whose shipstation.account is that
// account):
//
//	shipstation:
//	  - id: main
//	    credentialsSecret: shiprelay/shipstation/main
//	    rules:
//	      - name: Skip marketplace copies in BigCommerce
//	        when:
//	          - {field: marketplace, op: equals, value: BigCommerce}
//	          - {field: source, op: in, values: [eBay, Amazon]}
//	        then:
//	          doNotImport: true
//	      - name: Expedited first
//	        when:
//	          - {field: serviceLevel, op: in, values: [Expedited, NextDay, SecondDay, SameDay, Priority]}
//	        then:
//	          priority: true
//	      - name: West coast warehouse
//	        when:
//	          - {field: shipToCountry, op: equals, value: US}
//	          - {field: shipToState, op: in, values: [CA, California, OR, Oregon, WA, Washington]}
//	        then:
//	          warehouse: 40112
//	        stop: true
//
// A rule has a name (required, unique in its list, case-insensitively), a
// list of conditions under when (all must hold; an empty or absent when
// matches every order), the actions under then (at least one), and stop
// (true ends the evaluation when the rule matches). testdata/example.yaml
// is a complete, commented example.
//
// # Conditions
//
// A condition is {field, op, value} or, for in and notIn, {field, op,
// values: [...]}. Text compares case-insensitively, with surrounding
// spaces ignored. Fields:
//
//	marketplace       the channel the order came through: bigcommerce, amazon or ebay
//	source            the marketplace a channel order mirrors (Order.Origin, e.g. amazon
//	                  for a BigCommerce copy of an Amazon order); "" when it mirrors none
//	store             the config id of the store the order came from
//	shipToCountry     a ship-to country (ISO 3166-1 alpha-2, e.g. US)
//	shipToState       a ship-to state or region, as the channel sends it (BigCommerce
//	                  sends "California", Amazon usually "CA": list both)
//	sku               the SKU of an order line
//	itemCount         the number of units (sum of the line quantities), an integer
//	orderTotal        the order total, an exact decimal (never a float)
//	requestedService  the requested shipping service as it stands (after the
//	                  requestedService actions of earlier rules)
//	serviceLevel      the requested service as the channel sent it (Amazon's
//	                  fulfillmentServiceLevel, BigCommerce's shipping method), which
//	                  rules never change
//	prime             true when the order is tagged Prime (Amazon Prime orders are)
//	business          true for a business buyer's order (Amazon Business)
//	tag               a tag of the order, including tags added by earlier rules
//
// shipToCountry, shipToState, sku and tag can have several values (ship
// groups, lines, tags): equals, in and contains hold when any value
// satisfies them; notEquals, notIn and notContains when none does (so
// "tag notEquals Gift" holds for an order without tags).
//
// Ops: equals, notEquals, in, notIn (text, numbers); contains, notContains
// (text: substring); greater, less (itemCount and orderTotal only, strict:
// "itemCount greater 1" is two units or more). prime and business take
// equals and notEquals with true or false. Values are checked when the file
// is loaded: marketplace and source name channels, shipToCountry two-letter
// codes, itemCount integers, orderTotal decimals.
//
// # Actions
//
//	doNotImport: true          the order is recorded in the ledger as skipped, with the
//	                           rule's name as the reason, and never pushed; evaluation
//	                           ends. It cannot be combined with other actions. An order
//	                           ShipStation already has cannot be un-imported: for it the
//	                           action is noted and ignored (ApplyImported).
//	tags: [Gift, Fragile]      add tags (by name; the push maps names to the account's
//	                           ShipStation tag ids, and reports a name the account lacks)
//	hold: {for: 2h}            hold the order until 2h after it was placed (OrderDate)
//	hold: {until: 2026-12-01T00:00:00Z}
//	                           hold it until an instant (RFC 3339, or a date: midnight UTC)
//	warehouse: 40112           ShipStation warehouseId (advancedOptions.warehouseId)
//	requestedService: UPS Ground
//	                           replace the requested shipping service
//	customField: {2: wholesale}
//	                           set customField1..3 (keys 1, 2, 3; "" clears one)
//	priority: true             tag the order Priority (TagPriority) and push it first
//
// A hold applies only to an order awaiting shipment (a cancelled, shipped,
// unpaid or already held order is left as it is; two holding rules keep
// the later time). The order goes to ShipStation on_hold, the push then
// sets its hold date (POST /orders/holduntil: holdUntilDate is read-only on
// createorders), and ShipStation releases it to awaiting_shipment by
// itself, so that late cancellations land before anyone ships. ShipStation
// holds by date (US Pacific): the date sent is the first one at or after
// the hold's end, so a hold of a few hours lasts until the next Pacific
// midnight. A version of the order imported after the hold has ended goes
// to ShipStation awaiting shipment.
//
// "Pushed first" (priority) means: within each batch the push function
// receives, a priority order goes into the first createorders call of its
// ShipStation account, ahead of the others. It does not jump the queue
// (SQS has no priorities) and ShipStation itself does not order by it; in
// ShipStation the Priority tag is what people sort and filter by.
//
// # Evaluation
//
// Rules are evaluated in order against the normalised order; a rule's
// actions change the order at once, so later rules see the tags, service
// and hold that earlier ones set. Apply returns the Decision and one
// PII-free history line per action ("rule \"Expedited first\": priority"),
// which the ingest function writes to the order's history
// (order.EventRuleDecide) when the version is stored.
package rules
