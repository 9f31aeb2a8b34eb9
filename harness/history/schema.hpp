// harness/history/schema.hpp — the history store's schema, versioned; migrations are code.
//
// Contract:
//  * Table `ipcmark_schema` holds one row: the version the store is at. A store without it is
//    empty and gets every migration; one at a version below kHistorySchemaVersion gets the missing
//    ones, in order; one above it is refused (UsageError: a newer ipcmark wrote it), so an older
//    ipcmark never writes rows a newer schema would misread.
//  * migrate() runs inside the caller's write transaction: a failed migration leaves the store
//    as it was. On PostgreSQL it first takes a transaction-scoped advisory lock, so two writers
//    opening a new store at once do not both create the tables (SQLite's BEGIN IMMEDIATE already
//    serialises them).
//  * The tables are documented in results/README.md ("History store"). Adding a migration: append
//    to the list in schema.cpp, bump kHistorySchemaVersion, document it there.
#pragma once

#include <string>

namespace soci {
class session;
}

namespace ipcmark {

inline constexpr int kHistorySchemaVersion = 2;

enum class SqlDialect { Sqlite, Postgres };

// The store's version before migrating (0 for an empty store); `store` names it in errors.
int migrate(soci::session& sql, SqlDialect dialect, const std::string& store);

// The store's version (0 for an empty store), read without a transaction: a store at the current
// version needs no write lock to be opened, so readers do not wait for writers.
int stored_version(soci::session& sql, SqlDialect dialect);

}  // namespace ipcmark
