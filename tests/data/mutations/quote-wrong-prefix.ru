# gate: quotes
# names: sk:ev_003_33
# A selector whose prefix and suffix are from two places: the prefix of "Pain control" under medical management in
# article 003, with the suffix of "Pain control" under long-term monitoring.
PREFIX sk: <https://w3id.org/spinekg/>
PREFIX oa: <http://www.w3.org/ns/oa#>
DELETE { sk:ev_003_33_quote oa:prefix ?p } INSERT { sk:ev_003_33_quote oa:prefix "Medical management including: • " }
WHERE { sk:ev_003_33_quote oa:prefix ?p }
