"""Fiscal receipts for Rwanda: RRA's EBM 2.1 through a VSDC (docs/fiscal.md).

Rules this package owns:
- The shop never waits for the VSDC to take a sale: checkout writes the sale and an outbox row
  in one transaction; the worker signs it later (fiscal.sending). FISCAL_BACKEND=none (the
  default) writes nothing and changes nothing.
- Invoice numbers are gap-free per device, taken in the sale's own transaction.
- One request in flight per device, oldest first; a document's body is built once and resent
  unchanged; a signature is stored once and never changed; a copy is printed from it and never
  calls the VSDC.
- pos never imports fiscal (an import contract): fiscal registers with pos.hooks and with
  monitoring when its app is ready.
"""
