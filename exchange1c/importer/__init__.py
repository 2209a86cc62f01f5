"""The catalog importer: CommerceML records from the reader into the catalog (PROTOCOL.md §3).

`api` is what the exchange protocol calls; `pipeline` runs one file through its two stages;
`apply` writes one batch; `sqlbatch` holds the parameterised SQL they share.
"""
