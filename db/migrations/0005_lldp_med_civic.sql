-- 0005: the civic address an LLDP-MED neighbour advertised (LLDP-EXT-MED-MIB
-- lldpXMedRemLocationInfo, location subtype civicAddress(3)), as the LCI octets in lowercase
-- hex, undecoded (RFC 4776 §3.1 layout). NULL: none advertised.
ALTER TABLE lldp_neighbor ADD COLUMN med_civic text;
