package config

import (
	"github.com/shiprelay/shiprelay/shared/dedupe"
	"github.com/shiprelay/shiprelay/shared/order"
)

// HideCopies is what the ShipStation order of one of the store's orders
// becomes while another order standing for the same marketplace order is
// the one ShipStation ships (dedupe.HideCancel or dedupe.HideHold): a
// BigCommerce store's copies.hide; always cancelled for a marketplace's
// own orders.
func (s *Store) HideCopies() string {
	if s.Channel == order.BigCommerce && s.BigCommerce.CopiesSettings().Hide == CopiesHideHold {
		return dedupe.HideHold
	}
	return dedupe.HideCancel
}

// CopySettings are the linked-notification settings of the store's copies
// of marketplace orders (copies.notify and copies.channelRelays).
func (s *Store) CopySettings() dedupe.Settings {
	c := s.BigCommerce.CopiesSettings()
	return dedupe.Settings{NotifyCopy: c.Notify, ChannelRelays: c.ChannelRelays}
}
