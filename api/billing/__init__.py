"""Billing commands, chargeback reads and exports, and the statement pages for client finance teams."""
