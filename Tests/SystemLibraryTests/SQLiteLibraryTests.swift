import CSQLite
import Foundation
import Testing

/// Opens an in-memory SQLite database and runs the statements the SQL catalog relies on.
@Suite struct SQLiteLibraryTests {
    @Test func inMemoryDatabaseTransactionsAndBinding() throws {
        var db: OpaquePointer?
        #expect(sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK)
        defer { sqlite3_close_v2(db) }
        func exec(_ sql: String) -> Int32 { sqlite3_exec(db, sql, nil, nil, nil) }
        #expect(exec("CREATE TABLE t (name TEXT PRIMARY KEY, location TEXT NOT NULL)") == SQLITE_OK)
        #expect(exec("BEGIN IMMEDIATE") == SQLITE_OK)
        #expect(exec("INSERT INTO t VALUES ('events', 'v1.json')") == SQLITE_OK)
        #expect(exec("COMMIT") == SQLITE_OK)

        // Compare-and-swap the way a catalog commit does: only the expected old value is replaced.
        var stmt: OpaquePointer?
        #expect(sqlite3_prepare_v2(db, "UPDATE t SET location = ? WHERE name = ? AND location = ?", -1, &stmt, nil) == SQLITE_OK)
        defer { sqlite3_finalize(stmt) }
        for (newValue, expected, changes) in [("v2.json", "v1.json", 1), ("v3.json", "v1.json", 0)] {
            sqlite3_reset(stmt)
            _ = csqlite_bind_text_transient(stmt, 1, newValue, -1)
            _ = csqlite_bind_text_transient(stmt, 2, "events", -1)
            _ = csqlite_bind_text_transient(stmt, 3, expected, -1)
            #expect(sqlite3_step(stmt) == SQLITE_DONE)
            #expect(sqlite3_changes(db) == Int32(changes))
        }
        var query: OpaquePointer?
        #expect(sqlite3_prepare_v2(db, "SELECT location FROM t WHERE name = 'events'", -1, &query, nil) == SQLITE_OK)
        defer { sqlite3_finalize(query) }
        #expect(sqlite3_step(query) == SQLITE_ROW)
        #expect(String(cString: sqlite3_column_text(query, 0)) == "v2.json")
        #expect(sqlite3_libversion_number() >= 3_035_000)
    }
}
