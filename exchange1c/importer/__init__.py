"""The catalog importer: CommerceML records from the reader into the catalog (PROTOCOL.md §3).

`api` is what the exchange protocol calls; `pipeline` runs one file through its two stages;
`apply` writes one batch; `sqlbatch` holds the parameterised SQL they share. Beside them:
`staging` (records kept between the stages), `screen` and `digests` (what is unchanged),
`lanes` (batches side by side on PostgreSQL), `readahead` (the next files read by a second
process), `collector` (the garbage collector's settings while an import runs).
"""
