/* The LLDP-MED (ANSI/TIA-1057) facts about a neighbour that the collector keeps: one line per
 * LLDP-EXT-MED-MIB column it reads. That line is all the code knows of a column: the SNMP
 * walk (wiremap/collect/wm_snmp.c), the raw row and the observation (med[] of wm_lldp_rem and
 * wm_obs_lldp), wiremapd's hand-over and the lldp_neighbor upsert (db/db_collect.c) all take
 * their columns from this list, in its order. Adding a column is a line here, a migration
 * adding the lldp_neighbor column (listed in db/meson.build), and test data that carries it
 * with a check.
 *
 * Here, in proto/, because both the collector and db/ need it and neither may include the
 * other; db/ still holds all the SQL, this only names the column. */
#ifndef LLDP_MED_H
#define LLDP_MED_H

/* lldpXMedRemoteData (1.0.8802.1.1.2.1.5.4795.1.3) and the conceptual rows of its tables. */
#define LLDP_MED_REMOTE 1, 0, 8802, 1, 1, 2, 1, 5, 4795, 1, 3
#define LLDP_MED_ENTRY_INVENTORY LLDP_MED_REMOTE, 3, 1   /* lldpXMedRemInventoryEntry */
#define LLDP_MED_ENTRY_LOCATION LLDP_MED_REMOTE, 4, 1    /* lldpXMedRemLocationEntry */

/* How a column's octets become the stored text. */
enum lldp_med_decode {
	LLDP_MED_DECODE_TEXT,   /* a SnmpAdminString: printable UTF-8 as is, else colon-separated
	                         * hex (wm_lldp_text); empty: NULL */
	LLDP_MED_DECODE_HEX,    /* opaque octets: lowercase hex, two digits each; empty: NULL */
};

/* X(FIELD, column, object, entry, col, sub, decode), one per column:
 *   FIELD   its enum lldp_med_field constant is LLDP_MED_FIELD
 *   column  its name in the observation and in table lldp_neighbor
 *   object  the MIB object, for messages ("timeout ... (lldpXMedRemModelName)")
 *   entry   its table: the OID of the table's ...Entry is LLDP_MED_ENTRY_entry; col is the
 *           column's number under it
 *   sub     0: rows are indexed like lldpRemTable (lldpRemTimeMark, lldpRemLocalPortNum,
 *           lldpRemIndex); else one more index arc follows, and only rows where it equals
 *           sub are read (lldpXMedRemLocationSubtype of the location table)
 *   decode  TEXT or HEX: enum lldp_med_decode
 * CIVIC is the civic address a neighbour sent in its Location Identification TLV: the row of
 * LocationSubtype civicAddress(3) (unknown(1), coordinateBased(2), civicAddress(3), elin(4);
 * in the TLV itself civic is format 2). Its octets are the LCI as sent (LCI length, what,
 * country code, then CAtype/length/value elements: RFC 4776 §3.1), kept undecoded in hex. */
#define LLDP_MED_COLUMNS(X) \
	X(MODEL, "med_model", "lldpXMedRemModelName", INVENTORY, 6, 0, TEXT) \
	X(SERIAL, "med_serial", "lldpXMedRemSerialNum", INVENTORY, 4, 0, TEXT) \
	X(SOFTWARE, "med_software", "lldpXMedRemSoftwareRev", INVENTORY, 3, 0, TEXT) \
	X(MFG, "med_mfg", "lldpXMedRemMfgName", INVENTORY, 5, 0, TEXT) \
	X(CIVIC, "med_civic", "lldpXMedRemLocationInfo", LOCATION, 2, 3, HEX)

#define LLDP_MED_ENUM_(f, ...) LLDP_MED_##f,
enum lldp_med_field {
	LLDP_MED_COLUMNS(LLDP_MED_ENUM_)
	LLDP_MED_N
};
#undef LLDP_MED_ENUM_

#endif
