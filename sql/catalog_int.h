/*
 * catalog_int.h -- the catalog's engine-side interface beyond the read-only contract
 * in catalog.h: boot, DDL, OID allocation.
 *
 * Model: see catalog.h. DDL requests travel to shard 0 (rt_call) where one fiber at a
 * time applies them: it builds the next snapshot (deep copy + change), persists the
 * changed rows in shard 0's store (one store transaction, committed through the WAL
 * with shard_commit_wait), then publishes the snapshot on every shard before
 * returning. Row format: key = be32(oid) (oid 0 = the OID counter), value = the
 * table definition in the binary layout written by catalog.c's cat_encode.
 *
 * Interface:
 *   catalog_boot          shard 0: load the catalog from its store and publish it
 *   catalog_attach        other shards: wait for the boot snapshot and adopt it
 *   catalog_detach        drop this shard's reference at shutdown
 *   catalog_create_table  persist a new table (OIDs assigned here)
 *   catalog_drop_table    remove a table from the catalog
 *   catalog_replace_table swap a table definition (ALTER TABLE ... ADD PRIMARY KEY)
 *   catalog_alloc_oid     reserve one OID (storage id for rewrites)
 *   catalog_create_index  add an index definition to a table (OID assigned here)
 *   catalog_drop_index    remove an index definition
 *
 * Thread: shard threads, inside fibers (DDL calls suspend).
 */
#ifndef NEXTDB_CATALOG_INT_H
#define NEXTDB_CATALOG_INT_H
#include "sql/catalog.h"
#include "sql/error.h"

int catalog_boot(void);
int catalog_attach(void);
void catalog_detach(void);
/* def->oid is ignored and assigned; *existed set when if_not_exists found the name. */
int catalog_create_table(const cat_table_t *def, bool if_not_exists, bool *existed, sql_error_t *err);
/* The same, creating in the same catalog version the sequences seqs[0..nseqs) owned by
 * its columns (SERIAL / IDENTITY: seq->owner_attnum set, owner_table filled in here).
 * DROP of the table drops them too. */
int catalog_create_table_seqs(const cat_table_t *def, int nseqs, const cat_table_t *seqs, bool if_not_exists,
                              bool *existed, sql_error_t *err);
int catalog_drop_table(uint32_t oid, sql_error_t *err);
/* Replaces table old_oid by def (def->oid may differ: the rows moved to a new
 * storage id). */
int catalog_replace_table(uint32_t old_oid, const cat_table_t *def, sql_error_t *err);
/* The same, creating in the same catalog version sequences owned by def's columns
 * (ALTER TABLE ... ADD COLUMN ... SERIAL / IDENTITY). */
int catalog_replace_table_seqs(uint32_t old_oid, const cat_table_t *def, int nseqs, const cat_table_t *seqs,
                               sql_error_t *err);
int catalog_alloc_oid(uint32_t *oid, sql_error_t *err);
/* Adds def (def->oid ignored) to table table_oid, checking on shard 0 that the name is
 * free among the namespace's relations (42P07; *existed instead with if_not_exists). */
int catalog_create_index(uint32_t table_oid, const cat_index_t *def, bool if_not_exists, bool *existed,
                         sql_error_t *err);
/* Removes the index `name` of the public namespace (42704, or *missing with if_exists). */
int catalog_drop_index(const char *name, bool if_exists, bool *missing, sql_error_t *err);
#endif
