import CSQLite
import Dispatch

/// One SQLite connection. A class because it owns the `sqlite3` handle; every use goes through its serial
/// queue (never the cooperative pool), which is what makes the `@unchecked Sendable` safe: the handle is
/// only touched by one thread at a time.
final class SQLiteConnection: @unchecked Sendable {
    private let handle: OpaquePointer
    private let queue: DispatchQueue
    let path: String

    init(path: String) throws {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        guard sqlite3_open_v2(path, &db, flags, nil) == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw IcebergError(.catalog, "cannot open SQLite catalog \(path): \(message)")
        }
        handle = db
        self.path = path
        queue = DispatchQueue(label: "iceberg-ingest.sqlite.\(path)")
        // Several processes may share the file (sharded workers): wait for locks instead of failing at once.
        sqlite3_busy_timeout(db, 30_000)
    }

    deinit { sqlite3_close_v2(handle) }

    /// A value bound to a `?` parameter.
    enum Value: Sendable { case text(String), null }

    /// Runs `sql` with `bindings` on the connection's queue; returns the rows (text columns) and the number of
    /// rows changed.
    func run(_ sql: String, _ bindings: [Value] = []) async throws -> (rows: [[String?]], changes: Int) {
        try await BlockingExecutor.run(on: queue) { [self] in try runNow(sql, bindings) }
    }

    /// Runs several statements in one immediate transaction on the queue.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await BlockingExecutor.run(on: queue) { [self] in
            _ = try runNow("BEGIN IMMEDIATE", [])
            do {
                let result = try body(self)
                _ = try runNow("COMMIT", [])
                return result
            } catch {
                _ = try? runNow("ROLLBACK", [])
                throw error
            }
        }
    }

    /// Runs a statement on the calling thread: only from the connection's queue.
    func runNow(_ sql: String, _ bindings: [Value]) throws -> (rows: [[String?]], changes: Int) {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw failure("prepare", sql)
        }
        defer { sqlite3_finalize(statement) }
        for (index, value) in bindings.enumerated() {
            switch value {
            case .text(let text): _ = csqlite_bind_text_transient(statement, Int32(index + 1), text, -1)
            case .null: sqlite3_bind_null(statement, Int32(index + 1))
            }
        }
        var rows: [[String?]] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw failure("step", sql, code: rc) }
            rows.append((0..<sqlite3_column_count(statement)).map { column in
                sqlite3_column_text(statement, column).map { String(cString: $0) }
            })
        }
        return (rows, Int(sqlite3_changes(handle)))
    }

    private func failure(_ step: String, _ sql: String, code: Int32? = nil) -> IcebergError {
        let message = String(cString: sqlite3_errmsg(handle))
        let rc = code ?? sqlite3_errcode(handle)
        let code: IcebergError.Code = (rc & 0xff) == SQLITE_CONSTRAINT ? .alreadyExists : .catalog
        return IcebergError(
            code, "SQLite catalog \(path): \(step) of '\(sql.prefix(60))' failed: \(message)",
            isRetryable: rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
    }
}
